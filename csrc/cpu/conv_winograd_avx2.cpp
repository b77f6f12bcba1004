// The Winograd F(2x2, 3x3) tile transforms (cpu/conv_winograd_tiles.h) for AVX2: a run is 8 tiles
// of one block, the lanes of a vector, cut into segments by tile rows. A segment's first lane f
// and first input column c0 put tile f + t at input columns c0 + 2t + [0, 4), so every segment of
// a run reads its row at the same lane positions, shifted by 2f columns: the run's input is one
// masked load per segment, the masks keeping each segment's lanes and the plane's columns, and the
// segments' loads OR-ed together. The even and odd columns then come out of two such vectors by a
// shuffle and a 64-bit permute.
//
// Writing back into y or dx never uses AVX2's masked store (vmaskmovps, microcoded on AMD cores).
// y is written by tile-row pieces (the segments of one tile row joined across runs) in whole
// vectors, lanes past the piece holding values that the pieces after it overwrite; a row's end
// takes a window shifted back inside the row. dx, where neighbouring tiles add into the same
// columns, takes windows of 8 columns inside the row: read, added with -0.0 in the lanes not
// written, stored whole. A row of y or dx belongs to one image, and one thread does every tile of
// an image (conv_winograd.cpp), so no other thread writes the lanes rewritten. Rows narrower than
// a vector go through a buffer.
//
// The matrices are those of conv_winograd_avx512.cpp: B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0;
// 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1]; the gradients run the maps transposed. Everything but the
// entry points has internal linkage.
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv_winograd_tiles.h"

namespace fastnn {
namespace avx2 {
namespace {

using V = __m256;
using I = __m256i;

inline V add(V a, V b) { return _mm256_add_ps(a, b); }
inline V sub(V a, V b) { return _mm256_sub_ps(a, b); }
inline V neg(V a) { return _mm256_sub_ps(_mm256_setzero_ps(), a); }

}  // namespace
}  // namespace avx2
}  // namespace fastnn

#define FASTNN_VEC_NS avx2
#include "cpu/conv_winograd_maps.h"  // apply_bt, apply_b over the three above

namespace fastnn {
namespace avx2 {
namespace {
inline V negzero() { return _mm256_set1_ps(-0.0f); }
inline I iota() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }

// All bits set in lanes [lo, hi), as a maskload or blendv mask.
inline I lanes(int64_t lo, int64_t hi) {
  const int l = lo < -1 ? -1 : lo > 8 ? 8 : static_cast<int>(lo);
  const int h = hi < -1 ? -1 : hi > 8 ? 8 : static_cast<int>(hi);
  const I i = iota();
  return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(l), i),
                             _mm256_cmpgt_epi32(_mm256_set1_epi32(h), i));
}
inline V select(V a, V b, I mask) { return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(mask)); }

// Lanes 0, 2, .., 14 (even) or 1, 3, .., 15 (odd) of the 16 lanes of (a, b).
inline V regroup(V s) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
}
inline V even(V a, V b) { return regroup(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))); }
inline V odd(V a, V b) { return regroup(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))); }
// The inverse: p[0] = a0 b0 a1 b1 a2 b2 a3 b3, p[1] the same for lanes 4..7.
inline void interleave(V a, V b, V* p) {
  const V lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);
  p[0] = _mm256_permute2f128_ps(lo, hi, 0x20);
  p[1] = _mm256_permute2f128_ps(lo, hi, 0x31);
}

// Lane p of the result is lane d + p of the nq vectors q laid end to end, `fill` past either end.
inline V window(const V* q, int nq, int64_t d, V fill) {
  const int64_t b = d >= 0 ? d / 8 : -((7 - d) / 8), r = d - 8 * b;
  const V lo = b >= 0 && b < nq ? q[b] : fill;
  if (r == 0) return lo;
  const V hi = b + 1 >= 0 && b + 1 < nq ? q[b + 1] : fill;
  const I idx = _mm256_add_epi32(iota(), _mm256_set1_epi32(static_cast<int>(r)));
  return select(_mm256_permutevar8x32_ps(lo, idx), _mm256_permutevar8x32_ps(hi, idx),
                _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7)));
}

// Columns [lo, hi) of a row of `len` floats, 0 <= lo < hi <= len, += the nq vectors q whose lane
// l holds column base + l.
inline void add_cols(float* row, int64_t len, const V* q, int nq, int64_t base, int64_t lo,
                     int64_t hi) {
  if (len < 8) {
    alignas(32) float buf[24];
    for (int k = 0; k < nq; ++k) _mm256_store_ps(buf + 8 * k, q[k]);
    for (int64_t c = lo; c < hi; ++c) row[c] += buf[c - base];
    return;
  }
  for (int64_t c = lo; c < hi; c += 8) {
    const int64_t w = c < len - 8 ? c : len - 8;  // the window [w, w + 8) stays in the row
    V v = window(q, nq, w - base, negzero());
    if (w != c || c + 8 > hi) v = select(negzero(), v, lanes(c - w, hi - w));
    _mm256_storeu_ps(row + w, add(_mm256_loadu_ps(row + w), v));
  }
}

// A run's segments, resolved, with the masks of the transform at hand.
struct Seg {
  int64_t n, th, a, len, first;  // image, tile row, first tile column, tiles, first lane
  int64_t c0;                    // the input column of its first tile's first column
  I mask[4];
};
struct Run {
  Seg s[kWinoMaxSegs];
  int nseg;
  bool whole;  // one segment of 8 tiles
};

enum class Kind { input, grad_output, grad_input };

Run resolve(const WinoGeom& g, const WinoRun& r, Kind kind) {
  Run u;
  u.nseg = 0;
  int64_t first = 0;
  for (int k = 0; k < kWinoMaxSegs && r.seg[k].len > 0; ++k) {
    const WinoSeg& q = r.seg[k];
    Seg& s = u.s[u.nseg++];
    s.n = q.n, s.th = q.th, s.a = q.a, s.len = q.len, s.first = first;
    s.c0 = 2 * q.a - g.pw;
    const int64_t f2 = 2 * first, l2 = 2 * q.len;
    // Pair-vector lane p (of the 16 lanes of halves h = 0, 1) is tile p / 2 of the run.
    if (kind == Kind::input) {
      // Column c0 - 2f + o + 8h + p of the row, o = 0 or 2.
      for (int o = 0; o < 2; ++o)
        for (int h = 0; h < 2; ++h) {
          const int64_t shift = s.c0 - f2 + 2 * o + 8 * h;
          const int64_t lo = f2 - 8 * h > -shift ? f2 - 8 * h : -shift;
          const int64_t hi = f2 + l2 - 8 * h < g.W - shift ? f2 + l2 - 8 * h : g.W - shift;
          s.mask[2 * o + h] = lanes(lo, hi);
        }
    } else if (kind == Kind::grad_output) {
      // Column 2a - 2f + 8h + p of the output row.
      for (int h = 0; h < 2; ++h) {
        const int64_t ncol = l2 < g.Wo - 2 * q.a ? l2 : g.Wo - 2 * q.a;
        s.mask[h] = lanes(f2 - 8 * h, f2 + ncol - 8 * h);
      }
    } else if (kind == Kind::grad_input) {
      for (int h = 0; h < 2; ++h) s.mask[h] = lanes(f2 - 8 * h, f2 + l2 - 8 * h);
    }
    first += q.len;
  }
  u.whole = u.nseg == 1 && first == 8;
  return u;
}

// Input row 2th - ph + i of tile row th of image n, channel c, or null outside the plane.
template <class T>
inline T* in_row(T* x, const WinoGeom& g, int64_t n, int64_t th, int64_t c, int i) {
  const int64_t ih = 2 * th - g.ph + i;
  return ih < 0 || ih >= g.H ? nullptr : x + ((n * g.C + c) * g.H + ih) * g.W;
}
// Output row 2th + i of tile row th of image n, channel o, or null past Ho.
template <class T>
inline T* out_row(T* p, const WinoGeom& g, int64_t n, int64_t th, int64_t o, int i) {
  const int64_t oh = 2 * th + i;
  return oh >= g.Ho ? nullptr : p + ((n * g.O + o) * g.Ho + oh) * g.Wo;
}

// Calls fn(run, resolved run, channel) for every channel of every run: runs resolved in chunks,
// channels the outer loop within a chunk (so the planes are read or written in order).
template <class F>
inline void for_channels(const WinoGeom& g, const WinoRun* runs, int64_t nruns, int64_t channels,
                         Kind kind, F&& fn) {
  constexpr int64_t kChunk = 8;
  Run us[kChunk];
  for (int64_t r0 = 0; r0 < nruns; r0 += kChunk) {
    const int64_t nr = nruns - r0 < kChunk ? nruns - r0 : kChunk;
    for (int64_t r = 0; r < nr; ++r) us[r] = resolve(g, runs[r0 + r], kind);
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t r = 0; r < nr; ++r) fn(runs[r0 + r], us[r], c);
  }
}

// The cache lines of the n floats at p, two channels ahead of the one being read: the loops run
// over the channels of a few tile rows, a few lines per plane, and without this the loads waited
// on L3 (on a Zen 3 core the 32 -> 64 forward on 14 x 14 images took 1.1x as long).
inline void prefetch_span(const float* p, int64_t n) {
  _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(p + n - 1), _MM_HINT_T0);
}

// NaN in `acc`'s lanes where v held an Inf or a NaN (v * 0 is NaN exactly there).
inline V check(V acc, V v) { return _mm256_fmadd_ps(v, _mm256_setzero_ps(), acc); }

// v (lane 0 of the run, channel c) = B^T d B.
inline void input_run(float* v, int64_t ld_xi, const float* x, const WinoGeom& g, const Run& u,
                      int64_t c, V& acc) {
  V d[4][4];  // d[i][j]: input row i, column j of every tile
  for (int i = 0; i < 4; ++i) {
    V l[2][2] = {{_mm256_setzero_ps(), _mm256_setzero_ps()},
                 {_mm256_setzero_ps(), _mm256_setzero_ps()}};  // [column offset 0, 2][half]
    for (int k = 0; k < u.nseg; ++k) {
      const Seg& s = u.s[k];
      const float* row = in_row(x, g, s.n, s.th, c, i);
      if (!row) continue;
      const float* p = row + s.c0 - 2 * s.first;
      if (c + 2 < g.C) prefetch_span(row + 2 * g.H * g.W + s.c0, 2 * s.len + 2);
      for (int o = 0; o < 2; ++o)
        for (int h = 0; h < 2; ++h)
          l[o][h] = _mm256_or_ps(l[o][h], _mm256_maskload_ps(p + 2 * o + 8 * h, s.mask[2 * o + h]));
    }
    for (int o = 0; o < 2; ++o) {
      acc = check(check(acc, l[o][0]), l[o][1]);
      d[i][2 * o] = even(l[o][0], l[o][1]);
      d[i][2 * o + 1] = odd(l[o][0], l[o][1]);
    }
  }
  V s[4][4];  // s[j][k]: column j of B^T d
  for (int j = 0; j < 4; ++j) {
    const V col[4] = {d[0][j], d[1][j], d[2][j], d[3][j]};
    apply_bt(col, s[j]);
  }
  for (int k = 0; k < 4; ++k) {
    const V row[4] = {s[0][k], s[1][k], s[2][k], s[3][k]};
    V t[4];
    apply_bt(row, t);
    for (int l = 0; l < 4; ++l) _mm256_storeu_ps(v + (4 * k + l) * ld_xi, t[l]);
  }
}

// A stretch of consecutive tiles of one tile row, at block column col of the row-layout operand.
struct Piece {
  int64_t n, th, a, len, col;
};

// The runs' segments as pieces, the segments of one tile row that follow each other joined.
int64_t make_pieces(Piece* out, const WinoRun* runs, int64_t nruns) {
  int64_t count = 0;
  for (int64_t r = 0; r < nruns; ++r) {
    int64_t first = 0;
    for (int k = 0; k < kWinoMaxSegs && runs[r].seg[k].len > 0; ++k) {
      const WinoSeg& q = runs[r].seg[k];
      Piece* last = count ? &out[count - 1] : nullptr;
      if (last && last->n == q.n && last->th == q.th && last->a + last->len == q.a)
        last->len += q.len;
      else
        out[count++] = Piece{q.n, q.th, q.a, q.len, runs[r].at + first};
      first += q.len;
    }
  }
  return count;
}

// y tiles of a piece, channel o = A^T m A + bias, m at the piece's first tile. Eight tiles at a
// time give two vectors of each output row; each is stored whole where it ends inside the row,
// its lanes past the piece holding values that the pieces after it (later, on this thread)
// overwrite. The row's last columns come from a window shifted back to end at the row's end,
// plain where it starts inside the piece, blended into y where it reaches an earlier piece.
inline void output_piece(float* y, const float* m, int64_t ld_xi, float bias, const WinoGeom& g,
                         const Piece& pc, int64_t o) {
  float* const rows[2] = {out_row(y, g, pc.n, pc.th, o, 0), out_row(y, g, pc.n, pc.th, o, 1)};
  const int64_t lo = 2 * pc.a, hi = lo + 2 * pc.len < g.Wo ? lo + 2 * pc.len : g.Wo;
  const V bv = _mm256_set1_ps(bias);
  V q[2][4];  // per output row: the previous 8 tiles' two vectors, then this 8's
  for (int i = 0; i < 2; ++i) q[i][0] = q[i][1] = _mm256_setzero_ps();
  for (int64_t t0 = 0; t0 < pc.len; t0 += 8, m += 8) {
    V mv[16];
    for (int xi = 0; xi < 16; ++xi) mv[xi] = _mm256_loadu_ps(m + xi * ld_xi);
    V t[2][4];  // A^T m: rows 0 and 1, columns l
    for (int l = 0; l < 4; ++l) {
      t[0][l] = add(add(mv[l], mv[4 + l]), mv[8 + l]);
      t[1][l] = sub(sub(mv[4 + l], mv[8 + l]), mv[12 + l]);
    }
    const int64_t base = lo + 2 * t0;  // the output column of lane 0 of q[i][2]
    for (int i = 0; i < 2; ++i) {
      interleave(add(add(add(t[i][0], t[i][1]), t[i][2]), bv),
                 add(sub(sub(t[i][1], t[i][2]), t[i][3]), bv), q[i] + 2);
      float* row = rows[i];
      if (!row) continue;
      if (g.Wo < 8) {  // narrower than a vector: through a buffer
        alignas(32) float buf[16];
        _mm256_store_ps(buf, q[i][2]);
        _mm256_store_ps(buf + 8, q[i][3]);
        const int64_t end = base + 16 < hi ? base + 16 : hi;
        for (int64_t c = base; c < end; ++c) row[c] = buf[c - base];
        continue;
      }
      for (int h = 0; h < 2; ++h) {
        const int64_t c = base + 8 * h;
        if (c >= hi) break;
        if (c + 8 <= g.Wo) {
          _mm256_storeu_ps(row + c, q[i][2 + h]);
          continue;
        }
        const int64_t w = g.Wo - 8;
        const V v = window(q[i], 4, w - (base - 16), negzero());
        if (w >= lo) {
          _mm256_storeu_ps(row + w, v);
        } else {
          const V old = _mm256_loadu_ps(row + w);
          _mm256_storeu_ps(row + w, select(old, v, lanes(lo - w, hi - w)));
        }
      }
      q[i][0] = q[i][2], q[i][1] = q[i][3];
    }
  }
}

// m (lane 0 of the run, channel o) = A dy A^T.
inline void grad_output_run(float* m, int64_t ld_xi, const float* dy, const WinoGeom& g,
                            const Run& u, int64_t o, V& acc) {
  V d[2][2];  // d[row][column] of the tiles' dy
  for (int i = 0; i < 2; ++i) {
    V l[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int k = 0; k < u.nseg; ++k) {
      const Seg& s = u.s[k];
      const float* row = out_row(dy, g, s.n, s.th, o, i);
      if (!row) continue;
      const float* p = row + 2 * s.a - 2 * s.first;
      if (o + 2 < g.O) prefetch_span(row + 2 * g.Ho * g.Wo + 2 * s.a, 2 * s.len);
      for (int h = 0; h < 2; ++h)
        l[h] = _mm256_or_ps(l[h], _mm256_maskload_ps(p + 8 * h, s.mask[h]));
    }
    acc = check(check(acc, l[0]), l[1]);
    d[i][0] = even(l[0], l[1]);
    d[i][1] = odd(l[0], l[1]);
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
    _mm256_storeu_ps(m, w[k][0]);
    _mm256_storeu_ps(m + ld_xi, add(w[k][0], w[k][1]));
    _mm256_storeu_ps(m + 2 * ld_xi, sub(w[k][0], w[k][1]));
    _mm256_storeu_ps(m + 3 * ld_xi, neg(w[k][1]));
  }
}

// dx of channel c += B v B^T.
inline void grad_input_run(float* dx, const float* v, int64_t ld_xi, const WinoGeom& g,
                           const Run& u, int64_t c) {
  V e[4][4];  // e[l][i] = (B dv)[i][l]: column l of the row pass
  for (int l = 0; l < 4; ++l) {
    V col[4];
    for (int k = 0; k < 4; ++k) col[k] = _mm256_loadu_ps(v + (4 * k + l) * ld_xi);
    apply_b(col, e[l]);
  }
  for (int i = 0; i < 4; ++i) {
    const V row[4] = {e[0][i], e[1][i], e[2][i], e[3][i]};
    V dd[4];  // dd[j]: input column c0 + 2t + j of tile t
    apply_b(row, dd);
    V a[2], b[2];  // columns 0, 1 and columns 2, 3 of the tiles, interleaved
    interleave(dd[0], dd[1], a);
    interleave(dd[2], dd[3], b);
    for (int k = 0; k < u.nseg; ++k) {
      const Seg& s = u.s[k];
      float* p = in_row(dx, g, s.n, s.th, c, i);
      if (!p) continue;
      V sa[2] = {a[0], a[1]}, sb[2] = {b[0], b[1]};
      if (!u.whole) {  // keep this segment's tiles; -0.0 adds nothing
        for (int h = 0; h < 2; ++h) {
          sa[h] = select(negzero(), a[h], s.mask[h]);
          sb[h] = select(negzero(), b[h], s.mask[h]);
        }
      }
      // Columns 2, 3 of tile t fall on columns 0, 1 of tile t + 1: two lanes up, then the sum.
      const V q[3] = {add(sa[0], window(sb, 2, -2, negzero())),
                      add(sa[1], window(sb, 2, 6, negzero())), window(sb, 2, 14, negzero())};
      const int64_t lo = s.c0 > 0 ? s.c0 : 0;
      const int64_t hi = s.c0 + 2 * s.len + 2 < g.W ? s.c0 + 2 * s.len + 2 : g.W;
      if (lo < hi) add_cols(p, g.W, q, 3, s.c0 - 2 * s.first, lo, hi);
    }
  }
}

bool any_nan(V acc) { return _mm256_movemask_ps(_mm256_cmp_ps(acc, acc, _CMP_UNORD_Q)) != 0; }

// The four lane sums of q[0..3], in that order.
inline __m128 sum4(const V* q) {
  const V h = _mm256_hadd_ps(_mm256_hadd_ps(q[0], q[1]), _mm256_hadd_ps(q[2], q[3]));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// Rows [r0, r0 + RB) by [s0, s0 + SB) of wino_dot: RB x SB sums in the lanes of as many
// registers, 8 tiles a step, each loaded vector used SB or RB times; the last step's lanes past
// nc masked off. Then each sum's lanes are added and the block's sum goes to du.
template <int RB, int SB>
void dot_block(float* du, int64_t ld, const WinoRows& a, const WinoRows& b, int64_t r0, int64_t s0,
               int64_t nc, bool accumulate) {
  V acc[RB][SB];
  for (int i = 0; i < RB; ++i)
    for (int j = 0; j < SB; ++j) acc[i][j] = _mm256_setzero_ps();
  const float* pa = a.p + r0 * a.row;
  const float* pb = b.p + s0 * b.row;
  auto step = [&](int64_t t, auto load) {
    const int64_t ta = t / 16 * a.panel + t % 16, tb = t / 16 * b.panel + t % 16;
    V av[RB];
    for (int i = 0; i < RB; ++i) av[i] = load(pa + ta + i * a.row);
    for (int j = 0; j < SB; ++j) {
      const V bv = load(pb + tb + j * b.row);
      for (int i = 0; i < RB; ++i) acc[i][j] = _mm256_fmadd_ps(av[i], bv, acc[i][j]);
    }
  };
  const int64_t whole = nc / 8 * 8;
  for (int64_t t = 0; t < whole; t += 8) step(t, [](const float* p) { return _mm256_loadu_ps(p); });
  if (whole < nc) {
    const I mask = lanes(0, nc - whole);
    step(whole, [&](const float* p) { return _mm256_maskload_ps(p, mask); });
  }
  for (int i = 0; i < RB; ++i) {
    V q[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int j = 0; j < SB; ++j) q[j] = acc[i][j];
    alignas(16) float sums[4];
    _mm_store_ps(sums, sum4(q));
    float* d = du + (r0 + i) * ld + s0;
    for (int j = 0; j < SB; ++j) d[j] = accumulate ? d[j] + sums[j] : sums[j];
  }
}

// Blocks of 3 rows by 4 columns: 12 sums and the 3 row vectors of a step in registers, with one of
// b's at a time (16 in all); edges with the smaller blocks.
template <int RB>
void dot_rows(float* du, int64_t ld, const WinoRows& a, const WinoRows& b, int64_t r0, int64_t S,
              int64_t nc, bool accumulate) {
  int64_t s0 = 0;
  for (; s0 + 4 <= S; s0 += 4) dot_block<RB, 4>(du, ld, a, b, r0, s0, nc, accumulate);
  switch (S - s0) {
    case 3:
      return dot_block<RB, 3>(du, ld, a, b, r0, s0, nc, accumulate);
    case 2:
      return dot_block<RB, 2>(du, ld, a, b, r0, s0, nc, accumulate);
    case 1:
      return dot_block<RB, 1>(du, ld, a, b, r0, s0, nc, accumulate);
    default:
      return;
  }
}

}  // namespace
}  // namespace avx2

bool wino_input_f32_avx2(float* v, int64_t ld_xi, int64_t ld_c, const float* x, const WinoGeom& g,
                         const WinoRun* runs, int64_t nruns) {
  __m256 acc = _mm256_setzero_ps();
  avx2::for_channels(g, runs, nruns, g.C, avx2::Kind::input,
                     [&](const WinoRun& r, const avx2::Run& u, int64_t c) {
                       avx2::input_run(v + r.at + c * ld_c, ld_xi, x, g, u, c, acc);
                     });
  return avx2::any_nan(acc);
}
void wino_output_f32_avx2(float* y, const float* m, int64_t ld_xi, int64_t ld_o, const float* bias,
                          const WinoGeom& g, const WinoRun* runs, int64_t nruns) {
  // Channels the outer loop within a chunk of runs (each plane of y written in order).
  constexpr int64_t kChunk = 16;
  avx2::Piece pieces[kChunk * kWinoMaxSegs];
  for (int64_t r0 = 0; r0 < nruns; r0 += kChunk) {
    const int64_t np =
        avx2::make_pieces(pieces, runs + r0, nruns - r0 < kChunk ? nruns - r0 : kChunk);
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t k = 0; k < np; ++k)
        avx2::output_piece(y, m + pieces[k].col + o * ld_o, ld_xi, bias ? bias[o] : 0.0f, g,
                           pieces[k], o);
  }
}
bool wino_grad_output_f32_avx2(float* m, int64_t ld_xi, int64_t ld_o, const float* dy,
                               const WinoGeom& g, const WinoRun* runs, int64_t nruns) {
  __m256 acc = _mm256_setzero_ps();
  avx2::for_channels(g, runs, nruns, g.O, avx2::Kind::grad_output,
                     [&](const WinoRun& r, const avx2::Run& u, int64_t o) {
                       avx2::grad_output_run(m + r.at + o * ld_o, ld_xi, dy, g, u, o, acc);
                     });
  return avx2::any_nan(acc);
}
void wino_grad_input_f32_avx2(float* dx, const float* v, int64_t ld_xi, int64_t ld_c,
                              const WinoGeom& g, const WinoRun* runs, int64_t nruns) {
  avx2::for_channels(g, runs, nruns, g.C, avx2::Kind::grad_input,
                     [&](const WinoRun& r, const avx2::Run& u, int64_t c) {
                       avx2::grad_input_run(dx, v + r.at + c * ld_c, ld_xi, g, u, c);
                     });
}

void wino_dot_f32_avx2(float* du, int64_t ld, WinoRows a, WinoRows b, int64_t R, int64_t S,
                       int64_t nc, bool accumulate) {
  int64_t r0 = 0;
  for (; r0 + 3 <= R; r0 += 3) avx2::dot_rows<3>(du, ld, a, b, r0, S, nc, accumulate);
  if (R - r0 == 2) avx2::dot_rows<2>(du, ld, a, b, r0, S, nc, accumulate);
  if (R - r0 == 1) avx2::dot_rows<1>(du, ld, a, b, r0, S, nc, accumulate);
}

}  // namespace fastnn
