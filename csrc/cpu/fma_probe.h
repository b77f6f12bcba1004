// The FMA throughput probe behind the benchmarks' compute limit: independent chains of
// acc = acc * a + b (one fused multiply-add per chain and step where the ISA has one), enough
// chains in flight to cover the FMA latency on every pipe, all in registers. Timing it measures
// what one core sustains at the clock it runs at now, so no clock or pipe count is assumed.
// fma_probe_avx512.cpp / fma_probe_avx2.cpp define the vector entries with their ISA flags;
// fma_probe.cpp holds the generic loop and picks one per call from its IsaTable.
#pragma once
#include <stdint.h>

namespace fastnn {

// Runs `iterations` steps of every chain on the active ISA path, single-threaded; returns the
// floating-point operations done (2 per lane and step) and stores the sum of all lanes of all
// chains in *checksum (it keeps the compiler from dropping the loop, and lets tests check it).
int64_t fma_probe_cpu(int64_t iterations, double* checksum);

// The chains start at c / 64 for chain c (every lane), and each step maps acc to acc * a + b.
constexpr float kFmaProbeA = 0.9999f;
constexpr float kFmaProbeB = 0.0001f;

#define FASTNN_FMA_PROBE_ENTRIES int64_t fma_probe_f32(int64_t iterations, double* checksum);
namespace avx512 {
FASTNN_FMA_PROBE_ENTRIES
}
namespace avx2 {
FASTNN_FMA_PROBE_ENTRIES
}
#undef FASTNN_FMA_PROBE_ENTRIES

}  // namespace fastnn
