// The entry points of grad_norm's vector units: the square sum and the absolute sum of one span,
// accumulated in double (float32 inputs are widened, so each square is exact).
// grad_norm_avx512.cpp and grad_norm_avx2.cpp define them with their ISA flags; the driver
// cpu/grad_norm.cpp picks one per call from its IsaTable.
#pragma once
#include <stdint.h>

namespace fastnn {

#define FASTNN_GRAD_NORM_SIMD_ENTRIES                 \
  double grad_sum_sq_f32(const float* x, int64_t n);  \
  double grad_sum_sq_f64(const double* x, int64_t n); \
  double grad_sum_abs_f32(const float* x, int64_t n); \
  double grad_sum_abs_f64(const double* x, int64_t n);
namespace avx512 {
FASTNN_GRAD_NORM_SIMD_ENTRIES
}
namespace avx2 {
FASTNN_GRAD_NORM_SIMD_ENTRIES
}
#undef FASTNN_GRAD_NORM_SIMD_ENTRIES

}  // namespace fastnn
