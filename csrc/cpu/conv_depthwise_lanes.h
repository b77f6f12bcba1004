// Depthwise conv2d's lanes path, written once over a vector-traits struct S and compiled by
// conv_depthwise_avx512.cpp (16 channels a vector) and conv_depthwise_avx2.cpp (8); the driver,
// cpu/conv_depthwise.cpp, picks it for small planes.
//
// On a 7 x 7 plane the per-plane loops spend most of their time setting up rows of seven. Here
// S::L channels go through together, a pixel's channels being one vector: the planes are
// transposed in L x L blocks into a zero-bordered pixel-major buffer, each output pixel is then
// taps fused multiply-adds of whole vectors (no row ends, no spare columns), and the results are
// transposed back. The weight gradient needs no horizontal sums either: lane l of tap t's sum is
// channel l's.
//
// S provides: V and L (lanes); zero, loadu, storeu, add, fmadd; load_n(p, n) (the first n lanes,
// zeros past them, nothing read past p + n) and store_n(p, v, n) (nothing written past p + n);
// transpose(V r[L]) (r[i] lane j <-> r[j] lane i); add_to(double* a, V s) (a[l] += s lane l).
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS (the unit's ISA namespace) before including conv_depthwise_lanes.h"
#endif
#include <string.h>

#include <cstdint>

#include "cpu/conv_depthwise.h"

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

template <class S>
struct LanePath {
  using V = typename S::V;
  static constexpr int64_t L = S::L;

  // px[k] = the L channels of pixel k (k < n <= L) of the L planes from src, `stride` apart.
  static void load_pixels(V px[L], const float* src, int64_t stride, int64_t n) {
    for (int64_t l = 0; l < L; ++l) px[l] = S::load_n(src + l * stride, n);
    S::transpose(px);
  }

  // The inverse: pixels k < n of px into the L planes from dst.
  static void store_pixels(float* dst, int64_t stride, int64_t n, V px[L]) {
    S::transpose(px);
    for (int64_t l = 0; l < L; ++l) S::store_n(dst + l * stride, px[l], n);
  }

  // The L planes from src (n pixels each) into the pixel-major buffer, pixel p at at[p] (at
  // nullptr: pixel p at p).
  static void gather_planes(float* buf, const float* src, int64_t n, const int64_t* at) {
    for (int64_t p0 = 0; p0 < n; p0 += L) {
      const int64_t m = n - p0 < L ? n - p0 : L;
      V px[L];
      load_pixels(px, src + p0, n, m);
      for (int64_t k = 0; k < m; ++k) S::storeu(buf + L * (at ? at[p0 + k] : p0 + k), px[k]);
    }
  }

  // The inverse of gather_planes.
  static void scatter_planes(float* dst, const float* buf, int64_t n, const int64_t* at) {
    for (int64_t p0 = 0; p0 < n; p0 += L) {
      const int64_t m = n - p0 < L ? n - p0 : L;
      V px[L];
      for (int64_t k = 0; k < m; ++k) px[k] = S::loadu(buf + L * (at ? at[p0 + k] : p0 + k));
      for (int64_t k = m; k < L; ++k) px[k] = S::zero();
      store_pixels(dst + p0, n, m, px);
    }
  }

  // wv[t] = the L channels' weights of tap t.
  static void block_weights(float* wv, const float* w, int64_t c0, int64_t taps) {
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t l = 0; l < L; ++l) wv[L * t + l] = w[(c0 + l) * taps + t];
  }

  // fn(n, c0) for the blocks k0..k1 (image n, channels c0..c0+L-1), wv holding their weights.
  template <class Fn>
  static void each_block(const DepthwiseLayout& f, const float* w, float* wv, int64_t k0,
                         int64_t k1, Fn fn) {
    const int64_t blocks = f.g.C / L;
    int64_t loaded = -1;
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t n = k / blocks, c0 = k % blocks * L;
      if (c0 != loaded) block_weights(wv, w, c0, f.taps), loaded = c0;
      fn(n, c0);
    }
  }

  // Output pixel q's sums, taps in order (T > 0: T taps, unrolled; T = 0: f.taps).
  template <int T>
  static V tap_sum(const float* X, const float* wv, const DepthwiseLayout& f, int64_t q) {
    const float* base = X + L * f.out_at[q];
    const int64_t taps = T ? T : f.taps;
    V a = S::zero();
    for (int64_t t = 0; t < taps; ++t)
      a = S::fmadd(S::loadu(wv + L * t), S::loadu(base + L * f.tap_at[t]), a);
    return a;
  }

  template <int T>
  static void forward_t(float* y, const float* x, const float* w, const float* b,
                        const DepthwiseLayout& f, int64_t k0, int64_t k1, float* X, float* wv) {
    const Conv2dGeom& g = f.g;
    const int64_t HW = g.H * g.W, Q = g.Ho * g.Wo;
    each_block(f, w, wv, k0, k1, [&](int64_t n, int64_t c0) {
      gather_planes(X, x + (n * g.C + c0) * HW, HW, f.pix_at);
      const V bias = b ? S::loadu(b + c0) : S::zero();
      float* ys = y + (n * g.C + c0) * Q;
      for (int64_t q0 = 0; q0 < Q; q0 += L) {
        const int64_t m = Q - q0 < L ? Q - q0 : L;
        V acc[L];
        for (int64_t j = 0; j < m; ++j) acc[j] = S::add(tap_sum<T>(X, wv, f, q0 + j), bias);
        for (int64_t j = m; j < L; ++j) acc[j] = S::zero();
        store_pixels(ys + q0, Q, m, acc);
      }
    });
  }

  static void forward(float* y, const float* x, const float* w, const float* b,
                      const DepthwiseLayout& f, int64_t k0, int64_t k1, float* X, float* wv) {
    if (f.taps == 9) return forward_t<9>(y, x, w, b, f, k0, k1, X, wv);
    forward_t<0>(y, x, w, b, f, k0, k1, X, wv);
  }

  // Each output pixel adds w dy into the taps it read (the forward reversed, any stride); the
  // border's sums are dropped.
  static void input_grad(float* dx, const float* dy, const float* w, const DepthwiseLayout& f,
                         int64_t k0, int64_t k1, float* X, float* Y, float* wv) {
    const Conv2dGeom& g = f.g;
    const int64_t HW = g.H * g.W, Q = g.Ho * g.Wo;
    each_block(f, w, wv, k0, k1, [&](int64_t n, int64_t c0) {
      gather_planes(Y, dy + (n * g.C + c0) * Q, Q, nullptr);
      memset(X, 0, sizeof(float) * L * f.Hp * f.Wp);
      for (int64_t q = 0; q < Q; ++q) {
        const V d = S::loadu(Y + L * q);
        float* base = X + L * f.out_at[q];
        for (int64_t t = 0; t < f.taps; ++t) {
          float* p = base + L * f.tap_at[t];
          S::storeu(p, S::fmadd(S::loadu(wv + L * t), d, S::loadu(p)));
        }
      }
      scatter_planes(dx + (n * g.C + c0) * HW, X, HW, f.pix_at);
    });
  }

  // dw and db of channel blocks c0..c1 (in blocks of L): per image, each tap's products over the
  // output pixels in four running vectors (lane l = channel l), added in double after the image.
  static void weight_grad(float* dw, float* db, const float* dy, const float* x,
                          const DepthwiseLayout& f, int64_t c0, int64_t c1, float* X, float* Y,
                          double* acc) {
    const Conv2dGeom& g = f.g;
    const int64_t HW = g.H * g.W, Q = g.Ho * g.Wo, stride = L * (f.taps + 1);
    for (int64_t k = 0; k < (c1 - c0) * stride; ++k) acc[k] = 0.0;
    // the four running sums' total (4-way unrolled over the pixels: Q / 4 * 4, then the rest)
    auto total = [](const V(&s)[4]) { return S::add(S::add(s[0], s[1]), S::add(s[2], s[3])); };
    for (int64_t cb = c0; cb < c1; ++cb) {
      double* a = acc + (cb - c0) * stride;
      for (int64_t n = 0; n < g.N; ++n) {
        const int64_t off = n * g.C + L * cb;
        gather_planes(Y, dy + off * Q, Q, nullptr);
        if (db) {
          V s[4] = {S::zero(), S::zero(), S::zero(), S::zero()};
          int64_t q = 0;
          for (; q + 4 <= Q; q += 4)
            for (int j = 0; j < 4; ++j) s[j] = S::add(s[j], S::loadu(Y + L * (q + j)));
          for (; q < Q; ++q) s[0] = S::add(s[0], S::loadu(Y + L * q));
          S::add_to(a + L * f.taps, total(s));
        }
        if (!dw) continue;
        gather_planes(X, x + off * HW, HW, f.pix_at);
        for (int64_t t = 0; t < f.taps; ++t) {
          const float* xt = X + L * f.tap_at[t];
          V s[4] = {S::zero(), S::zero(), S::zero(), S::zero()};
          int64_t q = 0;
          for (; q + 4 <= Q; q += 4)
            for (int j = 0; j < 4; ++j)
              s[j] = S::fmadd(S::loadu(Y + L * (q + j)), S::loadu(xt + L * f.out_at[q + j]), s[j]);
          for (; q < Q; ++q)
            s[0] = S::fmadd(S::loadu(Y + L * q), S::loadu(xt + L * f.out_at[q]), s[0]);
          S::add_to(a + L * t, total(s));
        }
      }
      for (int64_t l = 0; l < L; ++l) {
        const int64_t c = L * cb + l;
        if (dw)
          for (int64_t t = 0; t < f.taps; ++t)
            dw[c * f.taps + t] = static_cast<float>(a[L * t + l]);
        if (db) db[c] = static_cast<float>(a[L * f.taps + l]);
      }
    }
  }

  static constexpr DepthwiseLaneLoops loops() { return {L, forward, input_grad, weight_grad}; }
};

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
