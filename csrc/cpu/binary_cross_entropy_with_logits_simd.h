// The float32 SIMD loop of binary cross-entropy with logits, written once over the vector type V
// of vec_avx512.h / vec_avx2.h. The driver cpu/binary_cross_entropy_with_logits.cpp reads the
// declarations; binary_cross_entropy_with_logits_avx512.cpp / _avx2.cpp define FASTNN_VEC_NS (by
// including their vec_*.h first) and compile the body with their ISA flags.
// Per element (torch's formula, stable for any |x|): lw = 1 + (pw - 1) t,
//   loss = w ((1 - t) x - lw log sigmoid(x)),  log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)),
//   dloss/dx = w (lw sigmoid(x) - pw t); the scalar twin is bce_logits in csrc/scalar_math.h.
#pragma once
#include <stdint.h>

namespace fastnn {

#define FASTNN_BCE_SIMD_ENTRIES                                                          \
  /* n elements; loss/g may be null; w/pw null means 1; returns the sum of the losses */ \
  float bce_f32(float* loss, float* g, const float* x, const float* t, const float* w,   \
                const float* pw, int64_t n, float gscale);
namespace avx512 {
FASTNN_BCE_SIMD_ENTRIES
}
namespace avx2 {
FASTNN_BCE_SIMD_ENTRIES
}
#undef FASTNN_BCE_SIMD_ENTRIES

}  // namespace fastnn

#ifdef FASTNN_VEC_NS
#include "cpu/vec_math.h"

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

// One vector of BCE-with-logits: loss (weighted) and gradient (times gscale).
inline V bce_vec(V x, V t, V w, V pw, V gs, V* grad) {
  const V one = vset(1.0f), zero = vset(0.0f);
  V e = vexp_nonpositive(zero - vabs(x));
  V lw = fmadd(pw - one, t, one);
  V logsig = vmin(zero, x) - vlog1p_01(e);
  V l = w * fnmadd(lw, logsig, (one - t) * x);
  if (grad) *grad = (fmsub(lw, vsigmoid_e(x, e), pw * t) * w) * gs;
  return l;
}
}  // namespace

float bce_f32(float* loss, float* g, const float* x, const float* t, const float* w,
              const float* pw, int64_t n, float gscale) {
  const V one = vset(1.0f), gs = vset(gscale);
  V sum = vset(0.0f), gv;
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    V l = bce_vec(vload(x + i), vload(t + i), w ? vload(w + i) : one, pw ? vload(pw + i) : one, gs,
                  g ? &gv : nullptr);
    if (loss) vstore(loss + i, l);
    if (g) vstore(g + i, gv);
    sum = sum + l;
  }
  if (i < n) {
    int64_t r = n - i;
    V wv = w ? vload_part(w + i, r, 0.f) : vfirst(vset(1.0f), r);  // padding lanes weigh 0
    V l = bce_vec(vload_part(x + i, r, 0.f), vload_part(t + i, r, 0.f), wv,
                  pw ? vload_part(pw + i, r, 1.f) : one, gs, g ? &gv : nullptr);
    if (loss) vstore_part(loss + i, l, r);
    if (g) vstore_part(g + i, gv, r);
    sum = sum + l;
  }
  return vhsum(sum);
}

}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
#endif  // FASTNN_VEC_NS
