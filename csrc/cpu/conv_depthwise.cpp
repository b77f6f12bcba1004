// Depthwise conv2d (groups == input channels, `mult` output channels per input channel: weight
// (C * mult, 1, kh, kw)), forward and backward, by direct sums over each plane. A depthwise layer
// has one small filter per channel: as C separate im2col + GEMM calls its cost was the per-call
// set-up (a 3x3 layer on 32 x 512 x 7 x 7 ran 2.7x slower than torch). Unit stride takes the flat
// path below (a zero-bordered copy of each plane, one pass per tap over the whole plane); other
// strides go row by row.
//
// y[n, o, i, j] = b[o] + sum over (u, v) of w[o, u, v] x[n, o / mult, i sh - ph + u dh, j sw - pw +
// v dw]; taps in the padding read nothing. Each output element sums its taps in (u, v) order in
// the dtype; the weight and bias gradients add each plane's sums in double. Threads take whole
// planes (forward and input gradient) or whole output channels (weight and bias gradients): no
// result depends on the thread count.
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

namespace fastnn {
namespace {

// The output columns j of one tap column v whose input column j sw - pw + v dw lies in [0, W).
struct ColumnRange {
  int64_t lo, hi;  // [lo, hi), empty when lo >= hi
};
ColumnRange valid_columns(const Conv2dGeom& g, int64_t v) {
  const int64_t off = v * g.dw - g.pw;  // input column of output column 0
  // j sw + off >= 0  <=>  j >= ceil(-off / sw);  j sw + off <= W - 1
  const int64_t lo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
  const int64_t hi = g.W - 1 - off < 0 ? 0 : std::min(g.Wo, (g.W - 1 - off) / g.sw + 1);
  return {lo, hi};
}

// row[j] += wv * in[j sw + off] for j in [lo, hi).
template <class T>
inline void axpy_row(T* __restrict__ row, const T* __restrict__ in, T wv, int64_t sw, int64_t off,
                     ColumnRange r) {
  if (sw == 1) {
    const T* src = in + off;
    for (int64_t j = r.lo; j < r.hi; ++j) row[j] += wv * src[j];
  } else {
    for (int64_t j = r.lo; j < r.hi; ++j) row[j] += wv * in[j * sw + off];
  }
}

// ---- unit stride: whole planes as one flat loop per tap ----------------------------------------
// With the input plane copied into a zero-bordered scratch P of width Wp, output (i, j) reads
// P[(i + u dh) Wp + j + v dw]: on the flat index k = i Wp + j every tap is one shift, so a plane is
// kh kw passes of acc[k] += w P[k + shift] over Ho Wp elements (the Wp - Wo columns past each row
// are computed and dropped), instead of kh kw short loops per output row: a 7 x 7 plane spent most
// of its time in loop overhead. The input gradient is the same correlation of the zero-bordered
// output gradient with the flipped filter; the weight gradient, one dot product per tap.

// Whether the flat path applies: unit stride, and no padding beyond the filter's reach (the
// input gradient's border would be negative).
bool flat_path(const Conv2dGeom& g) {
  return g.sh == 1 && g.sw == 1 && g.ph <= (g.kh - 1) * g.dh && g.pw <= (g.kw - 1) * g.dw;
}

// dst (rows x Wd, zero-filled beforehand, plus its tail) gets src (h x w) at (top, left).
template <class T>
void place(T* dst, int64_t Wd, const T* src, int64_t h, int64_t w, int64_t top, int64_t left) {
  for (int64_t r = 0; r < h; ++r)
    std::copy(src + r * w, src + (r + 1) * w, dst + (top + r) * Wd + left);
}

// acc[k] += w[t] P[k + shift[t]] for k < n and each tap in order, n a multiple of kLanes<T> (the
// callers round the flat length up and give P that much slack: a 7 x 7 plane's 63 outputs are
// then 16 vectors and no scalar tail). Blocks of kVecs 16-byte vectors stay in registers across
// the taps (tap by tap over the whole plane, acc went through memory once per tap), then single
// vectors; written with the compiler's vector types, as its own vectoriser turned this nest into
// scalar code.
template <class T>
constexpr int64_t kLanes = 16 / sizeof(T);
constexpr int kVecs = 8;

inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

template <class T, int kCount>
inline void correlate_block(T* __restrict__ acc, const T* __restrict__ P, const T* w,
                            const int64_t* shift, int64_t taps) {
  typedef T V __attribute__((vector_size(16)));
  constexpr int64_t L = kLanes<T>;
  V a[kCount];
  std::memcpy(a, acc, sizeof a);
  for (int64_t t = 0; t < taps; ++t) {
    const V wv = V{} + w[t];
    const T* src = P + shift[t];
    for (int r = 0; r < kCount; ++r) {
      V s;
      std::memcpy(&s, src + r * L, sizeof s);
      a[r] += wv * s;
    }
  }
  std::memcpy(acc, a, sizeof a);
}

template <class T>
void correlate(T* acc, const T* P, int64_t n, const T* w, const int64_t* shift, int64_t taps) {
  constexpr int64_t L = kLanes<T>;
  int64_t k = 0;
  for (; k + L * kVecs <= n; k += L * kVecs)
    correlate_block<T, kVecs>(acc + k, P + k, w, shift, taps);
  for (; k < n; k += L) correlate_block<T, 1>(acc + k, P + k, w, shift, taps);
}

// sum over k < n of a[k] b[k], eight running sums (so the compiler vectorises it).
template <class T>
T sum(const T* a, int64_t n) {  // (eight running sums, as dot)
  T s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[k + j];
  T r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; k < n; ++k) r += a[k];
  return r;
}

template <class T>
T dot(const T* __restrict__ a, const T* __restrict__ b, int64_t n) {
  T s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[k + j] * b[k + j];
  T r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; k < n; ++k) r += a[k] * b[k];
  return r;
}

template <class T>
void flat_forward(T* y, const T* x, const T* w, const T* b, const Conv2dGeom& g, int64_t mult) {
  const int64_t O = g.C * mult, Wp = g.W + 2 * g.pw, Hp = g.H + 2 * g.ph, taps = g.kh * g.kw;
  const int64_t n = round_up(g.Ho * Wp, kLanes<T>), tail = (g.kw - 1) * g.dw + kLanes<T>;
  std::vector<int64_t> shift(taps);
  for (int64_t u = 0; u < g.kh; ++u)
    for (int64_t v = 0; v < g.kw; ++v) shift[u * g.kw + v] = u * g.dh * Wp + v * g.dw;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(n * taps, 1));
  // one input plane per task (its mult output channels reuse its padded copy)
  parallel_for(g.N * g.C, std::max<int64_t>(1, grain / mult), [&](int64_t p0, int64_t p1) {
    std::vector<T> P(Hp * Wp + tail, T(0)), acc(n);
    for (int64_t p = p0; p < p1; ++p) {
      place(P.data(), Wp, x + p * g.H * g.W, g.H, g.W, g.ph, g.pw);
      const int64_t nn = p / g.C, c = p % g.C;
      for (int64_t k = 0; k < mult; ++k) {
        const int64_t o = c * mult + k;
        std::fill(acc.begin(), acc.end(), T(0));
        correlate(acc.data(), P.data(), n, w + o * taps, shift.data(), taps);
        T* yo = y + (nn * O + o) * g.Ho * g.Wo;
        const T bias = b ? b[o] : T(0);
        for (int64_t i = 0; i < g.Ho; ++i)
          for (int64_t j = 0; j < g.Wo; ++j) yo[i * g.Wo + j] = acc[i * Wp + j] + bias;
      }
    }
  });
}

template <class T>
void flat_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const Conv2dGeom& g,
                   int64_t mult) {
  const int64_t O = g.C * mult, taps = g.kh * g.kw, plane_out = g.Ho * g.Wo;
  if (dx) {
    // dy bordered by (k - 1) d - p on each side; the filter flipped
    const int64_t Ah = (g.kh - 1) * g.dh - g.ph, Aw = (g.kw - 1) * g.dw - g.pw;
    const int64_t Wq = g.Wo + 2 * Aw, Hq = g.Ho + 2 * Ah;
    const int64_t n = round_up(g.H * Wq, kLanes<T>), tail = (g.kw - 1) * g.dw + kLanes<T>;
    std::vector<int64_t> shift(taps);
    for (int64_t u = 0; u < g.kh; ++u)
      for (int64_t v = 0; v < g.kw; ++v)
        shift[u * g.kw + v] = (g.kh - 1 - u) * g.dh * Wq + (g.kw - 1 - v) * g.dw;
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(n * taps * mult, 1));
    parallel_for(g.N * g.C, grain, [&](int64_t p0, int64_t p1) {
      std::vector<T> Q(Hq * Wq + tail, T(0)), acc(n);
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t nn = p / g.C, c = p % g.C;
        std::fill(acc.begin(), acc.end(), T(0));
        for (int64_t k = 0; k < mult; ++k) {
          const int64_t o = c * mult + k;
          place(Q.data(), Wq, dy + (nn * O + o) * plane_out, g.Ho, g.Wo, Ah, Aw);
          correlate(acc.data(), Q.data(), n, w + o * taps, shift.data(), taps);
        }
        T* dxp = dx + p * g.H * g.W;
        for (int64_t r = 0; r < g.H; ++r)
          std::copy(acc.data() + r * Wq, acc.data() + r * Wq + g.W, dxp + r * g.W);
      }
    });
  }
  if (dw || db) {
    const int64_t Wp = g.W + 2 * g.pw, Hp = g.H + 2 * g.ph, tail = (g.kw - 1) * g.dw;
    const int64_t n = g.Ho * Wp;
    std::vector<int64_t> shift(taps);
    for (int64_t u = 0; u < g.kh; ++u)
      for (int64_t v = 0; v < g.kw; ++v) shift[u * g.kw + v] = u * g.dh * Wp + v * g.dw;
    // one output channel per task, over the whole batch: dy laid out Wp wide (zeros past Wo)
    parallel_for(O, 1, [&](int64_t o0, int64_t o1) {
      std::vector<T> P(Hp * Wp + tail, T(0)), G(n, T(0));
      std::vector<double> acc(taps);
      for (int64_t o = o0; o < o1; ++o) {
        std::fill(acc.begin(), acc.end(), 0.0);
        double bias = 0.0;
        for (int64_t nn = 0; nn < g.N; ++nn) {
          const T* dyo = dy + (nn * O + o) * plane_out;
          if (db) bias += sum(dyo, plane_out);
          if (!dw) continue;
          place(P.data(), Wp, x + (nn * g.C + o / mult) * g.H * g.W, g.H, g.W, g.ph, g.pw);
          place(G.data(), Wp, dyo, g.Ho, g.Wo, 0, 0);
          for (int64_t t = 0; t < taps; ++t) acc[t] += dot(G.data(), P.data() + shift[t], n);
        }
        if (dw)
          for (int64_t t = 0; t < taps; ++t) dw[o * taps + t] = static_cast<T>(acc[t]);
        if (db) db[o] = static_cast<T>(bias);
      }
    });
  }
}

// ---- any stride: row by row ---------------------------------------------------------------------

template <class T>
void forward_impl(T* y, const T* x, const T* w, const T* b, const Conv2dGeom& g, int64_t mult) {
  if (flat_path(g)) return flat_forward(y, x, w, b, g, mult);
  const int64_t O = g.C * mult, plane_in = g.H * g.W, plane_out = g.Ho * g.Wo;
  std::vector<ColumnRange> cols(g.kw);
  for (int64_t v = 0; v < g.kw; ++v) cols[v] = valid_columns(g, v);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(plane_out * g.kh * g.kw, 1));
  parallel_for(g.N * O, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / O, o = p % O;
      const T* xin = x + (n * g.C + o / mult) * plane_in;
      const T* wo = w + o * g.kh * g.kw;
      T* yo = y + p * plane_out;
      std::fill(yo, yo + plane_out, b ? b[o] : T(0));
      for (int64_t i = 0; i < g.Ho; ++i) {
        T* row = yo + i * g.Wo;
        for (int64_t u = 0; u < g.kh; ++u) {
          const int64_t r = i * g.sh - g.ph + u * g.dh;
          if (r < 0 || r >= g.H) continue;
          for (int64_t v = 0; v < g.kw; ++v)
            axpy_row(row, xin + r * g.W, wo[u * g.kw + v], g.sw, v * g.dw - g.pw, cols[v]);
        }
      }
    }
  });
}

template <class T>
void backward_impl(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const Conv2dGeom& g,
                   int64_t mult) {
  if (flat_path(g)) return flat_backward(dx, dw, db, dy, x, w, g, mult);
  const int64_t O = g.C * mult, plane_in = g.H * g.W, plane_out = g.Ho * g.Wo, taps = g.kh * g.kw;
  std::vector<ColumnRange> cols(g.kw);
  for (int64_t v = 0; v < g.kw; ++v) cols[v] = valid_columns(g, v);
  if (dx) {
    // dx[n, c] = sum over its mult output channels and their taps of w dy, scattered back along
    // the rows the forward read: one task per input plane.
    const int64_t grain =
        std::max<int64_t>(1, 16384 / std::max<int64_t>(plane_out * taps * mult, 1));
    parallel_for(g.N * g.C, grain, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t n = p / g.C, c = p % g.C;
        T* dxp = dx + p * plane_in;
        std::fill(dxp, dxp + plane_in, T(0));
        for (int64_t k = 0; k < mult; ++k) {
          const int64_t o = c * mult + k;
          const T* dyo = dy + (n * O + o) * plane_out;
          const T* wo = w + o * taps;
          for (int64_t i = 0; i < g.Ho; ++i)
            for (int64_t u = 0; u < g.kh; ++u) {
              const int64_t r = i * g.sh - g.ph + u * g.dh;
              if (r < 0 || r >= g.H) continue;
              T* dst = dxp + r * g.W;
              const T* src = dyo + i * g.Wo;
              for (int64_t v = 0; v < g.kw; ++v) {
                const T wv = wo[u * g.kw + v];
                const int64_t off = v * g.dw - g.pw;
                const ColumnRange cr = cols[v];
                if (g.sw == 1) {
                  T* d = dst + off;
                  for (int64_t j = cr.lo; j < cr.hi; ++j) d[j] += wv * src[j];
                } else {
                  for (int64_t j = cr.lo; j < cr.hi; ++j) dst[j * g.sw + off] += wv * src[j];
                }
              }
            }
        }
      }
    });
  }
  if (dw || db) {
    // dw[o, u, v] = sum over n, i, j of dy x at the tap; db[o] = sum of dy: one task per output
    // channel, each row's dot product in the dtype, the rows added in double.
    parallel_for(O, 1, [&](int64_t o0, int64_t o1) {
      std::vector<double> acc(taps);
      for (int64_t o = o0; o < o1; ++o) {
        std::fill(acc.begin(), acc.end(), 0.0);
        double bias = 0.0;
        for (int64_t n = 0; n < g.N; ++n) {
          const T* xin = x + (n * g.C + o / mult) * plane_in;
          const T* dyo = dy + (n * O + o) * plane_out;
          for (int64_t i = 0; i < g.Ho; ++i) {
            const T* grow = dyo + i * g.Wo;
            if (db) bias += sum(grow, g.Wo);
            if (!dw) continue;
            for (int64_t u = 0; u < g.kh; ++u) {
              const int64_t r = i * g.sh - g.ph + u * g.dh;
              if (r < 0 || r >= g.H) continue;
              const T* in = xin + r * g.W;
              for (int64_t v = 0; v < g.kw; ++v) {
                const int64_t off = v * g.dw - g.pw;
                const ColumnRange cr = cols[v];
                T s = 0;
                if (g.sw == 1) {
                  const T* src = in + off;
                  for (int64_t j = cr.lo; j < cr.hi; ++j) s += grow[j] * src[j];
                } else {
                  for (int64_t j = cr.lo; j < cr.hi; ++j) s += grow[j] * in[j * g.sw + off];
                }
                acc[u * g.kw + v] += s;
              }
            }
          }
        }
        if (dw)
          for (int64_t t = 0; t < taps; ++t) dw[o * taps + t] = static_cast<T>(acc[t]);
        if (db) db[o] = static_cast<T>(bias);
      }
    });
  }
}

}  // namespace

void depthwise_conv2d_forward_cpu(float* y, const float* x, const float* w, const float* b,
                                  const Conv2dGeom& g, int64_t mult) {
  forward_impl(y, x, w, b, g, mult);
}
void depthwise_conv2d_forward_cpu(double* y, const double* x, const double* w, const double* b,
                                  const Conv2dGeom& g, int64_t mult) {
  forward_impl(y, x, w, b, g, mult);
}
void depthwise_conv2d_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x,
                                   const float* w, const Conv2dGeom& g, int64_t mult) {
  backward_impl(dx, dw, db, dy, x, w, g, mult);
}
void depthwise_conv2d_backward_cpu(double* dx, double* dw, double* db, const double* dy,
                                   const double* x, const double* w, const Conv2dGeom& g,
                                   int64_t mult) {
  backward_impl(dx, dw, db, dy, x, w, g, mult);
}

}  // namespace fastnn
