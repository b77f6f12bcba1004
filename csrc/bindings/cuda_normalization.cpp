// pybind11 glue for the CUDA versions of fastnn.kernels.batch_norm / layer_norm / group_norm and
// their _backward, on DeviceArrays, with the names, arguments and semantics of the CPU bindings
// (csrc/bindings/normalization.cpp). Validate everything first, then launch.
#include <string>
#include <vector>

#include "bindings/cuda_array.h"

namespace fastnn::cuda::bind {
namespace {

using Shape = std::vector<int64_t>;

DeviceArray& float_input(const py::handle& obj, const char* fn, const char* name) {
  DeviceArray& a = as_device_array(obj, fn, name);
  check_float(a, fn, name);
  return a;
}

// An optional parameter: None, or x's dtype and device and `shape`.
DeviceArray* param(const py::object& obj, const DeviceArray& x, const Shape& shape, const char* fn,
                   const char* name) {
  if (obj.is_none()) return nullptr;
  DeviceArray& a = as_device_array(obj, fn, name);
  check_same_dtype(x, "x", a, name, fn);
  check_same_device(x, "x", a, name, fn);
  check_shape(a, shape, fn, name);
  return &a;
}

// Saved statistics: float64, `shape`, on x's device.
DeviceArray& stats(const py::object& obj, const DeviceArray& x, const Shape& shape, const char* fn,
                   const char* name) {
  DeviceArray& a = as_device_array(obj, fn, name);
  check_dtype(a, DType::f64, fn, name);
  check_same_device(x, "x", a, name, fn);
  check_shape(a, shape, fn, name);
  return a;
}

void check_grad(const py::object& obj, const DeviceArray& x, const char* fn) {
  DeviceArray& g = as_device_array(obj, fn, "grad");
  check_same_dtype(x, "x", g, "grad", fn);
  check_same_device(x, "x", g, "grad", fn);
  check_shape(g, x.shape, fn, "grad");
}

void* ptr(DeviceArray* a) { return a ? a->data() : nullptr; }

int64_t channels_of(const DeviceArray& x, const char* fn) {
  FASTNN_CHECK(x.ndim() >= 2, fn, ": argument 'x' must have at least 2 dimensions (N, C, ...), ",
               "got shape ", shape_str(x.shape));
  return x.shape[1];
}

int64_t spatial(const DeviceArray& x) {
  int64_t s = 1;
  for (int i = 2; i < x.ndim(); ++i) s *= x.shape[i];
  return s;
}

// (dx, dweight, dbias), None where not asked for.
struct Grads {
  DeviceArray dx, dw, db;
  bool nx, nw, nb;
  Grads(const DeviceArray& x, const Shape& pshape, bool nx_, bool nw_, bool nb_)
      : nx(nx_), nw(nw_), nb(nb_) {
    if (nx) dx = empty(x.shape, x.dtype, x.device());
    if (nw) dw = empty(pshape, x.dtype, x.device());
    if (nb) db = empty(pshape, x.dtype, x.device());
  }
  void* pdx() { return nx ? dx.data() : nullptr; }
  void* pdw() { return nw ? dw.data() : nullptr; }
  void* pdb() { return nb ? db.data() : nullptr; }
  py::tuple tuple() {
    auto one = [](bool on, DeviceArray& a) -> py::object {
      return on ? py::cast(std::move(a)) : py::none();
    };
    return py::make_tuple(one(nx, dx), one(nw, dw), one(nb, db));
  }
};

py::tuple batch_norm(const py::object& x_obj, const py::object& weight, const py::object& bias,
                     const py::object& running_mean, const py::object& running_var, bool training,
                     double momentum, double eps) {
  const char* fn = "batch_norm";
  DeviceArray& x = float_input(x_obj, fn, "x");
  const int64_t C = channels_of(x, fn);
  DeviceArray* w = param(weight, x, {C}, fn, "weight");
  DeviceArray* b = param(bias, x, {C}, fn, "bias");
  DeviceArray* rm = param(running_mean, x, {C}, fn, "running_mean");
  DeviceArray* rv = param(running_var, x, {C}, fn, "running_var");
  FASTNN_CHECK((rm == nullptr) == (rv == nullptr), fn,
               ": 'running_mean' and 'running_var' must both be arrays or both be None");
  FASTNN_CHECK(training || rm, fn,
               ": 'running_mean' and 'running_var' are needed when training=False");
  if (rm && training) {
    check_writeable(*rm, fn, "running_mean");
    check_writeable(*rv, fn, "running_var");
    check_no_overlap(*rm, "running_mean", *rv, "running_var", fn);
    check_no_overlap(*rm, "running_mean", x, "x", fn);
    check_no_overlap(*rv, "running_var", x, "x", fn);
  }
  DeviceGuard guard(x.device());
  DeviceArray y = empty(x.shape, x.dtype, x.device());
  DeviceArray mean = empty({C}, DType::f64, x.device()), rstd = empty({C}, DType::f64, x.device());
  batch_norm_forward_cuda(x.dtype, y.data(), static_cast<double*>(mean.data()),
                          static_cast<double*>(rstd.data()), ptr(rm), ptr(rv), x.data(), ptr(w),
                          ptr(b), x.shape[0], C, spatial(x), eps, momentum, training);
  return py::make_tuple(std::move(y), std::move(mean), std::move(rstd));
}

py::tuple batch_norm_backward(const py::object& grad, const py::object& x_obj,
                              const py::object& weight, const py::object& save_mean,
                              const py::object& save_rstd, bool training, bool need_input,
                              bool need_weight, bool need_bias) {
  const char* fn = "batch_norm_backward";
  DeviceArray& x = float_input(x_obj, fn, "x");
  const int64_t C = channels_of(x, fn);
  check_grad(grad, x, fn);
  DeviceArray& g = as_device_array(grad, fn, "grad");
  DeviceArray* w = param(weight, x, {C}, fn, "weight");
  DeviceArray& m = stats(save_mean, x, {C}, fn, "save_mean");
  DeviceArray& r = stats(save_rstd, x, {C}, fn, "save_rstd");
  DeviceGuard guard(x.device());
  Grads out(x, {C}, need_input, need_weight, need_bias);
  batch_norm_backward_cuda(x.dtype, out.pdx(), out.pdw(), out.pdb(), g.data(), x.data(), ptr(w),
                           static_cast<const double*>(m.data()),
                           static_cast<const double*>(r.data()), x.shape[0], C, spatial(x),
                           training);
  return out.tuple();
}

// normalized_shape as sizes, checked against the trailing dimensions of x.
Shape trailing_shape(const DeviceArray& x, const py::object& obj, const char* fn) {
  FASTNN_TYPE_CHECK(py::isinstance<py::tuple>(obj) || py::isinstance<py::list>(obj), fn,
                    ": argument 'normalized_shape' must be a tuple of ints, got ", type_name(obj));
  Shape shape;
  for (const py::handle& v : py::reinterpret_borrow<py::sequence>(obj)) {
    FASTNN_TYPE_CHECK(py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v), fn,
                      ": argument 'normalized_shape' must hold ints, got ", type_name(v));
    shape.push_back(v.cast<int64_t>());
  }
  const int k = static_cast<int>(shape.size());
  bool ok = k >= 1 && k <= x.ndim();
  for (int i = 0; ok && i < k; ++i) ok = x.shape[x.ndim() - k + i] == shape[i];
  FASTNN_CHECK(ok, fn, ": 'x' with shape ", shape_str(x.shape),
               " does not end with normalized_shape ", shape_str(shape));
  return shape;
}

Shape leading(const DeviceArray& x, size_t k) {
  return Shape(x.shape.begin(), x.shape.end() - static_cast<std::ptrdiff_t>(k));
}

int64_t product(const Shape& v) {
  int64_t p = 1;
  for (int64_t d : v) p *= d;
  return p;
}

py::tuple layer_norm(const py::object& x_obj, const py::object& normalized_shape,
                     const py::object& weight, const py::object& bias, double eps) {
  const char* fn = "layer_norm";
  DeviceArray& x = float_input(x_obj, fn, "x");
  const Shape ns = trailing_shape(x, normalized_shape, fn);
  DeviceArray* w = param(weight, x, ns, fn, "weight");
  DeviceArray* b = param(bias, x, ns, fn, "bias");
  const Shape lead = leading(x, ns.size());
  DeviceGuard guard(x.device());
  DeviceArray y = empty(x.shape, x.dtype, x.device());
  DeviceArray mean = empty(lead, DType::f64, x.device()),
              rstd = empty(lead, DType::f64, x.device());
  layer_norm_forward_cuda(x.dtype, y.data(), static_cast<double*>(mean.data()),
                          static_cast<double*>(rstd.data()), x.data(), ptr(w), ptr(b),
                          product(lead), product(ns), eps);
  return py::make_tuple(std::move(y), std::move(mean), std::move(rstd));
}

py::tuple layer_norm_backward(const py::object& grad, const py::object& x_obj,
                              const py::object& normalized_shape, const py::object& weight,
                              const py::object& mean_obj, const py::object& rstd_obj,
                              bool need_input, bool need_weight, bool need_bias) {
  const char* fn = "layer_norm_backward";
  DeviceArray& x = float_input(x_obj, fn, "x");
  const Shape ns = trailing_shape(x, normalized_shape, fn);
  check_grad(grad, x, fn);
  DeviceArray& g = as_device_array(grad, fn, "grad");
  DeviceArray* w = param(weight, x, ns, fn, "weight");
  const Shape lead = leading(x, ns.size());
  DeviceArray& m = stats(mean_obj, x, lead, fn, "mean");
  DeviceArray& r = stats(rstd_obj, x, lead, fn, "rstd");
  DeviceGuard guard(x.device());
  Grads out(x, ns, need_input, need_weight, need_bias);
  layer_norm_backward_cuda(x.dtype, out.pdx(), out.pdw(), out.pdb(), g.data(), x.data(), ptr(w),
                           static_cast<const double*>(m.data()),
                           static_cast<const double*>(r.data()), product(lead), product(ns));
  return out.tuple();
}

int64_t check_groups(const DeviceArray& x, int64_t G, const char* fn) {
  const int64_t C = channels_of(x, fn);
  FASTNN_CHECK(G >= 1 && C % G == 0, fn, ": num_groups = ", G, " must be positive and divide the ",
               C, " channels of 'x' with shape ", shape_str(x.shape));
  return C;
}

py::tuple group_norm(const py::object& x_obj, int64_t num_groups, const py::object& weight,
                     const py::object& bias, double eps) {
  const char* fn = "group_norm";
  DeviceArray& x = float_input(x_obj, fn, "x");
  const int64_t C = check_groups(x, num_groups, fn);
  DeviceArray* w = param(weight, x, {C}, fn, "weight");
  DeviceArray* b = param(bias, x, {C}, fn, "bias");
  const int64_t N = x.shape[0];
  DeviceGuard guard(x.device());
  DeviceArray y = empty(x.shape, x.dtype, x.device());
  DeviceArray mean = empty({N, num_groups}, DType::f64, x.device());
  DeviceArray rstd = empty({N, num_groups}, DType::f64, x.device());
  group_norm_forward_cuda(x.dtype, y.data(), static_cast<double*>(mean.data()),
                          static_cast<double*>(rstd.data()), x.data(), ptr(w), ptr(b), N, C,
                          spatial(x), num_groups, eps);
  return py::make_tuple(std::move(y), std::move(mean), std::move(rstd));
}

py::tuple group_norm_backward(const py::object& grad, const py::object& x_obj, int64_t num_groups,
                              const py::object& weight, const py::object& mean_obj,
                              const py::object& rstd_obj, bool need_input, bool need_weight,
                              bool need_bias) {
  const char* fn = "group_norm_backward";
  DeviceArray& x = float_input(x_obj, fn, "x");
  const int64_t C = check_groups(x, num_groups, fn);
  check_grad(grad, x, fn);
  DeviceArray& g = as_device_array(grad, fn, "grad");
  DeviceArray* w = param(weight, x, {C}, fn, "weight");
  const int64_t N = x.shape[0];
  DeviceArray& m = stats(mean_obj, x, {N, num_groups}, fn, "mean");
  DeviceArray& r = stats(rstd_obj, x, {N, num_groups}, fn, "rstd");
  DeviceGuard guard(x.device());
  Grads out(x, {C}, need_input, need_weight, need_bias);
  group_norm_backward_cuda(x.dtype, out.pdx(), out.pdw(), out.pdb(), g.data(), x.data(), ptr(w),
                           static_cast<const double*>(m.data()),
                           static_cast<const double*>(r.data()), N, C, spatial(x), num_groups);
  return out.tuple();
}

}  // namespace

void register_normalization(py::module_& m) {
  m.def("batch_norm", &batch_norm, py::arg("x"), py::arg("weight") = py::none(),
        py::arg("bias") = py::none(), py::arg("running_mean") = py::none(),
        py::arg("running_var") = py::none(), py::kw_only(), py::arg("training") = true,
        py::arg("momentum") = 0.1, py::arg("eps") = 1e-5,
        "CUDA fastnn.kernels.batch_norm (same semantics): (y, save_mean, save_rstd).");
  m.def("batch_norm_backward", &batch_norm_backward, py::arg("grad"), py::arg("x"),
        py::arg("weight"), py::arg("save_mean"), py::arg("save_rstd"), py::kw_only(),
        py::arg("training") = true, py::arg("need_input") = true, py::arg("need_weight") = true,
        py::arg("need_bias") = true,
        "CUDA fastnn.kernels.batch_norm_backward (same semantics): (dx, dweight, dbias).");
  m.def("layer_norm", &layer_norm, py::arg("x"), py::arg("normalized_shape"),
        py::arg("weight") = py::none(), py::arg("bias") = py::none(), py::arg("eps") = 1e-5,
        "CUDA fastnn.kernels.layer_norm (same semantics): (y, mean, rstd).");
  m.def("layer_norm_backward", &layer_norm_backward, py::arg("grad"), py::arg("x"),
        py::arg("normalized_shape"), py::arg("weight"), py::arg("mean"), py::arg("rstd"),
        py::kw_only(), py::arg("need_input") = true, py::arg("need_weight") = true,
        py::arg("need_bias") = true,
        "CUDA fastnn.kernels.layer_norm_backward (same semantics): (dx, dweight, dbias).");
  m.def("group_norm", &group_norm, py::arg("x"), py::arg("num_groups"),
        py::arg("weight") = py::none(), py::arg("bias") = py::none(), py::arg("eps") = 1e-5,
        "CUDA fastnn.kernels.group_norm (same semantics): (y, mean, rstd).");
  m.def("group_norm_backward", &group_norm_backward, py::arg("grad"), py::arg("x"),
        py::arg("num_groups"), py::arg("weight"), py::arg("mean"), py::arg("rstd"), py::kw_only(),
        py::arg("need_input") = true, py::arg("need_weight") = true, py::arg("need_bias") = true,
        "CUDA fastnn.kernels.group_norm_backward (same semantics): (dx, dweight, dbias).");
}

}  // namespace fastnn::cuda::bind
