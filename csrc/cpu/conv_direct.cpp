// conv2d's direct paths for layers with few patch rows (cpu/conv_direct.h): the drivers.
// Forward: tasks are (image, block of output channels); every output is one sum in one fixed
// order, so the result does not depend on the thread count. dW: the batch is cut into at most
// kSlices slices of images whose bounds depend on N alone; each slice's sums are written to its
// own partial and the partials are added in slice order.
#include "cpu/conv_direct.h"

#include <algorithm>

#include "cpu/conv_direct_kernel.h"
#include "cpu/cpu_caches.h"
#include "cpu/cpu_features.h"
#include "cpu/parallel.h"
#include "cpu/scratch.h"

namespace fastnn {
namespace {

constexpr int64_t kSlices = 16;

thread_local Scratch tls_part;   // dW's per-slice partial sums
thread_local Scratch tls_acc;    // dW's running sums of one slice, as vectors
thread_local Scratch tls_pad;    // the padded image
thread_local Scratch tls_stage;  // the forward pass's output block, before it is streamed out
// The largest block staged (8 planes of 128 x 128): beyond it the stage would not stay in L2.
constexpr int64_t kMaxStageFloats = 8 * 128 * 128;

// Floats per padded plane: a row's last output vector reads up to 15 floats past the padded row
// (Wp = Wo + (kw-1)*dw), so up to 15 past the plane on its last row.
int64_t padded_plane(const Conv2dGeom& g) {
  return ((g.H + 2 * g.ph) * (g.W + 2 * g.pw) + 15 + 15) / 16 * 16;
}

// The sum of 16 floats, in order.
float lane_sum(const float* v) {
  float s = 0.0f;
  for (int i = 0; i < 16; ++i) s += v[i];
  return s;
}

// buf (C planes of S floats, rows of Wp) = the image xn with its zero border and zeros after.
void pad_image(float* buf, const float* xn, const Conv2dGeom& g, int64_t Wp, int64_t S) {
  for (int64_t c = 0; c < g.C; ++c) {
    float* p = buf + c * S;
    std::fill(p, p + g.ph * Wp, 0.0f);
    for (int64_t h = 0; h < g.H; ++h) {
      float* row = p + (g.ph + h) * Wp;
      std::fill(row, row + g.pw, 0.0f);
      std::copy(xn + (c * g.H + h) * g.W, xn + (c * g.H + h + 1) * g.W, row + g.pw);
      std::fill(row + g.pw + g.W, row + Wp, 0.0f);
    }
    std::fill(p + (g.ph + g.H) * Wp, p + S, 0.0f);
  }
}

// The kernels of the active ISA, or nullptr on the generic path.
struct Kernels {
  decltype(&conv_direct_forward_f32_avx512) forward;
  decltype(&conv_direct_dw_f32_avx512) dw;
};
const Kernels kAvx512{&conv_direct_forward_f32_avx512, &conv_direct_dw_f32_avx512};
const Kernels kAvx2{&conv_direct_forward_f32_avx2, &conv_direct_dw_f32_avx2};
const IsaTable<const Kernels*> kKernels{{{nullptr, &kAvx2, &kAvx512}}};

bool applies(const Conv2dGeom& g, int64_t O) {
  return kKernels[active_isa()] && g.sh == 1 && g.sw == 1 && g.kh * g.kw <= kConvDirectTaps &&
         g.C * g.kh * g.kw <= kConvDirectPatchRows && g.Wo <= kConvDirectMaxWo && g.N > 0 &&
         O > 0 && g.C > 0 && g.Ho > 0 && g.Wo > 0;
}

ConvDirectGeom direct_geom(const Conv2dGeom& g, int64_t O) {
  return {g.C, g.H, g.W, O, g.Ho, g.Wo, g.kh, g.kw, g.ph, g.pw, g.dh, g.dw};
}

}  // namespace

bool conv2d_forward_direct(float* y, const float* x, const float* w, const float* b,
                           const Conv2dGeom& g, int64_t O) {
  if (!applies(g, O)) return false;
  const ConvDirectGeom dg = direct_geom(g, O);
  const int64_t Wp = g.W + 2 * g.pw, S = padded_plane(g);
  const int64_t blocks = (O + kConvDirectBlock - 1) / kConvDirectBlock;
  const int64_t plane = g.Ho * g.Wo, block_floats = kConvDirectBlock * plane;
  // An output much bigger than the last-level cache goes out with non-temporal stores, each block
  // staged in the thread's cache first: stored in place it would be read in (write-allocate)
  // only to be evicted, which doubles the memory traffic of this write-bound kernel. Smaller
  // outputs stay in the cache, where the next layer reads them.
  const double out_bytes = 4.0 * static_cast<double>(g.N) * static_cast<double>(O * plane);
  const bool stream =
      out_bytes > 0.75 * static_cast<double>(cache_sizes().l3) * get_num_threads() &&
      block_floats <= kMaxStageFloats;
  // Tasks are (image, block) pairs in order; a thread pads an image once for all its blocks.
  parallel_for(g.N * blocks, 1, [&](int64_t t0, int64_t t1) {
    float* buf = static_cast<float*>(tls_pad.get(sizeof(float) * g.C * S));
    float* stage =
        stream ? static_cast<float*>(tls_stage.get(sizeof(float) * block_floats)) : nullptr;
    PaddedImage xp{buf, -1, Wp, S};
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / blocks, o0 = t % blocks * kConvDirectBlock;
      if (xp.n != n) pad_image(buf, x + n * g.C * g.H * g.W, g, Wp, S), xp.n = n;
      kKernels[active_isa()]->forward(y, xp, w, b, dg, o0, std::min(kConvDirectBlock, O - o0),
                                      stage);
    }
  });
  return true;
}

bool conv2d_backward_weight_direct(float* dw, float* db, const float* dy, const float* x,
                                   const Conv2dGeom& g, int64_t O) {
  if (!applies(g, O) || (!dw && !db)) return false;
  const ConvDirectGeom dg = direct_geom(g, O);
  const int64_t T = g.kh * g.kw, K = g.C * T, slices = std::min(g.N, kSlices), P = O * K + O;
  const int64_t pairs = (O + 1) / 2, A = (pairs * K + pairs) * 32;  // running sums, floats
  const int64_t Wp = g.W + 2 * g.pw, S = padded_plane(g);
  float* part = static_cast<float*>(tls_part.get(sizeof(float) * slices * P));
  parallel_chunks(slices, 1, [&](int64_t s0, int64_t s1) {
    float* buf = static_cast<float*>(tls_pad.get(sizeof(float) * g.C * S));
    float* acc = static_cast<float*>(tls_acc.get(sizeof(float) * A));
    for (int64_t s = s0; s < s1; ++s) {
      const int64_t i0 = g.N * s / slices, i1 = g.N * (s + 1) / slices;
      for (int64_t n = i0; n < i1; ++n) {
        pad_image(buf, x + n * g.C * g.H * g.W, g, Wp, S);
        kKernels[active_isa()]->dw(acc, PaddedImage{buf, n, Wp, S}, dy, dg, n == i0, db);
      }
      // The slice's sums: each vector's 16 lanes in order.
      float* out = part + s * P;
      for (int64_t o = 0; o < O; ++o)
        for (int64_t k = 0; k < K; ++k)
          out[o * K + k] = lane_sum(acc + ((o / 2 * K + k) * 2 + o % 2) * 16);
      if (db)
        for (int64_t o = 0; o < O; ++o)
          out[O * K + o] = lane_sum(acc + ((pairs * K + o / 2) * 2 + o % 2) * 16);
    }
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
