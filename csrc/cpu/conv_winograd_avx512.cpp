// The Winograd F(2x2, 3x3) tile transforms (cpu/conv_winograd_tiles.h) for AVX-512: the tiles of a
// run are the lanes of a vector, so each transform is a few adds on whole vectors. Tile t of a
// segment reads input columns c0 + 2t + [0, 4): its even and odd columns come out of two input
// vectors by one two-source permute each (two consecutive vectors of one row for a long segment,
// one vector of each row for two short ones); the output side interleaves them back. Masked loads
// give the padding zeros and masked stores keep every write inside the plane. Everything but the
// entry points has internal linkage.
//
// The matrices (correlation, as conv2d computes it), with y = A^T [(G g G^T) * (B^T d B)] A:
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   A^T = [1 1 1 0; 0 1 -1 -1]
// The gradients run the same maps transposed: dm = A dy A^T, dd = B dv B^T.
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv_winograd_tiles.h"
#include "cpu/lane_mask_avx512.h"

namespace fastnn {
namespace avx512 {
namespace {

using V = __m512;

inline V add(V a, V b) { return _mm512_add_ps(a, b); }
inline V sub(V a, V b) { return _mm512_sub_ps(a, b); }
inline V neg(V a) { return _mm512_sub_ps(_mm512_setzero_ps(), a); }

}  // namespace
}  // namespace avx512
}  // namespace fastnn

#define FASTNN_VEC_NS avx512
#include "cpu/conv_winograd_maps.h"  // apply_bt, apply_b over the three above

namespace fastnn {
namespace avx512 {
namespace {

// p[i] for the lanes i with start + i in [lo, hi), zero elsewhere (no other address is read).
inline V load_range(const float* p, int64_t start, int64_t lo, int64_t hi) {
  const __mmask16 m = lanes(lo - start, hi - start);
  return m ? _mm512_maskz_loadu_ps(m, p + start) : _mm512_setzero_ps();
}

// Lanes holding an Inf or a NaN (quiet NaN, +Inf, -Inf, signalling NaN).
inline __mmask16 nonfinite(V v) { return _mm512_fpclass_ps_mask(v, 0x99); }

inline V permute2(V a, __m512i idx, V b) { return _mm512_permutex2var_ps(a, idx, b); }
// Permute indices, built where used (a namespace-scope vector constant would run AVX-512 code at
// load time, on every CPU).
inline __m512i even() {
  return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}
inline __m512i odd() {
  return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}
// Lane t + 1 of the first source, its last lane from lane 0 (next0) or 1 (next1) of the second.
inline __m512i next0() {
  return _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
}
inline __m512i next1() {
  return _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
}
// Interleave two vectors: lanes 0..7 of each (low), lanes 8..15 (high).
inline __m512i low() {
  return _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
inline __m512i high() {
  return _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

// A run's segments, resolved: for segment s, its first input column c0 (of tile column a), the
// input columns [lo, hi) it reads inside the plane, as lanes of a vector loaded at c0 (cols), the
// output columns it writes (ncol), and the lane its tiles start at (first).
struct Seg {
  int64_t n, th, c0, ncol, first, len;
  __mmask16 cols, out;  // input columns of a 16-wide load at c0; output columns at 2a
};
struct Run {
  Seg s[2];
  int nseg;
  bool wide;        // one segment of up to 16 tiles: loads of 32 (+2) columns
  __mmask16 lanes;  // the run's tiles
  __m512i pick[4];  // short segments: lane t takes column 2t + j of its segment's vector
  __m512i inter;    // short segments: interleave for segment 1 (segment 0 uses low())
};

Run resolve(const WinoGeom& g, const WinoRun& r) {
  Run u;
  u.nseg = r.seg[1].len > 0 ? 2 : 1;
  u.wide = r.seg[0].len > 7;
  int64_t first = 0;
  for (int s = 0; s < u.nseg; ++s) {
    const WinoSeg& q = r.seg[s];
    Seg& d = u.s[s];
    d.n = q.n, d.th = q.th, d.len = q.len, d.first = first;
    d.c0 = 2 * q.a - g.pw;
    const int64_t end = d.c0 + 2 * q.len + 2 < g.W ? d.c0 + 2 * q.len + 2 : g.W;
    d.cols = lanes(-d.c0, end - d.c0);
    d.ncol = 2 * q.len < g.Wo - 2 * q.a ? 2 * q.len : g.Wo - 2 * q.a;
    d.out = lanes(0, d.ncol);
    first += q.len;
  }
  u.lanes = lanes(0, first);
  const __m512i two =
      _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
  const int64_t len0 = r.seg[0].len;
  const __m512i idx = _mm512_mask_add_epi32(two, lanes(len0, 16), two,
                                            _mm512_set1_epi32(static_cast<int>(16 - 2 * len0)));
  for (int j = 0; j < 4; ++j) u.pick[j] = _mm512_add_epi32(idx, _mm512_set1_epi32(j));
  u.inter = _mm512_add_epi32(low(), _mm512_set1_epi32(static_cast<int>(len0)));
  return u;
}

// The input row 2th - ph + i of segment s, channel c (null outside the plane); p = x or dx.
template <class T>
inline T* in_row(T* x, const WinoGeom& g, const Seg& s, int64_t c, int i) {
  const int64_t ih = 2 * s.th - g.ph + i;
  return ih < 0 || ih >= g.H ? nullptr : x + ((s.n * g.C + c) * g.H + ih) * g.W;
}

// d[j] lane t = input column c0 + 2t + j of row i of channel c (tile t of the run).
inline void gather_row(V* d, const float* x, const WinoGeom& g, const Run& u, int64_t c, int i,
                       __mmask16& bad) {
  if (u.wide) {
    const Seg& s = u.s[0];
    const float* row = in_row(x, g, s, c, i);
    if (!row) {
      d[0] = d[1] = d[2] = d[3] = _mm512_setzero_ps();
      return;
    }
    const int64_t hi = s.c0 + 2 * s.len + 2 < g.W ? s.c0 + 2 * s.len + 2 : g.W;
    const V l0 = load_range(row, s.c0, 0, hi), l1 = load_range(row, s.c0 + 16, 0, hi);
    const V l2 = load_range(row, s.c0 + 32, 0, hi);
    bad |= nonfinite(l0) | nonfinite(l1) | nonfinite(l2);
    d[0] = permute2(l0, even(), l1);
    d[1] = permute2(l0, odd(), l1);
    d[2] = permute2(d[0], next0(), l2);
    d[3] = permute2(d[1], next1(), l2);
    return;
  }
  V l[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int k = 0; k < u.nseg; ++k) {
    const Seg& s = u.s[k];
    const float* row = in_row(x, g, s, c, i);
    if (row && s.cols) l[k] = _mm512_maskz_loadu_ps(s.cols, row + s.c0);
  }
  bad |= nonfinite(l[0]) | nonfinite(l[1]);
  for (int j = 0; j < 4; ++j) d[j] = permute2(l[0], u.pick[j], l[1]);
}

// Output row 2th + i of segment s, channel o (null past Ho); p = y or dy.
template <class T>
inline T* out_row(T* p, const WinoGeom& g, const Seg& s, int64_t o, int i) {
  const int64_t oh = 2 * s.th + i;
  return oh >= g.Ho ? nullptr : p + ((s.n * g.O + o) * g.Ho + oh) * g.Wo + (s.c0 + g.pw);
}

// Calls fn(run, resolved run, channel) for every channel of every run: runs resolved in chunks,
// channels the outer loop within a chunk (so the planes are read or written in order).
template <class F>
inline void for_channels(const WinoGeom& g, const WinoRun* runs, int64_t nruns, int64_t channels,
                         F&& fn) {
  constexpr int64_t kChunk = 32;
  Run us[kChunk];
  for (int64_t r0 = 0; r0 < nruns; r0 += kChunk) {
    const int64_t nr = nruns - r0 < kChunk ? nruns - r0 : kChunk;
    for (int64_t r = 0; r < nr; ++r) us[r] = resolve(g, runs[r0 + r]);
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t r = 0; r < nr; ++r) fn(runs[r0 + r], us[r], c);
  }
}

// v (lane 0 of the run, channel c) = B^T d B.
inline void input_run(float* v, int64_t ld_xi, const float* x, const WinoGeom& g, const Run& u,
                      int64_t c, __mmask16& bad) {
  V d[4][4];  // d[i][j]: input row i, column j of every tile
  for (int i = 0; i < 4; ++i) gather_row(d[i], x, g, u, c, i, bad);
  V s[4][4];  // s[j][k]: column j of B^T d
  for (int j = 0; j < 4; ++j) {
    const V col[4] = {d[0][j], d[1][j], d[2][j], d[3][j]};
    apply_bt(col, s[j]);
  }
  for (int k = 0; k < 4; ++k) {
    const V row[4] = {s[0][k], s[1][k], s[2][k], s[3][k]};
    V t[4];
    apply_bt(row, t);
    for (int l = 0; l < 4; ++l) _mm512_mask_storeu_ps(v + (4 * k + l) * ld_xi, u.lanes, t[l]);
  }
}

// y tiles of channel o = A^T m A + bias.
inline void output_run(float* y, const float* m, int64_t ld_xi, float bias, const WinoGeom& g,
                       const Run& u, int64_t o) {
  V mv[16];
  for (int xi = 0; xi < 16; ++xi) mv[xi] = _mm512_maskz_loadu_ps(u.lanes, m + xi * ld_xi);
  V t[2][4];  // A^T m: rows 0 and 1, columns l
  for (int l = 0; l < 4; ++l) {
    t[0][l] = add(add(mv[l], mv[4 + l]), mv[8 + l]);
    t[1][l] = sub(sub(mv[4 + l], mv[8 + l]), mv[12 + l]);
  }
  const V bv = _mm512_set1_ps(bias);
  for (int i = 0; i < 2; ++i) {
    const V y0 = add(add(add(t[i][0], t[i][1]), t[i][2]), bv);
    const V y1 = add(sub(sub(t[i][1], t[i][2]), t[i][3]), bv);
    for (int k = 0; k < u.nseg; ++k) {
      const Seg& s = u.s[k];
      float* row = out_row(y, g, s, o, i);
      if (!row) continue;
      if (u.wide) {
        _mm512_mask_storeu_ps(row, s.out, permute2(y0, low(), y1));
        const __mmask16 hi = lanes(0, s.ncol - 16);
        if (hi) _mm512_mask_storeu_ps(row + 16, hi, permute2(y0, high(), y1));
      } else {
        _mm512_mask_storeu_ps(row, s.out, permute2(y0, k ? u.inter : low(), y1));
      }
    }
  }
}

// m (lane 0 of the run, channel o) = A dy A^T.
inline void grad_output_run(float* m, int64_t ld_xi, const float* dy, const WinoGeom& g,
                            const Run& u, int64_t o, __mmask16& bad) {
  V d[2][2];  // d[row][column] of the tiles' dy
  for (int i = 0; i < 2; ++i) {
    if (u.wide) {
      const Seg& s = u.s[0];
      const float* row = out_row(dy, g, s, o, i);
      const __mmask16 hi = lanes(0, s.ncol - 16);
      const V l0 = row ? _mm512_maskz_loadu_ps(s.out, row) : _mm512_setzero_ps();
      const V l1 = row && hi ? _mm512_maskz_loadu_ps(hi, row + 16) : _mm512_setzero_ps();
      bad |= nonfinite(l0) | nonfinite(l1);
      d[i][0] = permute2(l0, even(), l1);
      d[i][1] = permute2(l0, odd(), l1);
    } else {
      V l[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
      for (int k = 0; k < u.nseg; ++k) {
        const float* row = out_row(dy, g, u.s[k], o, i);
        if (row) l[k] = _mm512_maskz_loadu_ps(u.s[k].out, row);
      }
      bad |= nonfinite(l[0]) | nonfinite(l[1]);
      d[i][0] = permute2(l[0], u.pick[0], l[1]);
      d[i][1] = permute2(l[0], u.pick[1], l[1]);
    }
  }
  // w = A dy (rows k), then m = w A^T (columns l); A = [1 0; 1 1; 1 -1; 0 -1].
  V w[4][2];
  for (int j = 0; j < 2; ++j) {
    w[0][j] = d[0][j];
    w[1][j] = add(d[0][j], d[1][j]);
    w[2][j] = sub(d[0][j], d[1][j]);
    w[3][j] = neg(d[1][j]);
  }
  for (int k = 0; k < 4; ++k, m += 4 * ld_xi) {
    _mm512_mask_storeu_ps(m, u.lanes, w[k][0]);
    _mm512_mask_storeu_ps(m + ld_xi, u.lanes, add(w[k][0], w[k][1]));
    _mm512_mask_storeu_ps(m + 2 * ld_xi, u.lanes, sub(w[k][0], w[k][1]));
    _mm512_mask_storeu_ps(m + 3 * ld_xi, u.lanes, neg(w[k][1]));
  }
}

// Two lanes up: lane i of the result is lane i - 2 of (hi:lo), zero below.
inline V up2(__m512i hi, __m512i lo) {
  return _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(0xFFFF, hi, lo, 14));
}

// dx of channel c += B v B^T.
inline void grad_input_run(float* dx, const float* v, int64_t ld_xi, const WinoGeom& g,
                           const Run& u, int64_t c) {
  const __m512i zero = _mm512_setzero_si512();
  V e[4][4];  // e[l][i] = (B dv)[i][l]: column l of the row pass
  for (int l = 0; l < 4; ++l) {
    V col[4];
    for (int k = 0; k < 4; ++k) col[k] = _mm512_maskz_loadu_ps(u.lanes, v + (4 * k + l) * ld_xi);
    apply_b(col, e[l]);
  }
  for (int i = 0; i < 4; ++i) {
    const V row[4] = {e[0][i], e[1][i], e[2][i], e[3][i]};
    V dd[4];  // dd[j]: input column c0 + 2t + j of tile t
    apply_b(row, dd);
    // Columns 0, 1 of the tiles interleaved start at c0; columns 2, 3 start at c0 + 2, so they are
    // shifted two lanes up before the add (the overlap of neighbouring tiles).
    for (int k = 0; k < u.nseg; ++k) {
      const Seg& s = u.s[k];
      float* p = in_row(dx, g, s, c, i);
      if (!p) continue;
      p += s.c0;
      if (u.wide) {
        const __m512i lo1 = _mm512_castps_si512(permute2(dd[2], low(), dd[3]));
        const __m512i hi1 = _mm512_castps_si512(permute2(dd[2], high(), dd[3]));
        const V sum[3] = {add(permute2(dd[0], low(), dd[1]), up2(lo1, zero)),
                          add(permute2(dd[0], high(), dd[1]), up2(hi1, lo1)), up2(zero, hi1)};
        const int64_t end = s.c0 + 2 * s.len + 2 < g.W ? s.c0 + 2 * s.len + 2 : g.W;
        for (int q = 0; q < 3; ++q) {
          const __mmask16 mq = lanes(-(s.c0 + 16 * q), end - (s.c0 + 16 * q));
          if (mq)
            _mm512_mask_storeu_ps(p + 16 * q, mq,
                                  add(_mm512_maskz_loadu_ps(mq, p + 16 * q), sum[q]));
        }
      } else if (s.cols) {
        // Only this segment's 2 * len interleaved lanes: the next ones hold the other segment.
        const __m512i ix = k ? u.inter : low();
        const __mmask16 own = lanes(0, 2 * s.len);
        const __m512i lo1 =
            _mm512_castps_si512(_mm512_maskz_permutex2var_ps(own, dd[2], ix, dd[3]));
        const V sum = add(_mm512_maskz_permutex2var_ps(own, dd[0], ix, dd[1]), up2(lo1, zero));
        _mm512_mask_storeu_ps(p, s.cols, add(_mm512_maskz_loadu_ps(s.cols, p), sum));
      }
    }
  }
}

}  // namespace
}  // namespace avx512

bool wino_input_f32_avx512(float* v, int64_t ld_xi, int64_t ld_c, const float* x, const WinoGeom& g,
                           const WinoRun* runs, int64_t nruns) {
  __mmask16 bad = 0;
  avx512::for_channels(g, runs, nruns, g.C, [&](const WinoRun& r, const avx512::Run& u, int64_t c) {
    avx512::input_run(v + r.at + c * ld_c, ld_xi, x, g, u, c, bad);
  });
  return bad != 0;
}
void wino_output_f32_avx512(float* y, const float* m, int64_t ld_xi, int64_t ld_o,
                            const float* bias, const WinoGeom& g, const WinoRun* runs,
                            int64_t nruns) {
  avx512::for_channels(g, runs, nruns, g.O, [&](const WinoRun& r, const avx512::Run& u, int64_t o) {
    avx512::output_run(y, m + r.at + o * ld_o, ld_xi, bias ? bias[o] : 0.0f, g, u, o);
  });
}
bool wino_grad_output_f32_avx512(float* m, int64_t ld_xi, int64_t ld_o, const float* dy,
                                 const WinoGeom& g, const WinoRun* runs, int64_t nruns) {
  __mmask16 bad = 0;
  avx512::for_channels(g, runs, nruns, g.O, [&](const WinoRun& r, const avx512::Run& u, int64_t o) {
    avx512::grad_output_run(m + r.at + o * ld_o, ld_xi, dy, g, u, o, bad);
  });
  return bad != 0;
}
void wino_grad_input_f32_avx512(float* dx, const float* v, int64_t ld_xi, int64_t ld_c,
                                const WinoGeom& g, const WinoRun* runs, int64_t nruns) {
  avx512::for_channels(g, runs, nruns, g.C, [&](const WinoRun& r, const avx512::Run& u, int64_t c) {
    avx512::grad_input_run(dx, v + r.at + c * ld_c, ld_xi, g, u, c);
  });
}

}  // namespace fastnn
