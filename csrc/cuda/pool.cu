// 2-D max and average pooling, CUDA (float32, float64): the twins of csrc/cpu/pool.cpp with the
// same layouts, rules and results. NCHW, contiguous. Per element the kernels run the bodies in
// window_ops.h (tested on the host against the CPU kernels).
//
// Forward: one thread per output. Backward, deterministic without atomics:
// - average pooling and the 2x2 window codes: one thread per input element gathers the outputs
//   whose window covers it (window_ops.h);
// - max pooling from int64 indices: the indices may point anywhere in their plane (the caller's
//   geometry is not passed), so there is no gather. One warp owns a plane: it zeroes it, then
//   takes the outputs 32 at a time; lanes whose indices are equal (__match_any_sync) hand their
//   values to the lowest such lane, which adds them to dx in output order. That is the CPU's
//   order (dx[idx[k]] += dy[k] for k ascending), so both devices give the same bits.
// Bad indices / codes are never written through; with `check` the first bad flat position is
// found (atomicMin of a position is order-independent) and read back, the one host sync.
#include <algorithm>

#include "cuda/common.cuh"
#include "cuda/window_launch.cuh"
#include "window_ops.h"

namespace fastnn::cuda {
namespace {

using window::Geom;

constexpr int kWarpsPerBlock = 4;
constexpr unsigned long long kNone = ~0ULL;

template <class T, class I>
__global__ void max_pool_forward_kernel(T* y, int64_t* idx, const T* x, window::GeomT<I> g) {
  const I out = g.Ho * g.Wo;
  FASTNN_WINDOW_LOOP(I, t, g.N * g.C * out) {
    const I ow = t % g.Wo, oh = (t / g.Wo) % g.Ho, p = t / out;
    int64_t at = 0;
    y[t] = window::max_pool_value(x + p * g.H * g.W, g, oh, ow, at);
    idx[t] = at;
  }
}

template <class T>
__global__ void max_pool_backward_kernel(T* dx, const T* dy, const int64_t* idx, int64_t planes,
                                         int64_t in, int64_t out, unsigned long long* first_bad) {
  __shared__ T vals[kWarpsPerBlock][32];
  const int lane = threadIdx.x & 31, wib = threadIdx.x >> 5;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  // p is the same for the 32 lanes of a warp, so every lane runs every loop below the same number
  // of times and the full-mask warp intrinsics are reached by all of them.
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + wib; p < planes;
       p += stride) {
    T* d = dx + p * in;
    const T* g = dy + p * out;
    const int64_t* ip = idx + p * out;
    for (int64_t i = lane; i < in; i += 32) d[i] = T(0);
    __syncwarp();
    for (int64_t k0 = 0; k0 < out; k0 += 32) {
      const int64_t k = k0 + lane;
      const bool live = k < out;
      const int64_t at = live ? ip[k] : -1;
      const bool ok = live && at >= 0 && at < in;
      if (live && !ok && first_bad)
        atomicMin(first_bad, static_cast<unsigned long long>(p * out + k));
      vals[wib][lane] = live ? g[k] : T(0);
      // A lane without a valid index gets a key of its own (negative: no index has it).
      const long long key = ok ? static_cast<long long>(at) : -1LL - lane;
      const unsigned same = __match_any_sync(0xffffffffu, static_cast<unsigned long long>(key));
      __syncwarp();  // vals written, and the previous group's dx writes visible
      if (ok && __ffs(same) - 1 == lane) {
        T acc = d[at];
        for (unsigned m = same; m != 0; m &= m - 1) acc += vals[wib][__ffs(m) - 1];
        d[at] = acc;
      }
      __syncwarp();  // before vals is reused and before another leader reads d[at]
    }
  }
}

template <class T, class I>
__global__ void max_pool_2x2_forward_kernel(T* y, uint8_t* code, const T* x, window::GeomT<I> g) {
  const I out = g.Ho * g.Wo;
  FASTNN_WINDOW_LOOP(I, t, g.N * g.C * out) {
    const I ow = t % g.Wo, oh = (t / g.Wo) % g.Ho, p = t / out;
    int k = 0;
    y[t] = window::max_pool_2x2_value(x + p * g.H * g.W, g.W, oh, ow, k);
    code[t] = static_cast<uint8_t>(k);
  }
}

template <class T, class I>
__global__ void max_pool_2x2_backward_kernel(T* dx, const T* dy, const uint8_t* code,
                                             window::GeomT<I> g, unsigned long long* first_bad) {
  const I in = g.H * g.W, out = g.Ho * g.Wo;
  FASTNN_WINDOW_LOOP(I, t, g.N * g.C * in) {
    const I w = t % g.W, h = (t / g.W) % g.H, p = t / in;
    bool bad = false;
    dx[t] = window::max_pool_2x2_grad(dy + p * out, code + p * out, g.Ho, g.Wo, h, w, bad);
    if (bad && first_bad)
      atomicMin(first_bad, static_cast<unsigned long long>(p * out + (h >> 1) * g.Wo + (w >> 1)));
  }
}

template <class T, class I>
__global__ void avg_pool_forward_kernel(T* y, const T* x, window::GeomT<I> g, bool include_pad,
                                        I divisor) {
  const I out = g.Ho * g.Wo;
  FASTNN_WINDOW_LOOP(I, t, g.N * g.C * out) {
    const I ow = t % g.Wo, oh = (t / g.Wo) % g.Ho, p = t / out;
    y[t] = window::avg_pool_value(x + p * g.H * g.W, g, oh, ow, include_pad, divisor);
  }
}

template <class T, class I>
__global__ void avg_pool_backward_kernel(T* dx, const T* dy, window::GeomT<I> g, bool include_pad,
                                         I divisor) {
  const I in = g.H * g.W;
  FASTNN_WINDOW_LOOP(I, t, g.N * g.C * in) {
    const I w = t % g.W, h = (t / g.W) % g.H, p = t / in;
    dx[t] = window::avg_pool_grad(dy + p * g.Ho * g.Wo, g, h, w, include_pad, divisor);
  }
}

// A device word for the first bad position, set to kNone; null when not checking.
class BadFlag {
 public:
  explicit BadFlag(bool check) : ws_(check ? int64_t(sizeof(unsigned long long)) : 0) {
    if (check)
      FASTNN_CUDA_CHECK(
          cudaMemsetAsync(ws_.as<void>(), 0xff, sizeof(unsigned long long), current_stream()));
  }
  unsigned long long* ptr() const { return ws_.as<unsigned long long>(); }
  // -1, or the first bad flat position; waits for the kernel (the one host sync).
  int64_t read() const {
    if (!ptr()) return -1;
    unsigned long long host = kNone;
    FASTNN_CUDA_CHECK(
        cudaMemcpyAsync(&host, ptr(), sizeof host, cudaMemcpyDeviceToHost, current_stream()));
    FASTNN_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
    return host == kNone ? -1 : static_cast<int64_t>(host);
  }

 private:
  Workspace ws_;
};

}  // namespace

void max_pool2d_forward_cuda(DType dt, void* y, int64_t* idx, const void* x,
                             const window::Geom& g) {
  const int64_t n = g.N * g.C * g.Ho * g.Wo;
  if (n == 0) return;
  dispatch_float(dt, "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    with_index_type(g, n, [&](auto itag) {
      using I = decltype(itag);
      max_pool_forward_kernel<T, I><<<grid_for(n), kThreads, 0, current_stream()>>>(
          static_cast<T*>(y), idx, static_cast<const T*>(x), window::narrow<I>(g));
    });
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

int64_t max_pool2d_backward_cuda(DType dt, void* dx, const void* dy, const int64_t* idx,
                                 const window::Geom& g, bool check) {
  const int64_t planes = g.N * g.C, in = g.H * g.W, out = g.Ho * g.Wo;
  if (planes == 0) return -1;
  if (in == 0) return check && out > 0 ? 0 : -1;  // every index is outside an empty plane
  BadFlag flag(check);
  dispatch_float(dt, "max_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t blocks = std::min<int64_t>(ceil_div(planes, kWarpsPerBlock), 65535LL * 32);
    max_pool_backward_kernel<T>
        <<<static_cast<unsigned>(blocks), kWarpsPerBlock * 32, 0, current_stream()>>>(
            static_cast<T*>(dx), static_cast<const T*>(dy), idx, planes, in, out, flag.ptr());
    FASTNN_CUDA_CHECK_LAUNCH();
  });
  return flag.read();
}

void max_pool2d_2x2_code_forward_cuda(DType dt, void* y, uint8_t* code, const void* x,
                                      const window::Geom& g) {
  const int64_t n = g.N * g.C * g.Ho * g.Wo;
  if (n == 0) return;
  dispatch_float(dt, "max_pool2d_2x2", [&](auto tag) {
    using T = decltype(tag);
    with_index_type(g, n, [&](auto itag) {
      using I = decltype(itag);
      max_pool_2x2_forward_kernel<T, I><<<grid_for(n), kThreads, 0, current_stream()>>>(
          static_cast<T*>(y), code, static_cast<const T*>(x), window::narrow<I>(g));
    });
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

int64_t max_pool2d_2x2_code_backward_cuda(DType dt, void* dx, const void* dy, const uint8_t* code,
                                          const window::Geom& g, bool check) {
  const int64_t n = g.N * g.C * g.H * g.W;
  if (n == 0) return -1;
  BadFlag flag(check);
  dispatch_float(dt, "max_pool2d_2x2_backward", [&](auto tag) {
    using T = decltype(tag);
    with_index_type(g, n, [&](auto itag) {
      using I = decltype(itag);
      max_pool_2x2_backward_kernel<T, I><<<grid_for(n), kThreads, 0, current_stream()>>>(
          static_cast<T*>(dx), static_cast<const T*>(dy), code, window::narrow<I>(g), flag.ptr());
    });
    FASTNN_CUDA_CHECK_LAUNCH();
  });
  return flag.read();
}

void avg_pool2d_forward_cuda(DType dt, void* y, const void* x, const window::Geom& g,
                             bool count_include_pad, int64_t divisor) {
  const int64_t n = g.N * g.C * g.Ho * g.Wo;
  if (n == 0) return;
  dispatch_float(dt, "avg_pool2d", [&](auto tag) {
    using T = decltype(tag);
    with_index_type(g, n, [&](auto itag) {
      using I = decltype(itag);
      avg_pool_forward_kernel<T, I><<<grid_for(n), kThreads, 0, current_stream()>>>(
          static_cast<T*>(y), static_cast<const T*>(x), window::narrow<I>(g), count_include_pad,
          I(divisor));
    });
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

void avg_pool2d_backward_cuda(DType dt, void* dx, const void* dy, const window::Geom& g,
                              bool count_include_pad, int64_t divisor) {
  const int64_t n = g.N * g.C * g.H * g.W;
  if (n == 0) return;
  dispatch_float(dt, "avg_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    with_index_type(g, n, [&](auto itag) {
      using I = decltype(itag);
      avg_pool_backward_kernel<T, I><<<grid_for(n), kThreads, 0, current_stream()>>>(
          static_cast<T*>(dx), static_cast<const T*>(dy), window::narrow<I>(g), count_include_pad,
          I(divisor));
    });
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace fastnn::cuda
