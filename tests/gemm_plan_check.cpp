// Host check of the float32 GEMM kernel's index math (csrc/cuda/gemm_plan.h), built and run by
// tests/test_gemm_plan.py: no GPU needed. It checks that the tile map, the shared-memory loads
// and the output ownership each cover their ranges exactly once, that shared stores and fragment
// reads are free of bank conflicts, that plan_gemm keeps its promises, and it replays the
// kernel's schedule (blocks, batch/K-chunk grid rows, slices, per-thread runs, epilogue, split-K
// reduction) on the host against a double-precision product, checking every address it reads
// or writes lies inside its operand. Prints "ok" and exits 0 on success.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "cuda/gemm_plan.h"

using namespace fastnn::cuda::gemm;

static int failures = 0;

#define EXPECT(cond, ...)                                             \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                              \
      std::fprintf(stderr, "\n");                                     \
      if (++failures > 20) std::exit(1);                              \
    }                                                                 \
  } while (0)

static void check_tile_coords() {
  for (int tiles_m = 1; tiles_m <= 37; ++tiles_m)
    for (int tiles_n = 1; tiles_n <= 37; ++tiles_n) {
      std::vector<int> seen(tiles_m * tiles_n, 0);
      for (int id = 0; id < tiles_m * tiles_n; ++id) {
        int tm = -1, tn = -1;
        tile_coords(id, tiles_m, tiles_n, tm, tn);
        EXPECT(tm >= 0 && tm < tiles_m && tn >= 0 && tn < tiles_n, "id %d -> (%d, %d) of %dx%d", id,
               tm, tn, tiles_m, tiles_n);
        if (tm >= 0 && tm < tiles_m && tn >= 0 && tn < tiles_n) ++seen[tm * tiles_n + tn];
      }
      for (int v : seen)
        EXPECT(v == 1, "tile grid %dx%d: a tile covered %d times", tiles_m, tiles_n, v);
    }
}

// Bank of a 4-byte shared word.
static int bank(int word) { return word % 32; }

// Every element of a kBK x BL slice is loaded by exactly one (thread, run, j); the transposing
// stores of a crosswise operand hit 32 distinct banks per warp instruction.
static void check_loads(const TileCfg& c, int bl, bool congruent) {
  const int threads = c.threads(), runs = kBK * bl / 4 / threads, lds = bl + kPad;
  EXPECT(runs >= 1 && runs * threads * 4 == kBK * bl, "bl %d threads %d", bl, threads);
  std::vector<int> seen(kBK * bl, 0);
  for (int tid = 0; tid < threads; ++tid)
    for (int r = 0; r < runs; ++r) {
      const int idx = tid + r * threads;
      const int k = congruent ? congruent_k(idx, bl) : crosswise_k(idx);
      const int l = congruent ? congruent_l(idx, bl) : crosswise_l(idx);
      EXPECT(l % 4 == 0 || !congruent, "congruent run at l=%d is not 16-byte aligned", l);
      for (int j = 0; j < 4; ++j) {
        const int kk = congruent ? k : k + j, ll = congruent ? l + j : l;
        EXPECT(kk >= 0 && kk < kBK && ll >= 0 && ll < bl, "run out of the slice (%d, %d)", kk, ll);
        if (kk >= 0 && kk < kBK && ll >= 0 && ll < bl) ++seen[kk * bl + ll];
      }
    }
  for (int v : seen)
    EXPECT(v == 1, "slice %dx%d congruent=%d: element loaded %d times", kBK, bl, congruent, v);
  if (!congruent)
    for (int w = 0; w < threads / 32; ++w)
      for (int r = 0; r < runs; ++r)
        for (int j = 0; j < 4; ++j) {
          int used[32] = {0};
          for (int lane = 0; lane < 32; ++lane) {
            const int idx = w * 32 + lane + r * threads;
            ++used[bank((crosswise_k(idx) + j) * lds + crosswise_l(idx))];
          }
          for (int u : used) EXPECT(u == 1, "transposing store: %d lanes on one bank", u);
        }
}

// Every output of the block tile is owned by exactly one (thread, cm, i, cn, j); a warp's
// 16-byte fragment reads of one k touch at most 128 distinct bytes (one shared wavefront).
static void check_outputs(const TileCfg& c) {
  std::vector<int> seen(c.bm * c.bn, 0);
  for (int warp = 0; warp < c.threads() / 32; ++warp)
    for (int lane = 0; lane < 32; ++lane)
      for (int cm = 0; cm < c.cm(); ++cm)
        for (int i = 0; i < 4; ++i)
          for (int cn = 0; cn < c.cn(); ++cn)
            for (int j = 0; j < 4; ++j) {
              const int m = out_row(c, warp, lane, cm, i), n = out_col(c, warp, lane, cn, j);
              EXPECT(m >= 0 && m < c.bm && n >= 0 && n < c.bn, "output (%d, %d)", m, n);
              if (m >= 0 && m < c.bm && n >= 0 && n < c.bn) ++seen[m * c.bn + n];
            }
  for (int v : seen) EXPECT(v == 1, "tile %dx%d: output owned %d times", c.bm, c.bn, v);
  for (int warp = 0; warp < c.threads() / 32; ++warp) {
    for (int cm = 0; cm < c.cm(); ++cm) {
      std::vector<int> starts;
      for (int lane = 0; lane < 32; ++lane) starts.push_back(out_row(c, warp, lane, cm, 0));
      int lo = starts[0], hi = starts[0];
      for (int s : starts) lo = s < lo ? s : lo, hi = s > hi ? s : hi;
      EXPECT((hi + 4 - lo) * 4 <= 128 && lo % 4 == 0, "A fragment spans %d bytes",
             (hi + 4 - lo) * 4);
    }
    for (int cn = 0; cn < c.cn(); ++cn) {
      int lo = 1 << 30, hi = -1;
      for (int lane = 0; lane < 32; ++lane) {
        const int s = out_col(c, warp, lane, cn, 0);
        lo = s < lo ? s : lo;
        hi = s > hi ? s : hi;
      }
      EXPECT((hi + 4 - lo) * 4 <= 128 && lo % 4 == 0, "B fragment spans %d bytes",
             (hi + 4 - lo) * 4);
    }
  }
}

static void check_plans() {
  const int64_t dims[] = {1, 3, 10, 63, 64, 65, 127, 128, 129, 256, 784, 1000, 4096, 100000};
  const int64_t batches[] = {1, 2, 7, 65535, 65536, 200000};
  const int sms_list[] = {1, 46, 108, 132};
  for (int sms : sms_list)
    for (int64_t batch : batches)
      for (int64_t M : dims)
        for (int64_t N : dims)
          for (int64_t K : dims) {
            const Plan p = plan_gemm(batch, M, N, K, sms);
            EXPECT(p.tile >= 0 && p.tile < kNumTiles, "tile %d", p.tile);
            const TileCfg& c = kTiles[p.tile];
            EXPECT(p.tiles_m * c.bm >= M && (p.tiles_m - 1) * c.bm < M, "tiles_m");
            EXPECT(p.tiles_n * c.bn >= N && (p.tiles_n - 1) * c.bn < N, "tiles_n");
            EXPECT(p.grid_x == p.tiles_m * p.tiles_n, "grid_x");
            EXPECT(p.splits >= 1 && p.splits <= kMaxSplits, "splits %d", p.splits);
            EXPECT(p.grid_y >= 1 && p.grid_y <= 65535 && p.grid_y <= batch * p.splits, "grid_y");
            if (p.splits == 1) {
              EXPECT(p.k_chunk == K, "k_chunk %lld for K %lld", (long long)p.k_chunk, (long long)K);
            } else {
              EXPECT(p.k_chunk % kBK == 0 && p.k_chunk >= kMinSplitK, "k_chunk %lld",
                     (long long)p.k_chunk);
              EXPECT((p.splits - 1) * p.k_chunk < K && p.splits * p.k_chunk >= K,
                     "K %lld split %d x %lld", (long long)K, p.splits, (long long)p.k_chunk);
              EXPECT(batch * p.grid_x < sms, "split although the GPU is full");
            }
          }
  // The shapes the issue names: 4096^3 takes the big tile unsplit; the MLP's GEMMs are split.
  Plan p = plan_gemm(1, 4096, 4096, 4096, 132);
  EXPECT(p.tile == 0 && p.splits == 1, "4096^3: tile %d splits %d", p.tile, p.splits);
  p = plan_gemm(1, 256, 256, 784, 132);
  EXPECT(p.splits > 1 && p.grid_x * p.splits >= 132, "256x256x784: %lld blocks",
         (long long)(p.grid_x * p.splits));
}

struct Problem {
  int64_t batch, M, N, K;
  bool ta, tb;
};

// Replays the kernel for one problem with a forced plan and returns the max relative error.
static double replay(const Problem& pr, int tile, int splits_req, int64_t grid_y, bool vec,
                     std::mt19937& rng) {
  const TileCfg c = kTiles[tile];
  const int64_t B = pr.batch, M = pr.M, N = pr.N, K = pr.K;
  Plan p;
  p.tile = tile;
  p.tiles_m = ceil_div_h(M, c.bm);
  p.tiles_n = ceil_div_h(N, c.bn);
  p.grid_x = p.tiles_m * p.tiles_n;
  p.k_chunk = splits_req > 1 ? ceil_div_h(ceil_div_h(K, splits_req), kBK) * kBK : K;
  p.splits = static_cast<int>(ceil_div_h(K, p.k_chunk));
  p.grid_y = grid_y;
  const int64_t sa = M * K, sb = K * N, sc = M * N;
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> A(B * sa), Bm(B * sb), bias(N);
  for (float& v : A) v = u(rng);
  for (float& v : Bm) v = u(rng);
  for (float& v : bias) v = u(rng);
  const float alpha = 1.5f, beta = 0.5f;
  std::vector<float> C0(B * sc);
  for (float& v : C0) v = u(rng);
  std::vector<float> C = C0;
  const bool split = p.splits > 1;
  std::vector<float> ws(split ? p.splits * B * sc : 0);
  std::vector<int> written(split ? ws.size() : C.size(), 0);
  const int lda_s = c.bm + kPad, ldb_s = c.bn + kPad, threads = c.threads();
  const int64_t lda = pr.ta ? M : K, ldb = pr.tb ? K : N;
  const int64_t zs = B * p.splits;

  // One operand's slice through the loader's arithmetic; bounds-checks every read.
  auto load_slice = [&](std::vector<float>& smem, int lds, int bl, bool congruent,
                        const float* base, int64_t size, int64_t ld, int l0, int k_begin, int L,
                        int t, int k_rem) {
    smem.assign(kBK * lds, NAN);
    const int runs = kBK * bl / 4 / threads;
    for (int tid = 0; tid < threads; ++tid)
      for (int r = 0; r < runs; ++r) {
        const int idx = tid + r * threads;
        const int k = congruent ? congruent_k(idx, bl) : crosswise_k(idx);
        const int l = congruent ? congruent_l(idx, bl) : crosswise_l(idx);
        const int elems = run_elems(l0 + l, L);
        const int64_t off = run_offset(congruent, ld, k_begin, k, l0 + l, elems) +
                            int64_t{t} * (congruent ? kBK * ld : kBK);
        const int n = run_count(congruent, k, k_rem, elems);
        if (vec && (congruent ? n > 0 : n == 4))
          EXPECT(off % 4 == 0, "16-byte run at unaligned offset %lld", (long long)off);
        if (vec && !congruent) EXPECT(n == 0 || n == 4, "partial crosswise run (%d)", n);
        for (int j = 0; j < 4; ++j) {
          float v = 0.f;
          if (j < n) {
            EXPECT(off + j >= 0 && off + j < size, "read at %lld of %lld", (long long)(off + j),
                   (long long)size);
            if (off + j >= 0 && off + j < size) v = base[off + j];
          }
          smem[(congruent ? k : k + j) * lds + (congruent ? l + j : l)] = v;
        }
      }
    for (int k = 0; k < kBK; ++k)
      for (int l = 0; l < bl; ++l)
        EXPECT(!std::isnan(smem[k * lds + l]), "slice element (%d, %d) not loaded", k, l);
  };

  std::vector<float> As, Bs;
  // Launches of at most grid_y rows, as launch_sgemm issues them.
  for (int64_t z0 = 0; z0 < zs; z0 += p.grid_y)
    for (int64_t by = 0; by < std::min<int64_t>(p.grid_y, zs - z0); ++by) {
      const int64_t z = z0 + by;
      const int64_t sp = z / B, item = z - sp * B;
      const int k_begin = static_cast<int>(sp * p.k_chunk);
      const int k_len = static_cast<int>(std::min<int64_t>(K - k_begin, p.k_chunk));
      EXPECT(k_len >= 1, "empty K chunk");
      for (int bx = 0; bx < p.grid_x; ++bx) {
        int tm, tn;
        tile_coords(bx, static_cast<int>(p.tiles_m), static_cast<int>(p.tiles_n), tm, tn);
        const int m0 = tm * c.bm, n0 = tn * c.bn;
        std::vector<float> acc(static_cast<size_t>(c.bm) * c.bn, 0.f);  // by (row, col) of tile
        const int slices = (k_len + kBK - 1) / kBK;
        for (int t = 0; t < slices; ++t) {
          const int k_rem = k_len - t * kBK;
          load_slice(As, lda_s, c.bm, pr.ta, A.data() + item * sa, sa, lda, m0, k_begin,
                     static_cast<int>(M), t, k_rem);
          load_slice(Bs, ldb_s, c.bn, !pr.tb, Bm.data() + item * sb, sb, ldb, n0, k_begin,
                     static_cast<int>(N), t, k_rem);
          for (int kk = 0; kk < kBK; ++kk)
            for (int m = 0; m < c.bm; ++m)
              for (int n = 0; n < c.bn; ++n)
                acc[m * c.bn + n] =
                    std::fma(As[kk * lda_s + m], Bs[kk * ldb_s + n], acc[m * c.bn + n]);
        }
        for (int warp = 0; warp < threads / 32; ++warp)
          for (int lane = 0; lane < 32; ++lane)
            for (int cm = 0; cm < c.cm(); ++cm)
              for (int i = 0; i < 4; ++i)
                for (int cn = 0; cn < c.cn(); ++cn)
                  for (int j = 0; j < 4; ++j) {
                    const int tr = out_row(c, warp, lane, cm, i),
                              tc = out_col(c, warp, lane, cn, j);
                    const int64_t m = m0 + tr, n = n0 + tc;
                    if (m >= M || n >= N) continue;
                    const float a = acc[tr * c.bn + tc];
                    if (split) {
                      const int64_t o = sp * B * sc + item * sc + m * N + n;
                      ws[o] = a;
                      ++written[o];
                    } else {
                      const int64_t o = item * sc + m * N + n;
                      C[o] = alpha * a + beta * C[o] + bias[n];
                      ++written[o];
                    }
                  }
      }
    }
  for (int w : written) EXPECT(w == 1, "output written %d times", w);
  if (split)
    for (int64_t e = 0; e < B * sc; ++e) {
      float s = 0.f;
      for (int q = 0; q < p.splits; ++q) s += ws[q * B * sc + e];
      C[e] = alpha * s + beta * C[e] + bias[(e % sc) % N];
    }
  double worst = 0.0;
  for (int64_t item = 0; item < B; ++item)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0.0, mag = 0.0;
        for (int64_t k = 0; k < K; ++k) {
          const double a = pr.ta ? A[item * sa + k * M + m] : A[item * sa + m * K + k];
          const double b = pr.tb ? Bm[item * sb + n * K + k] : Bm[item * sb + k * N + n];
          s += a * b;
          mag += std::fabs(a * b);
        }
        const int64_t o = item * sc + m * N + n;
        const double want = alpha * s + beta * double(C0[o]) + bias[n];
        const double err = std::fabs(C[o] - want) / (1.0 + alpha * mag + std::fabs(C0[o]));
        worst = err > worst ? err : worst;
      }
  return worst;
}

static void check_replays() {
  std::mt19937 rng(1234);
  const Problem shapes[] = {{1, 1, 1, 1, false, false},     {1, 7, 33, 5, false, false},
                            {3, 17, 9, 1, false, false},    {2, 129, 67, 37, false, false},
                            {1, 65, 130, 64, false, false}, {1, 130, 131, 100, false, false}};
  for (const Problem& base : shapes)
    for (int tr = 0; tr < 4; ++tr) {
      Problem pr = base;
      pr.ta = tr & 1;
      pr.tb = tr & 2;
      for (int tile = 0; tile < kNumTiles; ++tile)
        for (int splits : {1, 3}) {
          if (splits > 1 && pr.K < 2 * kBK) continue;
          for (int64_t gy : {int64_t{1}, int64_t{2}}) {
            // The kernel takes 16-byte runs only where the dimension allows; replay both.
            for (bool vec : {false, true}) {
              const int64_t lda = pr.ta ? pr.M : pr.K, ldb = pr.tb ? pr.K : pr.N;
              if (vec && (lda % 4 || ldb % 4)) continue;
              const double err = replay(pr, tile, splits, gy, vec, rng);
              EXPECT(err < 1e-6,
                     "batch %lld M %lld N %lld K %lld ta %d tb %d tile %d splits %d "
                     "grid_y %lld vec %d: error %g",
                     (long long)pr.batch, (long long)pr.M, (long long)pr.N, (long long)pr.K, pr.ta,
                     pr.tb, tile, splits, (long long)gy, vec, err);
            }
          }
        }
    }
}

int main() {
  check_tile_coords();
  for (const TileCfg& c : kTiles) {
    check_loads(c, c.bm, true);
    check_loads(c, c.bm, false);
    check_loads(c, c.bn, true);
    check_loads(c, c.bn, false);
    check_outputs(c);
  }
  check_plans();
  check_replays();
  if (failures) {
    std::fprintf(stderr, "%d failures\n", failures);
    return 1;
  }
  std::printf("ok\n");
  return 0;
}
