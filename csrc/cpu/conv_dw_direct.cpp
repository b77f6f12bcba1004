// conv2d's direct weight gradient for layers with few patch rows (cpu/conv_dw_direct.h): the
// driver. The batch is cut into at most kSlices slices of images whose bounds depend on N alone;
// each slice's sums are written to its own partial and the partials are added in slice order, so
// the result does not depend on the thread count.
#include "cpu/conv_dw_direct.h"

#include <algorithm>

#include "cpu/conv_dw_direct_kernel.h"
#include "cpu/cpu_features.h"
#include "cpu/parallel.h"
#include "cpu/scratch.h"

namespace fastnn {
namespace {

constexpr int64_t kSlices = 16;
// Up to 27 patch rows (three channels of a 3x3 kernel, an RGB image's first layer): each pass
// reads one input channel per pair of output channels, which above a few channels rereads x more
// than packed panels cost.
constexpr int64_t kMaxPatchRows = 27;

thread_local Scratch tls_part;

}  // namespace

bool conv2d_backward_weight_direct(float* dw, float* db, const float* dy, const float* x,
                                   const Conv2dGeom& g, int64_t O) {
  const int64_t K = g.C * g.kh * g.kw;
  if (active_isa() != Isa::avx512 || g.sh != 1 || g.sw != 1 || g.kh * g.kw > kDwDirectTaps ||
      K > kMaxPatchRows || g.Wo > kDwDirectMaxWo || g.N <= 0 || O <= 0 || g.C <= 0 || g.Ho <= 0 ||
      g.Wo <= 0 || (!dw && !db))
    return false;
  const DwDirectGeom dg{g.C, g.H, g.W, O, g.Ho, g.Wo, g.kh, g.kw, g.ph, g.pw, g.dh, g.dw};
  const int64_t slices = std::min(g.N, kSlices), P = O * K + O;
  float* part = static_cast<float*>(tls_part.get(sizeof(float) * slices * P));
  parallel_for(slices, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s)
      conv_dw_direct_f32_avx512(part + s * P, db ? part + s * P + O * K : nullptr, x, dy, dg,
                                g.N * s / slices, g.N * (s + 1) / slices);
  });
  const int64_t first = dw ? 0 : O * K, last = db ? P : O * K;
  for (int64_t i = first; i < last; ++i) {
    float acc = 0.0f;
    for (int64_t s = 0; s < slices; ++s) acc += part[s * P + i];
    (i < O * K ? dw[i] : db[i - O * K]) = acc;
  }
  return true;
}

}  // namespace fastnn
