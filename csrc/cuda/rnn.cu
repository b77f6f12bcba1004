// The fused LSTM / GRU cells on the GPU, forward and backward: one thread per (row, unit), the
// per-element formulas of csrc/rnn_math.h (shared with the CPU kernels, csrc/cpu/rnn.cpp).
// Shapes as in csrc/cpu/rnn.h: states (B, H); LSTM gates (B, 4H) in the order i, f, g, o;
// GRU gi, gh (B, 3H) in the order r, z, n and act (B, 4H) = r, z, n, gh_n. act may be gates
// itself, dc_prev may be dc, dh_prev may be dh (each element is read before it is written).
// Numerics: IEEE exp/tanh; never build with --use_fast_math.
#include "cuda/common.cuh"
#include "cuda/rnn_cuda.h"
#include "rnn_math.h"

namespace fastnn::cuda {
namespace {

template <class T>
__global__ void lstm_fwd_kernel(T* h, T* c, T* act, const T* gates, const T* c_prev, int64_t B,
                                int64_t H) {
  FASTNN_KERNEL_LOOP(e, B * H) {
    const int64_t b = e / H, j = e % H;
    const T* g = gates + b * 4 * H;
    T* a = act + b * 4 * H;
    T i, f, gg, o;
    rnn::lstm_forward(g[j], g[H + j], g[2 * H + j], g[3 * H + j], c_prev[e], i, f, gg, o, c[e],
                      h[e]);
    a[j] = i;
    a[H + j] = f;
    a[2 * H + j] = gg;
    a[3 * H + j] = o;
  }
}

template <class T>
__global__ void lstm_bwd_kernel(T* dgates, T* dc_prev, const T* dh, const T* dc, const T* act,
                                const T* c_prev, const T* c, int64_t B, int64_t H) {
  FASTNN_KERNEL_LOOP(e, B * H) {
    const int64_t b = e / H, j = e % H;
    const T* a = act + b * 4 * H;
    T* d = dgates + b * 4 * H;
    T di, df, dg, d_o, dcp;
    rnn::lstm_backward(dh[e], dc ? dc[e] : T(0), a[j], a[H + j], a[2 * H + j], a[3 * H + j],
                       c_prev[e], c[e], di, df, dg, d_o, dcp);
    d[j] = di;
    d[H + j] = df;
    d[2 * H + j] = dg;
    d[3 * H + j] = d_o;
    dc_prev[e] = dcp;
  }
}

template <class T>
__global__ void gru_fwd_kernel(T* h, T* act, const T* gi, const T* gh, const T* h_prev, int64_t B,
                               int64_t H) {
  FASTNN_KERNEL_LOOP(e, B * H) {
    const int64_t b = e / H, j = e % H;
    const T* x = gi + b * 3 * H;
    const T* y = gh + b * 3 * H;
    T* a = act + b * 4 * H;
    T r, z, n;
    const T ghn = y[2 * H + j];
    rnn::gru_forward(x[j], x[H + j], x[2 * H + j], y[j], y[H + j], ghn, h_prev[e], r, z, n, h[e]);
    a[j] = r;
    a[H + j] = z;
    a[2 * H + j] = n;
    a[3 * H + j] = ghn;
  }
}

template <class T>
__global__ void gru_bwd_kernel(T* dgi, T* dgh, T* dh_prev, const T* dh, const T* act,
                               const T* h_prev, int64_t B, int64_t H) {
  FASTNN_KERNEL_LOOP(e, B * H) {
    const int64_t b = e / H, j = e % H;
    const T* a = act + b * 4 * H;
    T* di = dgi + b * 3 * H;
    T* dg = dgh + b * 3 * H;
    T dr, dz, dni, dnh, dhp;
    rnn::gru_backward(dh[e], a[j], a[H + j], a[2 * H + j], a[3 * H + j], h_prev[e], dr, dz, dni,
                      dnh, dhp);
    di[j] = dr;
    dg[j] = dr;
    di[H + j] = dz;
    dg[H + j] = dz;
    di[2 * H + j] = dni;
    dg[2 * H + j] = dnh;
    dh_prev[e] = dhp;
  }
}

}  // namespace

// ---- launchers ----------------------------------------------------------------------------------

void lstm_cell_forward_cuda(DType dt, void* h, void* c, void* act, const void* gates,
                            const void* c_prev, int64_t B, int64_t H) {
  if (B * H == 0) return;
  dispatch_float(dt, "lstm_cell", [&](auto tag) {
    using T = decltype(tag);
    lstm_fwd_kernel<T><<<grid_for(B * H), kThreads, 0, current_stream()>>>(
        static_cast<T*>(h), static_cast<T*>(c), static_cast<T*>(act), static_cast<const T*>(gates),
        static_cast<const T*>(c_prev), B, H);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void lstm_cell_backward_cuda(DType dt, void* dgates, void* dc_prev, const void* dh, const void* dc,
                             const void* act, const void* c_prev, const void* c, int64_t B,
                             int64_t H) {
  if (B * H == 0) return;
  dispatch_float(dt, "lstm_cell_backward", [&](auto tag) {
    using T = decltype(tag);
    lstm_bwd_kernel<T><<<grid_for(B * H), kThreads, 0, current_stream()>>>(
        static_cast<T*>(dgates), static_cast<T*>(dc_prev), static_cast<const T*>(dh),
        static_cast<const T*>(dc), static_cast<const T*>(act), static_cast<const T*>(c_prev),
        static_cast<const T*>(c), B, H);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void gru_cell_forward_cuda(DType dt, void* h, void* act, const void* gi, const void* gh,
                           const void* h_prev, int64_t B, int64_t H) {
  if (B * H == 0) return;
  dispatch_float(dt, "gru_cell", [&](auto tag) {
    using T = decltype(tag);
    gru_fwd_kernel<T><<<grid_for(B * H), kThreads, 0, current_stream()>>>(
        static_cast<T*>(h), static_cast<T*>(act), static_cast<const T*>(gi),
        static_cast<const T*>(gh), static_cast<const T*>(h_prev), B, H);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void gru_cell_backward_cuda(DType dt, void* dgi, void* dgh, void* dh_prev, const void* dh,
                            const void* act, const void* h_prev, int64_t B, int64_t H) {
  if (B * H == 0) return;
  dispatch_float(dt, "gru_cell_backward", [&](auto tag) {
    using T = decltype(tag);
    gru_bwd_kernel<T><<<grid_for(B * H), kThreads, 0, current_stream()>>>(
        static_cast<T*>(dgi), static_cast<T*>(dgh), static_cast<T*>(dh_prev),
        static_cast<const T*>(dh), static_cast<const T*>(act), static_cast<const T*>(h_prev), B, H);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
