// conv2d by Winograd F(2x2, 3x3): the drivers. The tile transforms are in conv_winograd_avx512.cpp
// and conv_winograd_avx2.cpp, the products run on the GEMM micro-kernels (gemm_ukernels.h): the
// 8-row AVX-512 one (8 x 32 tiles), the AVX2 one (6 x 16); small weight-gradient products on AVX2
// by dot products of rows (wino_dot_f32_avx2).
//
// [note: Winograd] With U = G g G^T (per output, input channel pair) and V = B^T d B (per input
// channel and 2x2 output tile), the 16 transformed positions xi are independent GEMMs:
//   forward  M[xi] (O x tiles) = U[xi] (O x C) @ V[xi] (C x tiles),   y tile = A^T M A
//   dx       dV[xi] (C x tiles) = U[xi]^T @ dM[xi],  dM = A dy A^T,   dx += B dV B^T
//   dW       dU[xi] (O x C) = sum over tiles of dM[xi] V[xi]^T,       dW = G^T dU G
// Tiles are numbered image by image, row by row. Images are taken in groups whose tiles nearly fill
// whole 32-tile panels, each group in blocks of `tb` tiles whose transforms and products stay in
// L2. A group belongs to one thread: dx tiles overlap (neighbours share two input rows or columns),
// so every dx element is summed by one thread in an order fixed by the shapes. The backward pass
// cuts the batch into slices fixed by N, whose groups one thread takes, and computes dx and dW
// from the same transform of each block of dy; dW adds its tiles per slice, then the slices in
// order. So no result depends on the thread count.
#include "cpu/conv_winograd.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "cpu/conv_winograd_tiles.h"
#include "cpu/cpu_features.h"
#include "cpu/gemm_ukernels.h"
#include "cpu/parallel.h"
#include "cpu/scratch.h"

namespace fastnn {
namespace {

std::atomic<bool> g_enabled{true};

constexpr int64_t kMinChannels = 16;  // below this the transforms outweigh the saved flops
constexpr int64_t kDwSlices = 16;
// dW's products of at most this many (channel, channel) pairs are dot products of rows (AVX2,
// Path::dot): there, transposing both operands into panels for the micro-kernel cost more than
// the micro-kernel saves. On a Zen 3 core, the backward of 16 -> 32 took 0.93x as long that way,
// 20 -> 20 0.84x, 32 -> 16 0.98x; 24 -> 32 1.02x, 16 -> 64 1.08x, 32 -> 64 1.18x.
constexpr int64_t kMaxDotProducts = 512;

// One ISA's kernels: the micro-kernel and its tile, the transposing pack, the transforms, and how
// many tiles a run of the transforms holds (16: runs follow tile rows, at most two of them; 8:
// runs of 8 consecutive tiles of a block, across tile rows).
struct Path {
  int MR, NR, lanes;
  void (*kernel)(int64_t, const float*, const float*, float*, int64_t, float, float, const float*);
  void (*pack_transposed)(float*, const float*, int64_t, int64_t, int64_t, int);
  decltype(&wino_input_f32_avx512) input;
  decltype(&wino_output_f32_avx512) output;
  decltype(&wino_grad_output_f32_avx512) grad_output;
  decltype(&wino_grad_input_f32_avx512) grad_input;
  decltype(&wino_dot_f32_avx2) dot;  // dW's products without packing, where there is one
};
const Path kAvx512{8,
                   32,
                   16,
                   &gemm_ukernel8_f32_avx512,
                   &gemm_pack_transposed_f32_avx512,
                   &wino_input_f32_avx512,
                   &wino_output_f32_avx512,
                   &wino_grad_output_f32_avx512,
                   &wino_grad_input_f32_avx512,
                   nullptr};
const Path kAvx2{6,
                 16,
                 8,
                 &gemm_ukernel_f32_avx2,
                 &gemm_pack_transposed_f32_avx2,
                 &wino_input_f32_avx2,
                 &wino_output_f32_avx2,
                 &wino_grad_output_f32_avx2,
                 &wino_grad_input_f32_avx2,
                 &wino_dot_f32_avx2};
const IsaTable<const Path*> kPaths{{{nullptr, &kAvx2, &kAvx512}}};

// One block's transforms: half of a 1 MiB L2 (on a 512 KiB L2, 256 KiB measured no faster).
constexpr int64_t kBlockBytes = 512 * 1024;

thread_local Scratch tls_a, tls_b, tls_c, tls_d, tls_e;

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

struct Plan {
  int64_t TW, tiles;  // tiles per tile row, per image
  int64_t tb;         // tiles per block, a multiple of NR
  int64_t per_group;  // images per group
};

// `floats_per_tile`: what one tile's transforms take in the block buffers.
Plan make_plan(const Path& k, const Conv2dGeom& g, int64_t floats_per_tile) {
  const int64_t NR = k.NR;
  Plan p;
  p.TW = (g.Wo + 1) / 2;
  p.tiles = (g.Ho + 1) / 2 * p.TW;
  p.tb = std::clamp<int64_t>(kBlockBytes / (4 * floats_per_tile) / NR * NR, NR, 8 * NR);
  // Group sizes up to 8 images: the one whose last panel wastes the smallest share of its tiles.
  p.per_group = 1;
  double best = 2;
  for (int64_t k = 1; k <= std::min<int64_t>(8, g.N); ++k) {
    const int64_t t = k * p.tiles, last = t % p.tb;
    const double waste =
        static_cast<double>(round_up(last ? last : p.tb, NR) - (last ? last : p.tb)) /
        static_cast<double>(t);
    if (waste < best - 1e-9) best = waste, p.per_group = k;
    if (t >= p.tb && waste < 0.05) break;
  }
  return p;
}

// The runs of tiles [u0, u1) of the images from n0 (tile u is tile u % tiles of image n0 +
// u / tiles) into out; returns how many. A run stays within one NR-tile panel and is, for 16
// lanes, either up to 16 tiles of one tile row or, where tile rows are at most 7 wide, the rest of
// one row and the start of the next; for 8 lanes, block columns [8j, 8j + 8) in as many segments
// as tile rows (cpu/conv_winograd_tiles.h). Its first tile is block column col = u - u0, found in
// its operand at col (rows of the block's width: panel_rows = 0) or in NR-wide panels of
// panel_rows rows.
int64_t make_runs(WinoRun* out, const Path& k, const Plan& p, int64_t n0, int64_t u0, int64_t u1,
                  int64_t panel_rows) {
  const int64_t NR = k.NR;
  auto at = [&](int64_t col) { return panel_rows ? col / NR * panel_rows * NR + col % NR : col; };
  int64_t count = 0;
  if (k.lanes == 8) {
    for (int64_t u = u0; u < u1; u += 8) {
      WinoRun& r = out[count++];
      r = WinoRun{};
      r.at = at(u - u0);
      const int64_t end = std::min(u1, u + 8);
      for (int64_t s = 0, v = u; v < end; ++s) {
        const int64_t t = v % p.tiles, tw = t % p.TW, len = std::min(p.TW - tw, end - v);
        r.seg[s] = WinoSeg{n0 + v / p.tiles, t / p.TW, tw, len};
        v += len;
      }
    }
    return count;
  }
  const int64_t most = p.TW > 7 ? 16 : 7;
  for (int64_t u = u0; u < u1;) {
    WinoRun& r = out[count++];
    r = WinoRun{};
    const int64_t col = u - u0, room = std::min(u1 - u, NR - col % NR);
    r.at = at(col);
    int64_t used = 0;
    for (int s = 0; s < (p.TW > 7 ? 1 : 2) && used < room; ++s) {
      const int64_t v = u + used, t = v % p.tiles, tw = t % p.TW;
      const int64_t len = std::min({most, p.TW - tw, room - used});
      r.seg[s] = WinoSeg{n0 + v / p.tiles, t / p.TW, tw, len};
      used += len;
    }
    u += used;
  }
  return count;
}

thread_local std::vector<WinoRun> tls_runs, tls_runs2;

WinoGeom wino_geom(const Conv2dGeom& g, int64_t O) {
  return WinoGeom{g.C, O, g.H, g.W, g.Ho, g.Wo, g.ph, g.pw};
}

bool all_finite(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

// u[(o*C + c)*16 + xi] = (G g G^T)[xi] of w[o, c], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1];
// in double, rounded once.
void transform_weights(float* u, const float* w, int64_t O, int64_t C) {
  parallel_for(O * C, 64, [&](int64_t b, int64_t e) {
    for (int64_t oc = b; oc < e; ++oc) {
      const float* k = w + oc * 9;
      double t[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        t[0][j] = k[j];
        t[1][j] = 0.5 * (double(k[j]) + k[3 + j] + k[6 + j]);
        t[2][j] = 0.5 * (double(k[j]) - k[3 + j] + k[6 + j]);
        t[3][j] = k[6 + j];
      }
      float* d = u + oc * 16;
      for (int i = 0; i < 4; ++i) {
        d[4 * i] = static_cast<float>(t[i][0]);
        d[4 * i + 1] = static_cast<float>(0.5 * (t[i][0] + t[i][1] + t[i][2]));
        d[4 * i + 2] = static_cast<float>(0.5 * (t[i][0] - t[i][1] + t[i][2]));
        d[4 * i + 3] = static_cast<float>(t[i][2]);
      }
    }
  });
}

// The calling thread's buffers for one call's transformed weights, their packed panels and the dW
// partials, kept between calls like the block buffers: a fresh allocation of a few hundred KiB is
// mapped pages, and faulting them in cost a tenth of a CNN's training step.
thread_local Scratch tls_u, tls_pa, tls_part;

float* floats(Scratch& s, int64_t n) {
  return static_cast<float*>(s.get(4 * static_cast<size_t>(std::max<int64_t>(n, 1))));
}

// The A panels of the 16 products: pa[(xi*Rp + r0)*K + k*MR + r - r0] = U[xi] entry (row r, k),
// r0 = r rounded down to MR, with rows r the output channels (forward) or the input channels (dx, U
// transposed); zero past the last row.
float* pack_u(const float* u, int64_t O, int64_t C, bool transposed, int64_t MR) {
  const int64_t R = transposed ? C : O, K = transposed ? O : C, Rp = round_up(R, MR);
  float* pa = floats(tls_pa, 16 * Rp * K);
  for (int xi = 0; xi < 16; ++xi)
    for (int64_t r = 0; r < Rp; ++r)
      for (int64_t k = 0; k < K; ++k) {
        const int64_t o = transposed ? k : r, c = transposed ? r : k;
        pa[(xi * Rp + r / MR * MR) * K + k * MR + r % MR] = r < R ? u[(o * C + c) * 16 + xi] : 0.0f;
      }
  return pa;
}

// The 16 arrays of a block's transforms lie `stride` floats apart: rows * tb plus one cache line,
// so that the 16 loads or stores of one tile do not all fall in the same L1 set.
int64_t xi_stride(int64_t rows, int64_t tb) { return rows * tb + 16; }

// Zero columns [n, np*NR) of a block's B panels (rows of NR floats, `rows` per panel, np panels
// per array): the last panel of a short block would otherwise feed stale floats to the products.
void zero_tail(float* pb, int64_t stride, int64_t rows, int64_t np, int64_t n, int64_t NR) {
  if (n % NR == 0) return;
  for (int xi = 0; xi < 16; ++xi) {
    float* last = pb + xi * stride + (np - 1) * rows * NR;
    for (int64_t r = 0; r < rows; ++r) std::fill(last + r * NR + n % NR, last + (r + 1) * NR, 0.0f);
  }
}

}  // namespace

bool conv2d_winograd_applies(const Conv2dGeom& g, int64_t O) {
  return g_enabled.load(std::memory_order_relaxed) && kPaths[active_isa()] && g.kh == 3 &&
         g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.C >= kMinChannels &&
         O >= kMinChannels && g.N > 0 && g.Ho > 0 && g.Wo > 0;
}

namespace {

// The forward's shape ([note: Winograd]): per block of tiles, `in` transforms the
// block into B panels of K rows (returning true when it saw an Inf or NaN), the 16 products with
// the A panels pa (Rp rows each) fill M, and `out` transforms M back. `start(n0, images)` runs
// before each group of images. False when an input was not finite.
template <class In, class Out, class Start>
bool products(const Path& k, const Conv2dGeom& g, const Plan& p, int64_t K, int64_t Rp,
              const float* pa, In in, Out out, Start start) {
  const int64_t MR = k.MR, NR = k.NR;
  const int64_t sb = xi_stride(K, p.tb), sc = xi_stride(Rp, p.tb);
  const int64_t groups = (g.N + p.per_group - 1) / p.per_group;
  std::atomic<bool> bad{false};
  parallel_chunks(groups, 1, [&](int64_t g0, int64_t g1) {
    float* bb = static_cast<float*>(tls_a.get(4 * 16 * sb));  // [xi][panel][k][NR]
    float* cb = static_cast<float*>(tls_b.get(4 * 16 * sc));  // [xi][row][tb]
    tls_runs.resize(p.tb), tls_runs2.resize(p.tb);
    WinoRun *in_runs = tls_runs.data(), *out_runs = tls_runs2.data();
    for (int64_t grp = g0; grp < g1 && !bad.load(std::memory_order_relaxed); ++grp) {
      const int64_t n0 = grp * p.per_group, images = std::min(p.per_group, g.N - n0);
      start(n0, images);
      for (int64_t u0 = 0; u0 < images * p.tiles; u0 += p.tb) {
        const int64_t u1 = std::min(images * p.tiles, u0 + p.tb), np = (u1 - u0 + NR - 1) / NR;
        zero_tail(bb, sb, K, np, u1 - u0, NR);
        const int64_t nr = make_runs(in_runs, k, p, n0, u0, u1, K);
        if (in(bb, sb, in_runs, nr)) {
          bad = true;
          return;
        }
        for (int xi = 0; xi < 16; ++xi)
          for (int64_t q = 0; q < np; ++q)
            for (int64_t r0 = 0; r0 < Rp; r0 += MR)
              k.kernel(K, pa + (xi * Rp + r0) * K, bb + xi * sb + q * K * NR,
                       cb + xi * sc + r0 * p.tb + q * NR, p.tb, 1.0f, 0.0f, nullptr);
        make_runs(out_runs, k, p, n0, u0, u1, 0);
        out(cb, sc, out_runs, nr);
      }
    }
  });
  return !bad;
}

}  // namespace

void set_conv_winograd(bool enabled) { g_enabled.store(enabled); }
bool conv_winograd_enabled() { return g_enabled.load(); }

bool conv2d_forward_winograd(float* y, const float* x, const float* w, const float* bias,
                             const Conv2dGeom& g, int64_t O) {
  if (!conv2d_winograd_applies(g, O) || !all_finite(w, O * g.C * 9) ||
      (bias && !all_finite(bias, O)))
    return false;
  const Path& k = *kPaths[active_isa()];
  const int64_t C = g.C, Op = round_up(O, k.MR);
  float* u = floats(tls_u, O * C * 16);
  transform_weights(u, w, O, C);
  const WinoGeom wg = wino_geom(g, O);
  const Plan p = make_plan(k, g, 16 * (C + Op));
  return products(
      k, g, p, C, Op, pack_u(u, O, C, false, k.MR),
      [&](float* v, int64_t sv, const WinoRun* r, int64_t nr) {
        return k.input(v, sv, k.NR, x, wg, r, nr);
      },
      [&](const float* m, int64_t sm, const WinoRun* r, int64_t nr) {
        k.output(y, m, sm, p.tb, bias, wg, r, nr);
      },
      [](int64_t, int64_t) {});
}

namespace {

// dst = the transposed panels (width rows each, the block's nc tiles as k) of rows [r0, r0 +
// count) of one xi's array, which holds `rows` rows either of tb tiles (row layout) or in NR-tile
// panels of rows x NR (the products' B layout).
void pack_side(const Path& k, float* dst, const float* src, bool panels, int64_t rows, int64_t tb,
               int64_t r0, int64_t count, int64_t nc, int width) {
  if (!panels) {
    k.pack_transposed(dst + r0 * nc, src + r0 * tb, tb, count, nc, width);
    return;
  }
  const int64_t NR = k.NR;
  for (int64_t q = 0; q * NR < nc; ++q)
    k.pack_transposed(dst + r0 * nc + q * NR * width, src + q * rows * NR + r0 * NR, NR, count,
                      std::min<int64_t>(NR, nc - q * NR), width);
}

// dW = G^T dU G from the slices' products (part: per slice [xi][r][s], r < Rp, s < Sq; r the input
// channels when by_c), the slices added in order in double.
void weight_from_slices(const Path& k, float* dw, const float* part, int64_t slices, int64_t O,
                        int64_t C, bool by_c) {
  const int64_t R = by_c ? C : O, S = by_c ? O : C;
  const int64_t Rp = round_up(R, k.MR), Sq = round_up(S, k.NR), P = 16 * Rp * Sq;
  // dU = the sum of the slices' products, in slice order (so the bits do not depend on the thread
  // count), in double; a row of the product at a time so the slices are read in order.
  double* sum = reinterpret_cast<double*>(floats(tls_u, 2 * 16 * R * S));  // [xi][r][s]
  parallel_for(16 * R, 4, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t xi = row / R, r = row % R;
      double* acc = sum + row * S;
      const float* src = part + (xi * Rp + r) * Sq;
      for (int64_t j = 0; j < S; ++j) acc[j] = src[j];
      for (int64_t sl = 1; sl < slices; ++sl)
        for (int64_t j = 0; j < S; ++j) acc[j] += src[sl * P + j];
    }
  });
  // dW[o, c] = G^T dU[o, c] G, G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1].
  parallel_for(O * C, 64, [&](int64_t b, int64_t e) {
    for (int64_t oc = b; oc < e; ++oc) {
      const int64_t o = oc / C, c = oc % C;
      const int64_t at = by_c ? c * S + o : o * S + c;
      double m[16];
      for (int xi = 0; xi < 16; ++xi) m[xi] = sum[xi * R * S + at];
      double t[3][4];  // G^T m
      for (int l = 0; l < 4; ++l) {
        t[0][l] = m[l] + 0.5 * (m[4 + l] + m[8 + l]);
        t[1][l] = 0.5 * (m[4 + l] - m[8 + l]);
        t[2][l] = 0.5 * (m[4 + l] + m[8 + l]) + m[12 + l];
      }
      float* d = dw + oc * 9;
      for (int i = 0; i < 3; ++i) {
        d[3 * i] = static_cast<float>(t[i][0] + 0.5 * (t[i][1] + t[i][2]));
        d[3 * i + 1] = static_cast<float>(0.5 * (t[i][1] - t[i][2]));
        d[3 * i + 2] = static_cast<float>(0.5 * (t[i][1] + t[i][2]) + t[i][3]);
      }
    }
  });
}

// dx and dW, either of them null, in one pass over the tiles: each block's dy transform feeds
// dx's products and dW's. Either alone takes the same slices, groups and blocks as both, so its
// bits do not depend on the other (dx adds neighbouring tiles within a run in registers, so its
// rounding follows the blocks). False when dy, or x for dW, held an Inf or NaN.
bool backward_pass(float* dx, float* dw, const float* dy, const float* x, const float* w,
                   const Conv2dGeom& g, int64_t O) {
  const Path& k = *kPaths[active_isa()];
  const int MR = k.MR, NR = k.NR;
  const int64_t C = g.C, Cp = round_up(C, MR), plane = C * g.H * g.W;
  // dW's product rows (8 per tile) take the side that pads less: dU[xi] (O x C), or its
  // transpose where C is the short side. A 16 -> 32 layer: 2 x 1 tiles of 8 x 32, not 4 x 1 with
  // half of every tile padding. Each sum runs over the tiles in the same order either way.
  const bool by_c = transpose_pads_less(O, C, MR, NR);
  const int64_t R = by_c ? C : O, S = by_c ? O : C;  // the product's rows and columns
  const int64_t Rp = round_up(R, MR), Sq = round_up(S, NR);
  // One plan whichever of dx and dW is asked for, so the blocks, and with them the bits, are the
  // same.
  const Plan p = make_plan(k, g, 16 * (C + O + Cp) + Rp + Sq);
  const int64_t sv = xi_stride(C, p.tb), sm = xi_stride(O, p.tb), sc = xi_stride(Cp, p.tb);
  const WinoGeom wg = wino_geom(g, O);
  const float* pu = nullptr;  // dx's A panels (U transposed)
  if (dx) {
    float* u = floats(tls_u, O * C * 16);
    transform_weights(u, w, O, C);
    pu = pack_u(u, O, C, true, MR);
  }
  const int64_t slices = std::min(g.N, kDwSlices), P = 16 * Rp * Sq;
  float* part = dw ? floats(tls_part, slices * P) : nullptr;  // per slice: [xi][r][s], s padded
  std::atomic<bool> bad{false};
  parallel_chunks(slices, 1, [&](int64_t s0, int64_t s1) {
    float* mb = static_cast<float*>(tls_b.get(4 * 16 * sm));  // dy: [xi][panel][o][NR]
    float* cb = dx ? static_cast<float*>(tls_e.get(4 * 16 * sc)) : nullptr;  // dx: [xi][c][tb]
    float* vb = dw ? static_cast<float*>(tls_a.get(4 * 16 * sv)) : nullptr;  // x: [xi][c][tb]
    const bool dot = dw && k.dot && R * S <= kMaxDotProducts;
    const bool pack = dw && !dot;
    float* pa = pack ? static_cast<float*>(tls_c.get(4 * Rp * p.tb)) : nullptr;  // dW's A panels
    float* pb = pack ? static_cast<float*>(tls_d.get(4 * Sq * p.tb)) : nullptr;  // and B panels
    const float* rows = by_c ? vb : mb;
    const float* cols = by_c ? mb : vb;
    const int64_t s_rows = by_c ? sv : sm, s_cols = by_c ? sm : sv;
    tls_runs.resize(p.tb), tls_runs2.resize(p.tb);
    WinoRun *row_runs = tls_runs.data(), *panel_runs = tls_runs2.data();
    for (int64_t s = s0; s < s1 && !bad.load(std::memory_order_relaxed); ++s) {
      float* du = part + s * P;
      const int64_t i0 = g.N * s / slices, i1 = g.N * (s + 1) / slices;
      bool first = true;
      // Groups of images within the slice, as in the forward, so blocks fill their panels.
      for (int64_t n0 = i0; n0 < i1; n0 += p.per_group) {
        const int64_t images = std::min(p.per_group, i1 - n0), ntiles = images * p.tiles;
        if (dx) std::fill(dx + n0 * plane, dx + (n0 + images) * plane, 0.0f);
        for (int64_t u0 = 0; u0 < ntiles; u0 += p.tb) {
          const int64_t u1 = std::min(ntiles, u0 + p.tb), nc = u1 - u0, np = (nc + NR - 1) / NR;
          zero_tail(mb, sm, O, np, nc, NR);
          const int64_t nr = make_runs(row_runs, k, p, n0, u0, u1, 0);
          make_runs(panel_runs, k, p, n0, u0, u1, O);
          if ((dw && k.input(vb, sv, p.tb, x, wg, row_runs, nr)) |
              k.grad_output(mb, sm, NR, dy, wg, panel_runs, nr)) {
            bad = true;
            return;
          }
          if (dx) {
            for (int xi = 0; xi < 16; ++xi)
              for (int64_t q = 0; q < np; ++q)
                for (int64_t r0 = 0; r0 < Cp; r0 += MR)
                  k.kernel(O, pu + (xi * Cp + r0) * O, mb + xi * sm + q * O * NR,
                           cb + xi * sc + r0 * p.tb + q * NR, p.tb, 1.0f, 0.0f, nullptr);
            k.grad_input(dx, cb, sc, p.tb, wg, row_runs, nr);
          }
          // The tile is the products' k index. Small products (kMaxDotProducts) are dot
          // products of rows, the tiles in the lanes (AVX2's NR is the 16-tile panel WinoRows
          // counts in); the others transpose both operands into panels for the micro-kernel.
          for (int xi = 0; dot && xi < 16; ++xi) {
            const WinoRows v{vb + xi * sv, p.tb, NR}, m{mb + xi * sm, NR, O * NR};
            k.dot(du + xi * Rp * Sq, Sq, by_c ? v : m, by_c ? m : v, R, S, nc, !first);
          }
          for (int xi = 0; pack && xi < 16; ++xi) {
            for (int64_t r0 = 0; r0 < Rp; r0 += MR)
              pack_side(k, pa, rows + xi * s_rows, !by_c, O, p.tb, r0,
                        std::min<int64_t>(MR, R - r0), nc, MR);
            for (int64_t c0 = 0; c0 < Sq; c0 += NR)
              pack_side(k, pb, cols + xi * s_cols, by_c, O, p.tb, c0, std::min<int64_t>(NR, S - c0),
                        nc, NR);
            for (int64_t r0 = 0; r0 < Rp; r0 += MR)
              for (int64_t c0 = 0; c0 < Sq; c0 += NR)
                k.kernel(nc, pa + r0 * nc, pb + c0 * nc, du + (xi * Rp + r0) * Sq + c0, Sq, 1.0f,
                         first ? 0.0f : 1.0f, nullptr);
          }
          first = false;
        }
      }
    }
  });
  if (bad) return false;
  if (dw) weight_from_slices(k, dw, part, slices, O, C, by_c);
  return true;
}

}  // namespace

WinogradGrads conv2d_backward_winograd(float* dx, float* dw, const float* dy, const float* x,
                                       const float* w, const Conv2dGeom& g, int64_t O) {
  WinogradGrads done;
  if (!conv2d_winograd_applies(g, O)) return done;
  // dx goes through U, so a non-finite weight sends it to packed im2col; dW never reads w.
  if (dx && !all_finite(w, O * g.C * 9)) dx = nullptr;
  if ((dx || dw) && backward_pass(dx, dw, dy, x, w, g, O)) {
    done.dx = dx != nullptr;
    done.dw = dw != nullptr;
  } else if (dx && dw) {
    // The pass stops at the first non-finite value of x or dy; dx does not read x.
    done.dx = backward_pass(dx, nullptr, dy, x, w, g, O);
  }
  return done;
}

}  // namespace fastnn
