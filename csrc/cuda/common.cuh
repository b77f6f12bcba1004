// Shared CUDA helpers: error checking (a CUDA error becomes a C++ exception, never an exit or a
// print), launch geometry, warp/block reductions, dtype
// dispatch. Included by every csrc/cuda/*.cu file; never by the bindings (plain C++).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "check.h"
#include "cuda/fastnn_cuda.h"

// [note: CUDA errors] Every runtime call and every launch is checked; a failure throws
// std::runtime_error("file:line: CUDA error <name>: <string>"), which pybind11 maps to
// RuntimeError. Nothing here prints, exits or aborts. Launch errors are caught with
// cudaGetLastError() right after the launch (configuration errors); faults inside a kernel
// surface at the next synchronizing call (a copy to the host, synchronize()).
#define FASTNN_CUDA_CHECK(expr)                                                            \
  do {                                                                                     \
    cudaError_t fastnn_err_ = (expr);                                                      \
    if (fastnn_err_ != cudaSuccess) {                                                      \
      cudaGetLastError(); /* clear a non-sticky error so later calls can still succeed */  \
      throw std::runtime_error(::fastnn::str_cat(__FILE__, ":", __LINE__, ": CUDA error ", \
                                                 cudaGetErrorName(fastnn_err_), ": ",      \
                                                 cudaGetErrorString(fastnn_err_)));        \
    }                                                                                      \
  } while (0)

#define FASTNN_CUDA_CHECK_LAUNCH() FASTNN_CUDA_CHECK(cudaGetLastError())

namespace fastnn::cuda {

// [note: stream] Every fastnn launch, memset and device copy goes on current_stream(): the
// calling thread's current stream of the current device (runtime.cu), the legacy default stream
// (stream 0) unless the caller made another one current (fastnn.cuda.stream / set_stream, or a
// graph capture). Kernels never name a stream themselves, so switching streams or capturing a
// graph needs no change in any kernel file. Host copies are ordered on the current stream too.
// Memory is stream-safe the way torch's is: a block freed by the caching allocator (memory.cu) is
// handed again only to an allocation on the stream it was allocated on, so a Workspace freed right
// after its launches is safe. A block that other streams used (DeviceArray.record_stream) waits
// for an event on each of them; a block exported through DLPack / __cuda_array_interface__ may be
// used by streams fastnn cannot see, so it also waits for a device-wide synchronization
// (fastnn.cuda.synchronize(), empty_cache, the out-of-memory path) before it is reused. Work
// exchanged with other libraries is ordered by the protocols' stream argument: an importer's
// current stream waits for the producer's stream, an exporter's stream is waited for by the
// consumer's. Nothing here blocks the host except the documented synchronizing calls.
cudaStream_t current_stream();
// The calling thread's current stream on `device` (the allocator records it per block).
cudaStream_t current_stream_for(int device);
// Graph capture, seen by the allocator: while the calling thread captures, its allocations come
// from the capture's private pool; while any capture is underway no event is recorded or queried.
void allocator_capture_begin(int64_t pool);
void allocator_capture_end();
int captures_underway();

constexpr int kThreads = 256;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, never over 2^31-1.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = ceil_div(n, threads);
  const int64_t cap = 65535LL * 32;  // plenty of resident blocks for any current GPU
  if (blocks > cap) blocks = cap;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

// Grid-stride loop with 64-bit indices (int64 indices: a tensor may hold more than 2^31 elements).
#define FASTNN_KERNEL_LOOP(i, n)                                                         \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// Accumulation type: float32 data is accumulated in float (like torch) except where a kernel
// says otherwise; integer sums accumulate in int64.
template <class T>
struct acc_type {
  using type = T;
};
template <>
struct acc_type<int32_t> {
  using type = int64_t;
};
template <>
struct acc_type<uint8_t> {
  using type = int64_t;
};
template <>
struct acc_type<bool> {
  using type = int64_t;
};

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) {
    T w = __shfl_xor_sync(0xffffffffu, v, o);
    v = w > v ? w : v;
  }
  return v;
}

// Block-wide sum / max; every thread gets the result. `shared` holds >= 32 values.
// blockDim.x must be a multiple of 32.
template <class T>
__device__ T block_sum(T v, T* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // `shared` may still be read by a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < nwarps ? shared[lane] : T(0);
  return warp_sum(v);
}

template <class T>
__device__ T block_max(T v, T* shared, T lowest) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < nwarps ? shared[lane] : lowest;
  return warp_max(v);
}

// Calls f(T{}) with T the C++ type of a floating dtype; invalid_argument otherwise.
template <class F>
void dispatch_float(DType dt, const char* fn, F&& f) {
  switch (dt) {
    case DType::f32:
      f(float{});
      return;
    case DType::f64:
      f(double{});
      return;
    default:
      FASTNN_CHECK(false, fn, ": expected a float32 or float64 array, got ", dtype_name(dt));
  }
}

// Numeric dtypes the arithmetic kernels are compiled for (bool/uint8/int32 go through cast).
template <class F>
void dispatch_numeric(DType dt, const char* fn, F&& f) {
  switch (dt) {
    case DType::f32:
      f(float{});
      return;
    case DType::f64:
      f(double{});
      return;
    case DType::i64:
      f(int64_t{});
      return;
    default:
      FASTNN_CHECK(false, fn, ": expected a float32, float64 or int64 array, got ", dtype_name(dt));
  }
}

template <class F>
void dispatch_all(DType dt, F&& f) {
  switch (dt) {
    case DType::f32:
      f(float{});
      return;
    case DType::f64:
      f(double{});
      return;
    case DType::i64:
      f(int64_t{});
      return;
    case DType::i32:
      f(int32_t{});
      return;
    case DType::u8:
      f(uint8_t{});
      return;
    case DType::b8:
      f(bool{});
      return;
  }
}

}  // namespace fastnn::cuda

namespace fastnn::cuda {

// Scratch device memory from the caching allocator for the duration of a launcher. Freeing it
// right after the launches is safe: the block is only handed out again to work queued later on
// the same stream ([note: stream]).
class Workspace {
 public:
  explicit Workspace(int64_t bytes) {
    int dev = 0;
    FASTNN_CUDA_CHECK(cudaGetDevice(&dev));
    ptr_ = device_malloc(bytes, dev);
  }
  ~Workspace() { device_free(ptr_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

// Rows of a row-wise kernel handled by a grid-stride loop over blocks (grid.x <= 2^31 - 1).
inline unsigned grid_rows(int64_t rows) {
  const int64_t cap = 1LL << 20;
  return static_cast<unsigned>(rows < 1 ? 1 : (rows > cap ? cap : rows));
}

}  // namespace fastnn::cuda

namespace fastnn::cuda {
__host__ __device__ __forceinline__ int64_t ceil_div_d(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
}  // namespace fastnn::cuda
