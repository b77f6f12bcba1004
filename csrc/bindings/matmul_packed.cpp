// Binding of the pre-packed GEMM (csrc/cpu/matmul_packed.h) that the recurrent time loops use
// internally. It packs op(b) once and then multiplies `steps` consecutive row blocks of op(a) by
// the same packed panels, one GEMM call each, as a time loop does; so the tests can check the
// packed path against a float64 reference on any shape, transposed operands included.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "bindings/common.h"
#include "cpu/matmul_packed.h"
#include "cpu/parallel.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

template <class T>
void run(T* out, const T* a, const T* b, const T* bias, int64_t M, int64_t N, int64_t K,
         bool trans_a, bool trans_b, int64_t steps, T beta) {
  PackedB<T> pb;
  pb.pack(b, trans_b ? 1 : N, trans_b ? K : 1, K, N);
  const int64_t a_rs = trans_a ? 1 : K, a_cs = trans_a ? M : 1;
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t i0 = M * s / steps, i1 = M * (s + 1) / steps;
    pb.gemm(out + i0 * N, N, a + i0 * a_rs, a_rs, a_cs, i1 - i0, beta, bias, get_num_threads());
  }
}

py::array matmul_prepacked(py::handle a_o, py::handle b_o, py::object bias_o, py::object c_o,
                           bool trans_a, bool trans_b, int64_t steps) {
  const char* fn = "matmul_prepacked";
  py::array a = as_array(a_o, fn, "a"), b = as_array(b_o, fn, "b");
  const DType dt = float_dtype(a, fn, "a");
  float_dtype(b, fn, "b");
  check_same_dtype(a, "a", b, "b", fn);
  check_ndim(a, {2}, fn, "a");
  check_ndim(b, {2}, fn, "b");
  check_contiguous(a, fn, "a");
  check_contiguous(b, fn, "b");
  const int64_t M = a.shape(trans_a ? 1 : 0), K = a.shape(trans_a ? 0 : 1);
  const int64_t Kb = b.shape(trans_b ? 1 : 0), N = b.shape(trans_b ? 0 : 1);
  FASTNN_CHECK(K == Kb, fn, ": op(a) ", shape_str(a), " and op(b) ", shape_str(b),
               " have different inner sizes ", K, " and ", Kb);
  FASTNN_CHECK(steps >= 1, fn, ": argument 'steps' must be at least 1, got ", steps);
  const bool has_bias = !bias_o.is_none(), has_c = !c_o.is_none();
  py::array bias, c;
  if (has_bias) {
    bias = as_array(bias_o, fn, "bias");
    check_same_dtype(a, "a", bias, "bias", fn);
    check_contiguous(bias, fn, "bias");
    check_shape(bias, {static_cast<py::ssize_t>(N)}, fn, "bias");
  }
  if (has_c) {
    c = as_array(c_o, fn, "c");
    check_same_dtype(a, "a", c, "c", fn);
    check_contiguous(c, fn, "c");
    check_shape(c, {static_cast<py::ssize_t>(M), static_cast<py::ssize_t>(N)}, fn, "c");
  }
  // Without c the output starts as NaN: beta = 0 must overwrite it, never read it.
  py::array out(a.dtype(), std::vector<py::ssize_t>{M, N});
  if (has_c)
    std::memcpy(out.mutable_data(), c.data(), out.nbytes());
  else if (dt == DType::f32)
    std::fill_n(static_cast<float*>(out.mutable_data()), M * N,
                std::numeric_limits<float>::quiet_NaN());
  else
    std::fill_n(static_cast<double*>(out.mutable_data()), M * N,
                std::numeric_limits<double>::quiet_NaN());
  // Pointers are read here, with the GIL held; the released region sees plain values only.
  void* op = out.mutable_data();
  const void *ap = a.data(), *bp = b.data(), *biasp = has_bias ? bias.data() : nullptr;
  {
    py::gil_scoped_release release;
    if (dt == DType::f32)
      run(static_cast<float*>(op), static_cast<const float*>(ap), static_cast<const float*>(bp),
          static_cast<const float*>(biasp), M, N, K, trans_a, trans_b, steps, has_c ? 1.0f : 0.0f);
    else
      run(static_cast<double*>(op), static_cast<const double*>(ap), static_cast<const double*>(bp),
          static_cast<const double*>(biasp), M, N, K, trans_a, trans_b, steps, has_c ? 1.0 : 0.0);
  }
  return out;
}

}  // namespace

void register_matmul_packed(py::module_& m) {
  m.def("matmul_prepacked", &matmul_prepacked, py::arg("a"), py::arg("b"), py::kw_only(),
        py::arg("bias") = py::none(), py::arg("c") = py::none(), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("steps") = 1,
        "op(a) @ op(b) (+ bias) (+ c) through the recurrent loops' GEMM: op(b) packed once, "
        "then reused for `steps` row blocks of op(a), one call each.");
}

}  // namespace fastnn::bind
