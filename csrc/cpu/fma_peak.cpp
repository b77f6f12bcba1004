// Times the SIMD units' FMA loop (fma_loop in cpu/matmul_ukernel.h); see fma_peak.h.
#include "cpu/fma_peak.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "cpu/cpu_features.h"

namespace fastnn {

// Each runs about n vector FMAs (n a multiple of its chain count, 12 or 24).
double gemm_fma_loop_f32_avx512(int64_t n);
double gemm_fma_loop_f64_avx512(int64_t n);
double gemm_fma_loop_f32_avx2(int64_t n);
double gemm_fma_loop_f64_avx2(int64_t n);

namespace {

// The generic path's "vector" is one scalar FMA chain set, as the compiler emits it: 12 chains,
// which 16 registers hold (see fma_loop).
template <class T>
double fma_loop_generic(int64_t n) {
  T acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = T(i);
  for (int64_t r = 0; r < n / 12; ++r) {
    for (int i = 0; i < 12; ++i) acc[i] = acc[i] * T(0.999) + T(0.001);
  }
  T s = 0;
  for (T v : acc) s += v;
  return s;
}

struct Loop {
  double (*fn)(int64_t);
  int lanes;
};
const IsaTable<Loop> kF32{{{{&fma_loop_generic<float>, 1},
                            {&gemm_fma_loop_f32_avx2, 8},
                            {&gemm_fma_loop_f32_avx512, 16}}}};
const IsaTable<Loop> kF64{{{{&fma_loop_generic<double>, 1},
                            {&gemm_fma_loop_f64_avx2, 4},
                            {&gemm_fma_loop_f64_avx512, 8}}}};

}  // namespace

double fma_peak_gflops(bool f32, double seconds) {
  const Loop& loop = (f32 ? kF32 : kF64)[active_isa()];
  using Clock = std::chrono::steady_clock;
  volatile double sink = loop.fn(24000);  // warm up: the wide units power up on first use
  int64_t n = 98304;                      // vector FMAs, a multiple of every loop's chain count
  double best = 0, spent = 0;
  while (spent < seconds) {
    const auto t0 = Clock::now();
    sink = sink + loop.fn(n);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    spent += dt;
    best = std::max(best, double(n) * loop.lanes * 2 / dt / 1e9);
    if (dt < 2e-3) n *= 2;
  }
  return best;
}

}  // namespace fastnn
