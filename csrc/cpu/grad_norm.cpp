// Multi-tensor gradient norm and in-place scaling for nn.utils.clip_grad_norm_, and the norm of
// each row of one array (Tensor.norm along the last dimension) from the same span sums.
//
// Why a kernel: the total norm of a model's gradients is a reduction over many tensors, most of
// them small (biases, norms' scales). From Python that is one numpy call per tensor, about a
// microsecond each before any arithmetic; here the whole list is one call. The list is
// flattened into [0, total) and cut into fixed blocks; each block's partial result is kept by
// block index and the partials are combined in block order, so the result does not depend on
// the thread count. Sums accumulate in double (a float32 element is widened first, so its square
// is exact): on AVX2 / AVX-512 CPUs in the grad_norm_avx2.cpp / _avx512.cpp units (double lanes,
// FMA), elsewhere in the loops below (eight accumulators, which the compiler keeps in SSE2
// registers). The order of the additions differs between these paths, not within one.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/grad_norm_simd.h"
#include "cpu/parallel.h"

namespace fastnn {
namespace {

constexpr int64_t kBlock = 1 << 16;
constexpr int64_t kMinElementsPerThread = 1 << 16;

template <class T>
double span_sum_sq(const T* x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) {
      const double v = x[i + j];
      acc[j] += v * v;
    }
  double tail = 0;
  for (; i < n; ++i) tail += static_cast<double>(x[i]) * x[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

template <class T>
double span_sum_abs(const T* x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += std::fabs(static_cast<double>(x[i + j]));
  double tail = 0;
  for (; i < n; ++i) tail += std::fabs(static_cast<double>(x[i]));
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// max(a, b) where a NaN on either side wins (a NaN gradient makes the norm NaN, as in torch).
inline double nan_max(double a, double b) { return (b > a || b != b) ? b : a; }

// The max of |x| compares bit patterns: with the sign bit cleared, a float's pattern read as a
// (non-negative) integer orders like its magnitude, and every NaN pattern lies above infinity's,
// so the integer max is the answer, NaN included, and integer compare-selects vectorize (a
// floating-point compare-select would drop NaNs and does not vectorize without fast-math).
template <class T>
double span_max_abs(const T* x, int64_t n) {
  using U = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  static_assert(sizeof(U) == sizeof(T));
  constexpr U kMagnitude = std::numeric_limits<U>::max();  // every bit but the sign
  U acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) {
      U b;
      std::memcpy(&b, x + i + j, sizeof b);
      b &= kMagnitude;
      acc[j] = b > acc[j] ? b : acc[j];
    }
  U m = 0;
  for (; i < n; ++i) {
    U b;
    std::memcpy(&b, x + i, sizeof b);
    b &= kMagnitude;
    m = b > m ? b : m;
  }
  for (int j = 0; j < 16; ++j) m = acc[j] > m ? acc[j] : m;
  T out;
  std::memcpy(&out, &m, sizeof out);
  return static_cast<double>(out);
}

// The span sums by ISA (IsaTable, cpu/cpu_features.h): the loops above on the generic path, the
// grad_norm_avx2.cpp / _avx512.cpp units (double lanes, FMA) where the CPU has them.
struct SpanSums {
  double (*sq_f32)(const float*, int64_t);
  double (*sq_f64)(const double*, int64_t);
  double (*abs_f32)(const float*, int64_t);
  double (*abs_f64)(const double*, int64_t);
};
const IsaTable<SpanSums> kSpanSums{{{
    {&span_sum_sq<float>, &span_sum_sq<double>, &span_sum_abs<float>, &span_sum_abs<double>},
    {&avx2::grad_sum_sq_f32, &avx2::grad_sum_sq_f64, &avx2::grad_sum_abs_f32,
     &avx2::grad_sum_abs_f64},
    {&avx512::grad_sum_sq_f32, &avx512::grad_sum_sq_f64, &avx512::grad_sum_abs_f32,
     &avx512::grad_sum_abs_f64},
}}};

double sum_sq(const SpanSums& f, const float* x, int64_t n) { return f.sq_f32(x, n); }
double sum_sq(const SpanSums& f, const double* x, int64_t n) { return f.sq_f64(x, n); }
double sum_abs(const SpanSums& f, const float* x, int64_t n) { return f.abs_f32(x, n); }
double sum_abs(const SpanSums& f, const double* x, int64_t n) { return f.abs_f64(x, n); }

// Calls fn(block, t, begin, end) for every non-empty span of tensor t inside each block of the
// flattened range, blocks shared among the pool's threads; returns the number of blocks.
template <class Fn>
int64_t for_each_block_span(const int64_t* numels, int64_t n_tensors, const Fn& fn) {
  std::vector<int64_t> offsets(n_tensors + 1, 0);
  for (int64_t t = 0; t < n_tensors; ++t) offsets[t + 1] = offsets[t] + numels[t];
  const int64_t total = offsets[n_tensors];
  if (total == 0) return 0;
  const int64_t n_blocks = (total + kBlock - 1) / kBlock;
  const int64_t want =
      std::min((total + kMinElementsPerThread - 1) / kMinElementsPerThread, n_blocks);
  std::atomic<int64_t> next{0};
  parallel_run(static_cast<int>(std::min<int64_t>(want, 1 << 16)), [&](int, int) {
    for (int64_t blk = next.fetch_add(1, std::memory_order_relaxed); blk < n_blocks;
         blk = next.fetch_add(1, std::memory_order_relaxed)) {
      int64_t lo = blk * kBlock, hi = std::min(total, lo + kBlock);
      int64_t t = std::upper_bound(offsets.begin(), offsets.end(), lo) - offsets.begin() - 1;
      while (lo < hi) {
        const int64_t end = std::min(hi, offsets[t + 1]);
        if (end > lo) fn(blk, t, lo - offsets[t], end - offsets[t]);
        lo = end;
        ++t;
      }
    }
  });
  return n_blocks;
}

template <class T>
double grad_norm_impl(const T* const* xs, const int64_t* numels, int64_t n_tensors,
                      GradNormKind kind) {
  int64_t max_blocks = 0;
  for (int64_t t = 0; t < n_tensors; ++t) max_blocks += numels[t];
  std::vector<double> partial((max_blocks + kBlock - 1) / kBlock, 0.0);
  const SpanSums& sums = kSpanSums[active_isa()];
  const int64_t n_blocks =
      for_each_block_span(numels, n_tensors, [&](int64_t blk, int64_t t, int64_t b, int64_t e) {
        const T* x = xs[t] + b;
        switch (kind) {
          case GradNormKind::l2:
            partial[blk] += sum_sq(sums, x, e - b);
            break;
          case GradNormKind::l1:
            partial[blk] += sum_abs(sums, x, e - b);
            break;
          case GradNormKind::linf:
            partial[blk] = nan_max(partial[blk], span_max_abs(x, e - b));
            break;
        }
      });
  double r = 0;
  for (int64_t b = 0; b < n_blocks; ++b)
    r = kind == GradNormKind::linf ? nan_max(r, partial[b]) : r + partial[b];
  return kind == GradNormKind::l2 ? std::sqrt(r) : r;
}

template <class T>
void norm_last_impl(const T* x, int64_t rows, int64_t cols, GradNormKind kind, T* out) {
  const SpanSums& sums = kSpanSums[active_isa()];
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = x + r * cols;
      switch (kind) {
        case GradNormKind::l2:
          out[r] = static_cast<T>(std::sqrt(sum_sq(sums, row, cols)));
          break;
        case GradNormKind::l1:
          out[r] = static_cast<T>(sum_abs(sums, row, cols));
          break;
        case GradNormKind::linf:
          out[r] = static_cast<T>(cols ? span_max_abs(row, cols) : 0.0);
          break;
      }
    }
  });
}

template <class T>
void grad_scale_impl(T* const* xs, const int64_t* numels, int64_t n_tensors, T factor) {
  for_each_block_span(numels, n_tensors, [&](int64_t, int64_t t, int64_t b, int64_t e) {
    // Local copies: a store through x may not alias them, so the loop vectorizes.
    T* const x = xs[t];
    const T f = factor;
    for (int64_t i = b; i < e; ++i) x[i] = x[i] * f;
  });
}

}  // namespace

double grad_norm_cpu(const float* const* xs, const int64_t* numels, int64_t n_tensors,
                     GradNormKind kind) {
  return grad_norm_impl(xs, numels, n_tensors, kind);
}
double grad_norm_cpu(const double* const* xs, const int64_t* numels, int64_t n_tensors,
                     GradNormKind kind) {
  return grad_norm_impl(xs, numels, n_tensors, kind);
}
void norm_last_cpu(const float* x, int64_t rows, int64_t cols, GradNormKind kind, float* out) {
  norm_last_impl(x, rows, cols, kind, out);
}
void norm_last_cpu(const double* x, int64_t rows, int64_t cols, GradNormKind kind, double* out) {
  norm_last_impl(x, rows, cols, kind, out);
}
void grad_scale_cpu(float* const* xs, const int64_t* numels, int64_t n_tensors, float factor) {
  grad_scale_impl(xs, numels, n_tensors, factor);
}
void grad_scale_cpu(double* const* xs, const int64_t* numels, int64_t n_tensors, double factor) {
  grad_scale_impl(xs, numels, n_tensors, factor);
}

}  // namespace fastnn
