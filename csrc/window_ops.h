// The index math of the 2-D window ops (im2col / col2im, max and average pooling) on NCHW planes,
// and their per-element bodies, as FASTNN_HD functions: the CUDA kernels (cuda/conv.cu,
// cuda/pool.cu) run one of these per thread, the CPU pooling kernels (cpu/pool.cpp) share the
// window rules, and tests/test_window_ops.py compiles this header on the host and checks every
// element body against the CPU kernels, so the device arithmetic is tested without a GPU.
//
// Geometry: input (N, C, H, W), window kh x kw, stride sh/sw >= 1, padding ph/pw >= 0, dilation
// dh/dw >= 1, output Ho x Wo (window::out_size, >= 1). Window o of an axis starts at o*s - p; its
// tap t sits at o*s - p + t*d. All index math is int64 (planes may hold more than 2^31 elements).
//
// The backward bodies are gathers: each input element sums, in a fixed order, the outputs whose
// window covers it, so a GPU needs no atomics and the result is the same on every run. The order
// is the one in which the CPU kernels' scatters add (col2im: taps (i, j) in scan order; average
// pooling: windows (oh, ow) in scan order), so both devices add the same values in the same order.
#pragma once
#include <stdint.h>

#include <limits>

#include "hd.h"

namespace fastnn::window {

// Field for field the CPU's Conv2dGeom (cpu/fastnn_cpu.h), which this header cannot include.
struct Geom {
  int64_t N, C, H, W;
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  int64_t Ho, Wo;
};

FASTNN_HD inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
FASTNN_HD inline int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }

// Outputs along one axis: floor((n + 2p - d(k - 1) - 1) / s) + 1, floor division also for a
// negative numerator (an extent below one window gives a size <= 0, which callers reject).
FASTNN_HD inline int64_t out_size(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d) {
  const int64_t num = n + 2 * p - d * (k - 1) - 1;
  return (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
}

// The taps [lo, hi) of a window starting at p0 (dilation d, k taps) that fall inside [0, n).
// Empty (lo >= hi) only when every tap misses the input, which padding <= k/2 rules out for
// d == 1 but not for a large dilation.
FASTNN_HD inline void taps(int64_t p0, int64_t d, int64_t k, int64_t n, int64_t& lo, int64_t& hi) {
  lo = p0 < 0 ? (-p0 + d - 1) / d : 0;
  hi = n - p0 <= 0 ? 0 : min_i64(k, (n - p0 + d - 1) / d);
}

// The output o whose window puts tap `tap` on input position x, or -1 when there is none.
FASTNN_HD inline int64_t tap_source(int64_t x, int64_t tap, int64_t s, int64_t p, int64_t d,
                                    int64_t O) {
  const int64_t t = x + p - tap * d;
  if (t < 0 || t % s != 0) return -1;
  const int64_t o = t / s;
  return o < O ? o : -1;
}

// The outputs [lo, hi) whose undilated window (k taps) covers input position x: those with
// o*s - p <= x < o*s - p + k.
FASTNN_HD inline void covering(int64_t x, int64_t s, int64_t p, int64_t k, int64_t O, int64_t& lo,
                               int64_t& hi) {
  const int64_t a = x + p - k;  // o*s > a
  lo = a < 0 ? 0 : a / s + 1;
  hi = min_i64((x + p) / s + 1, O);
}

// Max pooling's comparison: v replaces the running max when greater, or NaN (a NaN then stays,
// being greater than nothing), so a NaN wins and the first of equal maxima keeps it, as torch.
template <class T>
FASTNN_HD inline bool max_takes(T v, T best) {
  return (v > best) | (v != v);
}

// Average pooling: the window of output o along one axis clipped to the padded input
// [-p, n + p) gives the count with padding; clipped to [0, n) the taps [lo, hi) it reads.
struct AvgWindow {
  int64_t lo, hi, padded;
};

FASTNN_HD inline AvgWindow avg_window(int64_t o, int64_t s, int64_t p, int64_t k, int64_t n) {
  const int64_t start = o * s - p, end = min_i64(start + k, n + p);
  return {max_i64(start, 0), min_i64(end, n), end - start};
}

// torch's divisor: a nonzero divisor_override (`divisor`) wins; else the window size counting
// padded positions (count_include_pad) or only the positions inside the input.
template <class T>
FASTNN_HD inline T avg_divisor(const AvgWindow& h, const AvgWindow& w, bool include_pad,
                               int64_t divisor) {
  if (divisor != 0) return T(divisor);
  return T(include_pad ? h.padded * w.padded : (h.hi - h.lo) * (w.hi - w.lo));
}

// ---- per-element bodies -------------------------------------------------------------------------

// cols[n, r, l] of im2col: r < C*kh*kw is patch row (c*kh + i)*kw + j, and r == C*kh*kw the
// optional row of ones; l = oh*Wo + ow. Zero in the padding.
template <class T>
FASTNN_HD inline T im2col_value(const T* x, const Geom& g, int64_t n, int64_t r, int64_t l) {
  const int64_t khw = g.kh * g.kw;
  if (r >= g.C * khw) return T(1);
  const int64_t c = r / khw, i = (r / g.kw) % g.kh, j = r % g.kw;
  const int64_t h = (l / g.Wo) * g.sh - g.ph + i * g.dh;
  const int64_t w = (l % g.Wo) * g.sw - g.pw + j * g.dw;
  if (h < 0 || h >= g.H || w < 0 || w >= g.W) return T(0);
  return x[((n * g.C + c) * g.H + h) * g.W + w];
}

// x[n, c, h, w] of col2im (the adjoint of im2col): the sum of the cols entries im2col copied from
// this element, taps (i, j) in scan order. cols entry (n, r, l) is at n*sn + r*sr + l.
template <class T>
FASTNN_HD inline T col2im_value(const T* cols, int64_t sn, int64_t sr, const Geom& g, int64_t n,
                                int64_t c, int64_t h, int64_t w) {
  T sum = T(0);
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t oh = tap_source(h, i, g.sh, g.ph, g.dh, g.Ho);
    if (oh < 0) continue;
    const T* row = cols + n * sn + ((c * g.kh + i) * g.kw) * sr + oh * g.Wo;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t ow = tap_source(w, j, g.sw, g.pw, g.dw, g.Wo);
      if (ow >= 0) sum += row[j * sr + ow];
    }
  }
  return sum;
}

// The max of window (oh, ow) of one (H, W) plane, padding as -inf, and its flat index h*W + w in
// the plane (scan order). A window with no tap inside the input (only a large dilation makes one)
// gives -inf and the index of its first tap past the padding, as torch does.
template <class T>
FASTNN_HD inline T max_pool_value(const T* plane, const Geom& g, int64_t oh, int64_t ow,
                                  int64_t& index) {
  const int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
  int64_t i0, i1, j0, j1;
  taps(h0, g.dh, g.kh, g.H, i0, i1);
  taps(w0, g.dw, g.kw, g.W, j0, j1);
  int64_t bi = (h0 + i0 * g.dh) * g.W + w0 + j0 * g.dw;
  if (i0 >= i1 || j0 >= j1) {
    index = bi;
    return -std::numeric_limits<T>::infinity();
  }
  T best = plane[bi];
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t row = (h0 + i * g.dh) * g.W + w0;
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t at = row + j * g.dw;
      const T v = plane[at];
      if (max_takes(v, best)) {
        best = v;
        bi = at;
      }
    }
  }
  index = bi;
  return best;
}

// 2x2 stride-2 window (oh, ow) of a plane of width W: the max and its tap in scan order (0: (0,0),
// 1: (0,1), 2: (1,0), 3: (1,1)), by the same rule.
template <class T>
FASTNN_HD inline T max_pool_2x2_value(const T* plane, int64_t W, int64_t oh, int64_t ow,
                                      int& code) {
  const T* r0 = plane + 2 * oh * W + 2 * ow;
  const T* r1 = r0 + W;
  T best = r0[0];
  int k = 0;
  const T rest[3] = {r0[1], r1[0], r1[1]};
  for (int t = 0; t < 3; ++t) {
    if (max_takes(rest[t], best)) {
      best = rest[t];
      k = t + 1;
    }
  }
  code = k;
  return best;
}

// dx[h, w] of the 2x2 code backward, gathered: dy of the window holding (h, w) when its code names
// this tap, else 0 (also in an odd last row or column, which no window holds). `bad` is set when
// the window's code is above 3.
template <class T>
FASTNN_HD inline T max_pool_2x2_grad(const T* dy_plane, const uint8_t* code_plane, int64_t Ho,
                                     int64_t Wo, int64_t h, int64_t w, bool& bad) {
  const int64_t oh = h >> 1, ow = w >> 1;
  bad = false;
  if (oh >= Ho || ow >= Wo) return T(0);
  const int k = code_plane[oh * Wo + ow];
  bad = k > 3;
  return k == int((h & 1) * 2 + (w & 1)) ? dy_plane[oh * Wo + ow] : T(0);
}

// The average of window (oh, ow) of one plane (dilation 1): the sum in scan order over the divisor.
template <class T>
FASTNN_HD inline T avg_pool_value(const T* plane, const Geom& g, int64_t oh, int64_t ow,
                                  bool include_pad, int64_t divisor) {
  const AvgWindow h = avg_window(oh, g.sh, g.ph, g.kh, g.H);
  const AvgWindow w = avg_window(ow, g.sw, g.pw, g.kw, g.W);
  T sum = T(0);
  for (int64_t ih = h.lo; ih < h.hi; ++ih)
    for (int64_t iw = w.lo; iw < w.hi; ++iw) sum += plane[ih * g.W + iw];
  return sum / avg_divisor<T>(h, w, include_pad, divisor);
}

// dx[h, w] of average pooling: dy / divisor of every window covering (h, w), windows in scan order.
template <class T>
FASTNN_HD inline T avg_pool_grad(const T* dy_plane, const Geom& g, int64_t h, int64_t w,
                                 bool include_pad, int64_t divisor) {
  int64_t oh0, oh1, ow0, ow1;
  covering(h, g.sh, g.ph, g.kh, g.Ho, oh0, oh1);
  covering(w, g.sw, g.pw, g.kw, g.Wo, ow0, ow1);
  T sum = T(0);
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    const AvgWindow hw = avg_window(oh, g.sh, g.ph, g.kh, g.H);
    for (int64_t ow = ow0; ow < ow1; ++ow) {
      const AvgWindow ww = avg_window(ow, g.sw, g.pw, g.kw, g.W);
      sum += dy_plane[oh * g.Wo + ow] / avg_divisor<T>(hw, ww, include_pad, divisor);
    }
  }
  return sum;
}

}  // namespace fastnn::window
