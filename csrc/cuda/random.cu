// Random numbers on the GPU from Philox 4x32-10 (csrc/cuda/philox.h): uniform_ and normal_
// (dropout, with the same counter layout, is dropout.cu). Counter-based, so a result depends only
// on (seed, offset, i), never on the launch geometry: reproducible across GPUs and runs.
// Layout: float32 uses the four words of a counter for four consecutive elements, float64 two
// words per element (53-bit uniforms), so a call over n elements consumes philox_counters(dt, n)
// counters and the Python generator advances its offset by that much.
// normal: Box-Muller on pairs, u1 in (0, 1] so log(u1) is finite.
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/philox.h"

namespace fastnn::cuda {
namespace {
using namespace fastnn::philox;

template <class T>
constexpr int per_counter() {
  return std::is_same_v<T, float> ? 4 : 2;
}

template <class T>
__global__ void uniform_kernel(T* out, int64_t n, T low, T span, uint64_t seed, uint64_t offset) {
  constexpr int kPer = per_counter<T>();
  FASTNN_KERNEL_LOOP(b, ceil_div_d(n, kPer)) {
    const U32x4 w = philox_block(seed, offset, static_cast<uint64_t>(b));
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      const int64_t i = b * kPer + k;
      if (i >= n) break;
      T u;
      if constexpr (std::is_same_v<T, float>)
        u = uniform_f32(w.x[k]);
      else
        u = uniform_f64(w.x[2 * k], w.x[2 * k + 1]);
      out[i] = low + span * u;
    }
  }
}

template <class T>
__global__ void normal_kernel(T* out, int64_t n, T mean, T std, uint64_t seed, uint64_t offset) {
  constexpr int kPer = per_counter<T>();
  FASTNN_KERNEL_LOOP(b, ceil_div_d(n, kPer)) {
    const U32x4 w = philox_block(seed, offset, static_cast<uint64_t>(b));
    T z[4];
    if constexpr (std::is_same_v<T, float>) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float u1 = 1.0f - uniform_f32(w.x[2 * h]);  // (0, 1]
        const float u2 = uniform_f32(w.x[2 * h + 1]);
        const float r = sqrtf(-2.0f * logf(u1));
        float s, c;
        sincospif(2.0f * u2, &s, &c);
        z[2 * h] = r * c;
        z[2 * h + 1] = r * s;
      }
    } else {
      const double u1 = 1.0 - uniform_f64(w.x[0], w.x[1]);
      const double u2 = uniform_f64(w.x[2], w.x[3]);
      const double r = sqrt(-2.0 * log(u1));
      double s, c;
      sincospi(2.0 * u2, &s, &c);
      z[0] = r * c;
      z[1] = r * s;
    }
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      const int64_t i = b * kPer + k;
      if (i >= n) break;
      out[i] = mean + std * z[k];
    }
  }
}

}  // namespace

uint64_t philox_counters(DType dt, int64_t n) {
  const int64_t per = dt == DType::f32 ? 4 : 2;
  return static_cast<uint64_t>((n + per - 1) / per);
}

void philox4x32_10_host(uint32_t out[4], const uint32_t counter[4], const uint32_t key[2]) {
  const U32x4 r =
      philox4x32_10(U32x4{{counter[0], counter[1], counter[2], counter[3]}}, key[0], key[1]);
  for (int i = 0; i < 4; ++i) out[i] = r.x[i];
}

void uniform_cuda(DType dt, void* out, int64_t n, double low, double high, uint64_t seed,
                  uint64_t offset) {
  if (n == 0) return;
  dispatch_float(dt, "uniform_", [&](auto tag) {
    using T = decltype(tag);
    uniform_kernel<T><<<grid_for(ceil_div(n, per_counter<T>())), kThreads, 0, current_stream()>>>(
        static_cast<T*>(out), n, static_cast<T>(low), static_cast<T>(high - low), seed, offset);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void normal_cuda(DType dt, void* out, int64_t n, double mean, double std, uint64_t seed,
                 uint64_t offset) {
  if (n == 0) return;
  dispatch_float(dt, "normal_", [&](auto tag) {
    using T = decltype(tag);
    normal_kernel<T><<<grid_for(ceil_div(n, per_counter<T>())), kThreads, 0, current_stream()>>>(
        static_cast<T*>(out), n, static_cast<T>(mean), static_cast<T>(std), seed, offset);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
