// Bindings for fastnn.kernels.max_pool2d_2x2 / max_pool2d_2x2_backward (cpu/max_pool_code.h):
// 2x2 stride-2 max pooling that keeps a one-byte window code per output instead of int64 indices.
// Every argument is checked before the GIL is released; nothing is written on a failed check.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "bindings/common.h"
#include "cpu/max_pool_code.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

Conv2dGeom geom_2x2(int64_t n, int64_t c, int64_t h, int64_t w) {
  return Conv2dGeom{n, c, h, w, 2, 2, 2, 2, 0, 0, 1, 1, h / 2, w / 2};
}

template <class T>
py::tuple run_forward(const py::array& x, const Conv2dGeom& g) {
  py::array y(py::dtype::of<T>(), std::vector<py::ssize_t>{g.N, g.C, g.Ho, g.Wo});
  py::array code(py::dtype::of<uint8_t>(), std::vector<py::ssize_t>{g.N, g.C, g.Ho, g.Wo});
  T* yp = static_cast<T*>(y.mutable_data());
  uint8_t* cp = static_cast<uint8_t*>(code.mutable_data());
  const T* xp = static_cast<const T*>(x.data());
  {
    py::gil_scoped_release release;
    max_pool2d_2x2_code_forward_cpu(yp, cp, xp, g);
  }
  return py::make_tuple(y, code);
}

py::tuple max_pool2d_2x2(const py::object& x_obj) {
  constexpr const char* fn = "max_pool2d_2x2";
  py::array x = as_array(x_obj, fn, "x");
  const DType dt = float_dtype(x, fn, "x");
  check_ndim(x, {4}, fn, "x");
  check_contiguous(x, fn, "x");
  FASTNN_CHECK(x.shape(2) >= 2 && x.shape(3) >= 2, fn, ": argument 'x' with shape ", shape_str(x),
               " is smaller than the 2x2 window in H or W (the output would be empty)");
  const Conv2dGeom g = geom_2x2(x.shape(0), x.shape(1), x.shape(2), x.shape(3));
  return dt == DType::f32 ? run_forward<float>(x, g) : run_forward<double>(x, g);
}

template <class T>
py::array run_backward(const py::array& grad, const py::array& code, const Conv2dGeom& g) {
  py::array dx(py::dtype::of<T>(), std::vector<py::ssize_t>{g.N, g.C, g.H, g.W});
  T* dxp = static_cast<T*>(dx.mutable_data());
  const T* gp = static_cast<const T*>(grad.data());
  const uint8_t* cp = static_cast<const uint8_t*>(code.data());
  int64_t bad;
  {
    py::gil_scoped_release release;
    bad = max_pool2d_2x2_code_backward_cpu(dxp, gp, cp, g);
  }
  FASTNN_CHECK(bad < 0, "max_pool2d_2x2_backward: 'code' holds ", bad < 0 ? 0 : int(cp[bad]),
               " at flat position ", bad, "; a window code is 0, 1, 2 or 3");
  return dx;
}

py::array max_pool2d_2x2_backward(const py::object& grad_obj, const py::object& code_obj,
                                  const py::object& shape_obj) {
  constexpr const char* fn = "max_pool2d_2x2_backward";
  py::array grad = as_array(grad_obj, fn, "grad");
  const DType dt = float_dtype(grad, fn, "grad");
  check_ndim(grad, {4}, fn, "grad");
  check_contiguous(grad, fn, "grad");
  py::array code = as_array(code_obj, fn, "code");
  FASTNN_TYPE_CHECK(code.dtype().equal(py::dtype::of<uint8_t>()), fn,
                    ": argument 'code' must have dtype uint8, got ", dtype_str(code));
  check_shape(code, {grad.shape(0), grad.shape(1), grad.shape(2), grad.shape(3)}, fn, "code");
  check_contiguous(code, fn, "code");
  FASTNN_TYPE_CHECK(py::isinstance<py::tuple>(shape_obj) || py::isinstance<py::list>(shape_obj), fn,
                    ": argument 'input_shape' must be a tuple (N, C, H, W), got ",
                    Py_TYPE(shape_obj.ptr())->tp_name);
  const auto seq = py::reinterpret_borrow<py::sequence>(shape_obj);
  FASTNN_CHECK(seq.size() == 4, fn, ": argument 'input_shape' must have 4 entries, got ",
               seq.size());
  int64_t in[4];
  for (py::size_t i = 0; i < 4; ++i) {
    const py::handle v = seq[i];
    FASTNN_TYPE_CHECK(py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v), fn,
                      ": argument 'input_shape' must hold ints, got ", Py_TYPE(v.ptr())->tp_name);
    in[i] = v.cast<int64_t>();
  }
  FASTNN_CHECK(in[0] == grad.shape(0) && in[1] == grad.shape(1) && in[2] / 2 == grad.shape(2) &&
                   in[3] / 2 == grad.shape(3) && in[2] >= 0 && in[3] >= 0,
               fn, ": 'grad' with shape ", shape_str(grad),
               " is not the 2x2 pooling of input_shape (", in[0], ", ", in[1], ", ", in[2], ", ",
               in[3], ")");
  const Conv2dGeom g = geom_2x2(in[0], in[1], in[2], in[3]);
  return dt == DType::f32 ? run_backward<float>(grad, code, g)
                          : run_backward<double>(grad, code, g);
}

}  // namespace

void register_pool_code(py::module_& m) {
  m.def("max_pool2d_2x2", &max_pool2d_2x2, py::arg("x"),
        "2x2 stride-2 max pooling of x (N, C, H, W): returns (y, code), code the uint8 tap of each "
        "window's max in scan order (0: (0,0), 1: (0,1), 2: (1,0), 3: (1,1)); NaN wins, the first "
        "of equal maxima keeps it.");
  m.def("max_pool2d_2x2_backward", &max_pool2d_2x2_backward, py::arg("grad"), py::arg("code"),
        py::arg("input_shape"),
        "The gradient of max_pool2d_2x2: grad at each window's coded tap, 0 elsewhere.");
}

}  // namespace fastnn::bind
