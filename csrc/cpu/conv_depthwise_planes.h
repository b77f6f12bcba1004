// The per-plane loops of depthwise conv2d (method in cpu/conv_depthwise.cpp) on the compiler's
// vector types of B bytes, so each unit's flags pick the instructions: 16-byte vectors in the
// generic unit (float and double), 32 and 64 bytes for float in the AVX2 and AVX-512 units. The
// including unit defines FASTNN_VEC_NS; everything here has internal linkage and uses no C++
// library template (see [note: ISA units] in CMakeLists.txt).
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS before including conv_depthwise_planes.h"
#endif
#include <stdint.h>
#include <string.h>

#include <type_traits>

#include "cpu/conv_depthwise.h"

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

template <class T, int B>
struct Lanes {
  typedef T V __attribute__((vector_size(B)));
  static constexpr int64_t L = B / sizeof(T);
  static V load(const T* p) {
    V v;
    memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(T* p, V v) { memcpy(p, &v, sizeof v); }
};

// The sum of a vector's lanes, halving it until one lane is left (lane by lane it was a chain of
// L dependent additions).
template <class T, int B>
inline T hsum(typename Lanes<T, B>::V v) {
  if constexpr (B == sizeof(T)) {
    return v[0];
  } else {
    typename Lanes<T, B / 2>::V lo, hi;
    memcpy(&lo, &v, B / 2);
    memcpy(&hi, reinterpret_cast<const char*>(&v) + B / 2, B / 2);
    return hsum<T, B / 2>(lo + hi);
  }
}

// ---- the correlation ------------------------------------------------------------------------

// acc[k] (+)= w[0] P[k + shift[0]] + w[1] P[k + shift[1]] + ... in tap order, for kCount vectors
// from k: the sums stay in registers across the taps.
template <class T, int B, int kCount>
inline void correlate_block(T* acc, const T* P, const T* w, const int64_t* shift, int64_t taps,
                            bool add) {
  using X = Lanes<T, B>;
  typename X::V a[kCount];
  for (int r = 0; r < kCount; ++r) a[r] = add ? X::load(acc + r * X::L) : typename X::V{};
  for (int64_t t = 0; t < taps; ++t) {
    const typename X::V wv = typename X::V{} + w[t];
    const T* src = P + shift[t];
    for (int r = 0; r < kCount; ++r) a[r] += wv * X::load(src + r * X::L);
  }
  for (int r = 0; r < kCount; ++r) X::store(acc + r * X::L, a[r]);
}

// The above for k < n, n a multiple of kDepthwiseSlack.
template <class T, int B>
void correlate(T* acc, const T* P, int64_t n, const T* w, const int64_t* shift, int64_t taps,
               bool add) {
  constexpr int64_t L = Lanes<T, B>::L;
  int64_t k = 0;
  for (; k + 8 * L <= n; k += 8 * L) correlate_block<T, B, 8>(acc + k, P + k, w, shift, taps, add);
  if (k + 4 * L <= n) correlate_block<T, B, 4>(acc + k, P + k, w, shift, taps, add), k += 4 * L;
  for (; k < n; k += L) correlate_block<T, B, 1>(acc + k, P + k, w, shift, taps, add);
}

// The dot products of G with P from shift[t] on, for each tap, added lane by lane to the vector
// sums at acc (L each, one per tap): G[0, n) is loaded once per eight taps.
template <class T, int B, int kCount>
inline void dots_block(T* acc, const T* G, const T* P, const int64_t* shift, int64_t n) {
  using X = Lanes<T, B>;
  typename X::V a[kCount];
  for (int t = 0; t < kCount; ++t) a[t] = X::load(acc + t * X::L);
  for (int64_t k = 0; k < n; k += X::L) {
    const typename X::V gv = X::load(G + k);
    for (int t = 0; t < kCount; ++t) a[t] += gv * X::load(P + shift[t] + k);
  }
  for (int t = 0; t < kCount; ++t) X::store(acc + t * X::L, a[t]);
}

template <class T, int B>
void dots(T* acc, const T* G, const T* P, const int64_t* shift, int64_t taps, int64_t n) {
  constexpr int64_t L = Lanes<T, B>::L;
  int64_t t = 0;
  for (; t + 8 <= taps; t += 8) dots_block<T, B, 8>(acc + t * L, G, P, shift + t, n);
  if (t + 4 <= taps) dots_block<T, B, 4>(acc + t * L, G, P, shift + t, n), t += 4;
  for (; t < taps; ++t) dots_block<T, B, 1>(acc + t * L, G, P, shift + t, n);
}

// ---- sums over a plane ----------------------------------------------------------------------

// acc's L lanes += a[0, n) in whole vectors; returns the sum of the last n mod L elements.
template <class T, int B>
T add_sum(T* acc, const T* a, int64_t n) {
  using X = Lanes<T, B>;
  typename X::V s = X::load(acc);
  int64_t k = 0;
  for (; k + X::L <= n; k += X::L) s += X::load(a + k);
  X::store(acc, s);
  T r = 0;
  for (; k < n; ++k) r += a[k];
  return r;
}

template <class T>
T dot_row(const T* a, const T* b, int64_t n) {
  T r = 0;
  for (int64_t k = 0; k < n; ++k) r += a[k] * b[k];
  return r;
}

// Whether a holds no inf or NaN (x * 0 is 0 for every finite x, NaN otherwise).
template <class T, int B>
bool all_finite(const T* a, int64_t n) {
  using X = Lanes<T, B>;
  typename X::V s = {};
  int64_t k = 0;
  for (; k + X::L <= n; k += X::L) s += X::load(a + k) * T(0);
  T r = hsum<T, B>(s);
  for (; k < n; ++k) r += a[k] * T(0);
  return r == T(0);
}

// ---- moving planes in and out of the flat layouts ---------------------------------------------

// dst's rows (Wd apart) get src's (h x w, contiguous); dst's places past each row, up to the
// next row and beyond it (its padding, spare columns or border), are zero. Whole vectors: each
// writes src's lanes and zeros in the lanes past the row, which fall on those zeros or on later
// rows, written afterwards (dst has a vector's slack past its last row; putting back what dst
// held there instead read each row's previous store, a stall per row). The last rows, where a
// vector would read past src, go element by element.
template <class T, int B>
void place(T* dst, int64_t Wd, const T* src, int64_t h, int64_t w) {
  using X = Lanes<T, B>;
  typedef typename std::conditional<sizeof(T) == 4, int32_t, int64_t>::type I;
  typedef I IV __attribute__((vector_size(B)));
  IV lane;
  for (int64_t i = 0; i < X::L; ++i) lane[i] = static_cast<I>(i);
  for (int64_t r = 0; r < h; ++r) {
    T* d = dst + r * Wd;
    const T* s = src + r * w;
    int64_t j = 0;
    for (; j < w && r * w + j + X::L <= h * w; j += X::L)
      X::store(d + j, lane < static_cast<I>(w - j) ? X::load(s + j) : typename X::V{});
    for (; j < w; ++j) d[j] = s[j];
  }
}

// The input plane xin (H x W) into its phase blocks; the padding's places are never written, so
// they keep the zeros the buffer started with.
template <class T, int B>
void fill_phases(T* buf, const T* xin, const DepthwiseLayout& f) {
  const Conv2dGeom& g = f.g;
  if (g.sh == 1 && g.sw == 1) return place<T, B>(buf + f.row_at[0] + g.pw, f.Wph, xin, g.H, g.W);
  for (int64_t r = 0; r < g.H; ++r) {
    T* rows = buf + f.row_at[r];
    const T* src = xin + r * g.W;
    if (g.sw == 2) {  // a constant stride: the compiler's vectoriser splits even and odd columns
      T* even = rows + f.col_at[f.col_first[0]];
      T* odd = rows + f.col_at[1 - f.col_first[0]];
      for (int64_t j = 0; j < g.W / 2; ++j) even[j] = src[2 * j], odd[j] = src[2 * j + 1];
      if (g.W % 2) even[g.W / 2] = src[g.W - 1];
      continue;
    }
    for (int64_t b = 0; b < g.sw; ++b) {  // the columns of phase b, one after another
      T* dst = rows + f.col_at[b];
      for (int64_t c = f.col_first[b], j = 0; c < g.W; c += g.sw, ++j) dst[j] = src[c];
    }
  }
}

// The inverse of fill_phases: the input plane's places of the phase blocks into xout (H x W).
template <class T>
void read_phases(T* xout, const T* buf, const DepthwiseLayout& f) {
  const Conv2dGeom& g = f.g;
  for (int64_t r = 0; r < g.H; ++r) {
    const T* rows = buf + f.row_at[r];
    T* dst = xout + r * g.W;
    if (g.sw == 2) {
      const T* even = rows + f.col_at[f.col_first[0]];
      const T* odd = rows + f.col_at[1 - f.col_first[0]];
      for (int64_t j = 0; j < g.W / 2; ++j) dst[2 * j] = even[j], dst[2 * j + 1] = odd[j];
      if (g.W % 2) dst[g.W - 1] = even[g.W / 2];
      continue;
    }
    for (int64_t b = 0; b < g.sw; ++b) {
      const T* src = rows + f.col_at[b];
      for (int64_t c = f.col_first[b], j = 0; c < g.W; c += g.sw, ++j) dst[c] = src[j];
    }
  }
}

// dst (h x w, contiguous) = the first w of each row of src (rows ws apart) [+ bias]. Whole
// vectors run past a row's end while they stay inside dst: what they write into the rows below
// is rewritten when those rows are stored (in order), so only the last rows go element by
// element. src has a vector's slack past its last row.
template <class T, int B, bool kBias>
void take_rows(T* dst, const T* src, int64_t h, int64_t w, int64_t ws, T bias) {
  using X = Lanes<T, B>;
  const int64_t plane = h * w;
  for (int64_t i = 0; i < h; ++i) {
    T* d = dst + i * w;
    const T* s = src + i * ws;
    int64_t j = 0;
    for (; j < w && i * w + j + X::L <= plane; j += X::L)
      X::store(d + j, kBias ? X::load(s + j) + bias : X::load(s + j));
    for (; j < w; ++j) d[j] = kBias ? s[j] + bias : s[j];
  }
}

// ---- the loops over planes --------------------------------------------------------------------

template <class T, int B>
void forward_planes(T* y, const T* x, const T* w, const T* b, const DepthwiseLayout& f, int64_t p0,
                    int64_t p1, T* P, T* acc) {
  const Conv2dGeom& g = f.g;
  const int64_t O = g.C * f.mult;
  for (int64_t p = p0; p < p1; ++p) {
    fill_phases<T, B>(P, x + p * g.H * g.W, f);
    const int64_t nn = p / g.C, c = p % g.C;
    for (int64_t k = 0; k < f.mult; ++k) {  // the mult output channels reuse the phase blocks
      const int64_t o = c * f.mult + k;
      correlate<T, B>(acc, P, f.n, w + o * f.taps, f.shift, f.taps, false);
      T* yo = y + (nn * O + o) * g.Ho * g.Wo;
      if (b)
        take_rows<T, B, true>(yo, acc, g.Ho, g.Wo, f.Wph, b[o]);
      else
        take_rows<T, B, false>(yo, acc, g.Ho, g.Wo, f.Wph, T(0));
    }
  }
}

template <class T, int B>
void input_grad_flat_planes(T* dx, const T* dy, const T* w, const DepthwiseLayout& f, int64_t p0,
                            int64_t p1, T* Q, T* acc) {
  const Conv2dGeom& g = f.g;
  const int64_t O = g.C * f.mult, plane_out = g.Ho * g.Wo;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t nn = p / g.C, c = p % g.C;
    for (int64_t k = 0; k < f.mult; ++k) {
      const int64_t o = c * f.mult + k;
      place<T, B>(Q + f.Ah * f.Wq + f.Aw, f.Wq, dy + (nn * O + o) * plane_out, g.Ho, g.Wo);
      correlate<T, B>(acc, Q, f.nq, w + o * f.taps, f.qshift, f.taps, k > 0);
    }
    take_rows<T, B, false>(dx + p * g.H * g.W, acc, g.H, g.W, f.Wq, T(0));
  }
}

// The forward's reads, reversed: phase block b of the input gradient is the correlation of dy
// (Wph wide, zeros in the spare columns and around it) with the weights of the taps that read
// block b, each at minus its place in the block; the sums stay in registers across the taps (each
// tap adding w dy into the blocks through memory read back every previous tap's stores). Needs
// finite weights: the zeros land on input places too.
template <class T, int B>
void input_grad_phase_planes(T* dx, const T* dy, const T* w, const DepthwiseLayout& f, int64_t p0,
                             int64_t p1, T* D, T* G, T* wt) {
  const Conv2dGeom& g = f.g;
  const int64_t O = g.C * f.mult, plane_out = g.Ho * g.Wo;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t nn = p / g.C, c = p % g.C;
    for (int64_t k = 0; k < f.mult; ++k) {
      const int64_t o = c * f.mult + k;
      place<T, B>(G + f.front, f.Wph, dy + (nn * O + o) * plane_out, g.Ho, g.Wo);
      for (int64_t i = 0; i < f.taps; ++i) wt[i] = w[o * f.taps + f.tap_of[i]];
      for (int64_t b = 0; b < g.sh * g.sw; ++b) {
        const int64_t i0 = f.block_start[b];
        correlate<T, B>(D + b * f.bstride, G, f.bstride, wt + i0, f.gshift + i0,
                        f.block_start[b + 1] - i0, k > 0);
      }
    }
    read_phases(dx + p * g.H * g.W, D, f);
  }
}

// dw[o, t] = sum over images of the dot product of dy's plane (Wph wide, zeros past Wo) with the
// phase blocks from tap t's shift on; db[o] = the sum of dy. The products add up lane by lane in
// vectors of the dtype, and those into double after every `span` images (each lane sums at most
// ~256 products between two such flushes): summing a vector's lanes after every small plane took
// longer than its products. The images are the outer loop, so each pass reads the range's planes
// of dy and x where they lie side by side in memory. The spans depend on the shape only.
// acc: (o1 - o0) (taps + 1) doubles; V: as many vectors (taps, then the bias, per channel).
template <class T, int B>
void weight_grad_channels(T* dw, T* db, const T* dy, const T* x, const DepthwiseLayout& f,
                          int64_t o0, int64_t o1, T* P, T* G, double* acc, T* V) {
  using X = Lanes<T, B>;
  constexpr int64_t L = X::L;
  const Conv2dGeom& g = f.g;
  const int64_t O = g.C * f.mult, plane_out = g.Ho * g.Wo, stride = f.taps + 1;
  const int64_t count = (o1 - o0) * stride;
  const int64_t span = f.n >= 256 * L ? 1 : 256 * L / f.n;
  for (int64_t k = 0; k < count; ++k) acc[k] = 0.0;
  for (int64_t n0 = 0; n0 < g.N; n0 += span) {
    for (int64_t k = 0; k < count * L; ++k) V[k] = T(0);
    for (int64_t nn = n0; nn < g.N && nn < n0 + span; ++nn)
      for (int64_t o = o0; o < o1; ++o) {
        double* a = acc + (o - o0) * stride;  // taps, then the bias
        T* va = V + (o - o0) * stride * L;
        const T* dyo = dy + (nn * O + o) * plane_out;
        if (db) a[f.taps] += add_sum<T, B>(va + f.taps * L, dyo, plane_out);
        if (!dw) continue;
        const T* xin = x + (nn * g.C + o / f.mult) * g.H * g.W;
        fill_phases<T, B>(P, xin, f);
        if (all_finite<T, B>(xin, g.H * g.W)) {
          place<T, B>(G, f.Wph, dyo, g.Ho, g.Wo);
          dots<T, B>(va, G, P, f.shift, f.taps, f.n);
        } else {  // the spare columns' zero gradient must not meet an inf: row by row
          for (int64_t t = 0; t < f.taps; ++t)
            for (int64_t i = 0; i < g.Ho; ++i)
              a[t] += dot_row(dyo + i * g.Wo, P + i * f.Wph + f.shift[t], g.Wo);
        }
      }
    for (int64_t k = 0; k < count; ++k) acc[k] += hsum<T, B>(X::load(V + k * L));
  }
  for (int64_t o = o0; o < o1; ++o) {
    const double* a = acc + (o - o0) * stride;
    if (dw)
      for (int64_t t = 0; t < f.taps; ++t) dw[o * f.taps + t] = static_cast<T>(a[t]);
    if (db) db[o] = static_cast<T>(a[f.taps]);
  }
}

// The unit's table for float.
template <int B>
constexpr DepthwiseLoops loops() {
  return {forward_planes<float, B>, input_grad_flat_planes<float, B>,
          input_grad_phase_planes<float, B>, weight_grad_channels<float, B>};
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
