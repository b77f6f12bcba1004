// Scalar statistics of the normalization layers (batch_norm, layer_norm, group_norm), shared by
// the CPU kernels and their CUDA twins so the two devices cannot drift. All in double.
//
// Moments of a set are (count, mean, m2) with m2 = sum (x - mean)^2. Each kernel computes them per
// block with two passes over data that sits in cache (mean first, then squared deviations from
// it), and merges blocks with the pairwise update below: no sum of squares minus a squared sum, so
// no catastrophic cancellation when the mean is large against the spread.
#pragma once
#include <cmath>

#include "hd.h"

namespace fastnn::norm {

struct Moments {
  double n = 0, mean = 0, m2 = 0;
};

// a <- the moments of the union of a and b.
FASTNN_HD inline void merge(Moments& a, const Moments& b) {
  if (b.n == 0) return;
  if (a.n == 0) {
    a = b;
    return;
  }
  const double n = a.n + b.n, delta = b.mean - a.mean;
  a.mean += delta * (b.n / n);
  a.m2 += b.m2 + delta * delta * (a.n * b.n / n);
  a.n = n;
}

// 1 / sqrt(biased variance + eps); an empty set counts as variance 0.
FASTNN_HD inline double rstd_of(const Moments& m, double eps) {
  const double var = m.n > 0 ? m.m2 / m.n : 0.0;
  return 1.0 / std::sqrt(var + eps);
}

// The unbiased variance that running_var tracks (the set has n > 1 elements, checked by callers).
FASTNN_HD inline double unbiased_var(const Moments& m) { return m.n > 1 ? m.m2 / (m.n - 1) : 0.0; }

// running <- (1 - momentum) * running + momentum * value, in double.
FASTNN_HD inline double ema(double running, double value, double momentum) {
  return (1.0 - momentum) * running + momentum * value;
}

// A double mean split into hi + lo with hi in T: (x - hi) - lo centres a T value with almost
// double accuracy (x - hi is exact when x is near hi), so a large mean costs no precision.
template <class T>
struct Centre {
  T hi, lo;
  FASTNN_HD explicit Centre(double mean)
      : hi(static_cast<T>(mean)), lo(static_cast<T>(mean - static_cast<double>(hi))) {}
  FASTNN_HD T operator()(T x) const { return (x - hi) - lo; }
};

// The forward of one element, xc = x - mean: y = xc * k * w + shift (k = rstd, or w rstd with a
// per-channel weight folded in and w = 1).
template <class T>
FASTNN_HD inline T affine_one(T xc, T k, T w, T shift) {
  return xc * k * w + shift;
}

// The backward of one element, g = dy * w, xc = x - mean, with the per-row (per-channel)
// coefficients k_g = rstd (w rstd for batch_norm), m_g = mean of g, k_x = -rstd^3 mean(g xc):
// dx = k_g (g - m_g) + k_x xc. mean(g) comes off before the large factor rstd multiplies.
template <class T>
FASTNN_HD inline T dx_one(T g, T xc, T k_g, T m_g, T k_x) {
  return k_g * (g - m_g) + k_x * xc;
}

}  // namespace fastnn::norm
