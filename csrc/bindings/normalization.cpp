// Bindings for fastnn.kernels.batch_norm / layer_norm / group_norm and their _backward: validate
// every argument (dtypes, shapes, contiguity, the running buffers written in place), then release
// the GIL and run the kernel. Forwards return (y, mean, rstd) with the statistics in float64;
// backwards return (dx, dweight, dbias), None where not asked for.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "bindings/common.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

template <class T>
const T* ptr_or_null(const py::object& a) {
  return a.is_none() ? nullptr : static_cast<const T*>(py::reinterpret_borrow<py::array>(a).data());
}

template <class T>
T* mut_or_null(const py::object& a) {
  return a.is_none() ? nullptr
                     : static_cast<T*>(py::reinterpret_borrow<py::array>(a).mutable_data());
}

// The kernels below read these arguments through the caller's object, so the aligned copy
// as_array makes of a misaligned array would go unused: such an argument is refused instead.
void check_aligned(const py::array& a, const py::object& obj, const char* fn, const char* name) {
  FASTNN_CHECK(a.ptr() == obj.ptr(), fn, ": argument '", name,
               "' has data that is not aligned to its item size; pass a copy");
}

py::array float_input(const py::object& obj, const char* fn, const char* name, DType& dt) {
  py::array a = as_array(obj, fn, name);
  dt = float_dtype(a, fn, name);
  check_contiguous(a, fn, name);
  return a;
}

// An optional per-channel (or per-element) array: None, or x's dtype, `shape`, C-contiguous.
void check_param(const py::object& obj, const py::array& x, const std::vector<py::ssize_t>& shape,
                 const char* fn, const char* name) {
  if (obj.is_none()) return;
  py::array a = as_array(obj, fn, name);
  check_same_dtype(x, "x", a, name, fn);
  check_shape(a, shape, fn, name);
  check_contiguous(a, fn, name);
  check_aligned(a, obj, fn, name);
}

// The saved statistics handed back to a backward: float64, `shape`, C-contiguous.
void check_stats(const py::object& obj, const std::vector<py::ssize_t>& shape, const char* fn,
                 const char* name) {
  py::array a = as_array(obj, fn, name);
  FASTNN_TYPE_CHECK(a.dtype().equal(py::dtype::of<double>()), fn, ": argument '", name,
                    "' must have dtype float64 (the statistics the forward returned), got ",
                    dtype_str(a));
  check_shape(a, shape, fn, name);
  check_contiguous(a, fn, name);
  check_aligned(a, obj, fn, name);
}

void check_grad(const py::object& obj, const py::array& x, const char* fn) {
  py::array g = as_array(obj, fn, "grad");
  check_same_dtype(x, "x", g, "grad", fn);
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  check_shape(g, shape, fn, "grad");
  check_contiguous(g, fn, "grad");
  check_aligned(g, obj, fn, "grad");
}

int64_t spatial(const py::array& x) {
  int64_t s = 1;
  for (py::ssize_t i = 2; i < x.ndim(); ++i) s *= x.shape(i);
  return s;
}

py::array new_like(const py::array& x) {
  return py::array(x.dtype(), std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
}

py::array new_f64(const std::vector<py::ssize_t>& shape) {
  return py::array(py::dtype::of<double>(), shape);
}

// (dx, dweight, dbias) arrays as asked for: dx like x, the others of `pshape`.
struct Grads {
  py::object dx = py::none(), dw = py::none(), db = py::none();
  Grads(const py::array& x, const std::vector<py::ssize_t>& pshape, bool nx, bool nw, bool nb) {
    if (nx) dx = new_like(x);
    if (nw) dw = py::array(x.dtype(), pshape);
    if (nb) db = py::array(x.dtype(), pshape);
  }
  py::tuple tuple() const { return py::make_tuple(dx, dw, db); }
};

// ---- batch_norm -------------------------------------------------------------------------------

int64_t check_bn_input(const py::array& x, const char* fn) {
  FASTNN_CHECK(x.ndim() >= 2, fn,
               ": argument 'x' must have at least 2 dimensions (N, C, ...), got ", "shape ",
               shape_str(x));
  return x.shape(1);
}

template <class T>
py::tuple run_batch_norm(const py::array& x, const py::object& w, const py::object& b,
                         const py::object& rm, const py::object& rv, bool training, double momentum,
                         double eps) {
  const int64_t N = x.shape(0), C = x.shape(1), S = spatial(x);
  py::array y = new_like(x), mean = new_f64({C}), rstd = new_f64({C});
  T* yp = static_cast<T*>(y.mutable_data());
  double* mp = static_cast<double*>(mean.mutable_data());
  double* rp = static_cast<double*>(rstd.mutable_data());
  const T *xp = static_cast<const T*>(x.data()), *wp = ptr_or_null<T>(w), *bp = ptr_or_null<T>(b);
  T *rmp = mut_or_null<T>(rm), *rvp = mut_or_null<T>(rv);
  {
    py::gil_scoped_release release;
    batch_norm_forward_cpu(yp, mp, rp, rmp, rvp, xp, wp, bp, N, C, S, eps, momentum, training);
  }
  return py::make_tuple(y, mean, rstd);
}

py::tuple batch_norm(const py::object& x_obj, const py::object& weight, const py::object& bias,
                     const py::object& running_mean, const py::object& running_var, bool training,
                     double momentum, double eps) {
  constexpr const char* fn = "batch_norm";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  const py::ssize_t C = check_bn_input(x, fn);
  check_param(weight, x, {C}, fn, "weight");
  check_param(bias, x, {C}, fn, "bias");
  check_param(running_mean, x, {C}, fn, "running_mean");
  check_param(running_var, x, {C}, fn, "running_var");
  FASTNN_CHECK(running_mean.is_none() == running_var.is_none(), fn,
               ": 'running_mean' and 'running_var' must both be arrays or both be None");
  FASTNN_CHECK(training || !running_mean.is_none(), fn,
               ": 'running_mean' and 'running_var' are needed when training=False");
  if (!running_mean.is_none()) {
    py::array rm = py::reinterpret_borrow<py::array>(running_mean);
    py::array rv = py::reinterpret_borrow<py::array>(running_var);
    if (training) {
      check_writeable(rm, fn, "running_mean");
      check_writeable(rv, fn, "running_var");
      check_no_overlap(rm, "running_mean", rv, "running_var", fn);
      check_no_overlap(rm, "running_mean", x, "x", fn);
      check_no_overlap(rv, "running_var", x, "x", fn);
    }
  }
  return dt == DType::f32 ? run_batch_norm<float>(x, weight, bias, running_mean, running_var,
                                                  training, momentum, eps)
                          : run_batch_norm<double>(x, weight, bias, running_mean, running_var,
                                                   training, momentum, eps);
}

template <class T>
py::tuple run_batch_norm_backward(const py::array& g, const py::array& x, const py::object& w,
                                  const py::array& mean, const py::array& rstd, bool training,
                                  bool nx, bool nw, bool nb) {
  const int64_t N = x.shape(0), C = x.shape(1), S = spatial(x);
  Grads out(x, {C}, nx, nw, nb);
  T *dx = mut_or_null<T>(out.dx), *dw = mut_or_null<T>(out.dw), *db = mut_or_null<T>(out.db);
  const T *gp = static_cast<const T*>(g.data()), *xp = static_cast<const T*>(x.data());
  const T* wp = ptr_or_null<T>(w);
  const double *mp = static_cast<const double*>(mean.data()),
               *rp = static_cast<const double*>(rstd.data());
  {
    py::gil_scoped_release release;
    batch_norm_backward_cpu(dx, dw, db, gp, xp, wp, mp, rp, N, C, S, training);
  }
  return out.tuple();
}

py::tuple batch_norm_backward(const py::object& grad, const py::object& x_obj,
                              const py::object& weight, const py::object& save_mean,
                              const py::object& save_rstd, bool training, bool need_input,
                              bool need_weight, bool need_bias) {
  constexpr const char* fn = "batch_norm_backward";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  const py::ssize_t C = check_bn_input(x, fn);
  check_grad(grad, x, fn);
  check_param(weight, x, {C}, fn, "weight");
  check_stats(save_mean, {C}, fn, "save_mean");
  check_stats(save_rstd, {C}, fn, "save_rstd");
  py::array g = py::reinterpret_borrow<py::array>(grad);
  py::array m = py::reinterpret_borrow<py::array>(save_mean);
  py::array r = py::reinterpret_borrow<py::array>(save_rstd);
  return dt == DType::f32 ? run_batch_norm_backward<float>(g, x, weight, m, r, training, need_input,
                                                           need_weight, need_bias)
                          : run_batch_norm_backward<double>(g, x, weight, m, r, training,
                                                            need_input, need_weight, need_bias);
}

// ---- layer_norm -------------------------------------------------------------------------------

// The normalized shape as sizes, checked against the trailing dimensions of x.
std::vector<py::ssize_t> trailing_shape(const py::array& x, const py::object& obj, const char* fn) {
  FASTNN_TYPE_CHECK(py::isinstance<py::tuple>(obj) || py::isinstance<py::list>(obj), fn,
                    ": argument 'normalized_shape' must be a tuple of ints, got ",
                    Py_TYPE(obj.ptr())->tp_name);
  std::vector<py::ssize_t> shape;
  for (const py::handle& v : py::reinterpret_borrow<py::sequence>(obj)) {
    FASTNN_TYPE_CHECK(py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v), fn,
                      ": argument 'normalized_shape' must hold ints, got ",
                      Py_TYPE(v.ptr())->tp_name);
    shape.push_back(v.cast<py::ssize_t>());
  }
  const py::ssize_t k = static_cast<py::ssize_t>(shape.size());
  bool ok = k >= 1 && k <= x.ndim();
  for (py::ssize_t i = 0; ok && i < k; ++i) ok = x.shape(x.ndim() - k + i) == shape[i];
  if (!ok) {
    std::string want = "(";
    for (py::ssize_t i = 0; i < k; ++i) want += (i ? ", " : "") + std::to_string(shape[i]);
    FASTNN_CHECK(false, fn, ": 'x' with shape ", shape_str(x),
                 " does not end with normalized_shape ", want, k == 1 ? ",)" : ")");
  }
  return shape;
}

std::vector<py::ssize_t> leading_shape(const py::array& x, size_t k) {
  return std::vector<py::ssize_t>(x.shape(), x.shape() + (x.ndim() - static_cast<py::ssize_t>(k)));
}

int64_t product(const std::vector<py::ssize_t>& v) {
  int64_t p = 1;
  for (py::ssize_t d : v) p *= d;
  return p;
}

template <class T>
py::tuple run_layer_norm(const py::array& x, const std::vector<py::ssize_t>& norm_shape,
                         const py::object& w, const py::object& b, double eps) {
  const std::vector<py::ssize_t> lead = leading_shape(x, norm_shape.size());
  const int64_t R = product(lead), D = product(norm_shape);
  py::array y = new_like(x), mean = new_f64(lead), rstd = new_f64(lead);
  T* yp = static_cast<T*>(y.mutable_data());
  double* mp = static_cast<double*>(mean.mutable_data());
  double* rp = static_cast<double*>(rstd.mutable_data());
  const T *xp = static_cast<const T*>(x.data()), *wp = ptr_or_null<T>(w), *bp = ptr_or_null<T>(b);
  {
    py::gil_scoped_release release;
    layer_norm_forward_cpu(yp, mp, rp, xp, wp, bp, R, D, eps);
  }
  return py::make_tuple(y, mean, rstd);
}

py::tuple layer_norm(const py::object& x_obj, const py::object& normalized_shape,
                     const py::object& weight, const py::object& bias, double eps) {
  constexpr const char* fn = "layer_norm";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  const std::vector<py::ssize_t> ns = trailing_shape(x, normalized_shape, fn);
  check_param(weight, x, ns, fn, "weight");
  check_param(bias, x, ns, fn, "bias");
  return dt == DType::f32 ? run_layer_norm<float>(x, ns, weight, bias, eps)
                          : run_layer_norm<double>(x, ns, weight, bias, eps);
}

template <class T>
py::tuple run_layer_norm_backward(const py::array& g, const py::array& x,
                                  const std::vector<py::ssize_t>& ns, const py::object& w,
                                  const py::array& mean, const py::array& rstd, bool nx, bool nw,
                                  bool nb) {
  const int64_t D = product(ns), R = product(leading_shape(x, ns.size()));
  Grads out(x, ns, nx, nw, nb);
  T *dx = mut_or_null<T>(out.dx), *dw = mut_or_null<T>(out.dw), *db = mut_or_null<T>(out.db);
  const T *gp = static_cast<const T*>(g.data()), *xp = static_cast<const T*>(x.data());
  const T* wp = ptr_or_null<T>(w);
  const double *mp = static_cast<const double*>(mean.data()),
               *rp = static_cast<const double*>(rstd.data());
  {
    py::gil_scoped_release release;
    layer_norm_backward_cpu(dx, dw, db, gp, xp, wp, mp, rp, R, D);
  }
  return out.tuple();
}

py::tuple layer_norm_backward(const py::object& grad, const py::object& x_obj,
                              const py::object& normalized_shape, const py::object& weight,
                              const py::object& mean, const py::object& rstd, bool need_input,
                              bool need_weight, bool need_bias) {
  constexpr const char* fn = "layer_norm_backward";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  const std::vector<py::ssize_t> ns = trailing_shape(x, normalized_shape, fn);
  check_grad(grad, x, fn);
  check_param(weight, x, ns, fn, "weight");
  const std::vector<py::ssize_t> lead = leading_shape(x, ns.size());
  check_stats(mean, lead, fn, "mean");
  check_stats(rstd, lead, fn, "rstd");
  py::array g = py::reinterpret_borrow<py::array>(grad);
  py::array m = py::reinterpret_borrow<py::array>(mean);
  py::array r = py::reinterpret_borrow<py::array>(rstd);
  return dt == DType::f32 ? run_layer_norm_backward<float>(g, x, ns, weight, m, r, need_input,
                                                           need_weight, need_bias)
                          : run_layer_norm_backward<double>(g, x, ns, weight, m, r, need_input,
                                                            need_weight, need_bias);
}

// ---- group_norm -------------------------------------------------------------------------------

int64_t check_groups(const py::array& x, int64_t G, const char* fn) {
  FASTNN_CHECK(x.ndim() >= 2, fn,
               ": argument 'x' must have at least 2 dimensions (N, C, ...), got ", "shape ",
               shape_str(x));
  FASTNN_CHECK(G >= 1 && x.shape(1) % G == 0, fn, ": num_groups = ", G,
               " must be positive and divide the ", x.shape(1), " channels of 'x' with shape ",
               shape_str(x));
  return x.shape(1);
}

template <class T>
py::tuple run_group_norm(const py::array& x, int64_t G, const py::object& w, const py::object& b,
                         double eps) {
  const int64_t N = x.shape(0), C = x.shape(1), S = spatial(x);
  py::array y = new_like(x), mean = new_f64({N, G}), rstd = new_f64({N, G});
  T* yp = static_cast<T*>(y.mutable_data());
  double* mp = static_cast<double*>(mean.mutable_data());
  double* rp = static_cast<double*>(rstd.mutable_data());
  const T *xp = static_cast<const T*>(x.data()), *wp = ptr_or_null<T>(w), *bp = ptr_or_null<T>(b);
  {
    py::gil_scoped_release release;
    group_norm_forward_cpu(yp, mp, rp, xp, wp, bp, N, C, S, G, eps);
  }
  return py::make_tuple(y, mean, rstd);
}

py::tuple group_norm(const py::object& x_obj, int64_t num_groups, const py::object& weight,
                     const py::object& bias, double eps) {
  constexpr const char* fn = "group_norm";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  const py::ssize_t C = check_groups(x, num_groups, fn);
  check_param(weight, x, {C}, fn, "weight");
  check_param(bias, x, {C}, fn, "bias");
  return dt == DType::f32 ? run_group_norm<float>(x, num_groups, weight, bias, eps)
                          : run_group_norm<double>(x, num_groups, weight, bias, eps);
}

template <class T>
py::tuple run_group_norm_backward(const py::array& g, const py::array& x, int64_t G,
                                  const py::object& w, const py::array& mean, const py::array& rstd,
                                  bool nx, bool nw, bool nb) {
  const int64_t N = x.shape(0), C = x.shape(1), S = spatial(x);
  Grads out(x, {C}, nx, nw, nb);
  T *dx = mut_or_null<T>(out.dx), *dw = mut_or_null<T>(out.dw), *db = mut_or_null<T>(out.db);
  const T *gp = static_cast<const T*>(g.data()), *xp = static_cast<const T*>(x.data());
  const T* wp = ptr_or_null<T>(w);
  const double *mp = static_cast<const double*>(mean.data()),
               *rp = static_cast<const double*>(rstd.data());
  {
    py::gil_scoped_release release;
    group_norm_backward_cpu(dx, dw, db, gp, xp, wp, mp, rp, N, C, S, G);
  }
  return out.tuple();
}

py::tuple group_norm_backward(const py::object& grad, const py::object& x_obj, int64_t num_groups,
                              const py::object& weight, const py::object& mean,
                              const py::object& rstd, bool need_input, bool need_weight,
                              bool need_bias) {
  constexpr const char* fn = "group_norm_backward";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  const py::ssize_t C = check_groups(x, num_groups, fn);
  check_grad(grad, x, fn);
  check_param(weight, x, {C}, fn, "weight");
  check_stats(mean, {x.shape(0), num_groups}, fn, "mean");
  check_stats(rstd, {x.shape(0), num_groups}, fn, "rstd");
  py::array g = py::reinterpret_borrow<py::array>(grad);
  py::array m = py::reinterpret_borrow<py::array>(mean);
  py::array r = py::reinterpret_borrow<py::array>(rstd);
  return dt == DType::f32 ? run_group_norm_backward<float>(g, x, num_groups, weight, m, r,
                                                           need_input, need_weight, need_bias)
                          : run_group_norm_backward<double>(g, x, num_groups, weight, m, r,
                                                            need_input, need_weight, need_bias);
}

}  // namespace

void register_normalization(py::module_& m) {
  m.def("batch_norm", &batch_norm, py::arg("x"), py::arg("weight") = py::none(),
        py::arg("bias") = py::none(), py::arg("running_mean") = py::none(),
        py::arg("running_var") = py::none(), py::kw_only(), py::arg("training") = true,
        py::arg("momentum") = 0.1, py::arg("eps") = 1e-5,
        R"doc(Batch normalisation of x (N, C, *) per channel: returns (y, save_mean, save_rstd), the
statistics float64 (C,). training=True uses the batch mean and biased variance and, when
running_mean / running_var (C,) are given, moves them in place by momentum towards the batch mean
and unbiased variance; training=False normalises with the running buffers. weight, bias (C,) or
None; all arrays of x's dtype (float32 or float64), C-contiguous.)doc");
  m.def("batch_norm_backward", &batch_norm_backward, py::arg("grad"), py::arg("x"),
        py::arg("weight"), py::arg("save_mean"), py::arg("save_rstd"), py::kw_only(),
        py::arg("training") = true, py::arg("need_input") = true, py::arg("need_weight") = true,
        py::arg("need_bias") = true,
        R"doc(Gradients of batch_norm from grad (N, C, *) and the statistics batch_norm returned:
(dx, dweight, dbias), each None when not asked for. weight None means 1.)doc");
  m.def("layer_norm", &layer_norm, py::arg("x"), py::arg("normalized_shape"),
        py::arg("weight") = py::none(), py::arg("bias") = py::none(), py::arg("eps") = 1e-5,
        R"doc(Layer normalisation over the trailing dimensions normalized_shape of x: returns
(y, mean, rstd), the statistics float64 of shape x.shape[:-len(normalized_shape)]. weight, bias of
normalized_shape or None.)doc");
  m.def("layer_norm_backward", &layer_norm_backward, py::arg("grad"), py::arg("x"),
        py::arg("normalized_shape"), py::arg("weight"), py::arg("mean"), py::arg("rstd"),
        py::kw_only(), py::arg("need_input") = true, py::arg("need_weight") = true,
        py::arg("need_bias") = true,
        R"doc(Gradients of layer_norm: (dx, dweight, dbias), each None when not asked for; the
result does not depend on the thread count.)doc");
  m.def("group_norm", &group_norm, py::arg("x"), py::arg("num_groups"),
        py::arg("weight") = py::none(), py::arg("bias") = py::none(), py::arg("eps") = 1e-5,
        R"doc(Group normalisation of x (N, C, *) over num_groups groups of C / num_groups channels:
returns (y, mean, rstd), the statistics float64 (N, num_groups). weight, bias (C,) or None.)doc");
  m.def("group_norm_backward", &group_norm_backward, py::arg("grad"), py::arg("x"),
        py::arg("num_groups"), py::arg("weight"), py::arg("mean"), py::arg("rstd"), py::kw_only(),
        py::arg("need_input") = true, py::arg("need_weight") = true, py::arg("need_bias") = true,
        R"doc(Gradients of group_norm: (dx, dweight, dbias), each None when not asked for.)doc");
}

}  // namespace fastnn::bind
