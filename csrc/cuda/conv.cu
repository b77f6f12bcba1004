// im2col / col2im and conv2d (groups = 1) forward and backward, CUDA (float32, float64). NCHW,
// contiguous; the twins of csrc/cpu/conv.cpp with the same layouts. Per element the kernels run
// the bodies in window_ops.h; the conv2d drivers (the chunking and the GEMM shapes) are
// conv_driver.h, run here by an executor that launches the kernels and the GPU GEMM. Both headers
// are also compiled on the host by the tests and checked against the CPU kernels.
//
// Every sum runs in a fixed order (no atomics): db is a fixed tree per channel, dW adds the
// per-image partial products in image order, col2im is a gather. So the gradients are the same
// on every run.
#include <algorithm>
#include <cstdlib>
#include <memory>

#include "conv_driver.h"
#include "cuda/common.cuh"
#include "cuda/window_launch.cuh"
#include "window_ops.h"

namespace fastnn::cuda {
namespace {

using window::Geom;

// Workspace per chunk; a single image that needs more gets it (nb = 1). The environment variable
// FASTNN_CONV_WORKSPACE_BYTES lowers it, so that the tests can run the multi-chunk path on small
// inputs; it is read per call (no state kept).
constexpr int64_t kWorkspaceBytes = int64_t(256) << 20;

int64_t conv_workspace_bytes() {
  const char* env = std::getenv("FASTNN_CONV_WORKSPACE_BYTES");
  if (env == nullptr || *env == '\0') return kWorkspaceBytes;
  char* end = nullptr;
  const long long v = std::strtoll(env, &end, 10);
  return (*end == '\0' && v > 0 && v < kWorkspaceBytes) ? v : kWorkspaceBytes;
}

// cols entry (n, r, l) of images [n0, n0 + nb) at n*sn + r*sr + l (n counted from n0).
template <class T, class I>
__global__ void im2col_kernel(T* cols, const T* x, window::GeomT<I> g, I n0, I nb, I R, I sn,
                              I sr) {
  const I L = g.Ho * g.Wo;
  FASTNN_WINDOW_LOOP(I, t, nb * R * L) {
    const I l = t % L, r = (t / L) % R, n = t / (L * R);
    cols[n * sn + r * sr + l] = window::im2col_value(x, g, n0 + n, r, l);
  }
}

// x of images [n0, n0 + nb) from their cols (entry (n, r, l) at n*sn + r*sr + l, n from n0).
template <class T, class I>
__global__ void col2im_kernel(T* x, const T* cols, window::GeomT<I> g, I n0, I nb, I sn, I sr) {
  const I plane = g.H * g.W, image = g.C * plane;
  FASTNN_WINDOW_LOOP(I, t, nb * image) {
    const I w = t % g.W, h = (t / g.W) % g.H, c = (t / plane) % g.C, n = t / image;
    x[n0 * image + t] = window::col2im_value(cols, sn, sr, g, n, c, h, w);
  }
}

template <class T>
void launch_im2col(T* cols, const T* x, const Geom& g, int64_t n0, int64_t nb, int64_t R,
                   int64_t sn, int64_t sr) {
  const int64_t total = nb * R * g.Ho * g.Wo;
  if (total == 0) return;
  with_index_type(g, std::max(total, nb * sn), [&](auto tag) {
    using I = decltype(tag);
    im2col_kernel<T, I><<<grid_for(total), kThreads, 0, current_stream()>>>(
        cols, x, window::narrow<I>(g), I(n0), I(nb), I(R), I(sn), I(sr));
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class T>
void launch_col2im(T* x, const T* cols, const Geom& g, int64_t n0, int64_t nb, int64_t sn,
                   int64_t sr) {
  const int64_t total = nb * g.C * g.H * g.W;
  if (total == 0) return;
  with_index_type(g, std::max((n0 + nb) * g.C * g.H * g.W, nb * sn), [&](auto tag) {
    using I = decltype(tag);
    col2im_kernel<T, I><<<grid_for(total), kThreads, 0, current_stream()>>>(
        x, cols, window::narrow<I>(g), I(n0), I(nb), I(sn), I(sr));
  });
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

// conv_driver.h's executor: kernel launches and the GPU GEMM on the current stream, scratch from
// the caching allocator (freed when the executor goes, after the launches: [note: stream]).
template <class T>
class Launcher {
 public:
  explicit Launcher(DType dt) : dt_(dt) {}
  int64_t workspace_bytes() const { return conv_workspace_bytes(); }
  T* workspace(int slot, int64_t elems) {
    ws_[slot] = std::make_unique<Workspace>(elems * int64_t(sizeof(T)));
    return ws_[slot]->template as<T>();
  }
  void im2col(T* cols, const T* x, const Geom& g, int64_t n0, int64_t nb, int64_t R, int64_t sn,
              int64_t sr) {
    launch_im2col(cols, x, g, n0, nb, R, sn, sr);
  }
  void col2im(T* x, const T* cols, const Geom& g, int64_t n0, int64_t nb, int64_t sn, int64_t sr) {
    launch_col2im(x, cols, g, n0, nb, sn, sr);
  }
  void gemm(T* c, const T* a, const T* b, int64_t batch, int64_t M, int64_t N, int64_t K, bool ta,
            bool tb, int64_t sa, int64_t sb, int64_t sc) {
    matmul_forward_cuda(dt_, c, a, b, nullptr, batch, M, N, K, ta ? Trans::T : Trans::N,
                        tb ? Trans::T : Trans::N, 1.0, 0.0, sa, sb, sc);
  }
  void add_channel_bias(T* y, const T* b, int64_t total, int64_t C_out, int64_t L) {
    add_channel_bias_kernel<T>
        <<<grid_for(total), kThreads, 0, current_stream()>>>(y, b, total, C_out, L);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  void channel_sum(T* db, const T* dy, int64_t N, int64_t C_out, int64_t L) {
    // Few channels make few blocks: wide ones, so that each channel's sum has many loads in
    // flight.
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(C_out, 65535LL * 32));
    channel_sum_kernel<T><<<blocks, 1024, 0, current_stream()>>>(db, dy, N, C_out, L);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  void sum_images(T* dw, const T* part, int64_t nb, int64_t CK, bool accumulate) {
    sum_images_kernel<T>
        <<<grid_for(CK), kThreads, 0, current_stream()>>>(dw, part, nb, CK, accumulate);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  void zero(T* p, int64_t n) {
    if (n > 0) FASTNN_CUDA_CHECK(cudaMemsetAsync(p, 0, n * sizeof(T), current_stream()));
  }

 private:
  DType dt_;
  std::unique_ptr<Workspace> ws_[2];
};

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
    Launcher<T> e(dt);
    conv_driver::forward(e, static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(w),
                         static_cast<const T*>(b), g, C_out);
  });
}

void conv2d_backward_cuda(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x,
                          const void* w, const window::Geom& g, int64_t C_out) {
  dispatch_float(dt, "conv2d_backward", [&](auto tag) {
    using T = decltype(tag);
    Launcher<T> e(dt);
    conv_driver::backward(e, static_cast<T*>(dx), static_cast<T*>(dw), static_cast<T*>(db),
                          static_cast<const T*>(dy), static_cast<const T*>(x),
                          static_cast<const T*>(w), g, C_out);
  });
}

}  // namespace fastnn::cuda
