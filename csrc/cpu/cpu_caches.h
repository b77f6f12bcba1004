// The data cache sizes of the CPU this process runs on, read once at first use, for the GEMM's
// cache blocking (csrc/cpu/matmul.cpp). From CPUID's deterministic cache parameters (leaf 4 on
// Intel, 0x8000001D on AMD), else Linux's /sys/devices/system/cpu/cpu0/cache; a size that
// neither gives is 0 and the GEMM keeps its built-in blocking for it.
#pragma once
#include <cstdint>

namespace fastnn {

struct CacheSizes {
  int64_t l1d = 0;  // bytes of level-1 data cache of one core
  int64_t l2 = 0;   // bytes of level-2 cache of one core
  int64_t l3 = 0;   // bytes of level-3 cache per core sharing it (its size / sharing threads)
  const char* source = "none";  // "cpuid", "sysfs" or "none"
};

const CacheSizes& cache_sizes();

}  // namespace fastnn
