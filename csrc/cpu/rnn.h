// The recurrent-layer kernels (csrc/cpu/rnn.cpp): the fused element-wise cells of LSTM and GRU,
// and the time loops of LSTM, GRU and the Elman RNN. Outputs first, then inputs, then sizes;
// contiguous row-major buffers; backward kernels overwrite their outputs. B = batch, H = hidden,
// S = sequence length; sequences are (S, B, width), indexed by time (a reverse direction runs
// t = S-1 .. 0 but stores step t at index t). The formulas are in csrc/rnn_math.h.
#pragma once
#include <cstdint>

namespace fastnn {

#define FASTNN_DECLARE_RNN(T)                                                                     \
  /* gates (B, 4H) pre-activations (i, f, g, o) -> act (B, 4H) activated gates (may be gates      \
     itself), c, h (B, H). */                                                                     \
  void lstm_cell_forward_cpu(T* h, T* c, T* act, const T* gates, const T* c_prev, int64_t B,      \
                             int64_t H);                                                          \
  /* dh, dc (B, H) reach h', c' (dc may be nullptr: zero) -> dgates (B, 4H), dc_prev (B, H),      \
     which may be dc itself. */                                                                   \
  void lstm_cell_backward_cpu(T* dgates, T* dc_prev, const T* dh, const T* dc, const T* act,      \
                              const T* c_prev, const T* c, int64_t B, int64_t H);                 \
  /* gi, gh (B, 3H) -> h (B, H), act (B, 4H) = r, z, n, gh_n. */                                  \
  void gru_cell_forward_cpu(T* h, T* act, const T* gi, const T* gh, const T* h_prev, int64_t B,   \
                            int64_t H);                                                           \
  /* dh (B, H) -> dgi, dgh (B, 3H) and dh_prev = dh * z (may be dh itself). */                    \
  void gru_cell_backward_cpu(T* dgi, T* dgh, T* dh_prev, const T* dh, const T* act,               \
                             const T* h_prev, int64_t B, int64_t H);                              \
  /* gates: in, the input projection x W_ih^T + b_ih + b_hh (S, B, 4H); out, the activated        \
     gates (kept for backward). hs, cs (S, B, H); w_hh (4H, H); h0, c0 (B, H). */                 \
  void lstm_sequence_forward_cpu(T* hs, T* cs, T* gates, const T* w_hh, const T* h0, const T* c0, \
                                 int64_t S, int64_t B, int64_t H, bool reverse);                  \
  /* dhs (S, B, H) the gradient of hs (h_n's included), dc_n (B, H) or nullptr -> dgates          \
     (S, B, 4H) pre-activation gradients, dh0, dc0 (B, H). */                                     \
  void lstm_sequence_backward_cpu(T* dgates, T* dh0, T* dc0, const T* dhs, const T* dc_n,         \
                                  const T* gates, const T* cs, const T* c0, const T* w_hh,        \
                                  int64_t S, int64_t B, int64_t H, bool reverse);                 \
  /* gi (S, B, 3H) = x W_ih^T + b_ih; w_hh (3H, H), b_hh (3H) or nullptr -> hs (S, B, H),         \
     act (S, B, 4H). */                                                                           \
  void gru_sequence_forward_cpu(T* hs, T* act, const T* gi, const T* w_hh, const T* b_hh,         \
                                const T* h0, int64_t S, int64_t B, int64_t H, bool reverse);      \
  void gru_sequence_backward_cpu(T* dgi, T* dgh, T* dh0, const T* dhs, const T* act, const T* hs, \
                                 const T* h0, const T* w_hh, int64_t S, int64_t B, int64_t H,     \
                                 bool reverse);                                                   \
  /* hs: in, x W_ih^T + b_ih + b_hh (S, B, H); out, h_t = act(that + h_{t-1} W_hh^T), act         \
     tanh or relu. */                                                                             \
  void rnn_sequence_forward_cpu(T* hs, const T* w_hh, const T* h0, int64_t S, int64_t B,          \
                                int64_t H, bool relu, bool reverse);                              \
  /* -> dpre (S, B, H) pre-activation gradients, dh0 (B, H). */                                   \
  void rnn_sequence_backward_cpu(T* dpre, T* dh0, const T* dhs, const T* hs, const T* w_hh,       \
                                 int64_t S, int64_t B, int64_t H, bool relu, bool reverse);
FASTNN_DECLARE_RNN(float)
FASTNN_DECLARE_RNN(double)
#undef FASTNN_DECLARE_RNN

}  // namespace fastnn
