// batch_norm on the GPU, the twin of csrc/cpu/batch_norm.cpp: x (N, C, S) normalised per channel,
// the same semantics and the same scalar formulas (csrc/norm_math.h). Launches:
//   forward:  (1) a block per channel: two passes over the channel (mean, then squared deviations
//             from it, both summed in double), the saved mean / rstd and, in training, the running
//             buffers moved in double; in eval the running buffers give mean / rstd;
//             (2) one element-wise pass: y = (x - mean) w rstd + b.
//   backward: (1) a block per channel: sum dy and sum dy (x - mean) in double -> dweight, dbias
//             and the channel's dx coefficients; (2) one element-wise pass for dx.
// Sums are reduced in a fixed order (block_sum), so results are reproducible run to run.
#include "cuda/common.cuh"
#include "norm_math.h"

namespace fastnn::cuda {
namespace {

// Element i of channel c's N * S elements.
__device__ __forceinline__ int64_t bn_index(int64_t i, int64_t C, int64_t S, int64_t c) {
  return ((i / S) * C + c) * S + i % S;
}

template <class T>
__global__ void bn_stats_kernel(double* save_mean, double* save_rstd, T* running_mean,
                                T* running_var, const T* x, int64_t N, int64_t C, int64_t S,
                                double eps, double momentum, bool training) {
  __shared__ double shared[32];
  const int64_t M = N * S;
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    double mean, rstd;
    if (training) {
      double s = 0;
      for (int64_t i = threadIdx.x; i < M; i += blockDim.x)
        s += static_cast<double>(x[bn_index(i, C, S, c)]);
      norm::Moments m;
      m.n = static_cast<double>(M);
      m.mean = M > 0 ? block_sum(s, shared) / m.n : 0.0;
      double q = 0;
      for (int64_t i = threadIdx.x; i < M; i += blockDim.x) {
        const double d = static_cast<double>(x[bn_index(i, C, S, c)]) - m.mean;
        q += d * d;
      }
      m.m2 = block_sum(q, shared);
      mean = m.mean;
      rstd = norm::rstd_of(m, eps);
      if (threadIdx.x == 0 && running_mean && M > 0) {
        running_mean[c] = static_cast<T>(norm::ema(running_mean[c], m.mean, momentum));
        running_var[c] = static_cast<T>(norm::ema(running_var[c], norm::unbiased_var(m), momentum));
      }
    } else {
      mean = static_cast<double>(running_mean[c]);
      rstd = 1.0 / sqrt(static_cast<double>(running_var[c]) + eps);
    }
    if (threadIdx.x == 0) {
      save_mean[c] = mean;
      save_rstd[c] = rstd;
    }
  }
}

template <class T>
__global__ void bn_apply_kernel(T* y, const T* x, const T* w, const T* b, const double* mean,
                                const double* rstd, int64_t n, int64_t C, int64_t S) {
  FASTNN_KERNEL_LOOP(i, n) {
    const int64_t c = (i / S) % C;
    const T k = static_cast<T>((w ? static_cast<double>(w[c]) : 1.0) * rstd[c]);
    y[i] = norm::affine_one(norm::Centre<T>(mean[c])(x[i]), k, T(1), b ? b[c] : T(0));
  }
}

// coef: per channel k_g, m_g, k_x of norm::dx_one.
template <class T>
__global__ void bn_grad_kernel(T* dw, T* db, double* coef, const T* dy, const T* x, const T* w,
                               const double* mean, const double* rstd, int64_t N, int64_t C,
                               int64_t S, bool training) {
  __shared__ double shared[32];
  const int64_t M = N * S;
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    double s_dy = 0, s_dyx = 0;
    for (int64_t i = threadIdx.x; i < M; i += blockDim.x) {
      const int64_t k = bn_index(i, C, S, c);
      const double g = static_cast<double>(dy[k]);
      s_dy += g;
      s_dyx += g * (static_cast<double>(x[k]) - mean[c]);
    }
    s_dy = block_sum(s_dy, shared);
    s_dyx = block_sum(s_dyx, shared);
    if (threadIdx.x == 0) {
      const double r = rstd[c], wr = (w ? static_cast<double>(w[c]) : 1.0) * r;
      const bool batch = training && M > 0;
      if (dw) dw[c] = static_cast<T>(s_dyx * r);
      if (db) db[c] = static_cast<T>(s_dy);
      coef[3 * c] = wr;
      coef[3 * c + 1] = batch ? s_dy / static_cast<double>(M) : 0.0;
      coef[3 * c + 2] = batch ? -wr * r * r * s_dyx / static_cast<double>(M) : 0.0;
    }
  }
}

template <class T>
__global__ void bn_dx_kernel(T* dx, const T* dy, const T* x, const double* mean, const double* coef,
                             int64_t n, int64_t C, int64_t S) {
  FASTNN_KERNEL_LOOP(i, n) {
    const int64_t c = (i / S) % C;
    dx[i] = norm::dx_one(dy[i], norm::Centre<T>(mean[c])(x[i]), static_cast<T>(coef[3 * c]),
                         static_cast<T>(coef[3 * c + 1]), static_cast<T>(coef[3 * c + 2]));
  }
}

unsigned channel_grid(int64_t C) {
  return static_cast<unsigned>(C < 65535 ? (C < 1 ? 1 : C) : 65535);
}

}  // namespace

void batch_norm_forward_cuda(DType dt, void* y, double* save_mean, double* save_rstd,
                             void* running_mean, void* running_var, const void* x, const void* w,
                             const void* b, int64_t N, int64_t C, int64_t S, double eps,
                             double momentum, bool training) {
  dispatch_float(dt, "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    if (C == 0) return;
    bn_stats_kernel<T><<<channel_grid(C), kThreads, 0, current_stream()>>>(
        save_mean, save_rstd, static_cast<T*>(running_mean), static_cast<T*>(running_var),
        static_cast<const T*>(x), N, C, S, eps, momentum, training);
    FASTNN_CUDA_CHECK_LAUNCH();
    const int64_t n = N * C * S;
    if (n == 0) return;
    bn_apply_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(w),
        static_cast<const T*>(b), save_mean, save_rstd, n, C, S);
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

void batch_norm_backward_cuda(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x,
                              const void* w, const double* save_mean, const double* save_rstd,
                              int64_t N, int64_t C, int64_t S, bool training) {
  dispatch_float(dt, "batch_norm_backward", [&](auto tag) {
    using T = decltype(tag);
    if (C == 0) return;
    Workspace coef(3 * C * static_cast<int64_t>(sizeof(double)));
    bn_grad_kernel<T><<<channel_grid(C), kThreads, 0, current_stream()>>>(
        static_cast<T*>(dw), static_cast<T*>(db), coef.as<double>(), static_cast<const T*>(dy),
        static_cast<const T*>(x), static_cast<const T*>(w), save_mean, save_rstd, N, C, S,
        training);
    FASTNN_CUDA_CHECK_LAUNCH();
    const int64_t n = N * C * S;
    if (!dx || n == 0) return;
    bn_dx_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<T*>(dx), static_cast<const T*>(dy), static_cast<const T*>(x), save_mean,
        coef.as<double>(), n, C, S);
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace fastnn::cuda
