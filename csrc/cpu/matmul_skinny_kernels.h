// The no-packing GEMM kernels: "skinny" problems with min(M, N) <= 16, and small ones whose
// operands all fit in L2 (the driver, csrc/cpu/matmul.cpp, chooses them and prepares the operands),
// written once over a vector-traits struct and shared by matmul_avx512.cpp and matmul_avx2.cpp like
// matmul_ukernel.h. The traits add to the micro-kernel's set: NREG (vector registers), SKINNY_MAX
// (the largest small dimension the unit instantiates; the driver cuts larger ones in chunks),
// load_n / store_n (first n lanes, the rest zero / untouched, no access past them), reduce
// (lane l of the result = the sum of the lanes of v[l], v[W]) and, for dot_in_place only,
// IN_PLACE_ROWS (rows per block, RB) and lane_group(v, g, J) (lanes g*J .. g*J+J-1 moved to 0 ..).
//
// Why: with N = 10 (a 10-class classifier layer) every element of the big operand is used only 10
// times, so the packed path's copy of it is a large share of the memory traffic. Here the big
// operand is read once, straight from the caller's array; dot's small one (K x N) is repacked by
// the driver. A small problem is all in cache, so the copies would cost as much as the product.
//   dot   (N <= 16, op(A) rows contiguous along K): R rows of A x J = N columns of B, J * R vector
//         accumulators along K, reduced across lanes at the end. B comes packed as bp[k/W][j][W]
//         (zero past K), so one pointer walks it.
//   dot_in_place (short M, op(A) rows and op(B) columns contiguous along K, i.e. X @ W^T): like
//         dot, but B is read in place too, in panels of J = W/2 columns that stay in L1 while
//         the rows of A stream past in pairs; the 2 x J sums of a block fill one reduction.
//   bcast (M <= 16 rows at a time, op(B) rows contiguous along N): for each k, MB broadcasts of
//         A(m, k) times NB vectors of B's row k into MB x NB accumulators. A is read in place with
//         any strides (the MB row offsets stay in registers); a small problem's rows come in
//         chunks from the driver.
// Both finish with the packed path's epilogue (alpha, beta, bias) on vectors when C's columns are
// contiguous, element by element otherwise (a transposed problem writes C^T); bcast stores
// straight from the accumulators in the common case (alpha 1, beta 0, a row bias or none).
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS (the unit's ISA namespace) before including matmul_skinny_kernels.h"
#endif
#include <immintrin.h>

#include <cstdint>

#include "cpu/matmul_skinny.h"

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

// Register budget: R rows x J columns of accumulators + R vectors of A + 1 of B (dot), MB x NB
// accumulators + NB vectors of B + 1 broadcast (bcast), all within NREG registers.
constexpr int skinny_clamp(int x, int lo, int hi) { return x < lo ? lo : x > hi ? hi : x; }
template <class S>
constexpr int dot_rows(int J) {
  return skinny_clamp((S::NREG - 1) / (J + 1), 1, 8);
}
template <class S>
constexpr int bcast_vectors(int MB) {
  return skinny_clamp((S::NREG - 1) / (MB + 1), 1, 4);
}

// C(i, j + l) = alpha * s[l] + beta * C(i, j + l) + bias(i, j + l) for l < n (beta == 0: C unread),
// with the micro-kernel epilogue's operation order. The arithmetic is on vectors; a C or bias
// that is not contiguous along j (a transposed problem) is gathered / scattered through a buffer.
template <class S>
inline __attribute__((always_inline)) void store_out(const GemmProblem<typename S::T>& p, int64_t i,
                                                     int64_t j, typename S::V s, int n) {
  using T = typename S::T;
  using V = typename S::V;
  alignas(64) T t[S::W];
  T* cp = p.c + i * p.c_rs + j * p.c_cs;
  const T* bp = p.bias ? p.bias + i * p.bias_rs + j * p.bias_cs : nullptr;
  const V va = S::set1(p.alpha);
  V bias = S::zero();
  if (bp) {
    if (p.bias_cs == 1) {
      bias = S::load_n(bp, n);
    } else if (p.bias_cs == 0) {
      bias = S::set1(*bp);
    } else {
      for (int l = 0; l < n; ++l) t[l] = bp[l * p.bias_cs];
      bias = S::load_n(t, n);
    }
  }
  V v;
  if (p.beta == 0) {
    v = bp ? S::fma(s, va, bias) : S::mul(s, va);
  } else {
    V c;
    if (p.c_cs == 1) {
      c = S::load_n(cp, n);
    } else {
      for (int l = 0; l < n; ++l) t[l] = cp[l * p.c_cs];
      c = S::load_n(t, n);
    }
    v = S::fma(s, va, S::mul(S::set1(p.beta), c));
    if (bp) v = S::add(v, bias);
  }
  if (p.c_cs == 1) {
    S::store_n(cp, v, n);
  } else {
    S::store(t, v);
    for (int l = 0; l < n; ++l) cp[l * p.c_cs] = t[l];
  }
}

// ---- dot: rows i .. i+R of C, all J = p.N columns ----------------------------------------------

// Keeps v in a register: without this GCC folds B's load into each of the R FMAs that use it, so
// the loop loads every B vector R times (22 loads per 20 FMAs at N = 10, where 12 suffice). With
// R = 1 the folded form is one instruction fewer, so it is left alone there.
template <class V>
inline __attribute__((always_inline)) void in_register(V& v) {
  __asm__("" : "+v"(v));
}

// acc[r][c] = the dot product over k < K of row r of A (at ar[r], contiguous) with column c
// of B, whose W lanes from k are load_b(c, k) (W-aligned k) and, in the K tail, load_b_tail(c, k,
// n) (lanes past n zero). A's lanes past K load as zero too. ahead != 0: each cache line of
// the rows is paired with a prefetch of the line `ahead` elements further on.
template <class S, int R, int J, class LoadB, class LoadBTail>
inline __attribute__((always_inline)) void dot_sums(typename S::V (&acc)[R][J],
                                                    const typename S::T* const (&ar)[R], int64_t K,
                                                    LoadB load_b, LoadBTail load_b_tail,
                                                    int64_t ahead = 0) {
  using V = typename S::V;
  constexpr int W = S::W;
  constexpr int64_t kLine = 64 / sizeof(typename S::T);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < J; ++c) acc[r][c] = S::zero();
  int64_t k = 0;
  for (; k + W <= K; k += W) {
    V av[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) av[r] = S::load(ar[r] + k);
    if (ahead && (k & (kLine - 1)) == 0)
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) __builtin_prefetch(ar[r] + ahead + k);
#pragma GCC unroll 16
    for (int c = 0; c < J; ++c) {
      V bv = load_b(c, k);
      if constexpr (R > 1) in_register(bv);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][c] = S::fma(av[r], bv, acc[r][c]);
    }
  }
  if (k < K) {
    const int n = static_cast<int>(K - k);
    V av[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) av[r] = S::load_n(ar[r] + k, n);
#pragma GCC unroll 16
    for (int c = 0; c < J; ++c) {
      const V bv = load_b_tail(c, k, n);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][c] = S::fma(av[r], bv, acc[r][c]);
    }
  }
}

template <class S, int R, int J>
inline __attribute__((always_inline)) void dot_block(const GemmProblem<typename S::T>& p,
                                                     const typename S::T* bp, int64_t i) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  V acc[R][J];
  const T* ar[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) ar[r] = p.a + (i + r) * p.a_rs;
  // The packed B holds W lanes of each of the J columns per W values of k (zero past K).
  auto load_b = [bp](int c, int64_t k) { return S::load(bp + k * J + c * W); };
  dot_sums<S, R, J>(
      acc, ar, p.K, load_b, [&](int c, int64_t k, int) { return load_b(c, k); }, p.a_ahead);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int g = 0; g * W < J; ++g) {
      V v[W];
#pragma GCC unroll 16
      for (int l = 0; l < W; ++l) v[l] = g * W + l < J ? acc[r][g * W + l] : S::zero();
      store_out<S>(p, i + r, g * W, S::reduce(v), J - g * W < W ? J - g * W : W);
    }
  }
}

template <class S, int J>
void dot_range(const GemmProblem<typename S::T>& p, const typename S::T* bp, int64_t i0,
               int64_t i1) {
  constexpr int R = dot_rows<S>(J);
  int64_t i = i0;
  for (; i + R <= i1; i += R) dot_block<S, R, J>(p, bp, i);
  for (; i < i1; ++i) dot_block<S, 1, J>(p, bp, i);
}

template <class S, int J>
constexpr auto dot_fn() {
  using Fn = void (*)(const GemmProblem<typename S::T>&, const typename S::T*, int64_t, int64_t);
  if constexpr (J <= S::SKINNY_MAX)
    return Fn(&dot_range<S, J>);
  else
    return Fn(nullptr);
}

// Rows [i0, i1) of C for 1 <= p.N <= S::SKINNY_MAX.
template <class S>
void skinny_dot(const GemmProblem<typename S::T>& p, const typename S::T* bp, int64_t i0,
                int64_t i1) {
  static constexpr decltype(dot_fn<S, 1>()) fns[16] = {
      dot_fn<S, 1>(),  dot_fn<S, 2>(),  dot_fn<S, 3>(),  dot_fn<S, 4>(),
      dot_fn<S, 5>(),  dot_fn<S, 6>(),  dot_fn<S, 7>(),  dot_fn<S, 8>(),
      dot_fn<S, 9>(),  dot_fn<S, 10>(), dot_fn<S, 11>(), dot_fn<S, 12>(),
      dot_fn<S, 13>(), dot_fn<S, 14>(), dot_fn<S, 15>(), dot_fn<S, 16>()};
  fns[p.N - 1](p, bp, i0, i1);
}

// ---- dot_in_place: short M, op(A) and op(B) contiguous along K, B read in place -----------------

// Rows i .. i+R (R <= RB = S::IN_PLACE_ROWS) of C by columns j .. j+jn (jn <= J = W / RB): R x J
// accumulators along K, reduced in one pass (lane r*J + c holds C(i + r, j + c)). Columns past jn
// re-read column jn - 1 and are not stored, so a narrow last panel needs no other code.
template <class S, int R>
inline __attribute__((always_inline)) void in_place_block(const GemmProblem<typename S::T>& p,
                                                          int64_t i, int64_t j, int jn) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W, J = W / S::IN_PLACE_ROWS;
  V acc[R][J];
  const T* ar[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) ar[r] = p.a + (i + r) * p.a_rs;
  const T* bc[J];
#pragma GCC unroll 8
  for (int c = 0; c < J; ++c) bc[c] = p.b + (j + (c < jn ? c : jn - 1)) * p.b_cs;
  dot_sums<S, R, J>(
      acc, ar, p.K, [&](int c, int64_t k) { return S::load(bc[c] + k); },
      [&](int c, int64_t k, int n) { return S::load_n(bc[c] + k, n); });
  V v[W];
#pragma GCC unroll 16
  for (int l = 0; l < W; ++l) v[l] = l / J < R ? acc[l / J][l % J] : S::zero();
  const V s = S::reduce(v);
  store_out<S>(p, i, j, s, jn);
#pragma GCC unroll 4
  for (int r = 1; r < R; ++r) store_out<S>(p, i + r, j, S::lane_group(s, r, J), jn);
}

// Columns [j0, j1) of C, all rows: panels of J columns of B, each kept in L1 while the rows of A
// stream past it RB at a time.
template <class S>
void dot_in_place(const GemmProblem<typename S::T>& p, int64_t j0, int64_t j1) {
  constexpr int RB = S::IN_PLACE_ROWS, J = S::W / RB;
  for (int64_t j = j0; j < j1; j += J) {
    const int jn = static_cast<int>(j1 - j < J ? j1 - j : J);
    int64_t i = 0;
    for (; i + RB <= p.M; i += RB) in_place_block<S, RB>(p, i, j, jn);
    const int64_t left = p.M - i;
    if constexpr (RB > 3)
      if (left == 3) in_place_block<S, 3>(p, i, j, jn);
    if constexpr (RB > 2)
      if (left == 2) in_place_block<S, 2>(p, i, j, jn);
    if (left == 1) in_place_block<S, 1>(p, i, j, jn);
  }
}

// ---- bcast: all MB = p.M rows of C, columns j .. j + NB*W (the last vector `last` lanes wide) ---

template <class S, int MB, int NB, bool TAIL>
inline __attribute__((always_inline)) void bcast_block(const GemmProblem<typename S::T>& p,
                                                       int64_t j, int last) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  V acc[MB][NB];
#pragma GCC unroll 16
  for (int m = 0; m < MB; ++m)
#pragma GCC unroll 4
    for (int v = 0; v < NB; ++v) acc[m][v] = S::zero();
  const T* a = p.a;
  const T* b = p.b + j;
  const int64_t ars = p.a_rs;
  for (int64_t k = 0; k < p.K; ++k, a += p.a_cs, b += p.b_rs) {
    V bv[NB];
#pragma GCC unroll 4
    for (int v = 0; v < NB; ++v)
      bv[v] = TAIL && v == NB - 1 ? S::load_n(b + v * W, last) : S::load(b + v * W);
#pragma GCC unroll 16
    for (int m = 0; m < MB; ++m) {
      const V am = S::set1(a[m * ars]);
#pragma GCC unroll 4
      for (int v = 0; v < NB; ++v) acc[m][v] = S::fma(am, bv[v], acc[m][v]);
    }
  }
  const bool row_bias = !p.bias || (p.bias_rs == 0 && p.bias_cs == 1);
  if (p.c_cs == 1 && p.beta == 0 && p.alpha == 1 && row_bias) {
    V bias[NB];
#pragma GCC unroll 4
    for (int v = 0; v < NB; ++v)
      bias[v] = !p.bias               ? S::zero()
                : TAIL && v == NB - 1 ? S::load_n(p.bias + j + v * W, last)
                                      : S::load(p.bias + j + v * W);
#pragma GCC unroll 16
    for (int m = 0; m < MB; ++m)
#pragma GCC unroll 4
      for (int v = 0; v < NB; ++v) {
        T* cp = p.c + m * p.c_rs + j + v * W;
        const V r = S::add(acc[m][v], bias[v]);
        if (TAIL && v == NB - 1)
          S::store_n(cp, r, last);
        else
          S::store(cp, r);
      }
    return;
  }
#pragma GCC unroll 16
  for (int m = 0; m < MB; ++m)
#pragma GCC unroll 4
    for (int v = 0; v < NB; ++v)
      store_out<S>(p, m, j + v * W, acc[m][v], TAIL && v == NB - 1 ? last : W);
}

template <class S, int MB>
void bcast_range(const GemmProblem<typename S::T>& p, int64_t j0, int64_t j1) {
  constexpr int W = S::W, NB = bcast_vectors<S>(MB);
  int64_t j = j0;
  for (; j + NB * W <= j1; j += NB * W) bcast_block<S, MB, NB, false>(p, j, W);
  if (j >= j1) return;
  // The remaining 1 .. NB vectors in one block, the last one `last` lanes wide.
  const int64_t rem = j1 - j;
  const int vecs = static_cast<int>((rem + W - 1) / W);
  const int last = static_cast<int>(rem - (vecs - 1) * W);
  if (vecs == NB) return bcast_block<S, MB, NB, true>(p, j, last);
  if constexpr (NB >= 4)
    if (vecs == 3) return bcast_block<S, MB, 3, true>(p, j, last);
  if constexpr (NB >= 3)
    if (vecs == 2) return bcast_block<S, MB, 2, true>(p, j, last);
  bcast_block<S, MB, 1, true>(p, j, last);
}

template <class S, int MB>
constexpr auto bcast_fn() {
  using Fn = void (*)(const GemmProblem<typename S::T>&, int64_t, int64_t);
  if constexpr (MB <= S::SKINNY_MAX)
    return Fn(&bcast_range<S, MB>);
  else
    return Fn(nullptr);
}

// Columns [j0, j1) of C for 1 <= p.M <= S::SKINNY_MAX.
template <class S>
void skinny_bcast(const GemmProblem<typename S::T>& p, int64_t j0, int64_t j1) {
  static constexpr decltype(bcast_fn<S, 1>()) fns[16] = {
      bcast_fn<S, 1>(),  bcast_fn<S, 2>(),  bcast_fn<S, 3>(),  bcast_fn<S, 4>(),
      bcast_fn<S, 5>(),  bcast_fn<S, 6>(),  bcast_fn<S, 7>(),  bcast_fn<S, 8>(),
      bcast_fn<S, 9>(),  bcast_fn<S, 10>(), bcast_fn<S, 11>(), bcast_fn<S, 12>(),
      bcast_fn<S, 13>(), bcast_fn<S, 14>(), bcast_fn<S, 15>(), bcast_fn<S, 16>()};
  fns[p.M - 1](p, j0, j1);
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
