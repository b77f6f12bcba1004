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

// One current stream per host thread and device (like the current device); 0, the legacy default
// stream, until the thread sets another. Per device because a stream belongs to one device: after
// a switch of device, kernels must not be queued on the old device's stream.
namespace {
constexpr int kMaxDevices = 64;
thread_local cudaStream_t g_current_stream[kMaxDevices] = {};

int checked_device(int device) {
  FASTNN_CHECK(device >= 0 && device < kMaxDevices, "fastnn.cuda: device index ", device,
               " out of range");
  return device;
}
}  // namespace

cudaStream_t current_stream_for(int device) { return g_current_stream[checked_device(device)]; }

cudaStream_t current_stream() {
  int d = 0;
  FASTNN_CUDA_CHECK(cudaGetDevice(&d));
  return current_stream_for(d);
}

std::uintptr_t get_current_stream() { return reinterpret_cast<std::uintptr_t>(current_stream()); }

void set_current_stream(std::uintptr_t stream) {
  int d = 0;
  FASTNN_CUDA_CHECK(cudaGetDevice(&d));
  g_current_stream[checked_device(d)] = reinterpret_cast<cudaStream_t>(stream);
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
  check_no_host_sync("fastnn.cuda.synchronize()");
  int before = current_device();
  if (before != device) set_device(device);
  cudaError_t err = cudaDeviceSynchronize();
  if (before != device) cudaSetDevice(before);
  FASTNN_CUDA_CHECK(err);
  allocator_note_sync(device);
  check_deferred_target_error();  // [note: deferred target check]
}

void device_name(int device, char* buf, int len) {
  cudaDeviceProp prop;
  FASTNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  std::strncpy(buf, prop.name, static_cast<size_t>(len - 1));
  buf[len - 1] = '\0';
}

// Synchronous host copies, ordered on the current stream: queued after the kernels that produce
// or use the device buffer, and complete (the host buffer reusable) when the call returns. A plain
// cudaMemcpy would run on the legacy default stream, which a non-blocking side stream does not
// wait for.
void copy_host_to_device(void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return;
  check_no_host_sync("a copy from the host (from_numpy, copy_ from a numpy array, torch.tensor)");
  cudaStream_t s = current_stream();
  FASTNN_CUDA_CHECK(
      cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice, s));
  FASTNN_CUDA_CHECK(cudaStreamSynchronize(s));
}

void copy_device_to_host(void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return;
  check_no_host_sync("a copy to the host (.item(), .numpy(), .tolist(), a data-dependent check)");
  cudaStream_t s = current_stream();
  FASTNN_CUDA_CHECK(
      cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost, s));
  FASTNN_CUDA_CHECK(cudaStreamSynchronize(s));
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

static cudaStream_t current_or_legacy() {
  cudaStream_t s = current_stream();
  return s == nullptr ? cudaStreamLegacy : s;
}

std::uintptr_t current_protocol_stream() {
  cudaStream_t s = current_stream();
  return s == nullptr ? 1 : reinterpret_cast<std::uintptr_t>(s);
}

void current_stream_waits_for(std::uintptr_t stream) {
  order_streams(protocol_stream(stream), current_or_legacy());
}

void stream_waits_for_current(std::uintptr_t stream) {
  order_streams(current_or_legacy(), protocol_stream(stream));
}

}  // namespace fastnn::cuda
