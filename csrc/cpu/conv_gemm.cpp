// conv2d forward and input gradient by packed im2col: the patch matrix is never materialised; the
// patches of one block of output pixels are written straight into the micro-kernel's B-panel order
// and multiplied there by the weights, packed once per call as the A operand.
//
// Stride 1 (most layers) takes the shifted-panel variant below ([note: shifted panels]), where a
// panel row is a plain slice of the zero-padded image; other strides the general one here.
//
// [note: packed im2col] Output pixels are numbered globally, q = n*L + oh*Wo + ow (L = Ho*Wo), and
// cut into blocks of `ncb` columns (a multiple of NR) whose panels fit in L2:
//   forward  y[:, q-block] = [W | b] (O x K+1) @ patches (K+1 x block), the last patch row all ones
//            so the bias rides in the GEMM instead of a separate pass. Each thread packs its own
//            blocks (no shared scratch); every output element is one micro-kernel call over the
//            full K, so the result does not depend on the thread count. A panel that lies in one
//            image stores straight into y (row stride L); one that crosses an image or the end goes
//            through a tile buffer.
//   dx       dpatches (K x block) = W^T @ dy-block, then the adjoint of the gather adds each entry
//            into dx. One task per image, blocks within the image, so every dx element has one
//            writer and its terms are added in an order fixed by the geometry alone.
// The micro-kernel runs the whole K in one call (no K blocking, no partial sums in C): the B panel
// (K x NR, 36 KiB for the CNN's 32->64 layer) mostly stays in L1 and is otherwise re-read from L2
// far below L2's bandwidth.
#include "cpu/conv_gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include "cpu/conv_pack.h"
#include "cpu/gemm_ukernels.h"
#include "cpu/parallel.h"
#include "cpu/scratch.h"

namespace fastnn {
namespace {

constexpr int64_t kBlockBytes = 384 * 1024;  // packed patch panels per block (L2 is 1 MiB)

thread_local Scratch tls_panels;  // one block's B panels
thread_local Scratch tls_out;     // one block's GEMM output (forward: y, dx: dpatches)
thread_local Scratch tls_pad;     // one zero-padded image (shifted panels)

// Valid output-column range per kernel column j: ow in [lo[j], hi[j]) reads iw inside [0, W).
struct ColRange {
  int64_t lo, hi;
};
ColRange col_range(const Conv2dGeom& g, int64_t j) {
  const int64_t off = j * g.dw - g.pw;  // iw = ow*sw + off
  int64_t lo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
  int64_t hi = g.W - off <= 0 ? 0 : (g.W - off + g.sw - 1) / g.sw;
  lo = std::min(lo, g.Wo);
  hi = std::clamp(hi, lo, g.Wo);
  return {lo, hi};
}

// Calls fn(n, oh, a, b, col) for each run of output pixels in [q0, q1) that shares (n, oh) and one
// NR-wide panel: pixels ow in [a, b), the first at block column col (relative to q0's block base).
template <class F>
void for_runs(const Conv2dGeom& g, int64_t q0, int64_t q1, int64_t base, int NR, F&& fn) {
  const int64_t L = g.Ho * g.Wo;
  int64_t q = q0;
  while (q < q1) {
    const int64_t n = q / L, l = q % L, oh = l / g.Wo, ow = l % g.Wo;
    const int64_t col = q - base;
    const int64_t panel_end = (col / NR + 1) * NR;
    const int64_t len = std::min({g.Wo - ow, q1 - q, panel_end - col});
    fn(n, oh, ow, ow + len, col);
    q += len;
  }
}

// ---- the run loops (cpu/conv_pack.h), generic versions ------------------------------------------

template <class T>
void pack_run_generic(T* d, int64_t ld, const T* xn, const ConvRunGeom& g, int64_t oh, int64_t a,
                      int64_t b) {
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t ih = oh * g.sh - g.ph + i * g.dh;
      T* dk = d + (c * g.kh + i) * g.kw * ld;
      if (ih < 0 || ih >= g.H) {
        for (int64_t j = 0; j < g.kw; ++j, dk += ld) std::fill(dk, dk + (b - a), T(0));
        continue;
      }
      const T* row = xn + (c * g.H + ih) * g.W;
      for (int64_t j = 0; j < g.kw; ++j, dk += ld) {
        const int64_t lo = std::clamp(g.lo[j], a, b), hi = std::clamp(g.hi[j], lo, b);
        const T* s = row + j * g.dw - g.pw;
        for (int64_t ow = a; ow < lo; ++ow) dk[ow - a] = T(0);
        for (int64_t ow = lo; ow < hi; ++ow) dk[ow - a] = s[ow * g.sw];
        for (int64_t ow = hi; ow < b; ++ow) dk[ow - a] = T(0);
      }
    }
  }
}

template <class T>
void unpack_run_generic(T* dxn, const T* s, int64_t ld, const ConvRunGeom& g, int64_t oh, int64_t a,
                        int64_t b) {
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t ih = oh * g.sh - g.ph + i * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      T* row = dxn + (c * g.H + ih) * g.W;
      const T* sk = s + (c * g.kh + i) * g.kw * ld;
      for (int64_t j = 0; j < g.kw; ++j, sk += ld) {
        const int64_t lo = std::clamp(g.lo[j], a, b), hi = std::clamp(g.hi[j], lo, b);
        T* d = row + j * g.dw - g.pw;
        for (int64_t ow = lo; ow < hi; ++ow) d[ow * g.sw] += sk[ow - a];
      }
    }
  }
}

template <class T>
struct RunFns {
  void (*pack)(T*, int64_t, const T*, const ConvRunGeom&, int64_t, int64_t, int64_t);
  void (*unpack)(T*, const T*, int64_t, const ConvRunGeom&, int64_t, int64_t, int64_t);
};
const RunFns<float> kRunsF32Generic{&pack_run_generic<float>, &unpack_run_generic<float>};
const RunFns<double> kRunsF64Generic{&pack_run_generic<double>, &unpack_run_generic<double>};
const RunFns<float> kRunsF32Avx512{&conv_pack_run_f32_avx512, &conv_unpack_run_f32_avx512};
const RunFns<double> kRunsF64Avx512{&conv_pack_run_f64_avx512, &conv_unpack_run_f64_avx512};
// By ISA (IsaTable, cpu/cpu_features.h); AVX2 uses the generic loops.
const IsaTable<const RunFns<float>*> kRunsF32{
    {{&kRunsF32Generic, &kRunsF32Generic, &kRunsF32Avx512}}};
const IsaTable<const RunFns<double>*> kRunsF64{
    {{&kRunsF64Generic, &kRunsF64Generic, &kRunsF64Avx512}}};
const RunFns<float>& runs_for(float*) { return *kRunsF32[active_isa()]; }
const RunFns<double>& runs_for(double*) { return *kRunsF64[active_isa()]; }

// One image's run geometry; lo/hi point into the caller's arrays.
ConvRunGeom run_geom(const Conv2dGeom& g, const int64_t* lo, const int64_t* hi) {
  return ConvRunGeom{g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, lo, hi};
}

// B panels for block columns [q0, q1) (block base q0): pb[col/NR][k][col%NR] = patch row k of the
// pixel, for k < K, then a row of ones when `ones`; columns past q1 in the last panel are zero.
template <class T>
void pack_patches(T* pb, const T* x, const Conv2dGeom& g, int64_t q0, int64_t q1, int64_t Kp,
                  bool ones, int NR, const ConvRunGeom& rg, const RunFns<T>& fns) {
  const int64_t K = g.C * g.kh * g.kw;
  const int64_t ncols = q1 - q0, tail = (ncols + NR - 1) / NR * NR;
  if (tail > ncols) {
    T* last = pb + (ncols / NR) * NR * Kp;
    for (int64_t k = 0; k < Kp; ++k)
      std::fill(last + k * NR + ncols % NR, last + (k + 1) * NR, T(0));
  }
  for_runs(g, q0, q1, q0, NR, [&](int64_t n, int64_t oh, int64_t a, int64_t b, int64_t col) {
    T* panel = pb + (col / NR) * NR * Kp + col % NR;
    fns.pack(panel, NR, x + n * g.C * g.H * g.W, rg, oh, a, b);
    if (ones) std::fill(panel + K * NR, panel + K * NR + (b - a), T(1));
  });
}

// pa[p][k][r] = a[(p*MR + r) * rs + k * cs] for rows < M (zero past M), k < Kk; then, when extra
// is not null, one more k column holding extra[p*MR + r].
template <class T>
void pack_a(T* pa, const T* a, int64_t rs, int64_t cs, int64_t M, int64_t Kk, const T* extra,
            int MR) {
  const int64_t Kp = Kk + (extra ? 1 : 0);
  for (int64_t p = 0; p * MR < M; ++p) {
    T* d = pa + p * MR * Kp;
    for (int64_t k = 0; k < Kp; ++k)
      for (int r = 0; r < MR; ++r) {
        const int64_t m = p * MR + r;
        d[k * MR + r] = m >= M ? T(0) : k < Kk ? a[m * rs + k * cs] : extra[m];
      }
  }
}

int64_t block_cols(int64_t Kp, int64_t elem, int NR, int64_t max_cols) {
  const int64_t cols = kBlockBytes / (elem * std::max<int64_t>(1, Kp)) / NR * NR;
  return std::clamp<int64_t>(cols, NR, (max_cols + NR - 1) / NR * NR);
}

template <class T>
void forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeom& g, int64_t O,
             const UKernel<T>& uk) {
  const int MR = uk.MR, NR = uk.NR;
  const int64_t K = g.C * g.kh * g.kw, Kp = K + (bias ? 1 : 0), L = g.Ho * g.Wo, P = g.N * L;
  const int64_t Mp = (O + MR - 1) / MR * MR;
  T* pa = static_cast<T*>(std::aligned_alloc(64, (sizeof(T) * Mp * Kp + 63) / 64 * 64));
  if (!pa) throw std::bad_alloc();
  std::unique_ptr<T, decltype(&std::free)> hold(pa, &std::free);
  pack_a(pa, w, K, 1, O, K, bias, MR);
  int64_t lo[64], hi[64];
  for (int64_t j = 0; j < g.kw; ++j) lo[j] = col_range(g, j).lo, hi[j] = col_range(g, j).hi;
  const ConvRunGeom rg = run_geom(g, lo, hi);
  const RunFns<T>& fns = runs_for(static_cast<T*>(nullptr));
  const int64_t ncb = block_cols(Kp, sizeof(T), NR, P), blocks = (P + ncb - 1) / ncb;
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    T* pb = static_cast<T*>(tls_panels.get(sizeof(T) * ncb * Kp));
    alignas(64) T tile[16 * 64];
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t q0 = blk * ncb, q1 = std::min(P, q0 + ncb);
      pack_patches(pb, x, g, q0, q1, Kp, bias != nullptr, NR, rg, fns);
      for (int64_t c0 = q0; c0 < q1; c0 += NR) {
        const int64_t nc = std::min<int64_t>(NR, q1 - c0);
        const T* pbp = pb + (c0 - q0) * Kp;
        const int64_t n = c0 / L, l0 = c0 % L;
        const bool direct = nc == NR && l0 + NR <= L;
        for (int64_t m0 = 0; m0 < O; m0 += MR) {
          const int64_t mr = std::min<int64_t>(MR, O - m0);
          const T* pap = pa + m0 * Kp;
          if (direct && mr == MR) {
            uk.fn(Kp, pap, pbp, y + (n * O + m0) * L + l0, L, T(1), T(0), nullptr);
            continue;
          }
          uk.fn(Kp, pap, pbp, tile, NR, T(1), T(0), nullptr);
          for (int64_t j = 0; j < nc;) {  // runs of columns within one image
            const int64_t q = c0 + j, nn = q / L, l = q % L, len = std::min(nc - j, L - l);
            for (int64_t r = 0; r < mr; ++r)
              std::memcpy(y + (nn * O + m0 + r) * L + l, tile + r * NR + j, sizeof(T) * len);
            j += len;
          }
        }
      }
    }
  });
}

// dx for one image n: blocks of its L pixels (columns past L in the last panel are computed from
// zero dy and dropped).
template <class T>
void backward_input_image(T* dx, const T* dy, const T* pa, const Conv2dGeom& g, int64_t O,
                          int64_t n, int64_t ncb, const UKernel<T>& uk, const ConvRunGeom& rg,
                          const RunFns<T>& fns) {
  const int MR = uk.MR, NR = uk.NR;
  const int64_t K = g.C * g.kh * g.kw, Kr = (K + MR - 1) / MR * MR, L = g.Ho * g.Wo;
  T* pb = static_cast<T*>(tls_panels.get(sizeof(T) * ncb * O));
  T* dp = static_cast<T*>(tls_out.get(sizeof(T) * ncb * Kr));
  T* dxn = dx + n * g.C * g.H * g.W;
  std::fill(dxn, dxn + g.C * g.H * g.W, T(0));
  for (int64_t l0 = 0; l0 < L; l0 += ncb) {
    const int64_t l1 = std::min(L, l0 + ncb), ncols = l1 - l0, np = (ncols + NR - 1) / NR;
    // B panels of dy: pb[p][o][j] = dy[n, o, l0 + p*NR + j].
    for (int64_t p = 0; p < np; ++p) {
      const int64_t c0 = p * NR, nc = std::min<int64_t>(NR, ncols - c0);
      T* d = pb + p * NR * O;
      for (int64_t o = 0; o < O; ++o, d += NR) {
        std::memcpy(d, dy + (n * O + o) * L + l0 + c0, sizeof(T) * nc);
        std::fill(d + nc, d + NR, T(0));
      }
    }
    const int64_t ldc = np * NR;
    for (int64_t p = 0; p < np; ++p)
      for (int64_t m0 = 0; m0 < Kr; m0 += MR)
        uk.fn(O, pa + m0 * O, pb + p * NR * O, dp + m0 * ldc + p * NR, ldc, T(1), T(0), nullptr);
    // The adjoint of the gather: dx[n, c, ih, iw] += dpatches[(c, i, j), pixel].
    for_runs(g, n * L + l0, n * L + l1, n * L + l0, NR,
             [&](int64_t, int64_t oh, int64_t a, int64_t b, int64_t col) {
               fns.unpack(dxn, dp + col, ldc, rg, oh, a, b);
             });
  }
}

template <class T>
void backward_input(T* dx, const T* dy, const T* w, const Conv2dGeom& g, int64_t O,
                    const UKernel<T>& uk) {
  const int MR = uk.MR, NR = uk.NR;
  const int64_t K = g.C * g.kh * g.kw, Kr = (K + MR - 1) / MR * MR, L = g.Ho * g.Wo;
  // A = W^T (K x O): pa[p][o][r] = w[o, p*MR + r].
  T* pa = static_cast<T*>(std::aligned_alloc(64, (sizeof(T) * Kr * O + 63) / 64 * 64));
  if (!pa) throw std::bad_alloc();
  std::unique_ptr<T, decltype(&std::free)> hold(pa, &std::free);
  pack_a(pa, w, 1, K, K, O, static_cast<const T*>(nullptr), MR);
  int64_t lo[64], hi[64];
  for (int64_t j = 0; j < g.kw; ++j) lo[j] = col_range(g, j).lo, hi[j] = col_range(g, j).hi;
  const ConvRunGeom rg = run_geom(g, lo, hi);
  const RunFns<T>& fns = runs_for(static_cast<T*>(nullptr));
  const int64_t ncb = block_cols(std::max(O, Kr), sizeof(T), NR, L);
  parallel_for(g.N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) backward_input_image(dx, dy, pa, g, O, n, ncb, uk, rg, fns);
  });
}

// ---- stride 1: shifted panels ------------------------------------------------------------------
// [note: shifted panels] With stride 1, number the output columns on the padded input's width Wp
// (q = oh*Wp + ow, ow < Wp; the columns ow >= Wo are computed and dropped). Then patch row
// k = (c, i, j) of column q is xpad[c][q + i*dh*Wp + j*dw]: every B-panel row is one contiguous
// NR-long slice of the zero-padded plane, so packing is a plain copy per (k, panel) instead of a
// masked copy per (k, run of pixels), at the price of Wp/Wo - 1 extra columns (14 % at 14x14, 4 %
// at 56x56). The input gradient is the mirror image: dxpad[c][q + off(k)] += dpatches[k][q], one
// contiguous row add per k.

// Short copies (a panel row, a row segment of a few dozen elements) inline rather than as a libc
// call per row: the call overhead was a tenth of the convolution's time.
// (A plain element loop is turned back into a memmove call by the compiler; fixed 16-byte blocks
// are not. The last block may overlap the previous one.)
template <class T>
inline void copy_short(T* __restrict d, const T* __restrict s, int64_t n) {
  constexpr int64_t V = 16 / sizeof(T);
  if (n < V) {
    for (int64_t e = 0; e < n; ++e) d[e] = s[e];
    return;
  }
  int64_t e = 0;
  for (; e + V <= n; e += V) std::memcpy(d + e, s + e, 16);
  if (e < n) std::memcpy(d + n - V, s + n - V, 16);
}

struct Shifted {
  int64_t Wp, Hp, S, Lp, offmax;  // S: one padded plane plus slack for the dropped columns' reads
};
Shifted shifted_geom(const Conv2dGeom& g, int NR) {
  Shifted s;
  s.Wp = g.W + 2 * g.pw;
  s.Hp = g.H + 2 * g.ph;
  s.Lp = g.Ho * s.Wp;
  s.offmax = (g.kh - 1) * g.dh * s.Wp + (g.kw - 1) * g.dw;
  s.S = (s.Hp * s.Wp + (g.kw - 1) * g.dw + NR + 15) / 16 * 16;
  return s;
}

// xpad (C, S) = image n of x with its zero border; the slack past each plane is zero.
template <class T>
void pad_image(T* xpad, const T* xn, const Conv2dGeom& g, const Shifted& s) {
  for (int64_t c = 0; c < g.C; ++c) {
    T* p = xpad + c * s.S;
    std::fill(p, p + g.ph * s.Wp, T(0));
    for (int64_t h = 0; h < g.H; ++h) {
      T* r = p + (g.ph + h) * s.Wp;
      std::fill(r, r + g.pw, T(0));
      copy_short(r + g.pw, xn + (c * g.H + h) * g.W, g.W);
      std::fill(r + g.pw + g.W, r + s.Wp, T(0));
    }
    std::fill(p + (g.ph + g.H) * s.Wp, p + s.S, T(0));
  }
}

template <class T>
void forward_shifted(T* y, const T* x, const T* w, const T* bias, const Conv2dGeom& g, int64_t O,
                     const UKernel<T>& uk) {
  const int MR = uk.MR, NR = uk.NR;
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo, Mp = (O + MR - 1) / MR * MR;
  const Shifted s = shifted_geom(g, NR);
  T* pa = static_cast<T*>(std::aligned_alloc(64, (sizeof(T) * Mp * K + 63) / 64 * 64));
  if (!pa) throw std::bad_alloc();
  std::unique_ptr<T, decltype(&std::free)> hold(pa, &std::free);
  pack_a(pa, w, K, 1, O, K, static_cast<const T*>(nullptr), MR);
  const int64_t LpR = (s.Lp + NR - 1) / NR * NR;
  const int64_t ncb = block_cols(std::max(K, Mp), sizeof(T), NR, LpR);
  const int64_t blocks = (LpR + ncb - 1) / ncb;
  // Tasks are (image, block) pairs in order; a thread re-pads only when its image changes.
  parallel_for(g.N * blocks, 1, [&](int64_t t0, int64_t t1) {
    T* xpad = static_cast<T*>(tls_pad.get(sizeof(T) * g.C * s.S));
    T* pb = static_cast<T*>(tls_panels.get(sizeof(T) * ncb * K));
    T* yb = static_cast<T*>(tls_out.get(sizeof(T) * ncb * Mp));
    int64_t padded = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / blocks, q0 = (t % blocks) * ncb, q1 = std::min(LpR, q0 + ncb);
      if (padded != n) pad_image(xpad, x + n * g.C * g.H * g.W, g, s), padded = n;
      const int64_t np = (q1 - q0) / NR;
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t k = (c * g.kh + i) * g.kw + j;
            const T* src = xpad + c * s.S + i * g.dh * s.Wp + j * g.dw + q0;
            T* d = pb + k * NR;
            for (int64_t p = 0; p < np; ++p) copy_short(d + p * NR * K, src + p * NR, NR);
          }
      for (int64_t p = 0; p < np; ++p)
        for (int64_t m0 = 0; m0 < Mp; m0 += MR)
          uk.fn(K, pa + m0 * K, pb + p * NR * K, yb + m0 * ncb + p * NR, ncb, T(1), T(0), nullptr);
      // Copy out the columns ow < Wo of each output row in [q0, q1), adding the bias.
      const int64_t oh0 = q0 / s.Wp, oh1 = std::min(g.Ho, (q1 + s.Wp - 1) / s.Wp);
      for (int64_t o = 0; o < O; ++o) {
        const T bo = bias ? bias[o] : T(0);
        T* yo = y + (n * O + o) * L;
        const T* src = yb + o * ncb - q0;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          const int64_t a = std::max(q0, oh * s.Wp), b = std::min(q1, oh * s.Wp + g.Wo);
          T* d = yo + oh * g.Wo - oh * s.Wp;
          for (int64_t q = a; q < b; ++q) d[q] = src[q] + bo;
        }
      }
    }
  });
}

template <class T>
void backward_input_shifted(T* dx, const T* dy, const T* w, const Conv2dGeom& g, int64_t O,
                            const UKernel<T>& uk) {
  const int MR = uk.MR, NR = uk.NR;
  const int64_t K = g.C * g.kh * g.kw, Kr = (K + MR - 1) / MR * MR, L = g.Ho * g.Wo;
  const Shifted s = shifted_geom(g, NR);
  // A = W^T (K x O): pa[p][o][r] = w[o, p*MR + r].
  T* pa = static_cast<T*>(std::aligned_alloc(64, (sizeof(T) * Kr * O + 63) / 64 * 64));
  if (!pa) throw std::bad_alloc();
  std::unique_ptr<T, decltype(&std::free)> hold(pa, &std::free);
  pack_a(pa, w, 1, K, K, O, static_cast<const T*>(nullptr), MR);
  const int64_t LpR = (s.Lp + NR - 1) / NR * NR;
  const int64_t ncb = block_cols(std::max(O, Kr), sizeof(T), NR, LpR);
  const int64_t M = (s.offmax + 15) / 16 * 16, ldc = ncb + 2 * M;  // zero margins around dp rows
  parallel_for(g.N, 1, [&](int64_t n0, int64_t n1) {
    T* dxpad = static_cast<T*>(tls_pad.get(sizeof(T) * g.C * s.S));
    T* pb = static_cast<T*>(tls_panels.get(sizeof(T) * ncb * O));
    T* dp = static_cast<T*>(tls_out.get(sizeof(T) * Kr * ldc));
    for (int64_t k = 0; k < Kr; ++k) {
      std::fill(dp + k * ldc, dp + k * ldc + M, T(0));
      std::fill(dp + k * ldc + M + ncb, dp + (k + 1) * ldc, T(0));
    }
    for (int64_t n = n0; n < n1; ++n) {
      std::fill(dxpad, dxpad + g.C * s.S, T(0));
      for (int64_t q0 = 0; q0 < LpR; q0 += ncb) {
        const int64_t q1 = std::min(LpR, q0 + ncb), np = (q1 - q0) / NR, nc = q1 - q0;
        // B panels of dy on the padded width, zero in the dropped columns; each dy row is read
        // in order (one stream at a time for the prefetcher).
        for (int64_t o = 0; o < O; ++o) {
          const T* dyo = dy + (n * O + o) * L;
          for (int64_t q = q0; q < q1;) {  // segments within one panel and one padded row
            const int64_t col = q - q0, oh = q / s.Wp, ow = q % s.Wp;
            const int64_t len = std::min(NR - col % NR, s.Wp - ow);
            const int64_t valid = oh < g.Ho ? std::clamp<int64_t>(g.Wo - ow, 0, len) : 0;
            T* d = pb + (col / NR) * NR * O + o * NR + col % NR;
            copy_short(d, dyo + oh * g.Wo + ow, valid);
            std::fill(d + valid, d + len, T(0));
            q += len;
          }
        }
        if (nc < ncb)  // a short last block: its right margin starts at column nc
          for (int64_t k = 0; k < K; ++k)
            std::fill(dp + k * ldc + M + nc, dp + k * ldc + M + ncb, T(0));
        for (int64_t p = 0; p < np; ++p)
          for (int64_t m0 = 0; m0 < Kr; m0 += MR)
            uk.fn(O, pa + m0 * O, pb + p * NR * O, dp + m0 * ldc + M + p * NR, ldc, T(1), T(0),
                  nullptr);
        // dxpad[c][q + off(k)] += dp[k][q] for q in [q0, q1): as a sum over k per target column
        // u = q + off(k) - q0 in [0, nc + offmax), reading the zero margins outside [0, nc).
        for (int64_t c = 0; c < g.C; ++c) {
          T* __restrict d = dxpad + c * s.S + q0;
          for (int64_t i = 0; i < g.kh; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
              const int64_t off = i * g.dh * s.Wp + j * g.dw;
              const T* __restrict src = dp + ((c * g.kh + i) * g.kw + j) * ldc + M - off;
              for (int64_t u = 0; u < nc + s.offmax; ++u) d[u] += src[u];
            }
        }
      }
      T* dxn = dx + n * g.C * g.H * g.W;
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t h = 0; h < g.H; ++h)
          copy_short(dxn + (c * g.H + h) * g.W, dxpad + c * s.S + (h + g.ph) * s.Wp + g.pw, g.W);
    }
  });
}

// The micro-kernel for a GEMM with M rows: matmul's, or on AVX-512 the 8-row one where 8-row tiles
// waste fewer rows (M = 32, 64: none instead of 12 %).
const UKernel<float> kConv8F32{8, 32, &gemm_ukernel8_f32_avx512};
const UKernel<double> kConv8F64{8, 16, &gemm_ukernel8_f64_avx512};
template <class T>
UKernel<T> kernel_for_rows(int64_t M) {
  const UKernel<T>& uk = *ukernel_for(static_cast<T*>(nullptr));
  const UKernel<T>& k8 = *static_cast<const UKernel<T>*>(
      std::is_same_v<T, float> ? static_cast<const void*>(&kConv8F32) : &kConv8F64);
  if (active_isa() != Isa::avx512 || k8.NR != uk.NR) return uk;
  auto rows = [&](int mr) { return (M + mr - 1) / mr * mr; };
  return rows(8) < rows(uk.MR) ? k8 : uk;
}

template <class T>
bool usable(const Conv2dGeom& g, int64_t O) {
  return ukernel_for(static_cast<T*>(nullptr)) != nullptr && g.kw <= 64 && g.N > 0 && O > 0 &&
         g.Ho > 0 && g.Wo > 0;
}

// ---- dW, db: packed panels ------------------------------------------------------------------
// [note: packed dW] dW (O x K) = sum over pixels q of dy[o, q] * patch[k, q]: a GEMM whose
// reduction runs over the pixels. Per block of one image's pixels (never the whole patch matrix):
// the patch rows are gathered into a K x nc buffer by the run loops, then both operands are packed
// with the pixel as the micro-kernel's k index (a transpose of nc-wide rows into MR- or NR-wide
// tiles), and every (row tile, column tile) call adds its nc-pixel product into the partial. The
// product is computed as dW or as dW^T (K x O), whichever pads fewer tile rows and columns (1->32:
// 9 patch rows fill one 12-row tile, as columns they would fill a third of a 32-wide one).
// The batch is cut into at most kDwSlices contiguous slices of images whose boundaries depend on N
// alone; each slice adds its images in order into its own partial and the partials are added in
// slice order, so the bits do not depend on the thread count.

constexpr int64_t kDwSlices = 16;
constexpr size_t kKeptPartBytes = 8 << 20;  // partials up to this size are kept per thread
thread_local Scratch tls_rows;              // one block's patch rows (K x nc)
thread_local Scratch tls_dwpart;            // the per-slice partials, when small

// d[q*t + r] = s[r*ld + q] for r < rows, zero for rows <= r < t; q < nc.
template <class T>
void pack_transposed(T* __restrict d, int t, const T* __restrict s, int64_t ld, int64_t rows,
                     int64_t nc) {
  if constexpr (std::is_same_v<T, float>) {
    if (active_isa() == Isa::avx512) return gemm_pack_transposed_f32_avx512(d, s, ld, rows, nc, t);
    if (active_isa() == Isa::avx2) return gemm_pack_transposed_f32_avx2(d, s, ld, rows, nc, t);
  }
  for (int64_t q = 0; q < nc; ++q) {
    T* dq = d + q * t;
    int64_t r = 0;
    for (; r < rows; ++r) dq[r] = s[r * ld + q];
    for (; r < t; ++r) dq[r] = T(0);
  }
}

template <class T>
void backward_weight(T* dw, T* db, const T* dy, const T* x, const Conv2dGeom& g, int64_t O) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  const UKernel<T> uk_n = kernel_for_rows<T>(O), uk_t = kernel_for_rows<T>(K);
  auto pad = [](int64_t n, int64_t t) { return (n + t - 1) / t * t; };
  const bool tr = pad(K, uk_t.MR) * pad(O, uk_t.NR) < pad(O, uk_n.MR) * pad(K, uk_n.NR);
  const UKernel<T>& uk = tr ? uk_t : uk_n;
  const int MR = uk.MR, NR = uk.NR;
  const int64_t M = tr ? K : O, N = tr ? O : K, Mp = pad(M, MR), Np = pad(N, NR);
  // nc pixels per block: patch rows, A and B panels in about kBlockBytes.
  const int64_t nc = std::clamp<int64_t>(
      kBlockBytes / (static_cast<int64_t>(sizeof(T)) * (K + Mp + Np)) / 16 * 16, 16, pad(L, 16));
  const int64_t slices = std::min(g.N, kDwSlices), P = Mp * Np + O;
  const size_t part_bytes = sizeof(T) * static_cast<size_t>(slices * P);
  std::unique_ptr<void, decltype(&std::free)> own(nullptr, &std::free);
  T* part;
  if (part_bytes <= kKeptPartBytes) {
    part = static_cast<T*>(tls_dwpart.get(part_bytes));
  } else {
    own.reset(std::aligned_alloc(64, (part_bytes + 63) / 64 * 64));
    if (!own) throw std::bad_alloc();
    part = static_cast<T*>(own.get());
  }
  int64_t lo[64], hi[64];
  for (int64_t j = 0; j < g.kw; ++j) lo[j] = col_range(g, j).lo, hi[j] = col_range(g, j).hi;
  const ConvRunGeom rg = run_geom(g, lo, hi);
  const RunFns<T>& fns = runs_for(static_cast<T*>(nullptr));
  parallel_for(slices, 1, [&](int64_t s0, int64_t s1) {
    T* rows = static_cast<T*>(tls_rows.get(sizeof(T) * K * nc));
    T* pa = static_cast<T*>(tls_panels.get(sizeof(T) * (Mp + Np) * nc));
    T* pb = pa + Mp * nc;
    for (int64_t s = s0; s < s1; ++s) {
      T* c = part + s * P;
      T* pdb = c + Mp * Np;
      std::fill(pdb, pdb + O, T(0));
      bool first = true;
      for (int64_t n = g.N * s / slices; n < g.N * (s + 1) / slices; ++n) {
        const T* xn = x + n * g.C * g.H * g.W;
        for (int64_t l0 = 0; l0 < L; l0 += nc) {
          const int64_t m = std::min(nc, L - l0);
          const T* dyb = dy + n * O * L + l0;
          for (int64_t o = 0; o < O; ++o) {
            T acc = pdb[o];
            const T* r = dyb + o * L;
            for (int64_t q = 0; q < m; ++q) acc += r[q];
            pdb[o] = acc;
          }
          if (!dw) continue;  // db alone: no product
          for_runs(g, n * L + l0, n * L + l0 + m, n * L + l0, static_cast<int>(nc),
                   [&](int64_t, int64_t oh, int64_t a, int64_t b, int64_t col) {
                     fns.pack(rows + col, nc, xn, rg, oh, a, b);
                   });
          T* pp = tr ? pa : pb;  // patch tiles
          T* pd = tr ? pb : pa;  // dy tiles
          const int tp = tr ? MR : NR, td = tr ? NR : MR;
          for (int64_t k0 = 0; k0 < K; k0 += tp)
            pack_transposed(pp + k0 * m, tp, rows + k0 * nc, nc, std::min<int64_t>(tp, K - k0), m);
          for (int64_t o0 = 0; o0 < O; o0 += td)
            pack_transposed(pd + o0 * m, td, dyb + o0 * L, L, std::min<int64_t>(td, O - o0), m);
          for (int64_t i = 0; i < Mp; i += MR)
            for (int64_t j = 0; j < Np; j += NR)
              uk.fn(m, pa + i * m, pb + j * m, c + i * Np + j, Np, T(1), first ? T(0) : T(1),
                    nullptr);
          first = false;
        }
      }
    }
  });
  const int64_t first = dw ? 0 : O * K;  // without dw the product partials were never written
  parallel_for(O * (K + 1) - first, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = first + b; i < first + e; ++i) {
      const int64_t at = i >= O * K ? Mp * Np + (i - O * K)
                         : tr       ? (i % K) * Np + i / K
                                    : (i / K) * Np + i % K;
      T acc = T(0);
      for (int64_t s = 0; s < slices; ++s) acc += part[s * P + at];
      if (i < O * K) {
        if (dw) dw[i] = acc;
      } else if (db) {
        db[i - O * K] = acc;
      }
    }
  });
}

}  // namespace

bool conv2d_backward_weight_packed(float* dw, float* db, const float* dy, const float* x,
                                   const Conv2dGeom& g, int64_t C_out) {
  if (!usable<float>(g, C_out) || (!dw && !db)) return false;
  backward_weight(dw, db, dy, x, g, C_out);
  return true;
}
bool conv2d_backward_weight_packed(double* dw, double* db, const double* dy, const double* x,
                                   const Conv2dGeom& g, int64_t C_out) {
  if (!usable<double>(g, C_out) || (!dw && !db)) return false;
  backward_weight(dw, db, dy, x, g, C_out);
  return true;
}
bool conv2d_forward_packed(float* y, const float* x, const float* w, const float* b,
                           const Conv2dGeom& g, int64_t C_out) {
  if (!usable<float>(g, C_out)) return false;
  const UKernel<float> uk = kernel_for_rows<float>(C_out);
  if (g.sh == 1 && g.sw == 1)
    forward_shifted(y, x, w, b, g, C_out, uk);
  else
    forward(y, x, w, b, g, C_out, uk);
  return true;
}
bool conv2d_forward_packed(double* y, const double* x, const double* w, const double* b,
                           const Conv2dGeom& g, int64_t C_out) {
  if (!usable<double>(g, C_out)) return false;
  const UKernel<double> uk = kernel_for_rows<double>(C_out);
  if (g.sh == 1 && g.sw == 1)
    forward_shifted(y, x, w, b, g, C_out, uk);
  else
    forward(y, x, w, b, g, C_out, uk);
  return true;
}
bool conv2d_backward_input_packed(float* dx, const float* dy, const float* w, const Conv2dGeom& g,
                                  int64_t C_out) {
  if (!usable<float>(g, C_out)) return false;
  const UKernel<float> uk = kernel_for_rows<float>(g.C * g.kh * g.kw);
  if (g.sh == 1 && g.sw == 1)
    backward_input_shifted(dx, dy, w, g, C_out, uk);
  else
    backward_input(dx, dy, w, g, C_out, uk);
  return true;
}
bool conv2d_backward_input_packed(double* dx, const double* dy, const double* w,
                                  const Conv2dGeom& g, int64_t C_out) {
  if (!usable<double>(g, C_out)) return false;
  const UKernel<double> uk = kernel_for_rows<double>(g.C * g.kh * g.kw);
  if (g.sh == 1 && g.sw == 1)
    backward_input_shifted(dx, dy, w, g, C_out, uk);
  else
    backward_input(dx, dy, w, g, C_out, uk);
  return true;
}

}  // namespace fastnn
