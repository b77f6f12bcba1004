// max_pool2d's 2x2 stride-2 float32 plane kernels for the vector units. pool_avx512.cpp and
// pool_avx2.cpp include their vec_*.h (which defines FASTNN_VEC_NS, V and vstore_part), define
// vdeinterleave (even / odd lanes of 2*W floats), vinterleave_store (its inverse), their _part
// versions for the first n < W outputs, vstore_codes and vload_codes (n <= W window codes between
// float lanes and bytes), mor (mask or) and kWholeTail (below), then this header; cpu/pool.cpp
// declares the entry points only and picks one per call from its IsaTable.
//
// kWholeTail: a row's last, partial block of outputs runs on whole vectors where that stays
// inside the plane (not on its last row, planes at least W wide): the extra lanes read the next
// input rows and write outputs of the next rows, which those rows then rewrite in order. Where
// partial loads and stores are slow (AVX2 on AMD cores) this spares a 14x14 plane, whose rows
// are all partial, most of its time.
//
// Forward: four taps per output in scan order (0,0), (0,1), (1,0), (1,1); a tap replaces the
// running max when greater or NaN, so the result and its index follow the scalar rule exactly.
// Backward: each dx element of a 2x2 window gets dy or 0 by comparing its index, so every dx
// element is written once, no zero-fill pass.
#pragma once
#include <stdint.h>

namespace fastnn {

#define FASTNN_POOL_SIMD_ENTRIES                                                                  \
  void max_pool_2x2_plane_f32(float* y, int64_t* idx, const float* x, int64_t H, int64_t width,   \
                              int64_t Ho, int64_t Wo);                                            \
  bool max_pool_2x2_backward_plane_f32(float* dx, const float* dy, const int64_t* idx, int64_t H, \
                                       int64_t width, int64_t Ho, int64_t Wo);                    \
  void max_pool_2x2_code_plane_f32(float* y, uint8_t* code, const float* x, int64_t H,            \
                                   int64_t width, int64_t Ho, int64_t Wo);                        \
  bool max_pool_2x2_code_backward_plane_f32(float* dx, const float* dy, const uint8_t* code,      \
                                            int64_t H, int64_t width, int64_t Ho, int64_t Wo);
namespace avx512 {
FASTNN_POOL_SIMD_ENTRIES
}
namespace avx2 {
FASTNN_POOL_SIMD_ENTRIES
}
#undef FASTNN_POOL_SIMD_ENTRIES

#ifdef FASTNN_VEC_NS
namespace FASTNN_VEC_NS {
namespace {

// One block of W outputs from the rows r0, r1 (2*W floats each): the max and its tap code
// 0..3 for (0,0), (0,1), (1,0), (1,1).
// n < W: only the first n outputs (the row's end), the other lanes work on zeros.
inline void max_block(const float* r0, const float* r1, int64_t n, V& best, V& k) {
  V a, b, c, d;
  if (n == W) {
    vdeinterleave(r0, a, b);
    vdeinterleave(r1, c, d);
  } else {
    vdeinterleave_part(r0, n, a, b);
    vdeinterleave_part(r1, n, c, d);
  }
  best = a;
  k = vset(0.0f);
  M t = mor(vgt(b, best), visnan(b));
  best = vselect(t, b, best);
  k = vselect(t, vset(1.0f), k);
  t = mor(vgt(c, best), visnan(c));
  best = vselect(t, c, best);
  k = vselect(t, vset(2.0f), k);
  t = mor(vgt(d, best), visnan(d));
  best = vselect(t, d, best);
  k = vselect(t, vset(3.0f), k);
}

// Whether output row oh may end on a whole vector (see kWholeTail in the header comment): its
// spill stays within the plane's later rows when oh is not the last row and W <= width.
inline bool whole_tail(int64_t oh, int64_t Ho, int64_t width) {
  return kWholeTail && oh + 1 < Ho && W <= width;
}

// The tap codes of n <= W indices (0 for one outside its window, which sets *bad).
inline void codes_of(float* code, const int64_t* ir, int64_t n, int64_t first, int64_t width,
                     int32_t* bad) {
  int32_t miss = 0;
  for (int64_t l = 0; l < n; ++l) {
    const int64_t k = ir[l] - first - 2 * l;
    const int32_t k1 = k == 1, k2 = k == width, k3 = k == width + 1;
    miss |= !((k == 0) | k1 | k2 | k3);
    code[l] = static_cast<float>(k1 + 2 * k2 + 3 * k3);
  }
  *bad |= miss;
}

// dx's two rows for W outputs from dy g and the tap codes k.
inline void scatter_block(float* d0, float* d1, int64_t n, V g, V k) {
  const V zero = vset(0.0f);
  const V e0 = vselect(veq(k, zero), g, zero), o0 = vselect(veq(k, vset(1.0f)), g, zero);
  const V e1 = vselect(veq(k, vset(2.0f)), g, zero), o1 = vselect(veq(k, vset(3.0f)), g, zero);
  if (n == W) {
    vinterleave_store(d0, e0, o0);
    vinterleave_store(d1, e1, o1);
  } else {
    vinterleave_store_part(d0, n, e0, o0);
    vinterleave_store_part(d1, n, e1, o1);
  }
}

}  // namespace

void max_pool_2x2_plane_f32(float* y, int64_t* idx, const float* x, int64_t H, int64_t width,
                            int64_t Ho, int64_t Wo) {
  float code[W];
  for (int64_t oh = 0; oh < Ho; ++oh) {
    const float* r0 = x + 2 * oh * width;
    const float* r1 = r0 + width;
    float* yr = y + oh * Wo;
    int64_t* ir = idx + oh * Wo;
    const int64_t base = 2 * oh * width;
    const bool whole = whole_tail(oh, Ho, width);
    for (int64_t ow = 0; ow < Wo; ow += W) {
      const int64_t n = Wo - ow < W && !whole ? Wo - ow : W;
      V best, k;
      max_block(r0 + 2 * ow, r1 + 2 * ow, n, best, k);
      if (n == W)
        vstore(yr + ow, best);
      else
        vstore_part(yr + ow, best, n);
      vstore(code, k);
      for (int64_t l = 0; l < n; ++l) {
        const int32_t kk = static_cast<int32_t>(code[l]);
        ir[ow + l] = base + 2 * (ow + l) + (kk & 1) + (kk >> 1) * width;
      }
    }
  }
}

bool max_pool_2x2_backward_plane_f32(float* dx, const float* dy, const int64_t* idx, int64_t H,
                                     int64_t width, int64_t Ho, int64_t Wo) {
  float code[W];
  int32_t bad = 0;
  for (int64_t oh = 0; oh < Ho; ++oh) {
    float* d0 = dx + 2 * oh * width;
    float* d1 = d0 + width;
    const float* gr = dy + oh * Wo;
    const int64_t* ir = idx + oh * Wo;
    const int64_t base = 2 * oh * width;
    for (int64_t ow = 0; ow < Wo; ow += W) {
      const int64_t n = Wo - ow < W ? Wo - ow : W;
      codes_of(code, ir + ow, n, base + 2 * ow, width, &bad);
      const V g = n == W ? vload(gr + ow) : vload_part(gr + ow, n, 0.0f);
      const V k = n == W ? vload(code) : vload_part(code, n, -1.0f);
      scatter_block(d0 + 2 * ow, d1 + 2 * ow, n, g, k);
    }
    for (int64_t w = 2 * Wo; w < width; ++w) d0[w] = d1[w] = 0.0f;
  }
  for (int64_t i = 2 * Ho * width; i < H * width; ++i) dx[i] = 0.0f;
  return bad == 0;
}

// The same two with the window code (0..3, the tap in scan order) in place of the int64 index:
// one byte per output instead of eight. The backward returns false when a code is above 3.
void max_pool_2x2_code_plane_f32(float* y, uint8_t* code, const float* x, int64_t H, int64_t width,
                                 int64_t Ho, int64_t Wo) {
  for (int64_t oh = 0; oh < Ho; ++oh) {
    const float* r0 = x + 2 * oh * width;
    const float* r1 = r0 + width;
    float* yr = y + oh * Wo;
    uint8_t* cr = code + oh * Wo;
    const bool whole = whole_tail(oh, Ho, width);
    for (int64_t ow = 0; ow < Wo; ow += W) {
      const int64_t n = Wo - ow < W && !whole ? Wo - ow : W;
      V best, k;
      max_block(r0 + 2 * ow, r1 + 2 * ow, n, best, k);
      if (n == W)
        vstore(yr + ow, best);
      else
        vstore_part(yr + ow, best, n);
      vstore_codes(cr + ow, k, n);
    }
  }
}

bool max_pool_2x2_code_backward_plane_f32(float* dx, const float* dy, const uint8_t* code,
                                          int64_t H, int64_t width, int64_t Ho, int64_t Wo) {
  bool bad = false;
  for (int64_t oh = 0; oh < Ho; ++oh) {
    float* d0 = dx + 2 * oh * width;
    float* d1 = d0 + width;
    const float* gr = dy + oh * Wo;
    const uint8_t* cr = code + oh * Wo;
    // One block per row only: a later block's d0 spill would land on this row's d1, written.
    const bool whole = Wo <= W && whole_tail(oh, Ho, width);
    for (int64_t ow = 0; ow < Wo; ow += W) {
      const int64_t n = Wo - ow < W && !whole ? Wo - ow : W;
      const V g = n == W ? vload(gr + ow) : vload_part(gr + ow, n, 0.0f);
      const V k = vload_codes(cr + ow, n, bad);
      scatter_block(d0 + 2 * ow, d1 + 2 * ow, n, g, k);
    }
    for (int64_t w = 2 * Wo; w < width; ++w) d0[w] = d1[w] = 0.0f;
  }
  for (int64_t i = 2 * Ho * width; i < H * width; ++i) dx[i] = 0.0f;
  return !bad;
}

}  // namespace FASTNN_VEC_NS
#endif  // FASTNN_VEC_NS

}  // namespace fastnn
