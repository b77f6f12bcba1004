// Binding for fastnn.kernels.matmul: validate everything, then release the GIL and run the GEMM.
// Operands are read through their strides (no copies); the result is a new C-contiguous array or
// the caller's `out`, written in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>

#include "bindings/common.h"
#include "cpu/cpu_caches.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/fma_peak.h"
#include "cpu/matmul_config.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

constexpr const char* kFn = "matmul";

// Element strides of an array; ValueError for byte strides that are not a whole element.
void element_strides(const py::array& x, const char* name, int64_t* s) {
  for (py::ssize_t d = 0; d < x.ndim(); ++d) {
    FASTNN_CHECK(x.strides(d) % x.itemsize() == 0, kFn, ": argument '", name, "' with shape ",
                 shape_str(x), " has a byte stride (", x.strides(d),
                 ") that is not a multiple of its item size (", x.itemsize(),
                 "); use numpy.ascontiguousarray");
    s[d] = x.strides(d) / x.itemsize();
  }
}

template <class T>
py::array run(const py::array& a, const py::array& b, bool trans_a, bool trans_b, double alpha,
              double beta, std::optional<py::array> out, std::optional<py::array> bias,
              MatmulLayout L, const std::vector<py::ssize_t>& shape) {
  py::array c = out ? *out : py::array(py::dtype::of<T>(), shape);
  const int64_t nd = c.ndim();
  L.c_rs = L.N;
  L.c_bs = nd == 3 ? L.M * L.N : 0;
  const T* bias_ptr = bias ? static_cast<const T*>(bias->data()) : nullptr;
  T* c_ptr = static_cast<T*>(c.mutable_data());
  const T* a_ptr = static_cast<const T*>(a.data());
  const T* b_ptr = static_cast<const T*>(b.data());
  {
    py::gil_scoped_release release;
    matmul_cpu(c_ptr, a_ptr, b_ptr, bias_ptr, L, static_cast<T>(alpha), static_cast<T>(beta));
  }
  return c;
}

py::array matmul(const py::object& a_obj, const py::object& b_obj, bool trans_a, bool trans_b,
                 double alpha, double beta, const py::object& out_obj, const py::object& bias_obj) {
  py::array a = as_array(a_obj, kFn, "a");
  py::array b = as_array(b_obj, kFn, "b");
  const DType dt = float_dtype(a, kFn, "a");
  float_dtype(b, kFn, "b");
  check_same_dtype(a, "a", b, "b", kFn);
  check_ndim(a, {2, 3}, kFn, "a");
  check_ndim(b, {2, 3}, kFn, "b");
  FASTNN_CHECK(!(a.ndim() == 2 && b.ndim() == 3), kFn, ": 'a' with shape ", shape_str(a),
               " and 'b' with shape ", shape_str(b),
               ": a 3-D 'b' needs a 3-D 'a' with the same batch size");

  int64_t sa[3], sb[3];
  element_strides(a, "a", sa);
  element_strides(b, "b", sb);
  const int ra = a.ndim() - 2, rb = b.ndim() - 2;  // index of the row dim of the last two dims
  MatmulLayout L{};
  L.batch = a.ndim() == 3 ? a.shape(0) : 1;
  L.M = trans_a ? a.shape(ra + 1) : a.shape(ra);
  const int64_t ka = trans_a ? a.shape(ra) : a.shape(ra + 1);
  const int64_t kb = trans_b ? b.shape(rb + 1) : b.shape(rb);
  L.N = trans_b ? b.shape(rb) : b.shape(rb + 1);
  L.K = ka;
  FASTNN_CHECK(ka == kb, kFn, ": inner dimensions differ: 'a' ", shape_str(a),
               " with trans_a=", trans_a ? "True" : "False", " gives K=", ka, ", 'b' ",
               shape_str(b), " with trans_b=", trans_b ? "True" : "False", " gives K=", kb);
  if (b.ndim() == 3)
    FASTNN_CHECK(b.shape(0) == a.shape(0), kFn, ": batch sizes differ: 'a' ", shape_str(a),
                 " and 'b' ", shape_str(b));
  L.a_bs = a.ndim() == 3 ? sa[0] : 0;
  L.a_rs = trans_a ? sa[ra + 1] : sa[ra];
  L.a_cs = trans_a ? sa[ra] : sa[ra + 1];
  L.b_bs = b.ndim() == 3 ? sb[0] : 0;
  L.b_rs = trans_b ? sb[rb + 1] : sb[rb];
  L.b_cs = trans_b ? sb[rb] : sb[rb + 1];

  std::vector<py::ssize_t> shape;
  if (a.ndim() == 3) shape.push_back(L.batch);
  shape.push_back(L.M);
  shape.push_back(L.N);

  std::optional<py::array> bias;
  if (!bias_obj.is_none()) {
    py::array bs = as_array(bias_obj, kFn, "bias");
    float_dtype(bs, kFn, "bias");
    check_same_dtype(bs, "bias", a, "a", kFn);
    check_shape(bs, {static_cast<py::ssize_t>(L.N)}, kFn, "bias");
    // The kernel reads bias as a contiguous vector; a strided bias (rare, N elements) is copied.
    if (!is_c_contiguous(bs)) bs = py::module_::import("numpy").attr("ascontiguousarray")(bs);
    bias = bs;
  }

  std::optional<py::array> out;
  if (!out_obj.is_none()) {
    py::array o = as_array(out_obj, kFn, "out");
    float_dtype(o, kFn, "out");
    check_same_dtype(o, "out", a, "a", kFn);
    check_shape(o, shape, kFn, "out");
    check_contiguous(o, kFn, "out");
    check_writeable(o, kFn, "out");
    check_no_overlap(o, "out", a, "a", kFn);
    check_no_overlap(o, "out", b, "b", kFn);
    if (bias) check_no_overlap(o, "out", *bias, "bias", kFn);
    out = o;
  } else {
    FASTNN_CHECK(beta == 0.0, kFn, ": beta=", beta, " needs 'out' (its contents are the C term of ",
                 "alpha * op(a) @ op(b) + beta * out + bias)");
  }

  if (dt == DType::f32) return run<float>(a, b, trans_a, trans_b, alpha, beta, out, bias, L, shape);
  return run<double>(a, b, trans_a, trans_b, alpha, beta, out, bias, L, shape);
}

py::dict gemm_config() {
  const CacheSizes& cs = cache_sizes();
  py::dict d;
  d["l1d"] = cs.l1d;
  d["l2"] = cs.l2;
  d["l3_per_core"] = cs.l3;
  d["cache_source"] = cs.source;
  for (const bool f32 : {true, false}) {
    const GemmBlocking b = gemm_blocking(f32);
    py::dict k;
    k["MR"] = b.MR, k["NR"] = b.NR, k["KC"] = b.KC, k["MC"] = b.MC, k["NC"] = b.NC;
    k["b_strip_bytes"] = b.b_strip;
    k["deep_KC"] = b.deep_KC, k["deep_MC"] = b.deep_MC;
    d[f32 ? "float32" : "float64"] = k;
  }
  return d;
}

double fma_peak(const std::string& dtype, double seconds) {
  FASTNN_CHECK(dtype == "float32" || dtype == "float64",
               "fma_peak_gflops: dtype must be 'float32' or 'float64', got '", dtype, "'");
  FASTNN_CHECK(seconds > 0 && seconds <= 10, "fma_peak_gflops: seconds must be in (0, 10], got ",
               seconds);
  py::gil_scoped_release release;
  return fma_peak_gflops(dtype == "float32", seconds);
}

}  // namespace

void register_matmul(py::module_& m) {
  m.def("gemm_config", &gemm_config,
        "The caches read at start-up (bytes; 0 = unknown) and the packed GEMM's register tile and "
        "cache blocking per dtype on the active SIMD path.");
  m.def("fma_peak_gflops", &fma_peak, py::arg("dtype") = "float32", py::arg("seconds") = 0.05,
        "GFLOP/s of one thread running independent vector FMAs on the active SIMD path (the "
        "benchmarks' peak), best of the timed runs within about `seconds`.");
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::kw_only(), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
        py::arg("out") = py::none(), py::arg("bias") = py::none(),
        R"doc(GEMM: alpha * op(a) @ op(b) + beta * out + bias, float32 or float64.

a: (M, K) or (B, M, K); b: (K, N) or (B, K, N) (a 3-D b needs a 3-D a); op() transposes the last
two dims when trans_a / trans_b. bias: (N,), added to every row (fused in the kernel). out: the
result array (C-contiguous, right shape and dtype, writeable, not sharing memory with a, b or
bias), written in place and returned; beta != 0 needs out and reads its old contents; with
beta == 0 its old contents are ignored (even NaN). Any element strides, including negative, are
read without copying. Returns a new (M, N) / (B, M, N) array when out is None.)doc");
  // The CPU backend's call a @ b (+ bias), bound with positional arguments only: pybind11 fills in
  // the six keyword defaults of the full signature, and parses keywords, on every call (a third
  // of a 4x4 product's cost; nn.Linear's forward passes a bias).
  m.def(
      "matmul_ab",
      [](const py::object& a, const py::object& b, const py::object& bias) {
        return matmul(a, b, false, false, 1.0, 0.0, py::none(), bias);
      },
      py::arg("a"), py::arg("b"), py::arg("bias") = py::none(),
      "matmul(a, b, bias=bias) with every other keyword at its default.");
}

}  // namespace fastnn::bind
