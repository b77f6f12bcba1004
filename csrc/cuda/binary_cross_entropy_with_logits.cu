// Binary cross-entropy with logits on the GPU
// (torch.nn.functional.binary_cross_entropy_with_logits), elementwise over n values with the last
// dimension C: the formula is csrc/scalar_math.h's bce_logits (stable for any logit) and its
// gradient bce_logits_grad, times the weight:
//   loss_i = w_i [(1 - t) x - (1 + (pw - 1) t) log sigmoid(x)],  dx_i = w_i (lw sigmoid(x) - pw t)
// weight: per element, or per last-dim entry (weight_per_class); pos_weight per last-dim entry.
// 'mean' divides by n. The total is accumulated in double and is the same bits run to run: each
// block writes its partial sum to a buffer, then one block adds the partials in a fixed order
// (no floating-point atomics, whose order depends on scheduling).
#include <algorithm>

#include "cuda/common.cuh"
#include "scalar_math.h"

namespace fastnn::cuda {
namespace {
namespace fm = fastnn::math;

// Blocks of the reducing launch: a fixed number for a given n (never the device's SM count), so
// the partials and their order are the same on every run.
constexpr int64_t kMaxPartials = 4096;

template <class T>
__global__ void bce_kernel(T* per_item, T* dlogits, double* partials, const T* x, const T* t,
                           const T* w, bool w_per_class, const T* pw, int64_t n, int64_t C,
                           T grad_scale) {
  __shared__ double shared[32];
  double acc = 0.0;
  FASTNN_KERNEL_LOOP(i, n) {
    const int64_t c = i % C;
    const T p = pw ? pw[c] : T(1);
    const T wi = w ? (w_per_class ? w[c] : w[i]) : T(1);
    const T l = wi * fm::bce_logits(x[i], t[i], p);
    if (per_item) per_item[i] = l;
    if (dlogits) dlogits[i] = grad_scale * wi * fm::bce_logits_grad(x[i], t[i], p);
    acc += static_cast<double>(l);
  }
  if (partials == nullptr) return;  // uniform across the block: no thread skips the barrier
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// One block: thread j adds partials j, j + blockDim.x, ... in order, then a fixed-shape tree.
template <class T>
__global__ void bce_finish_kernel(T* loss, const double* partials, int64_t count, double scale) {
  __shared__ double shared[32];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) loss[0] = static_cast<T>(acc * scale);
}

}  // namespace

void binary_cross_entropy_with_logits_forward_cuda(DType dt, void* loss, void* dlogits,
                                                   const void* logits, const void* target,
                                                   const void* weight, bool weight_per_class,
                                                   const void* pos_weight, int64_t n, int64_t C,
                                                   Reduction reduction) {
  if (C < 1) C = 1;
  dispatch_float(dt, "binary_cross_entropy_with_logits", [&](auto tag) {
    using T = decltype(tag);
    const bool reduce = reduction != Reduction::none;
    const int64_t blocks =
        n <= 0 ? 0 : (reduce ? std::min<int64_t>(grid_for(n), kMaxPartials) : grid_for(n));
    Workspace ws(reduce ? blocks * static_cast<int64_t>(sizeof(double)) : 0);
    double* partials = reduce ? ws.as<double>() : nullptr;
    const double scale = reduction == Reduction::mean ? 1.0 / static_cast<double>(n) : 1.0;
    if (n > 0) {
      bce_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, current_stream()>>>(
          reduce ? nullptr : static_cast<T*>(loss), static_cast<T*>(dlogits), partials,
          static_cast<const T*>(logits), static_cast<const T*>(target),
          static_cast<const T*>(weight), weight_per_class, static_cast<const T*>(pos_weight), n, C,
          static_cast<T>(scale));
      FASTNN_CUDA_CHECK_LAUNCH();
    }
    if (reduce) {  // n == 0: no partials, the sum is 0 (and 'mean' gives 0 * inf = NaN, as torch)
      bce_finish_kernel<T>
          <<<1, kThreads, 0, current_stream()>>>(static_cast<T*>(loss), partials, blocks, scale);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
  });
}

}  // namespace fastnn::cuda
