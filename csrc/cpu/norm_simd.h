// The float32 run loops of the normalization kernels (batch_norm.cpp, layer_norm.cpp), written
// once over the vector type V of vec_avx512.h / vec_avx2.h. norm_avx512.cpp / norm_avx2.cpp define
// FASTNN_VEC_NS (by including their vec_*.h first) and compile the bodies with their ISA flags;
// norm_ops.cpp holds the generic entries and picks the active table. A run is n contiguous
// elements; every entry does what its generic twin in cpu/norm_sums.h does:
//   sum, centered_sq: sums in float vectors over chunks of kChunk elements, the chunks added in
//     double (sum adds x - x[0] and n x[0] in double; centered_sq centres with the split mean
//     hi + lo, see norm::Centre): float partial sums of values near a large mean stay exact;
//   grad_sums: adds sum g and sum g (x - mean) to *s_g, *s_gx, g = dy * (w ? w : ws);
//   affine: y = (x - mean) * k * (w ? w : 1) + (b ? b : shift);
//   backward: dx = k_g (dy (w ? w : ws) - m_g) + k_x (x - mean) (dx may be null), and, when given,
//     pw += dy (x - mean) k_g, pb += dy.
#pragma once
#include <stdint.h>

namespace fastnn {

struct NormOpsF32 {
  double (*sum)(const float* x, int64_t n);
  double (*centered_sq)(const float* x, int64_t n, float hi, float lo);
  void (*grad_sums)(const float* dy, const float* w, float ws, const float* x, int64_t n, float hi,
                    float lo, double* s_g, double* s_gx);
  void (*affine)(float* y, const float* x, int64_t n, float hi, float lo, float k, const float* w,
                 const float* b, float shift);
  void (*backward)(float* dx, float* pw, float* pb, const float* dy, const float* w, float ws,
                   const float* x, int64_t n, float hi, float lo, float k_g, float m_g, float k_x);
  // batch_norm's column path: one row of n columns, per-column arrays (cpu/norm_cols.h).
  void (*col_add)(float* acc, const float* x, const float* shift, int64_t n);
  void (*col_add_centered_sq)(float* acc, const float* x, const float* hi, const float* lo,
                              int64_t n);
  void (*col_add_grad)(float* a, float* b, const float* dy, const float* x, const float* hi,
                       const float* lo, int64_t n);
  void (*col_affine)(float* y, const float* x, const float* hi, const float* lo, const float* k,
                     const float* shift, int64_t n);
  void (*col_backward)(float* dx, const float* dy, const float* x, const float* hi, const float* lo,
                       const float* k_g, const float* m_g, const float* k_x, int64_t n);
};

const NormOpsF32& norm_ops_f32();  // the active ISA's entries (cpu/cpu_features.h)

#define FASTNN_NORM_SIMD_ENTRIES                                                                   \
  double norm_sum_f32(const float* x, int64_t n);                                                  \
  double norm_centered_sq_f32(const float* x, int64_t n, float hi, float lo);                      \
  void norm_grad_sums_f32(const float* dy, const float* w, float ws, const float* x, int64_t n,    \
                          float hi, float lo, double* s_g, double* s_gx);                          \
  void norm_affine_f32(float* y, const float* x, int64_t n, float hi, float lo, float k,           \
                       const float* w, const float* b, float shift);                               \
  void norm_backward_f32(float* dx, float* pw, float* pb, const float* dy, const float* w,         \
                         float ws, const float* x, int64_t n, float hi, float lo, float k_g,       \
                         float m_g, float k_x);                                                    \
  void norm_col_add_f32(float* acc, const float* x, const float* shift, int64_t n);                \
  void norm_col_add_centered_sq_f32(float* acc, const float* x, const float* hi, const float* lo,  \
                                    int64_t n);                                                    \
  void norm_col_add_grad_f32(float* a, float* b, const float* dy, const float* x, const float* hi, \
                             const float* lo, int64_t n);                                          \
  void norm_col_affine_f32(float* y, const float* x, const float* hi, const float* lo,             \
                           const float* k, const float* shift, int64_t n);                         \
  void norm_col_backward_f32(float* dx, const float* dy, const float* x, const float* hi,          \
                             const float* lo, const float* k_g, const float* m_g,                  \
                             const float* k_x, int64_t n);
namespace avx512 {
FASTNN_NORM_SIMD_ENTRIES
}
namespace avx2 {
FASTNN_NORM_SIMD_ENTRIES
}
#undef FASTNN_NORM_SIMD_ENTRIES

}  // namespace fastnn

#ifdef FASTNN_VEC_NS
#include "cpu/norm_cols.h"

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

constexpr int64_t kChunk = 1024;  // float partial sums stay this short, then go to double

inline V centre(V x, V hi, V lo) { return (x - hi) - lo; }
inline float centre(float x, float hi, float lo) { return (x - hi) - lo; }
inline int64_t chunk_len(int64_t n, int64_t c0) { return n - c0 < kChunk ? n - c0 : kChunk; }

}  // namespace

double norm_sum_f32(const float* x, int64_t n) {
  // Sums of x - x[0] (exact when x is near x[0]): a large mean does not cost the float partial
  // sums their precision; n x[0] is added back in double.
  if (n <= 0) return 0.0;
  const float x0 = x[0];
  const V s = vset(x0);
  double total = 0;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t m = chunk_len(n, c0);
    const float* p = x + c0;
    V a0 = vset(0), a1 = vset(0), a2 = vset(0), a3 = vset(0);
    int64_t i = 0;
    for (; i + 4 * W <= m; i += 4 * W) {
      a0 = a0 + (vload(p + i) - s);
      a1 = a1 + (vload(p + i + W) - s);
      a2 = a2 + (vload(p + i + 2 * W) - s);
      a3 = a3 + (vload(p + i + 3 * W) - s);
    }
    for (; i + W <= m; i += W) a0 = a0 + (vload(p + i) - s);
    float tail = 0;
    for (; i < m; ++i) tail += p[i] - x0;
    total += static_cast<double>(vhsum((a0 + a1) + (a2 + a3))) + static_cast<double>(tail);
  }
  return total + static_cast<double>(n) * static_cast<double>(x0);
}

double norm_centered_sq_f32(const float* x, int64_t n, float hi, float lo) {
  const V h = vset(hi), l = vset(lo);
  double total = 0;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t m = chunk_len(n, c0);
    const float* p = x + c0;
    V a0 = vset(0), a1 = vset(0), a2 = vset(0), a3 = vset(0);
    int64_t i = 0;
    for (; i + 4 * W <= m; i += 4 * W) {
      const V d0 = centre(vload(p + i), h, l), d1 = centre(vload(p + i + W), h, l);
      const V d2 = centre(vload(p + i + 2 * W), h, l), d3 = centre(vload(p + i + 3 * W), h, l);
      a0 = fmadd(d0, d0, a0);
      a1 = fmadd(d1, d1, a1);
      a2 = fmadd(d2, d2, a2);
      a3 = fmadd(d3, d3, a3);
    }
    for (; i + W <= m; i += W) {
      const V d = centre(vload(p + i), h, l);
      a0 = fmadd(d, d, a0);
    }
    float tail = 0;
    for (; i < m; ++i) {
      const float d = centre(p[i], hi, lo);
      tail += d * d;
    }
    total += static_cast<double>(vhsum((a0 + a1) + (a2 + a3))) + static_cast<double>(tail);
  }
  return total;
}

void norm_grad_sums_f32(const float* dy, const float* w, float ws, const float* x, int64_t n,
                        float hi, float lo, double* s_g, double* s_gx) {
  const V h = vset(hi), l = vset(lo), wsv = vset(ws);
  double tg = 0, tgx = 0;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t m = chunk_len(n, c0);
    const float *pd = dy + c0, *px = x + c0, *pw = w ? w + c0 : nullptr;
    V g0 = vset(0), g1 = vset(0), x0 = vset(0), x1 = vset(0);
    int64_t i = 0;
    for (; i + 2 * W <= m; i += 2 * W) {
      const V ga = vload(pd + i) * (pw ? vload(pw + i) : wsv);
      const V gb = vload(pd + i + W) * (pw ? vload(pw + i + W) : wsv);
      g0 = g0 + ga;
      g1 = g1 + gb;
      x0 = fmadd(ga, centre(vload(px + i), h, l), x0);
      x1 = fmadd(gb, centre(vload(px + i + W), h, l), x1);
    }
    float tail_g = 0, tail_gx = 0;
    for (; i < m; ++i) {
      const float g = pd[i] * (pw ? pw[i] : ws);
      tail_g += g;
      tail_gx += g * centre(px[i], hi, lo);
    }
    tg += static_cast<double>(vhsum(g0 + g1)) + static_cast<double>(tail_g);
    tgx += static_cast<double>(vhsum(x0 + x1)) + static_cast<double>(tail_gx);
  }
  *s_g += tg;
  *s_gx += tgx;
}

void norm_affine_f32(float* y, const float* x, int64_t n, float hi, float lo, float k,
                     const float* w, const float* b, float shift) {
  const V h = vset(hi), l = vset(lo), kv = vset(k), sv = vset(shift);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    V t = centre(vload(x + i), h, l) * kv;
    if (w) t = t * vload(w + i);
    vstore(y + i, t + (b ? vload(b + i) : sv));
  }
  for (; i < n; ++i) {
    float t = centre(x[i], hi, lo) * k;
    if (w) t = t * w[i];
    y[i] = t + (b ? b[i] : shift);
  }
}

void norm_backward_f32(float* dx, float* pw, float* pb, const float* dy, const float* w, float ws,
                       const float* x, int64_t n, float hi, float lo, float k_g, float m_g,
                       float k_x) {
  const V h = vset(hi), l = vset(lo), kg = vset(k_g), mg = vset(m_g), kx = vset(k_x);
  const V wsv = vset(ws);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    const V d = vload(dy + i), c = centre(vload(x + i), h, l);
    if (pw) vstore(pw + i, fmadd(d, c * kg, vload(pw + i)));
    if (pb) vstore(pb + i, vload(pb + i) + d);
    if (dx) vstore(dx + i, fmadd(kg, d * (w ? vload(w + i) : wsv) - mg, kx * c));
  }
  for (; i < n; ++i) {
    const float d = dy[i], c = centre(x[i], hi, lo);
    if (pw) pw[i] += d * (c * k_g);
    if (pb) pb[i] += d;
    if (dx) dx[i] = k_g * (d * (w ? w[i] : ws) - m_g) + k_x * c;
  }
}

void norm_col_add_f32(float* acc, const float* x, const float* shift, int64_t n) {
  col_add(acc, x, shift, n);
}
void norm_col_add_centered_sq_f32(float* acc, const float* x, const float* hi, const float* lo,
                                  int64_t n) {
  col_add_centered_sq(acc, x, hi, lo, n);
}
void norm_col_add_grad_f32(float* a, float* b, const float* dy, const float* x, const float* hi,
                           const float* lo, int64_t n) {
  col_add_grad(a, b, dy, x, hi, lo, n);
}
void norm_col_affine_f32(float* y, const float* x, const float* hi, const float* lo, const float* k,
                         const float* shift, int64_t n) {
  col_affine(y, x, hi, lo, k, shift, n);
}
void norm_col_backward_f32(float* dx, const float* dy, const float* x, const float* hi,
                           const float* lo, const float* k_g, const float* m_g, const float* k_x,
                           int64_t n) {
  col_backward(dx, dy, x, hi, lo, k_g, m_g, k_x, n);
}

}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
#endif  // FASTNN_VEC_NS
