// The AVX2+FMA vector operations the GEMM micro-kernel (cpu/matmul_ukernel.h) is written over, one
// struct per element type, as vec_traits_avx512.h for AVX-512. The AVX2 units derive their own
// traits from these and add what only they need. Include only from *_avx2.cpp units; everything
// here has internal linkage.
#pragma once
#include <immintrin.h>

namespace fastnn {
namespace avx2 {
namespace {

struct VecF32 {
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

struct VecF64 {
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
}  // namespace fastnn
