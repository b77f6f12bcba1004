// What the CPU module (fastnn._C) and the CUDA module (fastnn._cuda) share, written once:
// the modes of the kernels (Reduction, GeluApprox, AdamMode), the optimizer options, the
// step-dependent scalars derived from them once per call on the host in double (bias corrections,
// Adagrad's decayed learning rate), and the argument checks whose wording both modules use.
// Plain host C++: no pybind11, no CUDA headers. Included by the kernel drivers (csrc/cpu/*.cpp,
// csrc/cuda/*.cu) and the bindings; never by the *_avx512.cpp / *_avx2.cpp units, which only need
// the per-element formulas of optim_math.h.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "optim_math.h"

namespace fastnn {

// ---- modes -------------------------------------------------------------------------------------

// How a loss reduces its per-item values: none keeps them, mean and sum return one number.
enum class Reduction { none, mean, sum };

inline Reduction parse_reduction(const std::string& s, const char* fn) {
  if (s == "mean") return Reduction::mean;
  if (s == "sum") return Reduction::sum;
  if (s == "none") return Reduction::none;
  FASTNN_CHECK(false, fn, ": argument 'reduction' must be 'mean', 'sum' or 'none', got '", s, "'");
  return Reduction::mean;
}

// GELU: the exact erf form (approximate='none') or the tanh approximation.
enum class GeluApprox { none, tanh };

inline GeluApprox parse_gelu_approx(const std::string& s, const char* fn) {
  if (s == "none") return GeluApprox::none;
  if (s == "tanh") return GeluApprox::tanh;
  FASTNN_CHECK(false, fn, ": argument 'approximate' must be 'none' or 'tanh', got '", s, "'");
  return GeluApprox::none;
}

// How weight decay enters Adam: added to the gradient (torch.optim.Adam) or decoupled
// (torch.optim.AdamW: p *= 1 - lr * weight_decay before the update).
enum class AdamMode { l2, decoupled };

// ---- optimizer options (torch.optim hyperparameters, as the Python caller gives them) ----------

struct SgdOptions {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  // Momentum buffers are initialised to the (decayed) gradient instead of read, as torch does on
  // a parameter's first step.
  bool first_step = false;
};
struct AdagradOptions {
  double lr = 0, lr_decay = 0, weight_decay = 0, eps = 1e-10;
  int64_t step = 1;  // the step being taken (>= 1), after the increment
  bool maximize = false;
};
struct RmspropOptions {
  double lr = 0, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
struct AdamOptions {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  AdamMode mode = AdamMode::l2;
  bool amsgrad = false, maximize = false;
  int64_t step = 1;  // the step being taken (>= 1), after the increment
};
struct AdadeltaOptions {
  double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0;
  bool maximize = false;
};
struct AdamaxOptions {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  int64_t step = 1;
  bool maximize = false;
};
// NAdam's momentum schedule: mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)). The running
// product mu_1 * ... * mu_t is state the caller keeps (torch rounds it to its scalar dtype after
// every step), so it arrives here already including this step's mu.
struct NadamOptions {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  double momentum_decay = 4e-3, mu_product = 1.0;
  AdamMode mode = AdamMode::l2;
  int64_t step = 1;
  bool maximize = false;
};
struct RadamOptions {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  AdamMode mode = AdamMode::l2;
  int64_t step = 1;
  bool maximize = false;
};

// ---- per-call scalars, computed on the host in double and then rounded to T -------------------
// torch computes these as Python floats (double) once per step; doing the same keeps float32
// results identical to torch's, and identical between the CPU and the CUDA module.

template <class T>
SgdScalars<T> sgd_scalars(const SgdOptions& o) {
  return SgdScalars<T>{T(o.lr), T(o.momentum), T(1.0 - o.dampening), T(o.weight_decay)};
}

template <class T>
AdagradScalars<T> adagrad_scalars(const AdagradOptions& o) {
  const double clr = o.lr / (1.0 + static_cast<double>(o.step - 1) * o.lr_decay);
  return AdagradScalars<T>{T(clr), T(o.weight_decay), T(o.eps)};
}

template <class T>
RmspropScalars<T> rmsprop_scalars(const RmspropOptions& o) {
  return RmspropScalars<T>{T(o.lr),  T(o.alpha),        T(1.0 - o.alpha),
                           T(o.eps), T(o.weight_decay), T(o.momentum)};
}

template <class T>
AdamScalars<T> adam_scalars(const AdamOptions& o) {
  const double step = static_cast<double>(o.step);
  const double bias_correction1 = 1.0 - std::pow(o.beta1, step);
  const double bias_correction2 = 1.0 - std::pow(o.beta2, step);
  const bool decoupled = o.mode == AdamMode::decoupled;
  AdamScalars<T> s;
  s.lr_wd_keep = T(decoupled ? 1.0 - o.lr * o.weight_decay : 1.0);
  s.weight_decay = T(decoupled ? 0.0 : o.weight_decay);
  s.beta1_weight = T(1.0 - o.beta1);
  s.beta2 = T(o.beta2);
  s.one_minus_beta2 = T(1.0 - o.beta2);
  s.step_size = T(o.lr / bias_correction1);
  s.bias_correction2_sqrt = T(std::sqrt(bias_correction2));
  s.eps = T(o.eps);
  return s;
}

template <class T>
AdadeltaScalars<T> adadelta_scalars(const AdadeltaOptions& o) {
  return AdadeltaScalars<T>{T(o.lr), T(o.rho), T(1.0 - o.rho), T(o.eps), T(o.weight_decay)};
}

template <class T>
AdamaxScalars<T> adamax_scalars(const AdamaxOptions& o) {
  const double bias_correction1 = 1.0 - std::pow(o.beta1, static_cast<double>(o.step));
  return AdamaxScalars<T>{T(o.weight_decay), T(1.0 - o.beta1), T(o.beta2), T(o.eps),
                          T(o.lr / bias_correction1)};
}

inline double nadam_mu(double beta1, double momentum_decay, double step) {
  return beta1 * (1.0 - 0.5 * std::pow(0.96, step * momentum_decay));
}

template <class T>
NadamScalars<T> nadam_scalars(const NadamOptions& o) {
  const double step = static_cast<double>(o.step);
  const bool decoupled = o.mode == AdamMode::decoupled;
  const double mu = nadam_mu(o.beta1, o.momentum_decay, step);
  const double mu_next = nadam_mu(o.beta1, o.momentum_decay, step + 1.0);
  NadamScalars<T> s;
  s.lr_wd_keep = T(decoupled ? 1.0 - o.lr * o.weight_decay : 1.0);
  s.weight_decay = T(decoupled ? 0.0 : o.weight_decay);
  s.beta1_weight = T(1.0 - o.beta1);
  s.beta2 = T(o.beta2);
  s.one_minus_beta2 = T(1.0 - o.beta2);
  s.bias_correction2 = T(1.0 - std::pow(o.beta2, step));
  s.eps = T(o.eps);
  s.grad_coef = T(-o.lr * (1.0 - mu) / (1.0 - o.mu_product));
  s.avg_coef = T(-o.lr * mu_next / (1.0 - o.mu_product * mu_next));
  return s;
}

// RAdam rectifies the step once the approximated simple moving average is long enough.
struct RadamRectification {
  bool rectified;
  double rect;
};
inline RadamRectification radam_rectification(double beta2, double step) {
  const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
  const double beta2_t = std::pow(beta2, step);
  const double rho_t = rho_inf - 2.0 * step * beta2_t / (1.0 - beta2_t);
  if (!(rho_t > 5.0)) return {false, 0.0};
  return {true, std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                          ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))};
}

template <class T>
RadamScalars<T> radam_scalars(const RadamOptions& o) {
  const double step = static_cast<double>(o.step);
  const bool decoupled = o.mode == AdamMode::decoupled;
  RadamScalars<T> s;
  s.lr_wd_keep = T(decoupled ? 1.0 - o.lr * o.weight_decay : 1.0);
  s.weight_decay = T(decoupled ? 0.0 : o.weight_decay);
  s.beta1_weight = T(1.0 - o.beta1);
  s.beta2 = T(o.beta2);
  s.one_minus_beta2 = T(1.0 - o.beta2);
  s.bias_correction1 = T(1.0 - std::pow(o.beta1, step));
  s.lr = T(o.lr);
  s.bias_correction2_sqrt = T(std::sqrt(1.0 - std::pow(o.beta2, step)));
  s.eps = T(o.eps);
  s.rect = T(radam_rectification(o.beta2, step).rect);
  return s;
}

// ---- leaky_relu's slope -------------------------------------------------------------------------

// leaky_relu's negative_slope is applied in the array's dtype. Like torch, NaN is refused, and so
// is a finite slope that float32 cannot hold (it would silently become an infinity).
inline void check_negative_slope(double s, bool float32, const char* fn) {
  FASTNN_CHECK(s == s, fn, ": argument 'negative_slope' must be a number, got nan");
  FASTNN_CHECK(!float32 || !std::isfinite(s) || std::fabs(s) <= std::numeric_limits<float>::max(),
               fn, ": argument 'negative_slope' = ", s,
               " overflows float32, the dtype of the input");
}

// ---- the softmax family's axis ----------------------------------------------------------------

// An array seen as (outer, n, inner) around its axis `dim`: n is that axis's size, outer and
// inner the products of the sizes before and after it. words() is the shape as the errors print
// it (built only for an error); an axis out of range is an IndexError (std::out_of_range), as
// in torch.
struct AlongDim {
  int64_t outer = 1, n = 1, inner = 1;
};

template <class Shape, class Words>
AlongDim along_dim(const Shape& shape, int64_t nd, int64_t dim, const char* fn, const char* name,
                   Words words) {
  FASTNN_CHECK(nd >= 1, fn, ": argument '", name, "' must have at least 1 dimension, got shape ",
               words());
  if (dim < -nd || dim >= nd)
    throw std::out_of_range(str_cat(fn, ": dim ", dim, " is out of range for '", name,
                                    "' of shape ", words(), " (expected -", nd, " <= dim < ", nd,
                                    ")"));
  const int64_t d = dim < 0 ? dim + nd : dim;
  AlongDim s;
  for (int64_t i = 0; i < nd; ++i) (i < d ? s.outer : i == d ? s.n : s.inner) *= shape[i];
  return s;
}

// ---- hyperparameter checks (torch's conditions and wording; NaN fails every one) ---------------
// `fmt` prints a number the way Python's repr does; the bindings pass it, since only they may
// call into Python. Nothing is formatted unless a check fails.

using FormatNumber = std::string (*)(double);

namespace detail {
inline void check_hyper(const char* fn, bool ok, const char* what, double value, FormatNumber fmt) {
  FASTNN_CHECK(ok, fn, ": Invalid ", what, ": ", fmt(value));
}
inline void check_step(const char* fn, int64_t step) {
  FASTNN_CHECK(step >= 1, fn, ": Invalid step: ", step, " (the step being taken, counted from 1)");
}
}  // namespace detail

inline void validate(const SgdOptions& o, const char* fn, FormatNumber fmt) {
  detail::check_hyper(fn, o.lr >= 0.0, "learning rate", o.lr, fmt);
  detail::check_hyper(fn, o.momentum >= 0.0, "momentum value", o.momentum, fmt);
  detail::check_hyper(fn, std::isfinite(o.dampening), "dampening value", o.dampening, fmt);
  detail::check_hyper(fn, o.weight_decay >= 0.0, "weight_decay value", o.weight_decay, fmt);
  FASTNN_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), fn,
               ": Nesterov momentum requires a momentum and zero dampening");
}

inline void validate(const AdagradOptions& o, const char* fn, FormatNumber fmt) {
  detail::check_hyper(fn, o.lr >= 0.0, "learning rate", o.lr, fmt);
  detail::check_hyper(fn, o.lr_decay >= 0.0, "lr_decay value", o.lr_decay, fmt);
  detail::check_hyper(fn, o.weight_decay >= 0.0, "weight_decay value", o.weight_decay, fmt);
  detail::check_hyper(fn, o.eps >= 0.0, "epsilon value", o.eps, fmt);
  detail::check_step(fn, o.step);
}

inline void validate(const RmspropOptions& o, const char* fn, FormatNumber fmt) {
  detail::check_hyper(fn, o.lr >= 0.0, "learning rate", o.lr, fmt);
  detail::check_hyper(fn, o.eps >= 0.0, "epsilon value", o.eps, fmt);
  detail::check_hyper(fn, o.momentum >= 0.0, "momentum value", o.momentum, fmt);
  detail::check_hyper(fn, o.weight_decay >= 0.0, "weight_decay value", o.weight_decay, fmt);
  detail::check_hyper(fn, o.alpha >= 0.0, "alpha value", o.alpha, fmt);
}

inline void validate(const AdamOptions& o, const char* fn, FormatNumber fmt) {
  detail::check_hyper(fn, o.lr >= 0.0, "learning rate", o.lr, fmt);
  detail::check_hyper(fn, o.eps >= 0.0, "epsilon value", o.eps, fmt);
  detail::check_hyper(fn, o.beta1 >= 0.0 && o.beta1 < 1.0, "beta parameter at index 0", o.beta1,
                      fmt);
  detail::check_hyper(fn, o.beta2 >= 0.0 && o.beta2 < 1.0, "beta parameter at index 1", o.beta2,
                      fmt);
  detail::check_hyper(fn, o.weight_decay >= 0.0, "weight_decay value", o.weight_decay, fmt);
  detail::check_step(fn, o.step);
}

inline void validate(const AdadeltaOptions& o, const char* fn, FormatNumber fmt) {
  detail::check_hyper(fn, o.lr >= 0.0, "learning rate", o.lr, fmt);
  detail::check_hyper(fn, o.rho >= 0.0 && o.rho <= 1.0, "rho value", o.rho, fmt);
  detail::check_hyper(fn, o.eps >= 0.0, "epsilon value", o.eps, fmt);
  detail::check_hyper(fn, o.weight_decay >= 0.0, "weight_decay value", o.weight_decay, fmt);
}

namespace detail {
inline void check_adam_family(const char* fn, double lr, double eps, double beta1, double beta2,
                              double weight_decay, int64_t step, FormatNumber fmt) {
  check_hyper(fn, lr >= 0.0, "learning rate", lr, fmt);
  check_hyper(fn, eps >= 0.0, "epsilon value", eps, fmt);
  check_hyper(fn, beta1 >= 0.0 && beta1 < 1.0, "beta parameter at index 0", beta1, fmt);
  check_hyper(fn, beta2 >= 0.0 && beta2 < 1.0, "beta parameter at index 1", beta2, fmt);
  check_hyper(fn, weight_decay >= 0.0, "weight_decay value", weight_decay, fmt);
  check_step(fn, step);
}
}  // namespace detail

inline void validate(const AdamaxOptions& o, const char* fn, FormatNumber fmt) {
  detail::check_adam_family(fn, o.lr, o.eps, o.beta1, o.beta2, o.weight_decay, o.step, fmt);
}

inline void validate(const NadamOptions& o, const char* fn, FormatNumber fmt) {
  detail::check_adam_family(fn, o.lr, o.eps, o.beta1, o.beta2, o.weight_decay, o.step, fmt);
  detail::check_hyper(fn, o.momentum_decay >= 0.0, "momentum_decay value", o.momentum_decay, fmt);
  // The product of this step's and earlier mu values, each in [0, beta1): below 1 (a product of 1
  // would divide by zero) and not negative.
  detail::check_hyper(fn, o.mu_product >= 0.0 && o.mu_product < 1.0, "mu_product value",
                      o.mu_product, fmt);
}

inline void validate(const RadamOptions& o, const char* fn, FormatNumber fmt) {
  detail::check_adam_family(fn, o.lr, o.eps, o.beta1, o.beta2, o.weight_decay, o.step, fmt);
}

// ---- optimizer list checks ---------------------------------------------------------------------
// A step takes lists of arrays (params, grads, state buffers), one entry per parameter tensor.

// Every list has one array per parameter.
inline void check_list_length(const char* fn, const char* name, size_t n, size_t n_params) {
  FASTNN_CHECK(n == n_params, fn, ": '", name, "' has ", n, " arrays but 'params' has ", n_params);
}

// One non-empty array of a step call as the overlap check sees it: the byte range [lo, hi) its
// elements span, whether the step writes it, and its name, list[index].
struct BufferSpan {
  intptr_t lo, hi;
  const std::string* list;
  size_t index;
  bool written;
};

// The kernels update in place with restrict-qualified loops, so no written array may share
// memory with any other array of the call; read-only arrays (the gradients) may share memory with
// each other. One sweep over the spans sorted by start address (ties keep the call's order); the
// message names the first clash found, the lower-addressed array first.
inline void check_no_overlap(const char* fn, std::vector<BufferSpan> spans) {
  std::stable_sort(spans.begin(), spans.end(),
                   [](const BufferSpan& a, const BufferSpan& b) { return a.lo < b.lo; });
  const BufferSpan* reach_any = nullptr;      // the span reaching furthest so far
  const BufferSpan* reach_written = nullptr;  // the written span reaching furthest so far
  for (const BufferSpan& s : spans) {
    const BufferSpan* clash = nullptr;
    if (s.written && reach_any && s.lo < reach_any->hi) clash = reach_any;
    if (!s.written && reach_written && s.lo < reach_written->hi) clash = reach_written;
    FASTNN_CHECK(clash == nullptr, fn, ": '", *clash->list, "[", clash->index, "]' and '", *s.list,
                 "[", s.index,
                 "]' share memory; arrays written in place must not overlap any other argument");
    if (!reach_any || s.hi > reach_any->hi) reach_any = &s;
    if (s.written && (!reach_written || s.hi > reach_written->hi)) reach_written = &s;
  }
}

}  // namespace fastnn
