// The FMA probe of fma_probe.h for AVX2 + FMA: 12 ymm chains (two of the 16 registers hold a and
// b), enough for a 4-5 cycle FMA latency on two pipes. Only the declared entry point leaves this
// unit ([note: ISA units]).
#include <immintrin.h>

#include "cpu/fma_probe.h"

namespace fastnn {
namespace avx2 {

int64_t fma_probe_f32(int64_t iterations, double* checksum) {
  constexpr int kChains = 12, kLanes = 8;
  __m256 acc[kChains];
  const __m256 a = _mm256_set1_ps(kFmaProbeA), b = _mm256_set1_ps(kFmaProbeB);
#pragma GCC unroll 12
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(static_cast<float>(c) / 64.0f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  double sum = 0;
  float lanes[kLanes];
  for (int c = 0; c < kChains; ++c) {
    _mm256_storeu_ps(lanes, acc[c]);
    for (int l = 0; l < kLanes; ++l) sum += lanes[l];
  }
  *checksum = sum;
  return 2 * int64_t(kChains) * kLanes * iterations;
}

}  // namespace avx2
}  // namespace fastnn
