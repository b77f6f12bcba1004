// The conv2d drivers (groups = 1): which im2col, GEMM, col2im and reduction steps run, on which
// chunks of images, with which GEMM shapes and strides. Written once over an executor E, so the
// CUDA code (cuda/conv.cu: E launches kernels and the GPU GEMM) and a host test
// (tests/window_ops_harness.cpp: E runs loops over the window_ops.h bodies) follow the same plan.
//
// With K = C*kh*kw, L = Ho*Wo and W2 = weight as (C_out, K), over chunks of nb images whose patch
// matrices cols (nb, K, L) fit the executor's workspace budget:
//   forward  y[n] = W2 @ cols[n]                one batched GEMM (W2 broadcast), straight into
//   NCHW;
//                                               then the bias, one pass over y
//   dW       part[n] = dy[n] @ cols[n]^T        one batched GEMM into (nb, C_out, K), then the nb
//                                               partials added per element in image order
//   dx       dcols[n] = W2^T @ dy[n]            one batched GEMM, then col2im (a gather) into dx
//   db       per channel, the sum of dy in a fixed order
// A 1x1 stride-1 unpadded convolution skips im2col / col2im: its cols[n] is x[n] itself.
//
// The executor E provides, for the element type T (all sizes int64, all buffers contiguous):
//   int64_t workspace_bytes()                       the chunk budget
//   T* workspace(int slot, int64_t elems)           scratch (slots 0 and 1), valid until E dies
//   void im2col(T* cols, const T* x, const Geom&, int64_t n0, int64_t nb, int64_t R,
//               int64_t sn, int64_t sr)             cols entry (n, r, l) at n*sn + r*sr + l
//   void col2im(T* x, const T* cols, const Geom&, int64_t n0, int64_t nb, int64_t sn, int64_t sr)
//   void gemm(T* c, const T* a, const T* b, int64_t batch, int64_t M, int64_t N, int64_t K,
//             bool ta, bool tb, int64_t sa, int64_t sb, int64_t sc)   c = op(a) @ op(b), beta 0
//   void add_channel_bias(T* y, const T* b, int64_t total, int64_t C_out, int64_t L)
//   void channel_sum(T* db, const T* dy, int64_t N, int64_t C_out, int64_t L)
//   void sum_images(T* dw, const T* part, int64_t nb, int64_t CK, bool accumulate)
//   void zero(T* p, int64_t n)
#pragma once
#include <stdint.h>

#include <algorithm>

#include "window_ops.h"

namespace fastnn::conv_driver {

using window::Geom;

inline bool is_pointwise(const Geom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// Images per chunk: as many as fit `budget` bytes, at least 1, at most N.
inline int64_t chunk_images(int64_t N, int64_t bytes_per_image, int64_t budget) {
  const int64_t most = std::max<int64_t>(N, 1);
  if (bytes_per_image <= 0) return most;
  return std::clamp<int64_t>(budget / bytes_per_image, 1, most);
}

template <class T, class E>
void forward(E& e, T* y, const T* x, const T* w, const T* b, const Geom& g, int64_t C_out) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo, total = g.N * C_out * L;
  if (total == 0) return;
  if (is_pointwise(g)) {
    e.gemm(y, w, x, g.N, C_out, L, K, false, false, 0, K * L, C_out * L);
  } else {
    const int64_t nb = chunk_images(g.N, K * L * int64_t(sizeof(T)), e.workspace_bytes());
    T* cols = e.workspace(0, nb * K * L);
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t cnt = std::min(nb, g.N - n0);
      e.im2col(cols, x, g, n0, cnt, K, K * L, L);
      e.gemm(y + n0 * C_out * L, w, cols, cnt, C_out, L, K, false, false, 0, K * L, C_out * L);
    }
  }
  if (b) e.add_channel_bias(y, b, total, C_out, L);
}

template <class T, class E>
void backward(E& e, T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const Geom& g,
              int64_t C_out) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo, image = g.C * g.H * g.W;
  if (db) {
    if (g.N * L == 0)
      e.zero(db, C_out);
    else if (C_out > 0)
      e.channel_sum(db, dy, g.N, C_out, L);
  }
  if (g.N == 0 || C_out == 0) {  // empty sums: zero gradients
    if (dw) e.zero(dw, C_out * K);
    if (dx) e.zero(dx, g.N * image);
    return;
  }
  if ((!dw && !dx) || K == 0) return;
  const bool pointwise = is_pointwise(g);
  const int64_t cols_per_image = pointwise ? 0 : K * L;
  const int64_t part_per_image = dw ? C_out * K : 0;
  const int64_t nb = chunk_images(g.N, (cols_per_image + part_per_image) * int64_t(sizeof(T)),
                                  e.workspace_bytes());
  T* cols = e.workspace(0, nb * cols_per_image);
  T* part = e.workspace(1, nb * part_per_image);
  for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
    const int64_t cnt = std::min(nb, g.N - n0);
    const T* dyc = dy + n0 * C_out * L;
    if (dw) {
      const T* cb = x + n0 * image;
      if (!pointwise) {
        e.im2col(cols, x, g, n0, cnt, K, K * L, L);
        cb = cols;
      }
      e.gemm(part, dyc, cb, cnt, C_out, K, L, false, true, C_out * L, K * L, C_out * K);
      e.sum_images(dw, part, cnt, C_out * K, n0 > 0);
    }
    if (dx) {
      // After the dW GEMM in stream order, so cols can be overwritten here.
      T* dc = pointwise ? dx + n0 * image : cols;
      e.gemm(dc, w, dyc, cnt, K, L, C_out, true, false, 0, C_out * L, K * L);
      if (!pointwise) e.col2im(dx, cols, g, n0, cnt, K * L, L);
    }
  }
}

}  // namespace fastnn::conv_driver
