// Per-element optimizer update math (C3): the one copy of each formula, shared by the CPU loops
// (csrc/cpu/optim*.cpp, compiled once per ISA) and, later, the CUDA kernels.
//
// Each function updates one element in place, exactly as PyTorch's torch.optim single-tensor /
// foreach paths do (torch 2.x: sgd.py, adagrad.py, rmsprop.py, adam.py), in the element's own
// precision T (float for float32, like torch's opmath). Step-dependent scalars (bias corrections,
// Adagrad's decayed lr) are computed once per call on the host in double and arrive here as T (C8).
//
// [note: optim math linkage] Everything here is `static inline` (internal linkage), so each
// translation unit, including the *_avx512.cpp / *_avx2.cpp units built with wider ISA flags,
// gets its own private copy: the linker can never merge an AVX-512 copy into generic code.
// No std:: templates and no CUDA includes, so nvcc and every host unit can include this file.
// Do not build with -ffast-math: eps placement and lerp's two branches are part of the contract.
#pragma once

// <cmath>, not <math.h>: with csrc/ on the include path, <math.h> names csrc/math.h.
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
  T lr_wd_keep;             // 1 - lr * weight_decay (decoupled/AdamW), else 1
  T weight_decay;           // L2 term added to the gradient (Adam), else 0
  T beta1_weight;           // 1 - beta1, the lerp weight of exp_avg towards grad
  T beta2, one_minus_beta2;
  T step_size;              // lr / (1 - beta1^step)
  T bias_correction2_sqrt;  // sqrt(1 - beta2^step)
  T eps;
};

// ---- scalar helpers ----------------------------------------------------------------------------

FASTNN_HD static inline float optim_sqrt(float x) { return sqrtf(x); }
FASTNN_HD static inline double optim_sqrt(double x) { return sqrt(x); }

// torch.lerp(start, end, w): two branches so that w near 1 still lands exactly on `end`
// (aten/src/ATen/native/Lerp.h); Adam's exp_avg.lerp_(grad, 1 - beta1) uses it.
template <class T>
FASTNN_HD static inline T optim_lerp(T start, T end, T w) {
  return (w < T(0.5) && w > T(-0.5)) ? start + w * (end - start) : end - (end - start) * (T(1) - w);
}

// ---- SGD ---------------------------------------------------------------------------------------
// g = ±grad + wd * p;  buf = first ? g : momentum * buf + (1 - dampening) * g;
// d = nesterov ? g + momentum * buf : buf;  p -= lr * d.   (momentum == 0: d = g, no buffer)
template <class T>
FASTNN_HD static inline void sgd_update(T& p, T& buf, T grad, const SgdScalars<T>& s, bool use_momentum,
                                        bool nesterov, bool maximize, bool first_step) {
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
FASTNN_HD static inline void adagrad_update(T& p, T& sum, T grad, const AdagradScalars<T>& s, bool maximize) {
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
FASTNN_HD static inline void rmsprop_update(T& p, T& sq, T& ga, T& buf, T grad, const RmspropScalars<T>& s,
                                            bool centered, bool use_momentum, bool maximize) {
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

}  // namespace fastnn
