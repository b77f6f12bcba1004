// Bindings for fastnn.kernels.dropout / dropout_backward (csrc/cpu/dropout.cpp): the CUDA module's
// signatures, so a (seed, offset) names the same mask on both devices. Validate, then release the
// GIL and run.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>

#include "bindings/common.h"
#include "cpu/dropout.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

void check_p(double p, const char* fn) {
  FASTNN_CHECK(p >= 0.0 && p <= 1.0, fn,
               ": dropout probability has to be between 0 and 1, but got ", p);
}

std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

py::tuple dropout(const py::object& x_obj, double p, uint64_t seed, uint64_t offset) {
  const char* fn = "dropout";
  py::array x = as_array(x_obj, fn, "x");
  const DType dt = float_dtype(x, fn, "x");
  check_contiguous(x, fn, "x");
  check_p(p, fn);
  const int64_t n = x.size();
  py::array y(x.dtype(), shape_of(x));
  py::array_t<uint8_t> mask(shape_of(x));
  uint8_t* m = mask.mutable_data();
  void* yp = y.mutable_data();
  const void* xp = x.data();
  {
    py::gil_scoped_release release;
    if (dt == DType::f32)
      dropout_cpu(static_cast<float*>(yp), m, static_cast<const float*>(xp), n, p, seed, offset);
    else
      dropout_cpu(static_cast<double*>(yp), m, static_cast<const double*>(xp), n, p, seed, offset);
  }
  return py::make_tuple(y, mask);
}

py::array dropout_backward(const py::object& g_obj, const py::object& mask_obj, double p) {
  const char* fn = "dropout_backward";
  py::array g = as_array(g_obj, fn, "grad");
  py::array mask = as_array(mask_obj, fn, "mask");
  const DType dt = float_dtype(g, fn, "grad");
  FASTNN_TYPE_CHECK(mask.dtype().equal(py::dtype::of<uint8_t>()), fn,
                    ": argument 'mask' must have dtype uint8, got ", dtype_str(mask));
  check_shape(mask, shape_of(g), fn, "mask");
  check_contiguous(g, fn, "grad");
  check_contiguous(mask, fn, "mask");
  check_p(p, fn);
  const int64_t n = g.size();
  py::array dx(g.dtype(), shape_of(g));
  void* dp = dx.mutable_data();
  const void* gp = g.data();
  const uint8_t* mp = static_cast<const uint8_t*>(mask.data());
  {
    py::gil_scoped_release release;
    if (dt == DType::f32)
      dropout_backward_cpu(static_cast<float*>(dp), static_cast<const float*>(gp), mp, n, p);
    else
      dropout_backward_cpu(static_cast<double*>(dp), static_cast<const double*>(gp), mp, n, p);
  }
  return dx;
}

}  // namespace

void register_dropout(py::module_& m) {
  m.def("dropout", &dropout, py::arg("x"), py::arg("p"), py::arg("seed"), py::arg("offset"),
        R"doc((y, mask): y = x * mask / (1 - p), mask uint8 (1 = kept), in one pass.

x: a C-contiguous float32 / float64 array; p in [0, 1] (p == 1 drops everything). Element i is
kept when its Philox 4x32-10 word under key `seed` is >= p * 2^32: float32 elements use the four
words of counter offset + i // 4, float64 words 0 and 2 of counter offset + i // 2 (the CUDA
kernel's layout), so the result depends on (seed, offset) only, not on the thread count.)doc");
  m.def("dropout_backward", &dropout_backward, py::arg("grad"), py::arg("mask"), py::arg("p"),
        "grad * mask / (1 - p): the gradient of dropout from its saved uint8 mask.");
}

}  // namespace fastnn::bind
