// Dropout on the CPU from the same Philox 4x32-10 stream as the CUDA kernel (csrc/cuda/dropout.cu):
// element i of a float32 call uses word i % 4 of counter offset + i / 4, float64 word 2 * (i % 2)
// of counter offset + i / 2, and is kept when that word is >= p * 2^32. So a (seed, offset) gives
// the same mask on both devices and for any thread count.
#pragma once
#include <cstdint>

#include "dropout_math.h"

namespace fastnn {

// y = x * (keep ? 1 / (1 - p) : 0) and mask = keep (0 / 1), one pass over n elements; p in [0, 1]
// (p == 1 keeps nothing).
void dropout_cpu(float* y, uint8_t* mask, const float* x, int64_t n, double p, uint64_t seed,
                 uint64_t offset);
void dropout_cpu(double* y, uint8_t* mask, const double* x, int64_t n, double p, uint64_t seed,
                 uint64_t offset);
// dx = dy * (mask ? 1 / (1 - p) : 0).
void dropout_backward_cpu(float* dx, const float* dy, const uint8_t* mask, int64_t n, double p);
void dropout_backward_cpu(double* dx, const double* dy, const uint8_t* mask, int64_t n, double p);

// Philox counters a call over n elements of this element size consumes (4 or 8 bytes).
inline uint64_t dropout_counters(int itemsize, int64_t n) { return dropout::counters(itemsize, n); }

}  // namespace fastnn
