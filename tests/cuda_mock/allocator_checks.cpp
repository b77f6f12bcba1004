// The caching allocator's stream rules (csrc/cuda/memory.cu, [note: stream] in common.cuh)
// checked on the host against tests/cuda_mock/cuda_runtime.h. Prints "OK" and exits 0, or names
// the first failed check and exits 1. Built and run by tests/test_cuda_allocator_host.py.
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cuda/common.cuh"

// ---- the mock runtime ----
dim3 threadIdx, blockIdx, blockDim, gridDim;
void __syncthreads() {}

namespace mock {
int64_t mallocs = 0, frees = 0, events_recorded = 0, device_syncs = 0, relaxed_mallocs = 0;
int64_t malloc_limit = int64_t(1) << 40;
cudaStream_t current = nullptr;
int64_t in_use = 0;
static std::map<void*, int64_t> sizes;
static std::map<cudaStream_t, int64_t> queued, done;
struct Ev {
  cudaStream_t s = nullptr;
  int64_t ticket = -1;
};
static std::map<cudaEvent_t, Ev> events;
static cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
void queue_work(cudaStream_t s) { queued[s]++; }
void finish_work(cudaStream_t s) { done[s] = queued[s]; }
}  // namespace mock

cudaError_t cudaGetLastError() { return cudaSuccess; }
const char* cudaGetErrorName(cudaError_t) { return "mockError"; }
const char* cudaGetErrorString(cudaError_t) { return "mock error"; }
cudaError_t cudaGetDevice(int* d) {
  *d = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int) { return cudaSuccess; }
cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (mock::mode == cudaStreamCaptureModeRelaxed) mock::relaxed_mallocs++;
  if (mock::in_use + int64_t(bytes) > mock::malloc_limit) return cudaErrorMemoryAllocation;
  *p = std::malloc(bytes);
  mock::sizes[*p] = int64_t(bytes);
  mock::in_use += int64_t(bytes);
  mock::mallocs++;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  mock::in_use -= mock::sizes.at(p);
  mock::sizes.erase(p);
  std::free(p);
  mock::frees++;
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* f, size_t* t) {
  *f = *t = 0;
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* ev, unsigned) {
  static int64_t next = 1;
  *ev = reinterpret_cast<cudaEvent_t>(next++ * 16);
  mock::events[*ev] = {};
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t ev, cudaStream_t s) {
  mock::events.at(ev) = {s, mock::queued[s]};
  mock::events_recorded++;
  return cudaSuccess;
}
cudaError_t cudaEventQuery(cudaEvent_t ev) {
  const mock::Ev& e = mock::events.at(ev);
  return mock::done[e.s] >= e.ticket ? cudaSuccess : cudaErrorNotReady;
}
cudaError_t cudaDeviceSynchronize() {
  for (auto& [s, n] : mock::queued) mock::done[s] = n;
  mock::device_syncs++;
  return cudaSuccess;
}
cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* m) {
  std::swap(*m, mock::mode);
  return cudaSuccess;
}

namespace fastnn::cuda {
cudaStream_t current_stream_for(int) { return mock::current; }
cudaStream_t current_stream() { return mock::current; }
}  // namespace fastnn::cuda

// ---- checks ----
using namespace fastnn::cuda;

static int failures = 0;
#define EXPECT(cond)                                        \
  do {                                                      \
    if (!(cond)) {                                          \
      std::printf("FAILED line %d: %s\n", __LINE__, #cond); \
      failures++;                                           \
    }                                                       \
  } while (0)

static cudaStream_t S(int i) { return reinterpret_cast<cudaStream_t>(std::uintptr_t(0x1000 * i)); }
static std::uintptr_t H(cudaStream_t s) { return reinterpret_cast<std::uintptr_t>(s); }

static void* on(cudaStream_t s, int64_t bytes) {
  mock::current = s;
  return device_malloc(bytes, 0);
}

constexpr int64_t kB = 3 << 20;  // one size class for all checks

static void same_stream_reuse() {
  void* p = on(S(1), kB);
  device_free(p);
  void* q = on(S(2), kB);
  EXPECT(q != p);  // another stream may not take it without an event
  void* r = on(S(1), kB);
  EXPECT(r == p);
  device_free(q);
  device_free(r);
}

static void recorded_stream_waits_for_its_event() {
  void* p = on(S(1), kB);
  record_stream(p, H(S(3)));
  record_stream(p, H(S(1)));  // the allocation stream itself: nothing to wait for
  mock::queue_work(S(3));     // S(3) still uses p
  const int64_t before = mock::events_recorded;
  device_free(p);
  EXPECT(mock::events_recorded == before + 1);
  EXPECT(pending_frees(0) == 1);
  void* q = on(S(1), kB);
  EXPECT(q != p);
  mock::finish_work(S(3));
  void* r = on(S(1), kB);
  EXPECT(r == p);
  EXPECT(pending_frees(0) == 0);
  device_free(q);
  device_free(r);
}

static void exported_block_waits_for_a_device_sync() {
  void* p = on(S(1), kB);
  mark_exported(p);
  device_free(p);
  EXPECT(pending_frees(0) == 1);
  mock::finish_work(S(1));  // its event completes, but the consumer's streams are unknown
  void* q = on(S(1), kB);
  EXPECT(q != p);
  allocator_note_sync(0);
  void* r = on(S(2), kB);  // after a device sync any stream may take it
  EXPECT(r == p);
  device_free(q);
  device_free(r);
}

static void capture_uses_a_private_pool() {
  void* outside = on(S(1), kB);
  void* used = on(S(1), kB);
  record_stream(used, H(S(3)));
  const int64_t pool = pool_create(0);
  mock::current = S(5);  // the capture stream
  allocator_capture_begin(pool);
  EXPECT(captures_underway() == 1);
  const int64_t events_before = mock::events_recorded, relaxed_before = mock::relaxed_mallocs;
  void* a = on(S(5), kB);
  EXPECT(mock::relaxed_mallocs == relaxed_before + 1);  // cudaMalloc in relaxed capture mode
  device_free(a);
  void* b = on(S(5), kB);
  EXPECT(b == a);  // reuse inside the capture is stream-ordered
  void* kept = on(S(5), kB);
  device_free(outside);  // the captured work may use it on every replay
  device_free(used);
  EXPECT(mock::events_recorded == events_before);  // no event while capturing
  allocator_capture_end();
  EXPECT(captures_underway() == 0);
  void* c = on(S(5), kB);
  void* d = on(S(1), kB);
  EXPECT(c != a && c != kept && c != outside && c != used);
  EXPECT(d != a && d != kept && d != outside && d != used);
  device_free(b);  // a static output dies: back to the pool, not to the cache
  void* e = on(S(5), kB);
  EXPECT(e != b);
  pool_release(pool);  // the graph is gone, `kept` still lives
  device_free(kept);   // the last block: the pool retires
  std::set<void*> got;
  for (int i = 0; i < 4; ++i) got.insert(on(S(1), kB));
  EXPECT(got.count(a) == 0 && got.count(outside) == 0);  // the last replay may still run
  for (void* p : got) device_free(p);
  allocator_note_sync(0);
  got.clear();
  for (int i = 0; i < 8; ++i) got.insert(on(S(1), kB));
  EXPECT(got.count(a) == 1 && got.count(kept) == 1 && got.count(outside) == 1 &&
         got.count(used) == 1);
  for (void* p : got) device_free(p);
  device_free(c);
  device_free(d);
  device_free(e);
}

static void free_with_events_during_a_capture_is_deferred() {
  // Another thread captures (global mode: no event may be recorded or queried meanwhile).
  const int64_t pool = pool_create(0);
  std::promise<void> begun, may_end;
  std::thread capturer([&] {
    allocator_capture_begin(pool);
    begun.set_value();
    may_end.get_future().wait();
    allocator_capture_end();
  });
  begun.get_future().wait();
  void* p = on(S(1), kB);
  record_stream(p, H(S(3)));
  mock::queue_work(S(3));
  const int64_t events_before = mock::events_recorded;
  device_free(p);
  void* q = on(S(1), kB);  // no sweep while a capture is underway
  EXPECT(mock::events_recorded == events_before && pending_frees(0) == 1 && q != p);
  may_end.set_value();
  capturer.join();
  pool_release(pool);
  void* r = on(S(1), kB);  // the deferred free records its event now; S(3) is still busy
  EXPECT(mock::events_recorded == events_before + 1 && r != p);
  mock::finish_work(S(3));
  void* t = on(S(1), kB);
  EXPECT(t == p);
  device_free(q);
  device_free(r);
  device_free(t);
}

static void out_of_memory_drains_parked_blocks() {
  empty_cache();
  EXPECT(mock::in_use == 0);
  mock::malloc_limit = kB;  // room for one block
  void* p = on(S(1), kB);
  mark_exported(p);
  device_free(p);  // the only block that fits waits for a device sync
  const int64_t syncs = mock::device_syncs;
  void* q = on(S(2), kB);
  EXPECT(q != nullptr && mock::device_syncs == syncs + 1);
  EXPECT(memory_stats(0).num_ooms == 0);
  bool threw = false;
  try {
    on(S(2), kB);
  } catch (const std::runtime_error&) {
    threw = true;
  }
  EXPECT(threw && memory_stats(0).num_ooms == 1);
  mock::malloc_limit = int64_t(1) << 40;
  device_free(q);
}

int main() {
  same_stream_reuse();
  recorded_stream_waits_for_its_event();
  exported_block_waits_for_a_device_sync();
  capture_uses_a_private_pool();
  free_with_events_during_a_capture_is_deferred();
  out_of_memory_drains_parked_blocks();
  empty_cache();
  const MemoryStats s = memory_stats(0);
  EXPECT(s.allocated == 0 && s.requested == 0);
  EXPECT(s.reserved == 0 && mock::mallocs == mock::frees);
  EXPECT(s.cuda_mallocs == mock::mallocs && s.cuda_frees == mock::frees);
  if (failures == 0) std::printf("OK\n");
  return failures == 0 ? 0 : 1;
}
