// pybind11 glue for the CUDA Tensor-API ops: unary math, clamp, broadcast binary ops and
// comparisons, where, reductions over a dimension, strided copies (permute / broadcast_to),
// Philox random fills and dropout. Validate, then launch; no arithmetic here beyond shapes.
#include <string>
#include <unordered_map>

#include <pybind11/stl.h>

#include <algorithm>
#include <array>

#include "bindings/cuda_array.h"

namespace fastnn::cuda::bind {
namespace {

UnaryOp parse_unary(const std::string& s) {
  static const std::unordered_map<std::string, UnaryOp> ops = {
      {"neg", UnaryOp::neg},       {"exp", UnaryOp::exp},   {"log", UnaryOp::log},
      {"sqrt", UnaryOp::sqrt},     {"abs", UnaryOp::abs},   {"reciprocal", UnaryOp::reciprocal},
      {"square", UnaryOp::square}, {"sign", UnaryOp::sign}, {"log1p", UnaryOp::log1p},
      {"expm1", UnaryOp::expm1},   {"sin", UnaryOp::sin},   {"cos", UnaryOp::cos},
      {"floor", UnaryOp::floor},   {"ceil", UnaryOp::ceil}, {"rsqrt", UnaryOp::rsqrt}};
  auto it = ops.find(s);
  FASTNN_CHECK(it != ops.end(), "unary: unknown operation '", s, "'");
  return it->second;
}

BinaryOp parse_binary(const std::string& s) {
  static const std::unordered_map<std::string, BinaryOp> ops = {{"add", BinaryOp::add},
                                                                {"sub", BinaryOp::sub},
                                                                {"mul", BinaryOp::mul},
                                                                {"div", BinaryOp::div},
                                                                {"pow", BinaryOp::pow},
                                                                {"maximum", BinaryOp::maximum},
                                                                {"minimum", BinaryOp::minimum},
                                                                {"eq", BinaryOp::eq},
                                                                {"ne", BinaryOp::ne},
                                                                {"lt", BinaryOp::lt},
                                                                {"le", BinaryOp::le},
                                                                {"gt", BinaryOp::gt},
                                                                {"ge", BinaryOp::ge}};
  auto it = ops.find(s);
  FASTNN_CHECK(it != ops.end(), "binary: unknown operation '", s, "'");
  return it->second;
}

ReduceOp parse_reduce(const std::string& s) {
  static const std::unordered_map<std::string, ReduceOp> ops = {
      {"sum", ReduceOp::sum}, {"mean", ReduceOp::mean},     {"max", ReduceOp::max},
      {"min", ReduceOp::min}, {"argmax", ReduceOp::argmax}, {"argmin", ReduceOp::argmin}};
  auto it = ops.find(s);
  FASTNN_CHECK(it != ops.end(), "reduce: unknown operation '", s, "'");
  return it->second;
}

py::object ret(const py::object& out, DeviceArray&& result) {
  return out.is_none() ? py::cast(std::move(result)) : out;
}

// numpy broadcasting of two shapes (right-aligned); ValueError when incompatible.
std::vector<int64_t> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                                     const char* fn) {
  const size_t nd = std::max(a.size(), b.size());
  std::vector<int64_t> out(nd);
  for (size_t i = 0; i < nd; ++i) {
    const int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    const int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    FASTNN_CHECK(da == db || da == 1 || db == 1, fn, ": shapes ", shape_str(a), " and ",
                 shape_str(b), " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape to_shape(const std::vector<int64_t>& s, const char* fn) {
  FASTNN_CHECK(s.size() <= static_cast<size_t>(kMaxDims), fn, ": at most ", kMaxDims,
               " dimensions are supported, got ", shape_str(s));
  Shape r{};
  r.ndim = static_cast<int>(s.size());
  for (size_t i = 0; i < s.size(); ++i) r.d[i] = s[i];
  return r;
}

// Element strides reading a contiguous array of shape `in` as the broadcast shape `out`.
Strides broadcast_strides(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  Strides st{};
  int64_t s = 1;
  const size_t off = out.size() - in.size();
  for (size_t i = out.size(); i-- > 0;) {
    if (i < off) {
      st.s[i] = 0;
      continue;
    }
    const int64_t d = in[i - off];
    st.s[i] = d == 1 ? 0 : s;
    s *= d;
  }
  return st;
}

bool is_scalar(const py::handle& obj) {
  return py::isinstance<py::float_>(obj) || py::isinstance<py::int_>(obj);
}

py::object unary_op(const std::string& op_name, const py::object& x_obj, const py::object& out) {
  const UnaryOp op = parse_unary(op_name);
  DeviceArray& x = as_device_array(x_obj, op_name.c_str(), "x");
  DeviceGuard guard(x.device());
  DeviceArray y = output(out, x.shape, x.dtype, x.device(), op_name.c_str(), "out");
  unary_cuda(op, x.dtype, y.data(), x.data(), x.numel());
  return ret(out, std::move(y));
}

py::object clamp(const py::object& x_obj, const py::object& lo, const py::object& hi,
                 const py::object& out) {
  DeviceArray& x = as_device_array(x_obj, "clamp", "x");
  const double l = lo.is_none() ? 0.0 : lo.cast<double>(),
               h = hi.is_none() ? 0.0 : hi.cast<double>();
  DeviceGuard guard(x.device());
  DeviceArray y = output(out, x.shape, x.dtype, x.device(), "clamp", "out");
  clamp_cuda(x.dtype, y.data(), x.data(), lo.is_none() ? nullptr : &l, hi.is_none() ? nullptr : &h,
             x.numel());
  return ret(out, std::move(y));
}

// a op b with numpy broadcasting; either operand may be a Python scalar (converted to the
// array's dtype, like torch). Comparisons return bool arrays.
py::object binary_op(const std::string& op_name, const py::object& a_obj, const py::object& b_obj,
                     const py::object& out) {
  const char* fn = op_name.c_str();
  const BinaryOp op = parse_binary(op_name);
  if (is_scalar(a_obj) || is_scalar(b_obj)) {
    const bool scalar_first = is_scalar(a_obj);
    FASTNN_TYPE_CHECK(!(scalar_first && is_scalar(b_obj)), fn,
                      ": at least one operand must be a DeviceArray");
    DeviceArray& a = as_device_array(scalar_first ? b_obj : a_obj, fn, scalar_first ? "b" : "a");
    const double s = (scalar_first ? a_obj : b_obj).cast<double>();
    DeviceGuard guard(a.device());
    DeviceArray y =
        output(out, a.shape, is_comparison(op) ? DType::b8 : a.dtype, a.device(), fn, "out");
    binary_scalar_cuda(op, a.dtype, y.data(), a.data(), s, scalar_first, a.numel());
    return ret(out, std::move(y));
  }
  DeviceArray& a = as_device_array(a_obj, fn, "a");
  DeviceArray& b = as_device_array(b_obj, fn, "b");
  check_same_dtype(a, "a", b, "b", fn);
  check_same_device(a, "a", b, "b", fn);
  const auto shape = broadcast_shape(a.shape, b.shape, fn);
  const Shape sh = to_shape(shape, fn);
  DeviceGuard guard(a.device());
  DeviceArray y =
      output(out, shape, is_comparison(op) ? DType::b8 : a.dtype, a.device(), fn, "out");
  if (!out.is_none()) {  // in place only when the output is exactly an unbroadcast input
    for (const DeviceArray* in : {&a, &b})
      FASTNN_CHECK(
          (y.data() == in->data() && in->shape == shape) || !overlaps(y, *in), fn,
          ": 'out' must be a same-shaped input (in place) or not share memory with the inputs");
  }
  binary_cuda(op, a.dtype, y.data(), a.data(), broadcast_strides(a.shape, shape), b.data(),
              broadcast_strides(b.shape, shape), sh);
  return ret(out, std::move(y));
}

py::object where(const py::object& c_obj, const py::object& a_obj, const py::object& b_obj) {
  const char* fn = "where";
  DeviceArray& c = as_device_array(c_obj, fn, "condition");
  DeviceArray& a = as_device_array(a_obj, fn, "x");
  DeviceArray& b = as_device_array(b_obj, fn, "y");
  check_dtype(c, DType::b8, fn, "condition");
  check_same_dtype(a, "x", b, "y", fn);
  check_same_device(a, "x", b, "y", fn);
  check_same_device(c, "condition", a, "x", fn);
  const auto shape = broadcast_shape(broadcast_shape(c.shape, a.shape, fn), b.shape, fn);
  DeviceGuard guard(a.device());
  DeviceArray y = empty(shape, a.dtype, a.device());
  where_cuda(a.dtype, y.data(), c.data(), broadcast_strides(c.shape, shape), a.data(),
             broadcast_strides(a.shape, shape), b.data(), broadcast_strides(b.shape, shape),
             to_shape(shape, fn));
  return py::cast(std::move(y));
}

// Reduce over `dim` (None: all elements). keepdim keeps a size-1 dimension.
py::object reduce(const std::string& op_name, const py::object& x_obj, const py::object& dim_obj,
                  bool keepdim) {
  const char* fn = op_name.c_str();
  const ReduceOp op = parse_reduce(op_name);
  DeviceArray& x = as_device_array(x_obj, fn, "x");
  int64_t outer = 1, len = x.numel(), inner = 1;
  std::vector<int64_t> shape;
  if (dim_obj.is_none()) {
    if (keepdim) shape.assign(x.shape.size(), 1);
  } else {
    int64_t d = dim_obj.cast<int64_t>();
    const int64_t nd = x.ndim();
    FASTNN_CHECK(d >= -std::max<int64_t>(nd, 1) && d < std::max<int64_t>(nd, 1), fn, ": dim ", d,
                 " is out of range for an array of shape ", shape_str(x.shape));
    if (d < 0) d += std::max<int64_t>(nd, 1);
    if (nd > 0) {
      outer = 1;
      for (int64_t i = 0; i < d; ++i) outer *= x.shape[i];
      len = x.shape[d];
      inner = 1;
      for (int64_t i = d + 1; i < nd; ++i) inner *= x.shape[i];
      for (int64_t i = 0; i < nd; ++i)
        if (i != d)
          shape.push_back(x.shape[i]);
        else if (keepdim)
          shape.push_back(1);
    }
  }
  const bool arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
  FASTNN_CHECK(len > 0 || op == ReduceOp::sum || op == ReduceOp::mean, fn,
               ": cannot reduce an empty dimension (shape ", shape_str(x.shape), ")");
  DeviceArray src = x;
  DeviceGuard guard(x.device());
  if (x.dtype == DType::b8 || x.dtype == DType::u8 || x.dtype == DType::i32) {
    // Integer-like inputs reduce in int64 (torch: sum of bool/int is int64).
    src = empty(x.shape, DType::i64, x.device());
    cast_cuda(DType::i64, x.dtype, src.data(), x.data(), x.numel());
  }
  FASTNN_TYPE_CHECK(op != ReduceOp::mean || is_float(src.dtype), fn,
                    ": mean needs a float32 or float64 array, got ", dtype_name(x.dtype));
  DeviceArray y = empty(shape, arg ? DType::i64 : src.dtype, x.device());
  reduce_cuda(op, src.dtype, y.data(), src.data(), outer, len, inner);
  return py::cast(std::move(y));
}

// A contiguous copy of x with its dimensions permuted (x.transpose(dims) in numpy).
py::object permute(const py::object& x_obj, const std::vector<int64_t>& dims) {
  const char* fn = "permute";
  DeviceArray& x = as_device_array(x_obj, fn, "x");
  const int64_t nd = x.ndim();
  FASTNN_CHECK(static_cast<int64_t>(dims.size()) == nd, fn, ": need ", nd, " dims for shape ",
               shape_str(x.shape));
  std::vector<int64_t> contiguous(nd), shape(nd);
  int64_t s = 1;
  for (int64_t i = nd - 1; i >= 0; --i) {
    contiguous[i] = s;
    s *= x.shape[i];
  }
  std::vector<bool> seen(nd, false);
  Strides st{};
  for (int64_t i = 0; i < nd; ++i) {
    int64_t d = dims[i] < 0 ? dims[i] + nd : dims[i];
    FASTNN_CHECK(d >= 0 && d < nd && !seen[d], fn, ": invalid permutation for shape ",
                 shape_str(x.shape));
    seen[d] = true;
    shape[i] = x.shape[d];
    st.s[i] = contiguous[d];
  }
  DeviceGuard guard(x.device());
  DeviceArray y = empty(shape, x.dtype, x.device());
  copy_strided_cuda(dtype_size(x.dtype), y.data(), x.data(), st, to_shape(shape, fn));
  return py::cast(std::move(y));
}

py::object broadcast_to(const py::object& x_obj, const std::vector<int64_t>& shape) {
  const char* fn = "broadcast_to";
  DeviceArray& x = as_device_array(x_obj, fn, "x");
  const auto full = broadcast_shape(x.shape, shape, fn);
  FASTNN_CHECK(full == shape, fn, ": cannot broadcast shape ", shape_str(x.shape), " to ",
               shape_str(shape));
  DeviceGuard guard(x.device());
  DeviceArray y = empty(shape, x.dtype, x.device());
  copy_strided_cuda(dtype_size(x.dtype), y.data(), x.data(), broadcast_strides(x.shape, shape),
                    to_shape(shape, fn));
  return py::cast(std::move(y));
}

// A contiguous copy of the view of x given by `shape`, element `strides` (any sign) and element
// `offset` (numpy basic indexing: slices with steps, picked indices). Every element the view
// reads is checked to lie inside x before the launch.
py::object strided_copy(const py::object& x_obj, const std::vector<int64_t>& shape,
                        const std::vector<int64_t>& strides, int64_t offset) {
  const char* fn = "strided_copy";
  DeviceArray& x = as_device_array(x_obj, fn, "x");
  FASTNN_CHECK(shape.size() == strides.size(), fn, ": shape ", shape_str(shape), " and strides ",
               shape_str(strides), " differ in length");
  int64_t n = 1;
  for (int64_t d : shape) {
    FASTNN_CHECK(d >= 0, fn, ": invalid shape ", shape_str(shape));
    n *= d;
  }
  if (n > 0) {
    int64_t lo = offset, hi = offset;
    for (size_t i = 0; i < shape.size(); ++i) {
      FASTNN_CHECK(strides[i] >= -x.numel() && strides[i] <= x.numel(), fn, ": stride ", strides[i],
                   " is out of range for ", describe(x));
      const int64_t span = (shape[i] - 1) * strides[i];
      if (span > 0)
        hi += span;
      else
        lo += span;
    }
    FASTNN_CHECK(lo >= 0 && hi < x.numel(), fn, ": the view (shape ", shape_str(shape),
                 ", strides ", shape_str(strides), ", offset ", offset, ") reads elements [", lo,
                 ", ", hi, "] outside ", describe(x));
  }
  const Shape sh = to_shape(shape, fn);
  Strides st{};
  for (size_t i = 0; i < strides.size(); ++i) st.s[i] = strides[i];
  DeviceGuard guard(x.device());
  DeviceArray y = empty(shape, x.dtype, x.device());
  if (n > 0)
    copy_strided_cuda(dtype_size(x.dtype), y.data(),
                      static_cast<const char*>(x.data()) + offset * dtype_size(x.dtype), st, sh);
  return py::cast(std::move(y));
}

DeviceArray& float_out(const py::object& obj, const char* fn) {
  DeviceArray& a = as_device_array(obj, fn, "x");
  check_float(a, fn, "x");
  check_writeable(a, fn, "x");
  return a;
}

}  // namespace

void register_ops(py::module_& m) {
  m.def("unary", &unary_op, py::arg("op"), py::arg("x"), py::kw_only(), py::arg("out") = py::none(),
        "Elementwise op(x): neg exp log sqrt abs reciprocal square sign log1p expm1 sin cos floor "
        "ceil rsqrt.");
  m.def("clamp", &clamp, py::arg("x"), py::arg("min") = py::none(), py::arg("max") = py::none(),
        py::kw_only(), py::arg("out") = py::none());
  m.def("binary", &binary_op, py::arg("op"), py::arg("a"), py::arg("b"), py::kw_only(),
        py::arg("out") = py::none(),
        "Broadcast a op b: add sub mul div pow maximum minimum eq ne lt le gt ge (one may be a "
        "scalar).");
  m.def("where", &where, py::arg("condition"), py::arg("x"), py::arg("y"));
  m.def("reduce", &reduce, py::arg("op"), py::arg("x"), py::arg("dim") = py::none(),
        py::arg("keepdim") = false, "sum mean max min argmax argmin over one dimension or all.");
  m.def("permute", &permute, py::arg("x"), py::arg("dims"));
  m.def("broadcast_to", &broadcast_to, py::arg("x"), py::arg("shape"));
  m.def("strided_copy", &strided_copy, py::arg("x"), py::arg("shape"), py::arg("strides"),
        py::arg("offset") = 0, "A contiguous copy of a strided view of x (element strides).");

  m.def(
      "philox4x32_10",
      [](std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
        uint32_t out[4];
        philox4x32_10_host(out, counter.data(), key.data());
        return py::make_tuple(out[0], out[1], out[2], out[3]);
      },
      py::arg("counter"), py::arg("key"), "The Philox 4x32-10 block function (host), for tests.");
  m.def(
      "philox_counters",
      [](const py::object& dtype, int64_t n) {
        return philox_counters(dtype_from_py(dtype, "philox_counters"), n);
      },
      py::arg("dtype"), py::arg("n"), "Counters a random call over n elements consumes.");
  m.def(
      "uniform_",
      [](const py::object& x_obj, double low, double high, uint64_t seed, uint64_t offset) {
        DeviceArray& x = float_out(x_obj, "uniform_");
        FASTNN_CHECK(low <= high, "uniform_: need low <= high, got ", low, " and ", high);
        DeviceGuard guard(x.device());
        uniform_cuda(x.dtype, x.data(), x.numel(), low, high, seed, offset);
        return x_obj;
      },
      py::arg("x"), py::arg("low"), py::arg("high"), py::arg("seed"), py::arg("offset"));
  m.def(
      "normal_",
      [](const py::object& x_obj, double mean, double std, uint64_t seed, uint64_t offset) {
        DeviceArray& x = float_out(x_obj, "normal_");
        FASTNN_CHECK(std >= 0, "normal_: std must be >= 0, got ", std);
        DeviceGuard guard(x.device());
        normal_cuda(x.dtype, x.data(), x.numel(), mean, std, seed, offset);
        return x_obj;
      },
      py::arg("x"), py::arg("mean"), py::arg("std"), py::arg("seed"), py::arg("offset"));
  m.def(
      "dropout",
      [](const py::object& x_obj, double p, uint64_t seed, uint64_t offset) {
        const char* fn = "dropout";
        DeviceArray& x = as_device_array(x_obj, fn, "x");
        check_float(x, fn, "x");
        FASTNN_CHECK(p >= 0.0 && p <= 1.0, fn,
                     ": dropout probability has to be between 0 and 1, but got ", p);
        DeviceGuard guard(x.device());
        DeviceArray y = empty_like(x);
        DeviceArray mask = empty(x.shape, DType::u8, x.device());
        dropout_forward_cuda(x.dtype, y.data(), static_cast<uint8_t*>(mask.data()), x.data(),
                             x.numel(), p, seed, offset);
        return py::make_tuple(std::move(y), std::move(mask));
      },
      py::arg("x"), py::arg("p"), py::arg("seed"), py::arg("offset"),
      "(y, mask): y = x * mask / (1 - p), mask uint8; Philox stream (seed, offset).");
  m.def(
      "dropout_backward",
      [](const py::object& g_obj, const py::object& mask_obj, double p) {
        const char* fn = "dropout_backward";
        DeviceArray& g = as_device_array(g_obj, fn, "grad");
        DeviceArray& mask = as_device_array(mask_obj, fn, "mask");
        check_float(g, fn, "grad");
        check_dtype(mask, DType::u8, fn, "mask");
        check_same_device(g, "grad", mask, "mask", fn);
        check_shape(mask, g.shape, fn, "mask");
        FASTNN_CHECK(p >= 0.0 && p <= 1.0, fn,
                     ": dropout probability has to be between 0 and 1, but got ", p);
        DeviceGuard guard(g.device());
        DeviceArray dx = empty_like(g);
        dropout_backward_cuda(g.dtype, dx.data(), g.data(),
                              static_cast<const uint8_t*>(mask.data()), p, g.numel());
        return dx;
      },
      py::arg("grad"), py::arg("mask"), py::arg("p"));
}

}  // namespace fastnn::cuda::bind
