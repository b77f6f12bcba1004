// The FMA probe of fma_probe.h for AVX-512: 16 zmm chains, twice what a 4-cycle FMA latency on
// two pipes needs. Only the declared entry point leaves this unit ([note: ISA units]).
#include <immintrin.h>

#include "cpu/fma_probe.h"

namespace fastnn {
namespace avx512 {

int64_t fma_probe_f32(int64_t iterations, double* checksum) {
  constexpr int kChains = 16, kLanes = 16;
  __m512 acc[kChains];
  const __m512 a = _mm512_set1_ps(kFmaProbeA), b = _mm512_set1_ps(kFmaProbeB);
#pragma GCC unroll 16
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c) / 64.0f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  double sum = 0;
  float lanes[kLanes];
  for (int c = 0; c < kChains; ++c) {
    _mm512_storeu_ps(lanes, acc[c]);
    for (int l = 0; l < kLanes; ++l) sum += lanes[l];
  }
  *checksum = sum;
  return 2 * int64_t(kChains) * kLanes * iterations;
}

}  // namespace avx512
}  // namespace fastnn
