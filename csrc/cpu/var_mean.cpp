// var_mean: the variance and the mean along one axis of a C-contiguous array seen as (outer, n,
// inner), or of all of it (outer = inner = 1): torch's var_mean. Two passes over the data, the
// mean and then the sum of squared deviations from it, both accumulated in double: float32 data
// loses nothing to cancellation (as the one-pass E[x^2] - E[x]^2 would) or to its squares
// overflowing. The sum is divided by max(n - correction, 0), as in torch: 0 gives inf, or NaN
// when every deviation is zero. Work is split over threads by fixed pieces (rows, blocks of
// columns, or pieces of one long row), so the result does not depend on the thread count.
#include <algorithm>
#include <vector>

#include "cpu/axis_pieces.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

namespace fastnn {
namespace {

constexpr int64_t kColumns = 256;  // columns per block when the axis is strided (inner > 1)

// Eight accumulators hide the latency of the double additions (and let two adders work).
template <class T, class F>
double accumulate(const T* x, int64_t n, F term) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) a[j] += term(x[i + j]);
  for (; i < n; ++i) a[0] += term(x[i]);
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

template <class T>
double sum_of(const T* x, int64_t n) {
  return accumulate(x, n, [](T v) { return static_cast<double>(v); });
}

template <class T>
double squared_deviations(const T* x, int64_t n, double m) {
  return accumulate(x, n, [m](T v) {
    const double d = v - m;
    return d * d;
  });
}

// One long row (the whole array, typically): fixed pieces of kPiece elements summed in parallel,
// their sums added in order, so the result does not depend on the thread count.
constexpr int64_t kPiece = 32768;

template <class T>
void one_long_row(T* var, T* mean, const T* x, int64_t n, double denom) {
  const int64_t pieces = (n + kPiece - 1) / kPiece;
  std::vector<double> part(pieces);
  auto pass = [&](auto f) {
    parallel_chunks(n, kPiece, [&](int64_t b, int64_t e) { part[b / kPiece] = f(x + b, e - b); });
    double total = 0;
    for (double v : part) total += v;
    return total;
  };
  const double m =
      pass([](const T* p, int64_t k) { return sum_of(p, k); }) / static_cast<double>(n);
  const double ss = pass([m](const T* p, int64_t k) { return squared_deviations(p, k, m); });
  *mean = static_cast<T>(m);
  *var = static_cast<T>(ss / denom);
}

// The columns [0, cols) of one (n, inner) slab, cols <= kColumns, read row after row.
template <class T>
void column_block(T* var, T* mean, const T* x, int64_t n, int64_t inner, int64_t cols,
                  double denom) {
  double s[kColumns], m[kColumns];
  std::fill(s, s + cols, 0.0);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; ++c) s[c] += x[k * inner + c];
  for (int64_t c = 0; c < cols; ++c) m[c] = s[c] / static_cast<double>(n), s[c] = 0;
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; ++c) {
      const double d = x[k * inner + c] - m[c];
      s[c] += d * d;
    }
  for (int64_t c = 0; c < cols; ++c) {
    mean[c] = static_cast<T>(m[c]);
    var[c] = static_cast<T>(s[c] / denom);
  }
}

template <class T>
void var_mean_impl(T* var, T* mean, const T* x, int64_t outer, int64_t n, int64_t inner,
                   double correction) {
  const double denom = std::max(static_cast<double>(n) - correction, 0.0);
  if (inner == 1 && outer == 1 && n >= 2 * kPiece) return one_long_row(var, mean, x, n, denom);
  for_axis_pieces(
      {outer, n, inner}, kColumns,
      [&](int64_t r0, int64_t rows) {
        for (int64_t r = r0; r < r0 + rows; ++r) {
          const T* row = x + r * n;
          const double m = sum_of(row, n) / static_cast<double>(n);
          mean[r] = static_cast<T>(m);
          var[r] = static_cast<T>(squared_deviations(row, n, m) / denom);
        }
      },
      [&](int64_t o, int64_t c, int64_t cols) {
        column_block(var + o * inner + c, mean + o * inner + c, x + o * n * inner + c, n, inner,
                     cols, denom);
      });
}

}  // namespace

void var_mean_cpu(float* var, float* mean, const float* x, int64_t outer, int64_t n, int64_t inner,
                  double correction) {
  var_mean_impl(var, mean, x, outer, n, inner, correction);
}
void var_mean_cpu(double* var, double* mean, const double* x, int64_t outer, int64_t n,
                  int64_t inner, double correction) {
  var_mean_impl(var, mean, x, outer, n, inner, correction);
}

}  // namespace fastnn
