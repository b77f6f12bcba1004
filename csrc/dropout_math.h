// Dropout's per-element rule, shared by the CPU driver (csrc/cpu/dropout.cpp) and the CUDA kernel
// (csrc/cuda/dropout.cu), so one (seed, offset) gives the same mask on both devices.
// Element i of a call lives in Philox counter (offset + i / per) and reads word
// (i % per) * (4 / per) of it, with per = 4 elements per counter for 4-byte types (one word
// each) and 2 for 8-byte types (words 0 and 2, like the 53-bit uniforms of random.cu). It is kept
// when that word is >= floor(p * 2^32), which has probability 1 - p to within 2^-32.
// p == 1 keeps nothing; the drivers treat it apart (threshold 2^32 does not fit in 32 bits).
// The product is x * (scale * keep), never a select, so a dropped NaN or inf stays NaN (0 * NaN),
// as torch's kernels give.
#pragma once
#include <cstdint>

#include "hd.h"

namespace fastnn::dropout {

// Elements per Philox counter for an element of `itemsize` bytes (4 or 8).
FASTNN_HD static constexpr int per_counter(int itemsize) { return itemsize == 4 ? 4 : 2; }

// The word of its counter that element k (0 <= k < per) of that counter reads.
FASTNN_HD static constexpr int word_of(int per, int k) { return k * (4 / per); }

// Counters a call over n elements consumes (the generator's offset advances by this).
FASTNN_HD static inline uint64_t counters(int itemsize, int64_t n) {
  const int64_t per = per_counter(itemsize);
  return static_cast<uint64_t>((n + per - 1) / per);
}

// floor(p * 2^32) for 0 <= p < 1: exact in double (p has 53 bits) and below 2^32, since the
// largest double below 1 times 2^32 is 2^32 - 2^-21.
FASTNN_HD static inline uint32_t threshold(double p) {
  return static_cast<uint32_t>(p * 4294967296.0);
}

// 1 when word >= threshold, else 0: written as a signed comparison of both with the sign bit
// flipped (the same order), and as a 32-bit int, the forms in which a compiler vectorizes the
// CPU's loop over a batch's words (SSE2 has no unsigned compare, and a byte kept it scalar).
FASTNN_HD static inline int32_t keep(uint32_t word, uint32_t threshold) {
  constexpr uint32_t kSign = 0x80000000u;
  return static_cast<int32_t>(word ^ kSign) >= static_cast<int32_t>(threshold ^ kSign) ? 1 : 0;
}

// 1 / (1 - p) for p < 1; 0 for p == 1 (nothing is kept, and 0 * inf would be NaN).
FASTNN_HD static inline double scale(double p) { return p < 1.0 ? 1.0 / (1.0 - p) : 0.0; }

// y for input x (forward) or dx for dy (backward) under the element's keep bit (0 or 1: keep()'s
// int, or the byte of a saved mask).
template <class T, class K>
FASTNN_HD static inline T apply(T x, K keep, T scale) {
  return x * (scale * static_cast<T>(keep));
}

}  // namespace fastnn::dropout
