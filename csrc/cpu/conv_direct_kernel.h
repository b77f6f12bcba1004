// The SIMD bodies of conv_direct.cpp, in conv_direct_avx512.cpp and conv_direct_avx2.cpp. Plain
// declarations only, so the ISA units include nothing that defines inline code (see [note: ISA
// units] in CMakeLists.txt).
#pragma once
#include <cstdint>

namespace fastnn {

// A stride-1 convolution: x (N, C, H, W), y and dy (N, O, Ho, Wo), w (O, C, kh, kw).
struct ConvDirectGeom {
  int64_t C, H, W, O, Ho, Wo;
  int64_t kh, kw, ph, pw, dh, dw;
};

// Most kernel taps, patch rows (C*kh*kw) and output columns the kernels take (conv_direct.cpp
// checks all three). Up to 27 patch rows: three channels of a 3x3 kernel, an RGB image's first
// layer. dW's passes read one input channel per pair of output channels, and the forward pass
// keeps a block's weights for every patch row on the stack: above a few channels packed panels
// cost less.
constexpr int64_t kConvDirectTaps = 9;
constexpr int64_t kConvDirectPatchRows = 27;
constexpr int64_t kConvDirectMaxWo = 1024;
// Output channels one forward pass keeps in registers.
constexpr int64_t kConvDirectBlock = 8;

// Image n of x with its zero border: C planes of S floats, rows of Wp = W + 2*pw floats, zeros
// past the last row for the reads of the last output columns' vector.
struct PaddedImage {
  const float* data;
  int64_t n, Wp, S;
};

// Output channels [o0, o0 + ob) of image xp.n, ob <= kConvDirectBlock: y = the sum over c, i, j
// of w * x, plus b[o] when b is not null; overwritten. With a stage (ob planes of Ho*Wo floats),
// the planes are computed there and then written to y with non-temporal stores.
void conv_direct_forward_f32_avx512(float* y, const PaddedImage& xp, const float* w, const float* b,
                                    const ConvDirectGeom& g, int64_t o0, int64_t ob, float* stage);

// Adds image xp.n's products to dW's running sums, 16-lane vectors in acc (overwritten instead
// when first): for output channels o = 2p + e (e = 0, 1) and weight k = (c*kh + i)*kw + j,
// acc[((p*C + c)*kh*kw + i*kw + j)*32 + e*16 + lane] holds the sum of dy * x; with sums, the sums
// of dy follow, at acc[(P*C*kh*kw + p)*32 + e*16 + lane] with P = (O + 1) / 2 pairs.
void conv_direct_dw_f32_avx512(float* acc, const PaddedImage& xp, const float* dy,
                               const ConvDirectGeom& g, bool first, bool sums);

// The same for AVX2: 8-lane vectors; the sums keep the layout above, lanes 8..15 zero.
void conv_direct_forward_f32_avx2(float* y, const PaddedImage& xp, const float* w, const float* b,
                                  const ConvDirectGeom& g, int64_t o0, int64_t ob, float* stage);
void conv_direct_dw_f32_avx2(float* acc, const PaddedImage& xp, const float* dy,
                             const ConvDirectGeom& g, bool first, bool sums);

}  // namespace fastnn
