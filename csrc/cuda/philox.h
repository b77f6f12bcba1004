// Philox 4x32-10, the counter-based generator of Salmon et al., "Parallel Random Numbers: As Easy
// as 1, 2, 3" (SC'11, Random123): 10 rounds of a 32x32->64 multiply bijection keyed by a 64-bit
// key. Each (counter, key) gives four independent 32-bit words, so any thread can draw its own
// numbers with no state: element i of a call uses counter (offset + i / per_counter).
// Host and device share this one definition; the tests check it against the published
// known-answer vectors on the host.
#pragma once
#include <cstdint>

#include "hd.h"

namespace fastnn::philox {

struct U32x4 {
  uint32_t x[4];
};

FASTNN_HD static inline uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

FASTNN_HD static inline U32x4 philox4x32_10(U32x4 c, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // golden ratio, sqrt(3) - 1
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo(kM0, c.x[0], &hi0);
    const uint32_t lo1 = mulhilo(kM1, c.x[2], &hi1);
    c = U32x4{{hi1 ^ c.x[1] ^ k0, lo1, hi0 ^ c.x[3] ^ k1, lo0}};
    k0 += kW0;
    k1 += kW1;
  }
  return c;
}

// The four words of counter block `index` of a stream (seed, offset).
FASTNN_HD static inline U32x4 philox_block(uint64_t seed, uint64_t offset, uint64_t index) {
  const uint64_t ctr = offset + index;
  return philox4x32_10(
      U32x4{{static_cast<uint32_t>(ctr), static_cast<uint32_t>(ctr >> 32), 0u, 0u}},
      static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// [0, 1) with 24 random bits (float) or 53 (double, from two words).
FASTNN_HD static inline float uniform_f32(uint32_t w) {
  return static_cast<float>(w >> 8) * 0x1p-24f;
}
FASTNN_HD static inline double uniform_f64(uint32_t a, uint32_t b) {
  return (static_cast<double>(a >> 5) * 67108864.0 + static_cast<double>(b >> 6)) * 0x1p-53;
}

}  // namespace fastnn::philox
