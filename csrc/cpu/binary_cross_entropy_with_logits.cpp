// binary_cross_entropy_with_logits on the CPU (float32, float64): the loss and (optionally) its
// gradient with respect to the logits in one pass, with torch's semantics.
//
// Shapes: logits, target (n,) viewed as rows of C (the last dimension); weight nullptr, (n,) or,
// with weight_per_class, (C,); pos_weight (C,) or nullptr; loss (n,) or nullptr. 'mean' divides
// by n. Per element (torch's formula): lw = 1 + (pos_weight - 1) t,
//   loss = w ((1 - t) x - lw log sigmoid(x)),  dloss/dx = w (lw sigmoid(x) - pos_weight t),
// stable for any |x| via log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)) (math::bce_logits in
// csrc/scalar_math.h, shared with the CUDA kernel).
//
// float32 runs the AVX-512/AVX2 unit (cpu/binary_cross_entropy_with_logits_simd.h) when the CPU
// has it; float64 and the generic path use the scalar loop below. Chunks are summed in float32
// for at most kBlock elements, then in double; large inputs are split over the thread pool.
#include "cpu/binary_cross_entropy_with_logits_simd.h"
#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"
#include "scalar_math.h"

namespace fastnn {
namespace {

constexpr int64_t kGrainElems = 32768;  // elements per thread chunk before threads pay off
constexpr int64_t kBlock = 4096;        // float32 lanes sum at most this many elements, then double

int64_t row_grain(int64_t C) { return C >= kGrainElems ? 1 : kGrainElems / (C > 0 ? C : 1); }

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

// float32 chunks by ISA (IsaTable, cpu/cpu_features.h); float64 always runs bce_scalar.
using BceChunkF32 = float (*)(float*, float*, const float*, const float*, const float*,
                              const float*, int64_t, float);
const IsaTable<BceChunkF32> kBceF32{{{&bce_scalar<float>, &avx2::bce_f32, &avx512::bce_f32}}};

float bce_chunk(BceChunkF32 chunk, float* l, float* g, const float* x, const float* t,
                const float* w, const float* pw, int64_t n, float gs) {
  return chunk(l, g, x, t, w, pw, n, gs);
}
double bce_chunk(BceChunkF32, double* l, double* g, const double* x, const double* t,
                 const double* w, const double* pw, int64_t n, double gs) {
  return bce_scalar<double>(l, g, x, t, w, pw, n, gs);
}

template <class T>
double bce(T* loss, T* g, const T* x, const T* t, const T* w, bool w_per_class, const T* pw,
           int64_t n, int64_t C, Reduction red) {
  const double scale = red == Reduction::mean ? 1.0 / static_cast<double>(n) : 1.0;
  const auto chunk = kBceF32[active_isa()];
  const int64_t block = kBlock;
  double total;
  if (pw == nullptr && !w_per_class) {  // no per-class operand: one flat range
    total = parallel_sum(n, kGrainElems, [&](int64_t b, int64_t e) {
      double sum = 0.0;
      for (int64_t i = b; i < e; i += block) {
        int64_t len = e - i < block ? e - i : block;
        sum += bce_chunk(chunk, loss ? loss + i : nullptr, g ? g + i : nullptr, x + i, t + i,
                         w ? w + i : nullptr, nullptr, len, T(scale));
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
          sum += bce_chunk(chunk, loss ? loss + o + j : nullptr, g ? g + o + j : nullptr, x + o + j,
                           t + o + j, wr, pw ? pw + j : nullptr, len, T(scale));
        }
      }
      return sum;
    });
  }
  return red == Reduction::mean ? total / static_cast<double>(n) : total;
}

}  // namespace

#define FASTNN_DEFINE_BCE(T)                                                                   \
  double binary_cross_entropy_with_logits_forward_cpu(                                         \
      T* loss, T* dlogits, const T* logits, const T* target, const T* weight,                  \
      bool weight_per_class, const T* pos_weight, int64_t n, int64_t C, Reduction reduction) { \
    return bce<T>(loss, dlogits, logits, target, weight, weight_per_class, pos_weight, n, C,   \
                  reduction);                                                                  \
  }
FASTNN_DEFINE_BCE(float)
FASTNN_DEFINE_BCE(double)
#undef FASTNN_DEFINE_BCE

}  // namespace fastnn
