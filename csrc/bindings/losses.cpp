// pybind11 glue for the fused losses: validate, release the GIL, call, return.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>

#include "bindings/common.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

py::array new_like(const py::array& like, std::vector<py::ssize_t> shape) {
  return py::array(like.dtype(), shape);
}

// An optional float operand (weight, pos_weight): None, or a contiguous array of logits' dtype.
py::object optional_operand(py::handle obj, const py::array& logits, const char* fn,
                            const char* name) {
  if (obj.is_none()) return py::none();
  py::array a = as_array(obj, fn, name);
  float_dtype(a, fn, name);
  check_same_dtype(a, name, logits, "logits", fn);
  check_contiguous(a, fn, name);
  return std::move(a);
}

template <class T>
const T* ptr_or_null(const py::object& o) {
  return o.is_none() ? nullptr : static_cast<const T*>(py::reinterpret_borrow<py::array>(o).data());
}

// The result: loss (0-d array for mean/sum, per-item array for none), plus dlogits when grad.
py::object result(const py::array& logits, Reduction red, double total, py::object per_item,
                  py::object dlogits, bool grad) {
  py::object loss;
  if (red == Reduction::none) {
    loss = per_item;
  } else {
    py::array r = new_like(logits, {});
    if (logits.dtype().equal(py::dtype::of<float>()))
      *static_cast<float*>(r.mutable_data()) = float(total);
    else
      *static_cast<double*>(r.mutable_data()) = total;
    loss = r;
  }
  if (grad) return py::make_tuple(loss, dlogits);
  return loss;
}

py::object softmax_cross_entropy(py::handle logits_obj, py::handle target_obj,
                                 const std::string& reduction, double label_smoothing,
                                 int64_t ignore_index, py::handle weight_obj, bool grad) {
  const char* fn = "softmax_cross_entropy";
  py::array logits = as_array(logits_obj, fn, "logits");
  DType dt = float_dtype(logits, fn, "logits");
  FASTNN_CHECK(logits.ndim() == 2, fn, ": argument 'logits' must have shape (N, C), got ",
               shape_str(logits));
  check_contiguous(logits, fn, "logits");
  const int64_t N = logits.shape(0), C = logits.shape(1);
  FASTNN_CHECK(C >= 1, fn, ": 'logits' must have at least one class, got shape ",
               shape_str(logits));
  Reduction red = parse_reduction(reduction, fn);
  FASTNN_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, fn,
               ": argument 'label_smoothing' must be between 0.0 and 1.0, got ", label_smoothing);
  py::array target = as_array(target_obj, fn, "target");
  const bool is_i32 = target.dtype().equal(py::dtype::of<int32_t>());
  const bool is_i64 = target.dtype().equal(py::dtype::of<int64_t>());
  const bool is_prob = target.dtype().kind() == 'f';
  FASTNN_TYPE_CHECK(
      is_i32 || is_i64 || is_prob, fn,
      ": argument 'target' must hold class indices (int32 or int64) or class probabilities "
      "(the dtype of 'logits', ",
      dtype_str(logits), "), got ", dtype_str(target));
  if (is_prob) {
    check_same_dtype(target, "target", logits, "logits", fn);
    check_shape(target, {N, C}, fn, "target");
  } else {
    check_shape(target, {N}, fn, "target");
  }
  check_contiguous(target, fn, "target");
  py::object weight = optional_operand(weight_obj, logits, fn, "weight");
  if (!weight.is_none()) check_shape(py::reinterpret_borrow<py::array>(weight), {C}, fn, "weight");

  py::object per_item = py::none(), dlogits = py::none();
  if (red == Reduction::none) per_item = new_like(logits, {N});
  if (grad) dlogits = new_like(logits, {N, C});
  double total;
  {
    void* lp =
        per_item.is_none() ? nullptr : py::reinterpret_borrow<py::array>(per_item).mutable_data();
    void* gp =
        dlogits.is_none() ? nullptr : py::reinterpret_borrow<py::array>(dlogits).mutable_data();
    const void* zp = logits.data();
    const void* tp = target.data();
    const float* w32 = dt == DType::f32 ? ptr_or_null<float>(weight) : nullptr;
    const double* w64 = dt == DType::f64 ? ptr_or_null<double>(weight) : nullptr;
    py::gil_scoped_release release;
    if (dt == DType::f32) {
      auto* l = static_cast<float*>(lp);
      auto* g = static_cast<float*>(gp);
      auto* z = static_cast<const float*>(zp);
      if (is_prob)
        total = softmax_cross_entropy_forward_cpu(l, g, z, static_cast<const float*>(tp), w32, N, C,
                                                  label_smoothing, red);
      else if (is_i32)
        total = softmax_cross_entropy_forward_cpu(l, g, z, static_cast<const int32_t*>(tp), w32, N,
                                                  C, ignore_index, label_smoothing, red);
      else
        total = softmax_cross_entropy_forward_cpu(l, g, z, static_cast<const int64_t*>(tp), w32, N,
                                                  C, ignore_index, label_smoothing, red);
    } else {
      auto* l = static_cast<double*>(lp);
      auto* g = static_cast<double*>(gp);
      auto* z = static_cast<const double*>(zp);
      if (is_prob)
        total = softmax_cross_entropy_forward_cpu(l, g, z, static_cast<const double*>(tp), w64, N,
                                                  C, label_smoothing, red);
      else if (is_i32)
        total = softmax_cross_entropy_forward_cpu(l, g, z, static_cast<const int32_t*>(tp), w64, N,
                                                  C, ignore_index, label_smoothing, red);
      else
        total = softmax_cross_entropy_forward_cpu(l, g, z, static_cast<const int64_t*>(tp), w64, N,
                                                  C, ignore_index, label_smoothing, red);
    }
  }
  return result(logits, red, total, per_item, dlogits, grad);
}

py::object binary_cross_entropy_with_logits(py::handle logits_obj, py::handle target_obj,
                                            py::handle weight_obj, py::handle pos_weight_obj,
                                            const std::string& reduction, bool grad) {
  const char* fn = "binary_cross_entropy_with_logits";
  py::array logits = as_array(logits_obj, fn, "logits");
  DType dt = float_dtype(logits, fn, "logits");
  check_contiguous(logits, fn, "logits");
  Reduction red = parse_reduction(reduction, fn);
  py::array target = as_array(target_obj, fn, "target");
  float_dtype(target, fn, "target");
  check_same_dtype(target, "target", logits, "logits", fn);
  std::vector<py::ssize_t> shape(logits.shape(), logits.shape() + logits.ndim());
  check_shape(target, shape, fn, "target");
  check_contiguous(target, fn, "target");
  const int64_t n = logits.size();
  const int64_t C = logits.ndim() == 0 ? 1 : logits.shape(logits.ndim() - 1);
  py::object weight = optional_operand(weight_obj, logits, fn, "weight");
  bool w_per_class = false;
  if (!weight.is_none()) {
    py::array w = py::reinterpret_borrow<py::array>(weight);
    bool same = w.ndim() == logits.ndim();
    for (py::ssize_t i = 0; same && i < w.ndim(); ++i) same = w.shape(i) == logits.shape(i);
    w_per_class = !same && w.ndim() == 1 && w.shape(0) == C;
    FASTNN_CHECK(same || w_per_class, fn, ": argument 'weight' must have the shape of 'logits' ",
                 shape_str(logits), " or (", C, ",) (one weight per last-dim entry), got ",
                 shape_str(w));
  }
  py::object pos_weight = optional_operand(pos_weight_obj, logits, fn, "pos_weight");
  if (!pos_weight.is_none())
    check_shape(py::reinterpret_borrow<py::array>(pos_weight), {C}, fn, "pos_weight");

  py::object per_item = py::none(), dlogits = py::none();
  if (red == Reduction::none) per_item = new_like(logits, shape);
  if (grad) dlogits = new_like(logits, shape);
  double total;
  {
    void* lp =
        per_item.is_none() ? nullptr : py::reinterpret_borrow<py::array>(per_item).mutable_data();
    void* gp =
        dlogits.is_none() ? nullptr : py::reinterpret_borrow<py::array>(dlogits).mutable_data();
    const void *xp = logits.data(), *tp = target.data();
    // ptr_or_null builds a py::array (a reference count): only while the GIL is held.
    const void* wp = ptr_or_null<void>(weight);
    const void* pwp = ptr_or_null<void>(pos_weight);
    py::gil_scoped_release release;
    if (dt == DType::f32)
      total = binary_cross_entropy_with_logits_forward_cpu(
          static_cast<float*>(lp), static_cast<float*>(gp), static_cast<const float*>(xp),
          static_cast<const float*>(tp), static_cast<const float*>(wp), w_per_class,
          static_cast<const float*>(pwp), n, C, red);
    else
      total = binary_cross_entropy_with_logits_forward_cpu(
          static_cast<double*>(lp), static_cast<double*>(gp), static_cast<const double*>(xp),
          static_cast<const double*>(tp), static_cast<const double*>(wp), w_per_class,
          static_cast<const double*>(pwp), n, C, red);
  }
  return result(logits, red, total, per_item, dlogits, grad);
}

}  // namespace

void register_losses(py::module_& m) {
  m.def("softmax_cross_entropy", &softmax_cross_entropy, py::arg("logits"), py::arg("target"),
        py::kw_only(), py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0,
        py::arg("ignore_index") = -100, py::arg("weight") = py::none(), py::arg("grad") = false,
        R"(softmax_cross_entropy(logits, target, *, reduction='mean', label_smoothing=0.0,
    ignore_index=-100, weight=None, grad=False)

Fused log-softmax + negative log-likelihood with torch.nn.functional.cross_entropy's semantics.
logits: (N, C) float32/float64. target: (N,) int32/int64 class indices (ignore_index rows count
for nothing) or (N, C) class probabilities of logits' dtype. weight: (C,) class weights or None.
'mean' divides by the summed weight of non-ignored rows (by N for probability targets).
Returns the loss (a 0-d array, or (N,) for reduction='none'); with grad=True returns
(loss, dlogits), dlogits (N, C) the gradient of the returned loss (of its sum for 'none'),
computed in the same pass. An out-of-range class index raises ValueError naming it.)");
  // The CPU backend's call for F.cross_entropy(logits, target) (mean, no weights, smoothing or
  // ignored class) with positional arguments only: any keyword sends pybind11 down its slow
  // argument matching, ~0.9 us of a small batch's ~2 us call.
  m.def(
      "softmax_cross_entropy_mean",
      [](py::handle logits, py::handle target, bool grad) {
        return softmax_cross_entropy(logits, target, "mean", 0.0, -100, py::none(), grad);
      },
      py::arg("logits"), py::arg("target"), py::arg("grad") = false,
      "softmax_cross_entropy(logits, target, grad=grad) with every other keyword at its default.");
  m.def("binary_cross_entropy_with_logits", &binary_cross_entropy_with_logits, py::arg("logits"),
        py::arg("target"), py::kw_only(), py::arg("weight") = py::none(),
        py::arg("pos_weight") = py::none(), py::arg("reduction") = "mean", py::arg("grad") = false,
        R"(binary_cross_entropy_with_logits(logits, target, *, weight=None, pos_weight=None,
    reduction='mean', grad=False)

torch.nn.functional.binary_cross_entropy_with_logits, stable for any logits:
loss = (1 - t) x - (1 + (pos_weight - 1) t) log sigmoid(x), times weight.
logits, target: same shape and float dtype. weight: logits' shape or (C,), C = last dim.
pos_weight: (C,), broadcast over the last dim. Returns the loss (0-d, or logits' shape for
'none'); with grad=True returns (loss, dlogits), the gradient of the returned loss (of its sum
for 'none').)");
}

}  // namespace fastnn::bind
