// max_pool2d 2x2 stride 2 (no padding, no dilation) with a compact window code: for each output
// one byte, the tap of the window that holds the max in scan order (0: (0,0), 1: (0,1), 2: (1,0),
// 3: (1,1)), chosen by the same rule as the int64 indices of max_pool2d_forward_cpu (NaN wins,
// the first of equal maxima keeps it). Training keeps this code for the backward instead of the
// int64 flat indices: an eighth of the bytes to write and read again, which is most of the
// traffic on small planes. Ho = H / 2, Wo = W / 2 (rounded down); an odd last row or column of
// the input is in no window. Implemented in cpu/pool.cpp; work is split over (n, c) planes.
#pragma once
#include <stdint.h>

#include "cpu/fastnn_cpu.h"

namespace fastnn {

void max_pool2d_2x2_code_forward_cpu(float* y, uint8_t* code, const float* x, const Conv2dGeom& g);
void max_pool2d_2x2_code_forward_cpu(double* y, uint8_t* code, const double* x,
                                     const Conv2dGeom& g);
// Overwrites dx (dy at each window's coded tap, 0 elsewhere). Returns -1, or the flat position of
// the first code above 3 (dx is then unspecified).
int64_t max_pool2d_2x2_code_backward_cpu(float* dx, const float* dy, const uint8_t* code,
                                         const Conv2dGeom& g);
int64_t max_pool2d_2x2_code_backward_cpu(double* dx, const double* dy, const uint8_t* code,
                                         const Conv2dGeom& g);

}  // namespace fastnn
