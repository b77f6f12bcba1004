// The heap policy (heap.h): glibc's two malloc thresholds, set once when fastnn._C is imported.
#include "cpu/heap.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fastnn {

namespace {

// The largest mmap threshold glibc accepts on 64-bit (half its maximum heap size); the
// activations of the programs fastnn trains sit below it.
constexpr long kMmapThreshold = 32L << 20;
// Free bytes at the heap's top glibc may keep before trimming: the activations and gradients of
// a small network's training step, and only ever memory the program had in use at one time.
constexpr long kTrimThreshold = 256L << 20;

bool user_configured_malloc() {
  static const char* const vars[] = {"MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_",
                                     "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"};
  for (const char* v : vars)
    if (std::getenv(v)) return true;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables && std::strstr(tunables, "glibc.malloc.");
}

HeapPolicy apply() {
  HeapPolicy p;
#if defined(__GLIBC__)
  if (user_configured_malloc()) {
    p.reason = "the environment sets MALLOC_*_ or GLIBC_TUNABLES";
    return p;
  }
  // mallopt returns 1 on success; under a sanitizer's allocator it is a no-op returning 0.
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThreshold)) == 1 &&
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThreshold)) == 1) {
    p.keeps_freed = true;
    p.trim_threshold = kTrimThreshold;
    p.mmap_threshold = kMmapThreshold;
  } else {
    p.reason = "the allocator rejected the thresholds";
  }
#else
  p.reason = "the C library is not glibc";
#endif
  return p;
}

}  // namespace

const HeapPolicy& keep_freed_memory() {
  static const HeapPolicy policy = apply();
  return policy;
}

}  // namespace fastnn
