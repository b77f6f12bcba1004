// Depthwise conv2d for AVX2: the per-plane loops (cpu/conv_depthwise_planes.h) on 32-byte vectors
// of float, and the lanes path (cpu/conv_depthwise_lanes.h) on 8 channels a vector.
// cpu/conv_depthwise.cpp picks them at run time.
#include <immintrin.h>

#define FASTNN_VEC_NS avx2
#include "cpu/conv_depthwise_lanes.h"
#include "cpu/conv_depthwise_planes.h"

namespace fastnn {
namespace avx2 {
namespace {

// The lanes path's vector traits: 8 channels a vector.
struct Lanes8 {
  using V = __m256;
  static constexpr int64_t L = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  // (masked loads are cheap on every AVX2 core; masked stores are microcoded on AMD's, so a
  // partial store goes by halves, pairs and a lane)
  static V load_n(const float* p, int64_t n) {
    if (n == 8) return _mm256_loadu_ps(p);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lane));
  }
  static void store_n(float* p, V v, int64_t n) {
    if (n == 8) return _mm256_storeu_ps(p, v);
    __m128 x = _mm256_castps256_ps128(v);
    if (n >= 4) {
      _mm_storeu_ps(p, x);
      p += 4, n -= 4, x = _mm256_extractf128_ps(v, 1);
    }
    if (n >= 2) {
      _mm_storel_pi(reinterpret_cast<__m64*>(p), x);
      p += 2, n -= 2, x = _mm_movehl_ps(x, x);
    }
    if (n) _mm_store_ss(p, x);
  }
  // r[i] lane j <-> r[j] lane i: pairs of rows interleaved, pairs of pairs, then 128-bit halves.
  static void transpose(V r[8]) {
    V t[8], u[8];
    for (int k = 0; k < 4; ++k) {
      t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
      t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    for (int k = 0; k < 2; ++k) {  // u[4k + m]: rows 4k..4k+3 at columns m (low half), m + 4
      u[4 * k] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
      u[4 * k + 1] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
      u[4 * k + 2] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
      u[4 * k + 3] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
    }
    for (int m = 0; m < 4; ++m) {
      r[m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x20);
      r[4 + m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x31);
    }
  }
  static void add_to(double* a, V s) {
    _mm256_storeu_pd(a,
                     _mm256_add_pd(_mm256_loadu_pd(a), _mm256_cvtps_pd(_mm256_castps256_ps128(s))));
    _mm256_storeu_pd(
        a + 4, _mm256_add_pd(_mm256_loadu_pd(a + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1))));
  }
};

}  // namespace

const DepthwiseLoops kDepthwiseLoops = loops<32>();
const DepthwiseLaneLoops kDepthwiseLaneLoops = LanePath<Lanes8>::loops();

}  // namespace avx2
}  // namespace fastnn
