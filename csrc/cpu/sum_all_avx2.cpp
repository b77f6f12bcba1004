// The pairwise summation tree of cpu/sum_all_tree.h compiled for AVX2 (see [note: ISA units] in
// CMakeLists.txt). The AVX-512 path runs it too: 8-lane adds already outrun the L2 cache that a
// sum of more than a few leaves reads from.
#include <immintrin.h>

#define FASTNN_VEC_NS avx2
#include "cpu/sum_all_tree.h"
#include "cpu/vec_traits_avx2.h"

namespace fastnn {
namespace avx2 {
namespace {

// A leaf's eight partial sums: one float32 vector, or two float64 ones.
struct PartialsF32 {
  __m256 v;
  explicit PartialsF32(const float* p) : v(_mm256_loadu_ps(p)) {}
  void add(const float* p) { v = _mm256_add_ps(v, _mm256_loadu_ps(p)); }
  void spill(float r[8]) const { _mm256_storeu_ps(r, v); }
};
struct PartialsF64 {
  __m256d lo, hi;
  explicit PartialsF64(const double* p) : lo(_mm256_loadu_pd(p)), hi(_mm256_loadu_pd(p + 4)) {}
  void add(const double* p) {
    lo = _mm256_add_pd(lo, _mm256_loadu_pd(p)), hi = _mm256_add_pd(hi, _mm256_loadu_pd(p + 4));
  }
  void spill(double r[8]) const { _mm256_storeu_pd(r, lo), _mm256_storeu_pd(r + 4, hi); }
};
inline PartialsF32 partials(const float* p) { return PartialsF32(p); }
inline PartialsF64 partials(const double* p) { return PartialsF64(p); }

template <class T, class P>
T total(const P& p, const T* tail, int64_t n) {
  T r[8];
  p.spill(r);
  return leaf_total(r, tail, n);
}

// The two leaves of a node in step: a leaf alone is one chain of dependent adds (4 cycles
// each), two chains overlap; a sum streaming from L2 ran 25% faster (65536 floats, one core).
// Each partial sum sees leaf_sum's additions in the same order: the same bits.
struct VectorLeaves {
  template <class T>
  static T one(const T* x, int64_t n) {
    if (n < 8) return leaf_sum(x, n);
    auto p = partials(x);
    const int64_t full = n - n % 8;
    for (int64_t i = 8; i < full; i += 8) p.add(x + i);
    return total(p, x + full, n - full);
  }
  template <class T>
  static T two(const T* x, int64_t h, int64_t n) {  // both leaves at least 8 long
    const T* y = x + h;
    const int64_t m = n - h, full_x = h - h % 8, full_y = m - m % 8;
    const int64_t both = full_x < full_y ? full_x : full_y;
    auto a = partials(x), b = partials(y);
    int64_t i = 8;
    for (; i < both; i += 8) a.add(x + i), b.add(y + i);
    for (int64_t k = i; k < full_x; k += 8) a.add(x + k);
    for (int64_t k = i; k < full_y; k += 8) b.add(y + k);
    return total(a, x + full_x, h - full_x) + total(b, y + full_y, m - full_y);
  }
};

// One row's product: eight vectors of running products side by side (64 floats or 32 doubles),
// enough independent multiplies to cover their latency at two a cycle; the tail's whole vectors
// go into the first, the eight are combined pairwise, then the lanes, then the last few
// elements. 256 x 784 floats near 1 on one core: 10 us, the generic unit's four-lane version
// (with a scalar tail of up to 31 floats) 15 us.
template <class P>
typename P::T row_prod(const typename P::T* x, int64_t n) {
  using T = typename P::T;
  constexpr int W = P::W, L = 8 * W;
  typename P::V acc[8];
  for (auto& a : acc) a = P::set1(T(1));
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int j = 0; j < 8; ++j) acc[j] = P::mul(acc[j], P::load(x + i + j * W));
  for (; i + W <= n; i += W) acc[0] = P::mul(acc[0], P::load(x + i));
  for (int w = 4; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] = P::mul(acc[j], acc[j + w]);
  T lanes[W];
  P::store(lanes, acc[0]);
  for (int w = W / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) lanes[j] *= lanes[j + w];
  T p = lanes[0];
  for (; i < n; ++i) p *= x[i];
  return p;
}

}  // namespace
}  // namespace avx2

float prod_row_avx2(const float* x, int64_t n) { return avx2::row_prod<avx2::VecF32>(x, n); }
double prod_row_avx2(const double* x, int64_t n) { return avx2::row_prod<avx2::VecF64>(x, n); }

float sum_pairwise_avx2(const float* x, int64_t n) {
  return avx2::pairwise<avx2::VectorLeaves>(x, n);
}
double sum_pairwise_avx2(const double* x, int64_t n) {
  return avx2::pairwise<avx2::VectorLeaves>(x, n);
}

}  // namespace fastnn
