// Depthwise conv2d for AVX-512: the per-plane loops (cpu/conv_depthwise_planes.h) on 64-byte
// vectors of float, and the lanes path (cpu/conv_depthwise_lanes.h) on 16 channels a vector.
// cpu/conv_depthwise.cpp picks them at run time.
#include <immintrin.h>
#define FASTNN_VEC_NS avx512
#include "cpu/conv_depthwise_lanes.h"
#include "cpu/conv_depthwise_planes.h"
#include "cpu/lane_mask_avx512.h"

namespace fastnn {
namespace avx512 {
namespace {

// (The maskz forms with every lane on: GCC 12 warns that the plain forms' undefined source may be
// used uninitialised.)
constexpr __mmask16 kAll = 0xFFFF;

// r[i] lane j <-> r[j] lane i: pairs of rows interleaved, then pairs of pairs, then 128-bit lanes
// regrouped twice.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_maskz_unpacklo_ps(kAll, r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_maskz_unpackhi_ps(kAll, r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 4; ++k) {  // u[4k + m], 128-bit lane L: rows 4k..4k+3 at column 4L + m
    u[4 * k] = _mm512_maskz_shuffle_ps(kAll, t[4 * k], t[4 * k + 2], 0x44);
    u[4 * k + 1] = _mm512_maskz_shuffle_ps(kAll, t[4 * k], t[4 * k + 2], 0xEE);
    u[4 * k + 2] = _mm512_maskz_shuffle_ps(kAll, t[4 * k + 1], t[4 * k + 3], 0x44);
    u[4 * k + 3] = _mm512_maskz_shuffle_ps(kAll, t[4 * k + 1], t[4 * k + 3], 0xEE);
  }
  for (int m = 0; m < 4; ++m) {
    const __m512 v0 = _mm512_maskz_shuffle_f32x4(kAll, u[m], u[4 + m], 0x44);
    const __m512 v1 = _mm512_maskz_shuffle_f32x4(kAll, u[m], u[4 + m], 0xEE);
    const __m512 v2 = _mm512_maskz_shuffle_f32x4(kAll, u[8 + m], u[12 + m], 0x44);
    const __m512 v3 = _mm512_maskz_shuffle_f32x4(kAll, u[8 + m], u[12 + m], 0xEE);
    r[m] = _mm512_maskz_shuffle_f32x4(kAll, v0, v2, 0x88);
    r[4 + m] = _mm512_maskz_shuffle_f32x4(kAll, v0, v2, 0xDD);
    r[8 + m] = _mm512_maskz_shuffle_f32x4(kAll, v1, v3, 0x88);
    r[12 + m] = _mm512_maskz_shuffle_f32x4(kAll, v1, v3, 0xDD);
  }
}

// The lanes path's vector traits (cpu/conv_depthwise_lanes.h): 16 channels a vector.
struct Lanes16 {
  using V = __m512;
  static constexpr int64_t L = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V load_n(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(lanes(0, n), p); }
  static void store_n(float* p, V v, int64_t n) { _mm512_mask_storeu_ps(p, lanes(0, n), v); }
  static void transpose(V r[16]) { transpose16(r); }
  static void add_to(double* a, V s) {
    const __m256 lo = __builtin_shufflevector(s, s, 0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 hi = __builtin_shufflevector(s, s, 8, 9, 10, 11, 12, 13, 14, 15);
    _mm512_storeu_pd(a, _mm512_add_pd(_mm512_loadu_pd(a), _mm512_maskz_cvtps_pd(0xFF, lo)));
    _mm512_storeu_pd(a + 8, _mm512_add_pd(_mm512_loadu_pd(a + 8), _mm512_maskz_cvtps_pd(0xFF, hi)));
  }
};

}  // namespace

const DepthwiseLoops kDepthwiseLoops = loops<64>();
const DepthwiseLaneLoops kDepthwiseLaneLoops = LanePath<Lanes16>::loops();

}  // namespace avx512
}  // namespace fastnn
