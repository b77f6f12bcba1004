// Row statistics shared by the softmax family (softmax.cu) and the fused cross-entropy
// (softmax_cross_entropy.cu): group reductions for rows held in registers by part of a warp, and
// the online (one pass) max / rescaled sum-exp for rows streamed by a whole block.
//
// [note: softmax specials] The GPU gives the CPU kernels' results for non-finite inputs. With
// m = the row max ignoring NaN and s = sum exp(x - m): a row holding NaN or +inf, or made only of
// -inf, has s = NaN (exp(inf - inf), exp(NaN), exp(-inf + inf)), so every output of that row is
// NaN; a -inf entry of any other row gives softmax 0, log_softmax -inf. The online form below
// keeps exactly these cases: a -inf entry adds nothing while the running max is -inf, and a row
// whose final max is -inf gets s = NaN.
#pragma once
#include "cuda/common.cuh"
#include "scalar_math.h"

namespace fastnn::cuda {

// Max / sum over aligned groups of g lanes (g a power of two <= 32). Every lane of the warp must
// call (full mask); lanes of other groups exchange among themselves.
template <class T>
__device__ __forceinline__ T group_max(T v, int g) {
  for (int o = g >> 1; o > 0; o >>= 1) {
    const T u = __shfl_xor_sync(0xffffffffu, v, o);
    v = u > v ? u : v;  // inputs never NaN (a running max skips NaN)
  }
  return v;
}
template <class T>
__device__ __forceinline__ T group_sum(T v, int g) {
  for (int o = g >> 1; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Online statistics of a stream of values x with weights wx: m = max x (NaN skipped),
// s = sum exp(x - m) and, when Acc, a = sum wx (m - x) and w = sum wx. a is kept against the
// current m and shifted by (m' - m) w when the max rises to m', so every term stays >= 0 (no
// cancellation for logits of +-1e4, as on the CPU, which sums w (m - x) after finding m).
template <class T>
struct OnlineStat {
  T m, s, a, w;
};

template <class T>
__device__ __forceinline__ OnlineStat<T> online_init() {
  return {T(-INFINITY), T(0), T(0), T(0)};
}

template <class T, bool Acc>
__device__ __forceinline__ void online_add(OnlineStat<T>& st, T x, T wx) {
  if (x > st.m) {
    // exp(x - x), not 1: x = +inf must give NaN, as on the CPU.
    st.s = st.s * fastnn::math::m_exp(st.m - x) + fastnn::math::m_exp(x - x);
    if (Acc && st.w != T(0)) st.a += (x - st.m) * st.w;
    st.m = x;
  } else if (x != T(-INFINITY)) {
    st.s += fastnn::math::m_exp(x - st.m);  // NaN x makes s NaN
  }
  if constexpr (Acc) {
    // A -inf logit has m - x = +inf whatever the final max (0 weight: NaN, as 0 * inf on the CPU).
    st.a += x == T(-INFINITY) ? wx * T(INFINITY) : wx * (st.m - x);
    st.w += wx;
  }
}

// Merges two partial statistics. Symmetric in its result only for a fixed argument order, so
// the butterfly below always passes (lower lane, upper lane): both lanes compute the same value.
template <class T, bool Acc>
__device__ __forceinline__ OnlineStat<T> online_merge(const OnlineStat<T>& p,
                                                      const OnlineStat<T>& q) {
  OnlineStat<T> r;
  r.m = q.m > p.m ? q.m : p.m;
  // A part whose max is -inf has s = 0 (nothing finite seen) or NaN (a NaN seen): keep it as is.
  const T sp = p.m == T(-INFINITY) ? p.s : p.s * fastnn::math::m_exp(p.m - r.m);
  const T sq = q.m == T(-INFINITY) ? q.s : q.s * fastnn::math::m_exp(q.m - r.m);
  r.s = sp + sq;
  if constexpr (Acc) {
    r.a = p.a + q.a;
    // Shift a part's sum to the merged max only when the max moved: two parts that saw only
    // -inf keep m = -inf, and (-inf) - (-inf) would make the sum NaN instead of +inf.
    if (p.w != T(0) && r.m != p.m) r.a += (r.m - p.m) * p.w;
    if (q.w != T(0) && r.m != q.m) r.a += (r.m - q.m) * q.w;
    r.w = p.w + q.w;
  } else {
    r.a = T(0);
    r.w = T(0);
  }
  return r;
}

template <class T>
__device__ __forceinline__ OnlineStat<T> shfl_xor_stat(const OnlineStat<T>& v, int o) {
  return {__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o),
          __shfl_xor_sync(0xffffffffu, v.a, o), __shfl_xor_sync(0xffffffffu, v.w, o)};
}

// Warp-wide merge; every lane gets the same statistics.
template <class T, bool Acc>
__device__ __forceinline__ OnlineStat<T> warp_merge(OnlineStat<T> v) {
  const int lane = threadIdx.x & 31;
  for (int o = 16; o > 0; o >>= 1) {
    const OnlineStat<T> u = shfl_xor_stat(v, o);
    v = (lane & o) ? online_merge<T, Acc>(u, v) : online_merge<T, Acc>(v, u);
  }
  return v;
}

// Block-wide merge (blockDim.x a multiple of 32); every thread gets the same statistics. All
// threads must call it.
template <class T, bool Acc>
__device__ OnlineStat<T> block_merge(OnlineStat<T> v, OnlineStat<T>* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_merge<T, Acc>(v);
  __syncthreads();  // `shared` may still be read by a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < nwarps ? shared[lane] : online_init<T>();
  return warp_merge<T, Acc>(v);
}

// The statistics of a whole row: s = NaN when the max is -inf ([note: softmax specials]).
template <class T>
__device__ __forceinline__ OnlineStat<T> finish_row(OnlineStat<T> v) {
  if (v.m == T(-INFINITY)) v.s = T(NAN);
  return v;
}

template <class T, bool Acc>
__device__ OnlineStat<T> block_merge_final(OnlineStat<T> v, OnlineStat<T>* shared) {
  return finish_row(block_merge<T, Acc>(v, shared));
}

// Threads per block and blocks for a row-wise kernel that gives rows of up to 1024 values to
// groups of g lanes holding vpt values each (vpt * g >= cols).
struct RowPlan {
  int vpt;    // values per lane: 1, 2, 4, 8, 16 or 32
  int group;  // lanes per row: a power of two <= 32
};
inline RowPlan plan_narrow_rows(int64_t cols) {
  if (cols <= 32) {
    int g = 1;
    while (g < cols) g <<= 1;
    return {1, g};
  }
  int v = 2;
  while (v * 32 < cols) v <<= 1;
  return {v, 32};
}

// Chunks per row when a row is cut over several blocks ([note: split rows] in softmax.cu), or 0
// for a block per row: only when the rows cannot give every SM two blocks and each chunk still
// holds >= 4096 values. rows < 2 x SMs keeps a grid of (parts, rows) within gridDim.y.
inline int64_t split_row_parts(int64_t rows, int64_t cols) {
  if (cols < 16384 || rows < 1) return 0;
  int dev = 0, sms = 0;
  FASTNN_CUDA_CHECK(cudaGetDevice(&dev));
  FASTNN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  const int64_t want = 2 * static_cast<int64_t>(sms);
  if (rows >= want || rows > 65535) return 0;
  int64_t parts = ceil_div(want, rows);
  const int64_t most = cols / 4096;
  if (parts > most) parts = most;
  if (parts < 2) return 0;
  return ceil_div(cols, ceil_div(cols, parts));  // no empty chunk
}

}  // namespace fastnn::cuda
