// The lane mask of a column range, for the AVX-512 convolution units that read rows of an image
// with masked loads (the padding's zeros come from the masked-off lanes). Included only by
// *_avx512.cpp files: it sits in fastnn::avx512's anonymous namespace (see [note: ISA units]).
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace fastnn {
namespace avx512 {
namespace {

// Lanes [lo, hi) of a 16-lane vector, clipped to [0, 16).
inline __mmask16 lanes(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > 16 ? 16 : hi;
  if (hi <= lo) return 0;
  return static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
}

}  // namespace
}  // namespace avx512
}  // namespace fastnn
