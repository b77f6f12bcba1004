// Scalar math shared by the CPU loops and the CUDA kernels: each formula lives here once, so both
// backends compute the same thing (activations, log-sum-exp pieces, BCE with logits).
//
// Every function is `FASTNN_HD static inline` (host+device under nvcc, internal linkage, so the
// ISA units may include this header without the linker merging copies; see [note: ISA units]).
// Only C math functions (expf/exp, erfcf/erfc, ...), no std:: templates, no CUDA includes.
// Do not build with fast-math: the stable forms below rely on IEEE inf/NaN behaviour.
#pragma once
// libstdc++'s <cmath> pulls in the C declarations (::expf, ...) that we call unqualified.
#include <cmath>

#include "hd.h"

namespace fastnn {
namespace math {

// ---- precision-generic wrappers over the C math library -------------------------------------
FASTNN_HD static inline float m_exp(float x) { return expf(x); }
FASTNN_HD static inline double m_exp(double x) { return exp(x); }
FASTNN_HD static inline float m_log(float x) { return logf(x); }
FASTNN_HD static inline double m_log(double x) { return log(x); }
FASTNN_HD static inline float m_log1p(float x) { return log1pf(x); }
FASTNN_HD static inline double m_log1p(double x) { return log1p(x); }
FASTNN_HD static inline float m_tanh(float x) { return tanhf(x); }
FASTNN_HD static inline double m_tanh(double x) { return tanh(x); }
FASTNN_HD static inline float m_erfc(float x) { return erfcf(x); }
FASTNN_HD static inline double m_erfc(double x) { return erfc(x); }
FASTNN_HD static inline float m_expm1(float x) { return expm1f(x); }
FASTNN_HD static inline double m_expm1(double x) { return expm1(x); }
FASTNN_HD static inline float m_abs(float x) { return fabsf(x); }
FASTNN_HD static inline double m_abs(double x) { return fabs(x); }

// ---- relu, leaky relu -------------------------------------------------------------------------
// NaN propagates: a comparison with NaN is false, so the input itself is returned.
template <class T>
FASTNN_HD static inline T relu(T x) {
  return x < T(0) ? T(0) : x;
}
// d relu / dx at 0 is taken as 0; NaN inputs pass the gradient (PyTorch's threshold_backward).
template <class T>
FASTNN_HD static inline T relu_grad(T dy, T x) {
  return x <= T(0) ? T(0) : dy;
}
template <class T>
FASTNN_HD static inline T leaky_relu(T x, T slope) {
  return x < T(0) ? x * slope : x;
}
template <class T>
FASTNN_HD static inline T leaky_relu_grad(T dy, T x, T slope) {
  return x > T(0) ? dy : dy * slope;
}

// ---- sigmoid, tanh ----------------------------------------------------------------------------
// sigmoid(x) = 1/(1+e^-x) via e = exp(-|x|) <= 1: never overflows, keeps relative accuracy
// in the negative tail (e/(1+e) instead of 1 - 1/(1+e)).
template <class T>
FASTNN_HD static inline T sigmoid(T x) {
  T e = m_exp(-m_abs(x));
  T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}
// Backward from the output y = sigmoid(x): dy/dx = y (1 - y).
template <class T>
FASTNN_HD static inline T sigmoid_grad(T dy, T y) {
  return dy * y * (T(1) - y);
}
template <class T>
FASTNN_HD static inline T tanh_(T x) {
  return m_tanh(x);
}
// Backward from the output y = tanh(x): dy/dx = 1 - y^2.
template <class T>
FASTNN_HD static inline T tanh_grad(T dy, T y) {
  return dy * (T(1) - y * y);
}

// ---- GELU (PyTorch's definitions) -------------------------------------------------------------
// exact:  gelu(x) = x Phi(x),  Phi(x) = 0.5 erfc(-x/sqrt2)   (= 0.5 (1 + erf(x/sqrt2)))
//         gelu'(x) = Phi(x) + x phi(x),  phi(x) = exp(-x^2/2)/sqrt(2 pi)
// The erfc form keeps relative accuracy for x << 0, where 1 + erf(.) cancels.
#define FASTNN_SQRT1_2 0.70710678118654752440
#define FASTNN_INV_SQRT_2PI 0.39894228040143267794
#define FASTNN_SQRT_2_OVER_PI 0.79788456080286535588
#define FASTNN_GELU_TANH_C 0.044715
template <class T>
FASTNN_HD static inline T gelu_cdf(T x) {
  return T(0.5) * m_erfc(-x * T(FASTNN_SQRT1_2));
}
template <class T>
FASTNN_HD static inline T gelu_erf(T x) {
  return x * gelu_cdf(x);
}
template <class T>
FASTNN_HD static inline T gelu_erf_grad(T dy, T x) {
  T pdf = T(FASTNN_INV_SQRT_2PI) * m_exp(T(-0.5) * x * x);
  return dy * (gelu_cdf(x) + x * pdf);
}
// tanh approximation: gelu(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).
// 0.5 (1 + tanh(u)) = sigmoid(2u): same value, but no cancellation for x << 0.
//         gelu'(x) = s + 2 x s (1 - s) u',  s = sigmoid(2u),  u' = sqrt(2/pi) (1 + 3*0.044715 x^2)
template <class T>
FASTNN_HD static inline T gelu_tanh(T x) {
  T u = T(FASTNN_SQRT_2_OVER_PI) * (x + T(FASTNN_GELU_TANH_C) * x * x * x);
  return x * sigmoid(T(2) * u);
}
template <class T>
FASTNN_HD static inline T gelu_tanh_grad(T dy, T x) {
  T x2 = x * x;
  T u = T(FASTNN_SQRT_2_OVER_PI) * (x + T(FASTNN_GELU_TANH_C) * x2 * x);
  T du = T(FASTNN_SQRT_2_OVER_PI) * (T(1) + T(3 * FASTNN_GELU_TANH_C) * x2);
  T s = sigmoid(T(2) * u);
  return dy * (s + T(2) * x * s * (T(1) - s) * du);
}

// ---- stable log-sum-exp pieces ----------------------------------------------------------------
// A row's log-sum-exp is m + log(sum_j exp(z_j - m)) with m = max_j z_j: every exp argument is
// <= 0, so nothing overflows, and the sum is >= 1 so the log is finite (for finite logits).
template <class T>
FASTNN_HD static inline T lse_finish(T m, T sum_exp) {
  return m + m_log(sum_exp);
}

// log(1 + exp(-|x|)): the shared tail of softplus and log-sigmoid, in (0, log 2].
template <class T>
FASTNN_HD static inline T log1p_exp_neg_abs(T x) {
  return m_log1p(m_exp(-m_abs(x)));
}
// log sigmoid(x) = min(x, 0) - log(1 + exp(-|x|)), finite for all finite x.
template <class T>
FASTNN_HD static inline T log_sigmoid(T x) {
  return (x < T(0) ? x : T(0)) - log1p_exp_neg_abs(x);
}

// ---- more activations (PyTorch's definitions) -------------------------------------------------
// The backward of each takes the forward INPUT x.
// silu(x) = x sigmoid(x);  silu'(x) = s (1 + x (1 - s)),  s = sigmoid(x)
template <class T>
FASTNN_HD static inline T silu(T x) {
  return x * sigmoid(x);
}
template <class T>
FASTNN_HD static inline T silu_grad(T dy, T x) {
  T s = sigmoid(x);
  return dy * s * (T(1) + x * (T(1) - s));
}
// softplus(x) = log(1 + exp(b x)) / b, and x itself where b x > threshold (torch's cut-over).
// log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): no overflow for large z, no 0 for very negative z.
// softplus'(x) = sigmoid(b x) (1 above the threshold).
template <class T>
FASTNN_HD static inline T softplus(T x, T beta, T threshold) {
  T z = x * beta;
  return z > threshold ? x : ((z > T(0) ? z : T(0)) + log1p_exp_neg_abs(z)) / beta;
}
template <class T>
FASTNN_HD static inline T softplus_grad(T dy, T x, T beta, T threshold) {
  T z = x * beta;
  return z > threshold ? dy : dy * sigmoid(z);
}
// mish(x) = x tanh(softplus(x)) (beta 1, no threshold);
// mish'(x) = t + x sigmoid(x) (1 - t^2),  t = tanh(softplus(x))
template <class T>
FASTNN_HD static inline T mish(T x) {
  return x * m_tanh((x > T(0) ? x : T(0)) + log1p_exp_neg_abs(x));
}
template <class T>
FASTNN_HD static inline T mish_grad(T dy, T x) {
  T t = m_tanh((x > T(0) ? x : T(0)) + log1p_exp_neg_abs(x));
  return dy * (t + x * sigmoid(x) * (T(1) - t * t));
}
// elu(x) = scale x for x > 0, else scale alpha (exp(input_scale x) - 1); selu is elu with
// torch's fixed alpha and scale. elu'(x) = scale, else scale alpha input_scale exp(input_scale x).
template <class T>
FASTNN_HD static inline T elu(T x, T alpha, T scale, T input_scale) {
  return x > T(0) ? scale * x : scale * alpha * m_expm1(x * input_scale);
}
template <class T>
FASTNN_HD static inline T elu_grad(T dy, T x, T alpha, T scale, T input_scale) {
  return x > T(0) ? dy * scale : dy * (scale * alpha * input_scale) * m_exp(x * input_scale);
}
// hardtanh(x) = min(max(x, lo), hi) (relu6 is hardtanh(0, 6)); NaN propagates. Gradient 0 at and
// beyond the bounds, dy inside (and for NaN, as torch's hardtanh_backward).
template <class T>
FASTNN_HD static inline T hardtanh(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}
template <class T>
FASTNN_HD static inline T hardtanh_grad(T dy, T x, T lo, T hi) {
  return (x <= lo || x >= hi) ? T(0) : dy;
}
// d log sigmoid(x) / dx = 1 - sigmoid(x) = sigmoid(-x) (no cancellation for x >> 0).
template <class T>
FASTNN_HD static inline T log_sigmoid_grad(T dy, T x) {
  return dy * sigmoid(-x);
}
// prelu(x) = x for x > 0, else w x (w: the weight of x's channel); d/dx = 1 or w, d/dw = 0 or x.
template <class T>
FASTNN_HD static inline T prelu(T x, T w) {
  return x > T(0) ? x : w * x;
}

// ---- binary cross-entropy with logits (PyTorch's formula) -------------------------------------
// loss = (1 - t) x - lw log sigmoid(x),  lw = 1 + (pw - 1) t   (pw = pos_weight, 1 if none)
// dloss/dx = lw sigmoid(x) - pw t
template <class T>
FASTNN_HD static inline T bce_logits(T x, T t, T pw) {
  T lw = T(1) + (pw - T(1)) * t;
  return (T(1) - t) * x - lw * log_sigmoid(x);
}
template <class T>
FASTNN_HD static inline T bce_logits_grad(T x, T t, T pw) {
  T lw = T(1) + (pw - T(1)) * t;
  return lw * sigmoid(x) - pw * t;
}

}  // namespace math
}  // namespace fastnn
