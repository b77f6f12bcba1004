// pybind11 glue for add / sub / mul / div of whole arrays (cpu/arithmetic.cpp): the CPU backend's
// path for large float operands (python/fastnn/_devices/cpu.py), numpy's ufuncs elsewhere.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <limits>
#include <vector>

#include "bindings/common.h"
#include "bindings/host_cache.h"
#include "cpu/fastnn_cpu.h"

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

py::array arith(ArithOp op, const char* fn, py::handle a_obj, py::handle b_obj,
                py::handle out_obj) {
  Arg a = arg_of(a_obj, fn, "a"), b = arg_of(b_obj, fn, "b");
  FASTNN_TYPE_CHECK(a.is_array() || b.is_array(), fn, ": 'a' or 'b' must be a numpy.ndarray");
  // A 0-d array beside an array of another shape is one value, as numpy broadcasts it; it must
  // have the other's dtype (numpy would promote to the wider one).
  for (Arg* x : {&a, &b}) {
    const Arg& y = x == &a ? b : a;
    if (x->is_array() && y.is_array() && x->array.ndim() == 0 && y.array.ndim() != 0) {
      check_same_dtype(a.array, "a", b.array, "b", fn);
      x->value = float_dtype(x->array, fn, x == &a ? "a" : "b") == DType::f32
                     ? double(*static_cast<const float*>(x->array.data()))
                     : *static_cast<const double*>(x->array.data());
      x->array_arg = false;
    }
  }
  const py::array& like = a.is_array() ? a.array : b.array;
  if (a.is_array() && b.is_array()) {
    check_same_dtype(a.array, "a", b.array, "b", fn);
    check_shape(b.array, std::vector<py::ssize_t>(like.shape(), like.shape() + like.ndim()), fn,
                "b");
  }
  const bool f32 = float_dtype(like, fn, a.is_array() ? "a" : "b") == DType::f32;
  const double s = a.is_array() ? b.value : a.value;
  // numpy casts a float beyond float32's range to inf (with a warning); leave such calls to it.
  FASTNN_CHECK(!f32 || a.is_array() == b.is_array() || !std::isfinite(s) ||
                   std::fabs(s) <= std::numeric_limits<float>::max(),
               fn, ": the scalar ", s, " is out of float32's range");
  // (a scalar's place in the list is an empty array, which overlaps nothing: its value is read)
  py::array out =
      output_for(out_obj, like,
                 {a.is_array() ? a.array : py::array(), b.is_array() ? b.array : py::array()}, fn);
  const int64_t n = like.size();
  void* op_out = out.mutable_data();
  const float sf = static_cast<float>(s);
  py::gil_scoped_release release;
  if (f32)
    arith_cpu(op, static_cast<float*>(op_out), operand<float>(a, sf), operand<float>(b, sf), n);
  else
    arith_cpu(op, static_cast<double*>(op_out), operand<double>(a, s), operand<double>(b, s), n);
  return out;
}

}  // namespace

template <ArithOp kOp>
py::array arith_of(py::handle a, py::handle b, py::handle out) {
  static constexpr const char* kNames[] = {"add", "sub", "mul", "div"};
  return arith(kOp, kNames[static_cast<int>(kOp)], a, b, out);
}

#define FASTNN_ARITH_DOC(name, expr)                                                               \
  name "(a, b, *, out=None): " expr                                                                \
       " element-wise on the thread pool, with numpy's bits: a and "                               \
       "b\nsame-shaped C-contiguous float32/float64 arrays of one dtype, or one of them a Python " \
       "number;\nout may be a or b."

void register_arithmetic(py::module_& m) {
  const auto a = py::arg("a");
  const auto b = py::arg("b");
  const auto out = py::arg("out") = py::none();
  m.def("add", &arith_of<ArithOp::add>, a, b, py::kw_only(), out, FASTNN_ARITH_DOC("add", "a + b"));
  m.def("sub", &arith_of<ArithOp::sub>, a, b, py::kw_only(), out, FASTNN_ARITH_DOC("sub", "a - b"));
  m.def("mul", &arith_of<ArithOp::mul>, a, b, py::kw_only(), out, FASTNN_ARITH_DOC("mul", "a * b"));
  m.def("div", &arith_of<ArithOp::div>, a, b, py::kw_only(), out, FASTNN_ARITH_DOC("div", "a / b"));
}

}  // namespace fastnn::bind
