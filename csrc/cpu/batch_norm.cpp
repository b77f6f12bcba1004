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
#include <vector>

#include "cpu/fastnn_cpu.h"
#include "cpu/norm_ops.h"
#include "cpu/parallel.h"
#include "norm_math.h"

namespace fastnn {
namespace {

constexpr int64_t kBlock = 1024;        // elements per in-cache block of a channel's moments
constexpr int64_t kGrainElems = 32768;  // elements per thread before threads pay off
constexpr int64_t kColumnS = 32;        // spatial sizes below this take the column path
constexpr int64_t kFlushRows = 64;      // column path: rows summed in T before going to double

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

// ---- the column path: small S (BatchNorm1d on (N, C), short sequences) --------------------------
// Runs of S < kColumnS elements are too short for the per-channel loops. Instead x is read as N
// rows of Q = C * S contiguous columns: a task owns a range of channels (whole columns) and sweeps
// the rows, keeping per-column sums in T over kFlushRows rows and in double beyond. Statistics
// are still two-pass (mean first, then squared deviations from it).

// Per-task column state for channels [c0, c1): S columns each.
template <class T>
struct Columns {
  int64_t N, Q, S, c0, n;
  std::vector<T> hi, lo, part_a, part_b;
  std::vector<double> sum_a, sum_b;
  Columns(int64_t N_, int64_t C, int64_t S_, int64_t c0_, int64_t c1)
      : N(N_),
        Q(C * S_),
        S(S_),
        c0(c0_),
        n((c1 - c0_) * S_),
        hi(n),
        lo(n),
        part_a(n),
        part_b(n),
        sum_a(n),
        sum_b(n) {}
  int64_t offset(int64_t r) const { return r * Q + c0 * S; }
  // sum_a (and sum_b) = the column sums of what add_row(part_a, part_b, r) adds for row r.
  template <class F>
  void sums(F add_row) {
    std::fill(sum_a.begin(), sum_a.end(), 0.0);
    std::fill(sum_b.begin(), sum_b.end(), 0.0);
    for (int64_t r0 = 0; r0 < N; r0 += kFlushRows) {
      std::fill(part_a.begin(), part_a.end(), T(0));
      std::fill(part_b.begin(), part_b.end(), T(0));
      for (int64_t r = r0; r < std::min(N, r0 + kFlushRows); ++r)
        add_row(part_a.data(), part_b.data(), r);
      for (int64_t q = 0; q < n; ++q) {
        sum_a[q] += static_cast<double>(part_a[q]);
        sum_b[q] += static_cast<double>(part_b[q]);
      }
    }
  }
  // The sum over channel c's S columns of v.
  double channel(const std::vector<double>& v, int64_t c) const {
    double s = 0;
    for (int64_t j = 0; j < S; ++j) s += v[(c - c0) * S + j];
    return s;
  }
  void centre(int64_t c, double mean) {
    const norm::Centre<T> ce(mean);
    for (int64_t j = 0; j < S; ++j) {
      hi[(c - c0) * S + j] = ce.hi;
      lo[(c - c0) * S + j] = ce.lo;
    }
  }
};

int64_t column_grain(int64_t N, int64_t S) {
  // at least 16 columns (a cache line of float32 y per row) and enough work per task
  return std::max<int64_t>((16 + S - 1) / S, kGrainElems / std::max<int64_t>(1, N * S));
}

template <class T>
void forward_columns(T* y, double* save_mean, double* save_rstd, T* running_mean, T* running_var,
                     const T* x, const T* w, const T* b, int64_t N, int64_t C, int64_t S,
                     double eps, double momentum, bool training) {
  const double M = static_cast<double>(N * S);
  parallel_for(C, column_grain(N, S), [&](int64_t c0, int64_t c1) {
    Columns<T> col(N, C, S, c0, c1);
    if (training) {
      // The sums are of x - (the first row), N times the first row added back in double.
      const T* first = x + col.offset(0);
      col.sums([&](T* a, T*, int64_t r) { norm::run_col_add(a, x + col.offset(r), first, col.n); });
      for (int64_t q = 0; N > 0 && q < col.n; ++q)
        col.sum_a[q] += static_cast<double>(N) * static_cast<double>(first[q]);
      for (int64_t c = c0; c < c1; ++c) {
        save_mean[c] = M > 0 ? col.channel(col.sum_a, c) / M : 0.0;
        col.centre(c, save_mean[c]);
      }
      // Squared deviations about hi + lo, which is the mean to about double precision.
      col.sums([&](T* a, T*, int64_t r) {
        norm::run_col_add_centered_sq(a, x + col.offset(r), col.hi.data(), col.lo.data(), col.n);
      });
    }
    std::vector<T> k(col.n), shift(col.n);
    for (int64_t c = c0; c < c1; ++c) {
      if (training) {
        norm::Moments m;
        m.n = M;
        m.mean = save_mean[c];
        m.m2 = col.channel(col.sum_a, c);
        save_rstd[c] = norm::rstd_of(m, eps);
        if (running_mean && M > 0) {
          running_mean[c] = static_cast<T>(norm::ema(running_mean[c], m.mean, momentum));
          running_var[c] =
              static_cast<T>(norm::ema(running_var[c], norm::unbiased_var(m), momentum));
        }
      } else {
        save_mean[c] = running_mean[c];
        save_rstd[c] = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
        col.centre(c, save_mean[c]);
      }
      const T kc = static_cast<T>((w ? static_cast<double>(w[c]) : 1.0) * save_rstd[c]);
      for (int64_t j = 0; j < S; ++j) {
        k[(c - c0) * S + j] = kc;
        shift[(c - c0) * S + j] = b ? b[c] : T(0);
      }
    }
    for (int64_t r = 0; r < N; ++r)
      norm::run_col_affine(y + col.offset(r), x + col.offset(r), col.hi.data(), col.lo.data(),
                           k.data(), shift.data(), col.n);
  });
}

template <class T>
void backward_columns(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const double* mean,
                      const double* rstd, int64_t N, int64_t C, int64_t S, bool training) {
  const double M = static_cast<double>(N * S);
  parallel_for(C, column_grain(N, S), [&](int64_t c0, int64_t c1) {
    Columns<T> col(N, C, S, c0, c1);
    for (int64_t c = c0; c < c1; ++c) col.centre(c, mean[c]);
    if (dw || db || (dx && training))
      col.sums([&](T* a, T* bb, int64_t r) {
        norm::run_col_add_grad(a, bb, dy + col.offset(r), x + col.offset(r), col.hi.data(),
                               col.lo.data(), col.n);
      });
    std::vector<T> k_g(col.n), m_g(col.n), k_x(col.n);
    for (int64_t c = c0; c < c1; ++c) {
      const double s_dy = col.channel(col.sum_a, c), s_dyx = col.channel(col.sum_b, c);
      const double r = rstd[c], wr = (w ? static_cast<double>(w[c]) : 1.0) * r;
      if (dw) dw[c] = static_cast<T>(s_dyx * r);
      if (db) db[c] = static_cast<T>(s_dy);
      const bool batch = training && M > 0;
      for (int64_t j = 0; j < S; ++j) {
        k_g[(c - c0) * S + j] = static_cast<T>(wr);
        m_g[(c - c0) * S + j] = static_cast<T>(batch ? s_dy / M : 0.0);
        k_x[(c - c0) * S + j] = static_cast<T>(batch ? -wr * r * r * s_dyx / M : 0.0);
      }
    }
    if (dx)
      for (int64_t r = 0; r < N; ++r)
        norm::run_col_backward(dx + col.offset(r), dy + col.offset(r), x + col.offset(r),
                               col.hi.data(), col.lo.data(), k_g.data(), m_g.data(), k_x.data(),
                               col.n);
  });
}

}  // namespace

#define FASTNN_DEFINE_BATCH_NORM(T)                                                               \
  void batch_norm_forward_cpu(T* y, double* save_mean, double* save_rstd, T* running_mean,        \
                              T* running_var, const T* x, const T* weight, const T* bias,         \
                              int64_t N, int64_t C, int64_t S, double eps, double momentum,       \
                              bool training) {                                                    \
    (S < kColumnS ? forward_columns<T> : forward<T>)(y, save_mean, save_rstd, running_mean,       \
                                                     running_var, x, weight, bias, N, C, S, eps,  \
                                                     momentum, training);                         \
  }                                                                                               \
  void batch_norm_backward_cpu(T* dx, T* dweight, T* dbias, const T* dy, const T* x,              \
                               const T* weight, const double* save_mean, const double* save_rstd, \
                               int64_t N, int64_t C, int64_t S, bool training) {                  \
    (S < kColumnS ? backward_columns<T> : backward<T>)(dx, dweight, dbias, dy, x, weight,         \
                                                       save_mean, save_rstd, N, C, S, training);  \
  }
FASTNN_DEFINE_BATCH_NORM(float)
FASTNN_DEFINE_BATCH_NORM(double)
#undef FASTNN_DEFINE_BATCH_NORM

}  // namespace fastnn
