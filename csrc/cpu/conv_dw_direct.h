// conv2d's weight and bias gradients for layers with few patch rows (an image's first layer: one
// or three input channels, a 3x3 kernel), stride 1, float32 on AVX-512 (conv_dw_direct.cpp). There
// the packed-panel path spends its time transposing nine-row panels for a product of nine; this
// one correlates dy with x directly: dW[o, c, i, j] = sum over n, oh, ow of dy[n, o, oh, ow] *
// x[n, c, oh - ph + i*dh, ow - pw + j*dw], with the pixels of an output row as vector lanes.
#pragma once
#include <cstdint>

#include "cpu/fastnn_cpu.h"

namespace fastnn {

// dW (C_out, C, kh, kw) and db (C_out) from dy and x, overwritten; either may be nullptr. Returns
// false, touching nothing, where it does not apply (the caller then takes packed panels).
bool conv2d_backward_weight_direct(float* dw, float* db, const float* dy, const float* x,
                                   const Conv2dGeom& g, int64_t C_out);

}  // namespace fastnn
