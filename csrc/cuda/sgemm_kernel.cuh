// The float32 GEMM kernel behind matmul_forward_cuda (matmul.cu): C = alpha * op(A) op(B) +
// beta * C + bias, or with split K the raw partial product of one K chunk; exact fp32 FMA (no
// TF32). At most 128 registers per thread (launch bounds: 2 blocks of 256 or 4 of 128 per SM).
//
// Grid: x enumerates the output tiles, y the (K chunk, batch item) pairs, in launches of at most
// 65535 rows so any batch fits. (A loop over y inside the kernel would keep every loop-invariant
// address live across it and push the kernel past 128 registers.) A block computes a BM x BN tile
// (gemm_plan.h: tile_coords, out_row/out_col), each lane a CM x CN set of 4 x 4 register blocks fed
// by 16-byte shared reads. K is walked in slices of kBK = 8 held k-major in shared memory, As[k][m]
// and Bs[k][n], double buffered: while the block multiplies slice t, slice t+1 is already on its
// way, so one __syncthreads per slice suffices and global latency hides behind the slice's 8 x 64
// FMAs per lane (128x128 tile).
//   - An operand contiguous along M (A^T) or N (B) is copied global -> shared by cp.async, 16
//     bytes per run (zero-filled past the edges), or 4 bytes per element when its leading
//     dimension, base pointer or batch stride is not 16-byte aligned.
//   - An operand contiguous along K (A, B^T) must be transposed on the way, which cp.async cannot
//     do: it is read into registers (one 16-byte load per run when aligned, 4 scalar loads
//     otherwise) before the slice is multiplied and stored to shared memory after.
// Shared rows are padded by kPad = 4 floats: a warp's transposing store covers 16 consecutive l
// in two k-runs 4 rows apart, and with rows of BL + 4 words those lie 16 banks apart, so the
// 32 lanes hit 32 distinct banks; rows stay 16-byte aligned for the float4 fragment reads.
// Inside the K loop all index math is 32-bit: pointers are formed once per (block, batch item)
// in 64 bits and then only advanced.
// Pre-sm_80 devices have no cp.async; there the copies are plain loads and stores (same result).
#pragma once
#include "cuda/common.cuh"
#include "cuda/gemm_plan.h"

namespace fastnn::cuda::gemm {

struct SgemmArgs {
  float* c;
  const float* a;
  const float* b;
  const float* bias;   // (N,) or null
  int64_t sa, sb, sc;  // element strides between batch items
  int64_t sc_split;    // element stride between K-chunk partials in c (splits > 1)
  int64_t batch;       // grid row y covers (K chunk, item) = divmod(z0 + y, batch)
  int64_t z0;          // first grid row of this launch (launches cover batch * splits rows)
  int M, N, K, k_chunk, tiles_m, tiles_n;
  float alpha, beta;
  bool vec_a, vec_b, vec_c;  // 16-byte access allowed for A, B, C
};

__device__ __forceinline__ void cp_async16(float* dst, const float* src, int src_bytes) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(src_bytes)
               : "memory");
#else
#pragma unroll
  for (int j = 0; j < 4; ++j) dst[j] = j * 4 < src_bytes ? src[j] : 0.f;
#endif
}

__device__ __forceinline__ void cp_async4(float* dst, const float* src, int src_bytes) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(d), "l"(src), "r"(src_bytes)
               : "memory");
#else
  *dst = src_bytes ? *src : 0.f;
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void cp_async_wait_all() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_all;\n" ::: "memory");
#endif
}

// One operand's share of each kBK x BL slice: kRuns runs of 4 elements per thread. Element
// (k, l) of the batch item's operand is at base[k * ld + l] (congruent) or base[l * ld + k]
// (crosswise). Addresses outside the operand are never read: invalid runs copy zero bytes from
// the operand's start (cp.async zero-fills) or are not loaded at all.
template <int BL, int kThreads, bool kCongruent>
struct SliceLoader {
  static constexpr int kRuns = kBK * BL / 4 / kThreads;
  static constexpr int kLds = BL + kPad;  // shared row length in floats
  static_assert(kRuns >= 1 && kRuns * kThreads * 4 == kBK * BL, "threads must split the slice");
  const float* ptr[kRuns];  // the run's first element in the current slice
  int k[kRuns], l[kRuns];   // the run's place in the slice
  int elems[kRuns];         // elements of the run's l range inside L (crosswise: 0 = row past L)
  float4 held[kRuns];       // crosswise: the next slice, between load() and store()

  // l0: the block's first l; k_begin: the first k of this K chunk; L: the operand's extent in l.
  __device__ __forceinline__ void init(const float* base, int64_t ld, int l0, int k_begin, int L) {
#pragma unroll
    for (int r = 0; r < kRuns; ++r) {
      const int idx = static_cast<int>(threadIdx.x) + r * kThreads;
      k[r] = kCongruent ? congruent_k(idx, BL) : crosswise_k(idx);
      l[r] = kCongruent ? congruent_l(idx, BL) : crosswise_l(idx);
      elems[r] = run_elems(l0 + l[r], L);
      ptr[r] = base + run_offset(kCongruent, ld, k_begin, k[r], l0 + l[r], elems[r]);
    }
  }

  // Congruent: queue the copies of the slice with k_rem of the chunk's depth left from its first
  // k. `safe`: any address inside the operand; `ld`: its leading dimension.
  __device__ __forceinline__ void issue(float* smem, int k_rem, bool vec, const float* safe,
                                        int ld) {
#pragma unroll
    for (int r = 0; r < kRuns; ++r) {
      float* dst = smem + k[r] * kLds + l[r];
      const int n = run_count(true, k[r], k_rem, elems[r]);
      if (vec) {
        cp_async16(dst, n ? ptr[r] : safe, n * 4);
      } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) cp_async4(dst + j, j < n ? ptr[r] + j : safe, j < n ? 4 : 0);
      }
      ptr[r] += static_cast<int64_t>(kBK) * ld;
    }
  }

  // Crosswise: read the slice into registers (zeros past K or L). With 16-byte alignment K,
  // k_chunk and the run start are multiples of 4, so a run is whole (n == 4) or absent.
  __device__ __forceinline__ void load(int k_rem, bool vec) {
#pragma unroll
    for (int r = 0; r < kRuns; ++r) {
      const int n = run_count(false, k[r], k_rem, elems[r]);
      if (vec && n == 4) {
        held[r] = *reinterpret_cast<const float4*>(ptr[r]);
      } else {
        const float* q = ptr[r];
        held[r].x = n > 0 ? q[0] : 0.f;
        held[r].y = n > 1 ? q[1] : 0.f;
        held[r].z = n > 2 ? q[2] : 0.f;
        held[r].w = n > 3 ? q[3] : 0.f;
      }
      ptr[r] += kBK;
    }
  }

  // Crosswise: write the held slice transposed, smem[k][l].
  __device__ __forceinline__ void store(float* smem) const {
#pragma unroll
    for (int r = 0; r < kRuns; ++r) {
      float* dst = smem + k[r] * kLds + l[r];
      dst[0 * kLds] = held[r].x;
      dst[1 * kLds] = held[r].y;
      dst[2 * kLds] = held[r].z;
      dst[3 * kLds] = held[r].w;
    }
  }
};

template <int BM, int BN, int WARPS_M, int WARPS_N, bool TA, bool TB>
__global__ void __launch_bounds__(WARPS_M * WARPS_N * 32, 512 / (WARPS_M * WARPS_N * 32))
    sgemm_kernel(const SgemmArgs p) {
  constexpr TileCfg cfg{BM, BN, WARPS_M, WARPS_N};
  constexpr int kThreads = cfg.threads(), CM = cfg.cm(), CN = cfg.cn();
  constexpr int LDA = BM + kPad, LDB = BN + kPad;
  static_assert(CM >= 1 && CN >= 1 && CM * 16 * WARPS_M == BM && CN * 32 * WARPS_N == BN,
                "warp tiling must cover the block tile");
  __shared__ __align__(16) float As[2][kBK * LDA];
  __shared__ __align__(16) float Bs[2][kBK * LDB];
  // op(A) is contiguous along M when A is transposed; op(B) along N when B is not.
  SliceLoader<BM, kThreads, TA> la;
  SliceLoader<BN, kThreads, !TB> lb;

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  int tm, tn;
  tile_coords(static_cast<int>(blockIdx.x), p.tiles_m, p.tiles_n, tm, tn);
  const int m0 = tm * BM, n0 = tn * BN;
  const int a_row = out_row(cfg, warp, lane, 0, 0), b_col = out_col(cfg, warp, lane, 0, 0);

  const int64_t z = p.z0 + blockIdx.y;
  const int64_t split = z / p.batch, item = z - split * p.batch;
  const int k_begin = static_cast<int>(split) * p.k_chunk;
  const int k_len = min(p.K - k_begin, p.k_chunk);
  const float* a = p.a + item * p.sa;
  const float* b = p.b + item * p.sb;
  la.init(a, TA ? p.M : p.K, m0, k_begin, p.M);
  lb.init(b, TB ? p.K : p.N, n0, k_begin, p.N);

  float acc[CM * 4][CN * 4];
#pragma unroll
  for (int i = 0; i < CM * 4; ++i)
#pragma unroll
    for (int j = 0; j < CN * 4; ++j) acc[i][j] = 0.f;

  // Slice 0 into buffer 0.
  if constexpr (TA)
    la.issue(As[0], k_len, p.vec_a, p.a, p.M);
  else
    la.load(k_len, p.vec_a);
  if constexpr (!TB)
    lb.issue(Bs[0], k_len, p.vec_b, p.b, p.N);
  else
    lb.load(k_len, p.vec_b);
  cp_async_commit();
  if constexpr (!TA) la.store(As[0]);
  if constexpr (TB) lb.store(Bs[0]);
  cp_async_wait_all();
  __syncthreads();

  const int slices = (k_len + kBK - 1) / kBK;
  for (int t = 0; t < slices; ++t) {
    const int cur = t & 1;
    const bool more = t + 1 < slices;  // the same for every thread of the block
    const int k_rem = k_len - (t + 1) * kBK;
    // Buffer cur^1 was last read in slice t-1, which every thread has finished (barrier below).
    if (more) {
      if constexpr (TA)
        la.issue(As[cur ^ 1], k_rem, p.vec_a, p.a, p.M);
      else
        la.load(k_rem, p.vec_a);
      if constexpr (!TB)
        lb.issue(Bs[cur ^ 1], k_rem, p.vec_b, p.b, p.N);
      else
        lb.load(k_rem, p.vec_b);
      cp_async_commit();
    }
    const float* as = As[cur] + a_row;
    const float* bs = Bs[cur] + b_col;
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      float ra[CM * 4], rb[CN * 4];
#pragma unroll
      for (int i = 0; i < CM; ++i)
        *reinterpret_cast<float4*>(&ra[i * 4]) =
            *reinterpret_cast<const float4*>(as + kk * LDA + i * 16);
#pragma unroll
      for (int j = 0; j < CN; ++j)
        *reinterpret_cast<float4*>(&rb[j * 4]) =
            *reinterpret_cast<const float4*>(bs + kk * LDB + j * 32);
#pragma unroll
      for (int i = 0; i < CM * 4; ++i)
#pragma unroll
        for (int j = 0; j < CN * 4; ++j) acc[i][j] = fmaf(ra[i], rb[j], acc[i][j]);
    }
    if (more) {
      if constexpr (!TA) la.store(As[cur ^ 1]);
      if constexpr (TB) lb.store(Bs[cur ^ 1]);
    }
    cp_async_wait_all();
    __syncthreads();
  }

  // Epilogue: alpha * acc (+ beta * C) (+ bias); beta == 0 never reads C.
  float* const c = p.c + item * p.sc + split * p.sc_split;
#pragma unroll
  for (int cm = 0; cm < CM; ++cm)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int m = m0 + out_row(cfg, warp, lane, cm, i);
      if (m >= p.M) continue;
      float* crow = c + static_cast<int64_t>(m) * p.N;
#pragma unroll
      for (int cn = 0; cn < CN; ++cn) {
        const int n = n0 + out_col(cfg, warp, lane, cn, 0);
        if (n >= p.N) continue;
        float v[4];
#pragma unroll
        for (int j = 0; j < 4; ++j) v[j] = p.alpha * acc[cm * 4 + i][cn * 4 + j];
        if (p.vec_c && n + 4 <= p.N) {
          if (p.beta != 0.f) {
            const float4 o = *reinterpret_cast<const float4*>(crow + n);
            v[0] += p.beta * o.x;
            v[1] += p.beta * o.y;
            v[2] += p.beta * o.z;
            v[3] += p.beta * o.w;
          }
          if (p.bias)
#pragma unroll
            for (int j = 0; j < 4; ++j) v[j] += p.bias[n + j];
          *reinterpret_cast<float4*>(crow + n) = make_float4(v[0], v[1], v[2], v[3]);
        } else {
#pragma unroll
          for (int j = 0; j < 4; ++j) {
            if (n + j >= p.N) break;
            float o = v[j];
            if (p.beta != 0.f) o += p.beta * crow[n + j];
            if (p.bias) o += p.bias[n + j];
            crow[n + j] = o;
          }
        }
      }
    }
}

// C[item] = alpha * (sum of the K-chunk partials, in chunk order) + beta * C[item] + bias: the
// same formula and rounding order on every run (no atomics).
__global__ void splitk_reduce_kernel(float* c, const float* ws, const float* bias, int64_t batch,
                                     int64_t mn, int64_t n_cols, int64_t sc, int splits,
                                     float alpha, float beta) {
  const int64_t total = batch * mn;
  FASTNN_KERNEL_LOOP(e, total) {
    float s = 0.f;
    for (int sp = 0; sp < splits; ++sp) s += ws[sp * total + e];
    const int64_t item = e / mn, r = e - item * mn;
    float* o = c + item * sc + r;
    float v = alpha * s;
    if (beta != 0.f) v += beta * *o;
    if (bias) v += bias[r % n_cols];
    *o = v;
  }
}

}  // namespace fastnn::cuda::gemm
