// softmax / log_softmax over the last dimension on the GPU, forward and backward, (rows, cols)
// row-major; the same formulas as the CPU kernels (csrc/cpu/activations.cpp):
//   softmax y = exp(x - m) * (1 / s), log_softmax y = (x - m) - log(s), m = row max,
//   s = sum exp(x - m); backward from the output y: softmax dx = y (dy - sum(dy y)),
//   log_softmax dx = dy - exp(y) sum(dy).
// Rows of up to 1024 values sit in registers (a group of g <= 32 lanes per row, several rows per
// warp when a row is narrower than 32): one read and one write of the row. Wider rows take a
// block each and find m and s in one online pass ([note: softmax specials] in row_softmax.cuh
// for -inf / +inf / NaN), then write; the second read of a row usually hits L2. A few very wide
// rows are cut into chunks over several blocks ([note: split rows]).
#include "cuda/row_softmax.cuh"

namespace fastnn::cuda {
namespace {
namespace fm = fastnn::math;

constexpr int kNarrowThreads = 128;  // 4 warps: small blocks keep the tail of the grid short
constexpr int kSplitThreads = 256;

// Row r of this lane's group and the lane's index within the group; the loop over rows is
// uniform across the warp (the group reductions need all 32 lanes).
#define FASTNN_NARROW_ROWS_LOOP(base, r, gl, rows, g)                                              \
  const int gl = static_cast<int>(threadIdx.x & 31) & ((g) - 1);                                   \
  const int64_t fastnn_rpw_ = 32 / (g);                                                            \
  const int64_t fastnn_warp_ = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5; \
  const int64_t fastnn_nwarps_ = (static_cast<int64_t>(gridDim.x) * blockDim.x) >> 5;              \
  for (int64_t base = fastnn_warp_ * fastnn_rpw_, r = base + ((threadIdx.x & 31) / (g));           \
       base < (rows); base += fastnn_nwarps_ * fastnn_rpw_, r += fastnn_nwarps_ * fastnn_rpw_)

template <class T, int VPT, bool Log>
__global__ void softmax_fwd_narrow(T* y, const T* x, int64_t rows, int cols, int g) {
  FASTNN_NARROW_ROWS_LOOP(base, r, gl, rows, g) {
    const bool valid = r < rows;
    const T* xr = x + (valid ? r : 0) * cols;
    T v[VPT];
    T m = T(-INFINITY);
#pragma unroll
    for (int k = 0; k < VPT; ++k) {
      const int j = gl + k * g;
      v[k] = valid && j < cols ? xr[j] : T(-INFINITY);
      m = v[k] > m ? v[k] : m;  // skips NaN, like the CPU's running max
    }
    m = group_max(m, g);
    T s = T(0);
#pragma unroll
    for (int k = 0; k < VPT; ++k) {
      if (gl + k * g < cols) {
        if constexpr (Log) {
          v[k] -= m;
          s += fm::m_exp(v[k]);
        } else {
          v[k] = fm::m_exp(v[k] - m);
          s += v[k];
        }
      }
    }
    s = group_sum(s, g);
    if (valid) {
      const T f = Log ? fm::m_log(s) : T(1) / s;
      T* yr = y + r * cols;
#pragma unroll
      for (int k = 0; k < VPT; ++k) {
        const int j = gl + k * g;
        if (j < cols) yr[j] = Log ? v[k] - f : v[k] * f;
      }
    }
  }
}

template <class T, int VPT, bool Log>
__global__ void softmax_bwd_narrow(T* dx, const T* dy, const T* y, int64_t rows, int cols, int g) {
  FASTNN_NARROW_ROWS_LOOP(base, r, gl, rows, g) {
    const bool valid = r < rows;
    const int64_t off = (valid ? r : 0) * cols;
    T gv[VPT], yv[VPT];
    T s = T(0);
#pragma unroll
    for (int k = 0; k < VPT; ++k) {
      const int j = gl + k * g;
      const bool in = valid && j < cols;
      gv[k] = in ? dy[off + j] : T(0);
      yv[k] = in ? y[off + j] : T(0);
      if (in) s += Log ? gv[k] : gv[k] * yv[k];
    }
    s = group_sum(s, g);
    if (valid) {
#pragma unroll
      for (int k = 0; k < VPT; ++k) {
        const int j = gl + k * g;
        if (j < cols) dx[off + j] = Log ? gv[k] - fm::m_exp(yv[k]) * s : yv[k] * (gv[k] - s);
      }
    }
  }
}

// One block per row (grid-stride over rows): one online pass for m and s, then the output pass.
template <class T, bool Log>
__global__ void __launch_bounds__(1024, 1)
    softmax_fwd_wide(T* y, const T* x, int64_t rows, int64_t cols) {
  __shared__ OnlineStat<T> shared[32];
  const int64_t step = blockDim.x;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * cols;
    OnlineStat<T> st = online_init<T>();
    int64_t j = threadIdx.x;
    for (; j + 3 * step < cols; j += 4 * step) {  // four loads in flight per thread
      const T a0 = xr[j], a1 = xr[j + step], a2 = xr[j + 2 * step], a3 = xr[j + 3 * step];
      online_add<T, false>(st, a0, T(0));
      online_add<T, false>(st, a1, T(0));
      online_add<T, false>(st, a2, T(0));
      online_add<T, false>(st, a3, T(0));
    }
    for (; j < cols; j += step) online_add<T, false>(st, xr[j], T(0));
    st = block_merge_final<T, false>(st, shared);
    const T m = st.m, f = Log ? fm::m_log(st.s) : T(1) / st.s;
    T* yr = y + r * cols;
    for (j = threadIdx.x; j < cols; j += step)
      yr[j] = Log ? (xr[j] - m) - f : fm::m_exp(xr[j] - m) * f;
  }
}

template <class T, bool Log>
__global__ void __launch_bounds__(1024, 1)
    softmax_bwd_wide(T* dx, const T* dy, const T* y, int64_t rows, int64_t cols) {
  __shared__ T shared[32];
  const int64_t step = blockDim.x;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t off = r * cols;
    T s = T(0);
    for (int64_t j = threadIdx.x; j < cols; j += step)
      s += Log ? dy[off + j] : dy[off + j] * y[off + j];
    s = block_sum(s, shared);
    for (int64_t j = threadIdx.x; j < cols; j += step)
      dx[off + j] = Log ? dy[off + j] - fm::m_exp(y[off + j]) * s : y[off + j] * (dy[off + j] - s);
  }
}

// [note: split rows] Too few rows of many values would leave most SMs idle with a block per row:
// each row is cut into `parts` chunks and a block takes one (chunk, row) -- grid (parts, rows),
// rows < 65536 by the plan. Pass 1 stores each chunk's partial statistics; pass 2 merges the row's
// partials in chunk order (the same result in every block of the row) and writes its chunk.
template <class T>
__global__ void __launch_bounds__(kSplitThreads, 1)
    softmax_split_stats(OnlineStat<T>* part, const T* x, int64_t cols, int64_t chunk) {
  __shared__ OnlineStat<T> shared[32];
  const int64_t r = blockIdx.y, c0 = blockIdx.x * chunk;
  const int64_t c1 = c0 + chunk < cols ? c0 + chunk : cols;
  const T* xr = x + r * cols;
  OnlineStat<T> st = online_init<T>();
  for (int64_t j = c0 + threadIdx.x; j < c1; j += blockDim.x) online_add<T, false>(st, xr[j], T(0));
  st = block_merge<T, false>(st, shared);  // a chunk of -inf is not a NaN row: no finish_row
  if (threadIdx.x == 0) part[r * gridDim.x + blockIdx.x] = st;
}

template <class T, bool Log>
__global__ void __launch_bounds__(kSplitThreads, 1)
    softmax_split_write(T* y, const OnlineStat<T>* part, const T* x, int64_t cols, int64_t chunk) {
  __shared__ OnlineStat<T> row;
  const int64_t r = blockIdx.y, c0 = blockIdx.x * chunk;
  const int64_t c1 = c0 + chunk < cols ? c0 + chunk : cols;
  if (threadIdx.x == 0) {
    const OnlineStat<T>* pr = part + r * gridDim.x;
    OnlineStat<T> st = pr[0];
    for (unsigned p = 1; p < gridDim.x; ++p) st = online_merge<T, false>(st, pr[p]);
    row = finish_row(st);
  }
  __syncthreads();
  const T m = row.m, f = Log ? fm::m_log(row.s) : T(1) / row.s;
  const T* xr = x + r * cols;
  T* yr = y + r * cols;
  for (int64_t j = c0 + threadIdx.x; j < c1; j += blockDim.x)
    yr[j] = Log ? (xr[j] - m) - f : fm::m_exp(xr[j] - m) * f;
}

template <class T, bool Log>
__global__ void __launch_bounds__(kSplitThreads, 1)
    softmax_bwd_split_sums(T* part, const T* dy, const T* y, int64_t cols, int64_t chunk) {
  __shared__ T shared[32];
  const int64_t r = blockIdx.y, c0 = blockIdx.x * chunk, off = r * cols;
  const int64_t c1 = c0 + chunk < cols ? c0 + chunk : cols;
  T s = T(0);
  for (int64_t j = c0 + threadIdx.x; j < c1; j += blockDim.x)
    s += Log ? dy[off + j] : dy[off + j] * y[off + j];
  s = block_sum(s, shared);
  if (threadIdx.x == 0) part[r * gridDim.x + blockIdx.x] = s;
}

template <class T, bool Log>
__global__ void __launch_bounds__(kSplitThreads, 1)
    softmax_bwd_split_write(T* dx, const T* part, const T* dy, const T* y, int64_t cols,
                            int64_t chunk) {
  const int64_t r = blockIdx.y, c0 = blockIdx.x * chunk, off = r * cols;
  const int64_t c1 = c0 + chunk < cols ? c0 + chunk : cols;
  T s = T(0);
  for (unsigned p = 0; p < gridDim.x; ++p) s += part[r * gridDim.x + p];  // chunk order
  for (int64_t j = c0 + threadIdx.x; j < c1; j += blockDim.x)
    dx[off + j] = Log ? dy[off + j] - fm::m_exp(y[off + j]) * s : y[off + j] * (dy[off + j] - s);
}

// Calls f(std::integral_constant<int, VPT>) for the plan's values per lane.
template <class F>
void with_vpt(int vpt, F&& f) {
  switch (vpt) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    case 4:
      return f(std::integral_constant<int, 4>{});
    case 8:
      return f(std::integral_constant<int, 8>{});
    case 16:
      return f(std::integral_constant<int, 16>{});
    default:
      return f(std::integral_constant<int, 32>{});
  }
}

constexpr int kColumnThreads = 256;

template <class T, bool Log>
__global__ void softmax_fwd_columns(T* y, const T* x, int64_t outer, int64_t n, int64_t inner) {
  const int64_t columns = outer * inner;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < columns;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = t / inner, start = o * n * inner + (t - o * inner);
    const T* xc = x + start;
    T* yc = y + start;
    T m = T(-INFINITY);
    for (int64_t k = 0; k < n; ++k) m = xc[k * inner] > m ? xc[k * inner] : m;  // skips NaN
    T s = T(0);
    for (int64_t k = 0; k < n; ++k) {
      const T e = fm::m_exp(xc[k * inner] - m);
      if (!Log) yc[k * inner] = e;
      s += e;
    }
    const T f = Log ? fm::m_log(s) : T(1) / s;
    for (int64_t k = 0; k < n; ++k)
      yc[k * inner] = Log ? (xc[k * inner] - m) - f : yc[k * inner] * f;
  }
}

template <class T, bool Log>
__global__ void softmax_bwd_columns(T* dx, const T* dy, const T* y, int64_t outer, int64_t n,
                                    int64_t inner) {
  const int64_t columns = outer * inner;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < columns;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = t / inner, start = o * n * inner + (t - o * inner);
    T s = T(0);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = start + k * inner;
      s += Log ? dy[i] : dy[i] * y[i];
    }
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = start + k * inner;
      dx[i] = Log ? dy[i] - fm::m_exp(y[i]) * s : y[i] * (dy[i] - s);
    }
  }
}

unsigned column_grid(int64_t columns) { return grid_rows(ceil_div(columns, kColumnThreads)); }

unsigned narrow_grid(int64_t rows, const RowPlan& p) {
  return grid_rows(ceil_div(rows, (kNarrowThreads / 32) * (32 / p.group)));
}
int wide_threads(int64_t cols) { return cols >= 8192 ? 1024 : 256; }

template <bool Log>
void softmax_fwd(DType dt, void* y, const void* x, int64_t rows, int64_t cols, int64_t inner) {
  // (rows, cols, inner): the (outer, n, inner) view; inner == 1 is rows of cols values
  if (rows == 0 || cols == 0 || inner == 0) return;
  dispatch_float(dt, Log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = decltype(tag);
    auto* yp = static_cast<T*>(y);
    auto* xp = static_cast<const T*>(x);
    if (inner > 1) {
      softmax_fwd_columns<T, Log>
          <<<column_grid(rows * inner), kColumnThreads, 0, current_stream()>>>(yp, xp, rows, cols,
                                                                               inner);
    } else if (cols <= 1024) {
      const RowPlan p = plan_narrow_rows(cols);
      with_vpt(p.vpt, [&](auto vpt) {
        softmax_fwd_narrow<T, decltype(vpt)::value, Log>
            <<<narrow_grid(rows, p), kNarrowThreads, 0, current_stream()>>>(
                yp, xp, rows, static_cast<int>(cols), p.group);
      });
    } else if (const int64_t parts = split_row_parts(rows, cols)) {
      const int64_t chunk = ceil_div(cols, parts);
      Workspace ws(rows * parts * static_cast<int64_t>(sizeof(OnlineStat<T>)));
      const dim3 grid(static_cast<unsigned>(parts), static_cast<unsigned>(rows));
      softmax_split_stats<T>
          <<<grid, kSplitThreads, 0, current_stream()>>>(ws.as<OnlineStat<T>>(), xp, cols, chunk);
      FASTNN_CUDA_CHECK_LAUNCH();
      softmax_split_write<T, Log><<<grid, kSplitThreads, 0, current_stream()>>>(
          yp, ws.as<OnlineStat<T>>(), xp, cols, chunk);
    } else {
      softmax_fwd_wide<T, Log>
          <<<grid_rows(rows), wide_threads(cols), 0, current_stream()>>>(yp, xp, rows, cols);
    }
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <bool Log>
void softmax_bwd(DType dt, void* dx, const void* dy, const void* y, int64_t rows, int64_t cols,
                 int64_t inner) {
  if (rows == 0 || cols == 0 || inner == 0) return;
  dispatch_float(dt, Log ? "log_softmax backward" : "softmax backward", [&](auto tag) {
    using T = decltype(tag);
    auto* dxp = static_cast<T*>(dx);
    auto* dyp = static_cast<const T*>(dy);
    auto* yp = static_cast<const T*>(y);
    if (inner > 1) {
      softmax_bwd_columns<T, Log>
          <<<column_grid(rows * inner), kColumnThreads, 0, current_stream()>>>(dxp, dyp, yp, rows,
                                                                               cols, inner);
    } else if (cols <= 1024) {
      const RowPlan p = plan_narrow_rows(cols);
      with_vpt(p.vpt, [&](auto vpt) {
        softmax_bwd_narrow<T, decltype(vpt)::value, Log>
            <<<narrow_grid(rows, p), kNarrowThreads, 0, current_stream()>>>(
                dxp, dyp, yp, rows, static_cast<int>(cols), p.group);
      });
    } else if (const int64_t parts = split_row_parts(rows, cols)) {
      const int64_t chunk = ceil_div(cols, parts);
      Workspace ws(rows * parts * static_cast<int64_t>(sizeof(T)));
      const dim3 grid(static_cast<unsigned>(parts), static_cast<unsigned>(rows));
      softmax_bwd_split_sums<T, Log>
          <<<grid, kSplitThreads, 0, current_stream()>>>(ws.as<T>(), dyp, yp, cols, chunk);
      FASTNN_CUDA_CHECK_LAUNCH();
      softmax_bwd_split_write<T, Log>
          <<<grid, kSplitThreads, 0, current_stream()>>>(dxp, ws.as<T>(), dyp, yp, cols, chunk);
    } else {
      softmax_bwd_wide<T, Log>
          <<<grid_rows(rows), wide_threads(cols), 0, current_stream()>>>(dxp, dyp, yp, rows, cols);
    }
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

void softmax_forward_cuda(DType dt, void* y, const void* x, int64_t outer, int64_t n,
                          int64_t inner) {
  softmax_fwd<false>(dt, y, x, outer, n, inner);
}
void softmax_backward_cuda(DType dt, void* dx, const void* dy, const void* y, int64_t outer,
                           int64_t n, int64_t inner) {
  softmax_bwd<false>(dt, dx, dy, y, outer, n, inner);
}
void log_softmax_forward_cuda(DType dt, void* y, const void* x, int64_t outer, int64_t n,
                              int64_t inner) {
  softmax_fwd<true>(dt, y, x, outer, n, inner);
}
void log_softmax_backward_cuda(DType dt, void* dx, const void* dy, const void* y, int64_t outer,
                               int64_t n, int64_t inner) {
  softmax_bwd<true>(dt, dx, dy, y, outer, n, inner);
}

}  // namespace fastnn::cuda
