// The tile transforms of Winograd F(2x2, 3x3) conv2d (cpu/conv_winograd.cpp), bodies in
// conv_winograd_avx512.cpp and conv_winograd_avx2.cpp. Plain declarations only, so the ISA units
// include nothing that defines inline code (see [note: ISA units] in CMakeLists.txt).
#pragma once
#include <cstdint>

namespace fastnn {

// Tile (th, tw) covers output rows 2th, 2th+1 and columns 2tw, 2tw+1, and reads input rows
// 2th - ph + [0, 4) and columns 2tw - pw + [0, 4) (zero outside the image). A call transforms a
// list of runs of tiles, each run as the lanes of a vector, its segments (tiles of one tile row;
// the first with len 0 ends the list) in consecutive lanes from lane 0. AVX-512 takes either one
// segment of at most 16 tiles or two of at most 7 (two rows of a narrow image fill one vector);
// AVX2 takes 8 consecutive tiles of a block in as many segments as they cross tile rows (the last
// run of a block may be shorter). The transformed
// operand holds the 16 values of each tile as 16 arrays, array xi = 4k + l at offset xi * ld_xi,
// channel c at c * ld_c, lane t of a run at its `at` + t. Channels are the outer loop, so each
// plane of the image is swept in order.
struct WinoGeom {
  int64_t C, O;    // input and output channels
  int64_t H, W;    // input plane
  int64_t Ho, Wo;  // output plane
  int64_t ph, pw;  // padding
};
struct WinoSeg {
  int64_t n, th, a, len;  // tiles tw in [a, a + len) of tile row th of image n
};
constexpr int kWinoMaxSegs = 8;  // a run of 8 tiles of a 1-tile-wide image
struct WinoRun {
  WinoSeg seg[kWinoMaxSegs];
  int64_t at;
};

// v = B^T d B of every input channel of x (N, C, H, W). True when a value read was Inf or NaN.
bool wino_input_f32_avx512(float* v, int64_t ld_xi, int64_t ld_c, const float* x, const WinoGeom& g,
                           const WinoRun* runs, int64_t nruns);
// y tiles (y is N, O, Ho, Wo) = A^T m A + bias (bias may be null); pixels past Ho, Wo dropped.
void wino_output_f32_avx512(float* y, const float* m, int64_t ld_xi, int64_t ld_o,
                            const float* bias, const WinoGeom& g, const WinoRun* runs,
                            int64_t nruns);
// m = A dy A^T of every output channel of dy (N, O, Ho, Wo), dy zero past Ho, Wo (the adjoint of
// the output transform). True when a value read was Inf or NaN.
bool wino_grad_output_f32_avx512(float* m, int64_t ld_xi, int64_t ld_o, const float* dy,
                                 const WinoGeom& g, const WinoRun* runs, int64_t nruns);
// dx (N, C, H, W) += B v B^T of every input channel (the adjoint of the input transform),
// dropping what falls in the padding.
void wino_grad_input_f32_avx512(float* dx, const float* v, int64_t ld_xi, int64_t ld_c,
                                const WinoGeom& g, const WinoRun* runs, int64_t nruns);

bool wino_input_f32_avx2(float* v, int64_t ld_xi, int64_t ld_c, const float* x, const WinoGeom& g,
                         const WinoRun* runs, int64_t nruns);
void wino_output_f32_avx2(float* y, const float* m, int64_t ld_xi, int64_t ld_o, const float* bias,
                          const WinoGeom& g, const WinoRun* runs, int64_t nruns);
bool wino_grad_output_f32_avx2(float* m, int64_t ld_xi, int64_t ld_o, const float* dy,
                               const WinoGeom& g, const WinoRun* runs, int64_t nruns);
void wino_grad_input_f32_avx2(float* dx, const float* v, int64_t ld_xi, int64_t ld_c,
                              const WinoGeom& g, const WinoRun* runs, int64_t nruns);

// One transformed operand of a block, as the weight gradient's products read it: value (r, t) of
// channel r and the block's tile t at p + t / 16 * panel + r * row + t % 16. Row layout: row = the
// block's width, panel = 16; panels of 16 tiles: row = 16, panel = 16 * channels.
struct WinoRows {
  const float* p;
  int64_t row, panel;
};
// du[r * ld + s] = (accumulate ? du[r * ld + s] : 0) + sum over t < nc of a(r, t) * b(s, t), for
// r < R, s < S: the dot products of rows, the tiles in the lanes, so neither operand is
// transposed. Nothing past tile nc is read.
void wino_dot_f32_avx2(float* du, int64_t ld, WinoRows a, WinoRows b, int64_t R, int64_t S,
                       int64_t nc, bool accumulate);

}  // namespace fastnn
