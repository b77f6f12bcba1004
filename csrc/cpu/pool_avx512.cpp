// max_pool2d's 2x2 stride-2 float32 kernels of pool_simd.h for AVX-512; cpu/pool.cpp picks this
// unit at run time. Everything but the declared entry points has internal linkage.
#include "cpu/vec_avx512.h"

namespace fastnn {
namespace avx512 {
namespace {

// Lanes 0, 2, 4, ... and 1, 3, 5, ... of the 2*W floats at p.
inline void vdeinterleave(const float* p, V& even, V& odd) {
  const __m512 a = _mm512_loadu_ps(p), b = _mm512_loadu_ps(p + 16);
  const __m512i ei = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i oi = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  even.v = _mm512_permutex2var_ps(a, ei, b);
  odd.v = _mm512_permutex2var_ps(a, oi, b);
}
// p[2i] = even[i], p[2i+1] = odd[i].
inline void vinterleave_store(float* p, V even, V odd) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  _mm512_storeu_ps(p, _mm512_permutex2var_ps(even.v, lo, odd.v));
  _mm512_storeu_ps(p + 16, _mm512_permutex2var_ps(even.v, hi, odd.v));
}
// The same for the first n < W outputs (2n floats): lanes past them read and write nothing.
inline void vdeinterleave_part(const float* p, int64_t n, V& even, V& odd) {
  const __m512 a = _mm512_maskz_loadu_ps(tail_mask(2 * n < 16 ? 2 * n : 16), p);
  const __m512 b = _mm512_maskz_loadu_ps(tail_mask(2 * n > 16 ? 2 * n - 16 : 0), p + 16);
  const __m512i ei = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i oi = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  even.v = _mm512_permutex2var_ps(a, ei, b);
  odd.v = _mm512_permutex2var_ps(a, oi, b);
}
inline void vinterleave_store_part(float* p, int64_t n, V even, V odd) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  _mm512_mask_storeu_ps(p, tail_mask(2 * n < 16 ? 2 * n : 16),
                        _mm512_permutex2var_ps(even.v, lo, odd.v));
  _mm512_mask_storeu_ps(p + 16, tail_mask(2 * n > 16 ? 2 * n - 16 : 0),
                        _mm512_permutex2var_ps(even.v, hi, odd.v));
}
// The first n <= W lanes of k (window codes 0..3 as floats) as bytes.
inline void vstore_codes(uint8_t* p, V k, int64_t n) {
  const __m128i b = _mm512_maskz_cvtepi32_epi8(0xFFFF, _mm512_maskz_cvttps_epi32(0xFFFF, k.v));
  _mm_mask_storeu_epi8(p, tail_mask(n), b);
}
// n <= W window codes as floats (0 past n), and whether one of them is above 3.
inline V vload_codes(const uint8_t* p, int64_t n, bool& bad) {
  const __m128i b = n == W ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p))
                           : _mm_maskz_loadu_epi8(tail_mask(n), p);
  bad |=
      _mm_movemask_epi8(_mm_cmpgt_epi8(_mm_min_epu8(b, _mm_set1_epi8(4)), _mm_set1_epi8(3))) != 0;
  // The zero-masking forms: GCC 12 warns about the plain ones' undefined source operand.
  return {_mm512_maskz_cvtepi32_ps(0xFFFF, _mm512_maskz_cvtepu8_epi32(0xFFFF, b))};
}
inline M mor(M a, M b) { return static_cast<M>(a | b); }

// Partial rows keep their masked loads and stores (pool_simd.h's kWholeTail): native on AVX-512.
constexpr bool kWholeTail = false;

}  // namespace
}  // namespace avx512
}  // namespace fastnn

#include "cpu/pool_simd.h"
