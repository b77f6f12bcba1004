// Argument checking shared by the binding files. Every failure names the function, the
// argument and what was seen (shape, dtype), and raises TypeError or ValueError in Python.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "check.h"

namespace fastnn::bind {
namespace py = pybind11;

enum class DType { f32, f64 };

inline std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// The argument as an ndarray; TypeError for lists, tensors of other libraries, scalars.
// numpy allows an array whose data does not start at a multiple of its item size (a view at an
// odd byte offset into a byte buffer); the kernels load whole elements through typed pointers,
// which such an address does not allow, so it is replaced by an aligned copy. The copy is
// read-only: an argument the call writes in place is refused (check_writeable), never copied.
inline py::array as_array(const py::handle& obj, const char* fn, const char* name) {
  FASTNN_TYPE_CHECK(py::isinstance<py::array>(obj), fn, ": argument '", name,
                    "' must be a numpy.ndarray, got ", Py_TYPE(obj.ptr())->tp_name);
  auto a = py::reinterpret_borrow<py::array>(obj);
  const auto item = static_cast<uintptr_t>(a.itemsize());
  if (item <= 1 || reinterpret_cast<uintptr_t>(a.data()) % item == 0) return a;
  py::array copy = a.attr("copy")();
  copy.attr("setflags")(py::arg("write") = false);
  return copy;
}

// float32 or float64, else TypeError.
inline DType float_dtype(const py::array& a, const char* fn, const char* name) {
  if (a.dtype().equal(py::dtype::of<float>())) return DType::f32;
  if (a.dtype().equal(py::dtype::of<double>())) return DType::f64;
  FASTNN_TYPE_CHECK(false, fn, ": argument '", name, "' must have dtype float32 or float64, got ",
                    dtype_str(a), " with shape ", shape_str(a));
  return DType::f32;
}

inline void check_same_dtype(const py::array& a, const char* name_a, const py::array& b,
                             const char* name_b, const char* fn) {
  FASTNN_TYPE_CHECK(a.dtype().equal(b.dtype()), fn, ": '", name_a, "' and '", name_b,
                    "' must have the same dtype, got ", dtype_str(a), " and ", dtype_str(b));
}

inline bool is_c_contiguous(const py::array& a) { return (a.flags() & py::array::c_style) != 0; }

inline void check_contiguous(const py::array& a, const char* fn, const char* name) {
  FASTNN_CHECK(is_c_contiguous(a), fn, ": argument '", name, "' with shape ", shape_str(a),
               " must be C-contiguous (use numpy.ascontiguousarray)");
}

inline void check_writeable(const py::array& a, const char* fn, const char* name) {
  FASTNN_CHECK(a.writeable(), fn, ": argument '", name,
               "' is read-only (or its data is not aligned to its item size); it is written in "
               "place");
}

inline void check_ndim(const py::array& a, std::initializer_list<int> allowed, const char* fn,
                       const char* name) {
  for (int d : allowed)
    if (a.ndim() == d) return;
  std::string want;
  for (int d : allowed) want += (want.empty() ? "" : " or ") + std::to_string(d);
  FASTNN_CHECK(false, fn, ": argument '", name, "' must have ", want, " dimensions, got shape ",
               shape_str(a));
}

inline void check_shape(const py::array& a, const std::vector<py::ssize_t>& shape, const char* fn,
                        const char* name) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = a.shape(i) == shape[i];
  if (ok) return;
  std::string want = "(";
  for (size_t i = 0; i < shape.size(); ++i) want += (i ? ", " : "") + std::to_string(shape[i]);
  want += shape.size() == 1 ? ",)" : ")";
  FASTNN_CHECK(false, fn, ": argument '", name, "' must have shape ", want, ", got ", shape_str(a));
}

// The byte range [lo, hi) an array's elements span (for overlap checks).
inline void byte_bounds(const py::array& a, intptr_t& lo, intptr_t& hi) {
  lo = hi = reinterpret_cast<intptr_t>(a.data());
  if (a.size() == 0) return;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    intptr_t extent = static_cast<intptr_t>(a.shape(i) - 1) * a.strides(i);
    (extent < 0 ? lo : hi) += extent;
  }
  hi += a.itemsize();
}

inline bool overlaps(const py::array& a, const py::array& b) {
  intptr_t alo, ahi, blo, bhi;
  byte_bounds(a, alo, ahi);
  byte_bounds(b, blo, bhi);
  return a.size() > 0 && b.size() > 0 && alo < bhi && blo < ahi;
}

// `out` must not share memory with `in` (for kernels that read `in` after writing `out`).
inline void check_no_overlap(const py::array& out, const char* out_name, const py::array& in,
                             const char* in_name, const char* fn) {
  FASTNN_CHECK(!overlaps(out, in), fn, ": '", out_name, "' must not share memory with '", in_name,
               "'");
}

}  // namespace fastnn::bind
