// A host-only stand-in for the parts of the CUDA runtime that csrc/cuda/memory.cu calls, so
// test_cuda_allocator_host.py can compile the caching allocator with the host compiler and check
// its stream rules without a GPU. Streams are plain handles; "work" on a stream is a counter the
// test advances (queue_work / finish_work), and an event completes once its stream has finished
// the work queued before it was recorded.
#pragma once
#include <cstddef>
#include <cstdint>

#define __host__
#define __device__
#define __global__
#define __forceinline__ inline
#define CUDART_CB

enum cudaError_t : int {
  cudaSuccess = 0,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidValue = 1,
  cudaErrorNotReady = 600,
};
typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;
enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
};
constexpr unsigned cudaEventDisableTiming = 2;

struct dim3 {
  unsigned x, y, z;
};
extern dim3 threadIdx, blockIdx, blockDim, gridDim;
void __syncthreads();

cudaError_t cudaGetLastError();
const char* cudaGetErrorName(cudaError_t);
const char* cudaGetErrorString(cudaError_t);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* ev, unsigned flags);
cudaError_t cudaEventRecord(cudaEvent_t ev, cudaStream_t s);
cudaError_t cudaEventQuery(cudaEvent_t ev);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode);

namespace mock {
void queue_work(cudaStream_t s);   // work queued on s that has not finished
void finish_work(cudaStream_t s);  // s has finished everything queued so far
extern int64_t mallocs, frees, events_recorded, device_syncs, relaxed_mallocs;
extern int64_t malloc_limit;  // total bytes cudaMalloc may hand out
extern int64_t in_use;        // bytes cudaMalloc handed out and not freed
extern cudaStream_t current;  // what current_stream_for() returns
}  // namespace mock
