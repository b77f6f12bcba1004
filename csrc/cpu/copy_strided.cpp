// copy_strided_cpu: a C-contiguous copy of a strided view (a transpose, a permutation, a slice,
// a reversed axis) on the thread pool. numpy's own copy runs on one core.
//
// The view's dimensions are planned as the element-wise kernels plan theirs (strided_index.h):
// size-1 dimensions dropped, neighbours walked contiguously merged, innermost first. Two shapes of
// work come out of it:
//   runs:      the output's innermost dimension, copied run by run (one copy for a run that is
//              contiguous in the source, as in the head split of attention: runs of 32 floats;
//              an element-by-element gather otherwise);
//   transpose: where another dimension is the source's contiguous one, the pair is a 2-D
//              transpose, copied in square tiles so that both the source's and the output's lines
//              are used whole while they sit in L1 (gathering along the output's rows read a new
//              source line for every element: a (64, 32, 128) view of a transposed gradient took
//              129 us that way, numpy 272).
// Threads take ranges of runs, or of tiles; each finds its first offsets by division and steps an
// odometer from there.
#include <cstring>

#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"
#include "strided_index.h"

namespace fastnn {
namespace {

constexpr int64_t kGrainBytes = 128 << 10;  // bytes a task copies before a thread pays off
constexpr int64_t kTile = 16;               // items per side of a transpose tile

template <class E>
inline void move(char* dst, const char* src) {
  E v;
  std::memcpy(&v, src, sizeof(E));
  std::memcpy(dst, &v, sizeof(E));
}

// n items, `stride` bytes apart in the source, to consecutive items at dst.
template <class E>
void gather_run(char* dst, const char* src, int64_t n, int64_t stride) {
  for (int64_t i = 0; i < n; ++i) move<E>(dst + i * int64_t(sizeof(E)), src + i * stride);
}

void copy_run(char* dst, const char* src, int64_t n, int64_t itemsize, int64_t stride) {
  if (stride == itemsize) {
    std::memcpy(dst, src, static_cast<size_t>(n * itemsize));
    return;
  }
  switch (itemsize) {
    case 1:
      return gather_run<uint8_t>(dst, src, n, stride);
    case 2:
      return gather_run<uint16_t>(dst, src, n, stride);
    case 4:
      return gather_run<uint32_t>(dst, src, n, stride);
    case 8:
      return gather_run<uint64_t>(dst, src, n, stride);
    default:
      for (int64_t i = 0; i < n; ++i)
        std::memcpy(dst + i * itemsize, src + i * stride, static_cast<size_t>(itemsize));
  }
}

// One tile: out(a, b) at dst + a * out_a + b * E, from src + a * E + b * src_b, for a < na, b < nb.
template <class E>
void transpose_tile(char* dst, const char* src, int64_t na, int64_t nb, int64_t out_a,
                    int64_t src_b) {
  constexpr int64_t e = sizeof(E);
  for (int64_t a = 0; a < na; ++a)
    for (int64_t b = 0; b < nb; ++b) move<E>(dst + a * out_a + b * e, src + a * e + b * src_b);
}

void tile_any(char* dst, const char* src, int64_t na, int64_t nb, int64_t out_a, int64_t src_b,
              int64_t itemsize) {
  switch (itemsize) {
    case 1:
      return transpose_tile<uint8_t>(dst, src, na, nb, out_a, src_b);
    case 2:
      return transpose_tile<uint16_t>(dst, src, na, nb, out_a, src_b);
    case 4:
      return transpose_tile<uint32_t>(dst, src, na, nb, out_a, src_b);
    case 8:
      return transpose_tile<uint64_t>(dst, src, na, nb, out_a, src_b);
    default:
      for (int64_t a = 0; a < na; ++a)
        for (int64_t b = 0; b < nb; ++b)
          std::memcpy(dst + a * out_a + b * itemsize, src + a * itemsize + b * src_b,
                      static_cast<size_t>(itemsize));
  }
}

// The odometer over the plan's dimensions other than 0 and `skip` (0 for none): the output and
// source offsets of outer index o, and a step to o + 1.
struct Outer {
  const IndexPlan<2>& p;
  int skip;
  int64_t idx[kIndexMaxDims] = {};
  int64_t out = 0, src = 0;

  Outer(const IndexPlan<2>& plan, int skip_dim, int64_t o) : p(plan), skip(skip_dim) {
    for (int d = 1; d < p.ndim; ++d) {
      if (d == skip) continue;
      idx[d] = o % p.size[d];
      o /= p.size[d];
      out += idx[d] * p.stride[d][0];
      src += idx[d] * p.stride[d][1];
    }
  }
  void next() {
    for (int d = 1; d < p.ndim; ++d) {
      if (d == skip) continue;
      out += p.stride[d][0];
      src += p.stride[d][1];
      if (++idx[d] < p.size[d]) return;
      out -= idx[d] * p.stride[d][0];
      src -= idx[d] * p.stride[d][1];
      idx[d] = 0;
    }
  }
};

// The source's contiguous dimension other than the output's innermost one, or 0 for none.
int transposed_dim(const IndexPlan<2>& p, int64_t itemsize) {
  if (p.stride[0][1] == itemsize || p.size[0] < 4) return 0;
  for (int d = 1; d < p.ndim; ++d)
    if (p.stride[d][1] == itemsize && p.size[d] >= 4) return d;
  return 0;
}

}  // namespace

void copy_strided_cpu(void* dst, const void* src, int64_t itemsize, int ndim, const int64_t* shape,
                      const int64_t* strides) {
  int64_t out_strides[kIndexMaxDims], src_strides[kIndexMaxDims];
  int64_t numel = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    out_strides[d] = numel * itemsize;  // bytes, as the source's
    src_strides[d] = strides[d];
    numel *= shape[d];
  }
  if (numel == 0) return;
  const int64_t* both[2] = {out_strides, src_strides};
  const IndexPlan<2> p = plan_index<2>(ndim, shape, both);
  char* out = static_cast<char*>(dst);
  const char* in = static_cast<const char*>(src);
  if (p.ndim == 0) {  // one element
    std::memcpy(out, in, static_cast<size_t>(itemsize));
    return;
  }
  const int64_t n0 = p.size[0], src0 = p.stride[0][1];
  if (const int j = transposed_dim(p, itemsize)) {
    // Tiles of kTile x kTile over dimensions 0 (along the output) and j (along the source).
    const int64_t nj = p.size[j], out_j = p.stride[j][0];
    const int64_t tiles0 = (n0 + kTile - 1) / kTile, tilesj = (nj + kTile - 1) / kTile;
    const int64_t per_outer = tiles0 * tilesj, units = numel / (n0 * nj) * per_outer;
    const int64_t grain = kGrainBytes / (kTile * kTile * itemsize) + 1;
    parallel_for(units, grain, [&](int64_t u0, int64_t u1) {
      Outer o(p, j, u0 / per_outer);
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t t = u % per_outer;
        if (u > u0 && t == 0) o.next();
        const int64_t a0 = t / tiles0 * kTile, b0 = t % tiles0 * kTile;
        tile_any(out + o.out + a0 * out_j + b0 * itemsize, in + o.src + a0 * itemsize + b0 * src0,
                 std::min(kTile, nj - a0), std::min(kTile, n0 - b0), out_j, src0, itemsize);
      }
    });
    return;
  }
  // Runs of the output's innermost dimension: run r starts r * run_bytes into the output.
  const int64_t run_bytes = n0 * itemsize, rows = numel / n0;
  const int64_t grain = kGrainBytes / run_bytes + 1;
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    Outer o(p, 0, r0);
    for (int64_t r = r0; r < r1; ++r, o.next())
      copy_run(out + o.out, in + o.src, n0, itemsize, src0);
  });
}

}  // namespace fastnn
