// matmul_avx512: the AVX-512 GEMM micro-kernels (see csrc/cpu/matmul.cpp for the algorithm and
// [note: ISA units] in CMakeLists.txt for why everything here is internal but the entry points).
// Also the skinny (min(M, N) <= 16) kernels of cpu/matmul_skinny_kernels.h over the same traits,
// and float32's dot_in_place (short M, B^T).
// Register tile MR x NR = 12 x 2 vectors: float32 12 x 32, float64 12 x 16. 24 zmm accumulators,
// two B vector loads and 12 broadcasts of A per k (2 FMA pipes stay fed; Zen4/5 and SKX-class).
// The edge tiles of a product use the 8-row and one-vector-wide instances of the same kernel.
// The B micro-panel (KC x NR = 32 KiB at KC = 256) is what stays in L1 across calls.
#include <immintrin.h>

#include <cstdint>

// The shuffles and unpacks below use the zero-masking forms with every lane selected: GCC 12
// implements the unmasked forms with an _mm512_undefined_*() pass-through operand that
// -Wuninitialized / -Wmaybe-uninitialized report (a false positive inside <immintrin.h>). Both
// forms compile to the same instructions.

#define FASTNN_VEC_NS avx512
#include "cpu/matmul_skinny_kernels.h"  // skinny_dot<S>, skinny_bcast<S>, over the traits below
#include "cpu/matmul_ukernel.h"         // ukernel<S, MR>, over the traits below
#include "cpu/vec_traits_avx512.h"

namespace fastnn {
namespace avx512 {
namespace {

// ---- vector helpers, overloaded on the element type (the micro-kernel's come from Vec*) ---------

struct F32 : VecF32 {
  // ---- for the skinny kernels ----
  static constexpr int NREG = 32, SKINNY_MAX = 16;
  static __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1); }
  static V load_n(const T* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store_n(T* p, V v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  // dot_in_place: blocks of 4 rows x 4 columns, so a panel of B (4 x K) stays in half of a 32 KiB
  // L1d up to K = 1024 (2 x 8 ran 64 x 1023 x 18 at 0.64x the speed, other shapes alike).
  static constexpr int IN_PLACE_ROWS = 4;
  static V lane_group(V v, int g, int J) {  // the index is a constant once the loop is unrolled
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm512_maskz_permutexvar_ps(0xFFFF, _mm512_add_epi32(_mm512_set1_epi32(g * J), lanes),
                                       v);
  }
  // Lane l of the result = sum of v[l]: pairwise interleave-and-add, 32-bit, 64-bit, then 128-bit
  // lanes (45 instructions for 16 sums). After step 2, u[g] holds v[4g .. 4g+3] in each 128-bit
  // lane; steps 3 and 4 add the four 128-bit lanes and put u[g]'s sums in lane g.
  static V reduce(const V v[16]) {
    V t[8], u[4];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
      t[i] = _mm512_add_ps(_mm512_maskz_unpacklo_ps(0xFFFF, v[2 * i], v[2 * i + 1]),
                           _mm512_maskz_unpackhi_ps(0xFFFF, v[2 * i], v[2 * i + 1]));
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const __m512d a = _mm512_castps_pd(t[2 * g]), b = _mm512_castps_pd(t[2 * g + 1]);
      u[g] = _mm512_add_ps(_mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, a, b)),
                           _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, a, b)));
    }
    const V w01 = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, u[0], u[1], 0x88),
                                _mm512_maskz_shuffle_f32x4(0xFFFF, u[0], u[1], 0xdd));
    const V w23 = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, u[2], u[3], 0x88),
                                _mm512_maskz_shuffle_f32x4(0xFFFF, u[2], u[3], 0xdd));
    return _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, w01, w23, 0x88),
                         _mm512_maskz_shuffle_f32x4(0xFFFF, w01, w23, 0xdd));
  }
};

struct F64 : VecF64 {
  // ---- for the skinny kernels ----
  static constexpr int NREG = 32, SKINNY_MAX = 16;
  static __mmask8 mask(int n) { return static_cast<__mmask8>((1u << n) - 1); }
  static V load_n(const T* p, int n) { return _mm512_maskz_loadu_pd(mask(n), p); }
  static void store_n(T* p, V v, int n) { _mm512_mask_storeu_pd(p, mask(n), v); }
  // Lane l of the result = sum of v[l]: t[g] holds v[2g], v[2g+1] in each 128-bit lane, then the
  // four 128-bit lanes are added with t[g]'s sums landing in lane g.
  static V reduce(const V v[8]) {
    V t[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i)
      t[i] = _mm512_add_pd(_mm512_maskz_unpacklo_pd(0xFF, v[2 * i], v[2 * i + 1]),
                           _mm512_maskz_unpackhi_pd(0xFF, v[2 * i], v[2 * i + 1]));
    const V w01 = _mm512_add_pd(_mm512_maskz_shuffle_f64x2(0xFF, t[0], t[1], 0x88),
                                _mm512_maskz_shuffle_f64x2(0xFF, t[0], t[1], 0xdd));
    const V w23 = _mm512_add_pd(_mm512_maskz_shuffle_f64x2(0xFF, t[2], t[3], 0x88),
                                _mm512_maskz_shuffle_f64x2(0xFF, t[2], t[3], 0xdd));
    return _mm512_add_pd(_mm512_maskz_shuffle_f64x2(0xFF, w01, w23, 0x88),
                         _mm512_maskz_shuffle_f64x2(0xFF, w01, w23, 0xdd));
  }
};

// ---- transposing pack (float32)
// ------------------------------------------------------------------

// The first two stages of an in-register transpose of 4G rows of 16 floats: 32-bit, then 64-bit
// interleaves leave u[4g + c] holding, in 128-bit lane L, column 4L + c of rows 4g .. 4g+3.
template <int G>
inline void interleave_rows(const __m512* r, __m512* u) {
  __m512 t[4 * G];
#pragma GCC unroll 8
  for (int i = 0; i < 2 * G; ++i) {
    t[2 * i] = _mm512_maskz_unpacklo_ps(0xFFFF, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_maskz_unpackhi_ps(0xFFFF, r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 2]);
    const __m512d c = _mm512_castps_pd(t[4 * g + 1]), d = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, a, b));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, a, b));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, c, d));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, c, d));
  }
}

// In-register 16 x 16 transpose: r[i] lane j -> r[j] lane i. Three stages: 32-bit and 64-bit
// interleaves give 4 x 4 blocks per 128-bit lane, two 128-bit lane shuffles finish it.
inline void transpose16(__m512 r[16]) {
  __m512 u[16], v[16];
  interleave_rows<4>(r, u);
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    v[c] = _mm512_maskz_shuffle_f32x4(0xFFFF, u[c], u[4 + c], 0x88);
    v[4 + c] = _mm512_maskz_shuffle_f32x4(0xFFFF, u[c], u[4 + c], 0xdd);
    v[8 + c] = _mm512_maskz_shuffle_f32x4(0xFFFF, u[8 + c], u[12 + c], 0x88);
    v[12 + c] = _mm512_maskz_shuffle_f32x4(0xFFFF, u[8 + c], u[12 + c], 0xdd);
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm512_maskz_shuffle_f32x4(0xFFFF, v[c], v[8 + c], 0x88);
    r[8 + c] = _mm512_maskz_shuffle_f32x4(0xFFFF, v[c], v[8 + c], 0xdd);
    r[4 + c] = _mm512_maskz_shuffle_f32x4(0xFFFF, v[4 + c], v[12 + c], 0x88);
    r[12 + c] = _mm512_maskz_shuffle_f32x4(0xFFFF, v[4 + c], v[12 + c], 0xdd);
  }
}

// pack_transposed for P = 8 (the 8-row micro-kernel's A panels, Winograd dW's row panels): 8 rows
// of 16 k at a time. interleave_rows leaves u[c] (rows 0-3) and u[4 + c] (rows 4-7) holding
// k = 4L + c in 128-bit lane L; lane shuffles then pair them into 8-float rows of dst. Half the
// shuffles of a 16 x 16 transpose with 8 rows of zeros: Winograd dW spent most of its packing
// there.
inline void pack_transposed8(float* dst, const float* src, int64_t ld, int64_t rows, int64_t kc) {
  for (int64_t k0 = 0; k0 < kc; k0 += 16) {
    const int64_t kn = kc - k0 < 16 ? kc - k0 : 16;
    const __mmask16 load_mask = static_cast<__mmask16>((1u << kn) - 1);
    __m512 r[8], u[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
      r[i] = i < rows ? _mm512_maskz_loadu_ps(load_mask, src + i * ld + k0) : _mm512_setzero_ps();
    interleave_rows<2>(r, u);
    float* d = dst + k0 * 8;
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      // halves[h] = [u[c] lane 2h, u[4+c] lane 2h, u[c] lane 2h+1, u[4+c] lane 2h+1]: the rows of
      // dst at k = 8h + c and 8h + 4 + c
      const __m512 lo = _mm512_maskz_shuffle_f32x4(0xFFFF, u[c], u[4 + c], 0x44);
      const __m512 hi = _mm512_maskz_shuffle_f32x4(0xFFFF, u[c], u[4 + c], 0xEE);
      const __m512 halves[2] = {_mm512_maskz_shuffle_f32x4(0xFFFF, lo, lo, 0xD8),
                                _mm512_maskz_shuffle_f32x4(0xFFFF, hi, hi, 0xD8)};
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const int64_t k = 8 * h + c;
        if (k < kn)  // the low half; GCC 12's cast builds it from an undefined vector
          _mm256_storeu_ps(d + k * 8,
                           __builtin_shufflevector(halves[h], halves[h], 0, 1, 2, 3, 4, 5, 6, 7));
        if (k + 4 < kn)
          _mm256_storeu_ps(d + (k + 4) * 8, _mm512_maskz_extractf32x8_ps(0xFF, halves[h], 1));
      }
    }
  }
}

// dst[k*P + r] = src[r*ld + k] for r < rows, 0 for rows <= r < P; k < kc. P <= 32.
inline void pack_transposed(float* dst, const float* src, int64_t ld, int64_t rows, int64_t kc,
                            int P) {
  if (P == 8) return pack_transposed8(dst, src, ld, rows, kc);
  for (int h = 0; h * 16 < P; ++h) {
    const int lanes = P - 16 * h < 16 ? P - 16 * h : 16;
    const __mmask16 store_mask = static_cast<__mmask16>((1u << lanes) - 1);
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
      const int64_t kn = kc - k0 < 16 ? kc - k0 : 16;
      const __mmask16 load_mask = static_cast<__mmask16>((1u << kn) - 1);
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        const int64_t row = 16 * h + i;
        r[i] = row < rows ? _mm512_maskz_loadu_ps(load_mask, src + row * ld + k0)
                          : _mm512_setzero_ps();
      }
      transpose16(r);
      float* d = dst + k0 * P + 16 * h;
      for (int64_t kk = 0; kk < kn; ++kk) _mm512_mask_storeu_ps(d + kk * P, store_mask, r[kk]);
    }
  }
}

}  // namespace
}  // namespace avx512

// ---- entry points
// --------------------------------------------------------------------------------

void gemm_ukernel_f32_avx512(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                             float alpha, float beta, const float* bias) {
  avx512::ukernel<avx512::F32, 12>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel8_f32_avx512(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                              float alpha, float beta, const float* bias) {
  avx512::ukernel<avx512::F32, 8>(kc, pa, pb, c, ldc, alpha, beta, bias);
}
void gemm_ukernel8_f64_avx512(int64_t kc, const double* pa, const double* pb, double* c,
                              int64_t ldc, double alpha, double beta, const double* bias) {
  avx512::ukernel<avx512::F64, 8>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_ukernel_half_f32_avx512(int64_t kc, const float* pa, const float* pb, float* c,
                                  int64_t ldc, float alpha, float beta, const float* bias) {
  avx512::ukernel<avx512::F32, 12, 1>(kc, pa, pb, c, ldc, alpha, beta, bias);
}
void gemm_ukernel8_half_f32_avx512(int64_t kc, const float* pa, const float* pb, float* c,
                                   int64_t ldc, float alpha, float beta, const float* bias) {
  avx512::ukernel<avx512::F32, 8, 1>(kc, pa, pb, c, ldc, alpha, beta, bias);
}
void gemm_ukernel_half_f64_avx512(int64_t kc, const double* pa, const double* pb, double* c,
                                  int64_t ldc, double alpha, double beta, const double* bias) {
  avx512::ukernel<avx512::F64, 12, 1>(kc, pa, pb, c, ldc, alpha, beta, bias);
}
void gemm_ukernel8_half_f64_avx512(int64_t kc, const double* pa, const double* pb, double* c,
                                   int64_t ldc, double alpha, double beta, const double* bias) {
  avx512::ukernel<avx512::F64, 8, 1>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_pack_transposed_f32_avx512(float* dst, const float* src, int64_t ld, int64_t rows,
                                     int64_t kc, int P) {
  avx512::pack_transposed(dst, src, ld, rows, kc, P);
}

void gemm_ukernel_f64_avx512(int64_t kc, const double* pa, const double* pb, double* c, int64_t ldc,
                             double alpha, double beta, const double* bias) {
  avx512::ukernel<avx512::F64, 12>(kc, pa, pb, c, ldc, alpha, beta, bias);
}

void gemm_skinny_dot_f32_avx512(const GemmProblem<float>& p, const float* bp, int64_t i0,
                                int64_t i1) {
  avx512::skinny_dot<avx512::F32>(p, bp, i0, i1);
}

void gemm_skinny_dot_f64_avx512(const GemmProblem<double>& p, const double* bp, int64_t i0,
                                int64_t i1) {
  avx512::skinny_dot<avx512::F64>(p, bp, i0, i1);
}

void gemm_skinny_bcast_f32_avx512(const GemmProblem<float>& p, int64_t j0, int64_t j1) {
  avx512::skinny_bcast<avx512::F32>(p, j0, j1);
}

void gemm_skinny_bcast_f64_avx512(const GemmProblem<double>& p, int64_t j0, int64_t j1) {
  avx512::skinny_bcast<avx512::F64>(p, j0, j1);
}

void gemm_dot_in_place_f32_avx512(const GemmProblem<float>& p, int64_t j0, int64_t j1) {
  avx512::dot_in_place<avx512::F32>(p, j0, j1);
}

double gemm_fma_loop_f32_avx512(int64_t n) { return avx512::fma_loop<avx512::F32>(n); }

double gemm_fma_loop_f64_avx512(int64_t n) { return avx512::fma_loop<avx512::F64>(n); }

}  // namespace fastnn
