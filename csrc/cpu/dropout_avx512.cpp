// dropout_avx512: Philox 4x32-10 (the function of csrc/cuda/philox.h) on 16 counters at once, one
// counter per 32-bit lane, for the dropout driver (csrc/cpu/dropout.cpp). Each round's two
// 32x32->64 products per counter are two vpmuludq (even and odd lanes) recombined by blends;
// the scalar version spends most of its time on these multiplies' latency.
// See [note: ISA units] in CMakeLists.txt for why everything here is internal but the entry point.
// The zero-masking forms with every lane selected stand in for the unmasked intrinsics: GCC 12
// implements those with an undefined pass-through operand that -Wuninitialized reports (a false
// positive inside <immintrin.h>); both compile to the same instructions.
#include <immintrin.h>

#include <cstdint>

namespace fastnn {
namespace avx512 {
namespace {

// lo / hi: the low and high 32-bit halves of m * c in every lane (m the same in all lanes).
inline void mulhilo16(__m512i m, __m512i c, __m512i* lo, __m512i* hi) {
  const __m512i even = _mm512_maskz_mul_epu32(0xFF, c, m);  // lanes 0, 2, ..: 64 bits
  const __m512i odd =
      _mm512_maskz_mul_epu32(0xFF, _mm512_maskz_srli_epi64(0xFF, c, 32), m);  // lanes 1, 3, ..
  *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(0xFF, odd, 32));
  *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_maskz_srli_epi64(0xFF, even, 32), odd);
}

}  // namespace
}  // namespace avx512

// words[j * 16 + q] = word j of Philox 4x32-10 of counter (first + q) under key seed, q < 16.
void philox16_avx512(uint32_t* words, uint64_t seed, uint64_t first) {
  const __m512i q0 = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i base = _mm512_set1_epi64(static_cast<long long>(first));
  const __m512i lo8 = _mm512_add_epi64(base, q0);
  const __m512i hi8 = _mm512_add_epi64(lo8, _mm512_set1_epi64(8));
  auto join = [](__m256i a, __m256i b) {
    return _mm512_maskz_inserti64x4(0xFF, _mm512_castsi256_si512(a), b, 1);
  };
  __m512i c0 = join(_mm512_maskz_cvtepi64_epi32(0xFF, lo8), _mm512_maskz_cvtepi64_epi32(0xFF, hi8));
  __m512i c1 = join(_mm512_maskz_cvtepi64_epi32(0xFF, _mm512_maskz_srli_epi64(0xFF, lo8, 32)),
                    _mm512_maskz_cvtepi64_epi32(0xFF, _mm512_maskz_srli_epi64(0xFF, hi8, 32)));
  __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(0xCD9E8D57u));
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    __m512i lo0, hi0, lo1, hi1;
    avx512::mulhilo16(m0, c0, &lo0, &hi0);
    avx512::mulhilo16(m1, c2, &lo1, &hi1);
    c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), _mm512_set1_epi32(static_cast<int>(k0)));
    c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), _mm512_set1_epi32(static_cast<int>(k1)));
    c1 = lo1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  _mm512_storeu_si512(words, c0);
  _mm512_storeu_si512(words + 16, c1);
  _mm512_storeu_si512(words + 32, c2);
  _mm512_storeu_si512(words + 48, c3);
}

}  // namespace fastnn
