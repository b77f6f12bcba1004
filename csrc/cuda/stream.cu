// Streams and events for fastnn.cuda.Stream / Event, and the host-synchronization guard of graph
// capture. Streams come from a per-device pool created on first use and never destroyed (like
// torch's): the caching allocator keeps stream handles in its free lists and parked blocks, and a
// destroyed handle could be reused by the driver for an unrelated stream.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "cuda/common.cuh"

namespace fastnn::cuda {
namespace {

constexpr int kPoolSize = 32;  // streams per priority and device, handed out round-robin

struct StreamPool {
  std::vector<cudaStream_t> low, high;
  size_t next_low = 0, next_high = 0;
};

std::mutex& pool_mutex() {
  static std::mutex* m = new std::mutex();
  return *m;
}

StreamPool& pool_of(int device) {
  static auto* pools = new std::vector<std::unique_ptr<StreamPool>>();
  if (static_cast<int>(pools->size()) <= device) pools->resize(device + 1);
  auto& p = (*pools)[device];
  if (!p) p = std::make_unique<StreamPool>();
  return *p;
}

cudaStream_t as_stream(std::uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }
cudaEvent_t as_event(std::uintptr_t e) { return reinterpret_cast<cudaEvent_t>(e); }

}  // namespace

std::uintptr_t stream_from_pool(int device, int priority) {
  int before = 0;
  FASTNN_CUDA_CHECK(cudaGetDevice(&before));
  std::lock_guard<std::mutex> lock(pool_mutex());
  StreamPool& pool = pool_of(device);
  const bool high = priority < 0;
  std::vector<cudaStream_t>& streams = high ? pool.high : pool.low;
  if (streams.empty()) {
    if (before != device) FASTNN_CUDA_CHECK(cudaSetDevice(device));
    int least = 0, greatest = 0;
    cudaError_t err = cudaDeviceGetStreamPriorityRange(&least, &greatest);
    for (int i = 0; err == cudaSuccess && i < kPoolSize; ++i) {
      cudaStream_t s;
      err = cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, high ? greatest : least);
      if (err == cudaSuccess) streams.push_back(s);
    }
    if (before != device) cudaSetDevice(before);
    FASTNN_CUDA_CHECK(err);
  }
  size_t& next = high ? pool.next_high : pool.next_low;
  cudaStream_t s = streams[next % streams.size()];
  ++next;
  return reinterpret_cast<std::uintptr_t>(s);
}

int stream_priority(std::uintptr_t stream) {
  int p = 0;
  FASTNN_CUDA_CHECK(cudaStreamGetPriority(as_stream(stream), &p));
  return p;
}

bool stream_query(std::uintptr_t stream) {
  const cudaError_t err = cudaStreamQuery(as_stream(stream));
  if (err == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  FASTNN_CUDA_CHECK(err);
  return true;
}

void stream_synchronize(std::uintptr_t stream) {
  check_no_host_sync("Stream.synchronize()");
  FASTNN_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream)));
}

void stream_wait_event(std::uintptr_t stream, std::uintptr_t event) {
  FASTNN_CUDA_CHECK(cudaStreamWaitEvent(as_stream(stream), as_event(event), 0));
}

std::uintptr_t event_create(bool enable_timing, bool blocking) {
  unsigned flags = enable_timing ? cudaEventDefault : cudaEventDisableTiming;
  if (blocking) flags |= cudaEventBlockingSync;
  cudaEvent_t ev;
  FASTNN_CUDA_CHECK(cudaEventCreateWithFlags(&ev, flags));
  return reinterpret_cast<std::uintptr_t>(ev);
}

void event_destroy(std::uintptr_t event) noexcept {
  if (event == 0) return;
  if (cudaEventDestroy(as_event(event)) != cudaSuccess) cudaGetLastError();
}

void event_record(std::uintptr_t event, std::uintptr_t stream) {
  FASTNN_CUDA_CHECK(cudaEventRecord(as_event(event), as_stream(stream)));
}

bool event_query(std::uintptr_t event) {
  const cudaError_t err = cudaEventQuery(as_event(event));
  if (err == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  FASTNN_CUDA_CHECK(err);
  return true;
}

void event_synchronize(std::uintptr_t event) {
  check_no_host_sync("Event.synchronize()");
  FASTNN_CUDA_CHECK(cudaEventSynchronize(as_event(event)));
}

float event_elapsed_ms(std::uintptr_t start, std::uintptr_t end) {
  float ms = 0;
  FASTNN_CUDA_CHECK(cudaEventElapsedTime(&ms, as_event(start), as_event(end)));
  return ms;
}

// ---- test gate --------------------------------------------------------------------------------

namespace {
// Shared by the host callback (a driver thread) and the test; freed by whichever finishes last.
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  double timeout_s = 0;
};

void CUDART_CB gate_wait(void* data) {  // runs on a driver thread; must not call CUDA
  std::shared_ptr<Gate>* holder = static_cast<std::shared_ptr<Gate>*>(data);
  std::shared_ptr<Gate> g = *holder;
  delete holder;
  std::unique_lock<std::mutex> lock(g->m);
  g->cv.wait_for(lock, std::chrono::duration<double>(g->timeout_s), [&] { return g->open; });
}
}  // namespace

std::uintptr_t hold_stream(std::uintptr_t stream, double timeout_s) {
  FASTNN_CHECK(timeout_s > 0 && timeout_s <= 600, "hold_stream: timeout_s must be in (0, 600]");
  auto g = std::make_shared<Gate>();
  g->timeout_s = timeout_s;
  auto* for_callback = new std::shared_ptr<Gate>(g);
  const cudaError_t err = cudaLaunchHostFunc(as_stream(stream), &gate_wait, for_callback);
  if (err != cudaSuccess) delete for_callback;
  FASTNN_CUDA_CHECK(err);
  return reinterpret_cast<std::uintptr_t>(new std::shared_ptr<Gate>(std::move(g)));
}

void release_stream(std::uintptr_t gate) {
  auto* holder = reinterpret_cast<std::shared_ptr<Gate>*>(gate);
  {
    std::lock_guard<std::mutex> lock((*holder)->m);
    (*holder)->open = true;
  }
  (*holder)->cv.notify_all();
  delete holder;
}

}  // namespace fastnn::cuda
