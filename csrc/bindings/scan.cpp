// pybind11 glue for cpu/scan.cpp: cumsum(x, axis, *, reverse) and cumprod(x, axis) of float32 /
// float64 arrays, torch's CPU results (double accumulation). The CPU backend's scans
// (python/fastnn/_devices/cpu.py) call them for float arrays; other dtypes stay numpy's.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

#include "bindings/common.h"
#include "bindings/host_cache.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

py::array scan(py::handle x_obj, int64_t axis, bool reverse, bool product) {
  const char* fn = product ? "cumprod" : "cumsum";
  py::array x = as_array(x_obj, fn, "x");
  const bool f32 = float_dtype(x, fn, "x") == DType::f32;
  check_contiguous(x, fn, "x");
  const int64_t nd = x.ndim();
  FASTNN_CHECK(nd > 0, fn, ": argument 'x' must have at least one dimension, got a 0-d array");
  if (axis < -nd || axis >= nd)
    throw py::index_error(str_cat(fn, ": axis ", axis, " is out of range for x of shape ",
                                  shape_str(x), " (expected -", nd, " <= axis < ", nd, ")"));
  if (axis < 0) axis += nd;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape(d);
  for (int64_t d = axis + 1; d < nd; ++d) inner *= x.shape(d);
  const int64_t n = x.shape(axis);
  py::array out = cached_empty(x.dtype(), std::vector<py::ssize_t>(x.shape(), x.shape() + nd));
  void* po = out.mutable_data();
  const void* px = x.data();
  py::gil_scoped_release release;
  if (f32 && product)
    cumprod_cpu(static_cast<float*>(po), static_cast<const float*>(px), outer, n, inner);
  else if (product)
    cumprod_cpu(static_cast<double*>(po), static_cast<const double*>(px), outer, n, inner);
  else if (f32)
    cumsum_cpu(static_cast<float*>(po), static_cast<const float*>(px), outer, n, inner, reverse);
  else
    cumsum_cpu(static_cast<double*>(po), static_cast<const double*>(px), outer, n, inner, reverse);
  return out;
}

}  // namespace

void register_scan(py::module_& m) {
  m.def(
      "cumsum",
      [](py::handle x, int64_t axis, bool reverse) { return scan(x, axis, reverse, false); },
      py::arg("x"), py::arg("axis"), py::kw_only(), py::arg("reverse") = false,
      "cumsum(x, axis, *, reverse=False): the running sums of x along axis, accumulated in\n"
      "double and rounded once per element (torch's CPU cumsum; numpy's float32 cumsum\n"
      "accumulates in float32), on the thread pool: x a C-contiguous float32/float64 array of at\n"
      "least one dimension. reverse: the sums from each element to the end of the axis.");
  m.def(
      "cumprod", [](py::handle x, int64_t axis) { return scan(x, axis, false, true); },
      py::arg("x"), py::arg("axis"),
      "cumprod(x, axis): the running products of x along axis, as cumsum accumulates its sums.");
}

}  // namespace fastnn::bind
