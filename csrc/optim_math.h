// Optimizer update arithmetic, shared by the CPU and the CUDA module: the one copy of each
// per-element formula (SGD, Adagrad, RMSprop, Adam/AdamW, Adadelta, Adamax, NAdam, RAdam), used by
// the CPU span loops at the end of this file and by the CUDA kernels (csrc/cuda/optim.cu).
//
// Each function updates one element in place, exactly as PyTorch's torch.optim single-tensor /
// foreach paths do (torch 2.x SGD, Adagrad, RMSprop, Adam/AdamW), in the element's own
// precision T (float for float32, like torch's opmath). Step-dependent scalars (bias corrections,
// Adagrad's decayed lr) are computed once per call on the host in double (csrc/contract.h) and
// arrive here as T.
//
// [note: optim math linkage] Everything here is `static inline` (internal linkage), so each
// translation unit, including the *_avx512.cpp / *_avx2.cpp units built with wider ISA flags,
// gets its own private copy: the linker can never merge an AVX-512 copy into generic code.
// No std:: templates and no CUDA includes, so nvcc and every host unit can include this file.
// Do not build with -ffast-math: eps placement and lerp's two branches are part of the contract.
#pragma once

#include <cmath>

#include "hd.h"

namespace fastnn {

// ---- hyperparameters, already converted to the element type ------------------------------------

template <class T>
struct SgdScalars {
  T lr, momentum, dampening_keep, weight_decay;  // dampening_keep = 1 - dampening
};

template <class T>
struct AdagradScalars {
  T clr, weight_decay, eps;  // clr = lr / (1 + (step - 1) * lr_decay), in double on the host
};

template <class T>
struct RmspropScalars {
  T lr, alpha, one_minus_alpha, eps, weight_decay, momentum;
};

template <class T>
struct AdamScalars {
  T lr_wd_keep;    // 1 - lr * weight_decay (decoupled/AdamW), else 1
  T weight_decay;  // L2 term added to the gradient (Adam), else 0
  T beta1_weight;  // 1 - beta1, the lerp weight of exp_avg towards grad
  T beta2, one_minus_beta2;
  T step_size;              // lr / (1 - beta1^step)
  T bias_correction2_sqrt;  // sqrt(1 - beta2^step)
  T eps;
};

template <class T>
struct AdadeltaScalars {
  T lr, rho, one_minus_rho, eps, weight_decay;
};

template <class T>
struct AdamaxScalars {
  T weight_decay, beta1_weight, beta2, eps;
  T clr;  // lr / (1 - beta1^step)
};

template <class T>
struct NadamScalars {
  T lr_wd_keep, weight_decay;  // as in AdamScalars
  T beta1_weight, beta2, one_minus_beta2;
  T bias_correction2;  // 1 - beta2^step
  T eps;
  T grad_coef;  // -lr * (1 - mu_t) / (1 - mu_product)
  T avg_coef;   // -lr * mu_{t+1} / (1 - mu_product * mu_{t+1})
};

template <class T>
struct RadamScalars {
  T lr_wd_keep, weight_decay;  // as in AdamScalars
  T beta1_weight, beta2, one_minus_beta2;
  T bias_correction1;       // 1 - beta1^step
  T lr;                     // the plain lr: torch multiplies by it after the bias correction
  T bias_correction2_sqrt;  // sqrt(1 - beta2^step)
  T eps;
  T rect;  // the variance rectification factor, used only when the step is rectified
};

// ---- scalar helpers ----------------------------------------------------------------------------

FASTNN_HD static inline float optim_sqrt(float x) { return sqrtf(x); }
FASTNN_HD static inline double optim_sqrt(double x) { return sqrt(x); }
FASTNN_HD static inline float optim_abs(float x) { return fabsf(x); }
FASTNN_HD static inline double optim_abs(double x) { return fabs(x); }

// torch.maximum: a NaN in either operand is the result.
template <class T>
FASTNN_HD static inline T optim_max_nan(T a, T b) {
  return (a > b || a != a) ? a : b;
}

// torch.lerp(start, end, w): two branches so that w near 1 still lands exactly on `end`
// (as torch.lerp does); Adam's exp_avg.lerp_(grad, 1 - beta1) uses it.
template <class T>
FASTNN_HD static inline T optim_lerp(T start, T end, T w) {
  return (w < T(0.5) && w > T(-0.5)) ? start + w * (end - start) : end - (end - start) * (T(1) - w);
}

// ---- SGD ---------------------------------------------------------------------------------------
// g = ±grad + wd * p;  buf = first ? g : momentum * buf + (1 - dampening) * g;
// d = nesterov ? g + momentum * buf : buf;  p -= lr * d.   (momentum == 0: d = g, no buffer)
template <class T>
FASTNN_HD static inline void sgd_update(T& p, T& buf, T grad, const SgdScalars<T>& s,
                                        bool use_momentum, bool nesterov, bool maximize,
                                        bool first_step) {
  T g = maximize ? -grad : grad;
  if (s.weight_decay != T(0)) g = g + s.weight_decay * p;
  if (use_momentum) {
    T b = first_step ? g : buf * s.momentum + g * s.dampening_keep;
    buf = b;
    g = nesterov ? g + b * s.momentum : b;
  }
  p = p - s.lr * g;
}

// ---- Adagrad -----------------------------------------------------------------------------------
// g = ±grad + wd * p;  sum += g*g;  p -= clr * g / (sqrt(sum) + eps).
template <class T>
FASTNN_HD static inline void adagrad_update(T& p, T& sum, T grad, const AdagradScalars<T>& s,
                                            bool maximize) {
  T g = maximize ? -grad : grad;
  if (s.weight_decay != T(0)) g = g + s.weight_decay * p;
  T sm = sum + g * g;
  sum = sm;
  p = p - s.clr * (g / (optim_sqrt(sm) + s.eps));
}

// ---- RMSprop -----------------------------------------------------------------------------------
// g = ±grad + wd * p;  sq = alpha * sq + (1 - alpha) * g*g;
// centered: ga = lerp(ga, g, 1 - alpha), avg = sqrt(sq - ga*ga) + eps; else avg = sqrt(sq) + eps;
// momentum > 0: buf = momentum * buf + g / avg, p -= lr * buf; else p -= lr * g / avg.
template <class T>
FASTNN_HD static inline void rmsprop_update(T& p, T& sq, T& ga, T& buf, T grad,
                                            const RmspropScalars<T>& s, bool centered,
                                            bool use_momentum, bool maximize) {
  T g = maximize ? -grad : grad;
  if (s.weight_decay != T(0)) g = g + s.weight_decay * p;
  T sqn = sq * s.alpha + s.one_minus_alpha * (g * g);
  sq = sqn;
  T var = sqn;
  if (centered) {
    T gan = optim_lerp(ga, g, s.one_minus_alpha);
    ga = gan;
    var = sqn - gan * gan;
  }
  T avg = optim_sqrt(var) + s.eps;
  if (use_momentum) {
    T b = buf * s.momentum + g / avg;
    buf = b;
    p = p - s.lr * b;
  } else {
    p = p - s.lr * (g / avg);
  }
}

// ---- Adam / AdamW ------------------------------------------------------------------------------
// g = ±grad (+ wd * p for Adam);  p *= 1 - lr * wd (AdamW);  m = lerp(m, g, 1 - beta1);
// v = beta2 * v + (1 - beta2) * g*g;  vmax = max(vmax, v) (amsgrad);
// p -= step_size * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps).
template <class T>
FASTNN_HD static inline void adam_update(T& p, T& m, T& v, T& vmax, T grad, const AdamScalars<T>& s,
                                         bool amsgrad, bool maximize) {
  T g = maximize ? -grad : grad;
  T pv = p * s.lr_wd_keep;
  if (s.weight_decay != T(0)) g = g + s.weight_decay * p;
  T mn = optim_lerp(m, g, s.beta1_weight);
  m = mn;
  T vn = v * s.beta2 + s.one_minus_beta2 * (g * g);
  v = vn;
  if (amsgrad) {
    T mx = vmax > vn ? vmax : vn;  // torch.maximum (NaN aside)
    vmax = mx;
    vn = mx;
  }
  T denom = optim_sqrt(vn) / s.bias_correction2_sqrt + s.eps;
  p = pv - s.step_size * (mn / denom);
}

// ---- Adadelta ----------------------------------------------------------------------------------
// g = ±grad + wd * p;  sq = rho * sq + (1 - rho) * g*g;  d = sqrt(acc + eps) / sqrt(sq + eps) * g;
// acc = rho * acc + (1 - rho) * d*d;  p -= lr * d.
template <class T>
FASTNN_HD static inline void adadelta_update(T& p, T& sq, T& acc, T grad,
                                             const AdadeltaScalars<T>& s, bool maximize) {
  T g = maximize ? -grad : grad;
  if (s.weight_decay != T(0)) g = g + s.weight_decay * p;
  T sqn = sq * s.rho + s.one_minus_rho * (g * g);
  sq = sqn;
  T d = optim_sqrt(acc + s.eps) / optim_sqrt(sqn + s.eps) * g;
  acc = acc * s.rho + s.one_minus_rho * (d * d);
  p = p - s.lr * d;
}

// ---- Adamax ------------------------------------------------------------------------------------
// g = ±grad + wd * p;  m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps);
// p -= lr / (1 - beta1^t) * m / u.
template <class T>
FASTNN_HD static inline void adamax_update(T& p, T& m, T& u, T grad, const AdamaxScalars<T>& s,
                                           bool maximize) {
  T g = maximize ? -grad : grad;
  if (s.weight_decay != T(0)) g = g + s.weight_decay * p;
  T mn = optim_lerp(m, g, s.beta1_weight);
  m = mn;
  T un = optim_max_nan(u * s.beta2, optim_abs(g) + s.eps);
  u = un;
  p = p - s.clr * (mn / un);
}

// ---- NAdam -------------------------------------------------------------------------------------
// g = ±grad (+ wd * p, L2 mode);  p *= 1 - lr * wd (decoupled mode);  m = lerp(m, g, 1 - beta1);
// v = beta2 * v + (1 - beta2) * g*g;  denom = sqrt(v / (1 - beta2^t)) + eps;
// p += grad_coef * g / denom;  p += avg_coef * m / denom.
template <class T>
FASTNN_HD static inline void nadam_update(T& p, T& m, T& v, T grad, const NadamScalars<T>& s,
                                          bool maximize) {
  T g = maximize ? -grad : grad;
  T pv = p * s.lr_wd_keep;
  if (s.weight_decay != T(0)) g = g + s.weight_decay * p;
  T mn = optim_lerp(m, g, s.beta1_weight);
  m = mn;
  T vn = v * s.beta2 + s.one_minus_beta2 * (g * g);
  v = vn;
  T denom = optim_sqrt(vn / s.bias_correction2) + s.eps;
  pv = pv + s.grad_coef * (g / denom);
  p = pv + s.avg_coef * (mn / denom);
}

// ---- RAdam -------------------------------------------------------------------------------------
// g, weight decay and moments as NAdam;  mhat = m / (1 - beta1^t);
// rectified: p -= mhat * lr * (sqrt(1 - beta2^t) / (sqrt(v) + eps)) * rect;  else p -= mhat * lr.
template <class T>
FASTNN_HD static inline void radam_update(T& p, T& m, T& v, T grad, const RadamScalars<T>& s,
                                          bool rectified, bool maximize) {
  T g = maximize ? -grad : grad;
  T pv = p * s.lr_wd_keep;
  if (s.weight_decay != T(0)) g = g + s.weight_decay * p;
  T mn = optim_lerp(m, g, s.beta1_weight);
  m = mn;
  T vn = v * s.beta2 + s.one_minus_beta2 * (g * g);
  v = vn;
  T mhat = mn / s.bias_correction1;
  if (rectified) {
    T adaptive = s.bias_correction2_sqrt / (optim_sqrt(vn) + s.eps);
    p = pv - mhat * s.lr * adaptive * s.rect;
  } else {
    p = pv - mhat * s.lr;
  }
}

}  // namespace fastnn

// ==== CPU: the element loops over one contiguous span ============================================
// Compiled three times: in cpu/optim.cpp (generic x86-64) and in optim_avx2.cpp / optim_avx512.cpp
// with wider ISA flags; the compiler vectorises them (sqrt and division vectorise because the
// build uses -fno-math-errno). Each loop loads an element's values into locals, calls the update
// above and stores them back; flags that decide which buffers exist (momentum, centered, amsgrad)
// are template parameters, so the loops hold no conditional loads or stores. Pointers are
// __restrict: the bindings reject overlapping buffers.
#ifndef __CUDACC__
#include <cstdint>

namespace fastnn {
namespace optim_loops {

template <class T, bool MOMENTUM>
static inline void sgd_span(T* __restrict p, T* __restrict buf, const T* __restrict g, int64_t n,
                            const SgdScalars<T>& scalars, bool nesterov, bool maximize,
                            bool first_step) {
  const SgdScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], b = MOMENTUM ? buf[i] : T(0);
    sgd_update(pv, b, g[i], s, MOMENTUM, nesterov, maximize, first_step);
    p[i] = pv;
    if (MOMENTUM) buf[i] = b;
  }
}

template <class T>
static inline void sgd_run(T* p, T* buf, const T* g, int64_t n, const SgdScalars<T>& s,
                           bool momentum, bool nesterov, bool maximize, bool first_step) {
  if (momentum)
    sgd_span<T, true>(p, buf, g, n, s, nesterov, maximize, first_step);
  else
    sgd_span<T, false>(p, buf, g, n, s, nesterov, maximize, first_step);
}

template <class T>
static inline void adagrad_run(T* __restrict p, T* __restrict sum, const T* __restrict g, int64_t n,
                               const AdagradScalars<T>& scalars, bool maximize) {
  const AdagradScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], sv = sum[i];
    adagrad_update(pv, sv, g[i], s, maximize);
    p[i] = pv;
    sum[i] = sv;
  }
}

template <class T, bool CENTERED, bool MOMENTUM>
static inline void rmsprop_span(T* __restrict p, T* __restrict sq, T* __restrict ga,
                                T* __restrict buf, const T* __restrict g, int64_t n,
                                const RmspropScalars<T>& scalars, bool maximize) {
  const RmspropScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], sv = sq[i], gav = CENTERED ? ga[i] : T(0), bv = MOMENTUM ? buf[i] : T(0);
    rmsprop_update(pv, sv, gav, bv, g[i], s, CENTERED, MOMENTUM, maximize);
    p[i] = pv;
    sq[i] = sv;
    if (CENTERED) ga[i] = gav;
    if (MOMENTUM) buf[i] = bv;
  }
}

template <class T>
static inline void rmsprop_run(T* p, T* sq, T* ga, T* buf, const T* g, int64_t n,
                               const RmspropScalars<T>& s, bool centered, bool momentum,
                               bool maximize) {
  if (centered) {
    if (momentum)
      rmsprop_span<T, true, true>(p, sq, ga, buf, g, n, s, maximize);
    else
      rmsprop_span<T, true, false>(p, sq, ga, buf, g, n, s, maximize);
  } else {
    if (momentum)
      rmsprop_span<T, false, true>(p, sq, ga, buf, g, n, s, maximize);
    else
      rmsprop_span<T, false, false>(p, sq, ga, buf, g, n, s, maximize);
  }
}

template <class T, bool AMSGRAD>
static inline void adam_span(T* __restrict p, T* __restrict m, T* __restrict v, T* __restrict vmax,
                             const T* __restrict g, int64_t n, const AdamScalars<T>& scalars,
                             bool maximize) {
  const AdamScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], mv = m[i], vv = v[i], xv = AMSGRAD ? vmax[i] : T(0);
    adam_update(pv, mv, vv, xv, g[i], s, AMSGRAD, maximize);
    p[i] = pv;
    m[i] = mv;
    v[i] = vv;
    if (AMSGRAD) vmax[i] = xv;
  }
}

template <class T>
static inline void adam_run(T* p, T* m, T* v, T* vmax, const T* g, int64_t n,
                            const AdamScalars<T>& s, bool amsgrad, bool maximize) {
  if (amsgrad)
    adam_span<T, true>(p, m, v, vmax, g, n, s, maximize);
  else
    adam_span<T, false>(p, m, v, vmax, g, n, s, maximize);
}

template <class T>
static inline void adadelta_run(T* __restrict p, T* __restrict sq, T* __restrict acc,
                                const T* __restrict g, int64_t n, const AdadeltaScalars<T>& scalars,
                                bool maximize) {
  const AdadeltaScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], sv = sq[i], av = acc[i];
    adadelta_update(pv, sv, av, g[i], s, maximize);
    p[i] = pv;
    sq[i] = sv;
    acc[i] = av;
  }
}

template <class T>
static inline void adamax_run(T* __restrict p, T* __restrict m, T* __restrict u,
                              const T* __restrict g, int64_t n, const AdamaxScalars<T>& scalars,
                              bool maximize) {
  const AdamaxScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], mv = m[i], uv = u[i];
    adamax_update(pv, mv, uv, g[i], s, maximize);
    p[i] = pv;
    m[i] = mv;
    u[i] = uv;
  }
}

template <class T>
static inline void nadam_run(T* __restrict p, T* __restrict m, T* __restrict v,
                             const T* __restrict g, int64_t n, const NadamScalars<T>& scalars,
                             bool maximize) {
  const NadamScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], mv = m[i], vv = v[i];
    nadam_update(pv, mv, vv, g[i], s, maximize);
    p[i] = pv;
    m[i] = mv;
    v[i] = vv;
  }
}

template <class T, bool RECTIFIED>
static inline void radam_span(T* __restrict p, T* __restrict m, T* __restrict v,
                              const T* __restrict g, int64_t n, const RadamScalars<T>& scalars,
                              bool maximize) {
  const RadamScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], mv = m[i], vv = v[i];
    radam_update(pv, mv, vv, g[i], s, RECTIFIED, maximize);
    p[i] = pv;
    m[i] = mv;
    v[i] = vv;
  }
}

template <class T>
static inline void radam_run(T* p, T* m, T* v, const T* g, int64_t n, const RadamScalars<T>& s,
                             bool rectified, bool maximize) {
  if (rectified)
    radam_span<T, true>(p, m, v, g, n, s, maximize);
  else
    radam_span<T, false>(p, m, v, g, n, s, maximize);
}

}  // namespace optim_loops
}  // namespace fastnn

// The extern entry points every ISA unit defines (in namespace fastnn::<isa>), one overload per
// optimizer and dtype: they only forward to the loops above, compiled with that unit's flags.
#define FASTNN_OPTIM_ISA_ENTRY_POINTS(T)                                                         \
  void sgd_kernel(T* p, T* buf, const T* g, int64_t n, const SgdScalars<T>& s, bool momentum,    \
                  bool nesterov, bool maximize, bool first_step) {                               \
    optim_loops::sgd_run<T>(p, buf, g, n, s, momentum, nesterov, maximize, first_step);          \
  }                                                                                              \
  void adagrad_kernel(T* p, T* sum, const T* g, int64_t n, const AdagradScalars<T>& s,           \
                      bool maximize) {                                                           \
    optim_loops::adagrad_run<T>(p, sum, g, n, s, maximize);                                      \
  }                                                                                              \
  void rmsprop_kernel(T* p, T* sq, T* ga, T* buf, const T* g, int64_t n,                         \
                      const RmspropScalars<T>& s, bool centered, bool momentum, bool maximize) { \
    optim_loops::rmsprop_run<T>(p, sq, ga, buf, g, n, s, centered, momentum, maximize);          \
  }                                                                                              \
  void adam_kernel(T* p, T* m, T* v, T* vmax, const T* g, int64_t n, const AdamScalars<T>& s,    \
                   bool amsgrad, bool maximize) {                                                \
    optim_loops::adam_run<T>(p, m, v, vmax, g, n, s, amsgrad, maximize);                         \
  }                                                                                              \
  void adadelta_kernel(T* p, T* sq, T* acc, const T* g, int64_t n, const AdadeltaScalars<T>& s,  \
                       bool maximize) {                                                          \
    optim_loops::adadelta_run<T>(p, sq, acc, g, n, s, maximize);                                 \
  }                                                                                              \
  void adamax_kernel(T* p, T* m, T* u, const T* g, int64_t n, const AdamaxScalars<T>& s,         \
                     bool maximize) {                                                            \
    optim_loops::adamax_run<T>(p, m, u, g, n, s, maximize);                                      \
  }                                                                                              \
  void nadam_kernel(T* p, T* m, T* v, const T* g, int64_t n, const NadamScalars<T>& s,           \
                    bool maximize) {                                                             \
    optim_loops::nadam_run<T>(p, m, v, g, n, s, maximize);                                       \
  }                                                                                              \
  void radam_kernel(T* p, T* m, T* v, const T* g, int64_t n, const RadamScalars<T>& s,           \
                    bool rectified, bool maximize) {                                             \
    optim_loops::radam_run<T>(p, m, v, g, n, s, rectified, maximize);                            \
  }

#define FASTNN_OPTIM_ISA_DECLARATIONS(T)                                                        \
  void sgd_kernel(T* p, T* buf, const T* g, int64_t n, const SgdScalars<T>& s, bool momentum,   \
                  bool nesterov, bool maximize, bool first_step);                               \
  void adagrad_kernel(T* p, T* sum, const T* g, int64_t n, const AdagradScalars<T>& s,          \
                      bool maximize);                                                           \
  void rmsprop_kernel(T* p, T* sq, T* ga, T* buf, const T* g, int64_t n,                        \
                      const RmspropScalars<T>& s, bool centered, bool momentum, bool maximize); \
  void adam_kernel(T* p, T* m, T* v, T* vmax, const T* g, int64_t n, const AdamScalars<T>& s,   \
                   bool amsgrad, bool maximize);                                                \
  void adadelta_kernel(T* p, T* sq, T* acc, const T* g, int64_t n, const AdadeltaScalars<T>& s, \
                       bool maximize);                                                          \
  void adamax_kernel(T* p, T* m, T* u, const T* g, int64_t n, const AdamaxScalars<T>& s,        \
                     bool maximize);                                                            \
  void nadam_kernel(T* p, T* m, T* v, const T* g, int64_t n, const NadamScalars<T>& s,          \
                    bool maximize);                                                             \
  void radam_kernel(T* p, T* m, T* v, const T* g, int64_t n, const RadamScalars<T>& s,          \
                    bool rectified, bool maximize);
#endif  // __CUDACC__
