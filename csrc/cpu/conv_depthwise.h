// Depthwise conv2d's flat plane layout and the per-plane loops' entry points (see
// cpu/conv_depthwise.cpp for the method). The loops (cpu/conv_depthwise_planes.h) compile once per
// vector width: conv_depthwise.cpp builds them for float and double on 16-byte vectors, and
// conv_depthwise_avx2.cpp / conv_depthwise_avx512.cpp for float on 32- and 64-byte vectors; the
// driver picks the float unit at run time.
#pragma once
#include <stdint.h>

#include "cpu/fastnn_cpu.h"

namespace fastnn {

// Flat lengths are rounded up to, and buffers carry a slack of, this many elements: the widest
// vector (16 floats), so every unit reads and writes whole vectors.
constexpr int64_t kDepthwiseSlack = 16;

struct DepthwiseLayout {
  Conv2dGeom g;
  int64_t mult, taps;
  // The phase blocks of a padded input plane (forward, weight gradient, strided input
  // gradient): sh x sw blocks of Hph x Wph, bstride apart; tap t reads them from shift[t] on.
  // n = Ho Wph rounded up; a buffer holds size elements.
  int64_t Hph, Wph, bstride, n, size;
  const int64_t* shift;
  // Input row r goes to the phase blocks from row_at[r] on; its columns c = col_first[b],
  // col_first[b] + sw, ... (phase b) one after another from col_at[b] further on.
  const int64_t *row_at, *col_first, *col_at;
  // The unit-stride input gradient: dy bordered by Ah rows and Aw columns each side (Hq x Wq),
  // correlated with the flipped filter (tap t from qshift[t] on); nq = H Wq rounded up.
  int64_t Ah, Aw, Hq, Wq, nq, qsize;
  const int64_t* qshift;
  // The strided input gradient, block by block: block b's sums take the taps tap_of[i] for i in
  // [block_start[b], block_start[b + 1]), reading dy (Wph wide) placed at `front` in a zeroed
  // buffer of gsize elements from gshift[i] on.
  int64_t front, gsize;
  const int64_t *block_start, *tap_of, *gshift;
  // Channels as vector lanes (cpu/conv_depthwise_lanes.h): L channels' planes held pixel by
  // pixel, L floats a pixel, in a zero-bordered Hp x Wp buffer. Input pixel p = r W + c sits at
  // pixel pix_at[p] of it, output pixel q's taps start at out_at[q], tap t tap_at[t] further.
  int64_t Hp, Wp;
  const int64_t *pix_at, *out_at, *tap_at;
};

// The float32 loops of one vector unit. Each takes a range of tasks and its own scratch
// (zero-filled by the caller once, sizes in cpu/conv_depthwise.cpp's callers):
//   forward          planes p0..p1 of x (one per image and input channel); P: size, acc: n + slack
//   input_grad_flat  planes p0..p1 of dx; Q: qsize, acc: nq + slack
//   input_grad_phase planes p0..p1 of dx; D: size, G: gsize, wt: taps
//   weight_grad      output channels o0..o1 of dw and db (either may be nullptr); P: size,
//                    G: n + slack,
//                    acc: (o1 - o0) (taps + 1), V: as many times kDepthwiseSlack
struct DepthwiseLoops {
  void (*forward)(float* y, const float* x, const float* w, const float* b,
                  const DepthwiseLayout& f, int64_t p0, int64_t p1, float* P, float* acc);
  void (*input_grad_flat)(float* dx, const float* dy, const float* w, const DepthwiseLayout& f,
                          int64_t p0, int64_t p1, float* Q, float* acc);
  void (*input_grad_phase)(float* dx, const float* dy, const float* w, const DepthwiseLayout& f,
                           int64_t p0, int64_t p1, float* D, float* G, float* wt);
  void (*weight_grad)(float* dw, float* db, const float* dy, const float* x,
                      const DepthwiseLayout& f, int64_t o0, int64_t o1, float* P, float* G,
                      double* acc, float* V);
};

// The lanes path (cpu/conv_depthwise_lanes.h; float, one output channel per input channel, C a
// multiple of L = `width`, the channels a vector holds): blocks of L channels, k = n (C / L) +
// c / L for the forward and the input gradient (k0..k1), channel blocks c / L in c0..c1 (each
// over every image, in order) for the weight and bias gradients. Scratch: X Hp Wp L floats
// (zero-filled once), Y Ho Wo L floats, wv taps L floats, acc (c1 - c0) (taps + 1) L doubles.
struct DepthwiseLaneLoops {
  int64_t width;
  void (*forward)(float* y, const float* x, const float* w, const float* b,
                  const DepthwiseLayout& f, int64_t k0, int64_t k1, float* X, float* wv);
  void (*input_grad)(float* dx, const float* dy, const float* w, const DepthwiseLayout& f,
                     int64_t k0, int64_t k1, float* X, float* Y, float* wv);
  void (*weight_grad)(float* dw, float* db, const float* dy, const float* x,
                      const DepthwiseLayout& f, int64_t c0, int64_t c1, float* X, float* Y,
                      double* acc);
};

namespace avx512 {
extern const DepthwiseLoops kDepthwiseLoops;
extern const DepthwiseLaneLoops kDepthwiseLaneLoops;
}  // namespace avx512
namespace avx2 {
extern const DepthwiseLoops kDepthwiseLoops;
extern const DepthwiseLaneLoops kDepthwiseLaneLoops;
}  // namespace avx2

}  // namespace fastnn
