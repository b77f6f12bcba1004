// The fastnn C++ kernel API (C1, C4): every CPU kernel, with its shape contract.
// Plain C++: no pybind11, no CUDA. Outputs first, then inputs, then sizes; all sizes int64_t;
// contiguous row-major buffers; backward kernels overwrite their outputs.
// The CUDA kernels of the same names live in csrc/cuda/ and are declared in csrc/cuda/fastnn_cuda.h.
#pragma once
#include <cstdint>

namespace fastnn {

// ---- matmul -----------------------------------------------------------------------------------


// ---- activations ------------------------------------------------------------------------------


// ---- softmax cross-entropy, binary cross-entropy ----------------------------------------------


// ---- optimizer steps --------------------------------------------------------------------------


}  // namespace fastnn
