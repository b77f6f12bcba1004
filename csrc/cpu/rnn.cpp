// Recurrent layers on the CPU: the fused LSTM / GRU cells and the time loops of LSTM, GRU and
// the Elman RNN (declarations and shapes in cpu/rnn.h, per-element formulas in rnn_math.h).
//
// The time loop lives here rather than in Python because each step is small (at batch 32,
// hidden 256 one step is a 32 x 1024 x 256 GEMM, tens of microseconds) and a Python round trip
// per step would cost a sizeable share of it. Per step: one GEMM h_{t-1} W_hh^T accumulated into
// the step's slice of the precomputed input projection, then one fused element-wise pass. The
// backward loop runs the fused cell backward and one GEMM for dh_{t-1} per step; the weight
// gradients are left to the caller, as one GEMM over all steps each.
#include "cpu/rnn.h"

#include <algorithm>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/matmul_packed.h"
#include "cpu/parallel.h"
#include "cpu/rnn_simd.h"
#include "rnn_math.h"

namespace fastnn {
namespace {

// Below this many (row, unit) pairs a step's element-wise pass runs on one thread: waking the
// pool costs a few microseconds, about what ~2000 cells of transcendental math take.
constexpr int64_t kGrain = 2048;

// fn(b, j0, j1) over the rows b < B and the unit ranges [j0, j1) that cover B x H, split over
// the pool when there is enough work.
template <class F>
void for_cells(int64_t B, int64_t H, const F& fn) {
  parallel_for(B * H, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end;) {
      const int64_t b = e / H, j0 = e % H, j1 = std::min<int64_t>(H, j0 + (end - e));
      fn(b, j0, j1);
      e += j1 - j0;
    }
  });
}

// The per-step GEMM with W_hh: c (B, N) = beta * c + a (B, K) @ op(W) (+ bias), op(W) = W^T for
// the forward's h_{t-1} W_hh^T (w (N, K)) or W for the backward's dgates W_hh (w (K, N)).
// From kPackRows rows on, W is packed once per sequence into the GEMM's panel layout
// (cpu/matmul_packed.h) and every step reuses the panels: at batch 32 matmul_cpu's repacking per
// step cost about half the product. Smaller batches keep matmul_cpu, whose skinny kernels read W
// in place rather than fill 12-row register tiles with a few rows. The packed copy is per thread
// and kept, so the loops of a training step allocate nothing after the first.
constexpr int64_t kPackRows = 17;

template <class T>
class StepGemm {
 public:
  StepGemm(const T* w, int64_t N, int64_t K, bool transposed, int64_t B)
      : w_(w), N_(N), K_(K), t_(transposed), B_(B) {
    if (B < kPackRows) return;
    thread_local PackedB<T> forward, backward;  // one sequence may need both (never at once)
    packed_ = transposed ? &forward : &backward;
    packed_->pack(w, transposed ? 1 : N, transposed ? K : 1, K, N);
  }
  void operator()(T* c, const T* a, T beta, const T* bias = nullptr) const {
    if (packed_) return packed_->gemm(c, N_, a, K_, 1, B_, beta, bias, get_num_threads());
    MatmulLayout L{1, B_, N_, K_, 0, K_, 1, 0, t_ ? 1 : N_, t_ ? K_ : 1, 0, N_};
    matmul_cpu(c, a, w_, bias, L, T(1), beta);
  }

 private:
  const T* w_;
  int64_t N_, K_;
  bool t_;
  int64_t B_;
  PackedB<T>* packed_ = nullptr;
};

// The time index of step k (0 = the first step run).
inline int64_t time_of(int64_t k, int64_t S, bool reverse) { return reverse ? S - 1 - k : k; }

// ---- the cells: one row segment [j0, j1) of one batch row per call ---------------------------
// Pointers are to the row's start (H-wide states, 4H- or 3H-wide gates). The scalar versions are
// the generic path and float64's; float32 takes the AVX-512 / AVX2 unit of rnn_simd.h when the
// CPU has it.

template <class T>
void lstm_fwd_row(T* h, T* c, T* act, const T* gates, const T* c_prev, int64_t H, int64_t j0,
                  int64_t j1) {
  for (int64_t j = j0; j < j1; ++j)
    rnn::lstm_forward(gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j], c_prev[j], act[j],
                      act[H + j], act[2 * H + j], act[3 * H + j], c[j], h[j]);
}

template <class T>
void lstm_bwd_row(T* dgates, T* dc_prev, const T* dh, const T* dc, const T* act, const T* c_prev,
                  const T* c, int64_t H, int64_t j0, int64_t j1) {
  for (int64_t j = j0; j < j1; ++j) {
    T dcp;
    rnn::lstm_backward(dh[j], dc ? dc[j] : T(0), act[j], act[H + j], act[2 * H + j], act[3 * H + j],
                       c_prev[j], c[j], dgates[j], dgates[H + j], dgates[2 * H + j],
                       dgates[3 * H + j], dcp);
    dc_prev[j] = dcp;  // after reading dc[j]: dc_prev may be dc
  }
}

template <class T>
void gru_fwd_row(T* h, T* act, const T* gi, const T* gh, const T* h_prev, int64_t H, int64_t j0,
                 int64_t j1) {
  for (int64_t j = j0; j < j1; ++j) {
    act[3 * H + j] = gh[2 * H + j];
    rnn::gru_forward(gi[j], gi[H + j], gi[2 * H + j], gh[j], gh[H + j], gh[2 * H + j], h_prev[j],
                     act[j], act[H + j], act[2 * H + j], h[j]);
  }
}

template <class T>
void gru_bwd_row(T* dgi, T* dgh, T* dh_prev, const T* dh, const T* act, const T* h_prev, int64_t H,
                 int64_t j0, int64_t j1) {
  for (int64_t j = j0; j < j1; ++j) {
    T dr, dz, dni, dnh, dhp;
    rnn::gru_backward(dh[j], act[j], act[H + j], act[2 * H + j], act[3 * H + j], h_prev[j], dr, dz,
                      dni, dnh, dhp);
    dgi[j] = dgh[j] = dr;
    dgi[H + j] = dgh[H + j] = dz;
    dgi[2 * H + j] = dni;
    dgh[2 * H + j] = dnh;
    dh_prev[j] = dhp;  // after reading dh[j]: dh_prev may be dh
  }
}

template <class T>
struct CellRows {
  decltype(&lstm_fwd_row<T>) lstm_fwd;
  decltype(&lstm_bwd_row<T>) lstm_bwd;
  decltype(&gru_fwd_row<T>) gru_fwd;
  decltype(&gru_bwd_row<T>) gru_bwd;
};
const IsaTable<CellRows<float>> kCellsF32{{{
    {&lstm_fwd_row<float>, &lstm_bwd_row<float>, &gru_fwd_row<float>, &gru_bwd_row<float>},
    {&avx2::lstm_fwd_f32, &avx2::lstm_bwd_f32, &avx2::gru_fwd_f32, &avx2::gru_bwd_f32},
    {&avx512::lstm_fwd_f32, &avx512::lstm_bwd_f32, &avx512::gru_fwd_f32, &avx512::gru_bwd_f32},
}}};
const CellRows<float>& cells(float) { return kCellsF32[active_isa()]; }
const CellRows<double>& cells(double) {
  static const CellRows<double> k{&lstm_fwd_row<double>, &lstm_bwd_row<double>,
                                  &gru_fwd_row<double>, &gru_bwd_row<double>};
  return k;
}

template <class T>
void lstm_cell_fwd(T* h, T* c, T* act, const T* gates, const T* c_prev, int64_t B, int64_t H) {
  const auto fn = cells(T()).lstm_fwd;
  for_cells(B, H, [&](int64_t b, int64_t j0, int64_t j1) {
    fn(h + b * H, c + b * H, act + b * 4 * H, gates + b * 4 * H, c_prev + b * H, H, j0, j1);
  });
}

template <class T>
void lstm_cell_bwd(T* dgates, T* dc_prev, const T* dh, const T* dc, const T* act, const T* c_prev,
                   const T* c, int64_t B, int64_t H) {
  const auto fn = cells(T()).lstm_bwd;
  for_cells(B, H, [&](int64_t b, int64_t j0, int64_t j1) {
    fn(dgates + b * 4 * H, dc_prev + b * H, dh + b * H, dc ? dc + b * H : nullptr, act + b * 4 * H,
       c_prev + b * H, c + b * H, H, j0, j1);
  });
}

template <class T>
void gru_cell_fwd(T* h, T* act, const T* gi, const T* gh, const T* h_prev, int64_t B, int64_t H) {
  const auto fn = cells(T()).gru_fwd;
  for_cells(B, H, [&](int64_t b, int64_t j0, int64_t j1) {
    fn(h + b * H, act + b * 4 * H, gi + b * 3 * H, gh + b * 3 * H, h_prev + b * H, H, j0, j1);
  });
}

template <class T>
void gru_cell_bwd(T* dgi, T* dgh, T* dh_prev, const T* dh, const T* act, const T* h_prev, int64_t B,
                  int64_t H) {
  const auto fn = cells(T()).gru_bwd;
  for_cells(B, H, [&](int64_t b, int64_t j0, int64_t j1) {
    fn(dgi + b * 3 * H, dgh + b * 3 * H, dh_prev + b * H, dh + b * H, act + b * 4 * H,
       h_prev + b * H, H, j0, j1);
  });
}

template <class T>
void lstm_seq_fwd(T* hs, T* cs, T* gates, const T* w_hh, const T* h0, const T* c0, int64_t S,
                  int64_t B, int64_t H, bool reverse) {
  const int64_t n = B * H, g4 = B * 4 * H;
  const T *h_prev = h0, *c_prev = c0;
  const StepGemm<T> step(w_hh, 4 * H, H, true, B);
  for (int64_t k = 0; k < S; ++k) {
    const int64_t t = time_of(k, S, reverse);
    T* g = gates + t * g4;
    step(g, h_prev, T(1));
    lstm_cell_fwd(hs + t * n, cs + t * n, g, g, c_prev, B, H);
    h_prev = hs + t * n;
    c_prev = cs + t * n;
  }
}

// The carry dh0 holds the gradient reaching h of the step about to run backward: dhs of that
// step plus the W_hh term of the step after it (a copy, then a GEMM with beta = 1).
template <class T>
void lstm_seq_bwd(T* dgates, T* dh0, T* dc0, const T* dhs, const T* dc_n, const T* gates,
                  const T* cs, const T* c0, const T* w_hh, int64_t S, int64_t B, int64_t H,
                  bool reverse) {
  const int64_t n = B * H, g4 = B * 4 * H;
  if (S == 0) {
    std::fill(dh0, dh0 + n, T(0));
    for (int64_t e = 0; e < n; ++e) dc0[e] = dc_n ? dc_n[e] : T(0);
    return;
  }
  std::copy(dhs + time_of(S - 1, S, reverse) * n, dhs + time_of(S - 1, S, reverse) * n + n, dh0);
  const T* dc = dc_n;
  const StepGemm<T> step(w_hh, H, 4 * H, false, B);
  for (int64_t k = S - 1; k >= 0; --k) {
    const int64_t t = time_of(k, S, reverse);
    const T* c_prev = k > 0 ? cs + time_of(k - 1, S, reverse) * n : c0;
    lstm_cell_bwd(dgates + t * g4, dc0, dh0, dc, gates + t * g4, c_prev, cs + t * n, B, H);
    dc = dc0;
    if (k > 0)
      std::copy(dhs + time_of(k - 1, S, reverse) * n, dhs + time_of(k - 1, S, reverse) * n + n,
                dh0);
    step(dh0, dgates + t * g4, k > 0 ? T(1) : T(0));
  }
}

template <class T>
void gru_seq_fwd(T* hs, T* act, const T* gi, const T* w_hh, const T* b_hh, const T* h0, int64_t S,
                 int64_t B, int64_t H, bool reverse) {
  const int64_t n = B * H, g3 = B * 3 * H;
  std::vector<T> gh(static_cast<size_t>(g3));
  const T* h_prev = h0;
  const StepGemm<T> step(w_hh, 3 * H, H, true, B);
  for (int64_t k = 0; k < S; ++k) {
    const int64_t t = time_of(k, S, reverse);
    step(gh.data(), h_prev, T(0), b_hh);
    gru_cell_fwd(hs + t * n, act + t * 4 * n, gi + t * g3, gh.data(), h_prev, B, H);
    h_prev = hs + t * n;
  }
}

template <class T>
void gru_seq_bwd(T* dgi, T* dgh, T* dh0, const T* dhs, const T* act, const T* hs, const T* h0,
                 const T* w_hh, int64_t S, int64_t B, int64_t H, bool reverse) {
  const int64_t n = B * H, g3 = B * 3 * H;
  if (S == 0) {
    std::fill(dh0, dh0 + n, T(0));
    return;
  }
  std::copy(dhs + time_of(S - 1, S, reverse) * n, dhs + time_of(S - 1, S, reverse) * n + n, dh0);
  const StepGemm<T> step(w_hh, H, 3 * H, false, B);
  for (int64_t k = S - 1; k >= 0; --k) {
    const int64_t t = time_of(k, S, reverse);
    const T* h_prev = k > 0 ? hs + time_of(k - 1, S, reverse) * n : h0;
    gru_cell_bwd(dgi + t * g3, dgh + t * g3, dh0, dh0, act + t * 4 * n, h_prev, B, H);
    if (k > 0) {
      const T* d = dhs + time_of(k - 1, S, reverse) * n;
      for (int64_t e = 0; e < n; ++e) dh0[e] += d[e];
    }
    step(dh0, dgh + t * g3, T(1));
  }
}

template <class T>
void rnn_seq_fwd(T* hs, const T* w_hh, const T* h0, int64_t S, int64_t B, int64_t H, bool relu,
                 bool reverse) {
  const int64_t n = B * H;
  const T* h_prev = h0;
  const StepGemm<T> step(w_hh, H, H, true, B);
  for (int64_t k = 0; k < S; ++k) {
    T* h = hs + time_of(k, S, reverse) * n;
    step(h, h_prev, T(1));
    if (relu)
      relu_forward_cpu(h, h, n);
    else
      tanh_forward_cpu(h, h, n);
    h_prev = h;
  }
}

// relu's gradient is read from the output: h > 0 exactly where the pre-activation is > 0.
template <class T>
void rnn_seq_bwd(T* dpre, T* dh0, const T* dhs, const T* hs, const T* w_hh, int64_t S, int64_t B,
                 int64_t H, bool relu, bool reverse) {
  const int64_t n = B * H;
  if (S == 0) {
    std::fill(dh0, dh0 + n, T(0));
    return;
  }
  std::copy(dhs + time_of(S - 1, S, reverse) * n, dhs + time_of(S - 1, S, reverse) * n + n, dh0);
  const StepGemm<T> step(w_hh, H, H, false, B);
  for (int64_t k = S - 1; k >= 0; --k) {
    const int64_t t = time_of(k, S, reverse);
    if (relu)
      relu_backward_cpu(dpre + t * n, dh0, hs + t * n, n);
    else
      tanh_backward_cpu(dpre + t * n, dh0, hs + t * n, n);
    if (k > 0)
      std::copy(dhs + time_of(k - 1, S, reverse) * n, dhs + time_of(k - 1, S, reverse) * n + n,
                dh0);
    step(dh0, dpre + t * n, k > 0 ? T(1) : T(0));
  }
}

}  // namespace

#define FASTNN_DEFINE_RNN(T)                                                                      \
  void lstm_cell_forward_cpu(T* h, T* c, T* act, const T* gates, const T* c_prev, int64_t B,      \
                             int64_t H) {                                                         \
    lstm_cell_fwd(h, c, act, gates, c_prev, B, H);                                                \
  }                                                                                               \
  void lstm_cell_backward_cpu(T* dgates, T* dc_prev, const T* dh, const T* dc, const T* act,      \
                              const T* c_prev, const T* c, int64_t B, int64_t H) {                \
    lstm_cell_bwd(dgates, dc_prev, dh, dc, act, c_prev, c, B, H);                                 \
  }                                                                                               \
  void gru_cell_forward_cpu(T* h, T* act, const T* gi, const T* gh, const T* h_prev, int64_t B,   \
                            int64_t H) {                                                          \
    gru_cell_fwd(h, act, gi, gh, h_prev, B, H);                                                   \
  }                                                                                               \
  void gru_cell_backward_cpu(T* dgi, T* dgh, T* dh_prev, const T* dh, const T* act,               \
                             const T* h_prev, int64_t B, int64_t H) {                             \
    gru_cell_bwd(dgi, dgh, dh_prev, dh, act, h_prev, B, H);                                       \
  }                                                                                               \
  void lstm_sequence_forward_cpu(T* hs, T* cs, T* gates, const T* w_hh, const T* h0, const T* c0, \
                                 int64_t S, int64_t B, int64_t H, bool reverse) {                 \
    lstm_seq_fwd(hs, cs, gates, w_hh, h0, c0, S, B, H, reverse);                                  \
  }                                                                                               \
  void lstm_sequence_backward_cpu(T* dgates, T* dh0, T* dc0, const T* dhs, const T* dc_n,         \
                                  const T* gates, const T* cs, const T* c0, const T* w_hh,        \
                                  int64_t S, int64_t B, int64_t H, bool reverse) {                \
    lstm_seq_bwd(dgates, dh0, dc0, dhs, dc_n, gates, cs, c0, w_hh, S, B, H, reverse);             \
  }                                                                                               \
  void gru_sequence_forward_cpu(T* hs, T* act, const T* gi, const T* w_hh, const T* b_hh,         \
                                const T* h0, int64_t S, int64_t B, int64_t H, bool reverse) {     \
    gru_seq_fwd(hs, act, gi, w_hh, b_hh, h0, S, B, H, reverse);                                   \
  }                                                                                               \
  void gru_sequence_backward_cpu(T* dgi, T* dgh, T* dh0, const T* dhs, const T* act, const T* hs, \
                                 const T* h0, const T* w_hh, int64_t S, int64_t B, int64_t H,     \
                                 bool reverse) {                                                  \
    gru_seq_bwd(dgi, dgh, dh0, dhs, act, hs, h0, w_hh, S, B, H, reverse);                         \
  }                                                                                               \
  void rnn_sequence_forward_cpu(T* hs, const T* w_hh, const T* h0, int64_t S, int64_t B,          \
                                int64_t H, bool relu, bool reverse) {                             \
    rnn_seq_fwd(hs, w_hh, h0, S, B, H, relu, reverse);                                            \
  }                                                                                               \
  void rnn_sequence_backward_cpu(T* dpre, T* dh0, const T* dhs, const T* hs, const T* w_hh,       \
                                 int64_t S, int64_t B, int64_t H, bool relu, bool reverse) {      \
    rnn_seq_bwd(dpre, dh0, dhs, hs, w_hh, S, B, H, relu, reverse);                                \
  }
FASTNN_DEFINE_RNN(float)
FASTNN_DEFINE_RNN(double)
#undef FASTNN_DEFINE_RNN

}  // namespace fastnn
