// max_pool2d's 2x2 stride-2 float32 kernels of pool_simd.h for AVX2; cpu/pool.cpp picks this
// unit at run time. Everything but the declared entry points has internal linkage.
#include <string.h>

#include "cpu/vec_avx2.h"

namespace fastnn {
namespace avx2 {
namespace {

// Lanes 0, 2, 4, ... and 1, 3, 5, ... of the 2*W floats at p.
inline void vdeinterleave(const float* p, V& even, V& odd) {
  const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
  // Within each 128-bit half the shuffle takes a's pair then b's; the 64-bit permute regroups.
  const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  const __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  even.v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  odd.v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}
// first = even[0], odd[0], ..., even[3], odd[3]; second the same from lane 4.
inline void interleave(V even, V odd, V& first, V& second) {
  const __m256 lo = _mm256_unpacklo_ps(even.v, odd.v), hi = _mm256_unpackhi_ps(even.v, odd.v);
  first.v = _mm256_permute2f128_ps(lo, hi, 0x20);
  second.v = _mm256_permute2f128_ps(lo, hi, 0x31);
}
// p[2i] = even[i], p[2i+1] = odd[i].
inline void vinterleave_store(float* p, V even, V odd) {
  V first, second;
  interleave(even, odd, first, second);
  vstore(p, first);
  vstore(p + 8, second);
}
// The same for the first n < W outputs (2n floats): lanes past them read and write nothing.
inline void vdeinterleave_part(const float* p, int64_t n, V& even, V& odd) {
  const __m256 a = _mm256_maskload_ps(p, tail_mask(2 * n < 8 ? 2 * n : 8));
  const __m256 b = _mm256_maskload_ps(p + 8, tail_mask(2 * n > 8 ? 2 * n - 8 : 0));
  const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  const __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  even.v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  odd.v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}
// The first 2n < 2W floats, stored by vstore_part in 128/64/32-bit pieces: AVX2's masked store
// (vmaskmovps) is microcoded on AMD cores, and planes narrower than a vector (a 14x14 map has
// 7 outputs a row) store a partial row every row: with it the backward ran half as fast there.
inline void vinterleave_store_part(float* p, int64_t n, V even, V odd) {
  V first, second;
  interleave(even, odd, first, second);
  vstore_part(p, first, 2 * n < 8 ? 2 * n : 8);
  if (2 * n > 8) vstore_part(p + 8, second, 2 * n - 8);
}
// The first n <= W lanes of k (window codes 0..3 as floats) as bytes.
inline void vstore_codes(uint8_t* p, V k, int64_t n) {
  float lanes[W];
  vstore(lanes, k);
  for (int64_t l = 0; l < n; ++l) p[l] = static_cast<uint8_t>(lanes[l]);
}
// n <= W window codes as floats (0 past n), and whether one of them is above 3.
inline V vload_codes(const uint8_t* p, int64_t n, bool& bad) {
  uint64_t bytes = 0;
  memcpy(&bytes, p, static_cast<size_t>(n));
  const __m128i b = _mm_cvtsi64_si128(static_cast<int64_t>(bytes));
  bad |=
      _mm_movemask_epi8(_mm_cmpgt_epi8(_mm_min_epu8(b, _mm_set1_epi8(4)), _mm_set1_epi8(3))) != 0;
  return {_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b))};
}
inline M mor(M a, M b) { return _mm256_or_ps(a, b); }
// Partial rows on whole vectors where that stays in the plane (pool_simd.h): the partial forms
// above are split stores, memcpy and scalar loops, since masked stores are microcoded on AMD.
constexpr bool kWholeTail = true;

}  // namespace
}  // namespace avx2
}  // namespace fastnn

#include "cpu/pool_simd.h"
