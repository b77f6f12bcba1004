// Element-wise maps over contiguous arrays and over strided / broadcast operands, the loops every
// memory-bound kernel of elementwise.cu and activations.cu runs.
//
// Contiguous: each thread moves 16-byte packs (float4, double2, ...) and several packs per
// iteration, all loads of an iteration issued before its first store, so a warp keeps enough
// bytes in flight to approach the copy bandwidth. The pack width is set by the widest operand
// type; the last n % width elements go through a scalar tail, and a pointer that is not aligned
// to its pack size (a view starting at an odd element) sends the whole call down a scalar path.
// In place is fine: a thread reads its elements before it writes the same ones.
//
// Strided: offsets come from an OffsetCalc (csrc/strided_index.h), 32-bit fast division when the
// plan fits, else 64-bit; outputs are contiguous.
#pragma once
#include "cuda/common.cuh"
#include "strided_index.h"

namespace fastnn::cuda {

template <class T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

__host__ __device__ inline bool aligned_to(const void* p, size_t bytes) {
  return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

template <class A, class B = A, class C = A>
constexpr int pack_width() {
  constexpr size_t w = sizeof(A) > sizeof(B) ? (sizeof(A) > sizeof(C) ? sizeof(A) : sizeof(C))
                                             : (sizeof(B) > sizeof(C) ? sizeof(B) : sizeof(C));
  return static_cast<int>(16 / w);
}

// Packs per thread and iteration: two 16-byte packs per operand, or four scalars.
template <int VEC>
constexpr int unroll_for() {
  return VEC > 1 ? 2 : 4;
}

// out[i] = f(a[i]).
template <int VEC, class Out, class A, class F>
__global__ void __launch_bounds__(kThreads) map1_kernel(Out* out, const A* a, int64_t n, F f) {
  constexpr int U = unroll_for<VEC>();
  using PA = Pack<A, VEC>;
  using PO = Pack<Out, VEC>;
  const int64_t nvec = n / VEC;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x * U;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * blockDim.x * U + threadIdx.x; base < nvec;
       base += step) {
    PA x[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t v = base + static_cast<int64_t>(u) * blockDim.x;
      if (v < nvec) x[u] = reinterpret_cast<const PA*>(a)[v];
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t v = base + static_cast<int64_t>(u) * blockDim.x;
      if (v < nvec) {
        PO y;
#pragma unroll
        for (int e = 0; e < VEC; ++e) y.v[e] = f(x[u].v[e]);
        reinterpret_cast<PO*>(out)[v] = y;
      }
    }
  }
  if constexpr (VEC > 1) {
    const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (t < n - nvec * VEC) {
      const int64_t i = nvec * VEC + t;
      out[i] = f(a[i]);
    }
  }
}

// out[i] = f(a[i], b[i]).
template <int VEC, class Out, class A, class B, class F>
__global__ void __launch_bounds__(kThreads)
    map2_kernel(Out* out, const A* a, const B* b, int64_t n, F f) {
  constexpr int U = unroll_for<VEC>();
  using PA = Pack<A, VEC>;
  using PB = Pack<B, VEC>;
  using PO = Pack<Out, VEC>;
  const int64_t nvec = n / VEC;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x * U;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * blockDim.x * U + threadIdx.x; base < nvec;
       base += step) {
    PA x[U];
    PB y[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t v = base + static_cast<int64_t>(u) * blockDim.x;
      if (v < nvec) {
        x[u] = reinterpret_cast<const PA*>(a)[v];
        y[u] = reinterpret_cast<const PB*>(b)[v];
      }
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t v = base + static_cast<int64_t>(u) * blockDim.x;
      if (v < nvec) {
        PO z;
#pragma unroll
        for (int e = 0; e < VEC; ++e) z.v[e] = f(x[u].v[e], y[u].v[e]);
        reinterpret_cast<PO*>(out)[v] = z;
      }
    }
  }
  if constexpr (VEC > 1) {
    const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (t < n - nvec * VEC) {
      const int64_t i = nvec * VEC + t;
      out[i] = f(a[i], b[i]);
    }
  }
}

// out[i] = v.
template <int VEC, class T>
__global__ void __launch_bounds__(kThreads) fill_vec_kernel(T* out, T value, int64_t n) {
  constexpr int U = unroll_for<VEC>();
  using P = Pack<T, VEC>;
  P pv;
#pragma unroll
  for (int e = 0; e < VEC; ++e) pv.v[e] = value;
  const int64_t nvec = n / VEC;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x * U;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * blockDim.x * U + threadIdx.x; base < nvec;
       base += step) {
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t v = base + static_cast<int64_t>(u) * blockDim.x;
      if (v < nvec) reinterpret_cast<P*>(out)[v] = pv;
    }
  }
  if constexpr (VEC > 1) {
    const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (t < n - nvec * VEC) out[nvec * VEC + t] = value;
  }
}

template <int VEC>
unsigned map_grid(int64_t n) {
  // At least one block even when every element is in the tail (n < VEC).
  return grid_for(n / VEC, kThreads * unroll_for<VEC>());
}

// The launchers: the vector kernel when every pointer is aligned to its pack, else the scalar one.
template <class Out, class A, class F>
void map1(Out* out, const A* a, int64_t n, F f) {
  if (n <= 0) return;
  constexpr int V = pack_width<Out, A>();
  if (aligned_to(out, V * sizeof(Out)) && aligned_to(a, V * sizeof(A)))
    map1_kernel<V><<<map_grid<V>(n), kThreads, 0, current_stream()>>>(out, a, n, f);
  else
    map1_kernel<1><<<map_grid<1>(n), kThreads, 0, current_stream()>>>(out, a, n, f);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class Out, class A, class B, class F>
void map2(Out* out, const A* a, const B* b, int64_t n, F f) {
  if (n <= 0) return;
  constexpr int V = pack_width<Out, A, B>();
  if (aligned_to(out, V * sizeof(Out)) && aligned_to(a, V * sizeof(A)) &&
      aligned_to(b, V * sizeof(B)))
    map2_kernel<V><<<map_grid<V>(n), kThreads, 0, current_stream()>>>(out, a, b, n, f);
  else
    map2_kernel<1><<<map_grid<1>(n), kThreads, 0, current_stream()>>>(out, a, b, n, f);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class T>
void fill_contiguous(T* out, T value, int64_t n) {
  if (n <= 0) return;
  constexpr int V = pack_width<T>();
  if (aligned_to(out, V * sizeof(T)))
    fill_vec_kernel<V><<<map_grid<V>(n), kThreads, 0, current_stream()>>>(out, value, n);
  else
    fill_vec_kernel<1><<<map_grid<1>(n), kThreads, 0, current_stream()>>>(out, value, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// ---- strided ------------------------------------------------------------------------------------

// Elements per thread and iteration of the strided loops.
constexpr int kStridedUnroll = 4;

// For each i < n: f.load(u, off) for every element of the iteration first, then f.store(u, i)
// (so in-place updates of a same-shaped operand are safe, as in the contiguous loops).
template <int K, class Calc, class F>
__global__ void __launch_bounds__(kThreads) strided_kernel(int64_t n, Calc calc, F f) {
  constexpr int U = kStridedUnroll;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x * U;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * blockDim.x * U + threadIdx.x; base < n;
       base += step) {
    typename F::Regs regs[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t i = base + static_cast<int64_t>(u) * blockDim.x;
      if (i < n) {
        int64_t off[K];
        calc.get(i, off);
        regs[u] = f.load(off);
      }
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t i = base + static_cast<int64_t>(u) * blockDim.x;
      if (i < n) f.store(i, regs[u]);
    }
  }
}

// Runs F over the plan: 32-bit offsets when they fit, else 64-bit.
template <int K, class F>
void launch_strided(const IndexPlan<K>& plan, int64_t n, const F& f) {
  if (n <= 0) return;
  const unsigned grid = grid_for(ceil_div(n, kStridedUnroll));
  if (plan.fits32)
    strided_kernel<K><<<grid, kThreads, 0, current_stream()>>>(n, OffsetCalc32<K>(plan), f);
  else
    strided_kernel<K><<<grid, kThreads, 0, current_stream()>>>(n, OffsetCalc64<K>(plan), f);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// The plan of a contiguous output of `shape` read through K stride sets.
template <int K>
IndexPlan<K> plan_for(const Shape& shape, const Strides* const (&st)[K]) {
  const int64_t* s[K];
  for (int k = 0; k < K; ++k) s[k] = st[k]->s;
  return plan_index<K>(shape.ndim, shape.d, s);
}

}  // namespace fastnn::cuda
