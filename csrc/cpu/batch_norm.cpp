// batch_norm on the CPU (float32, float64): x (N, C, S) normalised per channel over its N*S
// elements (S = the product of the spatial sizes, 1 for (N, C) input), then scaled by weight[c]
// and shifted by bias[c] (each may be absent). torch's F.batch_norm semantics:
//   training: batch mean and biased variance; running_mean / running_var (if given) move towards
//             the batch mean and the *unbiased* variance by `momentum`, updated here in double;
//   eval:     running_mean and running_var are the statistics.
// The forward returns, per channel, the mean and rstd = 1 / sqrt(var + eps) it used (in double),
// which the backward reads instead of recomputing them:
//   training: dx = w rstd (dy - mean(dy) - xhat mean(dy xhat)),  eval: dx = w rstd dy,
//   dweight = sum dy xhat, dbias = sum dy,  xhat = (x - mean) rstd.
// Channels are split over the thread pool; each channel's statistics come from blocks of about
// kBlock elements (mean, then squared deviations, while the block is in cache) merged pairwise in
// double (csrc/norm_math.h), so a large mean does not cancel the variance away. Results do not
// depend on the thread count.
// The runs themselves go through cpu/norm_ops.h: float32 runs take the active ISA's vector loops
// (cpu/norm_simd.h: float partial sums over chunks of 1024, added in double), float64 runs the
// double-accumulating loops of cpu/norm_sums.h.
#include <algorithm>
#include <cmath>

#include "cpu/fastnn_cpu.h"
#include "cpu/norm_ops.h"
#include "cpu/parallel.h"
#include "norm_math.h"

namespace fastnn {
namespace {

constexpr int64_t kBlock = 1024;        // elements per in-cache block of a channel's moments
constexpr int64_t kGrainElems = 32768;  // elements per thread before threads pay off

int64_t channel_grain(int64_t per_channel) {
  return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, per_channel));
}

template <class T>
norm::Moments channel_moments(const T* x, int64_t N, int64_t C, int64_t S, int64_t c) {
  norm::Moments m;
  if (S == 0) return m;
  const int64_t rows = std::max<int64_t>(1, kBlock / S);
  for (int64_t n0 = 0; n0 < N; n0 += rows) {
    const int64_t n1 = std::min(N, n0 + rows);
    norm::Moments b;
    b.n = static_cast<double>((n1 - n0) * S);
    double s = 0;
    for (int64_t n = n0; n < n1; ++n) s += norm::run_sum(x + (n * C + c) * S, S);
    b.mean = s / b.n;
    for (int64_t n = n0; n < n1; ++n) b.m2 += norm::run_centered_sq(x + (n * C + c) * S, S, b.mean);
    norm::merge(m, b);
  }
  return m;
}

template <class T>
void forward(T* y, double* save_mean, double* save_rstd, T* running_mean, T* running_var,
             const T* x, const T* w, const T* b, int64_t N, int64_t C, int64_t S, double eps,
             double momentum, bool training) {
  parallel_for(C, channel_grain(N * S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double mean, rstd;
      if (training) {
        const norm::Moments m = channel_moments(x, N, C, S, c);
        mean = m.mean;
        rstd = norm::rstd_of(m, eps);
        if (running_mean && m.n > 0) {
          running_mean[c] = static_cast<T>(norm::ema(running_mean[c], m.mean, momentum));
          running_var[c] =
              static_cast<T>(norm::ema(running_var[c], norm::unbiased_var(m), momentum));
        }
      } else {
        mean = running_mean[c];
        rstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
      }
      save_mean[c] = mean;
      save_rstd[c] = rstd;
      const T scale = static_cast<T>((w ? static_cast<double>(w[c]) : 1.0) * rstd);
      const T shift = b ? b[c] : T(0);
      for (int64_t n = 0; n < N; ++n)
        norm::run_affine(y + (n * C + c) * S, x + (n * C + c) * S, S, mean, scale, nullptr, nullptr,
                         shift);
    }
  });
}

template <class T>
void backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const double* mean,
              const double* rstd, int64_t N, int64_t C, int64_t S, bool training) {
  const double M = static_cast<double>(N * S);
  parallel_for(C, channel_grain(N * S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s_dy = 0, s_dyx = 0;  // sum dy, sum dy (x - mean)
      if (dw || db || (dx && training))
        for (int64_t n = 0; n < N; ++n)
          norm::run_grad_sums(dy + (n * C + c) * S, nullptr, T(1), x + (n * C + c) * S, S, mean[c],
                              &s_dy, &s_dyx);
      const double r = rstd[c];
      if (dw) dw[c] = static_cast<T>(s_dyx * r);
      if (db) db[c] = static_cast<T>(s_dy);
      if (!dx) continue;
      const double wr = (w ? static_cast<double>(w[c]) : 1.0) * r;
      const bool batch = training && M > 0;
      // dx = w rstd (dy - mean(dy)) + k_x (x - mean): the mean of dy is taken off before the
      // large factor rstd multiplies it, so nothing cancels after the scaling.
      const T k_dy = static_cast<T>(wr);
      const T m_dy = static_cast<T>(batch ? s_dy / M : 0.0);
      const T k_x = static_cast<T>(batch ? -wr * r * r * s_dyx / M : 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t off = (n * C + c) * S;
        norm::run_backward(dx + off, nullptr, nullptr, dy + off, nullptr, T(1), x + off, S, mean[c],
                           k_dy, m_dy, k_x);
      }
    }
  });
}

}  // namespace

#define FASTNN_DEFINE_BATCH_NORM(T)                                                               \
  void batch_norm_forward_cpu(T* y, double* save_mean, double* save_rstd, T* running_mean,        \
                              T* running_var, const T* x, const T* weight, const T* bias,         \
                              int64_t N, int64_t C, int64_t S, double eps, double momentum,       \
                              bool training) {                                                    \
    forward(y, save_mean, save_rstd, running_mean, running_var, x, weight, bias, N, C, S, eps,    \
            momentum, training);                                                                  \
  }                                                                                               \
  void batch_norm_backward_cpu(T* dx, T* dweight, T* dbias, const T* dy, const T* x,              \
                               const T* weight, const double* save_mean, const double* save_rstd, \
                               int64_t N, int64_t C, int64_t S, bool training) {                  \
    backward(dx, dweight, dbias, dy, x, weight, save_mean, save_rstd, N, C, S, training);         \
  }
FASTNN_DEFINE_BATCH_NORM(float)
FASTNN_DEFINE_BATCH_NORM(double)
#undef FASTNN_DEFINE_BATCH_NORM

}  // namespace fastnn
