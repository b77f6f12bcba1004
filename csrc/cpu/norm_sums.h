// Sums over contiguous float32/float64 runs, accumulated in double with eight independent lanes
// (added in a fixed order at the end), for the normalization kernels. The lanes let the compiler
// keep several additions in flight and vectorize without reassociating anything, so the result is
// the same on every CPU and for every thread split. Generic units only (see [note: ISA units]).
#pragma once
#include <cstdint>

#include "norm_math.h"

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

// Adds sum g to *s_g and sum g * (x - mean) to *s_gx, g = dy * (w ? w : ws).
template <class T>
void weighted_grad_sums(const T* dy, const T* w, T ws, const T* x, int64_t n, double mean,
                        double* s_g, double* s_gx) {
  double a[kLanes] = {}, b[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double g = static_cast<double>(dy[i + l]) * static_cast<double>(w ? w[i + l] : ws);
      a[l] += g;
      b[l] += g * (static_cast<double>(x[i + l]) - mean);
    }
  for (; i < n; ++i) {
    const double g = static_cast<double>(dy[i]) * static_cast<double>(w ? w[i] : ws);
    a[i % kLanes] += g;
    b[i % kLanes] += g * (static_cast<double>(x[i]) - mean);
  }
  *s_g += fold(a);
  *s_gx += fold(b);
}

// y = (x - mean) * k * (w ? w : 1) + (b ? b : shift)
template <class T>
void affine(T* y, const T* x, int64_t n, Centre<T> c, T k, const T* w, const T* b, T shift) {
  for (int64_t i = 0; i < n; ++i) y[i] = affine_one(c(x[i]), k, w ? w[i] : T(1), b ? b[i] : shift);
}

// dx = k_g (dy (w ? w : ws) - m_g) + k_x (x - mean) (dx may be null); pw += dy (x - mean) k_g and
// pb += dy when given.
template <class T>
void backward_run(T* dx, T* pw, T* pb, const T* dy, const T* w, T ws, const T* x, int64_t n,
                  Centre<T> c, T k_g, T m_g, T k_x) {
  for (int64_t i = 0; i < n; ++i) {
    const T d = dy[i], xc = c(x[i]);
    if (pw) pw[i] += d * (xc * k_g);
    if (pb) pb[i] += d;
    if (dx) dx[i] = dx_one(d * (w ? w[i] : ws), xc, k_g, m_g, k_x);
  }
}

}  // namespace fastnn::norm
