// conv2d's direct paths (cpu/conv_direct_kernel.h) for AVX2, with the pixels of an output row as
// the 8 lanes of a vector, read from an image padded with its zero border (plain loads at each
// tap's offset). The AVX-512 unit's shapes, narrowed to 16 registers: the forward pass keeps 2 rows
// x 4 output channels of sums, dW one output channel's taps. dW's running sums keep the AVX-512
// layout (16 floats per sum), the upper 8 zero, so the driver adds them up the same way.
// Everything but the entry points has internal linkage.
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv_direct_kernel.h"
#include "cpu/vec_avx2.h"  // tail_mask, vstore_part; defines FASTNN_VEC_NS for the one below

#include "cpu/conv_direct_taps.h"

namespace fastnn {
namespace avx2 {
namespace {

// off[t] = tap t's offset in a padded plane with rows of Wp floats.
template <int T>
inline void tap_offsets(int64_t* off, const ConvDirectGeom& g, int64_t Wp) {
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) off[t] = t / g.kw * g.dh * Wp + t % g.kw * g.dw;
}

// ---- forward ---------------------------------------------------------------------------------
// Output rows [oh, oh + R) of OB channels (planes of yo), 8 columns at a time, the sums over the
// patch rows in order from zero and the bias last, as the AVX-512 unit (and the packed GEMM).
template <int T, int OB, int R>
void forward_rows(float* yo, const float* data, int64_t Wp, int64_t S, const float* wp,
                  const __m256* bias, const ConvDirectGeom& g, int64_t oh) {
  const int64_t chunks = (g.Wo + 7) / 8, plane = g.Ho * g.Wo;
  int64_t off[T];
  tap_offsets<T>(off, g, Wp);
  // Right to left: a store past the row's end writes the first columns of the next row, which are
  // stored afterwards; only the plane's last vector is stored in part (vstore_part).
  for (int64_t ow0 = 8 * (chunks - 1); ow0 >= 0; ow0 -= 8) {
    __m256 acc[R][OB];
    for (int i = 0; i < R; ++i)
      for (int r = 0; r < OB; ++r) acc[i][r] = _mm256_setzero_ps();
    for (int64_t c = 0; c < g.C; ++c) {
      const float* src = data + c * S + oh * Wp + ow0;
      const float* wc = wp + c * T * OB;
#pragma GCC unroll 9
      for (int t = 0; t < T; ++t) {
        __m256 xv[R];
        for (int i = 0; i < R; ++i) xv[i] = _mm256_loadu_ps(src + i * Wp + off[t]);
        for (int r = 0; r < OB; ++r) {
          const __m256 wv = _mm256_broadcast_ss(wc + t * OB + r);
          for (int i = 0; i < R; ++i) acc[i][r] = _mm256_fmadd_ps(wv, xv[i], acc[i][r]);
        }
      }
    }
    for (int i = 0; i < R; ++i) {
      const int64_t at = (oh + i) * g.Wo + ow0;
      for (int r = 0; r < OB; ++r) {
        const __m256 v = _mm256_add_ps(acc[i][r], bias[r]);
        float* dst = yo + r * plane + at;
        if (at + 8 <= plane)
          _mm256_storeu_ps(dst, v);
        else
          vstore_part(dst, V{v}, plane - at);
      }
    }
  }
}

// Output channels [o0, o0 + OB) of one image into the planes from yo.
template <int T, int OB>
void forward_block(float* yo, const PaddedImage& xp, const float* w, const float* b,
                   const ConvDirectGeom& g, int64_t o0) {
  const int64_t K = g.C * T;
  float wp[kConvDirectPatchRows * OB];  // wp[k * OB + r] = w[o0 + r, k]
  for (int64_t k = 0; k < K; ++k)
    for (int r = 0; r < OB; ++r) wp[k * OB + r] = w[(o0 + r) * K + k];
  __m256 bias[OB];
  for (int r = 0; r < OB; ++r) bias[r] = b ? _mm256_set1_ps(b[o0 + r]) : _mm256_setzero_ps();
  for (int64_t oh = 0; oh < g.Ho; oh += 2) {
    if (oh + 1 < g.Ho)
      forward_rows<T, OB, 2>(yo, xp.data, xp.Wp, xp.S, wp, bias, g, oh);
    else
      forward_rows<T, OB, 1>(yo, xp.data, xp.Wp, xp.S, wp, bias, g, oh);
  }
}

template <int T>
void forward_blocks(float* yo, const PaddedImage& xp, const float* w, const float* b,
                    const ConvDirectGeom& g, int64_t o0, int64_t ob) {
  const int64_t plane = g.Ho * g.Wo;
  for (; ob >= 4; ob -= 4, o0 += 4, yo += 4 * plane) forward_block<T, 4>(yo, xp, w, b, g, o0);
  if (ob >= 2) forward_block<T, 2>(yo, xp, w, b, g, o0), ob -= 2, o0 += 2, yo += 2 * plane;
  if (ob >= 1) forward_block<T, 1>(yo, xp, w, b, g, o0);
}

// dst[0, n) = src[0, n), non-temporal where dst is 64-byte aligned, then a store fence.
void stream_copy(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i < n && reinterpret_cast<uintptr_t>(dst + i) % 64 != 0; ++i) dst[i] = src[i];
  for (; i + 16 <= n; i += 16) {
    _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i));
    _mm256_stream_ps(dst + i + 8, _mm256_loadu_ps(src + i + 8));
  }
  for (; i < n; ++i) dst[i] = src[i];
  _mm_sfence();
}

// ---- weight gradient -------------------------------------------------------------------------
// One pass per output channel and input channel holds its kh*kw sums (and dy's sum) in registers
// while it walks the image row by row; between images they wait in `acc`.

// The products of 8 output columns at src (padded input) and d (dy); with M, the first `n` lanes
// only (a row's last, partial vector: the lanes past it would read the next row's inputs, which
// may not be finite).
template <int T, bool M>
inline void dw_step(__m256* a, __m256& s, const float* src, const int64_t* off, const float* d,
                    bool sums, __m256i m) {
  const __m256 y = M ? _mm256_maskload_ps(d, m) : _mm256_loadu_ps(d);
  if (sums) s = _mm256_add_ps(s, y);
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) {
    const __m256 xv = M ? _mm256_maskload_ps(src + off[t], m) : _mm256_loadu_ps(src + off[t]);
    a[t] = _mm256_fmadd_ps(y, xv, a[t]);
  }
}

// Output channel o against input channel c of image xp.n.
template <int T>
void dw_pass(float* acc, const PaddedImage& xp, const float* dy, const ConvDirectGeom& g, int64_t o,
             int64_t c, bool first, bool with_sums) {
  const bool sums = with_sums && c == 0;
  const int64_t full = g.Wo / 8 * 8, plane = g.Ho * g.Wo;
  const __m256i m = tail_mask(g.Wo - full);
  int64_t off[T];
  tap_offsets<T>(off, g, xp.Wp);
  // The sum of tap t sits at at[32 t + 16 e], e = o % 2 (the AVX-512 pairs' layout).
  float* at = acc + ((o / 2 * g.C + c) * T) * 32 + o % 2 * 16;
  float* st = acc + ((g.O + 1) / 2 * g.C * T + o / 2) * 32 + o % 2 * 16;
  __m256 a[T], s;
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) a[t] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(at + 32 * t);
  s = first || !sums ? _mm256_setzero_ps() : _mm256_loadu_ps(st);
  const float* xc = xp.data + c * xp.S;
  const float* d = dy + (xp.n * g.O + o) * plane;
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const float* src = xc + oh * xp.Wp;
    const float* d0 = d + oh * g.Wo;
    for (int64_t ow0 = 0; ow0 < full; ow0 += 8)
      dw_step<T, false>(a, s, src + ow0, off, d0 + ow0, sums, m);
    if (full < g.Wo) dw_step<T, true>(a, s, src + full, off, d0 + full, sums, m);
  }
  const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) {
    _mm256_storeu_ps(at + 32 * t, a[t]);
    if (first) _mm256_storeu_ps(at + 32 * t + 8, zero);
  }
  if (sums) {
    _mm256_storeu_ps(st, s);
    if (first) _mm256_storeu_ps(st + 8, zero);
  }
}

template <int T>
void dw_passes(float* acc, const PaddedImage& xp, const float* dy, const ConvDirectGeom& g,
               bool first, bool sums) {
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < g.C; ++c) dw_pass<T>(acc, xp, dy, g, o, c, first, sums);
}

}  // namespace
}  // namespace avx2

void conv_direct_forward_f32_avx2(float* y, const PaddedImage& xp, const float* w, const float* b,
                                  const ConvDirectGeom& g, int64_t o0, int64_t ob, float* stage) {
  float* dst = y + (xp.n * g.O + o0) * g.Ho * g.Wo;
  avx2::with_taps(g.kh * g.kw, [&](auto T) {
    avx2::forward_blocks<decltype(T)::value>(stage ? stage : dst, xp, w, b, g, o0, ob);
  });
  if (stage) avx2::stream_copy(dst, stage, ob * g.Ho * g.Wo);
}

void conv_direct_dw_f32_avx2(float* acc, const PaddedImage& xp, const float* dy,
                             const ConvDirectGeom& g, bool first, bool sums) {
  avx2::with_taps(g.kh * g.kw, [&](auto T) {
    avx2::dw_passes<decltype(T)::value>(acc, xp, dy, g, first, sums);
  });
}

}  // namespace fastnn
