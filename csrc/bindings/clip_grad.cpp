// Bindings of the multi-tensor gradient kernels behind nn.utils.clip_grad_norm_: grad_norm (the
// total 1-, 2- or inf-norm of a list of arrays) and grad_scale_ (multiply them all in place); and
// norm_last, the same norms of each row of one array.
// Every array is checked before any is read or written; the GIL is released for the kernel.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "contract.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

struct ArrayList {
  std::vector<py::array> arrays;
  std::vector<int64_t> numels;
  DType dtype = DType::f32;
};

ArrayList take(const py::object& obj, const char* fn, bool written) {
  FASTNN_TYPE_CHECK(py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj), fn,
                    ": argument 'tensors' must be a list or tuple of numpy arrays, got ",
                    Py_TYPE(obj.ptr())->tp_name);
  ArrayList l;
  size_t i = 0;
  for (const py::handle& item : obj) {
    const std::string name = "tensors[" + std::to_string(i) + "]";
    py::array a = as_array(item, fn, name.c_str());
    DType dt = float_dtype(a, fn, name.c_str());
    if (i == 0) l.dtype = dt;
    FASTNN_TYPE_CHECK(dt == l.dtype, fn, ": '", name, "' has dtype ", dtype_str(a),
                      " but 'tensors[0]' has ", dtype_str(l.arrays[0]),
                      "; all arrays of one call must share a dtype");
    check_contiguous(a, fn, name.c_str());
    if (written) check_writeable(a, fn, name.c_str());
    l.numels.push_back(static_cast<int64_t>(a.size()));
    l.arrays.push_back(std::move(a));
    ++i;
  }
  if (written) {
    static const std::string list_name = "tensors";
    std::vector<BufferSpan> spans;
    for (size_t k = 0; k < l.arrays.size(); ++k) {
      if (l.arrays[k].size() == 0) continue;
      BufferSpan s{0, 0, &list_name, k, true};
      byte_bounds(l.arrays[k], s.lo, s.hi);
      spans.push_back(s);
    }
    fastnn::check_no_overlap(fn, std::move(spans));
  }
  return l;
}

template <class T>
std::vector<T*> pointers(const ArrayList& l) {
  std::vector<T*> out;
  for (const auto& a : l.arrays) out.push_back(static_cast<T*>(const_cast<void*>(a.data())));
  return out;
}

GradNormKind norm_kind(double norm_type, const char* fn, const char* name) {
  if (norm_type == 1.0) return GradNormKind::l1;
  if (std::isinf(norm_type) && norm_type > 0) return GradNormKind::linf;
  FASTNN_CHECK(norm_type == 2.0, fn, ": ", name, " must be 1, 2 or inf, got ",
               py::str(py::float_(norm_type)).cast<std::string>());
  return GradNormKind::l2;
}

double grad_norm(const py::object& tensors, double norm_type) {
  const char* fn = "grad_norm";
  const GradNormKind kind = norm_kind(norm_type, fn, "norm_type");
  const ArrayList l = take(tensors, fn, false);
  const int64_t n = static_cast<int64_t>(l.arrays.size());
  if (l.dtype == DType::f32) {
    auto ptrs = pointers<const float>(l);
    py::gil_scoped_release release;
    return grad_norm_cpu(ptrs.data(), l.numels.data(), n, kind);
  }
  auto ptrs = pointers<const double>(l);
  py::gil_scoped_release release;
  return grad_norm_cpu(ptrs.data(), l.numels.data(), n, kind);
}

void grad_scale_(const py::object& tensors, double factor) {
  const ArrayList l = take(tensors, "grad_scale_", true);
  const int64_t n = static_cast<int64_t>(l.arrays.size());
  if (l.dtype == DType::f32) {
    auto ptrs = pointers<float>(l);
    py::gil_scoped_release release;
    grad_scale_cpu(ptrs.data(), l.numels.data(), n, static_cast<float>(factor));
    return;
  }
  auto ptrs = pointers<double>(l);
  py::gil_scoped_release release;
  grad_scale_cpu(ptrs.data(), l.numels.data(), n, factor);
}

// The p-norm of each row along x's last dimension: x's shape without it (1 with keepdim).
py::array norm_last(const py::object& obj, double p, bool keepdim) {
  const char* fn = "norm_last";
  const GradNormKind kind = norm_kind(p, fn, "p");
  py::array x = as_array(obj, fn, "x");
  const DType dt = float_dtype(x, fn, "x");
  FASTNN_CHECK(x.ndim() >= 1, fn, ": argument 'x' needs at least one dimension, got shape ",
               shape_str(x));
  check_contiguous(x, fn, "x");
  const int64_t cols = x.shape(x.ndim() - 1), rows = cols ? x.size() / cols : 0;
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim() - 1);
  if (keepdim) shape.push_back(1);
  py::array out(x.dtype(), shape);
  const void* xp = x.data();
  void* op = out.mutable_data();
  if (cols == 0) {  // norms of empty rows
    std::fill_n(static_cast<char*>(op), out.nbytes(), 0);
    return out;
  }
  py::gil_scoped_release release;
  if (dt == DType::f32)
    norm_last_cpu(static_cast<const float*>(xp), rows, cols, kind, static_cast<float*>(op));
  else
    norm_last_cpu(static_cast<const double*>(xp), rows, cols, kind, static_cast<double*>(op));
  return out;
}

}  // namespace

void register_clip_grad(py::module_& m) {
  m.def("grad_norm", &grad_norm, py::arg("tensors"), py::arg("norm_type") = 2.0,
        R"(The norm of all arrays together, as if concatenated: norm_type 1, 2 or inf.

One call for the whole list (C-contiguous float32 or float64 arrays of one dtype); accumulated
in double, the result independent of the thread count. A NaN element makes the result NaN.)");
  m.def("norm_last", &norm_last, py::arg("x"), py::arg("p") = 2.0, py::arg("keepdim") = false,
        R"(The p-norm (p = 1, 2 or inf) of each row along the last dimension of x (torch's
x.norm(p, -1, keepdim)), a new array of x's dtype shaped as x without its last dimension, or
with it as 1 when keepdim.

x: a C-contiguous float32 or float64 array. Each row accumulates in double as grad_norm does (a
float32 row's squares cannot overflow); a NaN makes its row's norm NaN, an empty row's is 0.)");
  m.def("grad_scale_", &grad_scale_, py::arg("tensors"), py::arg("factor"),
        R"(Multiply every array of the list in place by factor (rounded to the arrays' dtype).

The arrays must be writeable, C-contiguous, of one dtype, and must not overlap.)");
}

}  // namespace fastnn::bind
