// The host side of [note: deferred target check] (target_error.h): the mapped record and the
// check the synchronization points run.
#include <atomic>
#include <mutex>

#include "check.h"
#include "cuda/common.cuh"
#include "cuda/target_error.h"

namespace fastnn::cuda {
namespace {

std::mutex g_mutex;                               // guards allocation and clearing
std::atomic<TargetErrorRecord*> g_host{nullptr};  // host view of the record
TargetErrorRecord* g_device = nullptr;            // device view (same address under UVA)
bool g_tried = false;

}  // namespace

TargetErrorRecord* target_error_record() {
  if (g_host.load(std::memory_order_acquire) != nullptr) return g_device;
  // Not while a graph is being captured (allocation is no stream work and may be refused there):
  // the caller skips the check for the captured launch, and the next launch outside allocates.
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(current_stream(), &capture) != cudaSuccess) cudaGetLastError();
  if (capture != cudaStreamCaptureStatusNone) return nullptr;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_tried) return g_device;
  g_tried = true;
  void* host = nullptr;
  // Portable: usable from every device's context; mapped: kernels write it directly. Allocated
  // once and kept for the life of the process (a few bytes).
  if (cudaHostAlloc(&host, sizeof(TargetErrorRecord),
                    cudaHostAllocMapped | cudaHostAllocPortable) != cudaSuccess) {
    cudaGetLastError();  // not sticky: clear it, and fall back to the synchronous check
    return nullptr;
  }
  void* dev = nullptr;
  if (cudaHostGetDevicePointer(&dev, host, 0) != cudaSuccess) {
    cudaGetLastError();
    cudaFreeHost(host);
    return nullptr;
  }
  *static_cast<TargetErrorRecord*>(host) = TargetErrorRecord{0, 0, 0, 0, 0, 0};
  g_device = static_cast<TargetErrorRecord*>(dev);
  g_host.store(static_cast<TargetErrorRecord*>(host), std::memory_order_release);
  return g_device;
}

std::string target_error_message(int64_t row, int64_t label, int64_t classes,
                                 int64_t ignore_index) {
  return str_cat("softmax_cross_entropy: target[", row, "] = ", label, " is out of range for ",
                 classes, " classes (expected 0 <= target < ", classes,
                 ", or ignore_index = ", ignore_index, ")");
}

void raise_if_reported(volatile TargetErrorRecord* rec) {
  if (rec == nullptr || rec->state == 0) return;  // the common case: one load, no lock
  int64_t row, label, classes, ignore_index;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (rec->state == 0) return;                          // another thread took it
    std::atomic_thread_fence(std::memory_order_acquire);  // the fields were written before state
    row = rec->row;
    label = rec->label;
    classes = rec->classes;
    ignore_index = rec->ignore_index;
    rec->state = 0;
  }
  throw target_index_error(
      "Target is out of bounds: " + target_error_message(row, label, classes, ignore_index) +
      "; found by an earlier cross-entropy launch on the GPU and reported at "
      "this synchronization");
}

void check_deferred_target_error() { raise_if_reported(g_host.load(std::memory_order_acquire)); }

}  // namespace fastnn::cuda
