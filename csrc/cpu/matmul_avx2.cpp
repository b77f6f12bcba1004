// matmul_avx2: the AVX2+FMA GEMM micro-kernels (see csrc/cpu/matmul.cpp for the algorithm and
// [note: ISA units] in CMakeLists.txt for why everything here is internal but the entry points).
// Also the skinny (min(M, N) <= 16) kernels and float32's dot_in_place (short M, B^T) of
// cpu/matmul_skinny_kernels.h over the same traits. Register tile MR x NR = 6 x 2 vectors:
// float32 6 x 16, float64 6 x 8. 12 ymm accumulators, two B vector loads and 6 broadcasts of A per
// k (the BLIS Haswell shape, 16 ymm registers).
// The B micro-panel (KC x NR = 16 KiB at KC = 256) is what stays in L1 across calls.
#include <immintrin.h>

#include <cstdint>

#define FASTNN_VEC_NS avx2
#include "cpu/matmul_skinny_kernels.h"  // skinny_dot<S>, skinny_bcast<S>, over the traits below
#include "cpu/matmul_ukernel.h"         // ukernel<S, MR>, over the traits below

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
  // ---- for the skinny kernels (16 ymm registers: small dimensions above 8 are split in two) ----
  static constexpr int NREG = 16, SKINNY_MAX = 8;
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V load_n(const T* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store_n(T* p, V v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  static V upper_half(V v) { return _mm256_permute2f128_ps(v, v, 0x11); }
  // Lane l of the result = sum of v[l]: two rounds of hadd leave v[0..3] and v[4..7] partial sums
  // in each 128-bit half; adding the halves finishes them.
  static V reduce(const V v[8]) {
    const V t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
    const V t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
    const V u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20),
                         _mm256_permute2f128_ps(u0, u1, 0x31));
  }
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
  // ---- for the skinny kernels (see F32) ----
  static constexpr int NREG = 16, SKINNY_MAX = 8;
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static V load_n(const T* p, int n) { return _mm256_maskload_pd(p, mask(n)); }
  static void store_n(T* p, V v, int n) { _mm256_maskstore_pd(p, mask(n), v); }
  static V reduce(const V v[4]) {
    const V t0 = _mm256_hadd_pd(v[0], v[1]), t1 = _mm256_hadd_pd(v[2], v[3]);
    return _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20),
                         _mm256_permute2f128_pd(t0, t1, 0x31));
  }
};

}  // namespace
}  // namespace avx2

// ---- entry points
// --------------------------------------------------------------------------------

void gemm_ukernel_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                           float alpha, float beta, const float* bias) {
  avx2::ukernel<avx2::F32, 6>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c, int64_t ldc,
                           double alpha, double beta, const double* bias) {
  avx2::ukernel<avx2::F64, 6>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_skinny_dot_f32_avx2(const GemmProblem<float>& p, const float* bp, int64_t i0,
                              int64_t i1) {
  avx2::skinny_dot<avx2::F32>(p, bp, i0, i1);
}

void gemm_skinny_dot_f64_avx2(const GemmProblem<double>& p, const double* bp, int64_t i0,
                              int64_t i1) {
  avx2::skinny_dot<avx2::F64>(p, bp, i0, i1);
}

void gemm_skinny_bcast_f32_avx2(const GemmProblem<float>& p, int64_t j0, int64_t j1) {
  avx2::skinny_bcast<avx2::F32>(p, j0, j1);
}

void gemm_skinny_bcast_f64_avx2(const GemmProblem<double>& p, int64_t j0, int64_t j1) {
  avx2::skinny_bcast<avx2::F64>(p, j0, j1);
}

void gemm_dot_in_place_f32_avx2(const GemmProblem<float>& p, int64_t j0, int64_t j1) {
  avx2::dot_in_place<avx2::F32>(p, j0, j1);
}

double gemm_fma_loop_f32_avx2(int64_t n) { return avx2::fma_loop<avx2::F32>(n); }

double gemm_fma_loop_f64_avx2(int64_t n) { return avx2::fma_loop<avx2::F64>(n); }

}  // namespace fastnn
