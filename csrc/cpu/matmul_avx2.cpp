// matmul_avx2: the AVX2+FMA GEMM micro-kernels (see csrc/cpu/matmul.cpp for the algorithm and
// [note: ISA units] in CMakeLists.txt for why everything here is internal but the entry points).
// Also the skinny (min(M, N) <= 16) kernels and float32's dot_in_place (short M, B^T) of
// cpu/matmul_skinny_kernels.h over the same traits. Register tile MR x NR = 6 x 2 vectors:
// float32 6 x 16, float64 6 x 8. 12 ymm accumulators, two B vector loads and 6 broadcasts of A per
// k (the BLIS Haswell shape, 16 ymm registers). 4-row variants for the last row tiles of a
// product (4 or 8 rows where 6-row tiles would pad: 32 rows as 4 x 6 + 2 x 4, not 6 x 6).
// The B micro-panel (KC x NR = 16 KiB at KC = 256) is what stays in L1 across calls.
#include <immintrin.h>

#include <cstdint>

#include "cpu/vec_avx2.h"  // vstore_part; defines FASTNN_VEC_NS for the two below

#include "cpu/matmul_skinny_kernels.h"  // skinny_dot<S>, skinny_bcast<S>, over the traits below
#include "cpu/matmul_ukernel.h"         // ukernel<S, MR>, over the traits below
#include "cpu/vec_traits_avx2.h"

namespace fastnn {
namespace avx2 {
namespace {

// ---- vector helpers, overloaded on the element type ---------------------------------------------

struct F32 : VecF32 {
  // ---- for the skinny kernels (16 ymm registers: small dimensions above 8 are split in two) ----
  static constexpr int NREG = 16, SKINNY_MAX = 8;
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V load_n(const T* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store_n(T* p, V v, int n) { vstore_part(p, avx2::V{v}, n); }  // no vmaskmovps
  static constexpr int IN_PLACE_ROWS = 2;  // dot_in_place: blocks of 2 rows x 4 columns
  static V lane_group(V v, int, int) { return _mm256_permute2f128_ps(v, v, 0x11); }  // only g = 1
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

struct F64 : VecF64 {
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

// Transposes the 8 x 8 block r in place (row i becomes column i).
inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4)
    for (int j = 0; j < 2; ++j) {
      u[i + j] = _mm256_shuffle_ps(t[i + j], t[i + j + 2], _MM_SHUFFLE(1, 0, 1, 0));
      u[i + j + 2] = _mm256_shuffle_ps(t[i + j], t[i + j + 2], _MM_SHUFFLE(3, 2, 3, 2));
    }
  // u[0..3] hold rows 0..3 as columns 0, 2, 1, 3 (each 128-bit half one group of k); u[4..7] rows
  // 4..7 likewise: join the halves.
  const int order[4] = {0, 2, 1, 3};
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2f128_ps(u[order[j]], u[4 + order[j]], 0x20);
    r[4 + j] = _mm256_permute2f128_ps(u[order[j]], u[4 + order[j]], 0x31);
  }
}

// dst[k*P + r] = src[r*ld + k] for r < rows, 0 for rows <= r < P; k < kc. P <= 32.
// kAhead: each line read is paired with a prefetch of the same line P rows further down.
template <bool kAhead>
inline void pack_transposed(float* dst, const float* src, int64_t ld, int64_t rows, int64_t kc,
                            int P) {
  for (int h = 0; h * 8 < P; ++h) {
    const int width = P - 8 * h < 8 ? P - 8 * h : 8;
    for (int64_t k0 = 0; k0 < kc; k0 += 8) {
      const int64_t kn = kc - k0 < 8 ? kc - k0 : 8;
      const __m256i load_mask = F32::mask(static_cast<int>(kn));
      if (kAhead && (k0 & 15) == 0)
        for (int i = 0; i < width; ++i) __builtin_prefetch(src + (P + 8 * h + i) * ld + k0);
      __m256 r[8];
      for (int i = 0; i < 8; ++i) {
        const int64_t row = 8 * h + i;
        r[i] =
            row < rows ? _mm256_maskload_ps(src + row * ld + k0, load_mask) : _mm256_setzero_ps();
      }
      transpose8(r);
      float* d = dst + k0 * P + 8 * h;
      for (int64_t kk = 0; kk < kn; ++kk) vstore_part(d + kk * P, V{r[kk]}, width);
    }
  }
}

}  // namespace
}  // namespace avx2

// ---- entry points
// --------------------------------------------------------------------------------

void gemm_ukernel_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                           float alpha, float beta, const float* bias) {
  avx2::ukernel<avx2::F32, 6>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel_half_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                                float alpha, float beta, const float* bias) {
  avx2::ukernel<avx2::F32, 6, 1>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel4_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                            float alpha, float beta, const float* bias) {
  avx2::ukernel<avx2::F32, 4>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel4_half_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c,
                                 int64_t ldc, float alpha, float beta, const float* bias) {
  avx2::ukernel<avx2::F32, 4, 1>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_pack_transposed_f32_avx2(float* dst, const float* src, int64_t ld, int64_t rows,
                                   int64_t kc, int P) {
  avx2::pack_transposed<false>(dst, src, ld, rows, kc, P);
}

void gemm_pack_transposed_ahead_f32_avx2(float* dst, const float* src, int64_t ld, int64_t rows,
                                         int64_t kc, int P) {
  avx2::pack_transposed<true>(dst, src, ld, rows, kc, P);
}

void gemm_ukernel_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c, int64_t ldc,
                           double alpha, double beta, const double* bias) {
  avx2::ukernel<avx2::F64, 6>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel_half_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c,
                                int64_t ldc, double alpha, double beta, const double* bias) {
  avx2::ukernel<avx2::F64, 6, 1>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel4_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c, int64_t ldc,
                            double alpha, double beta, const double* bias) {
  avx2::ukernel<avx2::F64, 4>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel4_half_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c,
                                 int64_t ldc, double alpha, double beta, const double* bias) {
  avx2::ukernel<avx2::F64, 4, 1>(kc, pa, pb, c, ldc, alpha, beta, bias);
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
