// Depthwise conv2d (groups == input channels, `mult` output channels per input channel: weight
// (C * mult, 1, kh, kw)), forward and backward, by direct sums over each plane. A depthwise layer
// has one small filter per channel: as C separate im2col + GEMM calls its cost was the per-call
// set-up (a 3x3 layer on 32 x 512 x 7 x 7 ran 2.7x slower than torch).
//
// y[n, o, i, j] = b[o] + sum over (u, v) of w[o, u, v] x[n, o / mult, i sh - ph + u dh, j sw - pw +
// v dw], the padding zeros.
//
// The forward pass and the weight gradient run on a flat layout of each input plane: the
// zero-padded plane split into its sh x sw phases (the rows r with r mod sh = a and columns with
// c mod sw = b, one Hph x Wph block per phase; for unit stride just the padded plane). Tap (u, v)
// then reads one phase at a fixed offset for every output, so on the flat index k = i Wph + j it is
// one shift, and a plane is one pass per tap over Ho Wph elements (the spare columns past Wo are
// computed and dropped) instead of kh kw short loops per output row. The input gradient, for unit
// stride and padding within the filter's reach, is the same correlation of the zero-bordered
// output gradient with the flipped filter; for other geometries each tap adds w dy into the phase
// blocks at its shift; with a non-finite weight it is scattered row by row (the other two multiply
// zeros by every weight).
//
// Each output sums its taps in (u, v) order in the dtype, then adds the bias; the weight and bias
// gradients add each plane's sums in double. Threads take whole planes (forward and input
// gradient) or whole output channels (weight and bias gradients): no result depends on the
// thread count.
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

namespace fastnn {
namespace {

// ---- the correlation loops ----------------------------------------------------------------------

// acc[k] += w[t] P[k + shift[t]] for k < n and each tap in order, n a multiple of kLanes<T> (the
// callers round the flat length up and give P that much slack: a 7 x 7 plane's outputs are then
// whole vectors and no scalar tail). Blocks of kVecs 16-byte vectors stay in registers across the
// taps (tap by tap over the whole plane, acc went through memory once per tap), then single
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

// Eight running sums (so the compiler vectorises them): sum a, sum a b, and whether a holds no inf
// or NaN (x * 0 is 0 for every finite x, NaN otherwise).
template <class T>
T sum(const T* a, int64_t n) {
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
bool all_finite(const T* a, int64_t n) {
  T s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[k + j] * T(0);
  for (; k < n; ++k) s[0] += a[k] * T(0);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) == T(0);
}

// ---- the phase layout of an input plane ---------------------------------------------------------

struct Phases {
  int64_t Hph, Wph;            // one phase block
  int64_t size;                // the buffer, slack for the rounded-up flat length included
  std::vector<int64_t> shift;  // per tap (u, v): where its reads start
};

Phases phases(const Conv2dGeom& g, int64_t lanes) {
  Phases f;
  f.Hph = (g.H + 2 * g.ph + g.sh - 1) / g.sh;
  f.Wph = (g.W + 2 * g.pw + g.sw - 1) / g.sw;
  // tap (u, v) reads phase (u dh mod sh, v dw mod sw) from row u dh / sh, column v dw / sw on
  f.shift.resize(g.kh * g.kw);
  for (int64_t u = 0; u < g.kh; ++u)
    for (int64_t v = 0; v < g.kw; ++v) {
      const int64_t ru = u * g.dh, rv = v * g.dw;
      const int64_t block = (ru % g.sh) * g.sw + rv % g.sw;
      f.shift[u * g.kw + v] = (block * f.Hph + ru / g.sh) * f.Wph + rv / g.sw;
    }
  // the last flat read: below (Ho Wph rounded up) plus the largest shift < sh sw Hph Wph + Wph
  f.size = g.sh * g.sw * f.Hph * f.Wph + f.Wph + lanes;
  return f;
}

// The input plane xin (H x W) into its phase blocks; the padding's places are never written, so
// they keep the zeros the buffer started with.
template <class T>
void fill_phases(T* buf, const T* xin, const Conv2dGeom& g, const Phases& f) {
  for (int64_t r = 0; r < g.H; ++r) {
    const int64_t rp = r + g.ph;
    T* rows = buf + ((rp % g.sh) * g.sw * f.Hph + rp / g.sh) * f.Wph;
    const T* src = xin + r * g.W;
    if (g.sw == 1) {
      std::copy(src, src + g.W, rows + g.pw);
      continue;
    }
    for (int64_t b = 0; b < g.sw; ++b) {  // the columns of phase b, one after another
      const int64_t c0 = ((b - g.pw) % g.sw + g.sw) % g.sw;
      T* dst = rows + b * f.Hph * f.Wph + (c0 + g.pw) / g.sw;
      for (int64_t c = c0, j = 0; c < g.W; c += g.sw, ++j) dst[j] = src[c];
    }
  }
}

// The inverse of fill_phases: the input plane's places of the phase blocks into xout (H x W).
template <class T>
void read_phases(T* xout, const T* buf, const Conv2dGeom& g, const Phases& f) {
  for (int64_t r = 0; r < g.H; ++r) {
    const int64_t rp = r + g.ph;
    const T* rows = buf + ((rp % g.sh) * g.sw * f.Hph + rp / g.sh) * f.Wph;
    T* dst = xout + r * g.W;
    for (int64_t b = 0; b < g.sw; ++b) {
      const int64_t c0 = ((b - g.pw) % g.sw + g.sw) % g.sw;
      const T* src = rows + b * f.Hph * f.Wph + (c0 + g.pw) / g.sw;
      for (int64_t c = c0, j = 0; c < g.W; c += g.sw, ++j) dst[c] = src[j];
    }
  }
}

// dst (rows x Wd, zero-filled beforehand, plus its tail) gets src (h x w) at (top, left).
template <class T>
void place(T* dst, int64_t Wd, const T* src, int64_t h, int64_t w, int64_t top, int64_t left) {
  for (int64_t r = 0; r < h; ++r)
    std::copy(src + r * w, src + (r + 1) * w, dst + (top + r) * Wd + left);
}

// ---- forward ----------------------------------------------------------------------------------

template <class T>
void forward_impl(T* y, const T* x, const T* w, const T* b, const Conv2dGeom& g, int64_t mult) {
  const int64_t O = g.C * mult, taps = g.kh * g.kw;
  const Phases f = phases(g, kLanes<T>);
  const int64_t n = round_up(g.Ho * f.Wph, kLanes<T>);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(n * taps * mult, 1));
  // one input plane per task (its mult output channels reuse its phase blocks)
  parallel_for(g.N * g.C, grain, [&](int64_t p0, int64_t p1) {
    std::vector<T> P(f.size, T(0)), acc(n);
    for (int64_t p = p0; p < p1; ++p) {
      fill_phases(P.data(), x + p * g.H * g.W, g, f);
      const int64_t nn = p / g.C, c = p % g.C;
      for (int64_t k = 0; k < mult; ++k) {
        const int64_t o = c * mult + k;
        std::fill(acc.begin(), acc.end(), T(0));
        correlate(acc.data(), P.data(), n, w + o * taps, f.shift.data(), taps);
        T* yo = y + (nn * O + o) * g.Ho * g.Wo;
        const T bias = b ? b[o] : T(0);
        for (int64_t i = 0; i < g.Ho; ++i)
          for (int64_t j = 0; j < g.Wo; ++j) yo[i * g.Wo + j] = acc[i * f.Wph + j] + bias;
      }
    }
  });
}

// ---- input gradient -----------------------------------------------------------------------------

// Unit stride, padding within the filter's reach: dy bordered by (k - 1) d - p on each side,
// correlated with the flipped filter.
template <class T>
void input_grad_flat(T* dx, const T* dy, const T* w, const Conv2dGeom& g, int64_t mult) {
  const int64_t O = g.C * mult, taps = g.kh * g.kw, plane_out = g.Ho * g.Wo;
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

// Any stride, finite weights: each tap adds w dy, laid out Wph wide (zeros in the spare columns),
// at its shift into the phase blocks of the input gradient (the forward's reads, reversed), then
// the blocks are read back into the plane.
template <class T>
void input_grad_phases(T* dx, const T* dy, const T* w, const Conv2dGeom& g, int64_t mult) {
  const int64_t O = g.C * mult, taps = g.kh * g.kw, plane_out = g.Ho * g.Wo;
  const Phases f = phases(g, kLanes<T>);
  const int64_t n = g.Ho * f.Wph;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(n * taps * mult, 1));
  parallel_for(g.N * g.C, grain, [&](int64_t p0, int64_t p1) {
    std::vector<T> D(f.size), G(n, T(0));
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t nn = p / g.C, c = p % g.C;
      std::fill(D.begin(), D.end(), T(0));
      for (int64_t k = 0; k < mult; ++k) {
        const int64_t o = c * mult + k;
        place(G.data(), f.Wph, dy + (nn * O + o) * plane_out, g.Ho, g.Wo, 0, 0);
        for (int64_t t = 0; t < taps; ++t) {
          const T wv = w[o * taps + t];
          T* __restrict__ dst = D.data() + f.shift[t];
          const T* __restrict__ src = G.data();
          for (int64_t q = 0; q < n; ++q) dst[q] += wv * src[q];
        }
      }
      read_phases(dx + p * g.H * g.W, D.data(), g, f);
    }
  });
}

// Any geometry: w dy scattered back along the input rows each output read.
template <class T>
void input_grad_rows(T* dx, const T* dy, const T* w, const Conv2dGeom& g, int64_t mult) {
  const int64_t O = g.C * mult, plane_in = g.H * g.W, plane_out = g.Ho * g.Wo, taps = g.kh * g.kw;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(plane_out * taps * mult, 1));
  parallel_for(g.N * g.C, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t nn = p / g.C, c = p % g.C;
      T* dxp = dx + p * plane_in;
      std::fill(dxp, dxp + plane_in, T(0));
      for (int64_t k = 0; k < mult; ++k) {
        const int64_t o = c * mult + k;
        const T* dyo = dy + (nn * O + o) * plane_out;
        const T* wo = w + o * taps;
        for (int64_t i = 0; i < g.Ho; ++i)
          for (int64_t u = 0; u < g.kh; ++u) {
            const int64_t r = i * g.sh - g.ph + u * g.dh;
            if (r < 0 || r >= g.H) continue;
            T* dst = dxp + r * g.W;
            const T* src = dyo + i * g.Wo;
            for (int64_t v = 0; v < g.kw; ++v) {
              const T wv = wo[u * g.kw + v];
              const int64_t off = v * g.dw - g.pw;  // input column of output column 0
              const int64_t lo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
              const int64_t hi = g.W - 1 - off < 0 ? 0 : std::min(g.Wo, (g.W - 1 - off) / g.sw + 1);
              for (int64_t j = lo; j < hi; ++j) dst[j * g.sw + off] += wv * src[j];
            }
          }
      }
    }
  });
}

// ---- weight and bias gradients ------------------------------------------------------------------

// dw[o, t] = sum over n of the dot product of dy's plane (laid out Wph wide, zeros past Wo) with
// the phase blocks at tap t's shift; db[o] = sum of dy. One task per output channel.
template <class T>
void weight_grad(T* dw, T* db, const T* dy, const T* x, const Conv2dGeom& g, int64_t mult) {
  const int64_t O = g.C * mult, taps = g.kh * g.kw, plane_out = g.Ho * g.Wo;
  const Phases f = phases(g, kLanes<T>);
  const int64_t n = g.Ho * f.Wph;
  parallel_for(O, 1, [&](int64_t o0, int64_t o1) {
    std::vector<T> P(f.size, T(0)), G(n, T(0));
    std::vector<double> acc(taps);
    for (int64_t o = o0; o < o1; ++o) {
      std::fill(acc.begin(), acc.end(), 0.0);
      double bias = 0.0;
      for (int64_t nn = 0; nn < g.N; ++nn) {
        const T* dyo = dy + (nn * O + o) * plane_out;
        if (db) bias += sum(dyo, plane_out);
        if (!dw) continue;
        const T* xin = x + (nn * g.C + o / mult) * g.H * g.W;
        fill_phases(P.data(), xin, g, f);
        if (all_finite(xin, g.H * g.W)) {
          place(G.data(), f.Wph, dyo, g.Ho, g.Wo, 0, 0);
          for (int64_t t = 0; t < taps; ++t) acc[t] += dot(G.data(), P.data() + f.shift[t], n);
        } else {  // the spare columns' zero gradient must not meet an inf: row by row
          for (int64_t t = 0; t < taps; ++t)
            for (int64_t i = 0; i < g.Ho; ++i)
              acc[t] += dot(dyo + i * g.Wo, P.data() + i * f.Wph + f.shift[t], g.Wo);
        }
      }
      if (dw)
        for (int64_t t = 0; t < taps; ++t) dw[o * taps + t] = static_cast<T>(acc[t]);
      if (db) db[o] = static_cast<T>(bias);
    }
  });
}

template <class T>
void backward_impl(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const Conv2dGeom& g,
                   int64_t mult) {
  if (dx) {
    // (the flat and phase paths multiply borders and spare columns of zeros by the weights, where
    // an inf weight would make NaN)
    if (!all_finite(w, g.C * mult * g.kh * g.kw))
      input_grad_rows(dx, dy, w, g, mult);
    else if (g.sh == 1 && g.sw == 1 && g.ph <= (g.kh - 1) * g.dh && g.pw <= (g.kw - 1) * g.dw)
      input_grad_flat(dx, dy, w, g, mult);
    else
      input_grad_phases(dx, dy, w, g, mult);
  }
  if (dw || db) weight_grad(dw, db, dy, x, g, mult);
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
