// Device discovery, synchronization and copies for fastnn._cuda.
// device_count() never throws for a missing driver or GPU, so `fastnn.cuda.is_available()` is
// safe on any machine; everything else throws a RuntimeError naming the CUDA error.
#include <cstring>
#include <string>

#include "cuda/common.cuh"
#include "cuda/target_error.h"

namespace fastnn::cuda {
namespace {
std::string& last_probe_error() {
  static std::string* s = new std::string();
  return *s;
}
}  // namespace

int device_count() {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the "no driver" / "no device" error
    last_probe_error() = str_cat(cudaGetErrorName(err), ": ", cudaGetErrorString(err));
    return 0;
  }
  last_probe_error().clear();
  return n;
}

// One current stream per host thread (like the current device); 0, the legacy default stream,
// until the thread sets another.
namespace {
thread_local cudaStream_t g_current_stream = nullptr;
}  // namespace

cudaStream_t current_stream() { return g_current_stream; }

std::uintptr_t get_current_stream() { return reinterpret_cast<std::uintptr_t>(g_current_stream); }

void set_current_stream(std::uintptr_t stream) {
  g_current_stream = reinterpret_cast<cudaStream_t>(stream);
}

const char* runtime_error_string() { return last_probe_error().c_str(); }

int runtime_version() {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess) cudaGetLastError();
  return v;
}

int driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess) cudaGetLastError();
  return v;
}

int current_device() {
  int d = 0;
  FASTNN_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

void set_device(int device) { FASTNN_CUDA_CHECK(cudaSetDevice(device)); }

void synchronize(int device) {
  int before = current_device();
  if (before != device) set_device(device);
  cudaError_t err = cudaDeviceSynchronize();
  if (before != device) cudaSetDevice(before);
  FASTNN_CUDA_CHECK(err);
  check_deferred_target_error();  // [note: deferred target check]
}

void device_name(int device, char* buf, int len) {
  cudaDeviceProp prop;
  FASTNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  std::strncpy(buf, prop.name, static_cast<size_t>(len - 1));
  buf[len - 1] = '\0';
}

// cudaMemcpy (not Async) on pageable host memory: ordered after all work on the legacy default
// stream and complete when it returns, so the host buffer may be reused at once.
void copy_host_to_device(void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return;
  FASTNN_CUDA_CHECK(cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice));
}

void copy_device_to_host(void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return;
  FASTNN_CUDA_CHECK(cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost));
  check_deferred_target_error();  // [note: deferred target check]
}

void copy_device_to_device(void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return;
  FASTNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice,
                                    current_stream()));
}

int pointer_device(const void* ptr) {
  cudaPointerAttributes attr;
  cudaError_t err = cudaPointerGetAttributes(&attr, ptr);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  if (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged) return attr.device;
  return -1;
}

// An event recorded on `from` and waited for on `to`: `to` runs nothing queued after this call
// until `from` has finished what was queued before it. The event can be destroyed at once.
static void order_streams(cudaStream_t from, cudaStream_t to) {
  if (from == to) return;
  cudaEvent_t ev;
  FASTNN_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
  cudaError_t err = cudaEventRecord(ev, from);
  if (err == cudaSuccess) err = cudaStreamWaitEvent(to, ev, 0);
  cudaEventDestroy(ev);
  FASTNN_CUDA_CHECK(err);
}

// Stream numbering of the DLPack / CAI protocols: 1 is the legacy default stream, 2 the
// per-thread default stream, anything larger a cudaStream_t.
static cudaStream_t protocol_stream(std::uintptr_t s) {
  if (s == 0 || s == 1) return cudaStreamLegacy;
  if (s == 2) return cudaStreamPerThread;
  return reinterpret_cast<cudaStream_t>(s);
}

void default_stream_waits_for(std::uintptr_t stream) {
  order_streams(protocol_stream(stream), cudaStreamLegacy);
}

void stream_waits_for_default(std::uintptr_t stream) {
  order_streams(cudaStreamLegacy, protocol_stream(stream));
}

}  // namespace fastnn::cuda
