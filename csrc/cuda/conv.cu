// im2col / col2im and conv2d (groups = 1) forward and backward, CUDA (float32, float64). NCHW,
// contiguous; the twins of csrc/cpu/conv.cpp with the same layouts. Per element the kernels run
// the bodies in window_ops.h (tested on the host against the CPU kernels).
//
// conv2d with K = C*kh*kw, L = Ho*Wo and W2 = weight as (C_out, K), over chunks of nb images whose
// patch matrices cols (nb, K, L) fit a bounded workspace:
//   forward  y[n] = W2 @ cols[n]                one batched GEMM (W2 broadcast), straight into
//   NCHW;
//                                               then the bias, one pass over y
//   dW       part[n] = dy[n] @ cols[n]^T        one batched GEMM into (nb, C_out, K), then the nb
//                                               partials added per element in image order
//   dx       dcols[n] = W2^T @ dy[n]            one batched GEMM, then col2im (a gather) into dx
//   db       per channel, one block sums dy in a fixed tree
// Every sum runs in a fixed order (no atomics), so the gradients are the same on every run. A 1x1
// stride-1 unpadded convolution skips im2col / col2im: its cols[n] is x[n] itself.
#include <algorithm>
#include <cstdlib>

#include "cuda/common.cuh"
#include "window_ops.h"

namespace fastnn::cuda {
namespace {

using window::Geom;

// Workspace per chunk; a single image that needs more gets it (nb = 1). The environment variable
// FASTNN_CONV_WORKSPACE_BYTES lowers it, so that the tests can run the multi-chunk path on small
// inputs; it is read per call (no state kept).
constexpr int64_t kWorkspaceBytes = int64_t(256) << 20;

int64_t workspace_bytes() {
  const char* env = std::getenv("FASTNN_CONV_WORKSPACE_BYTES");
  if (env == nullptr || *env == '\0') return kWorkspaceBytes;
  char* end = nullptr;
  const long long v = std::strtoll(env, &end, 10);
  return (*end == '\0' && v > 0 && v < kWorkspaceBytes) ? v : kWorkspaceBytes;
}

int64_t chunk_images(int64_t N, int64_t bytes_per_image) {
  if (bytes_per_image <= 0) return std::max<int64_t>(N, 1);
  return std::clamp<int64_t>(workspace_bytes() / bytes_per_image, 1, std::max<int64_t>(N, 1));
}

bool is_pointwise(const Geom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// cols entry (n, r, l) of images [n0, n0 + nb) at n*sn + r*sr + l (n counted from n0).
template <class T>
__global__ void im2col_kernel(T* cols, const T* x, Geom g, int64_t n0, int64_t nb, int64_t R,
                              int64_t sn, int64_t sr) {
  const int64_t L = g.Ho * g.Wo;
  FASTNN_KERNEL_LOOP(t, nb * R * L) {
    const int64_t l = t % L, r = (t / L) % R, n = t / (L * R);
    cols[n * sn + r * sr + l] = window::im2col_value(x, g, n0 + n, r, l);
  }
}

// x of images [n0, n0 + nb) from their cols (entry (n, r, l) at n*sn + r*sr + l, n from n0).
template <class T>
__global__ void col2im_kernel(T* x, const T* cols, Geom g, int64_t n0, int64_t nb, int64_t sn,
                              int64_t sr) {
  const int64_t plane = g.H * g.W, image = g.C * plane;
  FASTNN_KERNEL_LOOP(t, nb * image) {
    const int64_t w = t % g.W, h = (t / g.W) % g.H, c = (t / plane) % g.C, n = t / image;
    x[n0 * image + t] = window::col2im_value(cols, sn, sr, g, n, c, h, w);
  }
}

template <class T>
void launch_im2col(T* cols, const T* x, const Geom& g, int64_t n0, int64_t nb, int64_t R,
                   int64_t sn, int64_t sr) {
  const int64_t total = nb * R * g.Ho * g.Wo;
  if (total == 0) return;
  im2col_kernel<T>
      <<<grid_for(total), kThreads, 0, current_stream()>>>(cols, x, g, n0, nb, R, sn, sr);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class T>
void launch_col2im(T* x, const T* cols, const Geom& g, int64_t n0, int64_t nb, int64_t sn,
                   int64_t sr) {
  const int64_t total = nb * g.C * g.H * g.W;
  if (total == 0) return;
  col2im_kernel<T><<<grid_for(total), kThreads, 0, current_stream()>>>(x, cols, g, n0, nb, sn, sr);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// y (N, C_out, L) += b[channel].
template <class T>
__global__ void add_channel_bias_kernel(T* y, const T* b, int64_t total, int64_t C_out, int64_t L) {
  FASTNN_KERNEL_LOOP(t, total) { y[t] += b[(t / L) % C_out]; }
}

// db[o] = the sum of dy[:, o, :] (dy (N, C_out, L)): one block per channel, a fixed tree in
// double, so the result does not depend on the launch or the run.
template <class T>
__global__ void __launch_bounds__(1024)
    channel_sum_kernel(T* db, const T* dy, int64_t N, int64_t C_out, int64_t L) {
  __shared__ double partial[32];
  for (int64_t o = blockIdx.x; o < C_out; o += gridDim.x) {
    double acc = 0;
    for (int64_t t = threadIdx.x; t < N * L; t += blockDim.x) {
      const int64_t n = t / L, l = t - n * L;
      acc += static_cast<double>(dy[(n * C_out + o) * L + l]);
    }
    acc = block_sum(acc, partial);  // every thread of the block reaches this (o is uniform)
    if (threadIdx.x == 0) db[o] = static_cast<T>(acc);
  }
}

// dw[j] (+)= the sum over n < nb of part[n*CK + j], in image order.
template <class T>
__global__ void sum_images_kernel(T* dw, const T* part, int64_t nb, int64_t CK, bool accumulate) {
  FASTNN_KERNEL_LOOP(j, CK) {
    double acc = accumulate ? static_cast<double>(dw[j]) : 0.0;
    for (int64_t n = 0; n < nb; ++n) acc += static_cast<double>(part[n * CK + j]);
    dw[j] = static_cast<T>(acc);
  }
}

template <class T>
void zero(T* p, int64_t n) {
  if (n > 0) FASTNN_CUDA_CHECK(cudaMemsetAsync(p, 0, n * sizeof(T), current_stream()));
}

template <class T>
void conv2d_forward_impl(DType dt, T* y, const T* x, const T* w, const T* b, const Geom& g,
                         int64_t C_out) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo, total = g.N * C_out * L;
  if (total == 0) return;
  if (is_pointwise(g)) {
    matmul_forward_cuda(dt, y, w, x, nullptr, g.N, C_out, L, K, Trans::N, Trans::N, 1.0, 0.0, 0,
                        K * L, C_out * L);
  } else {
    const int64_t nb = chunk_images(g.N, K * L * int64_t(sizeof(T)));
    Workspace cols(nb * K * L * int64_t(sizeof(T)));
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t cnt = std::min(nb, g.N - n0);
      launch_im2col(cols.as<T>(), x, g, n0, cnt, K, K * L, L);
      matmul_forward_cuda(dt, y + n0 * C_out * L, w, cols.as<T>(), nullptr, cnt, C_out, L, K,
                          Trans::N, Trans::N, 1.0, 0.0, 0, K * L, C_out * L);
    }
  }
  if (b) {
    add_channel_bias_kernel<T>
        <<<grid_for(total), kThreads, 0, current_stream()>>>(y, b, total, C_out, L);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
}

template <class T>
void conv2d_backward_impl(DType dt, T* dx, T* dw, T* db, const T* dy, const T* x, const T* w,
                          const Geom& g, int64_t C_out) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo, image = g.C * g.H * g.W;
  if (db) {
    if (g.N * L == 0) {
      zero(db, C_out);
    } else if (C_out > 0) {
      // Few channels make few blocks: wide ones, so that each channel's sum has many loads in
      // flight.
      const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(C_out, 65535LL * 32));
      channel_sum_kernel<T><<<blocks, 1024, 0, current_stream()>>>(db, dy, g.N, C_out, L);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
  }
  if (g.N == 0 || C_out == 0) {  // empty sums: zero gradients
    if (dw) zero(dw, C_out * K);
    if (dx) zero(dx, g.N * image);
    return;
  }
  if (!dw && !dx) return;
  const bool pointwise = is_pointwise(g);
  const int64_t cols_per_image = pointwise ? 0 : K * L;
  const int64_t part_per_image = dw ? C_out * K : 0;
  const int64_t nb = chunk_images(g.N, (cols_per_image + part_per_image) * int64_t(sizeof(T)));
  Workspace cols(nb * cols_per_image * int64_t(sizeof(T)));
  Workspace part(nb * part_per_image * int64_t(sizeof(T)));
  for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
    const int64_t cnt = std::min(nb, g.N - n0);
    const T* dyc = dy + n0 * C_out * L;
    if (dw && K > 0) {
      const T* cb = x + n0 * image;
      if (!pointwise) {
        launch_im2col(cols.as<T>(), x, g, n0, cnt, K, K * L, L);
        cb = cols.as<T>();
      }
      matmul_forward_cuda(dt, part.as<T>(), dyc, cb, nullptr, cnt, C_out, K, L, Trans::N, Trans::T,
                          1.0, 0.0, C_out * L, K * L, C_out * K);
      sum_images_kernel<T><<<grid_for(C_out * K), kThreads, 0, current_stream()>>>(
          dw, part.as<T>(), cnt, C_out * K, n0 > 0);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
    if (dx && K > 0) {
      // Runs after the dW GEMM on the same stream, so cols can be overwritten here.
      T* dc = pointwise ? dx + n0 * image : cols.as<T>();
      matmul_forward_cuda(dt, dc, w, dyc, nullptr, cnt, K, L, C_out, Trans::T, Trans::N, 1.0, 0.0,
                          0, C_out * L, K * L);
      if (!pointwise) launch_col2im(dx, cols.as<T>(), g, n0, cnt, K * L, L);
    }
  }
}

}  // namespace

void im2col_cuda(DType dt, void* cols, const void* x, const window::Geom& g, bool ones_row) {
  dispatch_float(dt, "im2col", [&](auto tag) {
    using T = decltype(tag);
    const int64_t R = g.C * g.kh * g.kw + (ones_row ? 1 : 0), L = g.Ho * g.Wo;
    launch_im2col(static_cast<T*>(cols), static_cast<const T*>(x), g, 0, g.N, R, R * L, L);
  });
}

void col2im_cuda(DType dt, void* x, const void* cols, const window::Geom& g) {
  dispatch_float(dt, "col2im", [&](auto tag) {
    using T = decltype(tag);
    const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
    launch_col2im(static_cast<T*>(x), static_cast<const T*>(cols), g, 0, g.N, K * L, L);
  });
}

void conv2d_forward_cuda(DType dt, void* y, const void* x, const void* w, const void* b,
                         const window::Geom& g, int64_t C_out) {
  dispatch_float(dt, "conv2d", [&](auto tag) {
    using T = decltype(tag);
    conv2d_forward_impl(dt, static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(w),
                        static_cast<const T*>(b), g, C_out);
  });
}

void conv2d_backward_cuda(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x,
                          const void* w, const window::Geom& g, int64_t C_out) {
  dispatch_float(dt, "conv2d_backward", [&](auto tag) {
    using T = decltype(tag);
    conv2d_backward_impl(dt, static_cast<T*>(dx), static_cast<T*>(dw), static_cast<T*>(db),
                         static_cast<const T*>(dy), static_cast<const T*>(x),
                         static_cast<const T*>(w), g, C_out);
  });
}

}  // namespace fastnn::cuda
