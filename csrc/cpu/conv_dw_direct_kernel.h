// The AVX-512 body of conv_dw_direct.cpp, in conv_dw_direct_avx512.cpp. Plain declarations only, so
// the ISA unit includes nothing that defines inline code (see [note: ISA units] in CMakeLists.txt).
#pragma once
#include <cstdint>

namespace fastnn {

struct DwDirectGeom {
  int64_t C, H, W, O, Ho, Wo;
  int64_t kh, kw, ph, pw, dh, dw;
};

// Most kernel taps and output columns the kernel takes (conv_dw_direct.cpp checks both).
constexpr int64_t kDwDirectTaps = 9;
constexpr int64_t kDwDirectMaxWo = 1024;

// Over images [n0, n1): w[o*K + k] = the sum of dy * x for weight k = (c*kh + i)*kw + j of output
// channel o (K = C*kh*kw), and b[o] = the sum of dy when b is not null; both overwritten.
void conv_dw_direct_f32_avx512(float* w, float* b, const float* x, const float* dy,
                               const DwDirectGeom& g, int64_t n0, int64_t n1);

}  // namespace fastnn
