// matmul: C = alpha * op(A) @ op(B) + beta * C + bias, float32 and float64, (batched) GEMM.
//   op(A): (M, K), op(B): (K, N), C: (M, N), bias: (N,) broadcast over rows. Shapes and element
//   strides come in a MatmulLayout (csrc/cpu/fastnn_cpu.h); a transpose is a swap of strides.
// Algorithm: the GotoBLAS / BLIS five loops (Goto & van de Geijn, "Anatomy of high-performance
// matrix multiplication", TOMS 2008; BLIS bli_gemm_ker_var2):
//   for jc in N step NC:            B block (KC x NC) lives in L3
//     for pc in K step KC:          pack op(B)[pc:, jc:] into NR-wide panels  (pb[panel][k][NR])
//       for ic in M step MC:        A block (MC x KC) lives in L2
//         pack op(A)[ic:, pc:] into MR-tall panels (pa[panel][k][MR])
//         for jr in NC step NR:     B micro-panel (KC x NR) stays in L1
//           for ir in MC step MR:   micro-kernel: MR x NR register tile += pa panel (x) pb panel
// Packing reads through arbitrary element strides, so transposed, strided and negative-stride
// operands cost nothing extra and are never copied whole. The edges take smaller instances of the
// micro-kernel where a full tile would be mostly padding (the tail kernel's rows, half-width
// panels: RowTiles); zero padding of the last panels covers the rest, and partial tiles go
// through a small buffer.
// The epilogue (alpha, beta, bias) is fused into the micro-kernel's store on the first K block;
// later K blocks accumulate into C. beta == 0 never reads C (BLAS semantics: NaN in `out` is
// discarded). No fast-math: NaN/inf in A or B propagate.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>

#include "cpu/cpu_caches.h"
#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/gemm_ukernels.h"
#include "cpu/matmul_config.h"
#include "cpu/matmul_packed.h"
#include "cpu/matmul_skinny.h"
#include "cpu/parallel.h"
#include "cpu/scratch.h"

namespace fastnn {

// ---- the SIMD units' entry points (see [note: ISA units]) ---------------------------------------
// The micro-kernels are declared in cpu/gemm_ukernels.h.
// The skinny kernels (csrc/cpu/matmul_skinny_kernels.h). dot: rows [i0, i1) of C for p.N <= the
// unit's limit, op(A) rows contiguous (p.a_cs == 1), op(B) packed as bp[k/W][j][W] (zero past K).
// bcast: columns [j0, j1) of C for p.M <= the limit, op(A)(m, k) at p.a[m + k*p.a_cs] (a_rs == 1),
// op(B) rows contiguous (p.b_cs == 1).
void gemm_skinny_dot_f32_avx512(const GemmProblem<float>& p, const float* bp, int64_t i0,
                                int64_t i1);
void gemm_skinny_dot_f64_avx512(const GemmProblem<double>& p, const double* bp, int64_t i0,
                                int64_t i1);
void gemm_skinny_bcast_f32_avx512(const GemmProblem<float>& p, int64_t j0, int64_t j1);
void gemm_skinny_bcast_f64_avx512(const GemmProblem<double>& p, int64_t j0, int64_t j1);
// dot_in_place: columns [j0, j1) of C, all rows, for a short M with op(A) rows and op(B) columns
// both contiguous along K (p.a_cs == p.b_rs == 1); nothing is packed.
void gemm_dot_in_place_f32_avx512(const GemmProblem<float>& p, int64_t j0, int64_t j1);
void gemm_dot_in_place_f32_avx2(const GemmProblem<float>& p, int64_t j0, int64_t j1);
void gemm_skinny_dot_f32_avx2(const GemmProblem<float>& p, const float* bp, int64_t i0, int64_t i1);
void gemm_skinny_dot_f64_avx2(const GemmProblem<double>& p, const double* bp, int64_t i0,
                              int64_t i1);
void gemm_skinny_bcast_f32_avx2(const GemmProblem<float>& p, int64_t j0, int64_t j1);
void gemm_skinny_bcast_f64_avx2(const GemmProblem<double>& p, int64_t j0, int64_t j1);

namespace {

// ---- generic micro-kernel (plain C++, auto-vectorised for SSE2) --------------------------------

template <class T, int MR, int NR>
void ukernel_generic(int64_t kc, const T* pa, const T* pb, T* c, int64_t ldc, T alpha, T beta,
                     const T* bias) {
  T acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i) {
      const T ai = pa[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * pb[j];
    }
    pa += MR;
    pb += NR;
  }
  for (int i = 0; i < MR; ++i) {
    T* ci = c + i * ldc;
    for (int j = 0; j < NR; ++j) {
      T v = alpha * acc[i][j];
      if (beta != T(0)) v += beta * ci[j];
      if (bias) v += bias[j];
      ci[j] = v;
    }
  }
}

// ---- packing ---------------------------------------------------------------------------------

// pa[p][k][r] = op(A)[p*MR + r, k] for the mc x kc block at a (zero rows past mc).
template <class T, int MR>
void pack_a(T* pa, const T* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR, pa += MR * kc) {
    const int64_t rows = std::min<int64_t>(MR, mc - i0);
    const T* ap = a + i0 * rs;
    if (rows < MR) std::memset(pa, 0, sizeof(T) * MR * kc);
    if (rs == 1 && rows == MR) {  // op(A) columns contiguous (A transposed): MR-long copies
      for (int64_t k = 0; k < kc; ++k)
        for (int r = 0; r < MR; ++r) pa[k * MR + r] = ap[k * cs + r];
    } else if (cs == 1) {  // rows contiguous: read along rows, scatter with stride MR
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < kc; ++k) pa[k * MR + r] = ap[r * rs + k];
    } else {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < kc; ++k) pa[k * MR + r] = ap[r * rs + k * cs];
    }
  }
}

// pb[p][k][j] = op(B)[k, p*NR + j] for the kc x nc block at b (zero columns past nc). With
// kHalf, a last panel of at most NR/2 columns is NR/2 wide (for the half-width micro-kernel).
template <class T, int NR, bool kHalf = false>
void pack_b(T* pb, const T* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc) {
  // Rows of op(B) contiguous: blocks of kRows rows, each copied into all the full panels, panel
  // by panel. Each block reads kRows row pieces that advance along memory panel after panel (as
  // many streams for the hardware prefetchers) and writes kRows * NR contiguous elements to each
  // panel. Panel by panel over all of K, each k read one NR-long piece of a row at a stride of the
  // row length, which the prefetchers do not follow; row by row over all panels, each k wrote one
  // line to each of nc / NR panels KC * NR elements apart, lines that all fall in one L1 set when
  // KC * NR * sizeof(T) is a multiple of the L1's way size (24 KiB at KC = 384, NR = 16). Packing
  // a 784 x 256 float32 B on one Zen 3 core: row by row 64 us from L3 and 90-95 us from memory,
  // in blocks of 8 rows 24 us and 68-76 us; panel by panel 31 and 77-86 us. With KC = 256 too.
  constexpr int64_t kRows = 8;
  if (cs == 1 && nc >= NR) {
    const int64_t full = nc / NR;
    for (int64_t k0 = 0; k0 < kc; k0 += kRows) {
      const int64_t kn = std::min(kRows, kc - k0);
      for (int64_t p = 0; p < full; ++p) {
        const T* s = b + k0 * rs + p * NR;
        T* d = pb + p * NR * kc + k0 * NR;
        for (int64_t k = 0; k < kn; ++k)
          for (int j = 0; j < NR; ++j) d[k * NR + j] = s[k * rs + j];
      }
    }
    if (full * NR == nc) return;
    return pack_b<T, NR, kHalf>(pb + full * NR * kc, b + full * NR, rs, cs, kc, nc - full * NR);
  }
  for (int64_t j0 = 0; j0 < nc; j0 += NR, pb += NR * kc) {
    const int64_t cols = std::min<int64_t>(NR, nc - j0);
    const T* bp = b + j0 * cs;
    if (kHalf && 2 * cols <= NR) return pack_b<T, NR / 2>(pb, bp, rs, cs, kc, cols);
    if (cols < NR) std::memset(pb, 0, sizeof(T) * NR * kc);
    if (cs == 1 && cols == NR) {  // rows of op(B) contiguous: NR-long copies
      for (int64_t k = 0; k < kc; ++k)
        for (int j = 0; j < NR; ++j) pb[k * NR + j] = bp[k * rs + j];
    } else if (rs == 1) {  // op(B) columns contiguous (B transposed, e.g. a Linear weight)
      for (int64_t j = 0; j < cols; ++j)
        for (int64_t k = 0; k < kc; ++k) pb[k * NR + j] = bp[j * cs + k];
    } else {
      for (int64_t j = 0; j < cols; ++j)
        for (int64_t k = 0; k < kc; ++k) pb[k * NR + j] = bp[j * cs + k * rs];
    }
  }
}

// The SIMD float32 packers: the K-contiguous cases (row-major op(A), column-major op(B)) are
// transposes, done in registers (16 x 16 blocks on AVX-512, 8 x 8 on AVX2); the other layouts are
// already the packed order.
using PackTransposed = void (*)(float*, const float*, int64_t, int64_t, int64_t, int);

template <int MR, PackTransposed kPack>
void pack_a_f32(float* pa, const float* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc) {
  if (cs != 1) return pack_a<float, MR>(pa, a, rs, cs, mc, kc);
  for (int64_t i0 = 0; i0 < mc; i0 += MR, pa += MR * kc)
    kPack(pa, a + i0 * rs, rs, std::min<int64_t>(MR, mc - i0), kc, MR);
}

// A last panel of at most NR/2 columns is packed NR/2 wide, as pack_b<T, NR, true>: every kernel
// these packers serve has a half-width micro-kernel (Kernel::ukernel_half).
template <int NR, PackTransposed kPack>
void pack_b_f32(float* pb, const float* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc) {
  if (rs != 1) return pack_b<float, NR, true>(pb, b, rs, cs, kc, nc);
  for (int64_t j0 = 0; j0 < nc; j0 += NR, pb += NR * kc) {
    const int64_t cols = std::min<int64_t>(NR, nc - j0);
    kPack(pb, b + j0 * cs, cs, cols, kc, 2 * cols <= NR ? NR / 2 : NR);
  }
}

// ---- kernel table: micro-kernel shape, cache blocking, functions ------------------------------

template <class T>
using UkernelFn = void (*)(int64_t, const T*, const T*, T*, int64_t, T, T, const T*);

template <class T>
struct Kernel {
  int MR, NR;
  int64_t KC, MC, NC;  // MC a multiple of MR, NC of NR
  UkernelFn<T> ukernel;
  void (*pack_a)(T*, const T*, int64_t, int64_t, int64_t, int64_t);
  void (*pack_b)(T*, const T*, int64_t, int64_t, int64_t, int64_t);
  // The edges of a product (see RowTiles and the half panel): ukernel_half is the MR x NR/2 tile
  // of a last column panel that pack_b packs NR/2 wide, and `tail` the kernel of fewer rows
  // (same NR and packers of B) for the last row tiles. nullptr where there is none.
  UkernelFn<T> ukernel_half = nullptr;
  const Kernel* tail = nullptr;
  // The same kernel blocked with deeper K blocks, for products whose C outgrows the L2
  // (with_deep_blocking); nullptr where that blocking is not deeper.
  const Kernel* deep = nullptr;
};

// Built-in blocking, used where the CPU reports no cache sizes (with_blocking below derives the
// blocking from them when it does); tuned on Zen4/5: the KC x NR B micro-panel is 32 KiB (AVX-512)
// / 16 KiB (AVX2), the MC x KC A block ~240 KiB, the KC x NC B block a few MiB of L3.
template <class T, int MR, int NR>
constexpr Kernel<T> make_kernel(int64_t KC, int64_t MC, int64_t NC, UkernelFn<T> uk,
                                UkernelFn<T> uk_half = nullptr) {
  return Kernel<T>{
      MR,     NR, KC, MC, NC, uk, &pack_a<T, MR>, uk_half ? &pack_b<T, NR, true> : &pack_b<T, NR>,
      uk_half};
}

// The AVX-512 and AVX2 float32 kernels pack with the in-register transposers (pack_*_f32).
template <int MR>
constexpr Kernel<float> make_f32_avx512(UkernelFn<float> uk, UkernelFn<float> uk_half) {
  return Kernel<float>{MR,
                       32,
                       256,
                       240,
                       3072,
                       uk,
                       &pack_a_f32<MR, &gemm_pack_transposed_f32_avx512>,
                       &pack_b_f32<32, &gemm_pack_transposed_f32_avx512>,
                       uk_half};
}

const Kernel<float> kF32Avx512 =
    make_f32_avx512<12>(&gemm_ukernel_f32_avx512, &gemm_ukernel_half_f32_avx512);
const Kernel<double> kF64Avx512 = make_kernel<double, 12, 16>(
    256, 120, 1536, &gemm_ukernel_f64_avx512, &gemm_ukernel_half_f64_avx512);
// A row-major A (a batch X, 3 KiB rows at K = 784) is packed six rows at a time, six short
// strided streams that the hardware prefetcher follows poorly; prefetching the next six rows
// made 256 x 784 @ 784 x 256 4-6 % faster on one Zen 3 core, with X in memory or in L3.
// Prefetching while packing B did nothing measurable.
const Kernel<float> kF32Avx2{6,
                             16,
                             256,
                             144,
                             3072,
                             &gemm_ukernel_f32_avx2,
                             &pack_a_f32<6, &gemm_pack_transposed_ahead_f32_avx2>,
                             &pack_b_f32<16, &gemm_pack_transposed_f32_avx2>,
                             &gemm_ukernel_half_f32_avx2};
const Kernel<double> kF64Avx2 =
    make_kernel<double, 6, 8>(256, 96, 1536, &gemm_ukernel_f64_avx2, &gemm_ukernel_half_f64_avx2);
const Kernel<float> kF32Generic =
    make_kernel<float, 4, 8>(256, 128, 2048, &ukernel_generic<float, 4, 8>);
const Kernel<double> kF64Generic =
    make_kernel<double, 4, 4>(256, 128, 1024, &ukernel_generic<double, 4, 4>);

inline int64_t clamp_down(int64_t x, int64_t multiple, int64_t lo, int64_t hi) {
  return std::clamp(x / multiple * multiple, lo, hi);
}

// The blocking from this CPU's caches (the BLIS model's three rules, each with the share that
// reproduces the built-in constants, measured best on Zen4, on that CPU's caches):
//   KC: the B micro-panel (KC x NR), reused by every A micro-panel of a block, fills L1d; the
//       A micro-panel (MR x KC) streams past it from L2 under the micro-kernel's prefetch. A
//       deeper panel spreads the C tile's loads and stores over more FMAs.
//   MC: the packed A block (MC x KC) takes a quarter of L2, leaving room for B's panels, the
//       C rows in flight and the next A block;
//   NC: the packed B block (KC x NC) takes a quarter of this core's share of L3.
// Bounds keep a misreported cache from producing degenerate blocks.
template <class T>
Kernel<T> with_blocks_for_kc(Kernel<T> k) {  // the MC and NC rules, for the KC that k has
  const CacheSizes& cs = cache_sizes();
  const int64_t s = sizeof(T);
  if (cs.l2 > 0) k.MC = clamp_down(cs.l2 / 4 / (k.KC * s), k.MR, 4 * k.MR, 64 * k.MR);
  if (cs.l3 > 0) k.NC = clamp_down(cs.l3 / 4 / (k.KC * s), k.NR, 16 * k.NR, 256 * k.NR);
  return k;
}

template <class T>
Kernel<T> with_blocking(Kernel<T> k) {
  const int64_t l1d = cache_sizes().l1d;
  if (l1d > 0) k.KC = clamp_down(l1d / (k.NR * int64_t(sizeof(T))), 16, 128, 384);
  return with_blocks_for_kc(k);
}

// Deep K blocks for a product whose C does not stay in L2. Each K block is one pass over C, whose
// tiles the micro-kernel then reads and writes from L3 or memory; fewer, deeper blocks save those
// passes at the price of a B micro-panel that no longer fits L1 (it streams from L2, which keeps
// up). KC: the deepest block (up to 1024) at which an A block of ten register tiles still takes
// a quarter of the L2; MC and NC from KC as in with_blocking. On one Sapphire Rapids core (2 MiB
// L2, KC 384 -> 1024, MC 336 -> 120), GFLOP/s over two rounds: 2048^3 159-168 -> 175, 1024 x 4096 x
// 1024 150-162 -> 167-181, 2048 x 512 x 2048 153-158 -> 171-174; two cores 2048^3 287-299 ->
// 317-322, 2048 x 512 x 2048 316-322 -> 341-348. Where C fits the L2 the passes are cheap and the
// L1-sized panel wins: 96 x 784 x 512 ran 150-154 against 134 with KC = 1024.
template <class T>
Kernel<T> with_deep_blocking(Kernel<T> k) {
  const int64_t l2 = cache_sizes().l2;
  if (l2 <= 0) return k;
  const int64_t kc = clamp_down(l2 / 4 / (int64_t(sizeof(T)) * 10 * k.MR), 16, 128, 1024);
  if (kc <= k.KC) return k;
  k.KC = kc;
  return with_blocks_for_kc(k);
}

// The tail kernels, for the last row tiles of a product (RowTiles below): of the 12-row AVX-512
// kernels the 8-row ones (gemm_ukernel8_*, also the convolutions'), of the 6-row AVX2 ones the
// 4-row ones. 6-row tiles alone compute 36 rows of a 32-row product, 4 x 6 + 2 x 4 none too many:
// on one Zen 3 core, best of four interleaved runs, 32 x 784 x 256 went from 53 GFLOP/s to 68 and
// 64 x 784 x 256 from 66 to 76 with these tails and pack_b's blocks of rows together.
const Kernel<float> kF32Avx512x8 =
    make_f32_avx512<8>(&gemm_ukernel8_f32_avx512, &gemm_ukernel8_half_f32_avx512);
const Kernel<double> kF64Avx512x8 = make_kernel<double, 8, 16>(
    256, 120, 1536, &gemm_ukernel8_f64_avx512, &gemm_ukernel8_half_f64_avx512);
const Kernel<float> kF32Avx2x4{4,
                               16,
                               256,
                               144,
                               3072,
                               &gemm_ukernel4_f32_avx2,
                               &pack_a_f32<4, &gemm_pack_transposed_ahead_f32_avx2>,
                               &pack_b_f32<16, &gemm_pack_transposed_f32_avx2>,
                               &gemm_ukernel4_half_f32_avx2};
const Kernel<double> kF64Avx2x4 =
    make_kernel<double, 4, 8>(256, 96, 1536, &gemm_ukernel4_f64_avx2, &gemm_ukernel4_half_f64_avx2);

// The kernels of each ISA (generic, AVX2, AVX-512) blocked for this CPU, each with its tail kernel
// (none on the generic path). With `deep`, each links its entry there where that one's K blocks
// are deeper; without, the table is the deep-blocked one.
template <class T>
IsaTable<Kernel<T>> blocked_table(const std::array<Kernel<T>, 3>& kernels,
                                  const std::array<const Kernel<T>*, 3>& tails,
                                  const IsaTable<Kernel<T>>* deep) {
  IsaTable<Kernel<T>> table;
  for (size_t i = 0; i < kernels.size(); ++i) {
    Kernel<T> k = with_blocking(kernels[i]);
    if (!deep) k = with_deep_blocking(k);
    k.tail = tails[i];
    if (deep && deep->entries[i].KC > k.KC) k.deep = &deep->entries[i];
    table.entries[i] = k;
  }
  return table;
}

// By ISA (IsaTable, cpu/cpu_features.h), blocked at first use.
const Kernel<float>& kernel_for(Isa isa, float*) {
  static const Kernel<float> rows8 = with_blocking(kF32Avx512x8), rows4 = with_blocking(kF32Avx2x4);
  static const std::array<Kernel<float>, 3> kernels{kF32Generic, kF32Avx2, kF32Avx512};
  static const std::array<const Kernel<float>*, 3> tails{nullptr, &rows4, &rows8};
  static const IsaTable<Kernel<float>> deep = blocked_table<float>(kernels, tails, nullptr);
  static const IsaTable<Kernel<float>> table = blocked_table(kernels, tails, &deep);
  return table[isa];
}
const Kernel<double>& kernel_for(Isa isa, double*) {
  static const Kernel<double> rows8 = with_blocking(kF64Avx512x8);
  static const Kernel<double> rows4 = with_blocking(kF64Avx2x4);
  static const std::array<Kernel<double>, 3> kernels{kF64Generic, kF64Avx2, kF64Avx512};
  static const std::array<const Kernel<double>*, 3> tails{nullptr, &rows4, &rows8};
  static const IsaTable<Kernel<double>> deep = blocked_table<double>(kernels, tails, nullptr);
  static const IsaTable<Kernel<double>> table = blocked_table(kernels, tails, &deep);
  return table[isa];
}

// ---- per-thread packing buffers ----------------------------------------------------------------

// One pair of 64-byte aligned buffers per thread (pool workers and Python callers alike), grown on
// demand and kept: a training step calls GEMM thousands of times with the same shapes, so after
// the first call no GEMM allocates. Per thread, so concurrent callers never share one.
struct PackBuffers {
  void* ptr[3] = {nullptr, nullptr, nullptr};
  size_t cap[3] = {0, 0, 0};
  ~PackBuffers() {
    for (void* p : ptr) std::free(p);
  }
  void* get(int which, size_t bytes) {
    if (cap[which] < bytes) {
      std::free(ptr[which]);
      bytes = (bytes + 4095) & ~size_t(4095);
      ptr[which] = std::aligned_alloc(64, bytes);
      if (!ptr[which]) {
        cap[which] = 0;
        throw std::bad_alloc();
      }
      cap[which] = bytes;
    }
    return ptr[which];
  }
};
thread_local PackBuffers tls_buffers;

// ---- one GEMM on one thread --------------------------------------------------------------------

// A single-threaded GEMM with general C strides and bias strides (GemmProblem,
// cpu/matmul_skinny.h): bias value for C(i, j) is bias[i*bias_rs + j*bias_cs]. The fast store
// (straight from registers) needs unit column stride of C and a row-broadcast contiguous bias;
// anything else goes through the tile buffer.
template <class T>
using Problem = GemmProblem<T>;

// C^T = op(B)^T op(A)^T: the same problem with the roles of rows and columns swapped.
template <class T>
Problem<T> transposed(Problem<T> P) {
  std::swap(P.M, P.N);
  std::swap(P.a, P.b);
  const int64_t a_rs = P.a_rs, a_cs = P.a_cs;
  P.a_rs = P.b_cs, P.a_cs = P.b_rs;
  P.b_rs = a_cs, P.b_cs = a_rs;
  std::swap(P.c_rs, P.c_cs);
  std::swap(P.bias_rs, P.bias_cs);
  return P;
}

template <class T>
void store_tile(const Problem<T>& P, const T* tile, int NR, int64_t i0, int64_t j0, int64_t mr,
                int64_t nr, T beta, const T* bias) {
  for (int64_t i = 0; i < mr; ++i) {
    for (int64_t j = 0; j < nr; ++j) {
      T* cij = P.c + (i0 + i) * P.c_rs + (j0 + j) * P.c_cs;
      T v = P.alpha * tile[i * NR + j];
      if (beta != T(0)) v += beta * *cij;
      if (bias) v += bias[(i0 + i) * P.bias_rs + (j0 + j) * P.bias_cs];
      *cij = v;
    }
  }
}

// The row tiles of an M-row output. A run of rows takes tiles of kr.MR rows, then as many tiles
// of the tail kernel's rows (none, one or two) as leave the fewest padding rows: 256 rows run as
// 20 x 12 + 2 x 8 where 12-row tiles alone would compute 264 (3 % of the work). Split among
// threads, the rows are cut into `parts` runs of equal length (a multiple of 4 rows, which tiles
// with no padding: only the last run can have some), one per thread, each tiled so: two threads
// take 128 = 10 x 12 + 8 rows each of 256, where tiles of 12 with the tails at the end would give
// one 132 rows and the other 124. Every element of C is still one micro-kernel's sum over k in
// order, whatever tile holds it, so the bits do not depend on the tiling, nor therefore on the
// number of threads.
template <class T>
class RowTiles {
 public:
  RowTiles(const Kernel<T>& k, int64_t m, int parts = 1) : kr_(&k), M_(m) {
    run_rows_ = M_;
    if (k.tail && parts > 1)  // 8, 12, 16, ... rows split into tiles with no padding
      run_rows_ = std::max<int64_t>(8, ((M_ + parts - 1) / parts + 3) / 4 * 4);
    runs_ = (M_ + run_rows_ - 1) / run_rows_;
    run_ = split(run_rows_);
    last_ = split(M_ - (runs_ - 1) * run_rows_);
    count = (runs_ - 1) * run_.count + last_.count;
  }
  int64_t count;  // tiles in all
  // Tiles in each run but the last; 0 when all rows are one run.
  int64_t tiles_per_run() const { return runs_ > 1 ? run_.count : 0; }

  // First row of tile t (M for t == count).
  int64_t row(int64_t t) const {
    const Place p = place(t);
    const int64_t in_run = p.local <= p.split->full ? p.local * kr_->MR
                                                    : p.split->full * kr_->MR +
                                                          (p.local - p.split->full) * kr_->tail->MR;
    return std::min(M_, p.run * run_rows_ + in_run);
  }
  const Kernel<T>& kernel(int64_t t) const {
    const Place p = place(t);
    return p.local < p.split->full ? *kr_ : *kr_->tail;
  }
  const Kernel<T>& main_kernel() const { return *kr_; }
  int64_t padded_rows() const { return (runs_ - 1) * run_.padded + last_.padded; }

  // Packs tiles [t0, t1) of the K block of op(A) at a (row 0 of op(A)) into pa, each tile by its
  // own kernel's packer: tile t at pa + (row(t) - row(t0)) * kc.
  void pack(T* pa, const T* a, int64_t rs, int64_t cs, int64_t t0, int64_t t1, int64_t kc) const {
    for (int64_t t = t0; t < t1;) {  // runs of tiles of one kernel
      const Kernel<T>& k = kernel(t);
      int64_t u = t + 1;
      while (u < t1 && &kernel(u) == &k) ++u;
      k.pack_a(pa + (row(t) - row(t0)) * kc, a + row(t) * rs, rs, cs, row(u) - row(t), kc);
      t = u;
    }
  }

 private:
  struct Split {
    int64_t full, count, padded;  // tiles of MR rows, tiles in all, rows they compute
  };
  struct Place {
    int64_t run, local;  // tile t is tile `local` of run `run`
    const Split* split;  // that run's tiling
  };
  Place place(int64_t t) const {
    const int64_t r = std::min(t / run_.count, runs_ - 1);
    return {r, t - r * run_.count, r == runs_ - 1 ? &last_ : &run_};
  }
  Split split(int64_t rows) const {
    const int MR = kr_->MR;
    Split best{(rows + MR - 1) / MR, (rows + MR - 1) / MR, (rows + MR - 1) / MR * MR};
    if (!kr_->tail) return best;
    const int MT = kr_->tail->MR;
    for (int64_t n = 1; n <= 2; ++n) {
      const int64_t f = std::max<int64_t>(0, (rows - n * MT + MR - 1) / MR);
      if (f * MR + n * MT < best.padded) best = {f, f + n, f * MR + n * MT};
    }
    return best;
  }
  const Kernel<T>* kr_;
  int64_t M_, run_rows_, runs_;
  Split run_, last_;
};

// Columns an n-column output computes in panels of NR, the last one NR/2 wide where it fits.
template <class T>
int64_t padded_cols(int64_t n, const Kernel<T>& k) {
  const int64_t whole = n / k.NR * k.NR, rest = n - whole;
  if (rest == 0) return whole;
  return whole + (k.ukernel_half && 2 * rest <= k.NR ? k.NR / 2 : k.NR);
}

// Fraction of the micro-kernels' FLOPs that are useful for an m x n output.
template <class T>
double tile_efficiency(int64_t m, int64_t n, const Kernel<T>& k) {
  return double(m) * double(n) /
         (double(RowTiles<T>(k, m).padded_rows()) * double(padded_cols(n, k)));
}

// The problem as the packed loops run it. Narrow outputs (e.g. a 10-class classifier layer,
// N = 10 against NR = 32) waste most of the register tile; the transposed problem
// C^T = op(B)^T op(A)^T fits MR x NR much better. Each sum runs over k in the same order in
// either orientation, so the bits do not change.
template <class T>
Problem<T> oriented(Problem<T> P, const Kernel<T>& kr) {
  if (tile_efficiency(P.N, P.M, kr) > 1.25 * tile_efficiency(P.M, P.N, kr)) P = transposed(P);
  return P;
}

// The two innermost loops: C[rows of tiles t0 .. t1, j0 : j0+nc] = beta * C + pa @ pb (+ bias),
// pa the packed tiles of op(A) (RowTiles::pack), pb the packed kc x nc panels of op(B). Full tiles
// are stored straight from the registers where C's columns are contiguous and the bias a row
// vector; the rest goes through a tile buffer.
template <class T>
void multiply_block(const Problem<T>& P, const RowTiles<T>& tiles, const T* pa, const T* pb,
                    int64_t kc, int64_t t0, int64_t t1, int64_t j0, int64_t nc, T beta,
                    const T* bias) {
  const int NR = tiles.main_kernel().NR;
  const bool fast_c = P.c_cs == 1 && (P.bias == nullptr || (P.bias_rs == 0 && P.bias_cs == 1));
  const int64_t i0 = tiles.row(t0);
  alignas(64) T tile[16 * 64];  // MR * NR <= 16 * 64 for every kernel above
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = std::min<int64_t>(NR, nc - jr);
    const bool half = tiles.main_kernel().ukernel_half && 2 * nr <= NR;
    const int width = half ? NR / 2 : NR;
    const T* pbp = pb + jr * kc;
    const int64_t j = j0 + jr;
    for (int64_t t = t0; t < t1; ++t) {
      const Kernel<T>& k = tiles.kernel(t);
      const UkernelFn<T> fn = half ? k.ukernel_half : k.ukernel;
      const int64_t i = tiles.row(t), mr = tiles.row(t + 1) - i;
      const T* pap = pa + (i - i0) * kc;
      if (fast_c && mr == k.MR && nr == width) {
        fn(kc, pap, pbp, P.c + i * P.c_rs + j, P.c_rs, P.alpha, beta, bias ? bias + j : nullptr);
      } else {
        fn(kc, pap, pbp, tile, width, T(1), T(0), nullptr);
        store_tile(P, tile, width, i, j, mr, nr, beta, bias);
      }
    }
  }
}

// The five loops on the calling thread, P as `oriented` chose it.
template <class T>
void gemm_blocked(const Problem<T>& P, const Kernel<T>& kr) {
  const int MR = kr.MR, NR = kr.NR;
  const int64_t KC = kr.KC, NC = kr.NC, tiles_per_mc = kr.MC / MR;
  const RowTiles<T> tiles(kr, P.M);
  const int64_t kc_max = std::min(KC, P.K);
  const int64_t mc_max = std::min(kr.MC, tiles.padded_rows());
  const int64_t nc_max = std::min(NC, (P.N + NR - 1) / NR * NR);
  T* pa = static_cast<T*>(tls_buffers.get(0, sizeof(T) * mc_max * kc_max));
  T* pb = static_cast<T*>(tls_buffers.get(1, sizeof(T) * nc_max * kc_max));
  for (int64_t jc = 0; jc < P.N; jc += NC) {
    const int64_t nc = std::min(NC, P.N - jc);
    for (int64_t pc = 0; pc < P.K; pc += KC) {
      const int64_t kc = std::min(KC, P.K - pc);
      const bool first = pc == 0;
      kr.pack_b(pb, P.b + pc * P.b_rs + jc * P.b_cs, P.b_rs, P.b_cs, kc, nc);
      for (int64_t t0 = 0; t0 < tiles.count; t0 += tiles_per_mc) {
        const int64_t t1 = std::min(tiles.count, t0 + tiles_per_mc);
        tiles.pack(pa, P.a + pc * P.a_cs, P.a_rs, P.a_cs, t0, t1, kc);
        multiply_block(P, tiles, pa, pb, kc, t0, t1, jc, nc, first ? P.beta : T(1),
                       first ? P.bias : nullptr);
      }
    }
  }
}

template <class T>
void gemm_serial(const Problem<T>& P, const Kernel<T>& kr) {
  if (P.M <= 0 || P.N <= 0) return;
  gemm_blocked(oriented(P, kr), kr);
}

// K == 0: C = beta * C + bias (no product term).
template <class T>
void scale_only(T* c, int64_t c_rs, int64_t M, int64_t N, T beta, const T* bias) {
  for (int64_t i = 0; i < M; ++i) {
    T* ci = c + i * c_rs;
    for (int64_t j = 0; j < N; ++j) {
      T v = beta != T(0) ? beta * ci[j] : T(0);
      ci[j] = bias ? v + bias[j] : v;
    }
  }
}

// ---- threading and batching --------------------------------------------------------------------

// Below this many multiply-adds (~4 us on one core) a GEMM runs on the calling thread: a pool
// round trip costs ~3 us on an idle machine. An MLP's K = 10 backward GEMM (256 x 10 x 256,
// 655k) took 17.6 us on one thread and 10 us on two.
constexpr double kSerialMacs = 384.0 * 1024;

template <class T>
Problem<T> problem_at(const T* a, const T* b, T* c, const T* bias, const MatmulLayout& L,
                      int64_t batch, T alpha, T beta) {
  return Problem<T>{L.M,
                    L.N,
                    L.K,
                    a + batch * L.a_bs,
                    L.a_rs,
                    L.a_cs,
                    b + batch * L.b_bs,
                    L.b_rs,
                    L.b_cs,
                    c + batch * L.c_bs,
                    L.c_rs,
                    1,
                    bias,
                    0,
                    1,
                    alpha,
                    beta};
}

// Thread tid's share [lo, hi) of [0, n) when it is cut into nt near-equal runs of whole tiles of
// `tile` (the last tile may be partial); empty (lo >= hi) when there are fewer tiles than threads.
struct Share {
  int64_t lo, hi;
};
inline Share tile_share(int64_t n, int64_t tile, int tid, int nt) {
  const int64_t units = (n + tile - 1) / tile;
  const int64_t u0 = units * tid / nt, u1 = units * (tid + 1) / nt;
  return {u0 * tile, std::min(n, u1 * tile)};
}

// Columns [j0, j1) of the oriented problem P on the calling thread (short wide outputs: each
// thread packs its own columns of op(B) and all of the small op(A)).
template <class T>
void gemm_columns(const Problem<T>& P, const Kernel<T>& kr, int64_t j0, int64_t j1) {
  Problem<T> S = P;
  S.N = j1 - j0;
  S.b = P.b + j0 * P.b_cs;
  S.c = P.c + j0 * P.c_cs;
  S.bias = P.bias ? P.bias + j0 * P.bias_cs : nullptr;
  gemm_blocked(S, kr);
}

// The most bytes of packed op(B) each thread keeps for gemm_rows: a quarter of a core's share of
// the L3, at least 1 MiB. Each row block sweeps all of it, so it must stay in the caches; wider
// problems run in strips of columns.
inline int64_t b_strip_bytes() {
  const int64_t l3 = cache_sizes().l3;
  return std::max<int64_t>(int64_t(1) << 20, l3 / 4);
}

// The L2 size, or 1 MiB where the CPU reports none: the threaded paths' test of whether a copy of
// op(B) stays in a core's L2.
inline int64_t l2_bytes() {
  const int64_t l2 = cache_sizes().l2;
  return l2 > 0 ? l2 : int64_t(1) << 20;
}

// The smallest block of rows (in register tiles) a thread claims at once in gemm_rows.
constexpr int64_t kMinClaimTiles = 2;

// Blocks of [0, n) for the tasks of one parallel region. Task tid takes blocks from the front of
// its own share [n tid / nt, n (tid + 1) / nt), halving what is left each time; a task whose share
// is done takes blocks from the back of the share with the most left. On a quiet machine every
// task keeps to its own share, and since the pool's caller runs task 0 and each worker mostly the
// same task, each core writes the same rows of C call after call: rows that move between cores
// are fetched from the other core's cache, which costs more than the multiply where K is small
// (256 x 10 x 256 ran at 36 GFLOP/s with one shared counter, 77 with shares, 90 on one thread).
// On a busy one, a slowed core's rows go to the others.
class RowShares {
 public:
  // n < 2^32 (blocks of rows of a C held in memory).
  // Shares of near-equal length, or of per_task blocks each (the last one takes the rest).
  RowShares(int64_t n, int nt, int64_t max_take, int64_t per_task = 0)
      : nt_(nt), max_take_(max_take) {
    for (int t = 0; t < nt; ++t) {
      const int64_t lo = per_task ? std::min(n, t * per_task) : n * t / nt;
      const int64_t hi =
          per_task ? (t == nt - 1 ? n : std::min(n, (t + 1) * per_task)) : n * (t + 1) / nt;
      range_[t].v.store(pack(lo, hi), std::memory_order_relaxed);
    }
  }
  static constexpr int kMaxTasks = 64;

  // The next block [lo, hi) for task tid; false when none is left.
  bool claim(int tid, int64_t& lo, int64_t& hi) {
    if (take_front(tid, lo, hi)) return true;
    for (;;) {  // steal from the back of the share with the most left
      int victim = -1;
      int64_t most = 0;
      for (int t = 0; t < nt_; ++t) {
        const uint64_t v = range_[t].v.load(std::memory_order_relaxed);
        if (back(v) - front(v) > most) most = back(v) - front(v), victim = t;
      }
      if (victim < 0) return false;
      uint64_t v = range_[victim].v.load(std::memory_order_relaxed);
      const int64_t f = front(v), b = back(v);
      if (f >= b) continue;
      const int64_t take = block(b - f);
      if (range_[victim].v.compare_exchange_weak(v, pack(f, b - take), std::memory_order_relaxed)) {
        lo = b - take, hi = b;
        return true;
      }
    }
  }

 private:
  bool take_front(int tid, int64_t& lo, int64_t& hi) {
    uint64_t v = range_[tid].v.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t f = front(v), b = back(v);
      if (f >= b) return false;
      const int64_t take = block(b - f);
      if (range_[tid].v.compare_exchange_weak(v, pack(f + take, b), std::memory_order_relaxed)) {
        lo = f, hi = f + take;
        return true;
      }
    }
  }
  // Half of what is left of a share, within [kMinClaimTiles, max_take_] and at most all of it.
  int64_t block(int64_t left) const {
    return std::min(left, std::clamp(left / 2, kMinClaimTiles, max_take_));
  }
  static uint64_t pack(int64_t f, int64_t b) { return uint64_t(f) << 32 | uint64_t(b); }
  static int64_t front(uint64_t v) { return int64_t(v >> 32); }
  static int64_t back(uint64_t v) { return int64_t(v & 0xffffffffu); }

  struct alignas(64) Range {
    std::atomic<uint64_t> v{0};
  };
  int nt_;
  int64_t max_take_;
  Range range_[kMaxTasks];
};

// The packed op(B) of one column strip, shared by the tasks of a gemm_rows region, for a strip
// larger than a core's L2: there a copy per thread lives in L3 either way, and packing the whole
// strip on every core doubles the memory traffic the cores contend for. Each panel of each K block
// is one unit of work: a task claims free units, starting with its own share of them, packs them,
// and before its first multiply waits for the units other tasks are still packing. A task never
// waits on a unit nobody has claimed, and a claimed unit is being packed by a running task, so the
// wait ends even when one thread runs every task of the region (the pool's claimed tasks). The
// packed layout is the per-thread one, so the bits do not change. Two cores of a Sapphire Rapids
// VM, GFLOP/s over four alternating runs, a copy per thread -> shared: 2048^3 328-358 -> 346-367,
// 2048 x 1024 x 2048 (op(A) transposed) 302-340 -> 332-347, 256 x 4096 x 1024 278-306 -> 291-313,
// 3000^3 300-320 -> 301-333.
template <class T>
class SharedPackedB {
 public:
  SharedPackedB(const Problem<T>& P, const Kernel<T>& kr, T* pb, int64_t j0, int64_t width)
      : P_(P),
        kr_(kr),
        pb_(pb),
        j0_(j0),
        width_(width),
        panels_((width + kr.NR - 1) / kr.NR),
        units_((P.K + kr.KC - 1) / kr.KC * panels_),
        state_(new std::atomic<uint8_t>[units_]) {
    for (int64_t u = 0; u < units_; ++u) state_[u].store(kFree, std::memory_order_relaxed);
  }

  T* data() const { return pb_; }

  void pack(int tid, int nt) {
    const int64_t first = units_ * tid / nt;
    for (int64_t i = 0; i < units_; ++i) {
      const int64_t u = (first + i) % units_;
      uint8_t expected = kFree;
      if (state_[u].load(std::memory_order_relaxed) != kFree ||
          !state_[u].compare_exchange_strong(expected, kClaimed, std::memory_order_relaxed))
        continue;
      pack_unit(u);
      state_[u].store(kPacked, std::memory_order_release);
    }
    for (int64_t u = 0; u < units_; ++u)
      while (state_[u].load(std::memory_order_acquire) != kPacked) __builtin_ia32_pause();
  }

 private:
  static constexpr uint8_t kFree = 0, kClaimed = 1, kPacked = 2;
  // Unit u: panel p of the K block at pc, where packing the whole strip at once puts it.
  void pack_unit(int64_t u) const {
    const int64_t NR = kr_.NR, pc = u / panels_ * kr_.KC, p = u % panels_;
    const int64_t kc = std::min(kr_.KC, P_.K - pc), c0 = p * NR;
    kr_.pack_b(pb_ + pc * panels_ * NR + c0 * kc, P_.b + pc * P_.b_rs + (j0_ + c0) * P_.b_cs,
               P_.b_rs, P_.b_cs, kc, std::min(NR, width_ - c0));
  }
  const Problem<T>& P_;
  const Kernel<T>& kr_;
  T* pb_;
  int64_t j0_, width_, panels_, units_;
  std::unique_ptr<std::atomic<uint8_t>[]> state_;
};

// One GEMM on up to `threads` threads, by rows of C. Each thread packs op(B) itself (all threads
// together one shared copy, where a strip of it outgrows the L2: SharedPackedB), then takes blocks
// of rows (whole register tiles, RowShares) until none is left, packing its block of op(A) for
// each. Fixed shares would leave all threads waiting for the slowest (on a shared machine one
// core is often slowed by another process). A copy of op(B) that fits the L2 is per thread because
// a cache line one core wrote and another reads crosses between their caches, on every call, since
// every call packs anew: one buffer the threads packed together and all read ran 256 x 784 x 256 at
// 140 GFLOP/s on two vCPUs that a 360 ns cache-line round trip separates (cores on two dies), 186
// with a copy each; with the vCPUs on one die (55 ns) both ran at 195. Every element of C is one
// micro-kernel's sum over the K blocks in order, however the rows are tiled (RowTiles), so the
// result has the same bits on any number of threads.
template <class T>
void gemm_rows(const Problem<T>& P, const Kernel<T>& kr, int threads) {
  const int MR = kr.MR, NR = kr.NR;
  const int64_t KC = kr.KC, kc_max = std::min(KC, P.K);
  threads = std::min(threads, RowShares::kMaxTasks);
  const RowTiles<T> tiles(kr, P.M, threads);
  const int64_t tiles_per_mc = kr.MC / MR;
  const int64_t n_panels = (P.N + NR - 1) / NR;
  const int64_t strip_panels =
      std::clamp<int64_t>(b_strip_bytes() / (int64_t(sizeof(T)) * P.K * NR), 1, n_panels);
  const int64_t l2 = l2_bytes();

  for (int64_t s0 = 0; s0 < n_panels; s0 += strip_panels) {
    const int64_t j0 = s0 * NR, j1 = std::min(P.N, (s0 + strip_panels) * NR);
    const int64_t width = j1 - j0, panels = (width + NR - 1) / NR;
    // A run of tiles for each of `threads` tasks: a region given fewer (a busy pool) steals the
    // rest.
    RowShares shares(tiles.count, threads, tiles_per_mc, tiles.tiles_per_run());
    const size_t strip_bytes = sizeof(T) * panels * NR * P.K;
    std::optional<SharedPackedB<T>> shared;
    if (threads > 1 && int64_t(strip_bytes) > l2)
      shared.emplace(P, kr, static_cast<T*>(tls_buffers.get(1, strip_bytes)), j0, width);
    parallel_run(threads, [&](int tid, int nt) {
      T* pb = nullptr;  // the strip packed as gemm_blocked packs one block: K block pc at
                        // pb + pc * panels * NR; shared, or this thread's own on its first claim
      if (shared) {
        shared->pack(tid, nt);
        pb = shared->data();
      }
      int64_t t0, t1;
      while (shares.claim(tid, t0, t1)) {
        if (!pb) {
          pb = static_cast<T*>(tls_buffers.get(1, strip_bytes));
          for (int64_t pc = 0; pc < P.K; pc += KC)
            kr.pack_b(pb + pc * panels * NR, P.b + pc * P.b_rs + j0 * P.b_cs, P.b_rs, P.b_cs,
                      std::min(KC, P.K - pc), width);
        }
        const int64_t rows = tiles.row(t1) - tiles.row(t0);
        T* pa = static_cast<T*>(tls_buffers.get(0, sizeof(T) * (rows + MR) * kc_max));
        for (int64_t pc = 0; pc < P.K; pc += KC) {
          const int64_t kc = std::min(KC, P.K - pc);
          tiles.pack(pa, P.a + pc * P.a_cs, P.a_rs, P.a_cs, t0, t1, kc);
          multiply_block(P, tiles, pa, pb + pc * panels * NR, kc, t0, t1, j0, width,
                         pc == 0 ? P.beta : T(1), pc == 0 ? P.bias : nullptr);
        }
      }
    });
  }
}

// One GEMM on more than one thread: by rows of C (gemm_rows), or by columns where op(B) is larger
// than a core's L2 and C is wide (short and wide, or square-ish with at least kMinColumnShare
// columns a thread) or where C is short enough that columns pack less (kColumnsPackGain): each
// thread then runs the serial loops on its own columns, packing its own part of op(B) a K block at
// a time and all of op(A), which is at most 1 / kMinColumnShare of its multiply-adds again. Two
// cores of an Intel Xeon VM (family 6 model 167, 2 MiB L2), GFLOP/s by rows -> by columns over
// interleaved runs: 1024^3 279-300 -> 285-315, 1024 x 4096 x 1024 264-273 -> 277-290, 2048^3
// 282-291 -> 285-292, 4096 x 1024 x 1024 (tall: rows either way) 295-296. Rows elsewhere: a
// thread's rows of C are one stretch of memory, where a thread's columns are a piece of every row,
// and a hardware prefetcher running past the end of one piece takes lines of the next thread's
// from its core (a 256 x 256 float32 C written by halves on two cores of different dies: 4.7 us by
// rows, 52 us by columns).
constexpr int64_t kMinColumnShare = 512;
// Where op(B) fits the L2 too, a C enough shorter than wide still goes by columns: by rows each
// thread packs all of op(B) and its rows of op(A), K (N + M / t) elements, by columns all of op(A)
// and its columns of op(B), K (M + N / t): K (N - M)(1 - 1 / t) fewer, against M N K / t
// multiply-adds. What that saves grew with 1 / M - 1 / N; it paid from about 1 / 512 (two cores of
// an Intel Xeon VM, GFLOP/s, medians of four to six alternating runs, rows -> columns): 128 x 784 x
// 512 260-274 -> 302-306, 144 x 784 x 400 287-296 -> 312-321, 200 x 512 x 512 308-311 -> 324-330,
// 256 x 256 x 784 331-337 -> 343-349, 300 x 512 x 1000 297-308 -> 311-317, 256 x 384 x 600 312-319
// -> 319-338, but 384 x 512 x 1024 313-323 -> 313-321 and 512 x 256 x 1024 333-342 -> 326-340. A
// Linear's dW = dY^T X (256 x 256 x 784) with a fresh batch X each call, as in training, took
// 353 us instead of 362. Below K = 256 the packing is short and the columns' shared lines at the
// edges of each thread's piece of C cost as much (256 x 16 x 784 and 256 x 64 x 784 ran 2-4 %
// slower by columns); each thread gets at least kColumnsMinPanels NR-wide panels, so that one more
// is at most a quarter more work.
constexpr int64_t kColumnsPackGain = 512, kColumnsMinK = 256, kColumnsMinPanels = 4;

template <class T>
void gemm_threaded(const Problem<T>& P, const Kernel<T>& kr, int threads) {
  if (P.M <= 0 || P.N <= 0) return;
  const Problem<T> Q = oriented(P, kr);
  const bool b_fits_l2 = double(sizeof(T)) * double(Q.K) * double(Q.N) <= double(l2_bytes());
  const bool wide = Q.M < Q.N || (Q.M <= 2 * Q.N && Q.N >= kMinColumnShare * threads);
  const bool packs_less = Q.M < Q.N && kColumnsPackGain * (Q.N - Q.M) >= Q.M * Q.N &&
                          Q.K >= kColumnsMinK &&
                          Q.N >= kColumnsMinPanels * kr.NR * int64_t(threads);
  if (!packs_less && (b_fits_l2 || !wide)) return gemm_rows(Q, kr, threads);
  parallel_run(threads, [&](int tid, int nt) {
    const auto [j0, j1] = tile_share(Q.N, kr.NR, tid, nt);
    if (j0 < j1) gemm_columns(Q, kr, j0, j1);
  });
}

// ---- skinny GEMMs: min(M, N) <= 16, the big operand read in place ----------------------------

// With N = 10 (a classifier layer) each element of the big operand is used 10 times, so the packed
// path's copy of it costs about as much memory traffic as the product itself. The skinny kernels
// read the big operand straight from the caller's array and repack only the small one.
template <class T>
struct SkinnyKernels {
  void (*dot)(const Problem<T>&, const T*, int64_t, int64_t);
  void (*bcast)(const Problem<T>&, int64_t, int64_t);
  void (*in_place)(const Problem<T>&, int64_t, int64_t);  // dot_in_place, or nullptr
  int W;     // vector lanes (the packed B layout of dot)
  int max;   // largest small dimension the kernels take at once; dot splits up to 16 in two
  int rows;  // bcast's row chunk on a small problem (more rows leave fewer registers for columns)
  double pack_cost;   // dot's packing of one element of B, in vector FMAs (bcast_beats_dot)
  int in_place_cols;  // columns of B per panel of in_place (W / the trait's IN_PLACE_ROWS)
};
// dot_in_place runs float32 only: with float64's W lanes, AVX2 would keep just 2 x 2 accumulators
// (too few to hide the FMA latency) and AVX-512 blocks of 4 x 2, and neither has been timed.
const SkinnyKernels<float> kSkinnyF32Avx512{&gemm_skinny_dot_f32_avx512,
                                            &gemm_skinny_bcast_f32_avx512,
                                            &gemm_dot_in_place_f32_avx512,
                                            16,
                                            16,
                                            8,
                                            2.5,
                                            4};
const SkinnyKernels<double> kSkinnyF64Avx512{
    &gemm_skinny_dot_f64_avx512, &gemm_skinny_bcast_f64_avx512, nullptr, 8, 16, 8, 2.5, 0};
const SkinnyKernels<float> kSkinnyF32Avx2{&gemm_skinny_dot_f32_avx2,
                                          &gemm_skinny_bcast_f32_avx2,
                                          &gemm_dot_in_place_f32_avx2,
                                          8,
                                          8,
                                          6,
                                          0.6,
                                          4};
const SkinnyKernels<double> kSkinnyF64Avx2{
    &gemm_skinny_dot_f64_avx2, &gemm_skinny_bcast_f64_avx2, nullptr, 4, 8, 6, 0.6, 0};

// By ISA (IsaTable, cpu/cpu_features.h); the generic path has no skinny kernels.
const IsaTable<const SkinnyKernels<float>*> kSkinnyF32{
    {{nullptr, &kSkinnyF32Avx2, &kSkinnyF32Avx512}}};
const IsaTable<const SkinnyKernels<double>*> kSkinnyF64{
    {{nullptr, &kSkinnyF64Avx2, &kSkinnyF64Avx512}}};
const SkinnyKernels<float>* skinny_for(Isa isa, float*) { return kSkinnyF32[isa]; }
const SkinnyKernels<double>* skinny_for(Isa isa, double*) { return kSkinnyF64[isa]; }

// The L1d size, or 32 KiB where the CPU reports none: the skinny paths' limits on what stays in L1.
inline int64_t l1d_bytes() {
  const int64_t l1d = cache_sizes().l1d;
  return l1d > 0 ? l1d : int64_t(32) << 10;
}

constexpr int64_t kSkinnyMax = 16;
// Threaded from 512k multiply-adds: 256 x 256 x 10 (655k, ~4 us on one core; it packs no big
// operand) ran 1.4x faster on 2 threads than on 1 here.
constexpr double kSkinnySerialMacs = 512.0 * 1024;
// When the small dimension is cut in chunks, the big one is walked in tiles so that the
// second chunk finds the first one's operand in L1/L2: rows of A (dot) or columns of B (bcast).
// The column tile is a whole number of the bcast kernel's blocks: 48 columns for the 7- and
// 8-row chunks of AVX-512, 64 for 6 rows or fewer, 16 on AVX2. A 64-column tile ran each 8-row
// chunk as a 48-column block and a 16-column one (eight FMAs to nine loads); on one core of an
// Intel Xeon VM (AVX-512), GFLOP/s over four alternating runs, tiles of 64 -> 192: 32 x 256 x 784
// 115-131 -> 129-143, op(A) transposed 109-123 -> 122-137, 32 x 784 x 256 139-157 -> 162-176,
// 64 x 256 x 784 119-129 -> 132-137, 100 x 200 x 300 138-143 -> 148-156, 18 x 256 x 784 (6-row
// chunks) 119-127 either way; 96 matched 192 except at 6-row chunks (109-123).
constexpr int64_t kSkinnyRowTile = 24, kSkinnyColTile = 192;
// The dot kernel prefetches the rows of A at least this many bytes ahead of those it reads.
// A classifier layer's X is usually a fresh batch from memory, which the hardware prefetcher,
// following one short row after another, fetches too late: 256 x 784 @ 784 x 10 from memory took
// 190 us on one Zen 3 core without, 135 us with the next two rows (6 KiB) prefetched, and the same
// with 4 or 8 rows; from cache it ran at the same speed either way.
constexpr int64_t kDotAheadBytes = 4096;

// Dot form (P.N <= 16, P.a_cs == 1): pack op(B) (K x N, small) as bp[chunk][k/W][j][W], then run
// the rows of C, split across up to `threads` threads.
template <class T>
void skinny_dot(const Problem<T>& P, const SkinnyKernels<T>& sk, int threads) {
  const int W = sk.W;
  const int64_t kp = (P.K + W - 1) / W * W;
  const int64_t n0 = P.N > sk.max ? (P.N + 1) / 2 : P.N;  // chunk widths n0, P.N - n0
  T* bp = static_cast<T*>(tls_buffers.get(2, sizeof(T) * kp * P.N));
  for (int64_t j0 = 0; j0 < P.N; j0 += n0) {
    const int64_t nc = std::min(n0, P.N - j0);
    T* d = bp + kp * j0;
    for (int64_t k0 = 0; k0 < kp; k0 += W, d += nc * W) {
      const int64_t kn = std::min<int64_t>(W, P.K - k0);
      const T* s = P.b + j0 * P.b_cs + k0 * P.b_rs;
      if (P.b_rs == 1) {  // columns of op(B) contiguous along K (W^T): W-long copies
        for (int64_t j = 0; j < nc; ++j) std::memcpy(d + j * W, s + j * P.b_cs, sizeof(T) * kn);
      } else {  // read op(B) along its rows (a Linear X @ W's (K, N) weight), write transposed
        for (int64_t l = 0; l < kn; ++l)
          for (int64_t j = 0; j < nc; ++j) d[j * W + l] = s[l * P.b_rs + j * P.b_cs];
      }
      if (kn < W)
        for (int64_t j = 0; j < nc; ++j) std::fill(d + j * W + kn, d + (j + 1) * W, T(0));
    }
  }
  // The first chunk's pass prefetches the rows just ahead; the second chunk finds the tile's rows
  // in cache, so its pass prefetches the next tile's: memory stays busy during both. Measured
  // against prefetching in the first pass only: a cold X 10 % faster, a cached one 5 % slower.
  const int64_t row_bytes = std::max<int64_t>(1, P.K * int64_t(sizeof(T)));
  const int64_t near = P.a_rs * std::max<int64_t>(2, (kDotAheadBytes + row_bytes - 1) / row_bytes);
  // The packed B is read once per R rows of A; when a chunk of it outgrows half of L1d (K * N >
  // 4096 floats with 32 KiB, a 784 x 10 classifier at 31 KiB) it comes from L2 for every row
  // block and bounds the speed. Then K is cut in kc-long pieces, each summed into C for a tile of
  // rows_l2 rows (in L2 for the later pieces) before the next. One Zen 4 core: 256 x 784 x 10
  // X @ W^T 86 -> 100 GFLOP/s, 256 x 784 x 16 51 -> 89, 60000 x 784 x 10 from memory 50 -> 56;
  // 256 x 784 x 4 (12 KiB, not cut) ran 0.6x cut in 256-long pieces: each piece adds a lane
  // reduction per output. Columns in two chunks (N past the unit's widest) are cut the same way
  // (one Zen 3 core, 16 columns as two chunks of 8: 96 x 8192 x 16, a 1x1 conv's weight
  // gradient, 34 -> 52 GFLOP/s; 64 x 2048 x 16 35 -> 52; 256 x 784 x 16 and x 10 level).
  const int64_t l1d = l1d_bytes();
  const int64_t b_bytes = kp * n0 * int64_t(sizeof(T));
  const int64_t pieces = (b_bytes + l1d / 2 - 1) / (l1d / 2);
  const int64_t kc = (kp / W + pieces - 1) / pieces * W;
  const int64_t l2 = cache_sizes().l2 > 0 ? cache_sizes().l2 : int64_t(256) << 10;
  const int64_t rows_l2 = std::max<int64_t>(8, l2 / 2 / row_bytes);
  auto rows = [&](int64_t i0, int64_t i1) {
    const int64_t rt = kc < P.K ? rows_l2 : n0 == P.N ? i1 - i0 : kSkinnyRowTile;
    for (int64_t t = i0; t < i1; t += rt)
      for (int64_t j0 = 0; j0 < P.N; j0 += n0) {
        const int64_t nc = std::min(n0, P.N - j0);
        for (int64_t k0 = 0; k0 < P.K; k0 += kc) {  // C += the next piece of the dot products
          Problem<T> S = P;
          S.a_ahead = n0 == P.N || j0 == 0 ? near : rt * P.a_rs;
          S.N = nc;
          S.c = P.c + j0 * P.c_cs;
          S.bias = P.bias ? P.bias + j0 * P.bias_cs : nullptr;
          S.K = std::min(kc, P.K - k0);
          S.a = P.a + k0 * P.a_cs;
          if (k0 > 0) S.beta = T(1), S.bias = nullptr;
          sk.dot(S, bp + kp * j0 + k0 * nc, t, std::min(t + rt, i1));
        }
      }
  };
  if (threads <= 1) return rows(0, P.M);
  parallel_run(threads, [&](int tid, int nt) {
    const auto [i0, i1] = tile_share(P.M, kSkinnyRowTile, tid, nt);
    if (i0 < i1) rows(i0, i1);
  });
}

// Broadcast form (P.b_cs == 1): op(A) is read in place whatever its strides. Up to sk.max rows
// are one chunk; more (a small problem, below) are cut into near-equal chunks of at most sk.rows.
// Threads split the columns of one chunk, or the chunks of several.
template <class T>
void skinny_bcast(const Problem<T>& P, const SkinnyKernels<T>& sk, int threads) {
  const int64_t chunks = P.M > sk.max ? (P.M + sk.rows - 1) / sk.rows : 1;
  const int64_t m0 = (P.M + chunks - 1) / chunks;
  // Rows [r0, r1) (whole chunks) by columns [j0, j1).
  auto block = [&](int64_t r0, int64_t r1, int64_t j0, int64_t j1) {
    if (m0 == P.M) return sk.bcast(P, j0, j1);
    for (int64_t t = j0; t < j1; t += kSkinnyColTile)
      for (int64_t i0 = r0; i0 < r1; i0 += m0) {
        Problem<T> S = P;
        S.M = std::min(m0, r1 - i0);
        S.a = P.a + i0 * P.a_rs;
        S.c = P.c + i0 * P.c_rs;
        S.bias = P.bias ? P.bias + i0 * P.bias_rs : nullptr;
        sk.bcast(S, t, std::min(t + kSkinnyColTile, j1));
      }
  };
  if (threads <= 1) return block(0, P.M, 0, P.N);
  // No more chunks of rows than threads (a skinny product): threads take columns, so each reads
  // its share of op(B) once (by rows, each would read all of it: dW = dY^T @ X with 10 classes,
  // two 5-row chunks on AVX2, ran 1.6x slower on two threads than on one). More chunks: threads
  // take whole rows, so no two write parts of one row of C. By columns, 256 x 10 x 256 ran 1.6x
  // slower on two threads than on one, and N = 64 (one column tile) left the second thread
  // nothing to do.
  parallel_run(threads, [&](int tid, int nt) {
    if (chunks <= nt) {
      // whole vectors: tiles of 192 columns would split 784 as 576 + 208
      const auto [j0, j1] = tile_share(P.N, sk.W, tid, nt);
      if (j0 < j1) block(0, P.M, j0, j1);
    } else {
      const auto [r0, r1] = tile_share(P.M, m0, tid, nt);
      if (r0 < r1) block(r0, r1, 0, P.N);
    }
  });
}

// Whether every row of an operand read in place starts at the same place inside a cache line but
// not at its start (a numpy array is only 16-byte aligned): then each full-vector load of a row
// spans two lines, which Intel cores issue as two loads. Rows whose offsets differ split only some
// of the loads.
template <class T>
bool rows_straddle_lines(const T* rows, int64_t row_stride) {
  const auto at = reinterpret_cast<uintptr_t>(rows);
  return at % 64 != 0 && (row_stride * int64_t(sizeof(T))) % 64 == 0;
}

// In-place dot form (cpu/matmul_skinny_kernels.h, dot_in_place): X @ W^T with a short X, both
// operands contiguous along K. The packed path transposes all of W into panels for only M <= 64
// uses of each element; here nothing is packed and each output ends with a lane reduction, which
// a K of 256 or more amortizes. The J x K panel of B that the rows of A stream past must stay in
// half of L1d. Measured on one Zen 3 core (AVX2) against the packed path: 32 x 784 x 256 1.3-1.5x,
// 32 x 256 x 784 1.15x, 64 x 784 x 256 1.2x faster; on two threads 1.1-1.7x across M = 17..64;
// K = 128 ran 0.7-0.9x and M = 96 0.75-1.05x, so those stay packed. On one Zen 4 core (AVX-512,
// 4 x 4 blocks): 17 x 256 x 17 2.1x, 20 x 300 x 258 and 33 x 257 x 45 1.4x, 64 x 1023 x 18 1.8x,
// 32 x 784 x 256 1.15x, 48 x 1024 x 512 1.1x, 64 x 256 x 256 0.95x.
constexpr int64_t kInPlaceMaxM = 64, kInPlaceMinK = 256;
// The rows of A are read again for every panel of B, so where they all start mid-line (see
// rows_straddle_lines) the split loads cost more than packing from this many columns: on one
// Sapphire Rapids core 32 x 784 x 128 ran at 156 GFLOP/s in place with A aligned, 123 with A 16
// bytes past a line (105 with B too), 132 packed; 64 x 1024 x 256 162 / 120 / 155; while
// 17 x 256 x 17 ran 58-67 in place at any alignment against 34 packed. From this many columns
// such an A (M <= kInPlaceMaxM rows, a few hundred KiB at most) is first copied to an aligned
// buffer: every array numpy allocates below glibc's mapping threshold starts 16 bytes past a
// 64-byte line or a multiple of 16 beyond, so without the copy whether the fast form ran was
// luck. 32 x 784 x 128 (F.linear on a batch of 32) with A and B 48 bytes past a line, one Xeon
// core: 66 us packed, 57 copied and in place; two cores 45-49 against 33-35.
constexpr int64_t kInPlaceStraddleMaxN = 64;

template <class T>
bool suits_dot_in_place(const Problem<T>& P, const SkinnyKernels<T>& sk) {
  const int64_t l1d = l1d_bytes();
  return sk.in_place && P.a_cs == 1 && P.b_rs == 1 && P.M <= kInPlaceMaxM && P.K >= kInPlaceMinK &&
         P.K * sk.in_place_cols * int64_t(sizeof(T)) <= l1d / 2;
}

// A thread's aligned copy of a straddling A, kept between calls. Each thread copies for itself:
// one copy by the caller, read by every thread, is fresh in the caller's cache on every call, and
// the others' reads of it cost more than the split loads did (32 x 784 x 128 on two cores:
// 53-62 us against 34-35 with a copy each).
thread_local Scratch tls_aligned_a;

template <class T>
Problem<T> with_aligned_a(Problem<T> P) {
  if (P.N < kInPlaceStraddleMaxN || !rows_straddle_lines(P.a, P.a_rs)) return P;
  constexpr int64_t kLine = 64 / int64_t(sizeof(T));
  const int64_t lda = (P.K + kLine - 1) / kLine * kLine;
  T* a = static_cast<T*>(tls_aligned_a.get(sizeof(T) * size_t(P.M * lda)));
  for (int64_t i = 0; i < P.M; ++i) std::memcpy(a + i * lda, P.a + i * P.a_rs, sizeof(T) * P.K);
  P.a = a, P.a_rs = lda;
  return P;
}

// The panels of J = W/2 columns of B split across threads.
template <class T>
void dot_in_place(const Problem<T>& P, const SkinnyKernels<T>& sk, int threads) {
  if (threads <= 1) return sk.in_place(with_aligned_a(P), 0, P.N);
  parallel_run(threads, [&](int tid, int nt) {
    const auto [j0, j1] = tile_share(P.N, sk.in_place_cols, tid, nt);
    if (j0 < j1) sk.in_place(with_aligned_a(P), j0, j1);
  });
}

// The broadcast kernels' loads of op(B)'s rows all split where those rows straddle lines; past a
// few chunks of rows that costs more than packing B once: on one Sapphire Rapids core, B 16 bytes
// past a line, 256^3 ran at 177 GFLOP/s in place against 207 with B aligned and 202 packed,
// 144 x 384 x 256 at 147-160 against 169-174 packed, while 96^3 and 64 x 512 x 128 still ran
// faster in place (152 against 141, 157 against 147). B rows of differing offsets split only some
// loads (100 x 200 x 300: 187 in place either way, 173 packed).
constexpr int64_t kStraddleMaxM = 128;
// Above 128 rows (and at most kSmallBcastMaxM) the broadcast kernels, which read op(B)'s column
// tile once per chunk of rows, beat packing only where C is small or that tile stays in L1 with
// op(A)'s rows contiguous. With op(A) transposed (dW = dY^T @ X) each k reads a few values from a
// line a row of A apart, lines that a power-of-two M crowds into a few L1 sets. Measured on one
// Sapphire Rapids core (48 KiB L1d, 2 MiB L2), op(B) aligned, GFLOP/s in place / packed, one core
// then two: 128^3 153 / 146, 160^3 159 / 156 and 283-321 / 263-301 (op(A) transposed); 256 x 10 x
// 784 130 / 127 and 230-238 / 215-220, 256 x 64 x 784 180 / 185 and 338-340 / 327-336; but
// 256 x 128 x 784 182 / 189, 256 x 256 x 784 160 / 176 and 313-317 / 333-342, 256^3 162 / 169,
// 200 x 200 x 300 145 / 161. Transposed op(A): 256 x 256 x 784 127 / 161 and 268-277 / 328-336,
// 256 x 64 x 256 148 / 165, 128 x 384 x 256 160 / 178. Under 128 rows in place won in either
// orientation (32 x 256 x 256 161 / 133, 96^3 155 / 140; kStraddleMaxM), and at 128 rows once
// op(B) was walked in 192-column tiles: two cores of an Intel Xeon VM, op(B) rows 16 or 48 bytes
// past a line, packed -> in place: 128 x 256 x 256 296-309 -> 336-371, 128 x 512 x 384 315-319 ->
// 336-365, 128 x 784 x 256 311-315 -> 391-394; op(A) transposed 302-335 -> 306-347; one core
// 141-181 -> 165-202; while 144 to 256 rows ran as fast or faster packed.
constexpr int64_t kSmallBcastMaxM = 256;
constexpr int64_t kSmallBcastL1Cols = 64;  // the K x 64 block of op(B) that must fit half the L1d
constexpr int64_t kSmallBcastMaxC = 160 * 160;

template <class T>
bool small_bcast_pays(const Problem<T>& P) {
  if (P.M <= kStraddleMaxM) return true;
  if (P.M > kSmallBcastMaxM || rows_straddle_lines(P.b, P.b_rs)) return false;
  if (P.M * P.N <= kSmallBcastMaxC) return true;
  const int64_t l1d = l1d_bytes();
  return P.a_cs == 1 && P.K * kSmallBcastL1Cols * int64_t(sizeof(T)) <= l1d / 2;
}

// Whether op(A), op(B) and C fit in the L2 cache together (256^3 float32 on a 1 MiB L2). Then
// nothing is gained by packing: the broadcast kernels read every operand in place from L2 or L1,
// and the copies the packed path makes would cost about as much as the product. On one Zen 4 core
// 64^3 took 6.0 us in place against 7.4 packed (numpy's OpenBLAS: 5.8), 256^3 308 us against 335.
template <class T>
bool fits_l2(const Problem<T>& P) {
  const int64_t reported = cache_sizes().l2, l2 = reported > 0 ? reported : int64_t(512) << 10;
  return double(sizeof(T)) * (double(P.M) * P.K + double(P.K) * P.N + double(P.M) * P.N) <=
         double(l2);
}

// For C = X @ W with N <= 16 and W's rows contiguous (a (K, N) weight), whether the broadcast form
// (X read in place, one FMA per element of X and vector of N lanes) costs less than the dot form,
// which wastes no lanes but first transposes all of W into its packed layout, element by element.
// In FMAs: bcast M*K*ceil(N/W) against dot M*K*N/W plus pack_cost * K*N for the packing, so bcast
// wins while M * (the lanes bcast leaves empty) < pack_cost * N * W. pack_cost is measured per
// ISA: on Zen 4, with AVX-512 the crossover for N = 10 lies at M = 48-64 (32 x 784 x 10 took
// 8.5 us against 12.8), for N = 4 at M = 16-32, and N = 16 (no empty lane) ran faster on bcast at
// every M; the AVX2 bcast kernel runs at half that speed (loads and broadcasts, not FMAs, bound
// it), so there dot wins from M = 8 at N = 10. A (K, 1) W is contiguous along K: dot copies it.
template <class T>
bool bcast_beats_dot(const Problem<T>& P, const SkinnyKernels<T>& sk) {
  if (P.b_cs != 1 || P.b_rs == 1 || P.c_cs != 1) return false;
  const int64_t padded = (P.N + sk.W - 1) / sk.W * sk.W;
  return double(P.M) * double(padded - P.N) < sk.pack_cost * double(P.N) * sk.W;
}

// Runs P on the no-packing kernels if it suits them (min(M, N) <= 16 and the big operand is
// contiguous along the dimension the kernel vectorises, a short X @ W^T, or a small problem with
// op(B)'s and C's rows contiguous) and this ISA has the kernels; false otherwise.
template <class T>
bool gemm_skinny(const Problem<T>& P, int threads) {
  const SkinnyKernels<T>* sk = skinny_for(active_isa(), static_cast<T*>(nullptr));
  if (!sk || P.K <= 0) return false;
  if (P.N <= kSkinnyMax && bcast_beats_dot(P, *sk)) {
    skinny_bcast(P, *sk, threads);  // X @ W, X short: W's rows read in place, nothing packed
  } else if (P.N <= kSkinnyMax && P.a_cs == 1) {
    skinny_dot(P, *sk, threads);  // X @ W^T, X @ W: rows of X dotted with the N columns
  } else if (P.M <= kSkinnyMax && P.b_rs == 1) {
    skinny_dot(transposed(P), *sk, threads);  // the same for C^T
  } else if (P.M <= kSkinnyMax && P.b_cs == 1) {
    skinny_bcast(P, *sk, threads);  // dY^T @ X: rows of X scaled by dY's entries
  } else if (P.N <= kSkinnyMax && P.a_rs == 1) {
    skinny_bcast(transposed(P), *sk, threads);  // X^T @ dY, as C^T = dY^T @ X
  } else if (suits_dot_in_place(P, *sk)) {
    dot_in_place(P, *sk, threads);  // X @ W^T, X short: neither operand packed
  } else if (P.b_cs == 1 && P.c_cs == 1 && fits_l2(P) && small_bcast_pays(P)) {
    skinny_bcast(P, *sk, threads);  // a small problem: packing would cost as much as the product
  } else {
    return false;
  }
  return true;
}

// Whether C outgrows the L2, so that deep K blocks pay (with_deep_blocking). The choice depends
// on the shape alone, never on the thread count: the K blocking decides the bits of the result.
template <class T>
bool c_outgrows_l2(const Problem<T>& P) {
  const int64_t l2 = cache_sizes().l2;
  return l2 > 0 && double(sizeof(T)) * double(P.M) * double(P.N) > double(l2);
}

// One GEMM on up to `threads` threads: the skinny path if it applies, else the packed one.
template <class T>
void gemm_one(const Problem<T>& P, const Kernel<T>& kr, int threads) {
  if (gemm_skinny(P, threads)) return;
  const Kernel<T>& k = kr.deep && c_outgrows_l2(P) ? *kr.deep : kr;
  if (threads <= 1) return gemm_serial(P, k);
  gemm_threaded(P, k, threads);
}

template <class T>
void matmul_impl(T* c, const T* a, const T* b, const T* bias, MatmulLayout L, T alpha, T beta) {
  if (L.batch <= 0 || L.M <= 0 || L.N <= 0) return;
  if (L.K <= 0) {
    for (int64_t bi = 0; bi < L.batch; ++bi)
      scale_only(c + bi * L.c_bs, L.c_rs, L.M, L.N, beta, bias);
    return;
  }
  // (B, M, K) @ (K, N): one (B*M, K) GEMM when the batch rows of op(A) and C continue with the
  // same row stride (always so for C, which is contiguous; for A unless it is transposed).
  if (L.batch > 1 && L.b_bs == 0 && L.a_bs == L.M * L.a_rs && L.c_bs == L.M * L.c_rs) {
    L.M *= L.batch;
    L.batch = 1;
  }
  const Kernel<T>& kr = kernel_for(active_isa(), static_cast<T*>(nullptr));
  const double macs = double(L.M) * double(L.N) * double(L.K);
  const int threads = get_num_threads();
  // The skinny path packs no big operand per thread, so it pays off threaded on smaller problems.
  const bool skinny =
      std::min(L.M, L.N) <= kSkinnyMax && skinny_for(active_isa(), static_cast<T*>(nullptr));
  const double serial_macs = skinny ? kSkinnySerialMacs : kSerialMacs;
  if (threads <= 1 || macs * double(L.batch) < serial_macs) {
    for (int64_t bi = 0; bi < L.batch; ++bi)
      gemm_one(problem_at(a, b, c, bias, L, bi, alpha, beta), kr, 1);
    return;
  }
  if (L.batch >= threads &&
      macs < 8.0 * 1024 * 1024) {  // many small GEMMs: one thread per batch slice
    parallel_for(L.batch, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t bi = b0; bi < b1; ++bi)
        gemm_one(problem_at(a, b, c, bias, L, bi, alpha, beta), kr, 1);
    });
    return;
  }
  for (int64_t bi = 0; bi < L.batch; ++bi)
    gemm_one(problem_at(a, b, c, bias, L, bi, alpha, beta), kr, macs < serial_macs ? 1 : threads);
}

}  // namespace

// ---- entry points ------------------------------------------------------------------------------

void matmul_cpu(float* c, const float* a, const float* b, const float* bias, const MatmulLayout& L,
                float alpha, float beta) {
  matmul_impl(c, a, b, bias, L, alpha, beta);
}

void matmul_cpu(double* c, const double* a, const double* b, const double* bias,
                const MatmulLayout& L, double alpha, double beta) {
  matmul_impl(c, a, b, bias, L, alpha, beta);
}

template <class T>
GemmBlocking blocking_of(const Kernel<T>& k) {
  const Kernel<T>& d = k.deep ? *k.deep : k;
  return {k.MR, k.NR, k.KC, k.MC, k.NC, b_strip_bytes(), d.KC, d.MC};
}

GemmBlocking gemm_blocking(bool f32) {
  if (f32) return blocking_of(kernel_for(active_isa(), static_cast<float*>(nullptr)));
  return blocking_of(kernel_for(active_isa(), static_cast<double*>(nullptr)));
}

// ---- a pre-packed B (cpu/matmul_packed.h) ------------------------------------------------------

// Layout: the K block starting at pc (KC deep, the last one shorter) is at data + pc * Np_, and
// holds the Np_ / NR panels of that block one after the other, kc x NR each: exactly what
// gemm_blocked's pack_b writes for one (jc, pc) block, for all columns at once. The micro-kernel
// then sees the same panels in the same K order as matmul_cpu's, so the results are the same
// (where matmul_cpu keeps its L1-deep K blocks, that is, where C fits the L2: c_outgrows_l2).
template <class T>
void PackedB<T>::pack(const T* b, int64_t rs, int64_t cs, int64_t K, int64_t N) {
  const Kernel<T>& kr = kernel_for(active_isa(), static_cast<T*>(nullptr));
  kernel_ = &kr;
  K_ = K, N_ = N, Np_ = (N + kr.NR - 1) / kr.NR * kr.NR;
  const size_t need = sizeof(T) * static_cast<size_t>(std::max<int64_t>(Np_ * K, 1));
  if (cap_ < need) {
    const size_t bytes = (need + 4095) & ~size_t(4095);
    data_.reset(static_cast<T*>(std::aligned_alloc(64, bytes)));
    cap_ = data_ ? bytes : 0;
    if (!data_) throw std::bad_alloc();
  }
  for (int64_t pc = 0; pc < K; pc += kr.KC)
    kr.pack_b(data_.get() + pc * Np_, b + pc * rs, rs, cs, std::min(kr.KC, K - pc), N);
}

// Columns [j0, j1) (j0 a multiple of NR) on the calling thread: gemm_blocked's loops without the
// packing of B.
template <class T>
void PackedB<T>::gemm_cols(T* c, int64_t ldc, const T* a, int64_t a_rs, int64_t a_cs, int64_t M,
                           T beta, const T* bias, int64_t j0, int64_t j1) const {
  const Kernel<T>& kr = *static_cast<const Kernel<T>*>(kernel_);
  const int MR = kr.MR;
  if (K_ <= 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = j0; j < j1; ++j) {
        const T v = beta != T(0) ? beta * c[i * ldc + j] : T(0);
        c[i * ldc + j] = bias ? v + bias[j] : v;
      }
    return;
  }
  const int64_t KC = kr.KC, tiles_per_mc = kr.MC / MR;
  const RowTiles<T> tiles(kr, M);
  const int64_t mc_max = std::min(kr.MC, tiles.padded_rows());
  T* pa = static_cast<T*>(tls_buffers.get(0, sizeof(T) * mc_max * std::min(KC, K_)));
  Problem<T> P{};
  P.M = M, P.N = N_, P.K = K_, P.c = c, P.c_rs = ldc, P.c_cs = 1, P.bias = bias;
  P.bias_rs = 0, P.bias_cs = 1, P.alpha = T(1);
  for (int64_t pc = 0; pc < K_; pc += KC) {
    const int64_t kc = std::min(KC, K_ - pc);
    for (int64_t t0 = 0; t0 < tiles.count; t0 += tiles_per_mc) {
      const int64_t t1 = std::min(tiles.count, t0 + tiles_per_mc);
      tiles.pack(pa, a + pc * a_cs, a_rs, a_cs, t0, t1, kc);
      multiply_block(P, tiles, pa, data_.get() + pc * Np_ + j0 * kc, kc, t0, t1, j0, j1 - j0,
                     pc == 0 ? beta : T(1), pc == 0 ? bias : nullptr);
    }
  }
}

template <class T>
void PackedB<T>::gemm(T* c, int64_t ldc, const T* a, int64_t a_rs, int64_t a_cs, int64_t M, T beta,
                      const T* bias, int threads) const {
  if (M <= 0 || N_ <= 0) return;
  const int NR = static_cast<const Kernel<T>*>(kernel_)->NR;
  const double macs = double(M) * double(N_) * double(K_);
  if (threads <= 1 || macs < kSerialMacs || N_ <= NR)
    return gemm_cols(c, ldc, a, a_rs, a_cs, M, beta, bias, 0, N_);
  // By columns: each thread packs only its copy of the small A, and B is already packed.
  parallel_run(threads, [&](int tid, int nt) {
    const auto [j0, j1] = tile_share(N_, NR, tid, nt);
    if (j0 < j1) gemm_cols(c, ldc, a, a_rs, a_cs, M, beta, bias, j0, j1);
  });
}

template class PackedB<float>;
template class PackedB<double>;

}  // namespace fastnn
