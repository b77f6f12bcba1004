// matmul_avx2: the AVX2+FMA GEMM micro-kernels (see csrc/cpu/matmul.cpp for the algorithm and
// [note: ISA units] in CMakeLists.txt for why everything here is internal but two entry points).
// Register tile MR x NR = 6 x 2 vectors: float32 6 x 16, float64 6 x 8. 12 ymm accumulators,
// two B vector loads and 6 broadcasts of A per k (the BLIS Haswell shape, 16 ymm registers).
// The B micro-panel (KC x NR = 16 KiB at KC = 256) is what stays in L1 across calls.
#include <immintrin.h>

#include <cstdint>

#define FASTNN_VEC_NS avx2
#include "cpu/matmul_ukernel.h"  // ukernel<S, MR>, over the traits below

namespace fastnn {
namespace avx2 {
namespace {

// ---- vector helpers, overloaded on the element type ---------------------------------------------

struct F32 {
  using T = float;
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V bcast(const T* p) { return _mm256_set1_ps(*p); }
  static V set1(T x) { return _mm256_set1_ps(x); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
};

struct F64 {
  using T = double;
  using V = __m256d;
  static constexpr int W = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V bcast(const T* p) { return _mm256_set1_pd(*p); }
  static V set1(T x) { return _mm256_set1_pd(x); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
};

}  // namespace
}  // namespace avx2

// ---- entry points --------------------------------------------------------------------------------

void gemm_ukernel_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc, float alpha,
                             float beta, const float* bias) {
  avx2::ukernel<avx2::F32, 6>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c, int64_t ldc,
                             double alpha, double beta, const double* bias) {
  avx2::ukernel<avx2::F64, 6>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

}  // namespace fastnn
