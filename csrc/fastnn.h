// The fastnn C++ kernel API (C1, C4): every CPU kernel, with its shape contract.
// Plain C++: no pybind11, no CUDA. Outputs first, then inputs, then sizes; all sizes int64_t;
// contiguous row-major buffers; backward kernels overwrite their outputs.
// The CUDA kernels of the same names live in csrc/cuda/ and are declared in csrc/cuda/fastnn_cuda.h.
#pragma once
#include <cstdint>

namespace fastnn {

// ---- matmul -----------------------------------------------------------------------------------

// The layout of one (batched) GEMM, all in elements (int64), strides may be negative or zero.
// op(A)[b] is M x K with element (i, k) at a[b*a_bs + i*a_rs + k*a_cs]; a transpose is just a swap
// of a_rs and a_cs. op(B)[b] is K x N, element (k, j) at b[b*b_bs + k*b_rs + j*b_cs]. C[b] is
// M x N, element (i, j) at c[b*c_bs + i*c_rs + j] (unit column stride).
struct MatmulLayout {
  int64_t batch, M, N, K;
  int64_t a_bs, a_rs, a_cs;
  int64_t b_bs, b_rs, b_cs;
  int64_t c_bs, c_rs;
};

// C[b] = alpha * op(A)[b] @ op(B)[b] + beta * C[b] + bias  (bias: (N,) contiguous or nullptr,
// broadcast over rows). beta == 0 means C is write-only (its old contents, even NaN, are ignored,
// as in BLAS). K == 0 gives beta * C + bias. C must not overlap A, B or bias.
// Packed, cache-blocked GEMM (BLIS loop order) with per-ISA micro-kernels; threaded over the pool.
void matmul_cpu(float* c, const float* a, const float* b, const float* bias, const MatmulLayout& L,
                float alpha, float beta);
void matmul_cpu(double* c, const double* a, const double* b, const double* bias, const MatmulLayout& L,
                double alpha, double beta);


// ---- activations ------------------------------------------------------------------------------


// ---- softmax cross-entropy, binary cross-entropy ----------------------------------------------


// ---- optimizer steps --------------------------------------------------------------------------


}  // namespace fastnn
