// im2col / col2im and conv2d, CPU (float32, float64). NCHW, row-major, contiguous.
//
// Geometry (Conv2dGeom in cpu/fastnn_cpu.h), per spatial axis with kernel k, stride s, padding p,
// dilation d:  out = floor((in + 2p - d(k-1) - 1) / s) + 1   (PyTorch's Conv2d / MaxPool2d).
//
// im2col: cols (N, R, L), L = Ho*Wo, R = C*kh*kw (+1 with Im2colRows::patches_and_ones):
//   cols[n, (c*kh + i)*kw + j, oh*Wo + ow] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]
//   (0 where that lies in the padding). The row order matches weight.reshape(C_out, C*kh*kw),
//   so conv2d is W @ cols[n]. The optional last row of ones lets a GEMM with [W | b] add a
//   per-output-channel bias (the Python conv op builds [W | b] that way).
// col2im: the adjoint of im2col (the backward of the gather is a scatter-add): every column
//   entry is added back to the pixel it was read from; overlapping patches accumulate, padding
//   entries are dropped. Writes (overwrites) x.
// conv2d: float32 3x3 stride-1 layers by Winograd F(2x2, 3x3) where it applies
// (cpu/conv_winograd.cpp, [note: Winograd]); the forward pass and dW of layers with few patch rows
// directly (cpu/conv_direct.cpp); forward, dx, dW and db by packed im2col where a SIMD
// micro-kernel exists (cpu/conv_gemm.cpp, [note: packed im2col]); otherwise chunked im2col + GEMM,
// see [note: conv2d chunks] below.
// (max pooling is in pool.cpp.)
//
// Work is split over (n, c) planes on the thread pool: each plane's output region is written
// by exactly one task, so col2im needs no atomics, and their sums are
// in a fixed order (deterministic for any thread count).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include "cpu/conv_direct.h"
#include "cpu/conv_gemm.h"
#include "cpu/conv_winograd.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/gemm_ukernels.h"
#include "cpu/norm_sums.h"
#include "cpu/parallel.h"
#include "cpu/scratch.h"

namespace fastnn {
namespace {

constexpr int64_t kGrainElems = 32768;  // elements of work per task chunk before threads pay off

int64_t grain_for(int64_t work_per_task) {
  return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, work_per_task));
}

// ---- im2col / col2im --------------------------------------------------------------------------

thread_local Scratch tls_padded;  // one zero-padded plane (im2col_plane / col2im_plane)

// [note: padded plane] im2col and col2im go through a copy of the plane with its zero border,
// (H + 2ph) x (W + 2pw): every window read is then in bounds, so each output row is one
// branch-free (vectorisable) copy of Wo elements instead of per-row range checks, fills and short
// memcpy calls (which made im2col 10x slower than its memory traffic).

// Rows are short (Wo = 14 in a small CNN): copy / add them in 16-byte blocks (SSE2 in the
// baseline build) rather than through a memcpy call or a loop with alias checks and an epilogue.
// copy_row's last block may overlap the previous one (same values written twice); n >= 0.
template <class T>
inline void copy_row(T* d, const T* s, int64_t n) {
  constexpr int64_t V = 16 / sizeof(T);
  if (n < V) {
    for (int64_t i = 0; i < n; ++i) d[i] = s[i];
    return;
  }
  int64_t i = 0;
  for (; i + V <= n; i += V) std::memcpy(d + i, s + i, 16);
  if (i < n) std::memcpy(d + n - V, s + n - V, 16);
}

template <class T>
inline void add_row(T* d, const T* s, int64_t n) {
  constexpr int64_t V = 16 / sizeof(T);
  int64_t i = 0;
  for (; i + V <= n; i += V) {
    T a[V], b[V];
    std::memcpy(a, d + i, 16);
    std::memcpy(b, s + i, 16);
    for (int64_t k = 0; k < V; ++k) a[k] += b[k];
    std::memcpy(d + i, a, 16);
  }
  for (; i < n; ++i) d[i] += s[i];
}

// The kh*kw rows of channel c for one image: row (c*kh + i)*kw + j at dst + row*ld, L entries.
// ld >= L lets a chunk of images share one (K, nb*L) matrix (image j's columns at dst + j*L).
template <class T>
void im2col_plane(T* dst, int64_t ld, const T* plane, const Conv2dGeom& g, int64_t c) {
  const int64_t Hp = g.H + 2 * g.ph, Wp = g.W + 2 * g.pw;
  T* p = static_cast<T*>(tls_padded.get(sizeof(T) * Hp * Wp));
  std::fill(p, p + g.ph * Wp, T(0));
  for (int64_t h = 0; h < g.H; ++h) {
    T* pr = p + (g.ph + h) * Wp;
    for (int64_t w = 0; w < g.pw; ++w) pr[w] = T(0), pr[g.pw + g.W + w] = T(0);
    copy_row(pr + g.pw, plane + h * g.W, g.W);
  }
  std::fill(p + (g.ph + g.H) * Wp, p + Hp * Wp, T(0));
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      T* row = dst + ((c * g.kh + i) * g.kw + j) * ld;
      for (int64_t oh = 0; oh < g.Ho; ++oh) {
        T* r = row + oh * g.Wo;
        const T* src = p + (oh * g.sh + i * g.dh) * Wp + j * g.dw;
        if (g.sw == 1) {
          copy_row(r, src, g.Wo);
        } else {
          for (int64_t ow = 0; ow < g.Wo; ++ow) r[ow] = src[ow * g.sw];
        }
      }
    }
  }
}

template <class T>
void im2col_impl(T* cols, const T* x, const Conv2dGeom& g, Im2colRows rows) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  const int64_t R = K + (rows == Im2colRows::patches_and_ones ? 1 : 0);
  parallel_for(g.N * g.C, grain_for(K / std::max<int64_t>(1, g.C) * L), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t)
      im2col_plane(cols + (t / g.C) * R * L, L, x + t * g.H * g.W, g, t % g.C);
  });
  if (R > K)
    for (int64_t n = 0; n < g.N; ++n)
      std::fill(cols + (n * R + K) * L, cols + (n * R + K + 1) * L, T(1));
}

// The adjoint of im2col_plane: plane (H, W) of channel c = the sum of its rows at src (stride ld),
// accumulated in the padded plane (see [note: padded plane]) whose interior is then copied out.
template <class T>
void col2im_plane(T* plane, const T* src, int64_t ld, const Conv2dGeom& g, int64_t c) {
  const int64_t Hp = g.H + 2 * g.ph, Wp = g.W + 2 * g.pw;
  T* p = static_cast<T*>(tls_padded.get(sizeof(T) * Hp * Wp));
  std::fill(p, p + Hp * Wp, T(0));
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      const T* row = src + ((c * g.kh + i) * g.kw + j) * ld;
      for (int64_t oh = 0; oh < g.Ho; ++oh) {
        const T* r = row + oh * g.Wo;
        T* d = p + (oh * g.sh + i * g.dh) * Wp + j * g.dw;
        if (g.sw == 1) {
          add_row(d, r, g.Wo);
        } else {
          for (int64_t ow = 0; ow < g.Wo; ++ow) d[ow * g.sw] += r[ow];
        }
      }
    }
  }
  for (int64_t h = 0; h < g.H; ++h) copy_row(plane + h * g.W, p + (g.ph + h) * Wp + g.pw, g.W);
}

template <class T>
void col2im_impl(T* x, const T* cols, const Conv2dGeom& g) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  parallel_for(g.N * g.C, grain_for(g.kh * g.kw * g.Ho * g.Wo + g.H * g.W),
               [&](int64_t b, int64_t e) {
                 for (int64_t t = b; t < e; ++t)
                   col2im_plane(x + t * g.H * g.W, cols + (t / g.C) * K * L, L, g, t % g.C);
               });
}

// ---- conv2d: chunked im2col + GEMM ------------------------------------------------------------
// [note: conv2d chunks] The batch is cut into chunks of nb images whose patch matrix
// cols (K, nb*L) fits in L2 (~kColsBytes), so each chunk is gathered and consumed in cache and no
// (N, K, L) tensor ever reaches DRAM; the GEMMs see a wide N = nb*L instead of one image's L
// (less tile waste at the edge), and backward regathers cols instead of keeping them alive.
//   forward   T (C_out, nb*L) = W2 @ cols          then y[n0+j, o, :] = T[o, j*L:(j+1)*L] + b[o]
//   backward  G (C_out, nb*L) = dy chunk gathered the same way
//             dW += G @ cols^T,  db += row sums of G,  dcols (K, nb*L) = W2^T @ G -> col2im
// Chunks run in parallel, one per thread at a time, with single-threaded GEMMs (a nested
// parallel region runs serially). dW/db: chunks are grouped into at most kSlices contiguous
// slices whose boundaries depend only on N and nb; each slice sums its chunks in order into its
// own partial, and the partials are added in slice order: the same bits for any thread count.

constexpr int64_t kColsBytes = 1024 * 1024;  // 256 KiB..2 MiB measured within 3%; 1 MiB best
constexpr int64_t kSlices = 16;

thread_local Scratch tls_scratch;

int64_t chunk_images(const Conv2dGeom& g, int64_t elem_bytes) {
  const int64_t per_image = g.C * g.kh * g.kw * g.Ho * g.Wo * elem_bytes;
  return std::max<int64_t>(1, std::min<int64_t>(g.N, kColsBytes / std::max<int64_t>(1, per_image)));
}

template <class T>
void gemm(T* c, const T* a, const T* b, int64_t M, int64_t N, int64_t K, int64_t a_rs, int64_t a_cs,
          int64_t b_rs, int64_t b_cs, int64_t c_rs, T beta) {
  const MatmulLayout L{1, M, N, K, 0, a_rs, a_cs, 0, b_rs, b_cs, 0, c_rs};
  matmul_cpu(c, a, b, nullptr, L, T(1), beta);
}

// cols (K, nb*L) for images [n0, n0 + nb).
template <class T>
void gather_cols(T* cols, const T* x, const Conv2dGeom& g, int64_t n0, int64_t nb) {
  const int64_t L = g.Ho * g.Wo, ld = nb * L;
  for (int64_t j = 0; j < nb; ++j)
    for (int64_t c = 0; c < g.C; ++c)
      im2col_plane(cols + j * L, ld, x + ((n0 + j) * g.C + c) * g.H * g.W, g, c);
}

// ---- deep layers: GEMMs over the batch --------------------------------------------------------
// [note: batch GEMMs] dW (O x K) = G (O x P) @ cols^T, P the batch's output pixels. The packed and
// chunked paths reduce over one image (or one chunk) at a time into per-slice partials, which is
// right while dW is small; a deep layer's dW is megabytes (512 x 2304 floats for 256->512 3x3) and
// its planes are tiny (4 x 4 outputs), so each image's product was a rank-16 update that read and
// wrote all of dW: 4 GFLOP/s. Here the patches of many images are gathered side by side, dy is
// regrouped to (O, P) beside them, and one threaded GEMM per chunk of images accumulates into dW
// itself: the reduction is hundreds of pixels deep, and threads split dW, not the pixels. Chunks
// hold at most kBatchColsBytes of patches and dy; their boundaries depend on N and the geometry
// alone, and the GEMM's bits do not depend on the thread count, so neither do dW's. dx likewise:
// dcols (K x P) = W^T @ G, then col2im plane by plane; and the forward pass, W @ cols, then each
// image's rows plus the bias.
//
// Where (batch 32, one thread, interleaved against the other paths on a Zen 3 core; the layers of
// CIFAR ResNets and MobileNets):
// - dW of every layer of at least 1024 weights that Winograd and the direct sums (first layers)
//   do not take (256->512 3x3 stride 2: 306 -> 24 ms, torch 37; 1x1 16->96 on 32 x 32:
//   15.7 -> 6.4, torch 8.0; 1x1 1024->256 on 14 x 14: 119 -> 70), and of Winograd's layers of at
//   least 8192 weights with planes of at most 7 x 7 (512->512 on 4 x 4: 137 -> 64 ms; from 8 x 8
//   up Winograd stayed 10-120 % faster);
// - dx of layers of at least 8192 weights on planes of at most 16 pixels (512->512 on 4 x 4:
//   115 -> 70 ms, torch 66); on larger planes the packed and Winograd paths were up to 2x faster;
// - the forward pass of such layers on planes of at most 4 pixels (1x1 960->320 on 2 x 2:
//   4.2 -> 1.6 ms, torch 1.4); from 4 x 4 up the packed path was as fast or faster.
constexpr int64_t kBatchColsBytes = 8 << 20;
constexpr int64_t kBatchMinWeights = 8192, kBatchMinWeightsDw = 1024;
constexpr int64_t kBatchMaxWinogradPlane = 49, kBatchMaxDxPlane = 16, kBatchMaxForwardPlane = 4;
thread_local Scratch tls_batch;  // one chunk's patches (or their gradient) and regrouped dy

template <class T>
bool batch_dw_beats_winograd(const Conv2dGeom& g, int64_t O) {
  const int64_t L = g.Ho * g.Wo;
  return std::is_same_v<T, float> && conv2d_winograd_applies(g, O) && L > 0 &&
         L <= kBatchMaxWinogradPlane && O * g.C * g.kh * g.kw >= kBatchMinWeights;
}
bool batch_dw_applies(const Conv2dGeom& g, int64_t O) {
  return g.N > 0 && g.Ho * g.Wo > 0 && O * g.C * g.kh * g.kw >= kBatchMinWeightsDw;
}
bool batch_dx_applies(const Conv2dGeom& g, int64_t O) {
  const int64_t L = g.Ho * g.Wo;
  return g.N > 0 && L > 0 && L <= kBatchMaxDxPlane && O * g.C * g.kh * g.kw >= kBatchMinWeights;
}
bool batch_forward_applies(const Conv2dGeom& g, int64_t O) {
  const int64_t L = g.Ho * g.Wo;
  return g.N > 0 && L > 0 && L <= kBatchMaxForwardPlane &&
         O * g.C * g.kh * g.kw >= kBatchMinWeights;
}

// Images per chunk, and the chunk's scratch: patches (K x nb L) then G (O x nb L).
template <class T>
int64_t batch_images(const Conv2dGeom& g, int64_t O, T** scratch) {
  const int64_t per_image = static_cast<int64_t>(sizeof(T)) * (g.C * g.kh * g.kw + O) * g.Ho * g.Wo;
  const int64_t nb = std::clamp<int64_t>(kBatchColsBytes / per_image, 1, g.N);
  *scratch = static_cast<T*>(tls_batch.get(static_cast<size_t>(per_image * nb)));
  return nb;
}

// Image n's dy (O x L) into G's columns from gt (rows ld apart).
template <class T>
void regroup_dy(T* gt, int64_t ld, const T* dy, int64_t n, int64_t O, int64_t L) {
  for (int64_t o = 0; o < O; ++o) std::memcpy(gt + o * ld, dy + (n * O + o) * L, sizeof(T) * L);
}

// The chunk of m images from n0 on the pool: their patches into cols (K x m L) and, where gt is
// given, their dy into G (O x m L); one task per plane or image.
template <class T>
void gather_batch(T* cols, T* gt, const T* x, const T* dy, const Conv2dGeom& g, int64_t O,
                  int64_t n0, int64_t m) {
  const int64_t L = g.Ho * g.Wo, ld = m * L, planes = m * g.C;
  parallel_for(planes + (gt ? m : 0), 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      if (t < planes) {
        const int64_t j = t / g.C, c = t % g.C;
        im2col_plane(cols + j * L, ld, x + ((n0 + j) * g.C + c) * g.H * g.W, g, c);
      } else {
        regroup_dy(gt + (t - planes) * L, ld, dy, n0 + t - planes, O, L);
      }
    }
  });
}

template <class T>
void backward_weight_batch(T* dw, const T* dy, const T* x, const Conv2dGeom& g, int64_t O) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  T* cols;
  const int64_t nb = batch_images(g, O, &cols);
  for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
    const int64_t m = std::min(nb, g.N - n0), ld = m * L;
    T* gt = cols + K * ld;
    gather_batch(cols, gt, x, dy, g, O, n0, m);
    gemm(dw, gt, cols, O, K, ld, ld, 1, 1, ld, K, n0 == 0 ? T(0) : T(1));
  }
}

template <class T>
void backward_input_batch(T* dx, const T* dy, const T* w, const Conv2dGeom& g, int64_t O) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  T* cols;
  const int64_t nb = batch_images(g, O, &cols);
  for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
    const int64_t m = std::min(nb, g.N - n0), ld = m * L;
    T* gt = cols + K * ld;
    parallel_for(m, 1, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) regroup_dy(gt + j * L, ld, dy, n0 + j, O, L);
    });
    gemm(cols, w, gt, K, ld, O, 1, K, ld, 1, ld, T(0));
    parallel_for(m * g.C, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t j = t / g.C, c = t % g.C;
        col2im_plane(dx + ((n0 + j) * g.C + c) * g.H * g.W, cols + j * L, ld, g, c);
      }
    });
  }
}

template <class T>
void forward_batch(T* y, const T* x, const T* w, const T* bias, const Conv2dGeom& g, int64_t O) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  T* cols;
  const int64_t nb = batch_images(g, O, &cols);
  for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
    const int64_t m = std::min(nb, g.N - n0), ld = m * L;
    T* t = cols + K * ld;
    gather_batch(cols, static_cast<T*>(nullptr), x, static_cast<const T*>(nullptr), g, O, n0, m);
    gemm(t, w, cols, O, ld, K, K, 1, ld, 1, ld, T(0));
    parallel_for(m * O, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t j = i / O, o = i % O;
        const T* src = t + o * ld + j * L;
        T* dst = y + ((n0 + j) * O + o) * L;
        const T bo = bias ? bias[o] : T(0);
        for (int64_t l = 0; l < L; ++l) dst[l] = src[l] + bo;
      }
    });
  }
}

// ---- 1x1 layers --------------------------------------------------------------------------------
// [note: pointwise] A 1x1 stride-1 unpadded layer's patches are its input planes as they lie, so
// its forward pass y[n] = W @ x[n] + b and its dx[n] = W^T @ dy[n] are each one batched GEMM with
// W shared (batch stride 0): nothing gathered, packed per image or scattered. The bias is written
// into y first and the GEMM adds onto it. Against the packed and direct paths, one thread, batch
// 32, interleaved (MobileNet's pointwise layers): forward 144->32 on 8 x 8 1.28 -> 0.26 ms, 384->96
// on 4 x 4 2.64 -> 0.41; dx 96->24 on 16 x 16 3.2 -> 1.4, 64->256 on 8 x 8 3.8 -> 2.6. A forward
// pass with few input channels stays with the direct sums (see conv2d_forward_impl).
bool pointwise(const Conv2dGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

template <class T>
void forward_pointwise(T* y, const T* x, const T* w, const T* bias, const Conv2dGeom& g,
                       int64_t O) {
  const int64_t L = g.H * g.W;
  if (bias)
    parallel_for(g.N * O, grain_for(L), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) std::fill(y + i * L, y + (i + 1) * L, bias[i % O]);
    });
  const MatmulLayout lay{g.N, O, L, g.C, 0, g.C, 1, g.C * L, L, 1, O * L, L};
  matmul_cpu(y, w, x, nullptr, lay, T(1), bias ? T(1) : T(0));
}

template <class T>
void input_grad_pointwise(T* dx, const T* dy, const T* w, const Conv2dGeom& g, int64_t O) {
  const int64_t L = g.H * g.W;
  const MatmulLayout lay{g.N, g.C, L, O, 0, 1, g.C, O * L, L, 1, g.C * L, L};
  matmul_cpu(dx, w, dy, nullptr, lay, T(1), T(0));
}

template <class T>
void conv2d_forward_impl(T* y, const T* x, const T* w, const T* bias, const Conv2dGeom& g,
                         int64_t O) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  if (g.N == 0 || O == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (conv2d_forward_winograd(y, x, w, bias, g, O)) return;
    // A first layer's few patch rows: the sums directly (cpu/conv_direct.h). (Also a 1x1 layer's
    // of at most 27 input channels: 16->96 on 32 x 32 took 0.40 ms so, 0.71 as a batched GEMM
    // of depth 16.)
    if (conv2d_forward_direct(y, x, w, bias, g, O)) return;
  }
  if (pointwise(g)) return forward_pointwise(y, x, w, bias, g, O);
  if (batch_forward_applies(g, O)) return forward_batch(y, x, w, bias, g, O);
  if (conv2d_forward_packed(y, x, w, bias, g, O)) return;
  const int64_t nb = chunk_images(g, sizeof(T)), chunks = (g.N + nb - 1) / nb;
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    T* cols = static_cast<T*>(tls_scratch.get(sizeof(T) * (K + O) * nb * L));
    T* t = cols + K * nb * L;
    for (int64_t ci = c0; ci < c1; ++ci) {
      const int64_t n0 = ci * nb, m = std::min(nb, g.N - n0), ld = m * L;
      gather_cols(cols, x, g, n0, m);
      gemm(t, w, cols, O, ld, K, K, 1, ld, 1, ld, T(0));
      for (int64_t j = 0; j < m; ++j) {
        for (int64_t o = 0; o < O; ++o) {
          const T* src = t + o * ld + j * L;
          T* dst = y + ((n0 + j) * O + o) * L;
          const T bo = bias ? bias[o] : T(0);
          for (int64_t l = 0; l < L; ++l) dst[l] = src[l] + bo;
        }
      }
    }
  });
}

thread_local Scratch tls_part;  // conv2d_backward's per-slice dW, db partials
constexpr size_t kKeptPartBytes = 8 << 20;

// Whether dW^T = cols @ dy^T pads fewer rows and columns of the micro-kernel's tiles than
// dW = dy @ cols^T (an estimate with the active kernel's tile; false where there is none).
template <class T>
bool dw_transposed(int64_t O, int64_t K) {
  const UKernel<T>* uk = ukernel_for(static_cast<T*>(nullptr));
  return uk && transpose_pads_less(O, K, uk->MR, uk->NR);
}

// db[o] = the sum of dy's (n, o) planes over n, image by image in order (the bits do not depend on
// the thread count), for the layers whose dW Winograd computes. The packed and direct dW paths
// sum db from the dy they read anyway. Each thread takes a range of channels and reads dy in
// memory order, its planes of one image one stretch, keeping a sum per channel: summing one
// channel's planes after another (each a few lines, an image apart) left the prefetchers little
// to follow (256 x 64 x 14 x 14 on one Sapphire Rapids core: 2.5 ms that way, 0.9 ms this way).
template <class T>
void bias_grad(T* db, const T* dy, int64_t N, int64_t O, int64_t L) {
  constexpr int64_t kChannels = 64;  // accumulators per pass over the images
  parallel_for(O, 1, [&](int64_t o0, int64_t o1) {
    for (int64_t c0 = o0; c0 < o1; c0 += kChannels) {
      const int64_t c1 = std::min(o1, c0 + kChannels);
      double acc[kChannels] = {};
      for (int64_t n = 0; n < N; ++n)
        for (int64_t o = c0; o < c1; ++o) acc[o - c0] += norm::sum(dy + (n * O + o) * L, L);
      for (int64_t o = c0; o < c1; ++o) db[o] = static_cast<T>(acc[o - c0]);
    }
  });
}

template <class T>
void conv2d_backward_impl(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w,
                          const Conv2dGeom& g, int64_t O) {
  // Deep layers by GEMMs over the batch ([note: batch GEMMs]): before Winograd where they beat it,
  // after it where it does not apply or turns a call down (so such a call takes the path it takes
  // with Winograd off), and before the first layers' direct sums, which ran 1x1 16->96 on 32 x 32
  // 2x slower (3->64 3x3: level). Their db is one pass of plane sums, taken whatever else is asked
  // for, so its bits do not depend on it.
  if (db && batch_dw_applies(g, O)) {
    bias_grad(db, dy, g.N, O, g.Ho * g.Wo);
    db = nullptr;
  }
  if (dw && batch_dw_beats_winograd<T>(g, O)) {
    backward_weight_batch(dw, dy, x, g, O);
    dw = nullptr;
  }
  if (dx && g.N > 0 && O > 0 && pointwise(g)) {  // ([note: pointwise])
    input_grad_pointwise(dx, dy, w, g, O);
    dx = nullptr;
  }
  if (dx && batch_dx_applies(g, O)) {
    backward_input_batch(dx, dy, w, g, O);
    dx = nullptr;
  }
  if constexpr (std::is_same_v<T, float>) {  // Winograd where it applies (cpu/conv_winograd.h)
    // Its dW leaves db to a pass of its own, taken whatever else is asked for (so db's bits do
    // not depend on it), also where a non-finite value sends dW to packed im2col.
    if (db && conv2d_winograd_applies(g, O)) {
      bias_grad(db, dy, g.N, O, g.Ho * g.Wo);
      db = nullptr;
    }
    if ((dx || dw) && g.N > 0) {
      const WinogradGrads done = conv2d_backward_winograd(dx, dw, dy, x, w, g, O);
      if (done.dx) dx = nullptr;
      if (done.dw) dw = nullptr;
    }
  }
  if (dw && batch_dw_applies(g, O)) {
    backward_weight_batch(dw, dy, x, g, O);
    dw = nullptr;
  }
  if constexpr (std::is_same_v<T, float>) {
    // A first layer's few patch rows: dy correlated with x directly (cpu/conv_direct.h).
    if ((dw || db) && conv2d_backward_weight_direct(dw, db, dy, x, g, O)) dw = db = nullptr;
  }
  // dx by packed im2col where it applies (cpu/conv_gemm.h); the chunks below then only do dW, db.
  if (dx && g.N > 0 && O > 0 && conv2d_backward_input_packed(dx, dy, w, g, O)) dx = nullptr;
  // dW, db likewise (packed panels, cpu/conv_gemm.cpp [note: packed dW]).
  if ((dw || db) && conv2d_backward_weight_packed(dw, db, dy, x, g, O)) dw = db = nullptr;
  if (!dx && !dw && !db) return;
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  const int64_t nb = chunk_images(g, sizeof(T)), chunks = (g.N + nb - 1) / nb;
  const int64_t slices = std::min(chunks, kSlices);
  const bool need_w = dw || db;
  // Partial dW (O, K), or dW^T (K, O) when that orientation fills the micro-kernel's tiles better
  // (64 output channels are 5.3 12-row tiles, 288 patch rows 24), then db (O), per slice. Up to
  // kKeptPartBytes they are kept per calling thread between calls (fresh pages cost a page fault
  // each); bigger ones are allocated per call so a large layer does not pin its partials.
  const bool wt = dw_transposed<T>(O, K);
  const size_t part_bytes = sizeof(T) * static_cast<size_t>(slices * O * (K + 1));
  T* part = nullptr;
  std::unique_ptr<void, decltype(&std::free)> own(nullptr, &std::free);
  if (need_w && slices > 0) {
    if (part_bytes <= kKeptPartBytes) {
      part = static_cast<T*>(tls_part.get(part_bytes));
    } else {
      own.reset(std::aligned_alloc(64, (part_bytes + 63) / 64 * 64));
      if (!own) throw std::bad_alloc();
      part = static_cast<T*>(own.get());
    }
  }
  {
    if (g.N > 0 && O > 0)
      parallel_for(slices, 1, [&](int64_t s0, int64_t s1) {
        T* cols = static_cast<T*>(tls_scratch.get(sizeof(T) * (K + O) * nb * L));
        T* gt = cols + K * nb * L;
        for (int64_t s = s0; s < s1; ++s) {
          T* pw = need_w ? part + s * O * (K + 1) : nullptr;
          T* pb = need_w ? pw + O * K : nullptr;
          const int64_t cb = chunks * s / slices, ce = chunks * (s + 1) / slices;
          for (int64_t ci = cb; ci < ce; ++ci) {
            const int64_t n0 = ci * nb, m = std::min(nb, g.N - n0), ld = m * L;
            for (int64_t j = 0; j < m; ++j) regroup_dy(gt + j * L, ld, dy, n0 + j, O, L);
            if (need_w) {
              gather_cols(cols, x, g, n0, m);
              if (wt)
                gemm(pw, cols, gt, K, O, ld, ld, 1, 1, ld, O, ci == cb ? T(0) : T(1));
              else
                gemm(pw, gt, cols, O, K, ld, ld, 1, 1, ld, K, ci == cb ? T(0) : T(1));
              for (int64_t o = 0; o < O; ++o) {
                T acc = ci == cb ? T(0) : pb[o];
                const T* r = gt + o * ld;
                for (int64_t l = 0; l < ld; ++l) acc += r[l];
                pb[o] = acc;
              }
            }
            if (dx) {
              gemm(cols, w, gt, K, ld, O, 1, K, ld, 1, ld, T(0));
              for (int64_t j = 0; j < m; ++j)
                for (int64_t c = 0; c < g.C; ++c)
                  col2im_plane(dx + ((n0 + j) * g.C + c) * g.H * g.W, cols + j * L, ld, g, c);
            }
          }
        }
      });
    if (need_w) {
      const int64_t P = O * (K + 1);
      parallel_for(P, kGrainElems / std::max<int64_t>(1, slices), [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          T acc = T(0);
          const int64_t at = i < O * K && wt ? (i % K) * O + i / K : i;
          for (int64_t s = 0; s < slices; ++s) acc += part[s * P + at];
          if (i < O * K) {
            if (dw) dw[i] = acc;
          } else if (db) {
            db[i - O * K] = acc;
          }
        }
      });
    }
    if (dx && (g.N == 0 || O == 0)) std::fill(dx, dx + g.N * g.C * g.H * g.W, T(0));
  }
}

}  // namespace

// ---- launchers ----------------------------------------------------------------------------------

void im2col_cpu(float* cols, const float* x, const Conv2dGeom& g, Im2colRows rows) {
  im2col_impl(cols, x, g, rows);
}
void im2col_cpu(double* cols, const double* x, const Conv2dGeom& g, Im2colRows rows) {
  im2col_impl(cols, x, g, rows);
}
void col2im_cpu(float* x, const float* cols, const Conv2dGeom& g) { col2im_impl(x, cols, g); }
void col2im_cpu(double* x, const double* cols, const Conv2dGeom& g) { col2im_impl(x, cols, g); }
void conv2d_forward_cpu(float* y, const float* x, const float* w, const float* b,
                        const Conv2dGeom& g, int64_t C_out) {
  conv2d_forward_impl(y, x, w, b, g, C_out);
}
void conv2d_forward_cpu(double* y, const double* x, const double* w, const double* b,
                        const Conv2dGeom& g, int64_t C_out) {
  conv2d_forward_impl(y, x, w, b, g, C_out);
}
void conv2d_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x,
                         const float* w, const Conv2dGeom& g, int64_t C_out) {
  conv2d_backward_impl(dx, dw, db, dy, x, w, g, C_out);
}
void conv2d_backward_cpu(double* dx, double* dw, double* db, const double* dy, const double* x,
                         const double* w, const Conv2dGeom& g, int64_t C_out) {
  conv2d_backward_impl(dx, dw, db, dy, x, w, g, C_out);
}
}  // namespace fastnn
