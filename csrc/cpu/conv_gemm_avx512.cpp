// The packed-im2col run loops of cpu/conv_pack.h for AVX-512. A run is short (Wo = 14 in a small
// CNN), so each kernel row of it is one or two vectors: a zero-masking load reads exactly the input
// columns inside the image (masked lanes never fault) and yields the padding zeros for free, and a
// masked store writes exactly the run. Everything but the entry points has internal linkage.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "cpu/conv_pack.h"

#define FASTNN_VEC_NS avx512
#include "cpu/vec_traits_avx512.h"

namespace fastnn {
namespace avx512 {
namespace {

struct F32 : VecF32 {
  using M = __mmask16;
  using VecF32::store;
  static V loadz(M m, const T* p) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(T* p, M m, V v) { _mm512_mask_storeu_ps(p, m, v); }
};
struct F64 : VecF64 {
  using M = __mmask8;
  using VecF64::store;
  static V loadz(M m, const T* p) { return _mm512_maskz_loadu_pd(m, p); }
  static void store(T* p, M m, V v) { _mm512_mask_storeu_pd(p, m, v); }
};

// Lanes [lo, hi) of a vector (0 <= lo, hi <= W; empty when hi <= lo).
template <class S>
typename S::M lanes(int64_t lo, int64_t hi) {
  if (hi <= lo) return 0;
  const uint32_t up = hi >= 32 ? ~0u : (1u << hi) - 1, below = (1u << lo) - 1;
  return static_cast<typename S::M>(up & ~below);
}

// Output column ow reads input column ow*sw + off(j) for kernel column j; with stride 1 a vector of
// output columns is one load from the input row, its lanes outside [lo, hi) masked off (their
// addresses may lie outside the row; masked lanes are never accessed).
template <class S>
void pack_run(typename S::T* d, int64_t ld, const typename S::T* xn, const ConvRunGeom& g,
              int64_t oh, int64_t a, int64_t b) {
  using T = typename S::T;
  constexpr int W = S::W;
  const int64_t len = b - a;
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t ih = oh * g.sh - g.ph + i * g.dh;
      const bool row_in = ih >= 0 && ih < g.H;
      const T* row = xn + (c * g.H + (row_in ? ih : 0)) * g.W;
      T* dk = d + (c * g.kh + i) * g.kw * ld;
      for (int64_t j = 0; j < g.kw; ++j, dk += ld) {
        const int64_t lo = row_in ? std::clamp(g.lo[j], a, b) : b;
        const int64_t hi = row_in ? std::clamp(g.hi[j], lo, b) : b;
        const int64_t off = j * g.dw - g.pw;
        if (g.sw == 1) {
          for (int64_t e = 0; e < len; e += W) {
            const int64_t ow0 = a + e, n = std::min<int64_t>(W, len - e);
            const auto mv = lanes<S>(std::max<int64_t>(lo - ow0, 0), std::min(hi - ow0, n));
            S::store(dk + e, lanes<S>(0, n), S::loadz(mv, mv ? row + ow0 + off : row));
          }
        } else {
          for (int64_t ow = a; ow < b; ++ow)
            dk[ow - a] = ow >= lo && ow < hi ? row[ow * g.sw + off] : T(0);
        }
      }
    }
  }
}

constexpr int64_t kMaxKw = 16;

template <class S>
void unpack_run(typename S::T* dxn, const typename S::T* s, int64_t ld, const ConvRunGeom& g,
                int64_t oh, int64_t a, int64_t b) {
  using T = typename S::T;
  constexpr int W = S::W;
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t ih = oh * g.sh - g.ph + i * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      T* row = dxn + (c * g.H + ih) * g.W;
      const T* sk = s + (c * g.kh + i) * g.kw * ld;
      if (g.sw == 1 && g.kw <= kMaxKw) {
        // All kw kernel columns of this input row at once: each vector of dx is loaded and
        // stored once. (One masked store per kernel column would make the next column's load of
        // the same, shifted, elements wait for the store to retire.)
        int64_t lo[kMaxKw], hi[kMaxKw], iw_lo = g.W, iw_hi = 0;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t off = j * g.dw - g.pw;
          lo[j] = std::clamp(g.lo[j], a, b) + off;  // input columns [lo, hi) of this column
          hi[j] = std::clamp(g.hi[j], std::clamp(g.lo[j], a, b), b) + off;
          if (hi[j] > lo[j]) iw_lo = std::min(iw_lo, lo[j]), iw_hi = std::max(iw_hi, hi[j]);
        }
        for (int64_t iw0 = iw_lo; iw0 < iw_hi; iw0 += W) {
          const int64_t n = std::min<int64_t>(W, iw_hi - iw0);
          typename S::V acc = S::loadz(lanes<S>(0, n), row + iw0);
          for (int64_t j = 0; j < g.kw; ++j) {
            const auto m = lanes<S>(std::max<int64_t>(lo[j] - iw0, 0), std::min(hi[j] - iw0, n));
            // Input column iw gets dpatches column ow - a = iw - off - a.
            const T* src = sk + j * ld + (iw0 - (j * g.dw - g.pw) - a);
            if (m) acc = S::add(acc, S::loadz(m, src));
          }
          S::store(row + iw0, lanes<S>(0, n), acc);
        }
        continue;
      }
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t lo = std::clamp(g.lo[j], a, b), hi = std::clamp(g.hi[j], lo, b);
        const int64_t off = j * g.dw - g.pw;
        for (int64_t ow = lo; ow < hi; ++ow) row[ow * g.sw + off] += sk[j * ld + ow - a];
      }
    }
  }
}

}  // namespace
}  // namespace avx512

void conv_pack_run_f32_avx512(float* d, int64_t ld, const float* xn, const ConvRunGeom& g,
                              int64_t oh, int64_t a, int64_t b) {
  avx512::pack_run<avx512::F32>(d, ld, xn, g, oh, a, b);
}
void conv_pack_run_f64_avx512(double* d, int64_t ld, const double* xn, const ConvRunGeom& g,
                              int64_t oh, int64_t a, int64_t b) {
  avx512::pack_run<avx512::F64>(d, ld, xn, g, oh, a, b);
}
void conv_unpack_run_f32_avx512(float* dxn, const float* s, int64_t ld, const ConvRunGeom& g,
                                int64_t oh, int64_t a, int64_t b) {
  avx512::unpack_run<avx512::F32>(dxn, s, ld, g, oh, a, b);
}
void conv_unpack_run_f64_avx512(double* dxn, const double* s, int64_t ld, const ConvRunGeom& g,
                                int64_t oh, int64_t a, int64_t b) {
  avx512::unpack_run<avx512::F64>(dxn, s, ld, g, oh, a, b);
}

}  // namespace fastnn
