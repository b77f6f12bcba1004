// sum_all: the sum of every element of a contiguous array, Tensor.sum() on the CPU (a loss).
// sum_last: the sum of each row of a contiguous (rows, cols) array, Tensor.sum(-1) (a softmax's
// denominator). numpy's reduction costs ~1.3 us of set-up before it adds 16 floats, and walks a
// (256, 10) array row by row through its generic loop (7.6 us); each of these is one call.
// The summation order is numpy's pairwise one, so the bits equal np.sum's and a float32 sum of
// n values errs by O(log n) roundings instead of O(n): below 8 values, in order; up to 128, eight
// interleaved partial sums (element i goes to partial i % 8; the tail after the last full group
// of 8 is added to their combined total); above, the two halves (the first one a multiple of 8
// long) summed recursively. The result starts from +0, so a sum of -0s is +0, as numpy's.
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

namespace fastnn {
namespace {

constexpr int64_t kBlock = 128;

template <class T>
T pairwise(const T* x, int64_t n) {
  if (n < 8) {
    T s = T(-0.0);  // -0 + -0 stays -0 inside; the caller's +0 start decides the sign
    for (int64_t i = 0; i < n; ++i) s += x[i];
    return s;
  }
  if (n <= kBlock) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = x[j];
    const int64_t full = n - n % 8;
    for (int64_t i = 8; i < full; i += 8)
      for (int j = 0; j < 8; ++j) r[j] += x[i + j];  // eight independent chains: one vector add
    T s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (int64_t i = full; i < n; ++i) s += x[i];
    return s;
  }
  int64_t half = n / 2;
  half -= half % 8;
  return pairwise(x, half) + pairwise(x + half, n - half);
}

constexpr int64_t kParallelElements = int64_t(1) << 20;  // below: one thread (a pool wake ~3 us)

template <class T>
void sum_last_impl(const T* x, int64_t rows, int64_t cols, T* out) {
  auto run = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) out[r] = T(0) + pairwise(x + r * cols, cols);
  };
  if (double(rows) * double(cols) < double(kParallelElements)) return run(0, rows);
  parallel_for(rows, 1, run);  // each row's sum is the same on any thread
}

}  // namespace

float sum_all_cpu(const float* x, int64_t n) { return 0.0f + pairwise(x, n); }
double sum_all_cpu(const double* x, int64_t n) { return 0.0 + pairwise(x, n); }

void sum_last_cpu(const float* x, int64_t rows, int64_t cols, float* out) {
  sum_last_impl(x, rows, cols, out);
}
void sum_last_cpu(const double* x, int64_t rows, int64_t cols, double* out) {
  sum_last_impl(x, rows, cols, out);
}

}  // namespace fastnn
