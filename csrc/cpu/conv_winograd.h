// conv2d by Winograd F(2x2, 3x3) (conv_winograd.cpp): 3x3 kernels, stride 1, dilation 1, float32,
// on the AVX-512 and AVX2 paths. Each output tile of 2x2 pixels is computed from a 4x4 input tile
// with 16 multiplies per (input, output) channel pair instead of 36, so the GEMMs do 2.25x fewer
// flops.
// Each entry point returns false, having written nothing the caller keeps, where it does not apply
// (another kernel size or stride, float64, too few channels, the generic path, switched off) or
// where an input holds an Inf or NaN: the transforms add and subtract neighbouring values, so a
// non-finite value would spread to outputs the direct sum leaves finite. The caller then takes
// packed im2col.
#pragma once
#include <cstdint>

#include "cpu/fastnn_cpu.h"

namespace fastnn {

// Whether the layer is one Winograd takes (the kernel, stride, dilation, channels, ISA and switch;
// whether the values are finite is only known inside each call).
bool conv2d_winograd_applies(const Conv2dGeom& g, int64_t C_out);

bool conv2d_forward_winograd(float* y, const float* x, const float* w, const float* b,
                             const Conv2dGeom& g, int64_t C_out);
// dx (N, C, H, W) and dW (C_out, C, 3, 3) from dy, x and w; either may be nullptr (not asked
// for). With both, one pass transforms each block of dy once for the two. Says which it computed
// (and overwrote); each one's bits are the same whether or not the other was asked for.
struct WinogradGrads {
  bool dx = false, dw = false;
};
WinogradGrads conv2d_backward_winograd(float* dx, float* dw, const float* dy, const float* x,
                                       const float* w, const Conv2dGeom& g, int64_t C_out);

// Process-wide switch (on by default): off, every conv2d takes packed im2col.
void set_conv_winograd(bool enabled);
bool conv_winograd_enabled();

}  // namespace fastnn
