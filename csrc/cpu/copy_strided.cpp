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

// An item of a size known only at run time (16-byte complex, long double); the integer types
// stand for the common sizes, so that their moves compile to single loads and stores.
struct AnySize {
  int64_t bytes;
};
template <class E>
constexpr int64_t size_of(E) {
  return sizeof(E);
}
inline int64_t size_of(AnySize item) { return item.bytes; }

template <class E>
inline void move(char* dst, const char* src, E) {
  E v;
  std::memcpy(&v, src, sizeof(E));
  std::memcpy(dst, &v, sizeof(E));
}
inline void move(char* dst, const char* src, AnySize item) {
  std::memcpy(dst, src, static_cast<size_t>(item.bytes));
}

// fn(item), item standing for the item type of `itemsize` bytes.
template <class Fn>
void with_item(int64_t itemsize, Fn&& fn) {
  switch (itemsize) {
    case 1:
      return fn(uint8_t{});
    case 2:
      return fn(uint16_t{});
    case 4:
      return fn(uint32_t{});
    case 8:
      return fn(uint64_t{});
    default:
      return fn(AnySize{itemsize});
  }
}

// n items, `stride` bytes apart in the source, to consecutive items at dst.
void copy_run(char* dst, const char* src, int64_t n, int64_t itemsize, int64_t stride) {
  if (stride == itemsize) {
    std::memcpy(dst, src, static_cast<size_t>(n * itemsize));
    return;
  }
  with_item(itemsize, [&](auto item) {
    const int64_t e = size_of(item);
    for (int64_t i = 0; i < n; ++i) move(dst + i * e, src + i * stride, item);
  });
}

// One tile: out(a, b) at dst + a * out_a + b * e, from src + a * e + b * src_b, for a < na,
// b < nb, e = itemsize.
void transpose_tile(char* dst, const char* src, int64_t na, int64_t nb, int64_t out_a,
                    int64_t src_b, int64_t itemsize) {
  with_item(itemsize, [&](auto item) {
    const int64_t e = size_of(item);
    for (int64_t a = 0; a < na; ++a)
      for (int64_t b = 0; b < nb; ++b) move(dst + a * out_a + b * e, src + a * e + b * src_b, item);
  });
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
        transpose_tile(out + o.out + a0 * out_j + b0 * itemsize,
                       in + o.src + a0 * itemsize + b0 * src0, std::min(kTile, nj - a0),
                       std::min(kTile, n0 - b0), out_j, src0, itemsize);
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
