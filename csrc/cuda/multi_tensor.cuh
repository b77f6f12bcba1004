// Multi-tensor launches for the optimizer steps: one kernel updates a whole list of tensors.
//
// A launch carries a table of up to table_capacity(D) tensors in its kernel arguments (the D
// pointers of each tensor: param, grad and the state buffers, its element count and its first
// chunk), so nothing is copied to the device and the launch can be captured in a graph. Each
// tensor is cut into chunks of kChunk elements; block b takes chunk b (then b + gridDim.x, ...),
// finds its tensor by a binary search of the chunk prefix sums (uniform across the block, read
// from the constant bank) and walks the chunk in 16-byte packs, all D loads of a pack issued
// before its stores. A chunk whose D pointers are not all 16-byte aligned (a parameter that is a
// view at an odd element) takes a scalar loop. A list longer than one table is cut into several
// launches: ceil(n / capacity) of them, not one per tensor.
//
// The element update is a functor `op(T (&x)[D])` over the values (x[0] param, x[1] grad, x[2..]
// states) calling the shared formula of csrc/optim_math.h; every value but the grad is written
// back.
#pragma once
#include "cuda/common.cuh"
#include "cuda/vec_map.cuh"

namespace fastnn::cuda {

constexpr int64_t kChunk = 16384;  // elements per block-sized unit of work

// Tensors per table: the table stays under 3.5 KB, below the 4 KB kernel-argument limit of every
// CUDA version, with room for the scalars of the update.
constexpr int table_capacity(int d) { return (3584 - 16) / (8 * d + 16); }

template <int D>
struct TensorTable {
  static constexpr int kCap = table_capacity(D);
  void* ptr[D][kCap];
  int64_t numel[kCap];
  int64_t first_chunk[kCap + 1];  // tensor t owns chunks [first_chunk[t], first_chunk[t + 1])
  int count;
};

template <int D, class T, class Op>
__device__ __forceinline__ void multi_tensor_chunk(T* (&p)[D], int64_t n, const Op& op) {
  constexpr int V = pack_width<T>();
  bool aligned = true;
#pragma unroll
  for (int d = 0; d < D; ++d) aligned = aligned && aligned_to(p[d], 16);
  if (aligned) {
    using P = Pack<T, V>;
    const int64_t nvec = n / V;
    for (int64_t v = threadIdx.x; v < nvec; v += blockDim.x) {
      P x[D];
#pragma unroll
      for (int d = 0; d < D; ++d) x[d] = reinterpret_cast<const P*>(p[d])[v];
#pragma unroll
      for (int e = 0; e < V; ++e) {
        T y[D];
#pragma unroll
        for (int d = 0; d < D; ++d) y[d] = x[d].v[e];
        op(y);
#pragma unroll
        for (int d = 0; d < D; ++d) x[d].v[e] = y[d];
      }
#pragma unroll
      for (int d = 0; d < D; ++d)
        if (d != 1) reinterpret_cast<P*>(p[d])[v] = x[d];
    }
    for (int64_t i = nvec * V + threadIdx.x; i < n; i += blockDim.x) {
      T y[D];
#pragma unroll
      for (int d = 0; d < D; ++d) y[d] = p[d][i];
      op(y);
#pragma unroll
      for (int d = 0; d < D; ++d)
        if (d != 1) p[d][i] = y[d];
    }
  } else {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      T y[D];
#pragma unroll
      for (int d = 0; d < D; ++d) y[d] = p[d][i];
      op(y);
#pragma unroll
      for (int d = 0; d < D; ++d)
        if (d != 1) p[d][i] = y[d];
    }
  }
}

template <int D, class T, class Op>
__global__ void __launch_bounds__(kThreads)
    multi_tensor_kernel(const __grid_constant__ TensorTable<D> table, const Op op) {
  const int64_t total = table.first_chunk[table.count];
  for (int64_t c = blockIdx.x; c < total; c += gridDim.x) {
    int lo = 0, hi = table.count - 1;  // the last tensor whose first chunk is <= c
    while (lo < hi) {
      const int mid = (lo + hi + 1) / 2;
      if (table.first_chunk[mid] <= c)
        lo = mid;
      else
        hi = mid - 1;
    }
    const int64_t begin = (c - table.first_chunk[lo]) * kChunk;
    const int64_t left = table.numel[lo] - begin;
    T* p[D];
#pragma unroll
    for (int d = 0; d < D; ++d) p[d] = static_cast<T*>(table.ptr[d][lo]) + begin;
    multi_tensor_chunk<D>(p, left < kChunk ? left : kChunk, op);
  }
}

// Runs op over tensors [0, n_tensors): lists[d][i] is tensor i's pointer in list d (lists[1] the
// grads, only read). Empty tensors are skipped.
template <int D, class T, class Op>
void multi_tensor_apply(const void* const* const (&lists)[D], const int64_t* numels,
                        int64_t n_tensors, const Op& op) {
  TensorTable<D> table{};
  auto flush = [&]() {
    if (table.count == 0) return;
    const int64_t chunks = table.first_chunk[table.count];
    multi_tensor_kernel<D, T><<<grid_for(chunks, 1), kThreads, 0, current_stream()>>>(table, op);
    FASTNN_CUDA_CHECK_LAUNCH();
    table.count = 0;
  };
  for (int64_t i = 0; i < n_tensors; ++i) {
    if (numels[i] == 0) continue;
    const int t = table.count;
    for (int d = 0; d < D; ++d) table.ptr[d][t] = const_cast<void*>(lists[d][i]);
    table.numel[t] = numels[i];
    table.first_chunk[t + 1] = table.first_chunk[t] + ceil_div(numels[i], kChunk);
    if (++table.count == TensorTable<D>::kCap) {
      flush();
      table.first_chunk[0] = 0;
    }
  }
  flush();
}

}  // namespace fastnn::cuda
