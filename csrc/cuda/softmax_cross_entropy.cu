// Fused softmax cross-entropy on the GPU, torch.nn.functional.cross_entropy semantics, matching
// csrc/cpu/softmax_cross_entropy.cpp: logits (N, C); targets are class indices (N,) (int64/int32,
// rows equal to ignore_index count for nothing) or class probabilities (N, C); optional class
// weights w (C,); label smoothing eps. With lse = logsumexp(z_row) and -log p_c = lse - z_c:
//   index target y:  loss = (1-eps) w_y (lse - z_y) + eps/C sum_c w_c (lse - z_c)
//                    dz_c = p_c ((1-eps) w_y + eps/C W) - (1-eps) w_y [c = y] - eps/C w_c,  W = sum
//                    w
//   probabilities t: t' = (1-eps) t + eps/C;  loss = sum_c w_c t'_c (lse - z_c)
//                    dz_c = p_c sum_k w_k t'_k - w_c t'_c
// 'mean' divides by sum of w_y over non-ignored rows (by N for probability targets).
// Launches: (1) one block validates the labels (out-of-range -> a device flag, reported as
// ValueError after the launch) and sums the weights; (2) a warp (C <= 1024) or a block per row
// computes the row loss and writes the gradient in one pass over the row after max / sum-exp;
// (3) one block sums the row losses in double. Stable: every exp argument is <= 0.
#include "cuda/common.cuh"
#include "scalar_math.h"

namespace fastnn::cuda {
namespace {
namespace fm = fastnn::math;

struct XentStats {
  double denom;    // what 'mean' divides by
  double w_total;  // sum of the class weights (C without weights)
  int bad;         // 1 when a label is out of range
  int64_t bad_row, bad_label;
};

template <class I, class T>
__global__ void xent_labels_kernel(XentStats* st, const I* labels, const T* weight, int64_t N,
                                   int64_t C, int64_t ignore_index) {
  __shared__ double shared[32];
  double denom = 0.0, wt = 0.0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
    const int64_t y = static_cast<int64_t>(labels[i]);
    if (y == ignore_index) continue;
    if (y < 0 || y >= C) {
      if (atomicCAS(&st->bad, 0, 1) == 0) {
        st->bad_row = i;
        st->bad_label = y;
      }
      continue;
    }
    denom += weight ? static_cast<double>(weight[y]) : 1.0;
  }
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
    wt += weight ? static_cast<double>(weight[c]) : 1.0;
  denom = block_sum(denom, shared);
  wt = block_sum(wt, shared);
  if (threadIdx.x == 0) {
    st->denom = denom;
    st->w_total = wt;
  }
}

template <class T, bool Warp>
__device__ __forceinline__ T rmax(T v, T* shared) {
  if constexpr (Warp)
    return warp_max(v);
  else
    return block_max(v, shared, T(-INFINITY));
}
template <class T, bool Warp>
__device__ __forceinline__ T rsum(T v, T* shared) {
  if constexpr (Warp)
    return warp_sum(v);
  else
    return block_sum(v, shared);
}

// One row per warp (Warp) or per block. row_loss[r] gets the unscaled row loss; dlogits (if not
// null) the gradient scaled by `scale` (1 / denom for 'mean', else 1).
template <class T, class I, bool Warp>
__global__ void xent_rows_kernel(T* row_loss, T* dlogits, const T* logits, const I* labels,
                                 const T* probs, const T* weight, const XentStats* st, int64_t N,
                                 int64_t C, Reduction red, T eps, int64_t ignore_index) {
  __shared__ T shared[32];
  const int lanes = Warp ? 32 : blockDim.x;
  const int lane = Warp ? (threadIdx.x & 31) : threadIdx.x;
  const int64_t per_block = Warp ? blockDim.x / 32 : 1;
  const int64_t sub = Warp ? threadIdx.x / 32 : 0;
  T scale = T(1);
  if (red == Reduction::mean) scale = probs ? T(1.0 / static_cast<double>(N)) : T(1.0 / st->denom);
  const T w_total = labels ? static_cast<T>(st->w_total) : T(0);
  const T eps_c = eps / static_cast<T>(C);
  for (int64_t r = blockIdx.x * per_block + sub; r - sub < N; r += gridDim.x * per_block) {
    if (r >= N) break;  // only in warp mode, where no block-wide barrier follows
    const T* z = logits + r * C;
    T* g = dlogits ? dlogits + r * C : nullptr;
    int64_t y = -1;
    if (labels) {
      y = static_cast<int64_t>(labels[r]);
      if (y == ignore_index || y < 0 || y >= C) {  // ignored (or invalid: reported by the flag)
        if (g)
          for (int64_t j = lane; j < C; j += lanes) g[j] = T(0);
        if (lane == 0) row_loss[r] = T(0);
        continue;
      }
    }
    T m = T(-INFINITY);
    for (int64_t j = lane; j < C; j += lanes) m = fmax(m, z[j]);
    m = rmax<T, Warp>(m, shared);
    T s = T(0), swt = T(0);
    for (int64_t j = lane; j < C; j += lanes) {
      s += fm::m_exp(z[j] - m);
      if (probs) {
        const T t = (T(1) - eps) * probs[r * C + j] + eps_c;
        swt += (weight ? weight[j] : T(1)) * t;
      }
    }
    s = rsum<T, Warp>(s, shared);
    if (probs) swt = rsum<T, Warp>(swt, shared);
    const T lse = fm::lse_finish(m, s);
    const T inv_s = T(1) / s;
    const T wy = labels ? (weight ? weight[y] : T(1)) : T(0);
    const T coef = labels ? (T(1) - eps) * wy + eps_c * w_total : swt;  // multiplies p_c
    T acc = T(0);
    for (int64_t j = lane; j < C; j += lanes) {
      const T wj = weight ? weight[j] : T(1);
      const T nlp = lse - z[j];  // -log p_j
      T sub_j;                   // the target part of the gradient
      if (labels) {
        if (eps != T(0)) acc += wj * nlp;
        sub_j = eps_c * wj + (j == y ? (T(1) - eps) * wy : T(0));
      } else {
        const T t = (T(1) - eps) * probs[r * C + j] + eps_c;
        acc += wj * t * nlp;
        sub_j = wj * t;
      }
      if (g) g[j] = scale * (fm::m_exp(z[j] - m) * inv_s * coef - sub_j);
    }
    acc = rsum<T, Warp>(acc, shared);
    if (lane == 0) row_loss[r] = labels ? (T(1) - eps) * wy * (lse - z[y]) + eps_c * acc : acc;
  }
}

// loss[0] = sum(row_loss) * (1/denom for 'mean'), accumulated in double.
template <class T>
__global__ void xent_total_kernel(T* loss, const T* row_loss, const XentStats* st, int64_t N,
                                  Reduction red, bool prob_targets) {
  __shared__ double shared[32];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x) acc += static_cast<double>(row_loss[i]);
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) {
    if (red == Reduction::mean) acc /= prob_targets ? static_cast<double>(N) : st->denom;
    loss[0] = static_cast<T>(acc);
  }
}

template <class T, class I>
void xent_typed(T* loss, T* dlogits, const T* logits, const I* labels, const T* probs,
                const T* weight, int64_t N, int64_t C, Reduction red, double eps,
                int64_t ignore_index) {
  Workspace stats_ws(sizeof(XentStats));
  XentStats* st = stats_ws.as<XentStats>();
  FASTNN_CUDA_CHECK(cudaMemsetAsync(st, 0, sizeof(XentStats), current_stream()));
  if (labels) {
    xent_labels_kernel<I, T>
        <<<1, 1024, 0, current_stream()>>>(st, labels, weight, N, C, ignore_index);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  // Per-row losses go straight to `loss` for 'none', else to scratch.
  Workspace rows_ws(red == Reduction::none ? 0 : N * static_cast<int64_t>(sizeof(T)));
  T* row_loss = red == Reduction::none ? loss : rows_ws.as<T>();
  if (N > 0) {
    if (C <= 1024) {
      constexpr int kWarps = 8;
      xent_rows_kernel<T, I, true>
          <<<grid_rows(ceil_div(N, kWarps)), kWarps * 32, 0, current_stream()>>>(
              row_loss, dlogits, logits, labels, probs, weight, st, N, C, red, T(eps),
              ignore_index);
    } else {
      xent_rows_kernel<T, I, false><<<grid_rows(N), C >= 8192 ? 1024 : 256, 0, current_stream()>>>(
          row_loss, dlogits, logits, labels, probs, weight, st, N, C, red, T(eps), ignore_index);
    }
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  if (red != Reduction::none) {
    xent_total_kernel<T>
        <<<1, 1024, 0, current_stream()>>>(loss, row_loss, st, N, red, probs != nullptr);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  if (labels) {  // [note: label check] the only host sync of the op: report bad labels
    XentStats host;
    copy_device_to_host(&host, st,
                        sizeof host);  // ordered on the current stream; raises in a capture
    FASTNN_CHECK(!host.bad, "softmax_cross_entropy: target[", host.bad_row, "] = ", host.bad_label,
                 " is out of range for ", C, " classes (expected 0 <= target < ", C,
                 ", or ignore_index = ", ignore_index, ")");
  }
}

}  // namespace

void softmax_cross_entropy_forward_cuda(DType dt, void* loss, void* dlogits, const void* logits,
                                        const void* labels, DType label_dt, const void* probs,
                                        const void* weight, int64_t N, int64_t C,
                                        Reduction reduction, double label_smoothing,
                                        int64_t ignore_index) {
  FASTNN_CHECK((labels == nullptr) != (probs == nullptr),
               "softmax_cross_entropy: exactly one of labels and probabilities must be given");
  FASTNN_CHECK(C >= 1, "softmax_cross_entropy: need at least one class");
  dispatch_float(dt, "softmax_cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    auto* l = static_cast<T*>(loss);
    auto* g = static_cast<T*>(dlogits);
    auto* z = static_cast<const T*>(logits);
    auto* p = static_cast<const T*>(probs);
    auto* w = static_cast<const T*>(weight);
    if (labels == nullptr || label_dt == DType::i64)
      xent_typed<T, int64_t>(l, g, z, static_cast<const int64_t*>(labels), p, w, N, C, reduction,
                             label_smoothing, ignore_index);
    else if (label_dt == DType::i32)
      xent_typed<T, int32_t>(l, g, z, static_cast<const int32_t*>(labels), p, w, N, C, reduction,
                             label_smoothing, ignore_index);
    else
      FASTNN_CHECK(false, "softmax_cross_entropy: labels must be int64 or int32, got ",
                   dtype_name(label_dt));
  });
}

}  // namespace fastnn::cuda
