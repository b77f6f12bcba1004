// The GEMM micro-kernel body, written once over a vector-traits struct and shared by
// matmul_avx512.cpp and matmul_avx2.cpp (the algorithm is in csrc/cpu/matmul.cpp). Each unit
// defines FASTNN_VEC_NS (its ISA namespace) before including this, then its own traits structs
// (T, V, W and zero, bcast, set1, load, store, fma, mul, add), and instantiates ukernel<traits, MR>
// in its entry points. Everything stays in that namespace's anonymous namespace and is inlined
// there: see [note: ISA units].
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS (the unit's ISA namespace) before including matmul_ukernel.h"
#endif
#include <immintrin.h>

#include <cstdint>

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

// C[MR x NV*W] = alpha * sum_k pa[k][i] * pb[k][j] + beta * C + bias[j]; beta == 0 leaves C
// unread. NV = 2 is the main tile; NV = 1 (half as wide, B panels of W columns) covers a last
// column panel that would be half padding.
template <class S, int MR, int NV = 2>
inline __attribute__((always_inline)) void ukernel(int64_t kc, const typename S::T* pa,
                                                   const typename S::T* pb, typename S::T* c,
                                                   int64_t ldc, typename S::T alpha,
                                                   typename S::T beta, const typename S::T* bias) {
  static_assert(NV == 1 || NV == 2, "a tile is one or two vectors wide");
  using V = typename S::V;
  constexpr int W = S::W;
  // acc1 is the second vector of each row (unused at NV = 1). Two named arrays rather than one
  // [NV][MR]: with the latter GCC kept C's row pointers across the k loop and spilled them, and
  // 32 x 10 x 256 (K = 10: the epilogue is half of a tile) fell to 23-36 GFLOP/s from 52-58 with
  // some placements of its operands. This form compiles to the instructions of the 12 x 32
  // kernel before it took NV.
  V acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) acc0[i] = acc1[i] = S::zero();
  auto steps = [&](int64_t n) __attribute__((always_inline)) {
    for (int64_t k = 0; k < n; ++k) {
      const V b0 = S::load(pb);
      const V b1 = NV == 2 ? S::load(pb + W) : b0;
      // The B row eight steps ahead, both of its lines where it has two (AVX-512's full-width
      // tile): with only the first prefetched, 2048^3 on two cores ran 3-5 % slower.
      _mm_prefetch(reinterpret_cast<const char*>(pb + 8 * NV * W), _MM_HINT_T0);
      if constexpr (NV * W * sizeof(typename S::T) > 64)
        _mm_prefetch(reinterpret_cast<const char*>(pb + 8 * NV * W + W), _MM_HINT_T0);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const V ai = S::bcast(pa + i);
        acc0[i] = S::fma(ai, b0, acc0[i]);
        if constexpr (NV == 2) acc1[i] = S::fma(ai, b1, acc1[i]);
      }
      pa += MR;
      pb += NV * W;
    }
  };
  // C's tile is fetched halfway through the k loop, so its lines (in L3 or memory for a big C,
  // which the epilogue reads for every K block after the first and writes for every block) arrive
  // by the epilogue and are not evicted before it by the B panel that fills L1. Without this the
  // epilogue waited on them: 2048^3 ran at 94 GFLOP/s, 2048 x 64 x 2048 at 59, against 100 and 78
  // with it (one Zen 4 core); prefetching at the start of the loop did no better.
  steps(kc / 2);
  constexpr int kRowBytes = NV * W * int(sizeof(typename S::T));
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    const char* ci = reinterpret_cast<const char*>(c + i * ldc);
#pragma GCC unroll 4
    for (int off = 0; off < kRowBytes; off += 64) _mm_prefetch(ci + off, _MM_HINT_T0);
    _mm_prefetch(ci + kRowBytes - 1, _MM_HINT_T0);  // the row's last line when C is unaligned
  }
  steps(kc - kc / 2);
  const V va = S::set1(alpha);
  V bias0 = S::zero(), bias1 = S::zero();
  if (bias) {
    bias0 = S::load(bias);
    if constexpr (NV == 2) bias1 = S::load(bias + W);
  }
  if (beta == 0 && alpha == 1) {
    // The common case (a plain product, a Linear layer's bias): no multiply, so at small kc
    // (a K = 10 layer: 10 FMAs per output vector) the epilogue leaves the FMA pipes to the
    // next tile; the bias add runs on the adder pipes where a CPU has separate ones.
    if (bias) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        acc0[i] = S::add(acc0[i], bias0);
        if constexpr (NV == 2) acc1[i] = S::add(acc1[i], bias1);
      }
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      typename S::T* ci = c + i * ldc;
      S::store(ci, acc0[i]);
      if constexpr (NV == 2) S::store(ci + W, acc1[i]);
    }
  } else if (beta == 0) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      typename S::T* ci = c + i * ldc;
      S::store(ci, S::fma(acc0[i], va, bias0));
      if constexpr (NV == 2) S::store(ci + W, S::fma(acc1[i], va, bias1));
    }
  } else {
    const V vb = S::set1(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      typename S::T* ci = c + i * ldc;
      S::store(ci, S::add(S::fma(acc0[i], va, S::mul(vb, S::load(ci))), bias0));
      if constexpr (NV == 2)
        S::store(ci + W, S::add(S::fma(acc1[i], va, S::mul(vb, S::load(ci + W))), bias1));
    }
  }
}

// About n vector FMAs in independent chains, as many as the register file holds with room to spare
// (24 of AVX-512's 32 registers, 12 of AVX2's 16): enough to keep two FMA pipes of 4-5 cycle
// latency busy, so timing it gives the core's FMA throughput (the benchmarks' "% of peak"). With
// 24 chains on AVX2 eight of them lived on the stack, a load and a store per FMA, and a Zen 3 core
// measured 89 GFLOP/s where the GEMM micro-kernel alone ran at 102. Returns one lane of the sum so
// that the loop cannot be dropped.
template <class S>
constexpr int fma_chains() {
  return S::NREG - 4 < 24 ? S::NREG - 4 : 24;
}

template <class S>
typename S::T fma_loop(int64_t n) {
  using V = typename S::V;
  constexpr int C = fma_chains<S>();
  V acc[C];
#pragma GCC unroll 24
  for (int i = 0; i < C; ++i) acc[i] = S::set1(typename S::T(i));
  const V a = S::set1(typename S::T(0.999)), b = S::set1(typename S::T(0.001));
  for (int64_t r = 0; r < n / C; ++r) {
#pragma GCC unroll 24
    for (int i = 0; i < C; ++i) acc[i] = S::fma(acc[i], a, b);
  }
#pragma GCC unroll 24
  for (int i = 1; i < C; ++i) acc[0] = S::add(acc[0], acc[i]);
  alignas(64) typename S::T out[S::W];
  S::store(out, acc[0]);
  return out[0];
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
