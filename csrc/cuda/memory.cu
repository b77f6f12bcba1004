// A caching device allocator, PyTorch's CUDACachingAllocator in miniature.
// cudaMalloc/cudaFree are slow (cudaFree synchronizes the device), so freed blocks go to a free
// list keyed by (stream, size class) and are handed to the next request of that class on the same
// stream. Size classes: multiples of 512 B up to 1 MiB; above that, four classes per power of two
// (1, 1.25, 1.5, 1.75 x 2^k), so rounding wastes at most 25% and a model's repeating shapes land in
// the same few bins. No block splitting or coalescing (a later design could add it).
//
// Stream safety ([note: stream] in common.cuh): a block is reused only by work queued after its
// free on the stream it was allocated on. A block that other streams used (record_stream) is
// parked until an event recorded on each of them at free time has completed; a block exported to
// another library (mark_exported) also waits for a device-wide synchronization after its free,
// because the consumer's streams are unknown. Parked blocks are checked with cudaEventQuery when
// memory is allocated; nothing here blocks except the out-of-memory path and empty_cache.
//
// Graph capture: while a thread captures, its allocations come from the capture's private pool
// (only captured work uses those blocks, every replay). A block from outside the pool that is
// freed during the capture may be used by the captured work, so the pool keeps it until the pool
// dies; a dead pool's blocks wait for a device-wide synchronization, as the last replay may still
// run. No event is recorded or queried while any capture is underway (that would break a
// global-mode capture); frees that need events are deferred until no capture is underway.
#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cuda/common.cuh"

namespace fastnn::cuda {
namespace {

using FreeKey = std::pair<cudaStream_t, int64_t>;  // (allocation stream, size class)
using FreeLists = std::map<FreeKey, std::vector<void*>>;

struct Block {
  int device = 0;
  int64_t size = 0;                // size class
  int64_t requested = 0;           // bytes asked for
  cudaStream_t stream{};           // the stream it was allocated on
  int64_t pool = 0;                // 0: the device's cache; else a private (graph) pool
  std::vector<cudaStream_t> uses;  // other streams that used it (record_stream)
  bool exported = false;           // used by streams fastnn cannot see
};

struct Parked {  // a freed block waiting for other streams before it can be reused
  void* ptr;
  Block block;
  std::vector<cudaEvent_t> events;
  bool needs_sync;  // also wait for a device-wide synchronization after `epoch`
  int64_t epoch;
};

struct DeviceCache {
  FreeLists free_blocks;
  std::vector<cudaEvent_t> idle_events;  // created with cudaEventDisableTiming, reused
  int64_t sync_epoch = 0;                // device-wide synchronizations seen
  MemoryStats stats;
};

struct Pool {
  int device = 0;
  int64_t users = 0;  // graphs (and captures) holding the pool
  int64_t live = 0;   // blocks of the pool not yet freed
  FreeLists free_blocks;
  std::vector<std::pair<void*, Block>> kept;  // outside blocks freed during a capture
};

std::atomic<int> g_captures{0};
thread_local int64_t tl_capture_pool = 0;  // the pool of this thread's capture, 0 when none

struct Allocator {
  std::mutex mutex;
  std::unordered_map<void*, Block> live;
  std::unordered_map<int, DeviceCache> devices;
  std::unordered_map<int64_t, Pool> pools;
  int64_t next_pool = 1;
  std::vector<Parked> parked;
  std::vector<std::pair<void*, Block>> deferred;  // freed while a capture was underway

  // All of these run with `mutex` held.

  void to_free_list(void* ptr, const Block& b) {
    if (b.pool != 0) {
      auto it = pools.find(b.pool);
      if (it != pools.end()) {
        it->second.free_blocks[{b.stream, b.size}].push_back(ptr);
        return;
      }
    }
    devices[b.device].free_blocks[{b.stream, b.size}].push_back(ptr);
  }

  cudaEvent_t take_event(DeviceCache& cache) {
    if (!cache.idle_events.empty()) {
      cudaEvent_t ev = cache.idle_events.back();
      cache.idle_events.pop_back();
      return ev;
    }
    cudaEvent_t ev;
    FASTNN_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
    return ev;
  }

  // Records an event on every stream that used the block and parks it. An exported block waits
  // for a device-wide synchronization, which covers every stream (fastnn's too). Any CUDA error
  // makes the block wait for one as well, which is always safe.
  void park(void* ptr, Block b) {
    DeviceCache& cache = devices[b.device];
    Parked p{ptr, b, {}, b.exported, cache.sync_epoch};
    int before = -1;
    try {
      const std::vector<cudaStream_t> streams = b.exported ? std::vector<cudaStream_t>{} : b.uses;
      FASTNN_CUDA_CHECK(cudaGetDevice(&before));
      if (before != b.device) FASTNN_CUDA_CHECK(cudaSetDevice(b.device));
      for (cudaStream_t s : streams) {
        cudaEvent_t ev = take_event(cache);
        p.events.push_back(ev);
        FASTNN_CUDA_CHECK(cudaEventRecord(ev, s));
      }
    } catch (...) {
      p.needs_sync = true;
    }
    if (before >= 0 && before != b.device) cudaSetDevice(before);
    parked.push_back(std::move(p));
  }

  // Moves the parked blocks whose events completed (and, if needed, whose device synchronized
  // since their free) back to the free lists. Never blocks. A block released by a device-wide
  // synchronization has no pending user on any stream: one of `device` joins the free list of
  // `stream` (the allocating one), so retired graph pools serve ordinary allocations.
  void sweep(int device = -1, cudaStream_t stream = nullptr) {
    if (g_captures.load() > 0) return;
    if (!deferred.empty()) {
      auto blocks = std::move(deferred);
      deferred.clear();
      for (auto& [ptr, b] : blocks) park(ptr, b);
    }
    size_t kept = 0;
    for (size_t i = 0; i < parked.size(); ++i) {
      Parked& p = parked[i];
      bool ready = !p.needs_sync || devices[p.block.device].sync_epoch > p.epoch;
      for (size_t e = 0; ready && e < p.events.size(); ++e) {
        const cudaError_t err = cudaEventQuery(p.events[e]);
        if (err == cudaErrorNotReady) {
          cudaGetLastError();
          ready = false;
        } else if (err != cudaSuccess) {  // a failed event: fall back to a device-wide sync
          cudaGetLastError();
          if (!p.needs_sync) {
            p.needs_sync = true;
            p.epoch = devices[p.block.device].sync_epoch;
          }
          ready = false;
        }
      }
      if (ready) {
        DeviceCache& cache = devices[p.block.device];
        for (cudaEvent_t ev : p.events) cache.idle_events.push_back(ev);
        if (p.needs_sync && p.block.device == device) p.block.stream = stream;
        p.block.uses.clear();
        p.block.exported = false;
        to_free_list(p.ptr, p.block);
      } else {
        if (kept != i) parked[kept] = std::move(p);
        ++kept;
      }
    }
    parked.resize(kept);
  }

  // A pool nobody holds any more: its blocks may still be used by the last replay of its graphs.
  void retire_if_unused(int64_t id) {
    auto it = pools.find(id);
    if (it == pools.end() || it->second.users > 0 || it->second.live > 0) return;
    Pool pool = std::move(it->second);
    pools.erase(it);
    DeviceCache& cache = devices[pool.device];
    for (auto& [key, blocks] : pool.free_blocks) {
      for (void* ptr : blocks) {
        Block b{pool.device, key.second, 0, key.first, 0, {}, false};
        parked.push_back(Parked{ptr, b, {}, true, cache.sync_epoch});
      }
    }
    for (auto& [ptr, b] : pool.kept) {
      b.pool = 0;
      b.uses.clear();
      b.exported = false;
      parked.push_back(Parked{ptr, b, {}, true, devices[b.device].sync_epoch});
    }
  }

  // Synchronizes every device with parked blocks, so that all of them become reusable; the
  // out-of-memory path and empty_cache only (never during a capture).
  void drain_parked() {
    if (parked.empty() && deferred.empty()) return;
    int before = 0;
    FASTNN_CUDA_CHECK(cudaGetDevice(&before));
    std::vector<int> synced;
    auto sync_device = [&](int device) {
      for (int d : synced)
        if (d == device) return;
      FASTNN_CUDA_CHECK(cudaSetDevice(device));
      FASTNN_CUDA_CHECK(cudaDeviceSynchronize());
      devices[device].sync_epoch++;
      synced.push_back(device);
    };
    for (const Parked& p : parked) sync_device(p.block.device);
    for (const auto& d : deferred) sync_device(d.second.device);
    FASTNN_CUDA_CHECK(cudaSetDevice(before));
    sweep();
  }

  // cudaFree every cached block of the devices' caches (private pools keep theirs).
  void release_cached() {
    int before = -1;
    for (auto& [device, cache] : devices) {
      for (auto& [key, blocks] : cache.free_blocks) {
        if (blocks.empty()) continue;
        if (before < 0) FASTNN_CUDA_CHECK(cudaGetDevice(&before));
        FASTNN_CUDA_CHECK(cudaSetDevice(device));
        while (!blocks.empty()) {  // pop first: a failing cudaFree must not leave it listed
          void* p = blocks.back();
          blocks.pop_back();
          cache.stats.reserved -= key.second;
          cache.stats.cuda_frees++;
          FASTNN_CUDA_CHECK(cudaFree(p));
        }
      }
    }
    if (before >= 0) FASTNN_CUDA_CHECK(cudaSetDevice(before));
  }
};

// Leaked on purpose: a static destructor would call cudaFree after the CUDA runtime has been
// torn down at process exit.
Allocator& allocator() {
  static Allocator* a = new Allocator();
  return *a;
}

std::string mib(int64_t bytes) { return str_cat(static_cast<double>(bytes) / (1 << 20), " MiB"); }

// cudaMalloc during a capture: the pool grows outside the graph, which a global-mode capture
// only allows in relaxed mode for this thread.
cudaError_t raw_malloc(void** ptr, int64_t size) {
  if (tl_capture_pool == 0) return cudaMalloc(ptr, static_cast<size_t>(size));
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  cudaThreadExchangeStreamCaptureMode(&mode);
  const cudaError_t err = cudaMalloc(ptr, static_cast<size_t>(size));
  cudaThreadExchangeStreamCaptureMode(&mode);
  return err;
}

}  // namespace

int64_t size_class(int64_t bytes) {
  if (bytes <= 0) return 0;
  // Past the limit the doubling below would overflow (and never end).
  FASTNN_CHECK(bytes <= kMaxAllocBytes, "fastnn.cuda: a request of ", bytes,
               " bytes is larger than the allocator's limit of 2^62 bytes");
  constexpr int64_t kSmall = 512, kLarge = 1 << 20;
  if (bytes <= kLarge) return (bytes + kSmall - 1) / kSmall * kSmall;
  int64_t pow2 = kLarge;
  while (pow2 <= bytes / 2) pow2 *= 2;  // pow2 <= bytes < 2 * pow2, without computing 2 * pow2
  const int64_t step = pow2 / 4;
  return (bytes + step - 1) / step * step;
}

void* device_malloc(int64_t bytes, int device) {
  FASTNN_CHECK(bytes >= 0, "device_malloc: negative size ", bytes);
  if (bytes == 0) return nullptr;
  const int64_t size = size_class(bytes);
  const cudaStream_t stream = current_stream_for(device);
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  DeviceCache& cache = a.devices[device];
  int64_t pool_id = 0;
  if (tl_capture_pool != 0) {
    auto pit = a.pools.find(tl_capture_pool);
    if (pit != a.pools.end() && pit->second.device == device) pool_id = tl_capture_pool;
  }
  a.sweep(device, stream);
  FreeLists& lists = pool_id != 0 ? a.pools[pool_id].free_blocks : cache.free_blocks;
  void* ptr = nullptr;
  auto it = lists.find({stream, size});
  if (it != lists.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    cache.stats.cache_hits++;
  } else {
    int before = 0;
    FASTNN_CUDA_CHECK(cudaGetDevice(&before));
    if (before != device) FASTNN_CUDA_CHECK(cudaSetDevice(device));
    cudaError_t err = raw_malloc(&ptr, size);
    // Give the cached blocks back and try once more; not during a capture (cudaFree and device
    // synchronization are not allowed then).
    if (err == cudaErrorMemoryAllocation && g_captures.load() == 0) {
      cudaGetLastError();
      try {
        a.drain_parked();
        a.release_cached();
      } catch (...) {
        if (before != device) cudaSetDevice(before);
        throw;
      }
      FASTNN_CUDA_CHECK(cudaSetDevice(device));
      err = raw_malloc(&ptr, size);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      size_t free_b = 0, total_b = 0;  // of `device`, which is still current here
      if (err == cudaErrorMemoryAllocation && cudaMemGetInfo(&free_b, &total_b) != cudaSuccess)
        cudaGetLastError();
      if (before != device) cudaSetDevice(before);
      if (err == cudaErrorMemoryAllocation) {
        cache.stats.num_ooms++;
        throw OutOfMemory(str_cat("CUDA out of memory: tried to allocate ", mib(size),
                                  " on device ", device, " (", mib(static_cast<int64_t>(free_b)),
                                  " free of ", mib(static_cast<int64_t>(total_b)),
                                  "; fastnn holds ", mib(cache.stats.allocated), " allocated, ",
                                  mib(cache.stats.reserved), " reserved)"));
      }
      FASTNN_CUDA_CHECK(err);
    }
    if (before != device) cudaSetDevice(before);
    cache.stats.cuda_mallocs++;
    cache.stats.reserved += size;
  }
  Block b;
  b.device = device;
  b.size = size;
  b.requested = bytes;
  b.stream = stream;
  b.pool = pool_id;
  a.live.emplace(ptr, std::move(b));
  if (pool_id != 0) a.pools[pool_id].live++;
  cache.stats.allocated += size;
  cache.stats.requested += bytes;
  cache.stats.num_allocs++;
  if (cache.stats.allocated > cache.stats.peak_allocated)
    cache.stats.peak_allocated = cache.stats.allocated;
  return ptr;
}

void device_free(void* ptr) noexcept {
  if (ptr == nullptr) return;
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  auto it = a.live.find(ptr);
  if (it == a.live.end()) return;  // not ours: nothing to do (cannot happen via DeviceArray)
  Block b = std::move(it->second);
  a.live.erase(it);
  DeviceCache& cache = a.devices[b.device];
  cache.stats.allocated -= b.size;
  cache.stats.requested -= b.requested;
  cache.stats.num_frees++;
  const int64_t own_pool = b.pool;
  try {
    const bool needs_events = !b.uses.empty() || b.exported;
    auto cap = tl_capture_pool != 0 ? a.pools.find(tl_capture_pool) : a.pools.end();
    if (cap != a.pools.end() && (b.pool != tl_capture_pool || needs_events)) {
      if (b.pool != 0 && b.pool != tl_capture_pool) {
        auto own = a.pools.find(b.pool);
        if (own != a.pools.end()) own->second.live--;
      } else if (b.pool == tl_capture_pool) {
        cap->second.live--;
      }
      b.pool = 0;  // owned by the capture's pool from now on, returned to the cache with it
      cap->second.kept.emplace_back(ptr, std::move(b));
      if (own_pool != 0 && own_pool != tl_capture_pool) a.retire_if_unused(own_pool);
      return;
    }
    if (b.pool != 0) {
      auto own = a.pools.find(b.pool);
      if (own != a.pools.end()) own->second.live--;
    }
    if (!needs_events) {
      a.to_free_list(ptr, b);
    } else if (g_captures.load() > 0) {
      a.deferred.emplace_back(ptr, std::move(b));
    } else {
      a.park(ptr, std::move(b));
    }
    if (own_pool != 0) a.retire_if_unused(own_pool);
  } catch (...) {  // out of host memory for the lists: drop the block instead of caching it
    cudaFree(ptr);
    cudaGetLastError();
    cache.stats.reserved -= b.size;
    cache.stats.cuda_frees++;
  }
}

void record_stream(void* base, std::uintptr_t stream) {
  if (base == nullptr) return;
  const auto s = reinterpret_cast<cudaStream_t>(stream);
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  auto it = a.live.find(base);
  if (it == a.live.end()) return;  // foreign memory: its owner orders its reuse
  Block& b = it->second;
  if (s == b.stream) return;
  for (cudaStream_t u : b.uses)
    if (u == s) return;
  b.uses.push_back(s);
}

void mark_exported(void* base) {
  if (base == nullptr) return;
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  auto it = a.live.find(base);
  if (it != a.live.end()) it->second.exported = true;
}

int64_t pool_create(int device) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  const int64_t id = a.next_pool++;
  Pool& p = a.pools[id];
  p.device = device;
  p.users = 1;
  return id;
}

void pool_retain(int64_t pool) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  auto it = a.pools.find(pool);
  FASTNN_CHECK(it != a.pools.end(), "fastnn.cuda: memory pool ", pool, " does not exist");
  it->second.users++;
}

void pool_release(int64_t pool) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  auto it = a.pools.find(pool);
  if (it == a.pools.end()) return;
  if (it->second.users > 0) it->second.users--;
  a.retire_if_unused(pool);
}

void allocator_capture_begin(int64_t pool) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  FASTNN_CHECK(a.pools.count(pool) == 1, "fastnn.cuda: memory pool ", pool, " does not exist");
  FASTNN_CHECK(tl_capture_pool == 0, "fastnn.cuda: this thread is already capturing a graph");
  a.pools[pool].users++;  // a capture holds its pool
  tl_capture_pool = pool;
  g_captures++;
}

void allocator_capture_end() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  if (tl_capture_pool == 0) return;
  const int64_t pool = tl_capture_pool;
  tl_capture_pool = 0;
  g_captures--;
  auto it = a.pools.find(pool);
  if (it != a.pools.end() && it->second.users > 0) it->second.users--;
  a.retire_if_unused(pool);
}

int captures_underway() { return g_captures.load(); }

void allocator_note_sync(int device) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.devices[device].sync_epoch++;
}

int64_t pending_frees(int device) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  int64_t n = 0;
  for (const Parked& p : a.parked) n += p.block.device == device;
  for (const auto& d : a.deferred) n += d.second.device == device;
  return n;
}

void empty_cache() {
  if (g_captures.load() > 0) return;  // cudaFree would break the capture; nothing to give back
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.drain_parked();
  a.release_cached();
}

MemoryStats memory_stats(int device) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  auto it = a.devices.find(device);
  return it == a.devices.end() ? MemoryStats{} : it->second.stats;
}

void reset_peak_memory_stats(int device) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  MemoryStats& s = a.devices[device].stats;
  s.peak_allocated = s.allocated;
}

}  // namespace fastnn::cuda
