// Launch helpers of the window kernels (conv.cu, pool.cu): the grid-stride loop and the choice of
// the index type. The kernels' bodies (window_ops.h) are templates over it; int32 when
// window::fits_int32 allows (64-bit division and remainder cost several times the 32-bit ones, and
// per-element index math is most of these kernels' instructions), else int64.
#pragma once
#include <cstdint>
#include <cstdlib>

#include "cuda/common.cuh"
#include "window_ops.h"

// A grid-stride loop with an index of type I. With I = int32 the caller has checked that n is
// below 2^30 (window::fits_int32) and the grid (grid_for, at most 2^21 blocks of 256 threads) adds
// less than 2^30 per step, so the index never overflows.
#define FASTNN_WINDOW_LOOP(I, t, n)                                                               \
  for (I t =                                                                                      \
           static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x); \
       t < (n); t += static_cast<I>(blockDim.x) * static_cast<I>(gridDim.x))

namespace fastnn::cuda {

// Calls f(I{}) with I = int32_t when every index the window kernels form for g, with `elems` the
// largest array they index, fits 32 bits; else with I = int64_t. FASTNN_WINDOW_INDEX64=1 forces
// int64, so that the tests run that path on small inputs too (read per launch, no state kept).
template <class F>
void with_index_type(const window::Geom& g, int64_t elems, F&& f) {
  const char* force = std::getenv("FASTNN_WINDOW_INDEX64");
  if (!(force && force[0] == '1') && window::fits_int32(g, elems))
    f(int32_t{});
  else
    f(int64_t{});
}

}  // namespace fastnn::cuda
