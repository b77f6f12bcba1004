// GEMM on the GPU: C = alpha * op(A) @ op(B) + beta * C + bias, batched, float32 and float64,
// every transpose combination, the bias add fused into the epilogue. Backward of a matmul is
// two more GEMMs with transposes (dA = dC op(B)^T, dB = op(A)^T dC), so this one kernel serves
// both directions (the Python layer composes them, as on the CPU).
// Shapes (row-major): op(A) (M, K), op(B) (K, N), C (M, N); A is (K, M) when transposed, B is
// (N, K) when transposed. Batch items are stride_* elements apart (0 broadcasts a matrix).
// float32 (M, N, K < 2^30) runs the tuned kernel of sgemm_kernel.cuh with the tile shape and K
// split that gemm_plan.h picks; split K writes partials to a workspace and a second kernel sums
// them in a fixed order (deterministic). float64 and giant float32 problems run the simple
// kernel below: a block computes a BM x BN tile of C, staging BK-deep slices of op(A) (k-major)
// and op(B) in shared memory; each thread accumulates a TM x TN micro-tile in registers, its
// rows/columns strided by the thread grid so a warp reads consecutive shared words. Out-of-range
// loads read 0, so any M, N, K works.
// beta == 0 never reads C (it may hold NaN garbage, like BLAS). Accumulation in T (TF32 off).
#include <atomic>

#include "cuda/common.cuh"
#include "cuda/sgemm_kernel.cuh"

namespace fastnn::cuda {
namespace {

template <class T, int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    gemm_kernel(T* __restrict__ C, const T* __restrict__ A, const T* __restrict__ B,
                const T* __restrict__ bias, int64_t batch, int64_t M, int64_t N, int64_t K, bool ta,
                bool tb, T alpha, T beta, int64_t sa, int64_t sb, int64_t sc) {
  constexpr int kTx = BN / TN, kTy = BM / TM, kThreadsG = kTx * kTy;
  static_assert((BM * BK) % kThreadsG == 0 && (BN * BK) % kThreadsG == 0, "tile/thread mismatch");
  __shared__ T As[BK][BM];
  __shared__ T Bs[BK][BN];
  const int tid = threadIdx.x, tx = tid % kTx, ty = tid / kTx;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM,
                n0 = static_cast<int64_t>(blockIdx.x) * BN;

  for (int64_t z = blockIdx.z; z < batch; z += gridDim.z) {
    const T* a = A + z * sa;
    const T* b = B + z * sb;
    T* c = C + z * sc;
    T acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

    for (int64_t k0 = 0; k0 < K; k0 += BK) {
      // Stage op(A)[m0:m0+BM, k0:k0+BK] as As[k][m]; consecutive threads walk A's contiguous axis.
#pragma unroll
      for (int l = 0; l < BM * BK / kThreadsG; ++l) {
        const int idx = tid + l * kThreadsG;
        int mm, kk;
        if (ta) {
          mm = idx % BM;
          kk = idx / BM;
        } else {
          kk = idx % BK;
          mm = idx / BK;
        }
        const int64_t m = m0 + mm, k = k0 + kk;
        T v = T(0);
        if (m < M && k < K) v = ta ? a[k * M + m] : a[m * K + k];
        As[kk][mm] = v;
      }
      // Stage op(B)[k0:k0+BK, n0:n0+BN] as Bs[k][n].
#pragma unroll
      for (int l = 0; l < BN * BK / kThreadsG; ++l) {
        const int idx = tid + l * kThreadsG;
        int nn, kk;
        if (tb) {
          kk = idx % BK;
          nn = idx / BK;
        } else {
          nn = idx % BN;
          kk = idx / BN;
        }
        const int64_t n = n0 + nn, k = k0 + kk;
        T v = T(0);
        if (n < N && k < K) v = tb ? b[n * K + k] : b[k * N + n];
        Bs[kk][nn] = v;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < BK; ++kk) {
        T ra[TM], rb[TN];
#pragma unroll
        for (int i = 0; i < TM; ++i) ra[i] = As[kk][ty + i * kTy];
#pragma unroll
        for (int j = 0; j < TN; ++j) rb[j] = Bs[kk][tx + j * kTx];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] += ra[i] * rb[j];
      }
      __syncthreads();  // the next slice overwrites As/Bs
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int64_t m = m0 + ty + i * kTy;
      if (m >= M) continue;
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int64_t n = n0 + tx + j * kTx;
        if (n >= N) continue;
        T v = alpha * acc[i][j];
        if (beta != T(0)) v += beta * c[m * N + n];
        if (bias) v += bias[n];
        c[m * N + n] = v;
      }
    }
  }
}

template <class T, int BM, int BN, int BK, int TM, int TN>
void launch_gemm(T* c, const T* a, const T* b, const T* bias, int64_t batch, int64_t M, int64_t N,
                 int64_t K, bool ta, bool tb, double alpha, double beta, int64_t sa, int64_t sb,
                 int64_t sc) {
  const int64_t gx = ceil_div(N, BN), gy = ceil_div(M, BM);
  FASTNN_CHECK(gx <= 2147483647LL && gy <= 65535, "matmul: matrix too large for one launch (M=", M,
               ", N=", N, ")");
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy),
                  static_cast<unsigned>(batch < 65535 ? batch : 65535));
  constexpr int threads = (BM / TM) * (BN / TN);
  gemm_kernel<T, BM, BN, BK, TM, TN><<<grid, threads, 0, current_stream()>>>(
      c, a, b, bias, batch, M, N, K, ta, tb, static_cast<T>(alpha), static_cast<T>(beta), sa, sb,
      sc);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// C = beta * C + bias when K == 0 (the product is an empty sum).
template <class T>
__global__ void scale_bias_kernel(T* c, const T* bias, int64_t rows, int64_t N, T beta) {
  FASTNN_KERNEL_LOOP(i, rows * N) {
    T v = beta != T(0) ? beta * c[i] : T(0);
    if (bias) v += bias[i % N];
    c[i] = v;
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 15) == 0; }

template <int kTile>
void launch_sgemm(const gemm::SgemmArgs& args, bool ta, bool tb, const gemm::Plan& plan) {
  constexpr gemm::TileCfg cfg = gemm::kTiles[kTile];
  constexpr int BM = cfg.bm, BN = cfg.bn, WM = cfg.warps_m, WN = cfg.warps_n;
  constexpr unsigned threads = cfg.threads();
  cudaStream_t s = current_stream();
  const int64_t rows = args.batch * plan.splits;
  // grid.y stops at 65535: larger batches take several launches.
  for (int64_t z0 = 0; z0 < rows; z0 += plan.grid_y) {
    gemm::SgemmArgs chunk = args;
    chunk.z0 = z0;
    const int64_t gy = rows - z0 < plan.grid_y ? rows - z0 : plan.grid_y;
    const dim3 grid(static_cast<unsigned>(plan.grid_x), static_cast<unsigned>(gy));
    if (!ta && !tb)
      gemm::sgemm_kernel<BM, BN, WM, WN, false, false><<<grid, threads, 0, s>>>(chunk);
    else if (!ta && tb)
      gemm::sgemm_kernel<BM, BN, WM, WN, false, true><<<grid, threads, 0, s>>>(chunk);
    else if (ta && !tb)
      gemm::sgemm_kernel<BM, BN, WM, WN, true, false><<<grid, threads, 0, s>>>(chunk);
    else
      gemm::sgemm_kernel<BM, BN, WM, WN, true, true><<<grid, threads, 0, s>>>(chunk);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
}

// float32 with M, N, K < 2^30 (32-bit index math inside a batch item is then exact).
void sgemm(float* c, const float* a, const float* b, const float* bias, int64_t batch, int64_t M,
           int64_t N, int64_t K, bool ta, bool tb, float alpha, float beta, int64_t sa, int64_t sb,
           int64_t sc) {
  const gemm::Plan plan = gemm::plan_gemm(batch, M, N, K, multiprocessor_count());
  FASTNN_CHECK(plan.grid_x <= 2147483647LL, "matmul: matrix too large for one launch (M=", M,
               ", N=", N, ")");
  gemm::SgemmArgs args{};
  args.a = a;
  args.b = b;
  args.sa = sa;
  args.sb = sb;
  args.batch = batch;
  args.M = static_cast<int>(M);
  args.N = static_cast<int>(N);
  args.K = static_cast<int>(K);
  args.k_chunk = static_cast<int>(plan.k_chunk);
  args.tiles_m = static_cast<int>(plan.tiles_m);
  args.tiles_n = static_cast<int>(plan.tiles_n);
  // 16-byte access needs the leading dimension, the base pointer and the batch stride aligned.
  args.vec_a = (ta ? M : K) % 4 == 0 && aligned16(a) && sa % 4 == 0;
  args.vec_b = (tb ? K : N) % 4 == 0 && aligned16(b) && sb % 4 == 0;
  const bool split = plan.splits > 1;
  // The partials: `splits` contiguous (batch, M, N) stacks, summed by splitk_reduce_kernel.
  Workspace ws(split ? static_cast<int64_t>(plan.splits) * batch * M * N * 4 : 0);
  if (split) {
    args.c = ws.as<float>();
    args.bias = nullptr;
    args.sc = M * N;
    args.sc_split = batch * M * N;
    args.alpha = 1.f;
    args.beta = 0.f;
    args.vec_c = N % 4 == 0;
  } else {
    args.c = c;
    args.bias = bias;
    args.sc = sc;
    args.sc_split = 0;
    args.alpha = alpha;
    args.beta = beta;
    args.vec_c = N % 4 == 0 && aligned16(c) && sc % 4 == 0;
  }
  static_assert(gemm::kNumTiles == 3, "one case per tile shape");
  switch (plan.tile) {
    case 0:
      launch_sgemm<0>(args, ta, tb, plan);
      break;
    case 1:
      launch_sgemm<1>(args, ta, tb, plan);
      break;
    default:
      launch_sgemm<2>(args, ta, tb, plan);
      break;
  }
  if (split) {
    gemm::splitk_reduce_kernel<<<grid_for(batch * M * N), kThreads, 0, current_stream()>>>(
        c, ws.as<float>(), bias, batch, M * N, N, sc, plan.splits, alpha, beta);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace

int multiprocessor_count() {
  static std::atomic<int> cache[64] = {};
  int dev = 0;
  FASTNN_CUDA_CHECK(cudaGetDevice(&dev));
  std::atomic<int>* slot = dev >= 0 && dev < 64 ? &cache[dev] : nullptr;
  int sms = slot ? slot->load(std::memory_order_relaxed) : 0;
  if (sms == 0) {
    FASTNN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    if (sms < 1) sms = 1;
    if (slot) slot->store(sms, std::memory_order_relaxed);
  }
  return sms;
}

void matmul_forward_cuda(DType dt, void* c, const void* a, const void* b, const void* bias,
                         int64_t batch, int64_t M, int64_t N, int64_t K, Trans ta, Trans tb,
                         double alpha, double beta, int64_t stride_a, int64_t stride_b,
                         int64_t stride_c) {
  if (batch == 0 || M == 0 || N == 0) return;
  const bool tra = ta == Trans::T, trb = tb == Trans::T;
  dispatch_float(dt, "matmul", [&](auto tag) {
    using T = decltype(tag);
    T* pc = static_cast<T*>(c);
    const T* pa = static_cast<const T*>(a);
    const T* pb = static_cast<const T*>(b);
    const T* pbias = static_cast<const T*>(bias);
    if (K == 0) {
      // Batched C is contiguous (stride_c == M * N) in every caller.
      const int64_t rows = batch * M;
      scale_bias_kernel<T><<<grid_for(rows * N), kThreads, 0, current_stream()>>>(
          pc, pbias, rows, N, static_cast<T>(beta));
      FASTNN_CUDA_CHECK_LAUNCH();
      return;
    }
    if constexpr (std::is_same_v<T, float>) {
      if (M < gemm::kMaxDim32 && N < gemm::kMaxDim32 && K < gemm::kMaxDim32) {
        sgemm(pc, pa, pb, pbias, batch, M, N, K, tra, trb, static_cast<float>(alpha),
              static_cast<float>(beta), stride_a, stride_b, stride_c);
        return;
      }
    }
    launch_gemm<T, 64, 64, 8, 4, 4>(pc, pa, pb, pbias, batch, M, N, K, tra, trb, alpha, beta,
                                    stride_a, stride_b, stride_c);
  });
}

}  // namespace fastnn::cuda
