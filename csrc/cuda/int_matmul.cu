// Integer matrix products on the device: numpy's int64 matmul, wrapping modulo 2^64 (narrower
// integer and bool results are cast from it by the caller, which wraps the same way). Integer
// products are exact and not hot, so the kernel is the plain one: a thread per output element,
// a sequential loop over K, operands read through element strides (transposes and a broadcast
// batch are strides, not copies).
#include "cuda/common.cuh"

namespace fastnn::cuda {
namespace {

__global__ void int_matmul_kernel(int64_t* c, const int64_t* a, const int64_t* b, IntMatmulShape s,
                                  int64_t n) {
  FASTNN_KERNEL_LOOP(t, n) {
    const int64_t j = t % s.N;
    const int64_t i = (t / s.N) % s.M;
    const int64_t p = t / (s.N * s.M);
    const int64_t* ar = a + p * s.a_batch + i * s.a_row;
    const int64_t* bc = b + p * s.b_batch + j * s.b_col;
    uint64_t acc = 0;  // unsigned: overflow wraps by definition
    for (int64_t k = 0; k < s.K; ++k)
      acc += static_cast<uint64_t>(ar[k * s.a_col]) * static_cast<uint64_t>(bc[k * s.b_row]);
    c[t] = static_cast<int64_t>(acc);
  }
}

}  // namespace

void int_matmul_cuda(int64_t* c, const int64_t* a, const int64_t* b, const IntMatmulShape& s) {
  const int64_t n = s.batch * s.M * s.N;
  if (n <= 0) return;
  int_matmul_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(c, a, b, s, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
