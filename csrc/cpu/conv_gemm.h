// conv2d by packed im2col (conv_gemm.cpp): the forward pass and the gradients, on the SIMD
// micro-kernels. Same contract as conv2d_forward_cpu / the dx of conv2d_backward_cpu
// (cpu/fastnn_cpu.h); each returns false, touching nothing, where it does not apply (no SIMD
// kernel on this CPU, or an empty shape), and the caller then takes the chunked im2col path.
#pragma once
#include <cstdint>

#include "cpu/fastnn_cpu.h"

namespace fastnn {

bool conv2d_forward_packed(float* y, const float* x, const float* w, const float* b,
                           const Conv2dGeom& g, int64_t C_out);
bool conv2d_forward_packed(double* y, const double* x, const double* w, const double* b,
                           const Conv2dGeom& g, int64_t C_out);
// dx (N, C, H, W) from dy (N, C_out, Ho, Wo); overwrites dx.
bool conv2d_backward_input_packed(float* dx, const float* dy, const float* w, const Conv2dGeom& g,
                                  int64_t C_out);
bool conv2d_backward_input_packed(double* dx, const double* dy, const double* w,
                                  const Conv2dGeom& g, int64_t C_out);
// dW (C_out, C, kh, kw) and db (C_out) from dy and x, overwritten; either may be nullptr.
bool conv2d_backward_weight_packed(float* dw, float* db, const float* dy, const float* x,
                                   const Conv2dGeom& g, int64_t C_out);
bool conv2d_backward_weight_packed(double* dw, double* db, const double* dy, const double* x,
                                   const Conv2dGeom& g, int64_t C_out);

}  // namespace fastnn
