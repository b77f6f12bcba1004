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
// thread count. The per-plane loops (cpu/conv_depthwise_planes.h) run on the widest vectors of
// the active ISA for float (16 floats on AVX-512: a 7 x 7 plane's 63 flat outputs are four
// vectors per tap), 16-byte ones for double; this file plans the layout, hands out the tasks and
// their scratch, and keeps the row-by-row input gradient for non-finite weights.
//
// Small float planes with one output channel per input channel and the channels in whole vectors
// take the lanes path instead (cpu/conv_depthwise_lanes.h; where, see lane_loops): a pixel's 16
// (AVX-512) or 8 (AVX2) channels are one vector, so a 7 x 7 plane has no row ends to handle.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "cpu/conv_depthwise.h"
#include "cpu/cpu_features.h"
#include "cpu/parallel.h"

#define FASTNN_VEC_NS generic
#include "cpu/conv_depthwise_planes.h"

namespace fastnn {
namespace {

inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// The layout of a geometry; its tables point into `store`.
DepthwiseLayout plan(const Conv2dGeom& g, int64_t mult, std::vector<int64_t>& store) {
  DepthwiseLayout f{};
  f.g = g;
  f.mult = mult;
  f.taps = g.kh * g.kw;
  f.Hph = (g.H + 2 * g.ph + g.sh - 1) / g.sh;
  f.Wph = (g.W + 2 * g.pw + g.sw - 1) / g.sw;
  f.n = round_up(g.Ho * f.Wph, kDepthwiseSlack);
  f.bstride = round_up(f.Hph * f.Wph, kDepthwiseSlack);
  const int64_t blocks = g.sh * g.sw;
  store.resize(5 * f.taps + g.H + 2 * g.sw + blocks + 1 + g.H * g.W + g.Ho * g.Wo);
  int64_t* shift = store.data();
  int64_t* qshift = shift + f.taps;
  int64_t* row_at = qshift + f.taps;
  int64_t* col_first = row_at + g.H;
  int64_t* col_at = col_first + g.sw;
  int64_t* block_start = col_at + g.sw;
  int64_t* tap_of = block_start + blocks + 1;
  int64_t* gshift = tap_of + f.taps;
  int64_t* pix_at = gshift + f.taps;
  int64_t* out_at = pix_at + g.H * g.W;
  int64_t* tap_at = out_at + g.Ho * g.Wo;
  // tap (u, v) reads phase (u dh mod sh, v dw mod sw) from row u dh / sh, column v dw / sw on
  std::vector<int64_t> block_of(f.taps), within(f.taps);
  for (int64_t u = 0; u < g.kh; ++u)
    for (int64_t v = 0; v < g.kw; ++v) {
      const int64_t t = u * g.kw + v, ru = u * g.dh, rv = v * g.dw;
      block_of[t] = (ru % g.sh) * g.sw + rv % g.sw;
      within[t] = ru / g.sh * f.Wph + rv / g.sw;
      shift[t] = block_of[t] * f.bstride + within[t];
    }
  // padded row rp is row rp / sh of the phases rp mod sh; padded column cp is column cp / sw of
  // phase cp mod sw
  for (int64_t r = 0; r < g.H; ++r) {
    const int64_t rp = r + g.ph;
    row_at[r] = (rp % g.sh) * g.sw * f.bstride + rp / g.sh * f.Wph;
  }
  for (int64_t b = 0; b < g.sw; ++b) {
    col_first[b] = ((b - g.pw) % g.sw + g.sw) % g.sw;
    col_at[b] = b * f.bstride + (col_first[b] + g.pw) / g.sw;
  }
  // the strided input gradient: the taps grouped by the block they read, each reading the
  // zero-fronted dy at front - (its place within the block)
  f.front = *std::max_element(within.begin(), within.end());
  int64_t i = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    block_start[b] = i;
    for (int64_t t = 0; t < f.taps; ++t)
      if (block_of[t] == b) tap_of[i] = t, gshift[i++] = f.front - within[t];
  }
  block_start[blocks] = i;
  f.block_start = block_start;
  f.tap_of = tap_of;
  f.gshift = gshift;
  f.gsize = f.front + f.bstride + f.n + kDepthwiseSlack;
  f.shift = shift;
  f.row_at = row_at;
  f.col_first = col_first;
  f.col_at = col_at;
  // the last flat read: below n plus the largest shift < (sh sw - 1) bstride + Hph Wph + Wph
  f.size = blocks * f.bstride + f.Wph + kDepthwiseSlack;
  // unit stride: dy bordered by (k - 1) d - p each side, read with the flipped filter
  f.Ah = (g.kh - 1) * g.dh - g.ph;
  f.Aw = (g.kw - 1) * g.dw - g.pw;
  f.Wq = g.Wo + 2 * f.Aw;
  f.Hq = g.Ho + 2 * f.Ah;
  f.nq = round_up(g.H * f.Wq, kDepthwiseSlack);
  f.qsize = f.Hq * f.Wq + (g.kw - 1) * g.dw + kDepthwiseSlack;
  for (int64_t u = 0; u < g.kh; ++u)
    for (int64_t v = 0; v < g.kw; ++v)
      qshift[u * g.kw + v] = (g.kh - 1 - u) * g.dh * f.Wq + (g.kw - 1 - v) * g.dw;
  f.qshift = qshift;
  // the lanes path's pixel-major buffer: the plane with its zero border
  f.Hp = g.H + 2 * g.ph;
  f.Wp = g.W + 2 * g.pw;
  for (int64_t r = 0; r < g.H; ++r)
    for (int64_t c = 0; c < g.W; ++c) pix_at[r * g.W + c] = (r + g.ph) * f.Wp + c + g.pw;
  for (int64_t i = 0; i < g.Ho; ++i)
    for (int64_t j = 0; j < g.Wo; ++j) out_at[i * g.Wo + j] = i * g.sh * f.Wp + j * g.sw;
  for (int64_t u = 0; u < g.kh; ++u)
    for (int64_t v = 0; v < g.kw; ++v) tap_at[u * g.kw + v] = u * g.dh * f.Wp + v * g.dw;
  f.pix_at = pix_at;
  f.out_at = out_at;
  f.tap_at = tap_at;
  return f;
}

// The loops for T on the active ISA: the vector units' for float, 16-byte vectors otherwise.
const IsaTable<const DepthwiseLoops*> kLoops{
    {{nullptr, &avx2::kDepthwiseLoops, &avx512::kDepthwiseLoops}}};

template <class T>
struct Loops {
  decltype(&generic::forward_planes<T, 16>) forward = generic::forward_planes<T, 16>;
  decltype(&generic::input_grad_flat_planes<T, 16>) input_grad_flat =
      generic::input_grad_flat_planes<T, 16>;
  decltype(&generic::input_grad_phase_planes<T, 16>) input_grad_phase =
      generic::input_grad_phase_planes<T, 16>;
  decltype(&generic::weight_grad_channels<T, 16>) weight_grad =
      generic::weight_grad_channels<T, 16>;
};

template <class T>
Loops<T> active_loops() {
  Loops<T> l;
  if constexpr (std::is_same_v<T, float>) {
    if (const DepthwiseLoops* v = kLoops[active_isa()]) {
      l.forward = v->forward;
      l.input_grad_flat = v->input_grad_flat;
      l.input_grad_phase = v->input_grad_phase;
      l.weight_grad = v->weight_grad;
    }
  }
  return l;
}

// Planes per task: about 16k multiply-adds each.
int64_t plane_grain(int64_t n, const DepthwiseLayout& f) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(n * f.taps * f.mult, 1));
}

// Where the lanes path runs (float, one output channel per input channel, channels in whole
// vectors). On AVX-512 it takes planes of at most 64 x 64, every pass: its buffer of 16-channel
// pixels stays in L2 (280 KiB), and measured on 2 threads it beat the per-plane loops from 7 x 7
// up to 56 x 56 (112 x 112 in the forward pass; the weight gradient of a 224 x 224 plane, which
// reads the buffer once per tap, took 3x as long). On AVX2 the per-plane loops' rows of 8 lanes
// waste less, and the lanes path wins only where rows are short: output planes of at most 64
// pixels (forward, unit-stride input gradient and weight gradient: 0.3-0.9x the time on 4 x 4 to
// 8 x 8 planes), and strided planes of at most 32 x 32 (forward and weight gradient: 0.45-0.85x);
// the strided input gradient's scatter through memory lost to the phase loops everywhere
// (1.2-2.5x), as did unit-stride planes of 14 x 14 and up (1.0-1.4x). input_unit: the input
// gradient as a forward pass of dy (unit stride); input_scatter: w dy added into the taps.
enum class LanePass { forward, input_unit, input_scatter, weight };
constexpr int64_t kLanesMaxPlane = 64 * 64;

const DepthwiseLaneLoops* lane_loops(const Conv2dGeom& g, int64_t mult, LanePass pass) {
  if (mult != 1 || g.H * g.W > kLanesMaxPlane) return nullptr;
  const Isa isa = active_isa();
  if (isa == Isa::avx512) return g.C % 16 == 0 ? &avx512::kDepthwiseLaneLoops : nullptr;
  if (isa != Isa::avx2 || g.C % 8 != 0) return nullptr;
  const bool short_rows = g.Ho * g.Wo <= 64, strided = g.sh > 1 || g.sw > 1;
  bool use = false;
  switch (pass) {
    case LanePass::forward:
    case LanePass::weight:
      use = short_rows || (strided && g.H * g.W <= 32 * 32);
      break;
    case LanePass::input_unit:
      use = short_rows;
      break;
    case LanePass::input_scatter:
      break;
  }
  return use ? &avx2::kDepthwiseLaneLoops : nullptr;
}

// Blocks of channels per task: about 16k multiply-adds each (for 16 lanes).
int64_t block_grain(const DepthwiseLayout& f) {
  return std::max<int64_t>(1, 1024 / std::max<int64_t>(f.g.Ho * f.g.Wo * f.taps, 1));
}

template <class T>
void forward_impl(T* y, const T* x, const T* w, const T* b, const Conv2dGeom& g, int64_t mult) {
  std::vector<int64_t> store;
  const DepthwiseLayout f = plan(g, mult, store);
  if constexpr (std::is_same_v<T, float>) {
    if (const DepthwiseLaneLoops* lanes = lane_loops(g, mult, LanePass::forward)) {
      const int64_t L = lanes->width;
      parallel_for(g.N * g.C / L, block_grain(f), [&](int64_t k0, int64_t k1) {
        std::vector<float> X(L * f.Hp * f.Wp, 0.0f), wv(L * f.taps);
        lanes->forward(y, x, w, b, f, k0, k1, X.data(), wv.data());
      });
      return;
    }
  }
  const auto run = active_loops<T>().forward;
  parallel_for(g.N * g.C, plane_grain(f.n, f), [&](int64_t p0, int64_t p1) {
    std::vector<T> P(f.size, T(0)), acc(f.n + kDepthwiseSlack);
    run(y, x, w, b, f, p0, p1, P.data(), acc.data());
  });
}

// ---- input gradient, non-finite weights -------------------------------------------------------

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

template <class T>
void backward_impl(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const Conv2dGeom& g,
                   int64_t mult) {
  std::vector<int64_t> store;
  const DepthwiseLayout f = plan(g, mult, store);
  const Loops<T> loops = active_loops<T>();
  const int64_t planes = g.N * g.C, Q = g.Ho * g.Wo;
  const bool unit = g.sh == 1 && g.sw == 1 && f.Ah >= 0 && f.Aw >= 0;
  // (the flat and phase paths, and the lanes path's unit-stride form, multiply borders and spare
  // columns of zeros by the weights, where an inf weight would make NaN)
  const bool finite = generic::all_finite<T, 16>(w, g.C * mult * f.taps);
  auto lanes_for = [&](LanePass pass) -> const DepthwiseLaneLoops* {
    if constexpr (std::is_same_v<T, float>) return lane_loops(g, mult, pass);
    return nullptr;
  };
  const DepthwiseLaneLoops* lanes = nullptr;
  if (dx && unit && finite && (lanes = lanes_for(LanePass::input_unit))) {
    if constexpr (std::is_same_v<T, float>) {
      // Unit stride: dx is the forward of dy, bordered by (k - 1) d - p, with the flipped filter
      // (sums held in registers, where the scatter adds through memory).
      Conv2dGeom gq = g;
      gq.H = g.Ho, gq.W = g.Wo, gq.ph = f.Ah, gq.pw = f.Aw, gq.Ho = g.H, gq.Wo = g.W;
      std::vector<int64_t> qstore;
      const DepthwiseLayout fq = plan(gq, 1, qstore);
      std::vector<float> flipped(g.C * f.taps);
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t t = 0; t < f.taps; ++t)
          flipped[c * f.taps + t] = w[c * f.taps + f.taps - 1 - t];
      const int64_t L = lanes->width;
      parallel_for(g.N * g.C / L, block_grain(fq), [&](int64_t k0, int64_t k1) {
        std::vector<float> X(L * fq.Hp * fq.Wp, 0.0f), wv(L * f.taps);
        lanes->forward(dx, dy, flipped.data(), nullptr, fq, k0, k1, X.data(), wv.data());
      });
    }
  } else if (dx && !unit && (lanes = lanes_for(LanePass::input_scatter))) {
    if constexpr (std::is_same_v<T, float>) {  // w dy only to the places it read
      const int64_t L = lanes->width;
      parallel_for(g.N * g.C / L, block_grain(f), [&](int64_t k0, int64_t k1) {
        std::vector<float> X(L * f.Hp * f.Wp), Y(L * Q), wv(L * f.taps);
        lanes->input_grad(dx, dy, w, f, k0, k1, X.data(), Y.data(), wv.data());
      });
    }
  } else if (dx && !finite) {
    input_grad_rows(dx, dy, w, g, mult);
  } else if (dx && unit) {
    parallel_for(planes, plane_grain(f.nq, f), [&](int64_t p0, int64_t p1) {
      std::vector<T> Qb(f.qsize, T(0)), acc(f.nq + kDepthwiseSlack);
      loops.input_grad_flat(dx, dy, w, f, p0, p1, Qb.data(), acc.data());
    });
  } else if (dx) {
    parallel_for(planes, plane_grain(f.n, f), [&](int64_t p0, int64_t p1) {
      std::vector<T> D(f.size), G(f.gsize, T(0)), wt(f.taps);
      loops.input_grad_phase(dx, dy, w, f, p0, p1, D.data(), G.data(), wt.data());
    });
  }
  if (!dw && !db) return;
  if ((lanes = lanes_for(LanePass::weight))) {
    if constexpr (std::is_same_v<T, float>) {
      const int64_t L = lanes->width;
      parallel_for(g.C / L, 1, [&](int64_t c0, int64_t c1) {
        std::vector<float> X(L * f.Hp * f.Wp, 0.0f), Y(L * Q);
        std::vector<double> acc(L * (c1 - c0) * (f.taps + 1));
        lanes->weight_grad(dw, db, dy, x, f, c0, c1, X.data(), Y.data(), acc.data());
      });
    }
    return;
  }
  parallel_for(g.C * mult, 1, [&](int64_t o0, int64_t o1) {  // tasks of output channels
    std::vector<T> P(f.size, T(0)), G(f.n + kDepthwiseSlack, T(0));
    std::vector<double> acc((o1 - o0) * (f.taps + 1));
    std::vector<T> V(acc.size() * kDepthwiseSlack);
    loops.weight_grad(dw, db, dy, x, f, o0, o1, P.data(), G.data(), acc.data(), V.data());
  });
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
