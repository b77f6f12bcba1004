// Fused softmax cross-entropy and binary cross-entropy with logits, CPU (float32, float64).
//
// Shapes: logits (N, C); target (N,) class indices or (N, C) probabilities; weight (C,).
// Semantics are PyTorch's F.cross_entropy (aten/src/ATen/native/LossNLL.cpp):
//   index targets, eps = label_smoothing, w = weight (1 if none), W = sum_c w_c, lp = log_softmax:
//     loss_i = (1 - eps) w_t (-lp_t) + (eps / C) sum_c w_c (-lp_c)      (0 if t == ignore_index)
//     'mean' divides by sum_i w_{t_i} over non-ignored rows (0/0 = NaN when all are ignored)
//     dloss_i/dz_c = p_c ((1 - eps) w_t + (eps / C) W) - (1 - eps) w_t [c == t] - (eps / C) w_c
//   probability targets q (no ignore_index), q' = (1 - eps) q + eps / C:
//     loss_i = sum_c w_c q'_c (-lp_c),  'mean' divides by N,  dloss_i/dz_c = p_c S - w_c q'_c,
//     S = sum_c w_c q'_c
// -lp_c = (m - z_c) + log(sum_j exp(z_j - m)), m = row max: no term overflows, and m - z_c >= 0
// keeps the smoothing sum free of cancellation for logits of +-1e4.
// BCE with logits (torch's binary_cross_entropy_with_logits): the per-element formula is
// math::bce_logits (csrc/math.h), stable for any |x| via log sigmoid = min(x,0) - log1p(e^-|x|).
//
// float32 rows run in the AVX-512/AVX2 units (vec_xent.h) when available; float64 and the
// generic path use the scalar loops below. Rows are split over the thread pool when there are
// enough elements; each thread sums its rows' losses in double.
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "check.h"
#include "cpu/cpu_features.h"
#include "cpu/parallel.h"
#include "cpu/vec_ops.h"
#include "fastnn.h"
#include "math.h"

namespace fastnn {
namespace {

constexpr int64_t kGrainElems = 32768;  // elements per thread chunk before threads pay off

// ---- scalar rows (generic path, float64) -------------------------------------------------------

template <class T>
T row_max(const T* z, int64_t C) {
  T m = -__builtin_inf();
  for (int64_t j = 0; j < C; ++j) m = z[j] > m ? z[j] : m;
  return m;
}

template <class T>
T xent_row_index(T* g, const T* z, int64_t C, int64_t t, const T* w, T eps, T w_total, T scale) {
  const T m = row_max(z, C);
  T s = 0, sm = 0;
  for (int64_t j = 0; j < C; ++j) {
    T e = math::m_exp(z[j] - m);
    if (g) g[j] = e;
    s += e;
    if (eps > 0) sm += (w ? w[j] : T(1)) * (m - z[j]);
  }
  const T ls = math::m_log(s), wt = w ? w[t] : T(1);
  T loss = (T(1) - eps) * wt * ((m - z[t]) + ls);
  if (eps > 0) loss += (eps / T(C)) * (sm + w_total * ls);
  if (g) {
    const T a = scale * ((T(1) - eps) * wt + (eps / T(C)) * w_total) / s, b = scale * eps / T(C);
    for (int64_t j = 0; j < C; ++j) g[j] = g[j] * a - b * (w ? w[j] : T(1));
    g[t] -= scale * (T(1) - eps) * wt;
  }
  return loss;
}

template <class T>
T xent_row_prob(T* g, const T* z, const T* q, int64_t C, const T* w, T eps, T scale) {
  const T m = row_max(z, C), add = eps / T(C);
  T s = 0, S = 0, acc = 0;
  for (int64_t j = 0; j < C; ++j) {
    T e = math::m_exp(z[j] - m);
    if (g) g[j] = e;
    s += e;
    T wq = ((T(1) - eps) * q[j] + add) * (w ? w[j] : T(1));
    S += wq;
    acc += wq * (m - z[j]);
  }
  const T loss = acc + S * math::m_log(s);
  if (g) {
    const T a = scale * S / s;
    for (int64_t j = 0; j < C; ++j) g[j] = g[j] * a - scale * ((T(1) - eps) * q[j] + add) * (w ? w[j] : T(1));
  }
  return loss;
}

template <class T>
T bce_scalar(T* loss, T* g, const T* x, const T* t, const T* w, const T* pw, int64_t n, T gscale) {
  T sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    T wi = w ? w[i] : T(1), pwi = pw ? pw[i] : T(1);
    T l = wi * math::bce_logits(x[i], t[i], pwi);
    if (loss) loss[i] = l;
    if (g) g[i] = math::bce_logits_grad(x[i], t[i], pwi) * wi * gscale;
    sum += l;
  }
  return sum;
}

// ---- dispatch of one row / chunk to the ISA path -------------------------------------------------

float row_index(Isa isa, float* g, const float* z, int64_t C, int64_t t, const float* w, float eps, float wt,
                float sc) {
  if (isa == Isa::avx512) return avx512::xent_row_index_f32(g, z, C, t, w, eps, wt, sc);
  if (isa == Isa::avx2) return avx2::xent_row_index_f32(g, z, C, t, w, eps, wt, sc);
  return xent_row_index<float>(g, z, C, t, w, eps, wt, sc);
}
double row_index(Isa, double* g, const double* z, int64_t C, int64_t t, const double* w, double eps,
                 double wt, double sc) {
  return xent_row_index<double>(g, z, C, t, w, eps, wt, sc);
}
int vec_width(Isa isa) {
  if (isa == Isa::avx512) return avx512::vec_width_f32();
  if (isa == Isa::avx2) return avx2::vec_width_f32();
  return 0;  // generic: no narrow-row path
}
void rows4_narrow(Isa isa, float* loss4, float* g, const float* z, int64_t C, const int64_t* t, const float* w,
                  float scale) {
  if (isa == Isa::avx512) return avx512::xent_rows4_narrow_f32(loss4, g, z, C, t, w, scale);
  avx2::xent_rows4_narrow_f32(loss4, g, z, C, t, w, scale);  // only reached with narrow, so isa == avx2
}
float row_prob(Isa isa, float* g, const float* z, const float* q, int64_t C, const float* w, float eps, float sc) {
  if (isa == Isa::avx512) return avx512::xent_row_prob_f32(g, z, q, C, w, eps, sc);
  if (isa == Isa::avx2) return avx2::xent_row_prob_f32(g, z, q, C, w, eps, sc);
  return xent_row_prob<float>(g, z, q, C, w, eps, sc);
}
double row_prob(Isa, double* g, const double* z, const double* q, int64_t C, const double* w, double eps,
                double sc) {
  return xent_row_prob<double>(g, z, q, C, w, eps, sc);
}
float bce_chunk(Isa isa, float* l, float* g, const float* x, const float* t, const float* w, const float* pw,
                int64_t n, float gs) {
  if (isa == Isa::avx512) return avx512::bce_f32(l, g, x, t, w, pw, n, gs);
  if (isa == Isa::avx2) return avx2::bce_f32(l, g, x, t, w, pw, n, gs);
  return bce_scalar<float>(l, g, x, t, w, pw, n, gs);
}
double bce_chunk(Isa, double* l, double* g, const double* x, const double* t, const double* w, const double* pw,
                 int64_t n, double gs) {
  return bce_scalar<double>(l, g, x, t, w, pw, n, gs);
}

// sum over [0, n) of fn(begin, end), the range split over the pool in chunks of >= grain items.
double parallel_sum(int64_t n, int64_t grain, const std::function<double(int64_t, int64_t)>& fn) {
  if (n <= 0) return 0.0;
  int64_t chunks = (n + grain - 1) / (grain > 0 ? grain : 1);
  if (chunks > get_num_threads()) chunks = get_num_threads();
  if (chunks <= 1) return fn(0, n);
  std::vector<double> part(static_cast<size_t>(chunks), 0.0);
  parallel_run(static_cast<int>(chunks), [&](int tid, int nt) {
    int64_t b = n * tid / nt, e = n * (tid + 1) / nt;
    if (b < e) part[static_cast<size_t>(tid)] = fn(b, e);
  });
  double total = 0.0;
  for (double p : part) total += p;
  return total;
}

int64_t row_grain(int64_t C) { return C >= kGrainElems ? 1 : kGrainElems / (C > 0 ? C : 1); }

// ---- kernels ---------------------------------------------------------------------------------

template <class T, class I>
double xent_index(T* loss, T* dlogits, const T* z, const I* target, const T* w, int64_t N, int64_t C,
                  int64_t ignore_index, double eps, Reduction red) {
  // Validate every target first (never read out of bounds), and sum the weights 'mean' divides by.
  double denom = 0.0;
  for (int64_t i = 0; i < N; ++i) {
    int64_t t = static_cast<int64_t>(target[i]);
    if (t == ignore_index) continue;
    FASTNN_CHECK(t >= 0 && t < C, "softmax_cross_entropy: target[", i, "] = ", t, " is out of range for ", C,
                 " classes (expected 0 <= target < ", C, ", or ignore_index = ", ignore_index, ")");
    denom += w ? static_cast<double>(w[t]) : 1.0;
  }
  double w_total = static_cast<double>(C);
  if (w) {
    w_total = 0.0;
    for (int64_t c = 0; c < C; ++c) w_total += static_cast<double>(w[c]);
  }
  // 1/denom may be inf (all rows ignored or zero weight): ignored rows never use it, and a
  // non-ignored row of weight 0 then gets 0 * inf = NaN, as in torch.
  const double scale = red == Reduction::mean ? 1.0 / denom : 1.0;
  const Isa isa = active_isa();
  const bool narrow = eps == 0.0 && C >= 1 && C <= vec_width(isa);  // generic ISA: width 0
  double total = parallel_sum(N, row_grain(C), [&](int64_t b, int64_t e) {
    double sum = 0.0;
    int64_t i = b;
    if constexpr (std::is_same_v<T, float>) {
      if (narrow) {  // [note: narrow rows] in vec_xent.h
        for (; i + 4 <= e; i += 4) {
          const int64_t t4[4] = {static_cast<int64_t>(target[i]), static_cast<int64_t>(target[i + 1]),
                                 static_cast<int64_t>(target[i + 2]), static_cast<int64_t>(target[i + 3])};
          if (t4[0] == ignore_index || t4[1] == ignore_index || t4[2] == ignore_index ||
              t4[3] == ignore_index)
            break;  // from here on the per-row loop, which handles ignored rows
          float l4[4];
          rows4_narrow(isa, l4, dlogits ? dlogits + i * C : nullptr, z + i * C, C, t4, w,
                       static_cast<float>(scale));
          for (int r = 0; r < 4; ++r) {
            if (loss) loss[i + r] = l4[r];
            sum += static_cast<double>(l4[r]);
          }
        }
      }
    }
    for (; i < e; ++i) {
      int64_t t = static_cast<int64_t>(target[i]);
      T* g = dlogits ? dlogits + i * C : nullptr;
      T l = 0;
      if (t == ignore_index) {
        if (g)
          for (int64_t j = 0; j < C; ++j) g[j] = 0;
      } else {
        l = row_index(isa, g, z + i * C, C, t, w, T(eps), T(w_total), T(scale));
      }
      if (loss) loss[i] = l;
      sum += static_cast<double>(l);
    }
    return sum;
  });
  return red == Reduction::mean ? total / denom : total;
}

template <class T>
double xent_prob(T* loss, T* dlogits, const T* z, const T* q, const T* w, int64_t N, int64_t C, double eps,
                 Reduction red) {
  const double scale = red == Reduction::mean ? 1.0 / static_cast<double>(N) : 1.0;
  const Isa isa = active_isa();
  double total = parallel_sum(N, row_grain(C), [&](int64_t b, int64_t e) {
    double sum = 0.0;
    for (int64_t i = b; i < e; ++i) {
      T l = row_prob(isa, dlogits ? dlogits + i * C : nullptr, z + i * C, q + i * C, C, w, T(eps), T(scale));
      if (loss) loss[i] = l;
      sum += static_cast<double>(l);
    }
    return sum;
  });
  return red == Reduction::mean ? total / static_cast<double>(N) : total;
}

template <class T>
double bce(T* loss, T* g, const T* x, const T* t, const T* w, bool w_per_class, const T* pw, int64_t n, int64_t C,
           Reduction red) {
  const double scale = red == Reduction::mean ? 1.0 / static_cast<double>(n) : 1.0;
  const Isa isa = active_isa();
  const int64_t block = 4096;  // float32 lanes sum at most this many elements before going to double
  double total;
  if (pw == nullptr && !w_per_class) {  // no per-class operand: one flat range
    total = parallel_sum(n, kGrainElems, [&](int64_t b, int64_t e) {
      double sum = 0.0;
      for (int64_t i = b; i < e; i += block) {
        int64_t len = e - i < block ? e - i : block;
        sum += bce_chunk(isa, loss ? loss + i : nullptr, g ? g + i : nullptr, x + i, t + i, w ? w + i : nullptr,
                         nullptr, len, T(scale));
      }
      return sum;
    });
  } else {  // rows of C, each paired with the per-class weight / pos_weight vectors
    const int64_t rows = C > 0 ? n / C : 0;
    total = parallel_sum(rows, row_grain(C), [&](int64_t b, int64_t e) {
      double sum = 0.0;
      for (int64_t r = b; r < e; ++r) {
        const int64_t o = r * C;
        for (int64_t j = 0; j < C; j += block) {
          int64_t len = C - j < block ? C - j : block;
          const T* wr = w ? (w_per_class ? w + j : w + o + j) : nullptr;
          sum += bce_chunk(isa, loss ? loss + o + j : nullptr, g ? g + o + j : nullptr, x + o + j, t + o + j, wr,
                           pw ? pw + j : nullptr, len, T(scale));
        }
      }
      return sum;
    });
  }
  return red == Reduction::mean ? total / static_cast<double>(n) : total;
}

}  // namespace

#define FASTNN_DEFINE_XENT(T, I)                                                                     \
  double softmax_xent_cpu(T* loss, T* dlogits, const T* logits, const I* target, const T* weight,    \
                          int64_t N, int64_t C, int64_t ignore_index, double label_smoothing,       \
                          Reduction reduction) {                                                    \
    return xent_index<T, I>(loss, dlogits, logits, target, weight, N, C, ignore_index, label_smoothing, \
                            reduction);                                                             \
  }
FASTNN_DEFINE_XENT(float, int32_t)
FASTNN_DEFINE_XENT(float, int64_t)
FASTNN_DEFINE_XENT(double, int32_t)
FASTNN_DEFINE_XENT(double, int64_t)
#undef FASTNN_DEFINE_XENT

#define FASTNN_DEFINE_LOSSES(T)                                                                         \
  double softmax_xent_prob_cpu(T* loss, T* dlogits, const T* logits, const T* target, const T* weight,  \
                               int64_t N, int64_t C, double label_smoothing, Reduction reduction) {    \
    return xent_prob<T>(loss, dlogits, logits, target, weight, N, C, label_smoothing, reduction);      \
  }                                                                                                    \
  double bce_with_logits_cpu(T* loss, T* dlogits, const T* logits, const T* target, const T* weight,    \
                             bool weight_per_class, const T* pos_weight, int64_t n, int64_t C,         \
                             Reduction reduction) {                                                    \
    return bce<T>(loss, dlogits, logits, target, weight, weight_per_class, pos_weight, n, C, reduction); \
  }
FASTNN_DEFINE_LOSSES(float)
FASTNN_DEFINE_LOSSES(double)
#undef FASTNN_DEFINE_LOSSES

}  // namespace fastnn
