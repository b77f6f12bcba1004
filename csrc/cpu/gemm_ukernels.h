// The GEMM micro-kernels of matmul_avx512.cpp / matmul_avx2.cpp, for kernels outside matmul.cpp
// that pack their own operands (the packed-im2col and Winograd convolutions, conv_gemm.cpp and
// conv_winograd.cpp).
#pragma once
#include <cstdint>

#include "cpu/cpu_features.h"

namespace fastnn {

// C (MR x NR at c, row stride ldc, unit column stride) = alpha * sum_k pa[k*MR + i] * pb[k*NR + j]
// + beta * C + bias[j]; beta == 0 does not read C; bias may be nullptr.
void gemm_ukernel_f32_avx512(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                             float alpha, float beta, const float* bias);
void gemm_ukernel_f64_avx512(int64_t kc, const double* pa, const double* pb, double* c, int64_t ldc,
                             double alpha, double beta, const double* bias);
// 8-row variants (same contract, MR = 8): 32 and 64 rows fill 8-row tiles exactly, where the
// 12-row tiles compute 12 % (64 -> 72) and 12 % (32 -> 36) padding rows.
void gemm_ukernel8_f32_avx512(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                              float alpha, float beta, const float* bias);
void gemm_ukernel8_f64_avx512(int64_t kc, const double* pa, const double* pb, double* c,
                              int64_t ldc, double alpha, double beta, const double* bias);
// Half-width variants (same contract, NR = one vector: float32 16 / 8, float64 8 / 4 columns on
// AVX-512 / AVX2), for a product's last column panel where a full one would be half padding.
void gemm_ukernel_half_f32_avx512(int64_t kc, const float* pa, const float* pb, float* c,
                                  int64_t ldc, float alpha, float beta, const float* bias);
void gemm_ukernel8_half_f32_avx512(int64_t kc, const float* pa, const float* pb, float* c,
                                   int64_t ldc, float alpha, float beta, const float* bias);
void gemm_ukernel_half_f64_avx512(int64_t kc, const double* pa, const double* pb, double* c,
                                  int64_t ldc, double alpha, double beta, const double* bias);
void gemm_ukernel8_half_f64_avx512(int64_t kc, const double* pa, const double* pb, double* c,
                                   int64_t ldc, double alpha, double beta, const double* bias);
void gemm_ukernel_half_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                                float alpha, float beta, const float* bias);
void gemm_ukernel_half_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c,
                                int64_t ldc, double alpha, double beta, const double* bias);
// dst[k*P + r] = src[r*ld + k] for r < rows (zero up to P), k < kc: the packing of an operand
// whose packed dimension is strided and whose K dimension is contiguous (row-major A, or B^T; the
// pixel-major panels of the convolutions' weight gradients), 16 x 16 blocks at a time in registers.
void gemm_pack_transposed_f32_avx512(float* dst, const float* src, int64_t ld, int64_t rows,
                                     int64_t kc, int P);
void gemm_ukernel_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                           float alpha, float beta, const float* bias);
void gemm_ukernel_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c, int64_t ldc,
                           double alpha, double beta, const double* bias);
// 4-row variants (same contract, MR = 4), full and half width: the tail of the 6-row kernels.
void gemm_ukernel4_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                            float alpha, float beta, const float* bias);
void gemm_ukernel4_half_f32_avx2(int64_t kc, const float* pa, const float* pb, float* c,
                                 int64_t ldc, float alpha, float beta, const float* bias);
void gemm_ukernel4_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c, int64_t ldc,
                            double alpha, double beta, const double* bias);
void gemm_ukernel4_half_f64_avx2(int64_t kc, const double* pa, const double* pb, double* c,
                                 int64_t ldc, double alpha, double beta, const double* bias);
// As gemm_pack_transposed_f32_avx512, 8 x 8 blocks at a time.
void gemm_pack_transposed_f32_avx2(float* dst, const float* src, int64_t ld, int64_t rows,
                                   int64_t kc, int P);
// The same, also prefetching the next P rows (from src + P*ld) as it goes: for the packed A,
// whose next micro-panel follows in memory (see matmul.cpp's kF32Avx2).
void gemm_pack_transposed_ahead_f32_avx2(float* dst, const float* src, int64_t ld, int64_t rows,
                                         int64_t kc, int P);

// Whether the n x m transpose of an m x n product pads fewer elements of MR x NR register tiles
// than the product itself (the choice of which side takes the tile's rows).
inline bool transpose_pads_less(int64_t m, int64_t n, int MR, int NR) {
  auto padded = [](int64_t x, int64_t t) { return (x + t - 1) / t * t; };
  return padded(n, MR) * padded(m, NR) < padded(m, MR) * padded(n, NR);
}

template <class T>
struct UKernel {
  int MR, NR;  // register tile, the shapes matmul.cpp's kernel table uses for the same ISA
  void (*fn)(int64_t, const T*, const T*, T*, int64_t, T, T, const T*);
};

// The micro-kernel of the active ISA, or nullptr on the generic path (no SIMD kernel).
inline const UKernel<float>* ukernel_for(float*) {
  static const UKernel<float> avx512{12, 32, &gemm_ukernel_f32_avx512};
  static const UKernel<float> avx2{6, 16, &gemm_ukernel_f32_avx2};
  static const IsaTable<const UKernel<float>*> table{{{nullptr, &avx2, &avx512}}};
  return table[active_isa()];
}
inline const UKernel<double>* ukernel_for(double*) {
  static const UKernel<double> avx512{12, 16, &gemm_ukernel_f64_avx512};
  static const UKernel<double> avx2{6, 8, &gemm_ukernel_f64_avx2};
  static const IsaTable<const UKernel<double>*> table{{{nullptr, &avx2, &avx512}}};
  return table[active_isa()];
}

}  // namespace fastnn
