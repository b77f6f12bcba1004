// One single-batch GEMM problem with general strides, as the driver (csrc/cpu/matmul.cpp) sees it
// and as it hands skinny problems to the no-packing kernels of the SIMD units
// (csrc/cpu/matmul_skinny_kernels.h). Plain data only:
// this header is included by generic and ISA units alike, so it must define no function
// ([note: ISA units] in CMakeLists.txt).
#pragma once
#include <cstdint>

namespace fastnn {

// C = alpha * op(A) @ op(B) + beta * C + bias, op(A)(i, k) = a[i*a_rs + k*a_cs],
// op(B)(k, j) = b[k*b_rs + j*b_cs], C(i, j) = c[i*c_rs + j*c_cs], bias(i, j) =
// bias[i*bias_rs + j*bias_cs] (bias may be nullptr). beta == 0 never reads C.
// a_ahead (the dot kernel only): while it reads row i of op(A), it prefetches the lines
// a_ahead elements further on, a later row's (0: no prefetch).
template <class T>
struct GemmProblem {
  int64_t M, N, K;
  const T* a;
  int64_t a_rs, a_cs;
  const T* b;
  int64_t b_rs, b_cs;
  T* c;
  int64_t c_rs, c_cs;
  const T* bias;
  int64_t bias_rs, bias_cs;
  T alpha, beta;
  int64_t a_ahead = 0;
};

}  // namespace fastnn
