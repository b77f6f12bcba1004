// The float32 SIMD rows of softmax cross-entropy, written once over the vector type V of
// vec_avx512.h / vec_avx2.h. Read by two kinds of files:
//  - the driver cpu/softmax_cross_entropy.cpp, for the declarations of the per-ISA entry points;
//  - softmax_cross_entropy_avx512.cpp / _avx2.cpp, which define FASTNN_VEC_NS (by including
//    their vec_*.h first) and so compile the bodies below with their ISA flags.
// The formulas, and what the driver does around them (target validation, ignored rows,
// threading, reduction in double), are in cpu/softmax_cross_entropy.cpp.
#pragma once
#include <stdint.h>

namespace fastnn {

#define FASTNN_XENT_SIMD_ENTRIES                                                                  \
  /* one row: loss of target t, gradient into g (if not null); see the driver for the formulas */ \
  float xent_row_index_f32(float* g, const float* z, int64_t C, int64_t t, const float* w,        \
                           float eps, float w_total, float scale);                                \
  /* four consecutive rows, index targets, no label smoothing, C <= twice the vector width */     \
  void xent_rows4_narrow_f32(float* loss4, float* g, const float* z, int64_t C, const int64_t* t, \
                             const float* w, float scale);                                        \
  /* one row of probability targets q */                                                          \
  float xent_row_prob_f32(float* g, const float* z, const float* q, int64_t C, const float* w,    \
                          float eps, float scale);
namespace avx512 {
FASTNN_XENT_SIMD_ENTRIES
}
namespace avx2 {
FASTNN_XENT_SIMD_ENTRIES
}
#undef FASTNN_XENT_SIMD_ENTRIES

}  // namespace fastnn

#ifdef FASTNN_VEC_NS
#include "cpu/vec_math.h"

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

const float kNegInf = -__builtin_inff();

inline float xrow_max(const float* x, int64_t n) {
  V m = vset(kNegInf);
  int64_t i = 0;
  for (; i + W <= n; i += W) m = vmax(m, vload(x + i));
  if (i < n) m = vmax(m, vload_part(x + i, n - i, kNegInf));
  return vhmax(m);
}

// g = e*a - b*w (w null: - b), over n elements of e (in g) and w.
inline void xrow_grad(float* g, const float* w, float a, float b, int64_t n) {
  V va = vset(a), vb = vset(b);
  int64_t i = 0;
  if (w) {
    for (; i + W <= n; i += W) vstore(g + i, fmsub(vload(g + i), va, vb * vload(w + i)));
    if (i < n)
      vstore_part(g + i,
                  fmsub(vload_part(g + i, n - i, 0.f), va, vb * vload_part(w + i, n - i, 0.f)),
                  n - i);
  } else {
    for (; i + W <= n; i += W) vstore(g + i, fmsub(vload(g + i), va, vb));
    if (i < n) vstore_part(g + i, fmsub(vload_part(g + i, n - i, 0.f), va, vb), n - i);
  }
}

}  // namespace

float xent_row_index_f32(float* g, const float* z, int64_t C, int64_t t, const float* w, float eps,
                         float w_total, float scale) {
  const float m = xrow_max(z, C);
  const V vm = vset(m);
  V s = vset(0.0f), sm = vset(0.0f);  // sum exp(z - m); sum w_c (m - z_c) (smoothing only)
  const bool smooth = eps > 0.0f;
  int64_t i = 0;
  for (; i + W <= C; i += W) {
    V zi = vload(z + i);
    V e = vexp_nonpositive(zi - vm);
    if (g) vstore(g + i, e);
    s = s + e;
    if (smooth) sm = w ? fmadd(vload(w + i), vm - zi, sm) : sm + (vm - zi);
  }
  if (i < C) {
    int64_t r = C - i;
    V e = vexp_part(z + i, r, m);
    if (g) vstore_part(g + i, e, r);
    s = s + e;
    if (smooth) {
      V d = vm - vload_part(z + i, r, m);  // padding lanes give 0
      sm = w ? fmadd(vload_part(w + i, r, 0.f), d, sm) : sm + d;
    }
  }
  const float sum = vhsum(s), ls = __builtin_logf(sum);
  const float wt = w ? w[t] : 1.0f;
  float loss = (1.0f - eps) * wt * ((m - z[t]) + ls);
  if (smooth) loss += (eps / float(C)) * (vhsum(sm) + w_total * ls);
  if (g) {
    const float a = scale * ((1.0f - eps) * wt + (eps / float(C)) * w_total) / sum;
    xrow_grad(g, w, a, scale * eps / float(C), C);
    g[t] -= scale * (1.0f - eps) * wt;
  }
  return loss;
}

// [note: narrow rows] With C <= 2W a row is one or two vectors, and alone it is one long
// dependency chain (max -> exp -> sum -> log) that leaves the core mostly idle: 10-class rows (a
// small classifier's output layer) cost ~45 ns each that way on AVX-512, ~70 on AVX2 (two
// vectors). Four independent rows side by side fill the pipeline. Same formulas and the same
// operations in the same order as xent_row_index_f32 with eps = 0, so the same bits:
// loss = w_t (m - z_t + log s), g = e * scale * w_t / s, g_t -= scale * w_t.
void xent_rows4_narrow_f32(float* loss4, float* g, const float* z, int64_t C, const int64_t* t,
                           const float* w, float scale) {
  const int64_t n0 = C < W ? C : W, n1 = C - n0;  // lanes of the first and the second vector
  V e0[4], e1[4];
  float m[4], s[4];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) {
    const float* zr = z + r * C;
    const V z0 = vload_part(zr, n0, kNegInf);
    const V z1 = n1 ? vload_part(zr + W, n1, kNegInf) : vset(kNegInf);
    m[r] = vhmax(n1 ? vmax(vmax(vset(kNegInf), z0), z1) : vmax(vset(kNegInf), z0));
    e0[r] = vexp_part(zr, n0, m[r]);
    e1[r] = n1 ? vexp_part(zr + W, n1, m[r]) : vset(0.0f);
    s[r] = vhsum(n1 ? e0[r] + e1[r] : e0[r]);
  }
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) {
    const float wt = w ? w[t[r]] : 1.0f;
    loss4[r] = wt * ((m[r] - z[r * C + t[r]]) + __builtin_logf(s[r]));
    if (g) {
      float* gr = g + r * C;
      const V a = vset(scale * wt / s[r]);
      vstore_part(gr, e0[r] * a, n0);
      if (n1) vstore_part(gr + W, e1[r] * a, n1);
      gr[t[r]] -= scale * wt;
    }
  }
}

float xent_row_prob_f32(float* g, const float* z, const float* q, int64_t C, const float* w,
                        float eps, float scale) {
  const float m = xrow_max(z, C);
  const V vm = vset(m), keep = vset(1.0f - eps), add = vset(eps / float(C));
  V s = vset(0.0f), S = vset(0.0f), acc = vset(0.0f);  // sum e; sum w q'; sum w q' (m - z)
  int64_t i = 0;
  for (; i + W <= C; i += W) {
    V zi = vload(z + i);
    V e = vexp_nonpositive(zi - vm);
    if (g) vstore(g + i, e);
    s = s + e;
    V wq = fmadd(vload(q + i), keep, add);
    if (w) wq = wq * vload(w + i);
    S = S + wq;
    acc = fmadd(wq, vm - zi, acc);
  }
  if (i < C) {
    int64_t r = C - i;
    V e = vexp_part(z + i, r, m);
    if (g) vstore_part(g + i, e, r);
    s = s + e;
    V wq = fmadd(vload_part(q + i, r, 0.f), keep, add) *
           (w ? vload_part(w + i, r, 0.f) : vfirst(vset(1.0f), r));
    S = S + wq;
    acc = fmadd(wq, vm - vload_part(z + i, r, m), acc);
  }
  const float sum = vhsum(s), Ssum = vhsum(S);
  const float loss = vhsum(acc) + Ssum * __builtin_logf(sum);
  if (g) {
    // g = e * scale S / sum - scale w q'
    const V a = vset(scale * Ssum / sum), b = vset(scale);
    for (i = 0; i + W <= C; i += W) {
      V wq = fmadd(vload(q + i), keep, add);
      if (w) wq = wq * vload(w + i);
      vstore(g + i, fmsub(vload(g + i), a, b * wq));
    }
    if (i < C) {
      int64_t r = C - i;
      V wq = fmadd(vload_part(q + i, r, 0.f), keep, add);
      if (w) wq = wq * vload_part(w + i, r, 0.f);
      vstore_part(g + i, fmsub(vload_part(g + i, r, 0.f), a, b * wq), r);
    }
  }
  return loss;
}

}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
#endif  // FASTNN_VEC_NS
