// The head of a streaming loop: how many elements to do first, one by one or as one partial
// vector, so that the rest of the loop stores to whole aligned vectors. numpy puts a large array 16
// bytes past a 64-byte line (its malloc header), so without the head every 64-byte store of a pass
// straddles two lines, and its loads do too when the input has the output's offset, as numpy's
// arrays usually do: that cost 20 % of a pass over data held in L2.
#pragma once
#include <cstdint>

namespace fastnn {

// Elements of T from p to the next multiple of `bytes`, at most n (any count is correct; one
// that reaches the boundary makes the loop faster).
template <int bytes, class T>
inline int64_t head_to_aligned(const T* p, int64_t n) {
  const uintptr_t miss = (uintptr_t{0} - reinterpret_cast<uintptr_t>(p)) % bytes;
  const int64_t k = static_cast<int64_t>(miss / sizeof(T));
  return k < n ? k : n;
}

}  // namespace fastnn
