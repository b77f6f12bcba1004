// The inner loops of packed im2col (cpu/conv_gemm.cpp, [note: packed im2col]) for one run of output
// pixels: one image, one output row oh, output columns ow in [a, b). Plain declarations only: the
// generic bodies are in conv_gemm.cpp, the AVX-512 ones (masked loads and stores, so the padding
// zeros and the short rows cost no branches) in conv_gemm_avx512.cpp.
#pragma once
#include <cstdint>

namespace fastnn {

// The convolution geometry of one image, and per kernel column j the output columns whose input
// column lies inside the image: ow in [lo[j], hi[j]).
struct ConvRunGeom {
  int64_t C, H, W, kh, kw, sh, sw, ph, pw, dh, dw;
  const int64_t* lo;
  const int64_t* hi;
};

// pack: d[k*ld + (ow - a)] = patch row k = (c*kh + i)*kw + j of pixel (oh, ow) of the image xn
// (C, H, W), zero in the padding, for k < C*kh*kw and ow in [a, b).
// unpack (its adjoint): dxn[c, ih, iw] += s[k*ld + (ow - a)] for every such k and ow whose input
// pixel (ih, iw) lies inside the image.
using ConvPackRunF32 = void (*)(float* d, int64_t ld, const float* xn, const ConvRunGeom& g,
                                int64_t oh, int64_t a, int64_t b);
using ConvPackRunF64 = void (*)(double* d, int64_t ld, const double* xn, const ConvRunGeom& g,
                                int64_t oh, int64_t a, int64_t b);
using ConvUnpackRunF32 = void (*)(float* dxn, const float* s, int64_t ld, const ConvRunGeom& g,
                                  int64_t oh, int64_t a, int64_t b);
using ConvUnpackRunF64 = void (*)(double* dxn, const double* s, int64_t ld, const ConvRunGeom& g,
                                  int64_t oh, int64_t a, int64_t b);

void conv_pack_run_f32_avx512(float* d, int64_t ld, const float* xn, const ConvRunGeom& g,
                              int64_t oh, int64_t a, int64_t b);
void conv_pack_run_f64_avx512(double* d, int64_t ld, const double* xn, const ConvRunGeom& g,
                              int64_t oh, int64_t a, int64_t b);
void conv_unpack_run_f32_avx512(float* dxn, const float* s, int64_t ld, const ConvRunGeom& g,
                                int64_t oh, int64_t a, int64_t b);
void conv_unpack_run_f64_avx512(double* dxn, const double* s, int64_t ld, const ConvRunGeom& g,
                                int64_t oh, int64_t a, int64_t b);

}  // namespace fastnn
