// cumsum and cumprod along one axis, accumulated in double and rounded once per output.
//
// torch's CPU scans of float32 accumulate in double (its accumulation type for float on the CPU);
// numpy's accumulate in float32, whose error grows with the length: along 100k elements only 1 %
// of numpy's outputs equal torch's. Accumulating in double gives torch's bits exactly, whatever
// the split, since every output is the same sequential sum (or product). numpy's scan is also a
// scalar loop on one core, one add latency per element; here a last-axis scan runs eight rows side
// by side (eight independent chains) and a scan along another axis runs down whole rows of
// columns, which the compiler vectorises.
#include <algorithm>

#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

namespace fastnn {
namespace {

constexpr int kRows = 8;          // last-axis rows scanned together
constexpr int64_t kCols = 256;    // columns of an inner scan kept in double at once
constexpr int64_t kWork = 16384;  // elements per task, at least

struct Add {
  static constexpr double init = 0.0;
  double operator()(double a, double b) const { return a + b; }
};
struct Mul {
  static constexpr double init = 1.0;
  double operator()(double a, double b) const { return a * b; }
};

// Rows [r0, r1) of a (rows, n) array, each scanned along its n elements.
template <class T, class Op>
void scan_rows(T* out, const T* x, int64_t r0, int64_t r1, int64_t n, bool reverse, Op op) {
  // position j of a row's scan order: from the end when reversed
  const int64_t first = reverse ? n - 1 : 0, step = reverse ? -1 : 1;
  int64_t r = r0;
  for (; r + kRows <= r1; r += kRows) {
    double acc[kRows];
    for (int i = 0; i < kRows; ++i) acc[i] = Op::init;
    const T* xr = x + r * n;
    T* orow = out + r * n;
    for (int64_t j = 0, k = first; j < n; ++j, k += step) {
#pragma GCC unroll 8
      for (int i = 0; i < kRows; ++i) {
        acc[i] = op(acc[i], double(xr[i * n + k]));
        orow[i * n + k] = T(acc[i]);
      }
    }
  }
  for (; r < r1; ++r) {
    double acc = Op::init;
    for (int64_t j = 0, k = first; j < n; ++j, k += step) {
      acc = op(acc, double(x[r * n + k]));
      out[r * n + k] = T(acc);
    }
  }
}

// Columns [c0, c1) of block o of an (outer, n, inner) array, scanned along n.
template <class T, class Op>
void scan_cols(T* out, const T* x, int64_t o, int64_t c0, int64_t c1, int64_t n, int64_t inner,
               bool reverse, Op op) {
  double acc[kCols];
  const int64_t w = c1 - c0;
  std::fill(acc, acc + w, Op::init);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t k = reverse ? n - 1 - j : j;
    const T* xr = x + (o * n + k) * inner + c0;
    T* orow = out + (o * n + k) * inner + c0;
    for (int64_t c = 0; c < w; ++c) {
      acc[c] = op(acc[c], double(xr[c]));
      orow[c] = T(acc[c]);
    }
  }
}

template <class T, class Op>
void scan(T* out, const T* x, int64_t outer, int64_t n, int64_t inner, bool reverse, Op op) {
  if (outer <= 0 || n <= 0 || inner <= 0) return;
  if (inner == 1) {
    const int64_t groups = (outer + kRows - 1) / kRows;
    const int64_t grain = std::max<int64_t>(1, kWork / (kRows * n));
    parallel_for(groups, grain, [&](int64_t g0, int64_t g1) {
      scan_rows(out, x, g0 * kRows, std::min(outer, g1 * kRows), n, reverse, op);
    });
    return;
  }
  const int64_t chunks = (inner + kCols - 1) / kCols;
  const int64_t grain = std::max<int64_t>(1, kWork / (n * std::min(inner, kCols)));
  parallel_for(outer * chunks, grain, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t o = u / chunks, c0 = u % chunks * kCols;
      scan_cols(out, x, o, c0, std::min(inner, c0 + kCols), n, inner, reverse, op);
    }
  });
}

}  // namespace

void cumsum_cpu(float* out, const float* x, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  scan(out, x, outer, n, inner, reverse, Add{});
}
void cumsum_cpu(double* out, const double* x, int64_t outer, int64_t n, int64_t inner,
                bool reverse) {
  scan(out, x, outer, n, inner, reverse, Add{});
}
void cumprod_cpu(float* out, const float* x, int64_t outer, int64_t n, int64_t inner) {
  scan(out, x, outer, n, inner, false, Mul{});
}
void cumprod_cpu(double* out, const double* x, int64_t outer, int64_t n, int64_t inner) {
  scan(out, x, outer, n, inner, false, Mul{});
}

}  // namespace fastnn
