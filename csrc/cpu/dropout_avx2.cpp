// dropout_avx2: Philox 4x32-10 (the function of csrc/cuda/philox.h) on 16 counters at once, for
// the dropout driver (csrc/cpu/dropout.cpp): two registers of 8 counters, one per 32-bit lane,
// whose rounds interleave so that one's multiplies run while the other's wait. Each round's two
// 32x32->64 products per counter are two vpmuludq (even and odd lanes) recombined by blends.
// See [note: ISA units] in CMakeLists.txt for why everything here is internal but the entry point.
#include <immintrin.h>

#include <cstdint>

namespace fastnn {
namespace avx2 {
namespace {

// lo / hi: the low and high 32-bit halves of m * c in every lane (m the same in all lanes).
inline void mulhilo8(__m256i m, __m256i c, __m256i* lo, __m256i* hi) {
  const __m256i even = _mm256_mul_epu32(c, m);                        // lanes 0, 2, ..: 64 bits
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);  // lanes 1, 3, ..
  *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

}  // namespace
}  // namespace avx2

// words[j * 16 + q] = word j of Philox 4x32-10 of counter (first + q) under key seed, q < 16.
void philox16_avx2(uint32_t* words, uint64_t seed, uint64_t first) {
  alignas(32) uint32_t low[16], high[16];  // the counters' two 32-bit halves
  for (int q = 0; q < 16; ++q) {
    const uint64_t counter = first + static_cast<uint64_t>(q);
    low[q] = static_cast<uint32_t>(counter);
    high[q] = static_cast<uint32_t>(counter >> 32);
  }
  __m256i c[2][4];  // [counters 0-7, 8-15][word]
  for (int h = 0; h < 2; ++h) {
    c[h][0] = _mm256_load_si256(reinterpret_cast<const __m256i*>(low + 8 * h));
    c[h][1] = _mm256_load_si256(reinterpret_cast<const __m256i*>(high + 8 * h));
    c[h][2] = c[h][3] = _mm256_setzero_si256();
  }
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(0xCD9E8D57u));
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const __m256i key0 = _mm256_set1_epi32(static_cast<int>(k0));
    const __m256i key1 = _mm256_set1_epi32(static_cast<int>(k1));
    for (int h = 0; h < 2; ++h) {
      __m256i lo0, hi0, lo1, hi1;
      avx2::mulhilo8(m0, c[h][0], &lo0, &hi0);
      avx2::mulhilo8(m1, c[h][2], &lo1, &hi1);
      c[h][0] = _mm256_xor_si256(_mm256_xor_si256(hi1, c[h][1]), key0);
      c[h][2] = _mm256_xor_si256(_mm256_xor_si256(hi0, c[h][3]), key1);
      c[h][1] = lo1;
      c[h][3] = lo0;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (int j = 0; j < 4; ++j)
    for (int h = 0; h < 2; ++h)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(words + 16 * j + 8 * h), c[h][j]);
}

}  // namespace fastnn
