// One block of columns of sum_rows (cpu/sum_rows.cpp), written once and compiled there for the
// generic path and in sum_rows_avx2.cpp (see [note: ISA units] in CMakeLists.txt): plain loops
// the compiler vectorises with the unit's registers. Each unit defines FASTNN_VEC_NS first.
// IEEE adds in a fixed order, so every path gives the same bits.
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS (the unit's namespace) before including sum_rows_block.h"
#endif
#include <algorithm>
#include <cstdint>

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

constexpr int64_t kSumChunkRows = 256;
constexpr int64_t kSumColBlock = 512;  // the most columns of one block (two stack buffers)

// out[c0..c1) (c1 - c0 <= kSumColBlock): rows summed in chunks of kSumChunkRows in T, the chunk
// sums in double in chunk order.
template <class T>
void sum_rows_block(const T* x, int64_t rows, int64_t cols, int64_t c0, int64_t c1, T* out) {
  const int64_t n = c1 - c0;
  T part[kSumColBlock];
  double total[kSumColBlock];
  std::fill(total, total + n, 0.0);
  for (int64_t r0 = 0; r0 < rows; r0 += kSumChunkRows) {
    const int64_t r1 = std::min(rows, r0 + kSumChunkRows);
    const T* row = x + r0 * cols + c0;
    std::copy(row, row + n, part);
    for (int64_t r = r0 + 1; r < r1; ++r) {
      row += cols;
      for (int64_t c = 0; c < n; ++c) part[c] += row[c];
    }
    for (int64_t c = 0; c < n; ++c) total[c] += static_cast<double>(part[c]);
  }
  for (int64_t c = 0; c < n; ++c) out[c0 + c] = static_cast<T>(total[c]);
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
