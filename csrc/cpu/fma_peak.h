// The measured FMA throughput of one core on the active SIMD path: the yardstick the GEMM
// benchmarks quote "% of peak" against, measured in the same run instead of assuming a clock.
#pragma once

namespace fastnn {

// GFLOP/s (an FMA counts 2) of one thread running independent vector FMAs for about `seconds`
// (best of a few timed runs); float32 when f32, else float64.
double fma_peak_gflops(bool f32, double seconds);

}  // namespace fastnn
