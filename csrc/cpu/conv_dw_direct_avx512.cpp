// conv2d's direct weight gradient (cpu/conv_dw_direct_kernel.h) for AVX-512: one pass per pair of
// output channels and input channel keeps the pair's kh*kw x 2 sums as 16-lane accumulators in
// registers while it walks the slice's images row by row, 16 output columns at a time; a masked
// load of the input row at the tap's offset gives the padding zeros. Everything but the entry
// point has internal linkage.
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv_dw_direct_kernel.h"

namespace fastnn {
namespace avx512 {
namespace {

using V = __m512;

// Lanes [lo, hi) of a vector, clipped to [0, 16).
inline __mmask16 lanes(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > 16 ? 16 : hi;
  if (hi <= lo) return 0;
  return static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
}

// The sum of the 16 lanes (a few per pass, so through memory: GCC 12 warns about the
// cross-lane extracts' undefined source operand).
inline float hsum(V v) {
  alignas(64) float lane[16];
  _mm512_store_ps(lane, v);
  float s = 0.0f;
  for (float f : lane) s += f;
  return s;
}

struct Taps {
  int64_t di[kDwDirectTaps], dj[kDwDirectTaps];  // input row and column of tap t, less oh and ow
  const __mmask16* mask;  // [chunk * T + t]: the lanes of 16 output columns whose input exists
};

// Output channels o0 and o0 + 1 (when present) against input channel c, images [n0, n1).
template <int T>
void pass(float* w, float* b, const float* x, const float* dy, const DwDirectGeom& g,
          const Taps& tp, int64_t n0, int64_t n1, int64_t o0, int64_t c) {
  const bool two = o0 + 1 < g.O, sums = b != nullptr && c == 0;
  const int64_t chunks = (g.Wo + 15) / 16, plane = g.Ho * g.Wo;
  V a0[T], a1[T], s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) a0[t] = a1[t] = _mm512_setzero_ps();
  for (int64_t n = n0; n < n1; ++n) {
    const float* xc = x + (n * g.C + c) * g.H * g.W;
    const float* d0 = dy + (n * g.O + o0) * plane;
    for (int64_t oh = 0; oh < g.Ho; ++oh) {
      for (int64_t q = 0; q < chunks; ++q) {
        const int64_t ow0 = 16 * q;
        const __mmask16 mo = lanes(0, g.Wo - ow0);
        const V y0 = _mm512_maskz_loadu_ps(mo, d0 + oh * g.Wo + ow0);
        const V y1 =
            two ? _mm512_maskz_loadu_ps(mo, d0 + plane + oh * g.Wo + ow0) : _mm512_setzero_ps();
        if (sums) s0 = _mm512_add_ps(s0, y0), s1 = _mm512_add_ps(s1, y1);
        const __mmask16* mq = tp.mask + q * T;
#pragma GCC unroll 9
        for (int t = 0; t < T; ++t) {
          const int64_t ih = oh + tp.di[t];
          if (ih < 0 || ih >= g.H || !mq[t]) continue;
          const V xv = _mm512_maskz_loadu_ps(mq[t], xc + ih * g.W + ow0 + tp.dj[t]);
          a0[t] = _mm512_fmadd_ps(y0, xv, a0[t]);
          a1[t] = _mm512_fmadd_ps(y1, xv, a1[t]);
        }
      }
    }
  }
  const int64_t K = g.C * T;
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) {
    w[o0 * K + c * T + t] = hsum(a0[t]);
    if (two) w[(o0 + 1) * K + c * T + t] = hsum(a1[t]);
  }
  if (sums) {
    b[o0] = hsum(s0);
    if (two) b[o0 + 1] = hsum(s1);
  }
}

template <int T>
void run(float* w, float* b, const float* x, const float* dy, const DwDirectGeom& g, const Taps& tp,
         int64_t n0, int64_t n1) {
  for (int64_t o0 = 0; o0 < g.O; o0 += 2)
    for (int64_t c = 0; c < g.C; ++c) pass<T>(w, b, x, dy, g, tp, n0, n1, o0, c);
}

}  // namespace
}  // namespace avx512

void conv_dw_direct_f32_avx512(float* w, float* b, const float* x, const float* dy,
                               const DwDirectGeom& g, int64_t n0, int64_t n1) {
  using avx512::lanes;
  const int T = static_cast<int>(g.kh * g.kw);
  const int64_t chunks = (g.Wo + 15) / 16;
  __mmask16 mask[kDwDirectMaxWo / 16 * kDwDirectTaps];
  avx512::Taps tp;
  for (int t = 0; t < T; ++t) {
    tp.di[t] = t / g.kw * g.dh - g.ph;
    tp.dj[t] = t % g.kw * g.dw - g.pw;
    for (int64_t q = 0; q < chunks; ++q) {
      const int64_t iw0 = 16 * q + tp.dj[t];  // input column of lane 0
      mask[q * T + t] = lanes(0, g.Wo - 16 * q) & lanes(-iw0, g.W - iw0);
    }
  }
  tp.mask = mask;
  switch (T) {
    case 1:
      return avx512::run<1>(w, b, x, dy, g, tp, n0, n1);
    case 2:
      return avx512::run<2>(w, b, x, dy, g, tp, n0, n1);
    case 3:
      return avx512::run<3>(w, b, x, dy, g, tp, n0, n1);
    case 4:
      return avx512::run<4>(w, b, x, dy, g, tp, n0, n1);
    case 5:
      return avx512::run<5>(w, b, x, dy, g, tp, n0, n1);
    case 6:
      return avx512::run<6>(w, b, x, dy, g, tp, n0, n1);
    case 7:
      return avx512::run<7>(w, b, x, dy, g, tp, n0, n1);
    case 8:
      return avx512::run<8>(w, b, x, dy, g, tp, n0, n1);
    default:
      return avx512::run<9>(w, b, x, dy, g, tp, n0, n1);
  }
}

}  // namespace fastnn
