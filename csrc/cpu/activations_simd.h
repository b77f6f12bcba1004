// The float32 SIMD bodies of the activation and softmax kernels, written once over the vector
// type V of vec_avx512.h / vec_avx2.h. The driver cpu/activations.cpp reads the declarations;
// activations_avx512.cpp / _avx2.cpp define FASTNN_VEC_NS (by including their vec_*.h first) and
// compile the bodies with their ISA flags. The scalar formulas they mirror, and the NaN
// conventions, are in csrc/scalar_math.h.
#pragma once
#include <stdint.h>

namespace fastnn {

// Which element-wise function an activation kernel applies.
enum class ActOp {
  relu,
  leaky_relu,
  sigmoid,
  tanh,
  gelu_erf,
  gelu_tanh,
  silu,
  mish,
  softplus,
  elu,
  hardtanh,
  log_sigmoid,
  exp,
  sqrt,
  log,
  sin,
  cos,
  erf,
  atan,
  log1p,
  expm1,
  rsqrt
};

// Columns per block of the softmax kernels along a strided axis (a multiple of every W).
constexpr int64_t kSoftmaxColumns = 512;

// An op's scalar parameters: leaky_relu a = negative slope; softplus a = beta, b = threshold;
// elu a = alpha, b = scale, c = input_scale; hardtanh a = min_val, b = max_val.
template <class T>
struct ActArgs {
  T a, b, c;
};

#define FASTNN_ACTIVATIONS_SIMD_ENTRIES                                                          \
  /* forward: y = f(x); backward: dx = dy * f'(from xy), xy = x or y as the op needs */          \
  void act_forward_f32(ActOp op, float* y, const float* x, ActArgs<float> p, int64_t n);         \
  void act_backward_f32(ActOp op, float* dx, const float* dy, const float* xy, ActArgs<float> p, \
                        int64_t n);                                                              \
  /* rows of length cols; log selects log_softmax */                                             \
  void softmax_forward_f32(bool log, float* y, const float* x, int64_t rows, int64_t cols);      \
  void softmax_backward_f32(bool log, float* dx, const float* dy, const float* y, int64_t rows,  \
                            int64_t cols);                                                       \
  /* down the columns of an (n, inner) slab: columns [0, cols) from the pointers, rows inner     \
     apart */                                                                                    \
  void softmax_columns_forward_f32(bool log, float* y, const float* x, int64_t n, int64_t inner, \
                                   int64_t cols);                                                \
  void softmax_columns_backward_f32(bool log, float* dx, const float* dy, const float* y,        \
                                    int64_t n, int64_t inner, int64_t cols);
namespace avx512 {
FASTNN_ACTIVATIONS_SIMD_ENTRIES
}
namespace avx2 {
FASTNN_ACTIVATIONS_SIMD_ENTRIES
}
#undef FASTNN_ACTIVATIONS_SIMD_ENTRIES

}  // namespace fastnn

#ifdef FASTNN_VEC_NS
#include "cpu/align_head.h"
#include "cpu/vec_math.h"

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

// y[i] = f(x[i]); the head up to y's vector alignment (align_head.h) and the tail go through a
// masked load/store, never past n. kPairs: two vectors a step, for a short f whose loop the
// compiler otherwise leaves one latency chain long (exp: 2.7 -> 2.4 ns a vector on an Intel
// core; longer bodies gained nothing or lost up to 8 %, sigmoid and the tanh form of gelu).
template <bool kPairs = false, class F>
inline void map1(float* y, const float* x, int64_t n, F f) {
  int64_t i = head_to_aligned<W * 4>(y, n);
  if (i > 0) vstore_part(y, f(vload_part(x, i, 0.0f)), i);
  if constexpr (kPairs) {
    for (; i + 2 * W <= n; i += 2 * W) {
      const V a = f(vload(x + i)), b = f(vload(x + i + W));
      vstore(y + i, a);
      vstore(y + i + W, b);
    }
  }
  for (; i + W <= n; i += W) vstore(y + i, f(vload(x + i)));
  if (i < n) vstore_part(y + i, f(vload_part(x + i, n - i, 0.0f)), n - i);
}
// dx[i] = f(dy[i], xy[i]).
template <class F>
inline void map2(float* dx, const float* dy, const float* xy, int64_t n, F f) {
  int64_t i = head_to_aligned<W * 4>(dx, n);
  if (i > 0) vstore_part(dx, f(vload_part(dy, i, 0.0f), vload_part(xy, i, 0.0f)), i);
  for (; i + W <= n; i += W) vstore(dx + i, f(vload(dy + i), vload(xy + i)));
  if (i < n)
    vstore_part(dx + i, f(vload_part(dy + i, n - i, 0.0f), vload_part(xy + i, n - i, 0.0f)), n - i);
}

const float kSqrt2OverPi = 0.79788456080286535588f, kGeluC = 0.044715f;
const float kInvSqrt2Pi = 0.39894228040143267794f, kTwoOverSqrtPi = 1.12837916709551257390f;

// tanh(softplus(x)) from e = e^x alone: with u = 1 + e, tanh(log u) = (u^2 - 1) / (u^2 + 1)
// = m / (m + 2), m = e (e + 2), and 1 - t^2 = (1 - t)(1 + t) with 1 - t = 2 / (m + 2) (no
// cancellation as t -> 1). One exp instead of exp, log and tanh; the caller clamps x at 20, where
// t is 1 in float32 and m cannot overflow. For x -> -inf, t ~ e keeps its relative accuracy.
inline V vmish_t(V e, V* one_minus_t2) {
  V m = e * (e + vset(2.0f));
  V r = vset(1.0f) / (m + vset(2.0f));
  V t = m * r;
  if (one_minus_t2) *one_minus_t2 = (r + r) * (vset(1.0f) + t);
  return t;
}

// log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), given e = e^-|z|.
inline V vsoftplus_e(V z, V e) { return vmax(z, vset(0.0f)) + vlog1p_01(e); }

void act_forward(ActOp op, float* y, const float* x, ActArgs<float> p, int64_t n) {
  const V zero = vset(0.0f), vs = vset(p.a);
  switch (op) {
    case ActOp::relu:  // max(0, x) returns x when x is NaN
      map1(y, x, n, [&](V v) { return vmax(zero, v); });
      break;
    case ActOp::leaky_relu:
      map1(y, x, n, [&](V v) { return vselect(vgt(v, zero), v, v * vs); });
      break;
    case ActOp::sigmoid:
      map1(y, x, n, [](V v) { return vsigmoid(v); });
      break;
    case ActOp::tanh:
      map1(y, x, n, [](V v) { return vtanh(v); });
      break;
    case ActOp::gelu_erf:
      map1(y, x, n, [](V v) {
        V g;
        return v * vnormal_cdf(v, &g);
      });
      break;
    case ActOp::gelu_tanh:
      map1(y, x, n, [](V v) {
        V u = vset(kSqrt2OverPi) * fmadd(vset(kGeluC) * v, v * v, v);
        return v * vsigmoid(u + u);
      });
      break;
    case ActOp::silu:
      map1(y, x, n, [](V v) { return v * vsigmoid(v); });
      break;
    case ActOp::mish:
      map1(y, x, n, [](V v) { return v * vmish_t(vexp(vmin(v, vset(20.0f))), nullptr); });
      break;
    case ActOp::softplus: {
      const V beta = vset(p.a), thr = vset(p.b);
      map1(y, x, n, [&](V v) {
        V z = v * beta;
        V sp = vsoftplus_e(z, vexp_nonpositive(vset(0.0f) - vabs(z))) / beta;
        return vselect(vgt(z, thr), v, sp);
      });
      break;
    }
    case ActOp::elu: {
      const V sa = vset(p.b * p.a), sc = vset(p.b), is = vset(p.c);
      map1(y, x, n, [&](V v) { return vselect(vgt(v, zero), sc * v, sa * vexpm1(v * is)); });
      break;
    }
    case ActOp::hardtanh: {  // max(lo, v) and min(hi, .) return their second operand for NaN
      const V lo = vset(p.a), hi = vset(p.b);
      map1(y, x, n, [&](V v) { return vmin(hi, vmax(lo, v)); });
      break;
    }
    case ActOp::log_sigmoid:
      map1(y, x, n,
           [&](V v) { return vmin(v, zero) - vlog1p_01(vexp_nonpositive(zero - vabs(v))); });
      break;
    case ActOp::exp:
      map1<true>(y, x, n, [](V v) { return vexp(v); });
      break;
    case ActOp::sqrt:  // correctly rounded, as the C library's and numpy's
      map1(y, x, n, [](V v) { return vsqrt_stream(v); });
      break;
    case ActOp::log:
      map1(y, x, n, [](V v) { return vlog(v); });
      break;
    case ActOp::sin:
      map1(y, x, n, [](V v) { return vsincos<false>(v); });
      break;
    case ActOp::cos:
      map1(y, x, n, [](V v) { return vsincos<true>(v); });
      break;
    case ActOp::erf:
      map1(y, x, n, [](V v) { return verf(v); });
      break;
    case ActOp::atan:
      map1(y, x, n, [](V v) { return vatan(v); });
      break;
    case ActOp::log1p:
      map1(y, x, n, [](V v) { return vlog1p(v); });
      break;
    case ActOp::expm1:
      map1(y, x, n, [](V v) { return vexpm1(v); });
      break;
    case ActOp::rsqrt:
      map1(y, x, n, [](V v) { return vrsqrt_stream(v); });
      break;
  }
}

void act_backward(ActOp op, float* dx, const float* dy, const float* xy, ActArgs<float> p,
                  int64_t n) {
  const V zero = vset(0.0f), one = vset(1.0f), vs = vset(p.a);
  switch (op) {
    case ActOp::relu:
      map2(dx, dy, xy, n, [&](V g, V x) { return vselect(vle(x, zero), zero, g); });
      break;
    case ActOp::leaky_relu:
      map2(dx, dy, xy, n, [&](V g, V x) { return vselect(vgt(x, zero), g, g * vs); });
      break;
    case ActOp::sigmoid:  // xy = y
      map2(dx, dy, xy, n, [&](V g, V y) { return g * (y * (one - y)); });
      break;
    case ActOp::tanh:  // xy = y
      map2(dx, dy, xy, n, [&](V g, V y) { return g * fnmadd(y, y, one); });
      break;
    case ActOp::gelu_erf:
      map2(dx, dy, xy, n, [&](V g, V x) {
        V e;
        V cdf = vnormal_cdf(x, &e);
        return g * fmadd(x, e * vset(kInvSqrt2Pi), cdf);
      });
      break;
    case ActOp::gelu_tanh:
      map2(dx, dy, xy, n, [&](V g, V x) {
        V x2 = x * x;
        V u = vset(kSqrt2OverPi) * fmadd(vset(kGeluC) * x, x2, x);
        V du = vset(kSqrt2OverPi) * fmadd(vset(3.0f * kGeluC), x2, one);
        V s = vsigmoid(u + u);
        V two_x_du = (x + x) * du;
        return g * fmadd(two_x_du, s * (one - s), s);
      });
      break;
    case ActOp::silu:
      map2(dx, dy, xy, n, [&](V g, V x) {
        V s = vsigmoid(x);
        return g * (s * fmadd(x, one - s, one));
      });
      break;
    case ActOp::mish:
      map2(dx, dy, xy, n, [&](V g, V x) {
        V e = vexp(vmin(x, vset(20.0f)));
        V one_minus_t2;
        V t = vmish_t(e, &one_minus_t2);
        V s = e / (one + e);  // sigmoid(x); e <= e^20, so no overflow
        return g * fmadd(x * s, one_minus_t2, t);
      });
      break;
    case ActOp::softplus: {
      const V beta = vset(p.a), thr = vset(p.b);
      map2(dx, dy, xy, n, [&](V g, V x) {
        V z = x * beta;
        return vselect(vgt(z, thr), g, g * vsigmoid(z));
      });
      break;
    }
    case ActOp::elu: {
      const V sc = vset(p.b), sai = vset(p.b * p.a * p.c), is = vset(p.c);
      map2(dx, dy, xy, n,
           [&](V g, V x) { return vselect(vgt(x, zero), g * sc, g * (sai * vexp(x * is))); });
      break;
    }
    case ActOp::hardtanh: {
      const V lo = vset(p.a), hi = vset(p.b);
      map2(dx, dy, xy, n,
           [&](V g, V x) { return vselect(vle(x, lo), zero, vselect(vge(x, hi), zero, g)); });
      break;
    }
    case ActOp::log_sigmoid:
      map2(dx, dy, xy, n, [&](V g, V x) { return g * vsigmoid(zero - x); });
      break;
    case ActOp::exp:  // xy = y
      map2(dx, dy, xy, n, [](V g, V y) { return g * y; });
      break;
    case ActOp::sqrt:  // xy = y
      map2(dx, dy, xy, n, [](V g, V y) { return g / (y + y); });
      break;
    case ActOp::log:  // xy = x
      map2(dx, dy, xy, n, [](V g, V x) { return g / x; });
      break;
    case ActOp::sin:  // xy = x
      map2(dx, dy, xy, n, [](V g, V x) { return g * vsincos<true>(x); });
      break;
    case ActOp::cos:  // xy = x
      map2(dx, dy, xy, n, [&](V g, V x) { return vsincos<false>(x) * (zero - g); });
      break;
    case ActOp::erf:  // xy = x; exp(-x^2) with x^2 = s + t split exactly, as in vnormal_tail
      map2(dx, dy, xy, n, [](V g, V x) {
        V s = x * x;
        V e = vexp_nonpositive(vset(0.0f) - s);
        e = fnmadd(e, fmsub(x, x, s), e);
        return g * (e * vset(kTwoOverSqrtPi));
      });
      break;
    case ActOp::atan:  // xy = x
      map2(dx, dy, xy, n, [&](V g, V x) { return g / (x * x + one); });
      break;
    case ActOp::log1p:  // xy = x
      map2(dx, dy, xy, n, [&](V g, V x) { return g / (x + one); });
      break;
    case ActOp::expm1:  // xy = x: d expm1 = exp
      map2(dx, dy, xy, n, [](V g, V x) { return g * vexp(x); });
      break;
    case ActOp::rsqrt:  // xy = y: d x^(-1/2) = -x^(-3/2) / 2 = -y^3 / 2
      map2(dx, dy, xy, n, [](V g, V y) { return g * vset(-0.5f) * (y * y * y); });
      break;
  }
}

// Row maximum; the masked tail lanes read as -inf. (A NaN in the row reaches the output through
// the exp sum, whatever max does with it.)
inline float row_max(const float* x, int64_t n) {
  V m = vset(-__builtin_inff());
  int64_t i = 0;
  for (; i + W <= n; i += W) m = vmax(m, vload(x + i));
  if (i < n) m = vmax(m, vload_part(x + i, n - i, -__builtin_inff()));
  return vhmax(m);
}

// y = exp(x - m) (if y != nullptr) and returns the sum.
inline float row_exp_sum(float* y, const float* x, float m, int64_t n) {
  V vm = vset(m), s = vset(0.0f);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    V e = vexp_nonpositive(vload(x + i) - vm);
    if (y) vstore(y + i, e);
    s = s + e;
  }
  if (i < n) {
    V e = vexp_part(x + i, n - i, m);
    if (y) vstore_part(y + i, e, n - i);
    s = s + e;
  }
  return vhsum(s);
}

inline float row_dot(const float* a, const float* b, int64_t n) {
  V s = vset(0.0f);
  int64_t i = 0;
  for (; i + W <= n; i += W) s = fmadd(vload(a + i), vload(b + i), s);
  if (i < n) s = fmadd(vload_part(a + i, n - i, 0.0f), vload_part(b + i, n - i, 0.0f), s);
  return vhsum(s);
}

inline float row_sum(const float* a, int64_t n) {
  V s = vset(0.0f);
  int64_t i = 0;
  for (; i + W <= n; i += W) s = s + vload(a + i);
  if (i < n) s = s + vload_part(a + i, n - i, 0.0f);
  return vhsum(s);
}

}  // namespace

void act_forward_f32(ActOp op, float* y, const float* x, ActArgs<float> p, int64_t n) {
  act_forward(op, y, x, p, n);
}

void act_backward_f32(ActOp op, float* dx, const float* dy, const float* xy, ActArgs<float> p,
                      int64_t n) {
  act_backward(op, dx, dy, xy, p, n);
}

// softmax:     y = exp(x - m) / sum exp(x - m)
// log_softmax: y = (x - m) - log(sum exp(x - m)), m = row max (stable for any finite logits)
void softmax_forward_f32(bool log, float* y, const float* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m = row_max(xr, cols);
    if (log) {
      // (x - m) - log(s), not x - (m + log s): m + log s would round at the scale of m.
      V vm = vset(m), ls = vset(__builtin_logf(row_exp_sum(nullptr, xr, m, cols)));
      map1(yr, xr, cols, [&](V v) { return (v - vm) - ls; });
    } else {
      float inv = 1.0f / row_exp_sum(yr, xr, m, cols);
      map1(yr, yr, cols, [&](V v) { return v * vset(inv); });
    }
  }
}

// softmax:     dx = y * (dy - sum(dy * y))
// log_softmax: dx = dy - exp(y) * sum(dy)
void softmax_backward_f32(bool log, float* dx, const float* dy, const float* y, int64_t rows,
                          int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* dyr = dy + r * cols;
    const float* yr = y + r * cols;
    float* dxr = dx + r * cols;
    if (log) {
      V s = vset(row_sum(dyr, cols));
      map2(dxr, dyr, yr, cols, [&](V g, V v) { return fnmadd(vexp_nonpositive(v), s, g); });
    } else {
      V s = vset(row_dot(dyr, yr, cols));
      map2(dxr, dyr, yr, cols, [&](V g, V v) { return v * (g - s); });
    }
  }
}

// The same along a strided axis, on a block of cols <= kSoftmaxColumns neighbouring columns of
// an (n, inner) slab: the running max and sum of each column sit in small arrays, and each pass
// reads the block row after row, so memory is walked in order (the slab's second and third
// passes hit the caches). The last vector of a row may be partial (masked; its idle lanes read
// 0.0 so they compute nothing exceptional).
inline V col_load(const float* p, int64_t lanes) {
  return lanes >= W ? vload(p) : vload_part(p, lanes, 0.0f);
}
inline void col_store(float* p, V v, int64_t lanes) {
  if (lanes >= W)
    vstore(p, v);
  else
    vstore_part(p, v, lanes);
}

void softmax_columns_forward_f32(bool log, float* y, const float* x, int64_t n, int64_t inner,
                                 int64_t cols) {
  alignas(64) float m[kSoftmaxColumns], s[kSoftmaxColumns];
  for (int64_t c = 0; c < cols; c += W) vstore(m + c, vset(-__builtin_inff()));
  for (int64_t c = 0; c < cols; c += W) vstore(s + c, vset(0.0f));
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; c += W)
      vstore(m + c, vmax(vload(m + c), col_load(x + k * inner + c, cols - c)));
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; c += W) {
      V e = vexp_nonpositive(col_load(x + k * inner + c, cols - c) - vload(m + c));
      if (!log) col_store(y + k * inner + c, e, cols - c);
      vstore(s + c, vload(s + c) + e);
    }
  // s becomes what each row needs: log(sum) for log_softmax, 1 / sum for softmax
  for (int64_t c = 0; c < cols; c += W)
    vstore(s + c, log ? vlog_pos(vload(s + c)) : vset(1.0f) / vload(s + c));
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; c += W) {
      const int64_t i = k * inner + c;
      V v = log ? (col_load(x + i, cols - c) - vload(m + c)) - vload(s + c)
                : col_load(y + i, cols - c) * vload(s + c);
      col_store(y + i, v, cols - c);
    }
}

void softmax_columns_backward_f32(bool log, float* dx, const float* dy, const float* y, int64_t n,
                                  int64_t inner, int64_t cols) {
  alignas(64) float s[kSoftmaxColumns];
  for (int64_t c = 0; c < cols; c += W) vstore(s + c, vset(0.0f));
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; c += W) {
      const int64_t i = k * inner + c;
      V g = col_load(dy + i, cols - c);
      vstore(s + c, log ? vload(s + c) + g : fmadd(g, col_load(y + i, cols - c), vload(s + c)));
    }
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; c += W) {
      const int64_t i = k * inner + c;
      V g = col_load(dy + i, cols - c), v = col_load(y + i, cols - c), sc = vload(s + c);
      col_store(dx + i, log ? fnmadd(vexp_nonpositive(v), sc, g) : v * (g - sc), cols - c);
    }
}

}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
#endif  // FASTNN_VEC_NS
