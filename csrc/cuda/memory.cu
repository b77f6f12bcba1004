// A caching device allocator, PyTorch's CUDACachingAllocator in miniature.
// cudaMalloc/cudaFree are slow (cudaFree synchronizes the device), so freed blocks go to a
// per-device free list keyed by size class and are handed to the next request of that class.
// Size classes: multiples of 512 B up to 1 MiB; above that, four classes per power of two
// (1, 1.25, 1.5, 1.75 x 2^k), so rounding wastes at most 25% and a model's repeating shapes
// land in the same few bins. No block splitting or coalescing (a later design could add it).
// Blocks are reused without events because all fastnn work runs on one stream ([note: stream]).
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/common.cuh"

namespace fastnn::cuda {
namespace {

struct DeviceCache {
  std::unordered_map<int64_t, std::vector<void*>> free_blocks;  // size class -> blocks
  MemoryStats stats;
};

struct Block {
  int device;
  int64_t size;       // size class
  int64_t requested;  // bytes asked for
};

struct Allocator {
  std::mutex mutex;
  std::unordered_map<void*, Block> live;
  std::unordered_map<int, DeviceCache> devices;

  // cudaFree every cached block of every device; the caller holds `mutex`.
  void release_cached() {
    int before = -1;
    for (auto& [device, cache] : devices) {
      for (auto& [size, blocks] : cache.free_blocks) {
        if (blocks.empty()) continue;
        if (before < 0) FASTNN_CUDA_CHECK(cudaGetDevice(&before));
        FASTNN_CUDA_CHECK(cudaSetDevice(device));
        while (
            !blocks.empty()) {  // pop first: a failing cudaFree must not leave a freed block listed
          void* p = blocks.back();
          blocks.pop_back();
          cache.stats.reserved -= size;
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
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  DeviceCache& cache = a.devices[device];
  void* ptr = nullptr;
  auto it = cache.free_blocks.find(size);
  if (it != cache.free_blocks.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    cache.stats.cache_hits++;
  } else {
    int before = 0;
    FASTNN_CUDA_CHECK(cudaGetDevice(&before));
    if (before != device) FASTNN_CUDA_CHECK(cudaSetDevice(device));
    cudaError_t err = cudaMalloc(&ptr, static_cast<size_t>(size));
    if (err == cudaErrorMemoryAllocation) {  // give the cached blocks back and try once more
      cudaGetLastError();
      a.release_cached();
      FASTNN_CUDA_CHECK(cudaSetDevice(device));
      err = cudaMalloc(&ptr, static_cast<size_t>(size));
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
  a.live.emplace(ptr, Block{device, size, bytes});
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
  const Block b = it->second;
  a.live.erase(it);
  DeviceCache& cache = a.devices[b.device];
  cache.stats.allocated -= b.size;
  cache.stats.requested -= b.requested;
  cache.stats.num_frees++;
  try {
    cache.free_blocks[b.size].push_back(ptr);
  } catch (...) {  // out of host memory for the list: drop the block instead of caching it
    cudaFree(ptr);
    cudaGetLastError();
    cache.stats.reserved -= b.size;
    cache.stats.cuda_frees++;
  }
}

void empty_cache() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
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
