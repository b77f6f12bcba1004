// The run loops the normalization kernels call, one name per job for float and double: float32
// runs go to the active ISA's loops (cpu/norm_simd.h: float vectors over short chunks, the chunks
// added in double), float64 runs to the double-accumulating loops of cpu/norm_sums.h.
#pragma once
#include <cstdint>

#include "cpu/norm_cols.h"
#include "cpu/norm_simd.h"
#include "cpu/norm_sums.h"

namespace fastnn::norm {

inline double run_sum(const double* x, int64_t n) { return sum(x, n); }
inline double run_sum(const float* x, int64_t n) { return norm_ops_f32().sum(x, n); }

// sum (x - mean)^2
inline double run_centered_sq(const double* x, int64_t n, double mean) {
  return centered_sq(x, n, mean);
}
inline double run_centered_sq(const float* x, int64_t n, double mean) {
  const Centre<float> c(mean);
  return norm_ops_f32().centered_sq(x, n, c.hi, c.lo);
}

// Adds sum g and sum g (x - mean) to *s_g, *s_gx, g = dy * (w ? w : ws).
inline void run_grad_sums(const double* dy, const double* w, double ws, const double* x, int64_t n,
                          double mean, double* s_g, double* s_gx) {
  weighted_grad_sums(dy, w, ws, x, n, mean, s_g, s_gx);
}
inline void run_grad_sums(const float* dy, const float* w, float ws, const float* x, int64_t n,
                          double mean, double* s_g, double* s_gx) {
  const Centre<float> c(mean);
  norm_ops_f32().grad_sums(dy, w, ws, x, n, c.hi, c.lo, s_g, s_gx);
}

// y = (x - mean) * k * (w ? w : 1) + (b ? b : shift)
inline void run_affine(double* y, const double* x, int64_t n, double mean, double k,
                       const double* w, const double* b, double shift) {
  affine(y, x, n, Centre<double>(mean), k, w, b, shift);
}
inline void run_affine(float* y, const float* x, int64_t n, double mean, float k, const float* w,
                       const float* b, float shift) {
  const Centre<float> c(mean);
  norm_ops_f32().affine(y, x, n, c.hi, c.lo, k, w, b, shift);
}

// dx = k_g (dy (w ? w : ws) - m_g) + k_x (x - mean), dx may be null; pw += dy (x - mean) k_g and
// pb += dy when given.
inline void run_backward(double* dx, double* pw, double* pb, const double* dy, const double* w,
                         double ws, const double* x, int64_t n, double mean, double k_g, double m_g,
                         double k_x) {
  backward_run(dx, pw, pb, dy, w, ws, x, n, Centre<double>(mean), k_g, m_g, k_x);
}
inline void run_backward(float* dx, float* pw, float* pb, const float* dy, const float* w, float ws,
                         const float* x, int64_t n, double mean, float k_g, float m_g, float k_x) {
  const Centre<float> c(mean);
  norm_ops_f32().backward(dx, pw, pb, dy, w, ws, x, n, c.hi, c.lo, k_g, m_g, k_x);
}

// batch_norm's column path (cpu/norm_cols.h): one row of n columns with per-column arrays.
inline void run_col_add(double* acc, const double* x, const double* shift, int64_t n) {
  col_add(acc, x, shift, n);
}
inline void run_col_add(float* acc, const float* x, const float* shift, int64_t n) {
  norm_ops_f32().col_add(acc, x, shift, n);
}
inline void run_col_add_centered_sq(double* acc, const double* x, const double* hi,
                                    const double* lo, int64_t n) {
  col_add_centered_sq(acc, x, hi, lo, n);
}
inline void run_col_add_centered_sq(float* acc, const float* x, const float* hi, const float* lo,
                                    int64_t n) {
  norm_ops_f32().col_add_centered_sq(acc, x, hi, lo, n);
}
inline void run_col_add_grad(double* a, double* b, const double* dy, const double* x,
                             const double* hi, const double* lo, int64_t n) {
  col_add_grad(a, b, dy, x, hi, lo, n);
}
inline void run_col_add_grad(float* a, float* b, const float* dy, const float* x, const float* hi,
                             const float* lo, int64_t n) {
  norm_ops_f32().col_add_grad(a, b, dy, x, hi, lo, n);
}
inline void run_col_affine(double* y, const double* x, const double* hi, const double* lo,
                           const double* k, const double* shift, int64_t n) {
  col_affine(y, x, hi, lo, k, shift, n);
}
inline void run_col_affine(float* y, const float* x, const float* hi, const float* lo,
                           const float* k, const float* shift, int64_t n) {
  norm_ops_f32().col_affine(y, x, hi, lo, k, shift, n);
}
inline void run_col_backward(double* dx, const double* dy, const double* x, const double* hi,
                             const double* lo, const double* k_g, const double* m_g,
                             const double* k_x, int64_t n) {
  col_backward(dx, dy, x, hi, lo, k_g, m_g, k_x, n);
}
inline void run_col_backward(float* dx, const float* dy, const float* x, const float* hi,
                             const float* lo, const float* k_g, const float* m_g, const float* k_x,
                             int64_t n) {
  norm_ops_f32().col_backward(dx, dy, x, hi, lo, k_g, m_g, k_x, n);
}

}  // namespace fastnn::norm
