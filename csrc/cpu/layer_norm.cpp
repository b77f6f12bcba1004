// layer_norm and group_norm on the CPU (float32, float64). Both normalise contiguous rows, which is
// why they share this file: layer_norm's rows are the trailing D = prod(normalized_shape) elements
// of x, group_norm's are the (C / G) * S elements of one group of one sample of x (N, C, S). They
// differ only in where the affine parameters apply: per element of the row (layer_norm, weight and
// bias of D elements) or per channel (group_norm, C elements, one per run of S).
//   forward:  mean, rstd = 1 / sqrt(biased var + eps) per row (saved, in double),
//             y = (x - mean) rstd * w + b;
//   backward: g = dy * w, xhat = (x - mean) rstd, D' = the row length,
//             dx = rstd (g - sum(g) / D' - xhat sum(g xhat) / D'),
//             dweight = sum over rows of dy xhat, dbias = sum of dy (per element or per channel).
// Row statistics: blocks of kBlock elements, mean then squared deviations while the block is in
// cache, merged pairwise in double (csrc/norm_math.h). Rows are split over the thread pool;
// dweight / dbias are summed per fixed slice of rows and the slices added in order, so results do
// not depend on the thread count.
// The runs themselves go through cpu/norm_ops.h: float32 runs take the active ISA's vector loops
// (cpu/norm_simd.h: float partial sums over chunks of 1024, added in double), float64 runs the
// double-accumulating loops of cpu/norm_sums.h.
#include <algorithm>
#include <vector>

#include "cpu/fastnn_cpu.h"
#include "cpu/norm_ops.h"
#include "cpu/parallel.h"
#include "norm_math.h"

namespace fastnn {
namespace {

constexpr int64_t kBlock = 4096;
constexpr int64_t kGrainElems = 16384;
constexpr int64_t kSliceRows = 32;         // rows per partial sum of layer_norm's dweight / dbias
constexpr int64_t kMaxPartials = 1 << 22;  // elements of those partial sums, at most

int64_t row_grain(int64_t D) { return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, D)); }

template <class T>
norm::Moments row_moments(const T* x, int64_t D) {
  norm::Moments m;
  for (int64_t j0 = 0; j0 < D; j0 += kBlock) {
    norm::Moments b;
    const int64_t n = std::min(kBlock, D - j0);
    b.n = static_cast<double>(n);
    b.mean = norm::run_sum(x + j0, n) / b.n;
    b.m2 = norm::run_centered_sq(x + j0, n, b.mean);
    norm::merge(m, b);
  }
  return m;
}

// ---- layer_norm: rows (R, D), weight / bias (D,) ------------------------------------------------

template <class T>
void ln_forward(T* y, double* mean, double* rstd, const T* x, const T* w, const T* b, int64_t R,
                int64_t D, double eps) {
  parallel_for(R, row_grain(D), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * D;
      T* yr = y + r * D;
      const norm::Moments m = row_moments(xr, D);
      const double rs = norm::rstd_of(m, eps);
      mean[r] = m.mean;
      rstd[r] = rs;
      norm::run_affine(yr, xr, D, m.mean, static_cast<T>(rs), w, b, T(0));
    }
  });
}

// One row of the backward, the row in cache: its sums of g = dy w and g (x - mean) first, then dx
// and (when pw / pb are given) this row's dy xhat and dy added to the slice's partial sums.
template <class T>
void ln_row_backward(T* dxr, T* pw, T* pb, const T* dyr, const T* xr, const T* w, int64_t D,
                     double mean, double rs) {
  double s_g = 0, s_gx = 0;
  if (dxr) norm::run_grad_sums(dyr, w, T(1), xr, D, mean, &s_g, &s_gx);
  // dx = rstd (g - mean(g)) + k_x (x - mean): mean(g) is taken off before the large factor
  // rstd multiplies, so nothing cancels after the scaling (a row of one element gives dx = 0).
  const double Dd = static_cast<double>(D);
  norm::run_backward(dxr, pw, pb, dyr, w, T(1), xr, D, mean, static_cast<T>(rs),
                     static_cast<T>(s_g / Dd), static_cast<T>(-rs * rs * rs * s_gx / Dd));
}

// dweight / dbias: each slice of at most kSliceRows rows (a fixed split, never by the thread
// count) sums its rows in T, the slices are then added in order in double. Short in-T sums stay
// accurate and vectorise; the memory for the partials is capped, which lengthens the slices of
// huge inputs.
template <class T>
void ln_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const double* mean,
                 const double* rstd, int64_t R, int64_t D) {
  const bool partials = dw || db;
  const int64_t cap = std::max<int64_t>(1, kMaxPartials / std::max<int64_t>(1, D));
  const int64_t slices =
      partials ? std::max<int64_t>(1, std::min((R + kSliceRows - 1) / kSliceRows, cap)) : 1;
  const int64_t per = partials ? (R + slices - 1) / slices : R;
  std::vector<T> pw(dw ? slices * D : 0), pb(db ? slices * D : 0);
  if (!partials) {
    parallel_for(R, row_grain(D), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        ln_row_backward<T>(dx + r * D, nullptr, nullptr, dy + r * D, x + r * D, w, D, mean[r],
                           rstd[r]);
    });
    return;
  }
  parallel_for(slices, std::max<int64_t>(1, row_grain(D) / per), [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      T* pws = dw ? pw.data() + s * D : nullptr;
      T* pbs = db ? pb.data() + s * D : nullptr;
      for (int64_t r = s * per, r1 = std::min(R, (s + 1) * per); r < r1; ++r)
        ln_row_backward(dx ? dx + r * D : nullptr, pws, pbs, dy + r * D, x + r * D, w, D, mean[r],
                        rstd[r]);
    }
  });
  parallel_for(D, kGrainElems / slices + 1, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      double sw = 0, sb = 0;
      for (int64_t s = 0; s < slices; ++s) {
        if (dw) sw += pw[s * D + j];
        if (db) sb += pb[s * D + j];
      }
      if (dw) dw[j] = static_cast<T>(sw);
      if (db) db[j] = static_cast<T>(sb);
    }
  });
}

// ---- group_norm: x (N, C, S), G groups of Cg = C / G channels, weight / bias (C,) --------------

template <class T>
void gn_forward(T* y, double* mean, double* rstd, const T* x, const T* w, const T* b, int64_t N,
                int64_t C, int64_t S, int64_t G, double eps) {
  const int64_t Cg = C / G, D = Cg * S;
  parallel_for(N * G, row_grain(D), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const norm::Moments m = row_moments(x + r * D, D);
      const double rs = norm::rstd_of(m, eps);
      mean[r] = m.mean;
      rstd[r] = rs;
      for (int64_t cg = 0; cg < Cg; ++cg) {
        const int64_t ch = (r % G) * Cg + cg;
        const T scale = static_cast<T>((w ? static_cast<double>(w[ch]) : 1.0) * rs);
        norm::run_affine(y + r * D + cg * S, x + r * D + cg * S, S, m.mean, scale, nullptr, nullptr,
                         b ? b[ch] : T(0));
      }
    }
  });
}

template <class T>
void gn_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const double* mean,
                 const double* rstd, int64_t N, int64_t C, int64_t S, int64_t G) {
  const int64_t Cg = C / G, D = Cg * S;
  // Per sample and channel: sum dy and sum dy xhat, reduced over the samples in order below.
  std::vector<double> ch_dy(N * C), ch_dyx(N * C);
  parallel_for(N * G, row_grain(D), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / G, c0 = (r % G) * Cg;
      const double m = mean[r], rs = rstd[r];
      double s_g = 0, s_gx = 0;  // sums of w dy and w dy (x - mean) over the row
      for (int64_t cg = 0; cg < Cg; ++cg) {
        double s_dy = 0, s_dyx = 0;
        norm::run_grad_sums(dy + r * D + cg * S, nullptr, T(1), x + r * D + cg * S, S, m, &s_dy,
                            &s_dyx);
        ch_dy[n * C + c0 + cg] = s_dy;
        ch_dyx[n * C + c0 + cg] = s_dyx * rs;
        const double wc = w ? static_cast<double>(w[c0 + cg]) : 1.0;
        s_g += wc * s_dy;
        s_gx += wc * s_dyx;
      }
      if (!dx) continue;
      const double Dd = static_cast<double>(D);
      const T k_x = static_cast<T>(-rs * rs * rs * s_gx / Dd);
      const T m_g = static_cast<T>(s_g / Dd), k_r = static_cast<T>(rs);
      for (int64_t cg = 0; cg < Cg; ++cg) {
        const int64_t off = r * D + cg * S;
        norm::run_backward(dx + off, nullptr, nullptr, dy + off, nullptr, w ? w[c0 + cg] : T(1),
                           x + off, S, m, k_r, m_g, k_x);
      }
    }
  });
  if (!dw && !db) return;
  for (int64_t c = 0; c < C; ++c) {
    double sw = 0, sb = 0;
    for (int64_t n = 0; n < N; ++n) {
      sw += ch_dyx[n * C + c];
      sb += ch_dy[n * C + c];
    }
    if (dw) dw[c] = static_cast<T>(sw);
    if (db) db[c] = static_cast<T>(sb);
  }
}

}  // namespace

#define FASTNN_DEFINE_ROW_NORMS(T)                                                                 \
  void layer_norm_forward_cpu(T* y, double* mean, double* rstd, const T* x, const T* weight,       \
                              const T* bias, int64_t R, int64_t D, double eps) {                   \
    ln_forward(y, mean, rstd, x, weight, bias, R, D, eps);                                         \
  }                                                                                                \
  void layer_norm_backward_cpu(T* dx, T* dweight, T* dbias, const T* dy, const T* x,               \
                               const T* weight, const double* mean, const double* rstd, int64_t R, \
                               int64_t D) {                                                        \
    ln_backward(dx, dweight, dbias, dy, x, weight, mean, rstd, R, D);                              \
  }                                                                                                \
  void group_norm_forward_cpu(T* y, double* mean, double* rstd, const T* x, const T* weight,       \
                              const T* bias, int64_t N, int64_t C, int64_t S, int64_t G,           \
                              double eps) {                                                        \
    gn_forward(y, mean, rstd, x, weight, bias, N, C, S, G, eps);                                   \
  }                                                                                                \
  void group_norm_backward_cpu(T* dx, T* dweight, T* dbias, const T* dy, const T* x,               \
                               const T* weight, const double* mean, const double* rstd, int64_t N, \
                               int64_t C, int64_t S, int64_t G) {                                  \
    gn_backward(dx, dweight, dbias, dy, x, weight, mean, rstd, N, C, S, G);                        \
  }
FASTNN_DEFINE_ROW_NORMS(float)
FASTNN_DEFINE_ROW_NORMS(double)
#undef FASTNN_DEFINE_ROW_NORMS

}  // namespace fastnn
