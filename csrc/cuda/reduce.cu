// Reductions over one dimension for the Tensor API: sum, mean, max, min, argmax, argmin.
// Layout: the input is (outer, len, inner) contiguous, the output (outer, inner).
//  - inner == 1 (reducing the last dimension): a block per row; long rows of few outputs (a full
//    reduction) are split into chunks whose partial results a second launch combines.
//  - inner > 1: a thread per output, walking `len` with stride `inner` (coalesced across the
//    threads of a warp); a long `len` is split over blockIdx.y into partials, combined after.
// Every partial is a (value, index) pair so one code path serves the arg-reductions too.
// Semantics (torch): NaN wins max/min and arg* return the first NaN; ties go to the first index;
// float32 sums accumulate in float, int64 in int64; mean = sum / len.
#include "cuda/common.cuh"

namespace fastnn::cuda {
namespace {

template <class A>
struct Pair {
  A v;
  int64_t i;
};

template <class A>
__device__ __forceinline__ bool isnan_(A x) {
  if constexpr (std::is_floating_point_v<A>)
    return x != x;
  else
    return false;
}

template <class A>
__device__ __forceinline__ Pair<A> identity(ReduceOp op) {
  Pair<A> p;
  p.i = INT64_MAX;
  if (op == ReduceOp::max || op == ReduceOp::argmax) {
    if constexpr (std::is_floating_point_v<A>)
      p.v = -INFINITY;
    else
      p.v = INT64_MIN;
  } else if (op == ReduceOp::min || op == ReduceOp::argmin) {
    if constexpr (std::is_floating_point_v<A>)
      p.v = INFINITY;
    else
      p.v = INT64_MAX;
  } else {
    p.v = A(0);
  }
  return p;
}

// Is b preferred over a for an extreme-value reduction (`greater` for max)?
template <class A>
__device__ __forceinline__ bool better(Pair<A> b, Pair<A> a, bool greater) {
  if (isnan_(a.v)) return isnan_(b.v) && b.i < a.i;
  if (isnan_(b.v)) return true;
  if (b.v == a.v) return b.i < a.i;
  return greater ? b.v > a.v : b.v < a.v;
}

template <class A>
__device__ __forceinline__ Pair<A> combine(ReduceOp op, Pair<A> a, Pair<A> b) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::mean:
      return {a.v + b.v, 0};
    case ReduceOp::max:
    case ReduceOp::argmax:
      return better(b, a, true) ? b : a;
    default:
      return better(b, a, false) ? b : a;
  }
}

template <class A>
__device__ __forceinline__ Pair<A> shfl_pair(Pair<A> p, int o) {
  p.v = __shfl_xor_sync(0xffffffffu, p.v, o);
  p.i = __shfl_xor_sync(0xffffffffu, p.i, o);
  return p;
}

// Block-wide combine; the result is valid in thread 0.
template <class A>
__device__ Pair<A> block_combine(ReduceOp op, Pair<A> p) {
  __shared__ Pair<A> shared[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  for (int o = 16; o > 0; o >>= 1) p = combine(op, p, shfl_pair(p, o));
  __syncthreads();
  if (lane == 0) shared[warp] = p;
  __syncthreads();
  if (warp == 0) {
    p = lane < nwarps ? shared[lane] : identity<A>(op);
    for (int o = 16; o > 0; o >>= 1) p = combine(op, p, shfl_pair(p, o));
  }
  return p;
}

// Writes a final result (value or index) or a partial pair.
template <class T, class A>
__device__ __forceinline__ void store(ReduceOp op, void* out, Pair<A>* partial, int64_t k,
                                      Pair<A> p, int64_t len_total) {
  if (partial != nullptr) {
    partial[k] = p;
  } else if (op == ReduceOp::argmax || op == ReduceOp::argmin) {
    static_cast<int64_t*>(out)[k] = p.i;
  } else if (op == ReduceOp::mean) {
    static_cast<T*>(out)[k] = static_cast<T>(p.v / static_cast<A>(len_total));
  } else {
    static_cast<T*>(out)[k] = static_cast<T>(p.v);
  }
}

template <class T, class A>
__device__ __forceinline__ Pair<A> load(const T* in, const Pair<A>* from, int64_t k, int64_t idx) {
  if (from != nullptr) return from[k];
  return {static_cast<A>(in[k]), idx};
}

// inner == 1: rows of `len` (optionally chunks of `chunk` elements per block).
// `from` != null: the input is partial pairs instead of raw values.
template <class T, class A>
__global__ void reduce_rows_kernel(ReduceOp op, void* out, Pair<A>* partial, const T* in,
                                   const Pair<A>* from, int64_t rows, int64_t len, int64_t chunks,
                                   int64_t chunk, int64_t len_total) {
  for (int64_t b = blockIdx.x; b < rows * chunks; b += gridDim.x) {
    const int64_t r = b / chunks, c = b % chunks;
    const int64_t lo = c * chunk, hi = min(len, lo + chunk);
    Pair<A> p = identity<A>(op);
    for (int64_t j = lo + threadIdx.x; j < hi; j += blockDim.x)
      p = combine(op, p, load<T, A>(in, from, r * len + j, j));
    p = block_combine(op, p);
    if (threadIdx.x == 0) store<T, A>(op, out, partial, b, p, len_total);
  }
}

// inner > 1: a thread per (outer, inner) output and blockIdx.y chunk of `len`.
template <class T, class A>
__global__ void reduce_cols_kernel(ReduceOp op, void* out, Pair<A>* partial, const T* in,
                                   const Pair<A>* from, int64_t outer, int64_t len, int64_t inner,
                                   int64_t chunk, int64_t len_total) {
  const int64_t chunks = gridDim.y, c = blockIdx.y;
  const int64_t lo = c * chunk, hi = min(len, lo + chunk);
  FASTNN_KERNEL_LOOP(k, outer * inner) {
    const int64_t o = k / inner, i = k % inner;
    Pair<A> p = identity<A>(op);
    for (int64_t j = lo; j < hi; ++j)
      p = combine(op, p, load<T, A>(in, from, (o * len + j) * inner + i, j));
    // partial layout (outer, chunks, inner): the next pass reduces it as len = chunks.
    store<T, A>(op, out, partial, (o * chunks + c) * inner + i, p, len_total);
  }
}

template <class T, class A>
void reduce_typed(ReduceOp op, void* out, const T* in, int64_t outer, int64_t len, int64_t inner) {
  const int64_t n_out = outer * inner;
  if (inner == 1) {
    // Split long rows when there are too few rows to fill the GPU.
    int64_t chunks = 1;
    if (outer < 256 && len > 16384) {
      chunks = ceil_div(len, 8192);
      const int64_t cap = ceil_div(1024, outer);
      if (chunks > cap) chunks = cap;
    }
    const int64_t chunk = ceil_div(len, chunks);
    if (chunks == 1) {
      reduce_rows_kernel<T, A><<<grid_rows(outer), kThreads, 0, current_stream()>>>(
          op, out, nullptr, in, nullptr, outer, len, 1, len, len);
      FASTNN_CUDA_CHECK_LAUNCH();
      return;
    }
    Workspace ws(outer * chunks * static_cast<int64_t>(sizeof(Pair<A>)));
    reduce_rows_kernel<T, A><<<grid_rows(outer * chunks), kThreads, 0, current_stream()>>>(
        op, nullptr, ws.as<Pair<A>>(), in, nullptr, outer, len, chunks, chunk, len);
    FASTNN_CUDA_CHECK_LAUNCH();
    reduce_rows_kernel<T, A><<<grid_rows(outer), kThreads, 0, current_stream()>>>(
        op, out, nullptr, nullptr, ws.as<Pair<A>>(), outer, chunks, 1, chunks, len);
    FASTNN_CUDA_CHECK_LAUNCH();
    return;
  }
  int64_t chunks = 1;
  if (len > 64 && n_out < 65536) {
    chunks = ceil_div(len, 64);
    const int64_t cap = ceil_div(65536, n_out);
    if (chunks > cap) chunks = cap;
    if (chunks > 65535) chunks = 65535;
  }
  const int64_t chunk = ceil_div(len, chunks);
  const dim3 grid(grid_for(n_out), static_cast<unsigned>(chunks));
  if (chunks == 1) {
    reduce_cols_kernel<T, A><<<grid, kThreads, 0, current_stream()>>>(op, out, nullptr, in, nullptr,
                                                                      outer, len, inner, len, len);
    FASTNN_CUDA_CHECK_LAUNCH();
    return;
  }
  Workspace ws(n_out * chunks * static_cast<int64_t>(sizeof(Pair<A>)));
  reduce_cols_kernel<T, A><<<grid, kThreads, 0, current_stream()>>>(
      op, nullptr, ws.as<Pair<A>>(), in, nullptr, outer, len, inner, chunk, len);
  FASTNN_CUDA_CHECK_LAUNCH();
  const dim3 grid2(grid_for(n_out), 1);
  reduce_cols_kernel<T, A><<<grid2, kThreads, 0, current_stream()>>>(
      op, out, nullptr, nullptr, ws.as<Pair<A>>(), outer, chunks, inner, chunks, len);
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

void reduce_cuda(ReduceOp op, DType dt, void* out, const void* in, int64_t outer, int64_t len,
                 int64_t inner) {
  FASTNN_CHECK(op != ReduceOp::mean || is_float(dt), "mean: needs a float32 or float64 array, got ",
               dtype_name(dt));
  if (outer * inner == 0) return;
  const bool extreme = op != ReduceOp::sum && op != ReduceOp::mean;
  FASTNN_CHECK(len > 0 || !extreme,
               "reduction: cannot take max/min/argmax/argmin of an empty dimension");
  if (len == 0) {  // sum of nothing is 0, mean is 0/0
    fill_cuda(dt, out, op == ReduceOp::mean ? NAN : 0.0, 0, outer * inner);
    return;
  }
  switch (dt) {
    case DType::f32:
      reduce_typed<float, float>(op, out, static_cast<const float*>(in), outer, len, inner);
      break;
    case DType::f64:
      reduce_typed<double, double>(op, out, static_cast<const double*>(in), outer, len, inner);
      break;
    case DType::i64:
      reduce_typed<int64_t, int64_t>(op, out, static_cast<const int64_t*>(in), outer, len, inner);
      break;
    default:
      FASTNN_CHECK(false, "reduction: expected a float32, float64 or int64 array, got ",
                   dtype_name(dt));
  }
}

}  // namespace fastnn::cuda
