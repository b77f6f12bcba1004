// A caching allocator of pinned host memory and the asynchronous host-to-device copy built on it
// (csrc/cuda/pinned.h, [note: pinned blocks]). One process-wide cache: pinned memory is not tied
// to a device (cudaHostAllocPortable). Freed blocks whose copies are still queued wait in
// `pending` with the events recorded after those copies; every allocation first moves the
// finished ones back to the free lists, so memory held by staging is bounded by the copies in
// flight.
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/common.cuh"
#include "cuda/pinned.h"

namespace fastnn::cuda {
namespace {

// Pageable sources go through staging blocks of at most this size: the host copy into one
// block overlaps the DMA out of the previous one, and a huge copy does not need a huge block.
constexpr int64_t kStageChunk = int64_t{16} << 20;

std::uintptr_t addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

struct HostBlock {
  int64_t size = 0;
  bool in_use = false;
  std::deque<cudaEvent_t> events;  // recorded after queued copies that read the block, in order
};

// Drops the events at the front of `b` whose work has finished (events recorded on one stream
// finish in order, and a copy is only ever queued on the current stream of its caller, so the
// front is the oldest). Returns whether none is left.
bool retire_events(HostBlock& b) {
  while (!b.events.empty()) {
    cudaEvent_t ev = b.events.front();
    const cudaError_t err = cudaEventQuery(ev);
    if (err == cudaErrorNotReady) {
      cudaGetLastError();  // not an error: clear it so the next checked call does not see it
      return false;
    }
    // Done, or the context is broken (then the copy will never read the block either).
    if (err != cudaSuccess) cudaGetLastError();
    cudaEventDestroy(ev);
    b.events.pop_front();
  }
  return true;
}

struct HostCache {
  std::mutex mutex;
  std::map<std::uintptr_t, HostBlock> blocks;                   // every block, by address
  std::unordered_map<int64_t, std::vector<void*>> free_blocks;  // size class -> ready blocks
  std::vector<void*> pending;  // freed while copies from them were queued
  PinnedStats stats;

  // Moves the pending blocks whose copies are done to the free lists. Caller holds `mutex`.
  void collect() {
    for (size_t i = 0; i < pending.size();) {
      void* p = pending[i];
      HostBlock& b = blocks.at(addr(p));
      if (!retire_events(b)) {
        ++i;
        continue;
      }
      free_blocks[b.size].push_back(p);
      pending[i] = pending.back();
      pending.pop_back();
      stats.pending--;
    }
  }

  // The live block holding [p, p + max(bytes, 1)), or nullptr. Caller holds `mutex`.
  HostBlock* find(const void* p, int64_t bytes) {
    auto it = blocks.upper_bound(addr(p));
    if (it == blocks.begin()) return nullptr;
    --it;
    HostBlock& b = it->second;
    const auto span = static_cast<std::uintptr_t>(bytes > 0 ? bytes : 1);
    if (!b.in_use || addr(p) - it->first + span > static_cast<std::uintptr_t>(b.size))
      return nullptr;
    return &b;
  }
};

// Leaked on purpose, like the device allocator: a static destructor would run after the CUDA
// runtime has been torn down at exit.
HostCache& cache() {
  static HostCache* c = new HostCache();
  return *c;
}

// Records an event on the current stream after the copies just queued from the block holding
// `p`, so the block is not reused before they have read it. Returns the CUDA error, if any.
cudaError_t record_use(const void* p) {
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  HostBlock* b = c.find(p, 0);
  if (b == nullptr) return cudaSuccess;
  retire_events(*b);  // a block copied from again and again keeps only its unfinished events
  cudaEvent_t ev;
  cudaError_t err = cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
  if (err != cudaSuccess) return err;
  err = cudaEventRecord(ev, current_stream());
  if (err != cudaSuccess) {
    cudaEventDestroy(ev);
    return err;
  }
  try {
    b->events.push_back(ev);
  } catch (...) {
    cudaEventDestroy(ev);
    return cudaErrorMemoryAllocation;
  }
  return cudaSuccess;
}

// Queues dst <- src from a pinned block and marks the block in use by the copy. If the mark
// cannot be recorded, waits for the copy instead: the block must not be reused under the DMA.
void copy_from_block(void* dst, const void* src, int64_t bytes) {
  const cudaStream_t s = current_stream();
  FASTNN_CUDA_CHECK(
      cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice, s));
  const cudaError_t err = record_use(src);
  if (err != cudaSuccess) {
    cudaGetLastError();
    FASTNN_CUDA_CHECK(cudaStreamSynchronize(s));
  }
}

// Returns a staging block to the cache even when the copy through it throws.
struct StagingBlock {
  void* ptr;
  explicit StagingBlock(int64_t bytes) : ptr(pinned_malloc(bytes)) {}
  ~StagingBlock() { pinned_free(ptr); }
  StagingBlock(const StagingBlock&) = delete;
  StagingBlock& operator=(const StagingBlock&) = delete;
};

}  // namespace

void* pinned_malloc(int64_t bytes) {
  FASTNN_CHECK(bytes >= 0, "pinned_malloc: negative size ", bytes);
  if (bytes == 0) return nullptr;
  const int64_t size = size_class(bytes);
  HostCache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.collect();
    auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.blocks.at(addr(p)).in_use = true;
      c.stats.allocated += size;
      c.stats.cache_hits++;
      return p;
    }
  }
  // cudaHostAlloc maps and locks every page: slow, so outside the lock.
  void* p = nullptr;
  cudaError_t err = cudaHostAlloc(&p, static_cast<size_t>(size), cudaHostAllocPortable);
  if (err == cudaErrorMemoryAllocation) {  // give the cached blocks back and try once more
    cudaGetLastError();
    pinned_empty_cache();
    err = cudaHostAlloc(&p, static_cast<size_t>(size), cudaHostAllocPortable);
  }
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw std::runtime_error(str_cat("out of pinned host memory: tried to allocate ",
                                     static_cast<double>(size) / (1 << 20), " MiB"));
  }
  FASTNN_CUDA_CHECK(err);
  std::lock_guard<std::mutex> lock(c.mutex);
  try {
    HostBlock& b = c.blocks[addr(p)];
    b.size = size;
    b.in_use = true;
  } catch (...) {
    cudaFreeHost(p);
    throw;
  }
  c.stats.reserved += size;
  c.stats.allocated += size;
  c.stats.host_allocs++;
  return p;
}

void pinned_free(void* ptr) noexcept {
  if (ptr == nullptr) return;
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.blocks.find(addr(ptr));
  if (it == c.blocks.end() || !it->second.in_use) return;  // not a live block of ours
  HostBlock& b = it->second;
  b.in_use = false;
  c.stats.allocated -= b.size;
  try {
    if (retire_events(b)) {
      c.free_blocks[b.size].push_back(ptr);
    } else {
      c.pending.push_back(ptr);
      c.stats.pending++;
    }
  } catch (...) {  // out of host memory for the lists: the block stays out of circulation
  }
}

bool pinned_owns(const void* ptr, int64_t bytes) {
  if (ptr == nullptr || bytes < 0) return false;
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.find(ptr, bytes) != nullptr;
}

bool is_pinned_host(const void* ptr) {
  if (ptr == nullptr) return false;
  if (pinned_owns(ptr, 0)) return true;
  cudaPointerAttributes attr;
  if (cudaPointerGetAttributes(&attr, ptr) != cudaSuccess) {
    cudaGetLastError();  // no driver, or a pointer the runtime does not know: pageable
    return false;
  }
  return attr.type == cudaMemoryTypeHost;
}

void pinned_empty_cache() {
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.collect();
  for (auto& [size, list] : c.free_blocks) {
    while (!list.empty()) {  // pop first: a failing cudaFreeHost must not leave it listed
      void* p = list.back();
      list.pop_back();
      c.blocks.erase(addr(p));
      c.stats.reserved -= size;
      FASTNN_CUDA_CHECK(cudaFreeHost(p));
    }
  }
}

PinnedStats pinned_stats() {
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.stats;
}

void copy_host_to_device_async(void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return;
  if (pinned_owns(src, bytes)) {
    copy_from_block(dst, src, bytes);
    return;
  }
  if (is_pinned_host(src)) {  // another library's page-locked memory: its owner keeps it alive
    FASTNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice,
                                      current_stream()));
    return;
  }
  for (int64_t done = 0; done < bytes; done += kStageChunk) {
    const int64_t len = bytes - done < kStageChunk ? bytes - done : kStageChunk;
    StagingBlock stage(len);
    std::memcpy(stage.ptr, static_cast<const char*>(src) + done, static_cast<size_t>(len));
    copy_from_block(static_cast<char*>(dst) + done, stage.ptr, len);
  }
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.stats.staged_copies++;
}

}  // namespace fastnn::cuda
