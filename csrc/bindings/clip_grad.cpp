// Bindings of the multi-tensor gradient kernels behind nn.utils.clip_grad_norm_: grad_norm (the
// total 1-, 2- or inf-norm of a list of arrays) and grad_scale_ (multiply them all in place).
// Every array is checked before any is read or written; the GIL is released for the kernel.
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

double grad_norm(const py::object& tensors, double norm_type) {
  const char* fn = "grad_norm";
  GradNormKind kind = GradNormKind::l2;
  if (norm_type == 1.0)
    kind = GradNormKind::l1;
  else if (std::isinf(norm_type) && norm_type > 0)
    kind = GradNormKind::linf;
  else
    FASTNN_CHECK(norm_type == 2.0, fn, ": norm_type must be 1, 2 or inf, got ",
                 py::str(py::float_(norm_type)).cast<std::string>());
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

}  // namespace

void register_clip_grad(py::module_& m) {
  m.def("grad_norm", &grad_norm, py::arg("tensors"), py::arg("norm_type") = 2.0,
        R"(The norm of all arrays together, as if concatenated: norm_type 1, 2 or inf.

One call for the whole list (C-contiguous float32 or float64 arrays of one dtype); accumulated
in double, the result independent of the thread count. A NaN element makes the result NaN.)");
  m.def("grad_scale_", &grad_scale_, py::arg("tensors"), py::arg("factor"),
        R"(Multiply every array of the list in place by factor (rounded to the arrays' dtype).

The arrays must be writeable, C-contiguous, of one dtype, and must not overlap.)");
}

}  // namespace fastnn::bind
