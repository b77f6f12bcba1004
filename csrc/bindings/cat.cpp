// pybind11 glue for cpu/cat.cpp: cat(arrays, axis) and stack(arrays, axis), numpy.concatenate's
// and numpy.stack's results for arrays of one dtype. The CPU backend's cat and stack
// (python/fastnn/_devices/cpu.py) call them at every size: on two 4x4 arrays the call costs about
// half of numpy's, whose concatenate first works out a common dtype and a result layout.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "bindings/host_cache.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

std::string item_name(Py_ssize_t i) { return "arrays[" + std::to_string(i) + "]"; }

// The arrays of a list or tuple, each C-contiguous (an array of another layout is copied first),
// all of the first one's dtype, which holds numbers or bools.
std::vector<py::array> arrays_of(py::handle seq, const char* fn) {
  PyObject* s = seq.ptr();
  FASTNN_TYPE_CHECK(PyList_Check(s) || PyTuple_Check(s), fn,
                    ": argument 'arrays' must be a list or tuple of numpy.ndarray, got ",
                    Py_TYPE(s)->tp_name);
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(s);
  FASTNN_CHECK(n > 0, fn, ": argument 'arrays' must hold at least one array");
  PyObject** items = PySequence_Fast_ITEMS(s);
  std::vector<py::array> arrays;
  arrays.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    py::handle item(items[i]);
    FASTNN_TYPE_CHECK(py::isinstance<py::array>(item), fn, ": ", item_name(i),
                      " must be a numpy.ndarray, got ", Py_TYPE(item.ptr())->tp_name);
    auto a = py::reinterpret_borrow<py::array>(item);
    if (i == 0) {
      const char kind = a.dtype().kind();
      FASTNN_TYPE_CHECK(kind == 'b' || kind == 'i' || kind == 'u' || kind == 'f' || kind == 'c', fn,
                        ": arrays must hold numbers or bools, got dtype ", dtype_str(a));
    } else {
      FASTNN_TYPE_CHECK(a.dtype().equal(arrays[0].dtype()), fn, ": ", item_name(i), " has dtype ",
                        dtype_str(a), " where arrays[0] has ", dtype_str(arrays[0]),
                        " (the arrays must have one dtype)");
    }
    if (!is_c_contiguous(a)) {
      a = py::array::ensure(item, py::array::c_style);
      if (!a) throw py::error_already_set();
    }
    arrays.push_back(std::move(a));
  }
  return arrays;
}

// axis in [-ndim, ndim) as a position, else IndexError (numpy's AxisError is one too).
int64_t wrap_axis(int64_t axis, int64_t ndim, const char* fn) {
  if (axis < -ndim || axis >= ndim)
    throw py::index_error(str_cat(fn, ": axis ", axis, " is out of range for ", ndim,
                                  "-dimensional results (expected -", ndim, " <= axis < ", ndim,
                                  ")"));
  return axis < 0 ? axis + ndim : axis;
}

int64_t product(const py::array& a, int64_t d0, int64_t d1) {
  int64_t p = 1;
  for (int64_t d = d0; d < d1; ++d) p *= a.shape(d);
  return p;
}

// cat: shapes equal but along axis; stack: shapes equal, and a new axis of len(arrays) at axis.
py::array join(py::handle seq, int64_t axis, bool stack) {
  const char* fn = stack ? "stack" : "cat";
  const std::vector<py::array> arrays = arrays_of(seq, fn);
  const py::array& first = arrays[0];
  const int64_t nd = first.ndim();
  FASTNN_CHECK(stack || nd > 0, fn, ": zero-dimensional arrays cannot be concatenated");
  axis = wrap_axis(axis, stack ? nd + 1 : nd, fn);
  std::vector<py::ssize_t> shape(first.shape(), first.shape() + nd);
  for (size_t i = 1; i < arrays.size(); ++i) {
    const py::array& a = arrays[i];
    bool same = a.ndim() == nd;
    for (int64_t d = 0; same && d < nd; ++d)
      same = a.shape(d) == first.shape(d) || (!stack && d == axis);
    FASTNN_CHECK(same, fn, ": ", item_name(static_cast<Py_ssize_t>(i)), " has shape ", shape_str(a),
                 " where arrays[0] has ", shape_str(first),
                 stack ? " (stack needs equal shapes)"
                       : str_cat(" (cat needs equal shapes but along axis ", axis, ")"));
    if (!stack) shape[axis] += a.shape(axis);
  }
  if (stack) shape.insert(shape.begin() + axis, static_cast<py::ssize_t>(arrays.size()));
  const int64_t item = first.itemsize();
  const int64_t outer = product(first, 0, axis);
  std::vector<CatPart> parts;
  parts.reserve(arrays.size());
  for (const py::array& a : arrays) parts.push_back({a.data(), product(a, axis, nd) * item});
  py::array out = cached_empty(first.dtype(), shape);
  void* po = out.mutable_data();
  py::gil_scoped_release release;
  cat_cpu(po, parts.data(), static_cast<int64_t>(parts.size()), outer);
  return out;
}

}  // namespace

void register_cat(py::module_& m) {
  m.def(
      "cat", [](py::handle arrays, int64_t axis) { return join(arrays, axis, false); },
      py::arg("arrays"), py::arg("axis") = 0,
      "cat(arrays, axis=0): numpy.concatenate(arrays, axis) as a new C-contiguous array, copied\n"
      "on the thread pool: arrays a non-empty list or tuple of numpy arrays of numbers or bools,\n"
      "of one dtype and of equal shapes but along axis (-ndim <= axis < ndim).");
  m.def(
      "stack", [](py::handle arrays, int64_t axis) { return join(arrays, axis, true); },
      py::arg("arrays"), py::arg("axis") = 0,
      "stack(arrays, axis=0): numpy.stack(arrays, axis) as a new C-contiguous array, copied on\n"
      "the thread pool: arrays as for cat, of equal shapes (-ndim - 1 <= axis <= ndim).");
}

}  // namespace fastnn::bind
