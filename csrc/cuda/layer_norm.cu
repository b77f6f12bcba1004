// layer_norm and group_norm on the GPU, the twins of csrc/cpu/layer_norm.cpp, sharing its row
// shape: R rows of D contiguous elements (layer_norm: the trailing normalized_shape; group_norm:
// one group of one sample, D = Cg * S with Cg = C / G), the affine parameter of element j of row r
// being index (r % G) * Cg + j / S (layer_norm: G = 1, Cg = D, S = 1, so index j). Same semantics
// and scalar formulas as the CPU (csrc/norm_math.h). Launches:
//   forward:  a block per row: mean, then squared deviations from it (in double), saved mean /
//             rstd, and the row normalised, in one kernel;
//   backward: a block per row: sums of g = dy w and g (x - mean) in double, then dx;
//             dweight / dbias: a thread per parameter summing its elements over the rows in
//             double, in order (reproducible).
#include "cuda/common.cuh"
#include "norm_math.h"

namespace fastnn::cuda {
namespace {

struct RowShape {
  int64_t R, D, G, Cg, S;  // rows, row length, groups, parameters per group, run per parameter
  __device__ __forceinline__ int64_t param(int64_t r, int64_t j) const {
    return (r % G) * Cg + j / S;
  }
};

template <class T>
__global__ void row_forward_kernel(T* y, double* mean, double* rstd, const T* x, const T* w,
                                   const T* b, RowShape sh, double eps) {
  __shared__ double shared[32];
  for (int64_t r = blockIdx.x; r < sh.R; r += gridDim.x) {
    const T* xr = x + r * sh.D;
    double s = 0;
    for (int64_t j = threadIdx.x; j < sh.D; j += blockDim.x) s += static_cast<double>(xr[j]);
    norm::Moments m;
    m.n = static_cast<double>(sh.D);
    m.mean = sh.D > 0 ? block_sum(s, shared) / m.n : 0.0;
    double q = 0;
    for (int64_t j = threadIdx.x; j < sh.D; j += blockDim.x) {
      const double d = static_cast<double>(xr[j]) - m.mean;
      q += d * d;
    }
    m.m2 = block_sum(q, shared);
    const double rs = norm::rstd_of(m, eps);
    if (threadIdx.x == 0) {
      mean[r] = m.mean;
      rstd[r] = rs;
    }
    const norm::Centre<T> centre(m.mean);
    const T k = static_cast<T>(rs);
    for (int64_t j = threadIdx.x; j < sh.D; j += blockDim.x) {
      const int64_t p = sh.param(r, j);
      y[r * sh.D + j] = norm::affine_one(centre(xr[j]), k, w ? w[p] : T(1), b ? b[p] : T(0));
    }
  }
}

template <class T>
__global__ void row_backward_kernel(T* dx, const T* dy, const T* x, const T* w, const double* mean,
                                    const double* rstd, RowShape sh) {
  __shared__ double shared[32];
  for (int64_t r = blockIdx.x; r < sh.R; r += gridDim.x) {
    const T *dyr = dy + r * sh.D, *xr = x + r * sh.D;
    const double m = mean[r], rs = rstd[r];
    double s_g = 0, s_gx = 0;
    for (int64_t j = threadIdx.x; j < sh.D; j += blockDim.x) {
      const double g =
          static_cast<double>(dyr[j]) * (w ? static_cast<double>(w[sh.param(r, j)]) : 1.0);
      s_g += g;
      s_gx += g * (static_cast<double>(xr[j]) - m);
    }
    s_g = block_sum(s_g, shared);
    s_gx = block_sum(s_gx, shared);
    const double Dd = static_cast<double>(sh.D);
    const T k_g = static_cast<T>(rs), m_g = static_cast<T>(s_g / Dd);
    const T k_x = static_cast<T>(-rs * rs * rs * s_gx / Dd);
    const norm::Centre<T> centre(m);
    for (int64_t j = threadIdx.x; j < sh.D; j += blockDim.x) {
      const T g = dyr[j] * (w ? w[sh.param(r, j)] : T(1));
      dx[r * sh.D + j] = norm::dx_one(g, centre(xr[j]), k_g, m_g, k_x);
    }
  }
}

// Parameter p (of G * Cg) collects elements j = (p % Cg) * S + s of rows g + n G, g = p / Cg,
// over every n and s (none when S = 0: the sums are 0).
template <class T>
__global__ void param_grad_kernel(T* dw, T* db, const T* dy, const T* x, const double* mean,
                                  const double* rstd, RowShape sh) {
  FASTNN_KERNEL_LOOP(p, sh.G * sh.Cg) {
    const int64_t g = p / sh.Cg, j0 = (p % sh.Cg) * sh.S;
    double sw = 0, sb = 0;
    for (int64_t r = g; r < sh.R; r += sh.G)
      for (int64_t j = j0; j < j0 + sh.S; ++j) {
        const double d = static_cast<double>(dy[r * sh.D + j]);
        sb += d;
        sw += d * ((static_cast<double>(x[r * sh.D + j]) - mean[r]) * rstd[r]);
      }
    if (dw) dw[p] = static_cast<T>(sw);
    if (db) db[p] = static_cast<T>(sb);
  }
}

unsigned row_grid(int64_t R) { return grid_rows(R); }

void forward(DType dt, const char* fn, void* y, double* mean, double* rstd, const void* x,
             const void* w, const void* b, RowShape sh, double eps) {
  dispatch_float(dt, fn, [&](auto tag) {
    using T = decltype(tag);
    if (sh.R == 0) return;
    row_forward_kernel<T><<<row_grid(sh.R), kThreads, 0, current_stream()>>>(
        static_cast<T*>(y), mean, rstd, static_cast<const T*>(x), static_cast<const T*>(w),
        static_cast<const T*>(b), sh, eps);
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

void backward(DType dt, const char* fn, void* dx, void* dw, void* db, const void* dy, const void* x,
              const void* w, const double* mean, const double* rstd, RowShape sh) {
  dispatch_float(dt, fn, [&](auto tag) {
    using T = decltype(tag);
    if (dx && sh.R > 0) {
      row_backward_kernel<T><<<row_grid(sh.R), kThreads, 0, current_stream()>>>(
          static_cast<T*>(dx), static_cast<const T*>(dy), static_cast<const T*>(x),
          static_cast<const T*>(w), mean, rstd, sh);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
    const int64_t P = sh.G * sh.Cg;
    if ((dw || db) && P > 0) {
      param_grad_kernel<T><<<grid_for(P), kThreads, 0, current_stream()>>>(
          static_cast<T*>(dw), static_cast<T*>(db), static_cast<const T*>(dy),
          static_cast<const T*>(x), mean, rstd, sh);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
  });
}

}  // namespace

void layer_norm_forward_cuda(DType dt, void* y, double* mean, double* rstd, const void* x,
                             const void* w, const void* b, int64_t R, int64_t D, double eps) {
  forward(dt, "layer_norm", y, mean, rstd, x, w, b, RowShape{R, D, 1, D, 1}, eps);
}

void layer_norm_backward_cuda(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x,
                              const void* w, const double* mean, const double* rstd, int64_t R,
                              int64_t D) {
  backward(dt, "layer_norm_backward", dx, dw, db, dy, x, w, mean, rstd, RowShape{R, D, 1, D, 1});
}

void group_norm_forward_cuda(DType dt, void* y, double* mean, double* rstd, const void* x,
                             const void* w, const void* b, int64_t N, int64_t C, int64_t S,
                             int64_t G, double eps) {
  forward(dt, "group_norm", y, mean, rstd, x, w, b, RowShape{N * G, C / G * S, G, C / G, S}, eps);
}

void group_norm_backward_cuda(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x,
                              const void* w, const double* mean, const double* rstd, int64_t N,
                              int64_t C, int64_t S, int64_t G) {
  backward(dt, "group_norm_backward", dx, dw, db, dy, x, w, mean, rstd,
           RowShape{N * G, C / G * S, G, C / G, S});
}

}  // namespace fastnn::cuda
