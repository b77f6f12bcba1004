// softmax_cross_entropy on the CPU (float32, float64): log-softmax and cross-entropy fused, the
// loss and (optionally) its gradient with respect to the logits in one pass over each row.
//
// Shapes: logits (N, C); target (N,) class indices or (N, C) probabilities; weight (C,).
// Semantics are PyTorch's F.cross_entropy:
//   index targets, eps = label_smoothing, w = weight (1 if none), W = sum_c w_c, lp = log_softmax:
//     loss_i = (1 - eps) w_t (-lp_t) + (eps / C) sum_c w_c (-lp_c)      (0 if t == ignore_index)
//     'mean' divides by sum_i w_{t_i} over non-ignored rows (0/0 = NaN when all are ignored)
//     dloss_i/dz_c = p_c ((1 - eps) w_t + (eps / C) W) - (1 - eps) w_t [c == t] - (eps / C) w_c
//   probability targets q (no ignore_index), q' = (1 - eps) q + eps / C:
//     loss_i = sum_c w_c q'_c (-lp_c),  'mean' divides by N,  dloss_i/dz_c = p_c S - w_c q'_c,
//     S = sum_c w_c q'_c
// -lp_c = (m - z_c) + log(sum_j exp(z_j - m)), m = row max: no term overflows, and m - z_c >= 0
// keeps the smoothing sum free of cancellation for logits of +-1e4.
//
// float32 rows run in the AVX-512/AVX2 units (cpu/softmax_cross_entropy_simd.h) when available;
// float64 and the generic path use the scalar loops below. Rows are split over the thread pool when
// there are enough elements; each thread sums its rows' losses in double.
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "check.h"
#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"
#include "cpu/softmax_cross_entropy_simd.h"
#include "scalar_math.h"

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
    for (int64_t j = 0; j < C; ++j)
      g[j] = g[j] * a - scale * ((T(1) - eps) * q[j] + add) * (w ? w[j] : T(1));
  }
  return loss;
}

// ---- ISA dispatch (IsaTable, cpu/cpu_features.h) ------------------------------------------------

// float32 rows by ISA; float64 always runs the scalar rows above.
struct XentKernelsF32 {
  float (*row_index)(float*, const float*, int64_t, int64_t, const float*, float, float, float);
  float (*row_prob)(float*, const float*, const float*, int64_t, const float*, float, float);
  // Four narrow rows at once ([note: narrow rows] in cpu/softmax_cross_entropy_simd.h) for
  // C <= narrow_max, twice the unit's vector width; none in the generic path.
  void (*rows4_narrow)(float*, float*, const float*, int64_t, const int64_t*, const float*, float);
  int64_t narrow_max;
};
const IsaTable<XentKernelsF32> kXentF32{{{
    {&xent_row_index<float>, &xent_row_prob<float>, nullptr, 0},
    {&avx2::xent_row_index_f32, &avx2::xent_row_prob_f32, &avx2::xent_rows4_narrow_f32, 16},
    {&avx512::xent_row_index_f32, &avx512::xent_row_prob_f32, &avx512::xent_rows4_narrow_f32, 32},
}}};

float row_index(const XentKernelsF32& k, float* g, const float* z, int64_t C, int64_t t,
                const float* w, float eps, float wt, float sc) {
  return k.row_index(g, z, C, t, w, eps, wt, sc);
}
double row_index(const XentKernelsF32&, double* g, const double* z, int64_t C, int64_t t,
                 const double* w, double eps, double wt, double sc) {
  return xent_row_index<double>(g, z, C, t, w, eps, wt, sc);
}
float row_prob(const XentKernelsF32& k, float* g, const float* z, const float* q, int64_t C,
               const float* w, float eps, float sc) {
  return k.row_prob(g, z, q, C, w, eps, sc);
}
double row_prob(const XentKernelsF32&, double* g, const double* z, const double* q, int64_t C,
                const double* w, double eps, double sc) {
  return xent_row_prob<double>(g, z, q, C, w, eps, sc);
}

int64_t row_grain(int64_t C) { return C >= kGrainElems ? 1 : kGrainElems / (C > 0 ? C : 1); }

// ---- kernels ---------------------------------------------------------------------------------

template <class T, class I>
double xent_index(T* loss, T* dlogits, const T* z, const I* target, const T* w, int64_t N,
                  int64_t C, int64_t ignore_index, double eps, Reduction red) {
  // Validate every target first (never read out of bounds), and sum the weights 'mean' divides by.
  double denom = 0.0;
  for (int64_t i = 0; i < N; ++i) {
    int64_t t = static_cast<int64_t>(target[i]);
    if (t == ignore_index) continue;
    FASTNN_CHECK(t >= 0 && t < C, "softmax_cross_entropy: target[", i, "] = ", t,
                 " is out of range for ", C, " classes (expected 0 <= target < ", C,
                 ", or ignore_index = ", ignore_index, ")");
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
  const XentKernelsF32& k32 = kXentF32[active_isa()];
  const bool narrow = eps == 0.0 && C >= 1 && C <= k32.narrow_max;
  double total = parallel_sum(N, row_grain(C), [&](int64_t b, int64_t e) {
    double sum = 0.0;
    int64_t i = b;
    if constexpr (std::is_same_v<T, float>) {
      if (narrow) {  // [note: narrow rows] in cpu/softmax_cross_entropy_simd.h
        for (; i + 4 <= e; i += 4) {
          const int64_t t4[4] = {
              static_cast<int64_t>(target[i]), static_cast<int64_t>(target[i + 1]),
              static_cast<int64_t>(target[i + 2]), static_cast<int64_t>(target[i + 3])};
          if (t4[0] == ignore_index || t4[1] == ignore_index || t4[2] == ignore_index ||
              t4[3] == ignore_index)
            break;  // from here on the per-row loop, which handles ignored rows
          float l4[4];
          k32.rows4_narrow(l4, dlogits ? dlogits + i * C : nullptr, z + i * C, C, t4, w,
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
        l = row_index(k32, g, z + i * C, C, t, w, T(eps), T(w_total), T(scale));
      }
      if (loss) loss[i] = l;
      sum += static_cast<double>(l);
    }
    return sum;
  });
  return red == Reduction::mean ? total / denom : total;
}

template <class T>
double xent_prob(T* loss, T* dlogits, const T* z, const T* q, const T* w, int64_t N, int64_t C,
                 double eps, Reduction red) {
  const double scale = red == Reduction::mean ? 1.0 / static_cast<double>(N) : 1.0;
  const XentKernelsF32& k32 = kXentF32[active_isa()];
  double total = parallel_sum(N, row_grain(C), [&](int64_t b, int64_t e) {
    double sum = 0.0;
    for (int64_t i = b; i < e; ++i) {
      T l = row_prob(k32, dlogits ? dlogits + i * C : nullptr, z + i * C, q + i * C, C, w, T(eps),
                     T(scale));
      if (loss) loss[i] = l;
      sum += static_cast<double>(l);
    }
    return sum;
  });
  return red == Reduction::mean ? total / static_cast<double>(N) : total;
}

}  // namespace

#define FASTNN_DEFINE_XENT(T, I)                                                         \
  double softmax_cross_entropy_forward_cpu(                                              \
      T* loss, T* dlogits, const T* logits, const I* target, const T* weight, int64_t N, \
      int64_t C, int64_t ignore_index, double label_smoothing, Reduction reduction) {    \
    return xent_index<T, I>(loss, dlogits, logits, target, weight, N, C, ignore_index,   \
                            label_smoothing, reduction);                                 \
  }
FASTNN_DEFINE_XENT(float, int32_t)
FASTNN_DEFINE_XENT(float, int64_t)
FASTNN_DEFINE_XENT(double, int32_t)
FASTNN_DEFINE_XENT(double, int64_t)
#undef FASTNN_DEFINE_XENT

#define FASTNN_DEFINE_XENT_PROB(T)                                                                \
  double softmax_cross_entropy_forward_cpu(T* loss, T* dlogits, const T* logits, const T* target, \
                                           const T* weight, int64_t N, int64_t C,                 \
                                           double label_smoothing, Reduction reduction) {         \
    return xent_prob<T>(loss, dlogits, logits, target, weight, N, C, label_smoothing, reduction); \
  }
FASTNN_DEFINE_XENT_PROB(float)
FASTNN_DEFINE_XENT_PROB(double)
#undef FASTNN_DEFINE_XENT_PROB

}  // namespace fastnn
