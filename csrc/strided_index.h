// Index math for element-wise kernels over strided / broadcast operands, shared by the host (which
// plans it and, in tests, checks it) and the device (which runs it once per element).
//
// A plan maps the contiguous index i of an output of some shape to the element offsets of K
// operands read through element strides (0 for a broadcast dimension, any sign for views).
// Planning (host only) drops size-1 dimensions and merges neighbours that every operand walks
// contiguously, so most broadcasts end up with one or two dimensions. Unravelling i then takes one
// division per remaining dimension but the outermost; when the element count and every reachable
// offset fit in int32, the division is a multiply-high and a shift by a per-dimension magic number
// (FastDivmod32) instead of a 64-bit divide, which costs dozens of instructions on a GPU.
#pragma once

#include <cstdint>

#include "hd.h"

namespace fastnn {

constexpr int kIndexMaxDims = 8;

// High 32 bits of the 64-bit product a * b.
FASTNN_HD inline uint32_t umulhi32(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__)
  return __umulhi(a, b);
#else
  return static_cast<uint32_t>((static_cast<uint64_t>(a) * b) >> 32);
#endif
}

// Division of n in [0, 2^31) by a fixed d in [1, 2^31]. With s = ceil(log2 d) and
// M = floor(2^(32+s) / d) + 1 (33 bits; `mul` keeps its low 32), n / d = floor(n * M / 2^(32+s))
// exactly: M exceeds 2^(32+s)/d by at most 1, so the product overshoots n/d by less than
// n / 2^(32+s) < 2^-(s+1) < 1/d, too little to reach the next integer. n * M / 2^32 is
// umulhi(n, mul) + n, which fits in 32 bits because umulhi(n, mul) < n < 2^31.
struct FastDivmod32 {
  uint32_t divisor = 1;
  uint32_t mul = 1;
  uint32_t shift = 0;

  FastDivmod32() = default;
  explicit FastDivmod32(uint32_t d) : divisor(d) {
    while ((uint64_t{1} << shift) < d) ++shift;
    // 2^32 (2^s - d) / d < 2^32 for d > 2^(s-1): the magic number fits in 32 bits.
    mul = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1);
  }
  FASTNN_HD uint32_t div(uint32_t n) const { return (umulhi32(n, mul) + n) >> shift; }
  FASTNN_HD void divmod(uint32_t n, uint32_t& q, uint32_t& r) const {
    q = div(n);
    r = n - q * divisor;
  }
};

// The plan for K operands: dims innermost first, after dropping size-1 dims and merging.
template <int K>
struct IndexPlan {
  int ndim = 0;  // 0: a single element (every offset 0)
  int64_t size[kIndexMaxDims] = {};
  int64_t stride[kIndexMaxDims][K] = {};
  bool fits32 = false;  // element count and every reachable offset fit in int32

  // Every operand walks the output order with unit stride: a flat, vectorizable loop.
  bool contiguous() const {
    if (ndim > 1) return false;
    for (int k = 0; k < K; ++k)
      if (ndim == 1 && stride[0][k] != 1) return false;
    return true;
  }
};

// shape[0..ndim) outermost first (as numpy), strides[k][d] the element stride of operand k.
// ndim <= kIndexMaxDims and every size >= 0 (callers skip empty outputs before launching).
template <int K>
IndexPlan<K> plan_index(int ndim, const int64_t* shape, const int64_t* const* strides) {
  IndexPlan<K> p;
  int64_t numel = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    const int64_t n = shape[d];
    numel *= n;
    if (n == 1) continue;
    if (p.ndim > 0) {
      const int last = p.ndim - 1;
      bool merge = true;
      for (int k = 0; k < K; ++k)
        merge = merge && strides[k][d] == p.stride[last][k] * p.size[last];
      if (merge) {
        p.size[last] *= n;
        continue;
      }
    }
    p.size[p.ndim] = n;
    for (int k = 0; k < K; ++k) p.stride[p.ndim][k] = strides[k][d];
    ++p.ndim;
  }
  constexpr int64_t kMax32 = INT32_MAX;
  bool fits = numel <= kMax32;
  for (int k = 0; k < K && fits; ++k) {
    int64_t reach = 0;  // the largest |offset| operand k can reach
    for (int d = 0; d < p.ndim && fits; ++d) {
      const int64_t st = p.stride[d][k] < 0 ? -p.stride[d][k] : p.stride[d][k];
      fits = st <= kMax32 && (p.size[d] - 1) <= kMax32 / (st > 0 ? st : 1);
      if (fits) reach += (p.size[d] - 1) * st;
      fits = fits && reach <= kMax32;
    }
  }
  p.fits32 = fits;
  return p;
}

// The offsets of element i, in 32-bit arithmetic (a plan with fits32 only).
template <int K>
struct OffsetCalc32 {
  int ndim = 0;
  FastDivmod32 div[kIndexMaxDims];
  int32_t stride[kIndexMaxDims][K] = {};

  OffsetCalc32() = default;
  explicit OffsetCalc32(const IndexPlan<K>& p) : ndim(p.ndim) {
    for (int d = 0; d < p.ndim; ++d) {
      div[d] = FastDivmod32(static_cast<uint32_t>(p.size[d]));
      for (int k = 0; k < K; ++k) stride[d][k] = static_cast<int32_t>(p.stride[d][k]);
    }
  }
  FASTNN_HD void get(int64_t index, int64_t (&off)[K]) const {
    int32_t o[K];
    for (int k = 0; k < K; ++k) o[k] = 0;
    uint32_t i = static_cast<uint32_t>(index);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int d = 0; d < kIndexMaxDims; ++d) {
      if (d == ndim) break;
      uint32_t q = 0, r = i;  // the outermost dimension needs no division: i < its size
      if (d + 1 < ndim) div[d].divmod(i, q, r);
      for (int k = 0; k < K; ++k) o[k] += static_cast<int32_t>(r) * stride[d][k];
      i = q;
    }
    for (int k = 0; k < K; ++k) off[k] = o[k];
  }
};

// The same in 64-bit arithmetic with plain division (any plan).
template <int K>
struct OffsetCalc64 {
  int ndim = 0;
  int64_t size[kIndexMaxDims] = {};
  int64_t stride[kIndexMaxDims][K] = {};

  OffsetCalc64() = default;
  explicit OffsetCalc64(const IndexPlan<K>& p) : ndim(p.ndim) {
    for (int d = 0; d < p.ndim; ++d) {
      size[d] = p.size[d];
      for (int k = 0; k < K; ++k) stride[d][k] = p.stride[d][k];
    }
  }
  FASTNN_HD void get(int64_t i, int64_t (&off)[K]) const {
    for (int k = 0; k < K; ++k) off[k] = 0;
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int d = 0; d < kIndexMaxDims; ++d) {
      if (d == ndim) break;
      int64_t q = 0, r = i;
      if (d + 1 < ndim) {
        q = i / size[d];
        r = i - q * size[d];
      }
      for (int k = 0; k < K; ++k) off[k] += r * stride[d][k];
      i = q;
    }
  }
};

}  // namespace fastnn
