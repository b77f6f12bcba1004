// The generic float32 run loops of the normalization kernels (the double-accumulating loops of
// cpu/norm_sums.h) and the per-ISA table that norm_ops_f32() reads (cpu/norm_simd.h).
#include "cpu/cpu_features.h"
#include "cpu/norm_cols.h"
#include "cpu/norm_simd.h"
#include "cpu/norm_sums.h"

namespace fastnn {
namespace {

using norm::Centre;

// The split mean hi + lo back as one double (the generic loops centre on a double).
double joined(float hi, float lo) { return static_cast<double>(hi) + static_cast<double>(lo); }

double sum_generic(const float* x, int64_t n) { return norm::sum(x, n); }

double centered_sq_generic(const float* x, int64_t n, float hi, float lo) {
  return norm::centered_sq(x, n, joined(hi, lo));
}

void grad_sums_generic(const float* dy, const float* w, float ws, const float* x, int64_t n,
                       float hi, float lo, double* s_g, double* s_gx) {
  norm::weighted_grad_sums(dy, w, ws, x, n, joined(hi, lo), s_g, s_gx);
}

void affine_generic(float* y, const float* x, int64_t n, float hi, float lo, float k,
                    const float* w, const float* b, float shift) {
  norm::affine(y, x, n, Centre<float>(joined(hi, lo)), k, w, b, shift);
}

void backward_generic(float* dx, float* pw, float* pb, const float* dy, const float* w, float ws,
                      const float* x, int64_t n, float hi, float lo, float k_g, float m_g,
                      float k_x) {
  norm::backward_run(dx, pw, pb, dy, w, ws, x, n, Centre<float>(joined(hi, lo)), k_g, m_g, k_x);
}

#define FASTNN_NORM_OPS(ns)                                                                      \
  NormOpsF32 {                                                                                   \
    &ns::norm_sum_f32, &ns::norm_centered_sq_f32, &ns::norm_grad_sums_f32, &ns::norm_affine_f32, \
        &ns::norm_backward_f32, &ns::norm_col_add_f32, &ns::norm_col_add_centered_sq_f32,        \
        &ns::norm_col_add_grad_f32, &ns::norm_col_affine_f32, &ns::norm_col_backward_f32         \
  }
const IsaTable<NormOpsF32> kNormOps{{{
    NormOpsF32{&sum_generic, &centered_sq_generic, &grad_sums_generic, &affine_generic,
               &backward_generic, &col_add<float, float>, &col_add_centered_sq<float, float>,
               &col_add_grad<float, float>, &col_affine<float>, &col_backward<float>},
    FASTNN_NORM_OPS(avx2),
    FASTNN_NORM_OPS(avx512),
}}};
#undef FASTNN_NORM_OPS

}  // namespace

const NormOpsF32& norm_ops_f32() { return kNormOps[active_isa()]; }

}  // namespace fastnn
