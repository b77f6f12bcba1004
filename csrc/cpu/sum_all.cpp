// sum_all: the sum of every element of a contiguous array, Tensor.sum() on the CPU (a loss).
// sum_last: the sum of each row of a contiguous (rows, cols) array, Tensor.sum(-1) (a softmax's
// denominator). prod_last: the product of each row, Tensor.prod(-1) (numpy multiplies a row in
// one chain: 330 us for 256 x 784, torch 7). numpy's reduction costs ~1.3 us of set-up before it
// adds 16 floats, and walks a (256, 10) array row by row through its generic loop (7.6 us); each of
// these is one call. The summation order is numpy's pairwise one (cpu/sum_all_tree.h), so the bits
// equal np.sum's and a float32 sum of n values errs by O(log n) roundings instead of O(n). The
// result starts from +0, so a sum of -0s is +0, as numpy's. A large whole sum runs the top of the
// same tree's subtrees on the pool's threads.
#include <algorithm>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

#define FASTNN_VEC_NS generic
#include "cpu/sum_all_tree.h"
#undef FASTNN_VEC_NS

namespace fastnn {

// The AVX2 unit's entry points: pairwise of sum_all_tree.h, and one row's product.
float sum_pairwise_avx2(const float* x, int64_t n);
double sum_pairwise_avx2(const double* x, int64_t n);
float prod_row_avx2(const float* x, int64_t n);
double prod_row_avx2(const double* x, int64_t n);

namespace {

using generic::first_half;

// One leaf after another: the core overlaps a leaf's two 4-lane chains with the next leaf's.
struct PlainLeaves {
  template <class T>
  static T one(const T* x, int64_t n) {
    return generic::leaf_sum(x, n);
  }
  template <class T>
  static T two(const T* x, int64_t h, int64_t n) {
    return generic::leaf_sum(x, h) + generic::leaf_sum(x + h, n - h);
  }
};

// The subtree sum of the active ISA (IsaTable, cpu/cpu_features.h).
template <class T>
using PairwiseSum = T (*)(const T*, int64_t);
template <class T>
PairwiseSum<T> pairwise_sum() {
  static const IsaTable<PairwiseSum<T>> table{
      {{&generic::pairwise<PlainLeaves, T>, &sum_pairwise_avx2, &sum_pairwise_avx2}}};
  return table[active_isa()];
}

// Below this size one thread, for a whole sum or the rows of sum_last (a pool wake costs ~3 us; a
// sum of 128k floats ~10 us).
constexpr int64_t kParallelSum = int64_t(1) << 17;

// The top `depth` levels of the tree: where its 2^depth nodes at that depth start, how long they
// are, and (filled in by the caller) their sums.
template <class T>
struct TopOfTree {
  int64_t start[32], len[32];
  T sum[32];
  int count = 0;
  void split(int64_t s, int64_t m, int depth) {
    if (depth == 0) {
      start[count] = s, len[count] = m, ++count;
      return;
    }
    const int64_t h = first_half(m);
    split(s, h, depth - 1);
    split(s + h, m - h, depth - 1);
  }
  T combine(int64_t m, int depth, int& next) const {
    if (depth == 0) return sum[next++];
    const int64_t h = first_half(m);
    const T a = combine(h, depth - 1, next);
    return a + combine(m - h, depth - 1, next);
  }
};

// A large array's subtrees at a fixed depth (at least two per thread, for balance on a busy
// machine) are summed on the pool's threads and then combined as the tree does: the same
// additions in the same order, so the bits do not depend on the thread count.
template <class T>
T sum_all_impl(const T* x, int64_t n) {
  const PairwiseSum<T> pairwise = pairwise_sum<T>();
  const int threads = get_num_threads();
  if (threads <= 1 || n < kParallelSum) return T(0) + pairwise(x, n);
  int depth = 1;
  while ((1 << depth) < 2 * threads && depth < 5) ++depth;
  TopOfTree<T> top;
  top.split(0, n, depth);
  parallel_chunks(top.count, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) top.sum[i] = pairwise(x + top.start[i], top.len[i]);
  });
  int next = 0;
  return T(0) + top.combine(n, depth, next);
}

template <class T>
void sum_last_impl(const T* x, int64_t rows, int64_t cols, T* out) {
  const PairwiseSum<T> pairwise = pairwise_sum<T>();
  auto run = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) out[r] = T(0) + pairwise(x + r * cols, cols);
  };
  if (double(rows) * double(cols) < double(kParallelSum)) return run(0, rows);
  parallel_for(rows, 1, run);  // each row's sum is the same on any thread
}

// One row's product on the generic path: L running products side by side, then combined
// pairwise, then the tail. The compiler keeps them in vector registers, so each step is L / 4
// independent 4-lane multiplies (numpy multiplies in one chain): 32 floats or 16 doubles, eight
// chains or four pairs of them, enough to cover the multiply's latency (sixteen floats left it
// 1.4x slower).
template <class T>
T row_prod(const T* x, int64_t n) {
  constexpr int L = 128 / sizeof(T);
  T acc[L];
  for (T& a : acc) a = T(1);
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int j = 0; j < L; ++j) acc[j] *= x[i + j];
  for (int w = L / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] *= acc[j + w];
  T p = acc[0];
  for (; i < n; ++i) p *= x[i];
  return p;
}

// A single long row (x.prod() over everything) in pieces of a fixed length, multiplied on the
// pool's threads and then in order: the same bits for any thread count.
constexpr int64_t kProdPiece = 16384;

// One row's product on the active ISA: the AVX2 unit's serves the AVX-512 path too (eight
// 8-lane chains already issue two multiplies a cycle).
template <class T>
using RowProd = T (*)(const T*, int64_t);
template <class T>
RowProd<T> row_prod_for_isa() {
  static const IsaTable<RowProd<T>> table{{{&row_prod<T>, &prod_row_avx2, &prod_row_avx2}}};
  return table[active_isa()];
}

template <class T>
void prod_last_impl(const T* x, int64_t rows, int64_t cols, T* out) {
  const RowProd<T> prod_row = row_prod_for_isa<T>();
  if (rows == 1 && cols >= 4 * kProdPiece) {
    const int64_t pieces = (cols + kProdPiece - 1) / kProdPiece;
    std::vector<T> part(pieces);
    parallel_for(pieces, 1, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k)
        part[k] = prod_row(x + k * kProdPiece, std::min(kProdPiece, cols - k * kProdPiece));
    });
    T p = T(1);
    for (const T& v : part) p *= v;
    out[0] = p;
    return;
  }
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) out[r] = prod_row(x + r * cols, cols);
  });
}

}  // namespace

void prod_last_cpu(const float* x, int64_t rows, int64_t cols, float* out) {
  prod_last_impl(x, rows, cols, out);
}
void prod_last_cpu(const double* x, int64_t rows, int64_t cols, double* out) {
  prod_last_impl(x, rows, cols, out);
}

float sum_all_cpu(const float* x, int64_t n) { return sum_all_impl(x, n); }
double sum_all_cpu(const double* x, int64_t n) { return sum_all_impl(x, n); }

void sum_last_cpu(const float* x, int64_t rows, int64_t cols, float* out) {
  sum_last_impl(x, rows, cols, out);
}
void sum_last_cpu(const double* x, int64_t rows, int64_t cols, double* out) {
  sum_last_impl(x, rows, cols, out);
}

}  // namespace fastnn
