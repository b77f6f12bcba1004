// conv2d's direct paths (cpu/conv_direct_kernel.h) for AVX-512, with the pixels of an output row
// as the 16 lanes of a vector, read from an image padded with its zero border (plain loads at
// each tap's offset). Everything but the entry points has internal linkage.
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv_direct_kernel.h"
#define FASTNN_VEC_NS avx512
#include "cpu/conv_direct_taps.h"
#include "cpu/lane_mask_avx512.h"

namespace fastnn {
namespace avx512 {
namespace {

using V = __m512;

// off[t] = tap t's offset in a padded plane with rows of Wp floats.
template <int T>
inline void tap_offsets(int64_t* off, const ConvDirectGeom& g, int64_t Wp) {
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) off[t] = t / g.kw * g.dh * Wp + t % g.kw * g.dw;
}

// ---- forward ---------------------------------------------------------------------------------
// Output rows [oh, oh + R) of the block's OB channels (planes of yo), 16 columns at a time: the
// R x OB sums stay in registers while each patch row is loaded once per output row (from the
// padded image: plain loads, the border's zeros included) and multiplied by the OB weights of
// that row. The sums run over the patch rows in order from zero and the bias comes last: the
// packed GEMM path's arithmetic, so the bits are the same.
template <int T, int OB, int R>
void forward_rows(float* yo, const PaddedImage& xp, const float* wp, const V* bias,
                  const ConvDirectGeom& g, int64_t oh) {
  const int64_t chunks = (g.Wo + 15) / 16, plane = g.Ho * g.Wo;
  int64_t off[T];
  tap_offsets<T>(off, g, xp.Wp);
  // The row's last vector first: see the stores below.
  for (int64_t ow0 = 16 * (chunks - 1); ow0 >= 0; ow0 -= 16) {
    V acc[R][OB];
#pragma GCC unroll 2
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
      for (int r = 0; r < OB; ++r) acc[i][r] = _mm512_setzero_ps();
    for (int64_t c = 0; c < g.C; ++c) {
      const float* src = xp.data + c * xp.S + oh * xp.Wp + ow0;
      const float* wc = wp + c * T * OB;
#pragma GCC unroll 9
      for (int t = 0; t < T; ++t) {
        V xv[R];
#pragma GCC unroll 2
        for (int i = 0; i < R; ++i) xv[i] = _mm512_loadu_ps(src + i * xp.Wp + off[t]);
#pragma GCC unroll 8
        for (int r = 0; r < OB; ++r) {
          const V wv = _mm512_set1_ps(wc[t * OB + r]);
#pragma GCC unroll 2
          for (int i = 0; i < R; ++i) acc[i][r] = _mm512_fmadd_ps(wv, xv[i], acc[i][r]);
        }
      }
    }
    // A store that runs past the row's end but stays in the plane writes the first columns of
    // the rows below, which are stored afterwards (this row's vectors go right to left, the rows
    // top to bottom), so only the plane's last rows need the mask. (Masked stores cost several
    // times a plain one on some cores.)
#pragma GCC unroll 2
    for (int i = 0; i < R; ++i) {
      float* dst = yo + (oh + i) * g.Wo + ow0;
      if ((oh + i) * g.Wo + ow0 + 16 <= plane) {
#pragma GCC unroll 8
        for (int r = 0; r < OB; ++r)
          _mm512_storeu_ps(dst + r * plane, _mm512_add_ps(acc[i][r], bias[r]));
      } else {
        const __mmask16 mo = lanes(0, g.Wo - ow0);
#pragma GCC unroll 8
        for (int r = 0; r < OB; ++r)
          _mm512_mask_storeu_ps(dst + r * plane, mo, _mm512_add_ps(acc[i][r], bias[r]));
      }
    }
  }
}

// Output channels [o0, o0 + OB) of one image into the planes from yo.
template <int T, int OB>
void forward_block(float* yo, const PaddedImage& xp, const float* w, const float* b,
                   const ConvDirectGeom& g, int64_t o0) {
  const int64_t K = g.C * T;
  // The block's weights patch row by patch row: wp[k * OB + r] = w[o0 + r, k], so the FMAs read
  // them at fixed offsets from one pointer.
  float wp[kConvDirectPatchRows * OB];
  for (int64_t k = 0; k < K; ++k)
    for (int r = 0; r < OB; ++r) wp[k * OB + r] = w[(o0 + r) * K + k];
  V bias[OB];
#pragma GCC unroll 8
  for (int r = 0; r < OB; ++r) bias[r] = b ? _mm512_set1_ps(b[o0 + r]) : _mm512_setzero_ps();
  for (int64_t oh = 0; oh < g.Ho; oh += 2) {
    // Two output rows at a time while two remain (each weight broadcast feeds two FMAs).
    if (oh + 1 < g.Ho)
      forward_rows<T, OB, 2>(yo, xp, wp, bias, g, oh);
    else
      forward_rows<T, OB, 1>(yo, xp, wp, bias, g, oh);
  }
}

// Output channels [o0, o0 + ob) into the planes from yo.
template <int T>
void forward_blocks(float* yo, const PaddedImage& xp, const float* w, const float* b,
                    const ConvDirectGeom& g, int64_t o0, int64_t ob) {
  const int64_t plane = g.Ho * g.Wo;
  // Whole blocks of 8, then 4, 2 and 1 for the rest.
  for (; ob >= 8; ob -= 8, o0 += 8, yo += 8 * plane) forward_block<T, 8>(yo, xp, w, b, g, o0);
  if (ob >= 4) forward_block<T, 4>(yo, xp, w, b, g, o0), ob -= 4, o0 += 4, yo += 4 * plane;
  if (ob >= 2) forward_block<T, 2>(yo, xp, w, b, g, o0), ob -= 2, o0 += 2, yo += 2 * plane;
  if (ob >= 1) forward_block<T, 1>(yo, xp, w, b, g, o0);
}

// dst[0, n) = src[0, n) with non-temporal stores where dst is 64-byte aligned (plain ones for the
// partial lines at either end), then a store fence so the data is ordered before whatever signals
// that this thread is done.
void stream_copy(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i < n && reinterpret_cast<uintptr_t>(dst + i) % 64 != 0; ++i) dst[i] = src[i];
  for (; i + 16 <= n; i += 16) _mm512_stream_ps(dst + i, _mm512_loadu_ps(src + i));
  for (; i < n; ++i) dst[i] = src[i];
  _mm_sfence();
}

// ---- weight gradient -------------------------------------------------------------------------
// One pass per pair of output channels and input channel holds the pair's kh*kw x 2 sums as
// 16-lane accumulators in registers while it walks the image row by row; between images they
// wait in `acc` (laid out as conv_direct_kernel.h says).

// The products of 16 output columns at src (padded input) and d0, d0 + plane (dy of the pair):
// M masks both to the first `mo` lanes (a row's last, partial vector; the lanes past it would read
// the next row's inputs, which may not be finite).
template <int T, bool M>
inline void dw_step(V* a0, V* a1, V& s0, V& s1, const float* src, const int64_t* off,
                    const float* d0, int64_t plane, bool two, bool sums, __mmask16 mo) {
  const V y0 = M ? _mm512_maskz_loadu_ps(mo, d0) : _mm512_loadu_ps(d0);
  const V y1 = !two ? _mm512_setzero_ps()
                    : (M ? _mm512_maskz_loadu_ps(mo, d0 + plane) : _mm512_loadu_ps(d0 + plane));
  if (sums) s0 = _mm512_add_ps(s0, y0), s1 = _mm512_add_ps(s1, y1);
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) {
    V xv = M ? _mm512_maskz_loadu_ps(mo, src + off[t]) : _mm512_loadu_ps(src + off[t]);
    // Keep xv in a register: GCC would fold its load into both FMAs, loading it twice.
    __asm__("" : "+v"(xv));
    a0[t] = _mm512_fmadd_ps(y0, xv, a0[t]);
    a1[t] = _mm512_fmadd_ps(y1, xv, a1[t]);
  }
}

// Output channels o0 and o0 + 1 (when present) against input channel c of image xp.n.
template <int T>
void dw_pass(float* acc, const PaddedImage& xp, const float* dy, const ConvDirectGeom& g,
             int64_t o0, int64_t c, bool first, bool with_sums) {
  const bool two = o0 + 1 < g.O, sums = with_sums && c == 0;
  const int64_t full = g.Wo / 16 * 16, plane = g.Ho * g.Wo;
  const __mmask16 mo = lanes(0, g.Wo - full);
  int64_t off[T];
  tap_offsets<T>(off, g, xp.Wp);
  float* at = acc + ((o0 / 2 * g.C + c) * T) * 32;  // [t][2][16]
  float* st = acc + ((g.O + 1) / 2 * g.C * T + o0 / 2) * 32;
  V a0[T], a1[T], s0, s1;
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) {
    a0[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(at + 32 * t);
    a1[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(at + 32 * t + 16);
  }
  s0 = first || !sums ? _mm512_setzero_ps() : _mm512_loadu_ps(st);
  s1 = first || !sums ? _mm512_setzero_ps() : _mm512_loadu_ps(st + 16);
  const float* xc = xp.data + c * xp.S;
  const float* d = dy + (xp.n * g.O + o0) * plane;
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const float* src = xc + oh * xp.Wp;
    const float* d0 = d + oh * g.Wo;
    for (int64_t ow0 = 0; ow0 < full; ow0 += 16)
      dw_step<T, false>(a0, a1, s0, s1, src + ow0, off, d0 + ow0, plane, two, sums, 0);
    if (full < g.Wo)
      dw_step<T, true>(a0, a1, s0, s1, src + full, off, d0 + full, plane, two, sums, mo);
  }
#pragma GCC unroll 9
  for (int t = 0; t < T; ++t) {
    _mm512_storeu_ps(at + 32 * t, a0[t]);
    _mm512_storeu_ps(at + 32 * t + 16, a1[t]);
  }
  if (sums) _mm512_storeu_ps(st, s0), _mm512_storeu_ps(st + 16, s1);
}

template <int T>
void dw_passes(float* acc, const PaddedImage& xp, const float* dy, const ConvDirectGeom& g,
               bool first, bool sums) {
  for (int64_t o0 = 0; o0 < g.O; o0 += 2)
    for (int64_t c = 0; c < g.C; ++c) dw_pass<T>(acc, xp, dy, g, o0, c, first, sums);
}

}  // namespace
}  // namespace avx512

void conv_direct_forward_f32_avx512(float* y, const PaddedImage& xp, const float* w, const float* b,
                                    const ConvDirectGeom& g, int64_t o0, int64_t ob, float* stage) {
  float* dst = y + (xp.n * g.O + o0) * g.Ho * g.Wo;
  avx512::with_taps(g.kh * g.kw, [&](auto T) {
    avx512::forward_blocks<decltype(T)::value>(stage ? stage : dst, xp, w, b, g, o0, ob);
  });
  if (stage) avx512::stream_copy(dst, stage, ob * g.Ho * g.Wo);
}

void conv_direct_dw_f32_avx512(float* acc, const PaddedImage& xp, const float* dy,
                               const ConvDirectGeom& g, bool first, bool sums) {
  avx512::with_taps(g.kh * g.kw, [&](auto T) {
    avx512::dw_passes<decltype(T)::value>(acc, xp, dy, g, first, sums);
  });
}

}  // namespace fastnn
