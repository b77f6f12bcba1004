// numpy's pairwise summation tree (the order sum_all and sum_last add in, cpu/sum_all.cpp),
// written once and compiled in the generic unit and in sum_all_avx2.cpp, each with its own leaf
// sums. Each unit defines FASTNN_VEC_NS (its namespace) before including this.
//
// The tree: below 8 values, in order; up to kBlock, eight interleaved partial sums (element i goes
// to partial i % 8; the tail after the last full group of 8 is added to their combined total);
// above, the two halves (the first one a multiple of 8 long) summed recursively.
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS (the unit's namespace) before including sum_all_tree.h"
#endif
#include <cstdint>

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

constexpr int64_t kBlock = 128;

// The split of a node of the tree: its first half, a multiple of 8 long.
inline int64_t first_half(int64_t n) { return n / 2 - n / 2 % 8; }

// The combined total of a leaf's partial sums and its tail.
template <class T>
T leaf_total(const T r[8], const T* tail, int64_t n) {
  T s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (int64_t i = 0; i < n; ++i) s += tail[i];
  return s;
}

// numpy's sum of one leaf, n <= kBlock elements.
template <class T>
T leaf_sum(const T* x, int64_t n) {
  if (n < 8) {
    T s = T(-0.0);  // -0 + -0 stays -0 inside; the caller's +0 start decides the sign
    for (int64_t i = 0; i < n; ++i) s += x[i];
    return s;
  }
  T r[8];
  for (int j = 0; j < 8; ++j) r[j] = x[j];
  const int64_t full = n - n % 8;
  for (int64_t i = 8; i < full; i += 8)
    for (int j = 0; j < 8; ++j) r[j] += x[i + j];  // eight independent chains: one vector add
  return leaf_total(r, x + full, n - full);
}

// Leaves::one(x, n) sums a leaf, Leaves::two(x, h, n) the two leaves x[0, h) and x[h, n) of a node
// (a unit may sum them in step); both with leaf_sum's bits.
template <class Leaves, class T>
T pairwise(const T* x, int64_t n) {
  if (n <= kBlock) return Leaves::one(x, n);
  const int64_t h = first_half(n);
  if (n - h <= kBlock) return Leaves::two(x, h, n);  // h <= n - h: both halves are leaves
  return pairwise<Leaves>(x, h) + pairwise<Leaves>(x + h, n - h);
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
