// The window arguments of the conv and pooling bindings (kernel_size, stride, padding, dilation,
// input_shape, the avg_pool2d options) and the geometry built from them, shared by the CPU
// bindings (conv.cpp) and the CUDA ones (cuda_conv.cpp) so both devices accept the same values
// and refuse the others with the same message. Window hyperparameters are an int or a pair.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "window_ops.h"

namespace fastnn::window_args {
namespace py = pybind11;

constexpr int64_t kMaxParam = std::numeric_limits<int32_t>::max();  // keeps all index math in int64

struct Pair {
  int64_t h, w;
};

inline std::string pair_str(Pair p) {
  return "(" + std::to_string(p.h) + ", " + std::to_string(p.w) + ")";
}

inline int64_t as_int(const py::handle& v, const char* fn, const char* name) {
  // Any integer with __index__ (Python ints, numpy integer scalars, as torch accepts); not bool:
  // bool is an int subclass in Python, and kernel_size=True is a bug, not 1.
  py::object i;
  if (!py::isinstance<py::bool_>(v) && PyIndex_Check(v.ptr())) {
    i = py::reinterpret_steal<py::object>(PyNumber_Index(v.ptr()));
    if (!i) PyErr_Clear();  // e.g. an array of more than one element: reported below
  }
  FASTNN_TYPE_CHECK(i, fn, ": argument '", name, "' must be an int or a pair of ints, got ",
                    Py_TYPE(v.ptr())->tp_name);
  // Not i.cast<long long>(): an int beyond 64 bits would raise pybind11's vague RuntimeError.
  int overflow = 0;
  const long long x = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  FASTNN_CHECK(overflow == 0 && x >= -kMaxParam && x <= kMaxParam, fn, ": argument '", name,
               "' = ", py::str(v).cast<std::string>(), " is out of range (|value| <= ", kMaxParam,
               ")");
  return x;
}

// An int (both axes) or a tuple/list of two ints; `min` is the smallest allowed value.
inline Pair as_pair(const py::handle& obj, const char* fn, const char* name, int64_t min) {
  Pair p;
  if (py::isinstance<py::tuple>(obj) || py::isinstance<py::list>(obj)) {
    py::sequence s = py::reinterpret_borrow<py::sequence>(obj);
    FASTNN_CHECK(s.size() == 2, fn, ": argument '", name,
                 "' must be an int or a pair of ints, got ", s.size(), " values");
    p = {as_int(s[0], fn, name), as_int(s[1], fn, name)};
  } else {
    const int64_t v = as_int(obj, fn, name);
    p = {v, v};
  }
  FASTNN_CHECK(p.h >= min && p.w >= min, fn, ": argument '", name, "' must be >= ", min, ", got ",
               pair_str(p));
  return p;
}

// (N, C, H, W) from a tuple/list of 4 non-negative ints.
inline std::vector<int64_t> as_shape4(const py::handle& obj, const char* fn, const char* name) {
  FASTNN_TYPE_CHECK(py::isinstance<py::tuple>(obj) || py::isinstance<py::list>(obj), fn,
                    ": argument '", name, "' must be a tuple (N, C, H, W), got ",
                    Py_TYPE(obj.ptr())->tp_name);
  py::sequence s = py::reinterpret_borrow<py::sequence>(obj);
  FASTNN_CHECK(s.size() == 4, fn, ": argument '", name, "' must have 4 entries (N, C, H, W), got ",
               s.size());
  std::vector<int64_t> v;
  for (py::size_t i = 0; i < 4; ++i) {
    v.push_back(as_int(s[i], fn, name));
    FASTNN_CHECK(v.back() >= 0, fn, ": argument '", name, "' has a negative size ", v.back());
  }
  return v;
}

inline std::string shape_of(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

// The full geometry (Conv2dGeom or window::Geom: the same fields in the same order) for an
// (N, C, H, W) input; ValueError when the output would be empty or its size overflows int64.
template <class G>
G make_geom(const std::vector<int64_t>& in, Pair k, Pair s, Pair p, Pair d, const char* fn) {
  G g{in[0], in[1], in[2], in[3], k.h, k.w, s.h, s.w, p.h, p.w, d.h, d.w, 0, 0};
  // An extent below one window gives a size <= 0, reported as computed.
  g.Ho = window::out_size(g.H, k.h, s.h, p.h, d.h);
  g.Wo = window::out_size(g.W, k.w, s.w, p.w, d.w);
  FASTNN_CHECK(g.Ho > 0 && g.Wo > 0, fn, ": the output size (", g.Ho, ", ", g.Wo,
               ") is <= 0 for input size (", g.H, ", ", g.W, ") with kernel_size=", pair_str(k),
               ", stride=", pair_str(s), ", padding=", pair_str(p), ", dilation=", pair_str(d),
               " (the dilated kernel is larger than the padded input)");
  // The array sizes built from the geometry (C*kh*kw + 1 rows, Ho*Wo columns, N of them) must fit
  // in int64: a wrapped product would allocate a small array that the kernel then overruns.
  int64_t rows, cols, per_image, total;
  const bool overflow =
      __builtin_mul_overflow(g.C, g.kh * g.kw, &rows) || __builtin_add_overflow(rows, 1, &rows) ||
      __builtin_mul_overflow(g.Ho, g.Wo, &cols) || __builtin_mul_overflow(rows, cols, &per_image) ||
      __builtin_mul_overflow(g.N, per_image, &total);
  FASTNN_CHECK(!overflow, fn, ": the output size (", g.Ho, ", ", g.Wo, ") for input size ",
               shape_of(in), " with kernel_size=", pair_str(k), ", stride=", pair_str(s),
               ", padding=", pair_str(p), ", dilation=", pair_str(d),
               " is too large (its element count overflows int64)");
  return g;
}

// Pooling: stride None means the kernel size; padding at most half the kernel (torch's rule).
struct PoolWindow {
  Pair k, s, p;
};

inline PoolWindow pool_window(const py::object& kernel_size, const py::object& stride,
                              const py::object& padding, const char* fn) {
  const Pair k = as_pair(kernel_size, fn, "kernel_size", 1);
  const Pair s = stride.is_none() ? k : as_pair(stride, fn, "stride", 1);
  const Pair p = as_pair(padding, fn, "padding", 0);
  FASTNN_CHECK(2 * p.h <= k.h && 2 * p.w <= k.w, fn, ": padding ", pair_str(p),
               " should be at most half of kernel_size ", pair_str(k));
  return {k, s, p};
}

// avg_pool2d's count_include_pad (a bool) and divisor_override (None -> 0, else nonzero).
inline bool as_include_pad(const py::object& count_include_pad, const char* fn) {
  FASTNN_TYPE_CHECK(py::isinstance<py::bool_>(count_include_pad), fn,
                    ": argument 'count_include_pad' must be a bool, got ",
                    Py_TYPE(count_include_pad.ptr())->tp_name);
  return count_include_pad.cast<bool>();
}

inline int64_t as_divisor(const py::object& divisor_override, const char* fn) {
  if (divisor_override.is_none()) return 0;
  const int64_t divisor = as_int(divisor_override, fn, "divisor_override");
  FASTNN_CHECK(divisor != 0, fn, ": divisor must be not zero");
  return divisor;
}

}  // namespace fastnn::window_args
