// conv2d for layers with few patch rows (an image's first layer: one or three input channels, a
// 3x3 kernel), stride 1, float32 on AVX-512 and AVX2 (conv_direct.cpp): the forward pass and the
// weight and bias gradients. There the packed-panel GEMM spends its time packing and transposing
// nine-row panels for a product of nine; these compute the sums directly, with the pixels of an
// output row as vector lanes. With xp = x and its zero border (ph rows, pw columns each side):
//   y[n, o, oh, ow] = b[o] + sum over c, i, j of w[o, c, i, j] * xp[n, c, oh + i*dh, ow + j*dw]
//   dW[o, c, i, j] = sum over n, oh, ow of dy[n, o, oh, ow] * xp[n, c, oh + i*dh, ow + j*dw]
#pragma once
#include <cstdint>

#include "cpu/fastnn_cpu.h"

namespace fastnn {

// y (N, C_out, Ho, Wo), overwritten; b may be nullptr. Returns false, touching nothing, where it
// does not apply (the caller then takes packed panels).
bool conv2d_forward_direct(float* y, const float* x, const float* w, const float* b,
                           const Conv2dGeom& g, int64_t C_out);

// dW (C_out, C, kh, kw) and db (C_out) from dy and x, overwritten; either may be nullptr. Returns
// false, touching nothing, where it does not apply.
bool conv2d_backward_weight_direct(float* dw, float* db, const float* dy, const float* x,
                                   const Conv2dGeom& g, int64_t C_out);

}  // namespace fastnn
