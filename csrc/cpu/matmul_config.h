// The packed GEMM's register tile and cache blocking on the active SIMD path, as matmul.cpp
// derived them from the caches (cpu/cpu_caches.h): for fastnn.show_config and the benchmarks.
#pragma once
#include <cstdint>

namespace fastnn {

struct GemmBlocking {
  int MR, NR;                // register tile
  int64_t KC, MC, NC;        // depth of a packed block, rows of an A block, columns of a B block
  int64_t b_strip;           // bytes of packed op(B) each thread keeps when threads split C by rows
  int64_t deep_KC, deep_MC;  // the blocks where C outgrows the L2 (KC, MC where none deeper)
};

GemmBlocking gemm_blocking(bool f32);

}  // namespace fastnn
