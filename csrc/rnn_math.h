// Per-element gate math of the recurrent cells (LSTM, GRU), shared by the CPU loops
// (csrc/cpu/rnn.cpp) and any CUDA twin: the one copy of each formula, forward and backward.
//
// LSTM, gates in the order i, f, g, o (pre-activations are x W_ih^T + b_ih + h W_hh^T + b_hh):
//   i = sigmoid, f = sigmoid, g = tanh, o = sigmoid;  c' = f c + i g;  h' = o tanh(c').
// GRU, gates r, z, n: gi = x W_ih^T + b_ih, gh = h W_hh^T + b_hh (each 3H wide);
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r gh_n),
//   h' = (1 - z) n + z h.
// Backward functions take the gradient reaching the cell's outputs and return the gradients of
// the gate pre-activations (what the weight GEMMs need) and the element-wise part of the
// gradient of the previous state (the GEMM with W_hh adds the rest).
// `static inline` for the reason given in [note: optim math linkage] (csrc/optim_math.h).
#pragma once

#include "scalar_math.h"

namespace fastnn {
namespace rnn {

// Activated LSTM gates and the new state from the four pre-activations and c_prev.
template <class T>
FASTNN_HD static inline void lstm_forward(T pi, T pf, T pg, T po, T c_prev, T& i, T& f, T& g, T& o,
                                          T& c, T& h) {
  i = math::sigmoid(pi);
  f = math::sigmoid(pf);
  g = math::tanh_(pg);
  o = math::sigmoid(po);
  c = f * c_prev + i * g;
  h = o * math::tanh_(c);
}

// dh, dc: gradients reaching h' and c'; i, f, g, o: the activated gates; c: c' of this step.
// tanh(c') is recomputed rather than stored: one tanh per element is cheaper than the memory.
template <class T>
FASTNN_HD static inline void lstm_backward(T dh, T dc, T i, T f, T g, T o, T c_prev, T c, T& di,
                                           T& df, T& dg, T& d_o, T& dc_prev) {
  const T tc = math::tanh_(c);
  const T dcc = dc + dh * o * (T(1) - tc * tc);
  di = dcc * g * i * (T(1) - i);
  df = dcc * c_prev * f * (T(1) - f);
  dg = dcc * i * (T(1) - g * g);
  d_o = dh * tc * o * (T(1) - o);
  dc_prev = dcc * f;
}

// r, z, n and the new state; ghn (= gh_n, the hidden projection of the n gate) is kept by the
// caller for backward, since dr needs it.
template <class T>
FASTNN_HD static inline void gru_forward(T gir, T giz, T gin, T ghr, T ghz, T ghn, T h_prev, T& r,
                                         T& z, T& n, T& h) {
  r = math::sigmoid(gir + ghr);
  z = math::sigmoid(giz + ghz);
  n = math::tanh_(gin + r * ghn);
  h = (T(1) - z) * n + z * h_prev;
}

// dr and dz are the same for gi and gh (both enter the sigmoid as a sum); only the n gate
// differs: d gi_n = dn_pre, d gh_n = r dn_pre.
template <class T>
FASTNN_HD static inline void gru_backward(T dh, T r, T z, T n, T ghn, T h_prev, T& dr, T& dz,
                                          T& dn_i, T& dn_h, T& dh_prev) {
  const T dn = dh * (T(1) - z) * (T(1) - n * n);
  dz = dh * (h_prev - n) * z * (T(1) - z);
  dr = dn * ghn * r * (T(1) - r);
  dn_i = dn;
  dn_h = dn * r;
  dh_prev = dh * z;
}

}  // namespace rnn
}  // namespace fastnn
