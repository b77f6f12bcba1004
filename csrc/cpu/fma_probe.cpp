// The generic FMA probe (scalar chains, a multiply and an add each) and the per-ISA choice; see
// fma_probe.h.
#include "cpu/fma_probe.h"

#include "cpu/cpu_features.h"

namespace fastnn {
namespace {

constexpr int kChains = 8;  // scalar mul + add latency over two pipes

int64_t fma_probe_generic(int64_t iterations, double* checksum) {
  float acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = static_cast<float>(c) / 64.0f;
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 8
    for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * kFmaProbeA + kFmaProbeB;
  }
  double sum = 0;
  for (int c = 0; c < kChains; ++c) sum += acc[c];
  *checksum = sum;
  return 2 * kChains * iterations;
}

const IsaTable<int64_t (*)(int64_t, double*)> kFmaProbe{{{
    fma_probe_generic,
    avx2::fma_probe_f32,
    avx512::fma_probe_f32,
}}};

}  // namespace

int64_t fma_probe_cpu(int64_t iterations, double* checksum) {
  return kFmaProbe[active_isa()](iterations, checksum);
}

}  // namespace fastnn
