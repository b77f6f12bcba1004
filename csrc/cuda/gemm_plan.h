// Planning and index math of the float32 GEMM kernel (sgemm_kernel.cuh), in plain C++ so the host
// can test it without a GPU (tests/gemm_plan_check.cpp): which tile shape and K split a problem
// gets, which output tile a block computes, which elements of a shared-memory tile a thread loads
// and which outputs it owns. The kernel calls these same functions, so a coverage bug here shows
// up in the host check before it becomes a wrong answer on a GPU.
#pragma once
#include <cstdint>

#include "hd.h"

namespace fastnn::cuda::gemm {

constexpr int kBK = 8;      // depth of one K slice staged in shared memory
constexpr int kPad = 4;     // floats of padding per shared row (see kernel: conflict-free stores)
constexpr int kGroupM = 8;  // tile rows per L2 group (see tile_coords)
// The 32-bit kernel handles M, N, K below this; bigger problems take the 64-bit fallback kernel.
constexpr int64_t kMaxDim32 = int64_t{1} << 30;
constexpr int kMaxSplits = 16;
constexpr int64_t kMinSplitK = 32;  // never split K into chunks shorter than this

// A block tile BM x BN computed by WARPS_M x WARPS_N warps. Each warp covers (BM/WARPS_M) x
// (BN/WARPS_N) as a 4 x 8 grid of lanes, each lane owning CM x CN runs of 4 x 4 outputs strided
// 16 rows and 32 columns apart: shared loads are 16-byte and a warp reads each row segment once.
struct TileCfg {
  int bm, bn, warps_m, warps_n;
  FASTNN_HD constexpr int threads() const { return warps_m * warps_n * 32; }
  FASTNN_HD constexpr int cm() const { return bm / warps_m / 16; }
  FASTNN_HD constexpr int cn() const { return bn / warps_n / 32; }
  FASTNN_HD constexpr int occupancy() const { return 512 / threads(); }  // blocks/SM at 128 regs
};
constexpr int kNumTiles = 3;
constexpr TileCfg kTiles[kNumTiles] = {{128, 128, 4, 2}, {128, 64, 4, 1}, {64, 64, 2, 2}};

struct Plan {
  int tile = 0;  // index into kTiles
  int64_t tiles_m = 0, tiles_n = 0;
  int splits = 1;  // K is cut into `splits` chunks of k_chunk (a multiple of kBK; last shorter)
  int64_t k_chunk = 0;  // == K when splits == 1
  int64_t grid_x = 0;   // tiles_m * tiles_n
  int64_t grid_y = 0;   // min(batch * splits, 65535); more rows take more launches
};

inline int64_t ceil_div_h(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The largest tile that still gives every SM a block (and is not mostly padding); split K when
// even the smallest tile leaves SMs idle. Needs batch, M, N, K >= 1 and sms >= 1.
inline Plan plan_gemm(int64_t batch, int64_t M, int64_t N, int64_t K, int sms) {
  Plan p;
  p.tile = kNumTiles - 1;
  for (int t = 0; t < kNumTiles - 1; ++t) {
    const TileCfg& c = kTiles[t];
    const int64_t blocks = batch * ceil_div_h(M, c.bm) * ceil_div_h(N, c.bn);
    const bool mostly_padding = (c.bm > 64 && M <= 64) || (c.bn > 64 && N <= 64);
    if (!mostly_padding && blocks >= sms) {
      p.tile = t;
      break;
    }
  }
  const TileCfg& c = kTiles[p.tile];
  p.tiles_m = ceil_div_h(M, c.bm);
  p.tiles_n = ceil_div_h(N, c.bn);
  p.grid_x = p.tiles_m * p.tiles_n;
  const int64_t blocks = batch * p.grid_x;
  p.k_chunk = K;
  // Fewer blocks than SMs: split K until half the resident slots are busy, at most kMaxSplits
  // ways and never below kMinSplitK deep (the partials cost a pass over splits * M * N).
  const int64_t want = int64_t{sms} * c.occupancy() / 2;
  if (blocks < sms && K >= 2 * kMinSplitK) {
    int64_t s = ceil_div_h(want, blocks);
    if (s > K / kMinSplitK) s = K / kMinSplitK;
    if (s > kMaxSplits) s = kMaxSplits;
    if (s > 1) {
      p.k_chunk = ceil_div_h(ceil_div_h(K, s), kBK) * kBK;
      p.splits = static_cast<int>(ceil_div_h(K, p.k_chunk));
    }
  }
  if (p.splits == 1) p.k_chunk = K;
  const int64_t zs = batch * p.splits;
  p.grid_y = zs < 65535 ? zs : 65535;
  return p;
}

// Block `id` of the grid's x axis -> output tile (tm, tn). Consecutive blocks walk down a group
// of kGroupM tile rows before moving right, so blocks resident together share panels of A and B
// in L2. A bijection of [0, tiles_m * tiles_n) onto the tile grid.
FASTNN_HD inline void tile_coords(int id, int tiles_m, int tiles_n, int& tm, int& tn) {
  const int per_group = kGroupM * tiles_n;
  const int group = id / per_group, first = group * kGroupM;
  const int rows = tiles_m - first < kGroupM ? tiles_m - first : kGroupM;
  const int r = id - group * per_group;
  tm = first + r % rows;
  tn = r / rows;
}

// Loads: a BK x BL tile of an operand is copied in runs of 4 elements, chunk `idx` (0 ..
// BK*BL/4 - 1; thread t takes t, t + threads, ...). "Congruent": the operand is contiguous along L
// in memory (A transposed, B not) and a run is 4 consecutive l at one k. "Crosswise": contiguous
// along K (A not transposed, B transposed) and a run is 4 consecutive k at one l.
FASTNN_HD constexpr int congruent_k(int idx, int bl) { return idx / (bl / 4); }
FASTNN_HD constexpr int congruent_l(int idx, int bl) { return (idx % (bl / 4)) * 4; }
FASTNN_HD constexpr int crosswise_l(int idx) { return idx / (kBK / 4); }
FASTNN_HD constexpr int crosswise_k(int idx) { return (idx % (kBK / 4)) * 4; }
// Elements of a run starting at global index `l` that lie inside an extent of `n` (0..4).
FASTNN_HD constexpr int run_elems(int l, int n) {
  return n - l <= 0 ? 0 : (n - l >= 4 ? 4 : n - l);
}
// A run's first element, as an offset from the operand of its batch item: (k, l) at k * ld + l
// (congruent) or l * ld + k (crosswise), k counted from the chunk start k_begin. A run whose l
// lies past the operand (elems == 0) is moved to l = 0 so its address stays inside the operand.
FASTNN_HD constexpr int64_t run_offset(bool congruent, int64_t ld, int k_begin, int k, int gl,
                                       int elems) {
  return congruent ? (int64_t{k_begin} + k) * ld + (elems ? gl : 0)
                   : (elems ? gl : int64_t{0}) * ld + k_begin + k;
}
// How many leading elements of the run are real data in the slice whose remaining depth in the
// chunk is k_rem (the rest read as 0): the run lies at slice depth k (crosswise: k .. k+3).
FASTNN_HD constexpr int run_count(bool congruent, int k, int k_rem, int elems) {
  return congruent ? (k < k_rem ? elems : 0) : (elems ? run_elems(k, k_rem) : 0);
}

// Outputs: lane `lane` of warp `warp` owns rows out_row(..., cm, i) and columns
// out_col(..., cn, j) of the block tile, for cm < CM, cn < CN, i, j < 4.
FASTNN_HD constexpr int out_row(const TileCfg& c, int warp, int lane, int cm, int i) {
  return (warp / c.warps_n) * (c.bm / c.warps_m) + cm * 16 + (lane >> 3) * 4 + i;
}
FASTNN_HD constexpr int out_col(const TileCfg& c, int warp, int lane, int cn, int j) {
  return (warp % c.warps_n) * (c.bn / c.warps_n) + cn * 32 + (lane & 7) * 4 + j;
}

}  // namespace fastnn::cuda::gemm
