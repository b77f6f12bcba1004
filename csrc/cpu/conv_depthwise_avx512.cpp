// Depthwise conv2d for AVX-512: the per-plane loops (cpu/conv_depthwise_planes.h) on 64-byte
// vectors of float, and the lanes path for small planes. cpu/conv_depthwise.cpp picks them at run
// time.
//
// The lanes path: on a 7 x 7 plane the per-plane loops spend most of their time setting up rows
// of seven. Here 16 channels go through together, a pixel's 16 channels being one vector: the
// planes are transposed in 16 x 16 blocks into a zero-bordered pixel-major buffer, each output
// pixel is then taps fused multiply-adds of whole vectors (no row ends, no spare columns), and
// the results are transposed back. The weight gradient needs no horizontal sums either: lane l
// of tap t's sum is channel l's.
#include <immintrin.h>
#include <string.h>

#define FASTNN_VEC_NS avx512
#include "cpu/conv_depthwise_planes.h"
#include "cpu/lane_mask_avx512.h"

namespace fastnn {
namespace avx512 {
namespace {

// (The maskz forms with every lane on: GCC 12 warns that the plain forms' undefined source may be
// used uninitialised.)
constexpr __mmask16 kAll = 0xFFFF;

// r[i] lane j <-> r[j] lane i: pairs of rows interleaved, then pairs of pairs, then 128-bit lanes
// regrouped twice.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_maskz_unpacklo_ps(kAll, r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_maskz_unpackhi_ps(kAll, r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 4; ++k) {  // u[4k + m], 128-bit lane L: rows 4k..4k+3 at column 4L + m
    u[4 * k] = _mm512_maskz_shuffle_ps(kAll, t[4 * k], t[4 * k + 2], 0x44);
    u[4 * k + 1] = _mm512_maskz_shuffle_ps(kAll, t[4 * k], t[4 * k + 2], 0xEE);
    u[4 * k + 2] = _mm512_maskz_shuffle_ps(kAll, t[4 * k + 1], t[4 * k + 3], 0x44);
    u[4 * k + 3] = _mm512_maskz_shuffle_ps(kAll, t[4 * k + 1], t[4 * k + 3], 0xEE);
  }
  for (int m = 0; m < 4; ++m) {
    const __m512 v0 = _mm512_maskz_shuffle_f32x4(kAll, u[m], u[4 + m], 0x44);
    const __m512 v1 = _mm512_maskz_shuffle_f32x4(kAll, u[m], u[4 + m], 0xEE);
    const __m512 v2 = _mm512_maskz_shuffle_f32x4(kAll, u[8 + m], u[12 + m], 0x44);
    const __m512 v3 = _mm512_maskz_shuffle_f32x4(kAll, u[8 + m], u[12 + m], 0xEE);
    r[m] = _mm512_maskz_shuffle_f32x4(kAll, v0, v2, 0x88);
    r[4 + m] = _mm512_maskz_shuffle_f32x4(kAll, v0, v2, 0xDD);
    r[8 + m] = _mm512_maskz_shuffle_f32x4(kAll, v1, v3, 0x88);
    r[12 + m] = _mm512_maskz_shuffle_f32x4(kAll, v1, v3, 0xDD);
  }
}

// px[k] = the 16 channels of pixel k (k < n <= 16) of the 16 planes from src, `stride` apart.
inline void load_pixels(__m512 px[16], const float* src, int64_t stride, int64_t n) {
  const __mmask16 m = lanes(0, n);
  for (int l = 0; l < 16; ++l) px[l] = _mm512_maskz_loadu_ps(m, src + l * stride);
  transpose16(px);
}

// The inverse: pixels k < n of px into the 16 planes from dst.
inline void store_pixels(float* dst, int64_t stride, int64_t n, __m512 px[16]) {
  transpose16(px);
  const __mmask16 m = lanes(0, n);
  for (int l = 0; l < 16; ++l) _mm512_mask_storeu_ps(dst + l * stride, m, px[l]);
}

// The 16 planes from src (n pixels each) into the pixel-major buffer, pixel p at at[p] (at
// nullptr: pixel p at p).
void gather_planes(float* buf, const float* src, int64_t n, const int64_t* at) {
  for (int64_t p0 = 0; p0 < n; p0 += 16) {
    const int64_t m = n - p0 < 16 ? n - p0 : 16;
    __m512 px[16];
    load_pixels(px, src + p0, n, m);
    for (int64_t k = 0; k < m; ++k) _mm512_storeu_ps(buf + 16 * (at ? at[p0 + k] : p0 + k), px[k]);
  }
}

// The inverse of gather_planes.
void scatter_planes(float* dst, const float* buf, int64_t n, const int64_t* at) {
  for (int64_t p0 = 0; p0 < n; p0 += 16) {
    const int64_t m = n - p0 < 16 ? n - p0 : 16;
    __m512 px[16];
    for (int64_t k = 0; k < m; ++k) px[k] = _mm512_loadu_ps(buf + 16 * (at ? at[p0 + k] : p0 + k));
    for (int64_t k = m; k < 16; ++k) px[k] = _mm512_setzero_ps();
    store_pixels(dst + p0, n, m, px);
  }
}

// wv[t] = the 16 channels' weights of tap t.
void block_weights(float* wv, const float* w, int64_t c0, int64_t taps) {
  for (int64_t t = 0; t < taps; ++t)
    for (int l = 0; l < 16; ++l) wv[16 * t + l] = w[(c0 + l) * taps + t];
}

// fn(n, c0) for the blocks k0..k1 (image n, channels c0..c0+15), wv holding their weights.
template <class Fn>
void each_block(const DepthwiseLayout& f, const float* w, float* wv, int64_t k0, int64_t k1,
                Fn fn) {
  const int64_t blocks = f.g.C / 16;
  int64_t loaded = -1;
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t n = k / blocks, c0 = k % blocks * 16;
    if (c0 != loaded) block_weights(wv, w, c0, f.taps), loaded = c0;
    fn(n, c0);
  }
}

// Output pixel q's sums, taps in order (T > 0: T taps, unrolled; T = 0: f.taps).
template <int T>
inline __m512 tap_sum(const float* X, const float* wv, const DepthwiseLayout& f, int64_t q) {
  const float* base = X + 16 * f.out_at[q];
  const int64_t taps = T ? T : f.taps;
  __m512 a = _mm512_setzero_ps();
  for (int64_t t = 0; t < taps; ++t)
    a = _mm512_fmadd_ps(_mm512_loadu_ps(wv + 16 * t), _mm512_loadu_ps(base + 16 * f.tap_at[t]), a);
  return a;
}

template <int T>
void lanes_forward_t(float* y, const float* x, const float* w, const float* b,
                     const DepthwiseLayout& f, int64_t k0, int64_t k1, float* X, float* wv) {
  const Conv2dGeom& g = f.g;
  const int64_t HW = g.H * g.W, Q = g.Ho * g.Wo;
  each_block(f, w, wv, k0, k1, [&](int64_t n, int64_t c0) {
    gather_planes(X, x + (n * g.C + c0) * HW, HW, f.pix_at);
    const __m512 bias = b ? _mm512_loadu_ps(b + c0) : _mm512_setzero_ps();
    float* ys = y + (n * g.C + c0) * Q;
    for (int64_t q0 = 0; q0 < Q; q0 += 16) {
      const int64_t m = Q - q0 < 16 ? Q - q0 : 16;
      __m512 acc[16];
      for (int64_t j = 0; j < m; ++j) acc[j] = _mm512_add_ps(tap_sum<T>(X, wv, f, q0 + j), bias);
      for (int64_t j = m; j < 16; ++j) acc[j] = _mm512_setzero_ps();
      store_pixels(ys + q0, Q, m, acc);
    }
  });
}

void lanes_forward(float* y, const float* x, const float* w, const float* b,
                   const DepthwiseLayout& f, int64_t k0, int64_t k1, float* X, float* wv) {
  if (f.taps == 9) return lanes_forward_t<9>(y, x, w, b, f, k0, k1, X, wv);
  lanes_forward_t<0>(y, x, w, b, f, k0, k1, X, wv);
}

// Each output pixel adds w dy into the taps it read (the forward reversed, any stride); the
// border's sums are dropped.
void lanes_input_grad(float* dx, const float* dy, const float* w, const DepthwiseLayout& f,
                      int64_t k0, int64_t k1, float* X, float* Y, float* wv) {
  const Conv2dGeom& g = f.g;
  const int64_t HW = g.H * g.W, Q = g.Ho * g.Wo;
  each_block(f, w, wv, k0, k1, [&](int64_t n, int64_t c0) {
    gather_planes(Y, dy + (n * g.C + c0) * Q, Q, nullptr);
    memset(X, 0, sizeof(float) * 16 * f.Hp * f.Wp);
    for (int64_t q = 0; q < Q; ++q) {
      const __m512 d = _mm512_loadu_ps(Y + 16 * q);
      float* base = X + 16 * f.out_at[q];
      for (int64_t t = 0; t < f.taps; ++t) {
        float* p = base + 16 * f.tap_at[t];
        _mm512_storeu_ps(p, _mm512_fmadd_ps(_mm512_loadu_ps(wv + 16 * t), d, _mm512_loadu_ps(p)));
      }
    }
    scatter_planes(dx + (n * g.C + c0) * HW, X, HW, f.pix_at);
  });
}

// dw and db of channel blocks c0..c1 (in blocks of 16): per image, each tap's products over the
// output pixels in four running vectors (lane l = channel l), added in double after the image.
void lanes_weight_grad(float* dw, float* db, const float* dy, const float* x,
                       const DepthwiseLayout& f, int64_t c0, int64_t c1, float* X, float* Y,
                       double* acc) {
  const Conv2dGeom& g = f.g;
  const int64_t HW = g.H * g.W, Q = g.Ho * g.Wo, stride = 16 * (f.taps + 1);
  for (int64_t k = 0; k < (c1 - c0) * stride; ++k) acc[k] = 0.0;
  // (4-way unrolled sum over the pixels: Q / 4 * 4 of them, then the rest)
  auto add = [](double* a, __m512 s) {
    const __m256 lo = __builtin_shufflevector(s, s, 0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 hi = __builtin_shufflevector(s, s, 8, 9, 10, 11, 12, 13, 14, 15);
    _mm512_storeu_pd(a, _mm512_add_pd(_mm512_loadu_pd(a), _mm512_maskz_cvtps_pd(0xFF, lo)));
    _mm512_storeu_pd(a + 8, _mm512_add_pd(_mm512_loadu_pd(a + 8), _mm512_maskz_cvtps_pd(0xFF, hi)));
  };
  for (int64_t cb = c0; cb < c1; ++cb) {
    double* a = acc + (cb - c0) * stride;
    for (int64_t n = 0; n < g.N; ++n) {
      const int64_t off = n * g.C + 16 * cb;
      gather_planes(Y, dy + off * Q, Q, nullptr);
      if (db) {
        __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                       _mm512_setzero_ps()};
        int64_t q = 0;
        for (; q + 4 <= Q; q += 4)
          for (int j = 0; j < 4; ++j) s[j] = _mm512_add_ps(s[j], _mm512_loadu_ps(Y + 16 * (q + j)));
        for (; q < Q; ++q) s[0] = _mm512_add_ps(s[0], _mm512_loadu_ps(Y + 16 * q));
        add(a + 16 * f.taps, _mm512_add_ps(_mm512_add_ps(s[0], s[1]), _mm512_add_ps(s[2], s[3])));
      }
      if (!dw) continue;
      gather_planes(X, x + off * HW, HW, f.pix_at);
      for (int64_t t = 0; t < f.taps; ++t) {
        const float* xt = X + 16 * f.tap_at[t];
        __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                       _mm512_setzero_ps()};
        int64_t q = 0;
        for (; q + 4 <= Q; q += 4)
          for (int j = 0; j < 4; ++j)
            s[j] = _mm512_fmadd_ps(_mm512_loadu_ps(Y + 16 * (q + j)),
                                   _mm512_loadu_ps(xt + 16 * f.out_at[q + j]), s[j]);
        for (; q < Q; ++q)
          s[0] = _mm512_fmadd_ps(_mm512_loadu_ps(Y + 16 * q),
                                 _mm512_loadu_ps(xt + 16 * f.out_at[q]), s[0]);
        add(a + 16 * t, _mm512_add_ps(_mm512_add_ps(s[0], s[1]), _mm512_add_ps(s[2], s[3])));
      }
    }
    for (int l = 0; l < 16; ++l) {
      const int64_t c = 16 * cb + l;
      if (dw)
        for (int64_t t = 0; t < f.taps; ++t) dw[c * f.taps + t] = static_cast<float>(a[16 * t + l]);
      if (db) db[c] = static_cast<float>(a[16 * f.taps + l]);
    }
  }
}

}  // namespace

const DepthwiseLoops kDepthwiseLoops = loops<64>();
const DepthwiseLaneLoops kDepthwiseLaneLoops = {lanes_forward, lanes_input_grad, lanes_weight_grad};

}  // namespace avx512
}  // namespace fastnn
