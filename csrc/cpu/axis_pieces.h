// Threading for the ops that run along one axis of a contiguous array seen as (outer, n, inner)
// (AlongDim, contract.h): softmax / log_softmax (cpu/activations.cpp) and var_mean
// (cpu/var_mean.cpp). inner == 1 is one row of n per outer index; otherwise the work is cut into
// (outer index, block of up to `block` neighbouring columns) pieces, each read row after row so
// memory is walked in order. The pieces are fixed by the shape alone, so the results do not depend
// on the thread count.
#pragma once
#include <algorithm>
#include <cstdint>

#include "contract.h"
#include "cpu/parallel.h"

namespace fastnn {

// In parallel: rows(first row, row count) over the outer indices when s.inner == 1, else
// columns(outer index, first column, column count) over every piece; each thread takes about 16K
// elements at least.
template <class Rows, class Columns>
void for_axis_pieces(const AlongDim& s, int64_t block, Rows rows, Columns columns) {
  const int64_t piece = s.n * std::min(s.inner, block);  // elements of a row or a piece
  const int64_t grain = piece >= 16384 ? 1 : 16384 / std::max<int64_t>(piece, 1);
  if (s.inner == 1)
    return parallel_for(s.outer, grain, [&](int64_t b, int64_t e) { rows(b, e - b); });
  const int64_t blocks = (s.inner + block - 1) / block;
  parallel_for(s.outer * blocks, grain, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const int64_t c = (p % blocks) * block;
      columns(p / blocks, c, std::min(block, s.inner - c));
    }
  });
}

}  // namespace fastnn
