// The index math of the 2-D window ops (im2col / col2im, max and average pooling) on NCHW planes,
// and their per-element bodies, as FASTNN_HD functions: the CUDA kernels (cuda/conv.cu,
// cuda/pool.cu) run one of these per thread, the CPU pooling kernels (cpu/pool.cpp) share the
// window rules, and tests/test_window_ops.py compiles this header on the host and checks every
// element body against the CPU kernels, so the device arithmetic is tested without a GPU.
//
// Geometry: input (N, C, H, W), window kh x kw, stride sh/sw >= 1, padding ph/pw >= 0, dilation
// dh/dw >= 1, output Ho x Wo (window::out_size, >= 1). Window o of an axis starts at o*s - p; its
// tap t sits at o*s - p + t*d.
//
// Index type I: the functions are templates over the integer type of the index math. int64 is
// always right (a tensor may hold more than 2^31 elements); the kernels use int32 when
// fits_int32() says every index they form fits, because 64-bit division and remainder cost the
// GPU several times the 32-bit ones and the per-element index math is most of these kernels'
// instructions.
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
template <class I>
struct GeomT {
  I N, C, H, W;
  I kh, kw, sh, sw, ph, pw, dh, dw;
  I Ho, Wo;
};
using Geom = GeomT<int64_t>;

template <class I>
FASTNN_HD inline I min_i(I a, I b) {
  return a < b ? a : b;
}
template <class I>
FASTNN_HD inline I max_i(I a, I b) {
  return a > b ? a : b;
}

// Whether the bodies' index math for g fits int32, with room for a grid-stride step (< 2^29) past
// the last index: every array the kernel indexes (`elems` the largest) and every intermediate
// coordinate (a window start, a tap, padding added) stays below 2^30.
inline bool fits_int32(const Geom& g, int64_t elems) {
  constexpr int64_t lim = int64_t(1) << 30;
  auto axis = [](int64_t n, int64_t k, int64_t s, int64_t p, int64_t d, int64_t O) {
    return n + 2 * p + (k - 1) * d + s * (O + 1);
  };
  return elems < lim && g.N * g.C * g.H * g.W < lim && g.N * g.C * g.Ho * g.Wo < lim &&
         g.C * g.kh * g.kw < lim && axis(g.H, g.kh, g.sh, g.ph, g.dh, g.Ho) < lim &&
         axis(g.W, g.kw, g.sw, g.pw, g.dw, g.Wo) < lim;
}

template <class I>
inline GeomT<I> narrow(const Geom& g) {
  return {I(g.N),  I(g.C),  I(g.H),  I(g.W),  I(g.kh), I(g.kw), I(g.sh),
          I(g.sw), I(g.ph), I(g.pw), I(g.dh), I(g.dw), I(g.Ho), I(g.Wo)};
}

// Outputs along one axis: floor((n + 2p - d(k - 1) - 1) / s) + 1, floor division also for a
// negative numerator (an extent below one window gives a size <= 0, which callers reject).
FASTNN_HD inline int64_t out_size(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d) {
  const int64_t num = n + 2 * p - d * (k - 1) - 1;
  return (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
}

// The taps [lo, hi) of a window starting at p0 (dilation d, k taps) that fall inside [0, n).
// Empty (lo >= hi) only when every tap misses the input, which padding <= k/2 rules out for
// d == 1 but not for a large dilation.
template <class I>
FASTNN_HD inline void taps(I p0, I d, I k, I n, I& lo, I& hi) {
  lo = p0 < 0 ? (-p0 + d - 1) / d : I(0);
  hi = n - p0 <= 0 ? I(0) : min_i(k, (n - p0 + d - 1) / d);
}

// The output o whose window puts tap `tap` on input position x, or -1 when there is none.
template <class I>
FASTNN_HD inline I tap_source(I x, I tap, I s, I p, I d, I O) {
  const I t = x + p - tap * d;
  if (t < 0 || t % s != 0) return -1;
  const I o = t / s;
  return o < O ? o : I(-1);
}

// The outputs [lo, hi) whose undilated window (k taps) covers input position x: those with
// o*s - p <= x < o*s - p + k.
template <class I>
FASTNN_HD inline void covering(I x, I s, I p, I k, I O, I& lo, I& hi) {
  const I a = x + p - k;  // o*s > a
  lo = a < 0 ? I(0) : a / s + 1;
  hi = min_i((x + p) / s + 1, O);
}

// Max pooling's comparison: v replaces the running max when greater, or NaN (a NaN then stays,
// being greater than nothing), so a NaN wins and the first of equal maxima keeps it, as torch.
template <class T>
FASTNN_HD inline bool max_takes(T v, T best) {
  return (v > best) | (v != v);
}

// Average pooling: the window of output o along one axis clipped to the padded input
// [-p, n + p) gives the count with padding; clipped to [0, n) the taps [lo, hi) it reads.
template <class I>
struct AvgWindowT {
  I lo, hi, padded;
};
using AvgWindow = AvgWindowT<int64_t>;

template <class I>
FASTNN_HD inline AvgWindowT<I> avg_window(I o, I s, I p, I k, I n) {
  const I start = o * s - p, end = min_i(start + k, n + p);
  return {max_i(start, I(0)), min_i(end, n), end - start};
}

// torch's divisor: a nonzero divisor_override (`divisor`) wins; else the window size counting
// padded positions (count_include_pad) or only the positions inside the input.
template <class T, class I>
FASTNN_HD inline T avg_divisor(const AvgWindowT<I>& h, const AvgWindowT<I>& w, bool include_pad,
                               I divisor) {
  if (divisor != 0) return T(divisor);
  return T(include_pad ? h.padded * w.padded : (h.hi - h.lo) * (w.hi - w.lo));
}

// ---- per-element bodies -------------------------------------------------------------------------

// cols[n, r, l] of im2col: r < C*kh*kw is patch row (c*kh + i)*kw + j, and r == C*kh*kw the
// optional row of ones; l = oh*Wo + ow. Zero in the padding.
template <class T, class I>
FASTNN_HD inline T im2col_value(const T* x, const GeomT<I>& g, I n, I r, I l) {
  const I khw = g.kh * g.kw;
  if (r >= g.C * khw) return T(1);
  const I c = r / khw, i = (r / g.kw) % g.kh, j = r % g.kw;
  const I h = (l / g.Wo) * g.sh - g.ph + i * g.dh;
  const I w = (l % g.Wo) * g.sw - g.pw + j * g.dw;
  if (h < 0 || h >= g.H || w < 0 || w >= g.W) return T(0);
  return x[((n * g.C + c) * g.H + h) * g.W + w];
}

// x[n, c, h, w] of col2im (the adjoint of im2col): the sum of the cols entries im2col copied from
// this element, taps (i, j) in scan order. cols entry (n, r, l) is at n*sn + r*sr + l.
template <class T, class I>
FASTNN_HD inline T col2im_value(const T* cols, I sn, I sr, const GeomT<I>& g, I n, I c, I h, I w) {
  T sum = T(0);
  for (I i = 0; i < g.kh; ++i) {
    const I oh = tap_source(h, i, g.sh, g.ph, g.dh, g.Ho);
    if (oh < 0) continue;
    const T* row = cols + n * sn + ((c * g.kh + i) * g.kw) * sr + oh * g.Wo;
    for (I j = 0; j < g.kw; ++j) {
      const I ow = tap_source(w, j, g.sw, g.pw, g.dw, g.Wo);
      if (ow >= 0) sum += row[j * sr + ow];
    }
  }
  return sum;
}

// The max of window (oh, ow) of one (H, W) plane, padding as -inf, and its flat index h*W + w in
// the plane (scan order). A window with no tap inside the input (only a large dilation makes one)
// gives -inf and the index of its first tap past the padding, as torch does (computed in int64:
// that index may lie beyond the plane).
template <class T, class I>
FASTNN_HD inline T max_pool_value(const T* plane, const GeomT<I>& g, I oh, I ow, int64_t& index) {
  const I h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
  I i0, i1, j0, j1;
  taps(h0, g.dh, g.kh, g.H, i0, i1);
  taps(w0, g.dw, g.kw, g.W, j0, j1);
  if (i0 >= i1 || j0 >= j1) {
    index = int64_t(h0 + i0 * g.dh) * g.W + w0 + int64_t(j0) * g.dw;
    return -std::numeric_limits<T>::infinity();
  }
  I bi = (h0 + i0 * g.dh) * g.W + w0 + j0 * g.dw;
  T best = plane[bi];
  for (I i = i0; i < i1; ++i) {
    const I row = (h0 + i * g.dh) * g.W + w0;
    for (I j = j0; j < j1; ++j) {
      const I at = row + j * g.dw;
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
template <class T, class I>
FASTNN_HD inline T max_pool_2x2_value(const T* plane, I W, I oh, I ow, int& code) {
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
template <class T, class I>
FASTNN_HD inline T max_pool_2x2_grad(const T* dy_plane, const uint8_t* code_plane, I Ho, I Wo, I h,
                                     I w, bool& bad) {
  const I oh = h >> 1, ow = w >> 1;
  bad = false;
  if (oh >= Ho || ow >= Wo) return T(0);
  const int k = code_plane[oh * Wo + ow];
  bad = k > 3;
  return k == int((h & 1) * 2 + (w & 1)) ? dy_plane[oh * Wo + ow] : T(0);
}

// The average of window (oh, ow) of one plane (dilation 1): the sum in scan order over the divisor.
template <class T, class I>
FASTNN_HD inline T avg_pool_value(const T* plane, const GeomT<I>& g, I oh, I ow, bool include_pad,
                                  I divisor) {
  const AvgWindowT<I> h = avg_window(oh, g.sh, g.ph, g.kh, g.H);
  const AvgWindowT<I> w = avg_window(ow, g.sw, g.pw, g.kw, g.W);
  T sum = T(0);
  for (I ih = h.lo; ih < h.hi; ++ih)
    for (I iw = w.lo; iw < w.hi; ++iw) sum += plane[ih * g.W + iw];
  return sum / avg_divisor<T>(h, w, include_pad, divisor);
}

// dx[h, w] of average pooling: dy / divisor of every window covering (h, w), windows in scan order.
template <class T, class I>
FASTNN_HD inline T avg_pool_grad(const T* dy_plane, const GeomT<I>& g, I h, I w, bool include_pad,
                                 I divisor) {
  I oh0, oh1, ow0, ow1;
  covering(h, g.sh, g.ph, g.kh, g.Ho, oh0, oh1);
  covering(w, g.sw, g.pw, g.kw, g.Wo, ow0, ow1);
  T sum = T(0);
  for (I oh = oh0; oh < oh1; ++oh) {
    const AvgWindowT<I> hw = avg_window(oh, g.sh, g.ph, g.kh, g.H);
    for (I ow = ow0; ow < ow1; ++ow) {
      const AvgWindowT<I> ww = avg_window(ow, g.sw, g.pw, g.kw, g.W);
      sum += dy_plane[oh * g.Wo + ow] / avg_divisor<T>(hw, ww, include_pad, divisor);
    }
  }
  return sum;
}

}  // namespace fastnn::window
