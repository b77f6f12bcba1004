// The fused LSTM / GRU cells on the GPU (csrc/cuda/rnn.cu), the CUDA twins of the CPU cell
// kernels of csrc/cpu/rnn.h with the same shapes and aliasing rules, on raw device pointers.
// Plain C++ (no CUDA headers) so the binding compiles with the host compiler.
#pragma once
#include <cstdint>

#include "cuda/fastnn_cuda.h"

namespace fastnn::cuda {

// gates (B, 4H) pre-activations i, f, g, o -> h, c (B, H), act (B, 4H) (may be gates itself).
void lstm_cell_forward_cuda(DType dt, void* h, void* c, void* act, const void* gates,
                            const void* c_prev, int64_t B, int64_t H);
// dh, dc (B, H) (dc may be nullptr: zero) -> dgates (B, 4H), dc_prev (B, H) (may be dc).
void lstm_cell_backward_cuda(DType dt, void* dgates, void* dc_prev, const void* dh, const void* dc,
                             const void* act, const void* c_prev, const void* c, int64_t B,
                             int64_t H);
// gi, gh (B, 3H) -> h (B, H), act (B, 4H) = r, z, n, gh_n.
void gru_cell_forward_cuda(DType dt, void* h, void* act, const void* gi, const void* gh,
                           const void* h_prev, int64_t B, int64_t H);
// dh (B, H) -> dgi, dgh (B, 3H), dh_prev = dh * z (may be dh).
void gru_cell_backward_cuda(DType dt, void* dgi, void* dgh, void* dh_prev, const void* dh,
                            const void* act, const void* h_prev, int64_t B, int64_t H);

}  // namespace fastnn::cuda
