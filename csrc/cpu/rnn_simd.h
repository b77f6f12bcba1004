// The float32 SIMD bodies of the fused LSTM / GRU cells, written once over the vector type V of
// vec_avx512.h / vec_avx2.h (the pattern of activations_simd.h). Each entry handles one row
// segment [j0, j1) of one batch row: pointers are to the row's start, H-wide state rows and
// 4H- or 3H-wide gate rows. The formulas mirror csrc/rnn_math.h term by term; sigmoid and tanh
// are the vector versions of vec_math.h (a few ulp of libm).
#pragma once
#include <stdint.h>

namespace fastnn {

#define FASTNN_RNN_SIMD_ENTRIES                                                                   \
  void lstm_fwd_f32(float* h, float* c, float* act, const float* gates, const float* c_prev,      \
                    int64_t H, int64_t j0, int64_t j1);                                           \
  void lstm_bwd_f32(float* dgates, float* dc_prev, const float* dh, const float* dc,              \
                    const float* act, const float* c_prev, const float* c, int64_t H, int64_t j0, \
                    int64_t j1);                                                                  \
  void gru_fwd_f32(float* h, float* act, const float* gi, const float* gh, const float* h_prev,   \
                   int64_t H, int64_t j0, int64_t j1);                                            \
  void gru_bwd_f32(float* dgi, float* dgh, float* dh_prev, const float* dh, const float* act,     \
                   const float* h_prev, int64_t H, int64_t j0, int64_t j1);
namespace avx512 {
FASTNN_RNN_SIMD_ENTRIES
}
namespace avx2 {
FASTNN_RNN_SIMD_ENTRIES
}
#undef FASTNN_RNN_SIMD_ENTRIES

}  // namespace fastnn

#ifdef FASTNN_VEC_NS
#include "cpu/vec_math.h"

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

// Loads W lanes at p + j, or the n < W remaining ones (zero-filled) in the tail.
inline V ld(const float* p, int64_t j, int64_t n) {
  return n == W ? vload(p + j) : vload_part(p + j, n, 0.0f);
}
inline void st(float* p, int64_t j, V v, int64_t n) {
  if (n == W)
    vstore(p + j, v);
  else
    vstore_part(p + j, v, n);
}

// Calls f(j, n) for the vectors of [j0, j1), n lanes each (n < W only in the last one).
template <class F>
inline void each_vector(int64_t j0, int64_t j1, F f) {
  for (int64_t j = j0; j < j1; j += W) f(j, j1 - j < W ? j1 - j : W);
}

}  // namespace

void lstm_fwd_f32(float* h, float* c, float* act, const float* gates, const float* c_prev,
                  int64_t H, int64_t j0, int64_t j1) {
  each_vector(j0, j1, [&](int64_t j, int64_t n) {
    const V i = vsigmoid(ld(gates, j, n)), f = vsigmoid(ld(gates + H, j, n));
    const V g = vtanh(ld(gates + 2 * H, j, n)), o = vsigmoid(ld(gates + 3 * H, j, n));
    const V cn = fmadd(f, ld(c_prev, j, n), i * g);
    st(c, j, cn, n);
    st(h, j, o * vtanh(cn), n);
    st(act, j, i, n);
    st(act + H, j, f, n);
    st(act + 2 * H, j, g, n);
    st(act + 3 * H, j, o, n);
  });
}

void lstm_bwd_f32(float* dgates, float* dc_prev, const float* dh, const float* dc, const float* act,
                  const float* c_prev, const float* c, int64_t H, int64_t j0, int64_t j1) {
  const V one = vset(1.0f);
  each_vector(j0, j1, [&](int64_t j, int64_t n) {
    const V i = ld(act, j, n), f = ld(act + H, j, n), g = ld(act + 2 * H, j, n);
    const V o = ld(act + 3 * H, j, n), dhv = ld(dh, j, n);
    const V tc = vtanh(ld(c, j, n));
    const V dcv = dc ? ld(dc, j, n) : vset(0.0f);
    const V dcc = dcv + dhv * o * fnmadd(tc, tc, one);
    st(dgates, j, dcc * g * i * (one - i), n);
    st(dgates + H, j, dcc * ld(c_prev, j, n) * f * (one - f), n);
    st(dgates + 2 * H, j, dcc * i * fnmadd(g, g, one), n);
    st(dgates + 3 * H, j, dhv * tc * o * (one - o), n);
    st(dc_prev, j, dcc * f, n);
  });
}

void gru_fwd_f32(float* h, float* act, const float* gi, const float* gh, const float* h_prev,
                 int64_t H, int64_t j0, int64_t j1) {
  const V one = vset(1.0f);
  each_vector(j0, j1, [&](int64_t j, int64_t n) {
    const V r = vsigmoid(ld(gi, j, n) + ld(gh, j, n));
    const V z = vsigmoid(ld(gi + H, j, n) + ld(gh + H, j, n));
    const V ghn = ld(gh + 2 * H, j, n);
    const V nn = vtanh(ld(gi + 2 * H, j, n) + r * ghn);
    st(h, j, (one - z) * nn + z * ld(h_prev, j, n), n);
    st(act, j, r, n);
    st(act + H, j, z, n);
    st(act + 2 * H, j, nn, n);
    st(act + 3 * H, j, ghn, n);
  });
}

void gru_bwd_f32(float* dgi, float* dgh, float* dh_prev, const float* dh, const float* act,
                 const float* h_prev, int64_t H, int64_t j0, int64_t j1) {
  const V one = vset(1.0f);
  each_vector(j0, j1, [&](int64_t j, int64_t n) {
    const V r = ld(act, j, n), z = ld(act + H, j, n), nn = ld(act + 2 * H, j, n);
    const V ghn = ld(act + 3 * H, j, n), dhv = ld(dh, j, n);
    const V dn = dhv * (one - z) * fnmadd(nn, nn, one);
    const V dz = dhv * (ld(h_prev, j, n) - nn) * z * (one - z);
    const V dr = dn * ghn * r * (one - r);
    st(dgi, j, dr, n);
    st(dgh, j, dr, n);
    st(dgi + H, j, dz, n);
    st(dgh + H, j, dz, n);
    st(dgi + 2 * H, j, dn, n);
    st(dgh + 2 * H, j, dn * r, n);
    st(dh_prev, j, dhv * z, n);
  });
}

}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
#endif  // FASTNN_VEC_NS
