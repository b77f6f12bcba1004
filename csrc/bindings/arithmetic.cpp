// pybind11 glue for the element-wise kernels of cpu/arithmetic.cpp: add / sub / mul / div /
// maximum / minimum, the one-operand maps (neg, abs, sign, floor, ceil, trunc, rint, cube), addcmul
// / addcdiv / lerp, where, copy and the gradients of maximum / minimum. The CPU backend's path for
// large operands (python/fastnn/_devices/cpu.py), numpy's ufuncs elsewhere.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <limits>
#include <vector>

#include "bindings/common.h"
#include "bindings/host_cache.h"
#include "cpu/fastnn_cpu.h"
#include "strided_index.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

// An operand: a float32/float64 C-contiguous array, or a Python float or int (not bool), or a 0-d
// array of the other operand's dtype (arith turns that into its value).
struct Arg {
  bool array_arg = false;
  py::array array;  // unused for a scalar (py::array() is an empty float64 array, not null)
  double value = 0;
  bool is_array() const { return array_arg; }
};

Arg arg_of(py::handle obj, const char* fn, const char* name) {
  Arg a;
  if (py::isinstance<py::array>(obj)) {
    a.array_arg = true;
    a.array = as_array(obj, fn, name);
    float_dtype(a.array, fn, name);
    check_contiguous(a.array, fn, name);
    return a;
  }
  FASTNN_TYPE_CHECK(
      PyFloat_Check(obj.ptr()) || (PyLong_Check(obj.ptr()) && !PyBool_Check(obj.ptr())), fn,
      ": argument '", name, "' must be a numpy.ndarray or a Python number, got ",
      Py_TYPE(obj.ptr())->tp_name);
  a.value = PyFloat_AsDouble(obj.ptr());  // an int beyond double's range: OverflowError
  if (a.value == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  return a;
}

template <class T>
ArithOperand<T> operand(const Arg& a, const T& scalar) {
  if (a.is_array()) return {static_cast<const T*>(a.array.data()), false};
  return {&scalar, true};
}

// A 0-d operand as the one value it holds (float32 when f32, else float64).
void to_value(Arg& v, bool f32) {
  v.value = f32 ? double(*static_cast<const float*>(v.array.data()))
                : *static_cast<const double*>(v.array.data());
  v.array_arg = false;
}

// Two operands a and b (named na, nb), at least one an array: a 0-d array beside an array of
// another shape becomes one value, as numpy broadcasts it; it must have the other's dtype (numpy
// would promote to the wider one), as must two arrays. A float32 operation refuses a scalar past
// float32's range (numpy casts it to inf, with a warning; such calls stay numpy's). Returns the
// array operand whose dtype and shape the result takes.
const py::array& pair_of(Arg& a, const char* na, Arg& b, const char* nb, const char* fn) {
  FASTNN_TYPE_CHECK(a.is_array() || b.is_array(), fn, ": '", na, "' or '", nb,
                    "' must be a numpy.ndarray");
  for (Arg* x : {&a, &b}) {
    const Arg& y = x == &a ? b : a;
    if (x->is_array() && y.is_array() && x->array.ndim() == 0 && y.array.ndim() != 0) {
      check_same_dtype(a.array, na, b.array, nb, fn);
      to_value(*x, float_dtype(x->array, fn, x == &a ? na : nb) == DType::f32);
    }
  }
  const py::array& like = a.is_array() ? a.array : b.array;
  if (a.is_array() && b.is_array()) check_same_dtype(a.array, na, b.array, nb, fn);
  const bool f32 = float_dtype(like, fn, a.is_array() ? na : nb) == DType::f32;
  for (const Arg* x : {&a, &b})
    FASTNN_CHECK(!f32 || x->is_array() || !std::isfinite(x->value) ||
                     std::fabs(x->value) <= std::numeric_limits<float>::max(),
                 fn, ": the scalar ", x->value, " is out of float32's range");
  return like;
}

// Whether `small` has the trailing dimensions of `big` (numpy broadcasts it over the leading
// ones): a row that repeats through big, small.size() elements long.
bool is_trailing(const py::array& small, const py::array& big) {
  if (small.ndim() == 0 || small.ndim() >= big.ndim()) return false;
  const py::ssize_t skip = big.ndim() - small.ndim();
  for (py::ssize_t d = 0; d < small.ndim(); ++d)
    if (small.shape(d) != big.shape(skip + d)) return false;
  return true;
}

py::array arith(ArithOp op, const char* fn, py::handle a_obj, py::handle b_obj,
                py::handle out_obj) {
  Arg a = arg_of(a_obj, fn, "a"), b = arg_of(b_obj, fn, "b");
  const py::array* like = &pair_of(a, "a", b, "b", fn);
  int64_t a_period = 0, b_period = 0;
  if (a.is_array() && b.is_array()) {
    if (is_trailing(b.array, a.array)) {
      b_period = b.array.size();
    } else if (is_trailing(a.array, b.array)) {
      a_period = a.array.size();
      like = &b.array;
    } else {
      check_shape(b.array,
                  std::vector<py::ssize_t>(a.array.shape(), a.array.shape() + a.array.ndim()), fn,
                  "b");
    }
  }
  const bool f32 = float_dtype(*like, fn, a.is_array() ? "a" : "b") == DType::f32;
  const double s = a.is_array() ? b.value : a.value;
  // (a scalar's place in the list is an empty array, which overlaps nothing: its value is read)
  py::array out =
      output_for(out_obj, *like,
                 {a.is_array() ? a.array : py::array(), b.is_array() ? b.array : py::array()}, fn);
  const int64_t n = like->size();
  void* op_out = out.mutable_data();
  const float sf = static_cast<float>(s);
  py::gil_scoped_release release;
  if (f32) {
    ArithOperand<float> x = operand<float>(a, sf), y = operand<float>(b, sf);
    x.period = a_period, y.period = b_period;
    arith_cpu(op, static_cast<float*>(op_out), x, y, n);
  } else {
    ArithOperand<double> x = operand<double>(a, s), y = operand<double>(b, s);
    x.period = a_period, y.period = b_period;
    arith_cpu(op, static_cast<double*>(op_out), x, y, n);
  }
  return out;
}

// A UnaryOp of a C-contiguous float array, into out (None: a new array; or x itself).
constexpr const char* kUnaryNames[] = {"neg",  "abs",   "sign", "floor",
                                       "ceil", "trunc", "rint", "cube"};

py::array unary(UnaryOp op, py::handle x_obj, py::handle out_obj) {
  const char* fn = kUnaryNames[static_cast<int>(op)];
  py::array x = as_array(x_obj, fn, "x");
  const bool f32 = float_dtype(x, fn, "x") == DType::f32;
  check_contiguous(x, fn, "x");
  py::array out = output_for(out_obj, x, {x}, fn);
  void* po = out.mutable_data();
  const void* px = x.data();
  const int64_t n = x.size();
  py::gil_scoped_release release;
  if (f32)
    unary_cpu(op, static_cast<float*>(po), static_cast<const float*>(px), n);
  else
    unary_cpu(op, static_cast<double*>(po), static_cast<const double*>(px), n);
  return out;
}

// numpy.where(condition, x, y) for a C-contiguous bool condition and x, y each an array of its
// shape or one value (a Python number or a 0-d array of the other's dtype), of one float dtype.
py::array where(py::handle c_obj, py::handle x_obj, py::handle y_obj) {
  constexpr const char* fn = "where";
  py::array c = as_array(c_obj, fn, "condition");
  FASTNN_TYPE_CHECK(c.dtype().kind() == 'b', fn, ": 'condition' must be a bool array, got ",
                    dtype_str(c));
  check_contiguous(c, fn, "condition");
  Arg x = arg_of(x_obj, fn, "x"), y = arg_of(y_obj, fn, "y");
  const py::array& like = pair_of(x, "x", y, "y", fn);
  const bool f32 = float_dtype(like, fn, x.is_array() ? "x" : "y") == DType::f32;
  const py::dtype dt = like.dtype();
  // the result has the condition's shape, so a 0-d operand is one value even beside another
  for (Arg* v : {&x, &y})
    if (v->is_array() && v->array.ndim() == 0) to_value(*v, f32);
  const std::vector<py::ssize_t> shape(c.shape(), c.shape() + c.ndim());
  if (x.is_array()) check_shape(x.array, shape, fn, "x");
  if (y.is_array()) check_shape(y.array, shape, fn, "y");
  py::array out = cached_empty(dt, shape);
  void* po = out.mutable_data();
  const auto* pc = static_cast<const uint8_t*>(c.data());
  const int64_t n = c.size();
  const float xf = static_cast<float>(x.value), yf = static_cast<float>(y.value);
  py::gil_scoped_release release;
  if (f32)
    where_cpu(static_cast<float*>(po), pc, operand<float>(x, xf), operand<float>(y, yf), n);
  else
    where_cpu(static_cast<double*>(po), pc, operand<double>(x, x.value),
              operand<double>(y, y.value), n);
  return out;
}

// A C-contiguous copy of an array of numbers of any layout (any dtype but object: those hold
// references, which a byte copy would not count). A view of more dimensions than the strided copy
// plans, or with strides that are not whole items, goes through numpy's copy.
py::array copy(py::handle x_obj) {
  constexpr const char* fn = "copy";
  py::array x = as_array(x_obj, fn, "x");
  const char kind = x.dtype().kind();
  FASTNN_TYPE_CHECK(kind == 'b' || kind == 'i' || kind == 'u' || kind == 'f' || kind == 'c', fn,
                    ": argument 'x' must hold numbers or bools, got dtype ", dtype_str(x));
  const int ndim = static_cast<int>(x.ndim());
  const int64_t itemsize = x.itemsize();
  const bool contiguous = (x.flags() & py::array::c_style) != 0;
  bool whole_items = true;
  for (int d = 0; d < ndim; ++d) whole_items = whole_items && x.strides(d) % itemsize == 0;
  if (!contiguous && (ndim > kIndexMaxDims || !whole_items))
    return py::module_::import("numpy").attr("ascontiguousarray")(x).cast<py::array>();
  const std::vector<py::ssize_t> shape(x.shape(), x.shape() + ndim);
  py::array out = cached_empty(x.dtype(), shape);
  void* po = out.mutable_data();
  const void* px = x.data();
  if (contiguous) {
    const int64_t bytes = x.nbytes();
    py::gil_scoped_release release;
    copy_cpu(po, px, bytes);
    return out;
  }
  const std::vector<int64_t> dims(shape.begin(), shape.end());
  std::vector<int64_t> strides(static_cast<size_t>(ndim));
  for (int d = 0; d < ndim; ++d) strides[static_cast<size_t>(d)] = x.strides(d);
  py::gil_scoped_release release;
  copy_strided_cpu(po, px, itemsize, ndim, dims.data(), strides.data());
  return out;
}

// addcmul / addcdiv (a, b: tensor1, tensor2; s: value) and lerp (a: end, no b; s: weight):
// same-shaped C-contiguous arrays of one float dtype; out None (a new array) or x (in place).
py::array ternary(TernaryOp op, const char* fn, py::handle x_obj, py::handle a_obj,
                  const char* a_name, py::handle b_obj, const char* b_name, double s,
                  py::handle out_obj) {
  py::array x = as_array(x_obj, fn, "x"), a = as_array(a_obj, fn, a_name);
  const bool f32 = float_dtype(x, fn, "x") == DType::f32;
  check_same_dtype(x, "x", a, a_name, fn);
  const std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  check_shape(a, shape, fn, a_name);
  check_contiguous(x, fn, "x");
  check_contiguous(a, fn, a_name);
  py::array b = a;  // (lerp: unused)
  if (b_name) {
    b = as_array(b_obj, fn, b_name);
    check_same_dtype(x, "x", b, b_name, fn);
    check_shape(b, shape, fn, b_name);
    check_contiguous(b, fn, b_name);
  }
  py::array out = output_for(out_obj, x, {x, a, b}, fn);
  FASTNN_CHECK(out.data() == x.data() || (out.data() != a.data() && out.data() != b.data()), fn,
               ": 'out' may be x itself, not '", a_name, b_name ? "' or '" : "",
               b_name ? b_name : "", "'");
  void* po = out.mutable_data();
  const void *px = x.data(), *pa = a.data(), *pb = b_name ? b.data() : nullptr;
  const int64_t n = x.size();
  py::gil_scoped_release release;
  if (f32)
    ternary_cpu(op, static_cast<float*>(po), static_cast<const float*>(px),
                static_cast<const float*>(pa), static_cast<const float*>(pb), static_cast<float>(s),
                n);
  else
    ternary_cpu(op, static_cast<double*>(po), static_cast<const double*>(px),
                static_cast<const double*>(pa), static_cast<const double*>(pb), s, n);
  return out;
}

// (grad_a, grad_b) of maximum(a, b) or minimum(a, b): three same-shaped C-contiguous arrays of one
// float dtype; a gradient not needed is None (and not computed).
py::tuple minmax_backward(bool maximum, py::handle g_obj, py::handle a_obj, py::handle b_obj,
                          bool need_a, bool need_b) {
  const char* fn = maximum ? "maximum_backward" : "minimum_backward";
  py::array g = as_array(g_obj, fn, "grad"), a = as_array(a_obj, fn, "a"),
            b = as_array(b_obj, fn, "b");
  const bool f32 = float_dtype(g, fn, "grad") == DType::f32;
  check_same_dtype(g, "grad", a, "a", fn);
  check_same_dtype(g, "grad", b, "b", fn);
  const std::vector<py::ssize_t> shape(g.shape(), g.shape() + g.ndim());
  check_shape(a, shape, fn, "a");
  check_shape(b, shape, fn, "b");
  for (auto [x, name] : {std::pair{&g, "grad"}, {&a, "a"}, {&b, "b"}})
    check_contiguous(*x, fn, name);
  py::object ga = py::none(), gb = py::none();
  void *pa = nullptr, *pb = nullptr;
  if (need_a) {
    py::array x = cached_empty(g.dtype(), shape);
    pa = x.mutable_data();
    ga = x;
  }
  if (need_b) {
    py::array x = cached_empty(g.dtype(), shape);
    pb = x.mutable_data();
    gb = x;
  }
  const void *pg = g.data(), *p_a = a.data(), *p_b = b.data();
  const int64_t n = g.size();
  {
    py::gil_scoped_release release;
    if (f32)
      minmax_backward_cpu(maximum, static_cast<float*>(pa), static_cast<float*>(pb),
                          static_cast<const float*>(pg), static_cast<const float*>(p_a),
                          static_cast<const float*>(p_b), n);
    else
      minmax_backward_cpu(maximum, static_cast<double*>(pa), static_cast<double*>(pb),
                          static_cast<const double*>(pg), static_cast<const double*>(p_a),
                          static_cast<const double*>(p_b), n);
  }
  return py::make_tuple(ga, gb);
}

}  // namespace

template <ArithOp kOp>
py::array arith_of(py::handle a, py::handle b, py::handle out) {
  static constexpr const char* kNames[] = {"add", "sub", "mul", "div", "maximum", "minimum"};
  return arith(kOp, kNames[static_cast<int>(kOp)], a, b, out);
}

#define FASTNN_ARITH_DOC(name, expr)                                                               \
  name "(a, b, *, out=None): " expr                                                                \
       " element-wise on the thread pool, with numpy's bits: a and "                               \
       "b\nsame-shaped C-contiguous float32/float64 arrays of one dtype, or one of them a row of " \
       "the\nother's trailing dims (repeated over its rows, as numpy broadcasts it), or a Python " \
       "number;\nout may be the larger operand."

void register_arithmetic(py::module_& m) {
  const auto a = py::arg("a");
  const auto b = py::arg("b");
  const auto out = py::arg("out") = py::none();
  m.def("add", &arith_of<ArithOp::add>, a, b, py::kw_only(), out, FASTNN_ARITH_DOC("add", "a + b"));
  m.def("sub", &arith_of<ArithOp::sub>, a, b, py::kw_only(), out, FASTNN_ARITH_DOC("sub", "a - b"));
  m.def("mul", &arith_of<ArithOp::mul>, a, b, py::kw_only(), out, FASTNN_ARITH_DOC("mul", "a * b"));
  m.def("div", &arith_of<ArithOp::div>, a, b, py::kw_only(), out, FASTNN_ARITH_DOC("div", "a / b"));
  m.def("maximum", &arith_of<ArithOp::maximum>, a, b, py::kw_only(), out,
        FASTNN_ARITH_DOC("maximum", "numpy.maximum(a, b)"));
  m.def("minimum", &arith_of<ArithOp::minimum>, a, b, py::kw_only(), out,
        FASTNN_ARITH_DOC("minimum", "numpy.minimum(a, b)"));
  const auto def_unary = [&](UnaryOp op, const char* doc) {
    m.def(
        kUnaryNames[static_cast<int>(op)],
        [op](py::handle x, py::handle o) { return unary(op, x, o); }, py::arg("x"), py::kw_only(),
        out, doc);
  };
  def_unary(UnaryOp::neg,
            "neg(x, *, out=None): -x element-wise on the thread pool, numpy.negative's bits (a "
            "NaN's\nsign flips too): x a C-contiguous float32/float64 array; out may be x.");
  def_unary(UnaryOp::abs,
            "abs(x, *, out=None): |x| element-wise on the thread pool, numpy.abs's bits: x a\n"
            "C-contiguous float32/float64 array; out may be x.");
  def_unary(UnaryOp::sign,
            "sign(x, *, out=None): torch.sign element-wise on the thread pool: -1, 0 or 1, 0 at "
            "-0\nand at NaN (numpy.sign keeps the NaN); x as for neg.");
  def_unary(UnaryOp::floor,
            "floor(x, *, out=None): numpy.floor's bits on the thread pool; x as for neg.");
  def_unary(UnaryOp::ceil,
            "ceil(x, *, out=None): numpy.ceil's bits on the thread pool; x as for neg.");
  def_unary(UnaryOp::trunc,
            "trunc(x, *, out=None): numpy.trunc's bits on the thread pool; x as for neg.");
  def_unary(UnaryOp::rint,
            "rint(x, *, out=None): numpy.rint's bits (half to even, as numpy.round and "
            "torch.round)\non the thread pool; x as for neg.");
  def_unary(
      UnaryOp::cube,
      "cube(x, *, out=None): (x * x) * x, torch's x ** 3, in one pass on the thread pool; x as\n"
      "for neg.");
  m.def(
      "addcmul",
      [](py::handle x, py::handle t1, py::handle t2, double value, py::handle o) {
        return ternary(TernaryOp::addcmul, "addcmul", x, t1, "tensor1", t2, "tensor2", value, o);
      },
      py::arg("x"), py::arg("tensor1"), py::arg("tensor2"), py::arg("value") = 1.0, py::kw_only(),
      out,
      "addcmul(x, tensor1, tensor2, value=1, *, out=None): x + value * tensor1 * tensor2 in one\n"
      "pass on the thread pool, torch's order of operations (value * tensor1 first): same-shaped\n"
      "C-contiguous float32/float64 arrays of one dtype; out may be x (in place).");
  m.def(
      "addcdiv",
      [](py::handle x, py::handle t1, py::handle t2, double value, py::handle o) {
        return ternary(TernaryOp::addcdiv, "addcdiv", x, t1, "tensor1", t2, "tensor2", value, o);
      },
      py::arg("x"), py::arg("tensor1"), py::arg("tensor2"), py::arg("value") = 1.0, py::kw_only(),
      out,
      "addcdiv(x, tensor1, tensor2, value=1, *, out=None): x + value * tensor1 / tensor2, as\n"
      "addcmul.");
  m.def(
      "lerp",
      [](py::handle x, py::handle end, double weight, py::handle o) {
        return ternary(TernaryOp::lerp, "lerp", x, end, "end", py::none(), nullptr, weight, o);
      },
      py::arg("x"), py::arg("end"), py::arg("weight"), py::kw_only(), out,
      "lerp(x, end, weight, *, out=None): x + weight * (end - x) with torch's bits (for\n"
      "|weight| >= 0.5 as end - (1 - weight) * (end - x), exact at 1), in one pass on the thread\n"
      "pool: x and end same-shaped C-contiguous float32/float64 arrays; out may be x.");
  m.def("copy", &copy, py::arg("x"),
        "copy(x): a new C-contiguous array equal to x, copied on the thread pool: x an array of\n"
        "numbers or bools of any layout (a transpose, a slice, reversed axes).");
  m.def("where", &where, py::arg("condition"), py::arg("x"), py::arg("y"),
        "where(condition, x, y): numpy.where's result and bits on the thread pool, as one select\n"
        "per element (numpy's branches): condition a C-contiguous bool array; x and y each a\n"
        "C-contiguous float32/float64 array of its shape, of one dtype, or one of them a Python\n"
        "number (or a 0-d array of the other's dtype).");
  const auto grad = py::arg("grad");
  const auto need_a = py::arg("need_a") = true;
  const auto need_b = py::arg("need_b") = true;
  m.def(
      "maximum_backward",
      [](py::handle g, py::handle a, py::handle b, bool na, bool nb) {
        return minmax_backward(true, g, a, b, na, nb);
      },
      grad, a, b, py::kw_only(), need_a, need_b,
      "maximum_backward(grad, a, b, *, need_a=True, need_b=True): (grad_a, grad_b) of\n"
      "maximum(a, b) as torch defines them: grad where an operand is not the smaller, grad / 2\n"
      "where a == b, 0 where it is smaller (both get grad where either is NaN). Same-shaped\n"
      "C-contiguous float32/float64 arrays of one dtype; a gradient not needed is None.");
  m.def(
      "minimum_backward",
      [](py::handle g, py::handle a, py::handle b, bool na, bool nb) {
        return minmax_backward(false, g, a, b, na, nb);
      },
      grad, a, b, py::kw_only(), need_a, need_b,
      "minimum_backward(grad, a, b, *, need_a=True, need_b=True): (grad_a, grad_b) of\n"
      "minimum(a, b), as maximum_backward with the roles of larger and smaller swapped.");
}

}  // namespace fastnn::bind
