// Sums over contiguous float32/float64 runs, accumulated in double with eight independent lanes
// (added in a fixed order at the end), for the normalization kernels. The lanes let the compiler
// keep several additions in flight and vectorize without reassociating anything, so the result is
// the same on every CPU and for every thread split. Generic units only (see [note: ISA units]).
#pragma once
#include <cstdint>

namespace fastnn::norm {

constexpr int kLanes = 8;

inline double fold(const double* acc) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// sum x
template <class T>
double sum(const T* x, int64_t n) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += static_cast<double>(x[i + l]);
  for (; i < n; ++i) acc[i % kLanes] += static_cast<double>(x[i]);
  return fold(acc);
}

// sum (x - mean)^2
template <class T>
double centered_sq(const T* x, int64_t n, double mean) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(x[i + l]) - mean;
      acc[l] += d * d;
    }
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    acc[i % kLanes] += d * d;
  }
  return fold(acc);
}

// Adds sum dy to *s_dy and sum dy * (x - mean) to *s_dyx.
template <class T>
void grad_sums(const T* dy, const T* x, int64_t n, double mean, double* s_dy, double* s_dyx) {
  double a[kLanes] = {}, b[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double g = static_cast<double>(dy[i + l]);
      a[l] += g;
      b[l] += g * (static_cast<double>(x[i + l]) - mean);
    }
  for (; i < n; ++i) {
    const double g = static_cast<double>(dy[i]);
    a[i % kLanes] += g;
    b[i % kLanes] += g * (static_cast<double>(x[i]) - mean);
  }
  *s_dy += fold(a);
  *s_dyx += fold(b);
}

// A double mean split into hi + lo with hi in T: (x - hi) - lo centres a T value with almost
// double accuracy (x - hi is exact when x is near hi), so a large mean costs no precision.
template <class T>
struct Centre {
  T hi, lo;
  explicit Centre(double mean) : hi(static_cast<T>(mean)), lo(static_cast<T>(mean - hi)) {}
  T operator()(T x) const { return (x - hi) - lo; }
};

}  // namespace fastnn::norm
