// Pinned (page-locked) host memory and asynchronous host-to-device copies (pinned.cu). Plain C++,
// so the binding (csrc/bindings/cuda_pinned.cpp) compiles with the host compiler.
//
// [note: pinned blocks] A copy from pinned memory is a DMA the GPU runs later, on the stream it
// was queued on; the host memory must stay untouched until then. So a block freed while copies
// from it are still queued is not handed out again until the events recorded after those copies
// have completed (the caching host allocator of PyTorch works the same way). Blocks are rounded
// to the device allocator's size classes and cached; cudaHostAlloc is slow (it maps every page).
#pragma once
#include <cstdint>

namespace fastnn::cuda {

// A pinned block of at least `bytes` bytes (nullptr for 0); throws std::runtime_error when the
// host is out of page-locked memory even after the cache was emptied.
void* pinned_malloc(int64_t bytes);
// Returns a block from pinned_malloc to the cache (reused once its recorded copies are done).
void pinned_free(void* ptr) noexcept;
// Whether [ptr, ptr + bytes) lies inside one live block of this allocator.
bool pinned_owns(const void* ptr, int64_t bytes);
// Whether ptr is page-locked host memory of any origin (this allocator's, or registered by
// another library); false for pageable memory and when there is no driver.
bool is_pinned_host(const void* ptr);
// Frees every cached block that no queued copy still reads.
void pinned_empty_cache();

struct PinnedStats {
  int64_t allocated = 0;      // bytes in live blocks (size-class rounded)
  int64_t reserved = 0;       // allocated + cached (including blocks waiting for their copies)
  int64_t host_allocs = 0;    // cudaHostAlloc calls made
  int64_t cache_hits = 0;     // pinned_malloc calls served from the cache
  int64_t pending = 0;        // freed blocks still read by queued copies
  int64_t staged_copies = 0;  // pageable copies that went through a staging block
};
PinnedStats pinned_stats();

// Queues a copy of `bytes` host bytes to device memory on the current stream and returns
// without waiting for the device. A source inside a pinned block is copied directly (the block
// is kept from reuse until the copy is done: [note: pinned blocks]); other page-locked memory
// is copied directly too (its owner keeps it alive, as with torch's non_blocking copies);
// pageable memory is first copied on the host into pinned staging blocks, so `src` may be
// reused as soon as this returns.
void copy_host_to_device_async(void* dst, const void* src, int64_t bytes);

}  // namespace fastnn::cuda
