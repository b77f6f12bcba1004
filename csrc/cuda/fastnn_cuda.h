// The fastnn CUDA kernel API: the same kernels as csrc/fastnn.h, on device pointers.
// Plain C++ (no CUDA headers), so the binding file compiles with the host compiler.
#pragma once
#include <cstdint>

namespace fastnn::cuda {

int device_count();  // 0 when the driver or a GPU is missing (never throws)

}  // namespace fastnn::cuda
