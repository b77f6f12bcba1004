// sum_rows: out[c] = sum over r of x[r, c] for a C-contiguous (rows, cols) array: the gradient
// of a bias broadcast over rows (Linear's db, x + b) and Tensor.sum over leading dimensions.
// numpy's reduction over the leading axis walks the array one row at a time through its generic
// loop (11 us for a 256 x 10 gradient); here each row is one vectorised add.
// Rows are summed in chunks of kChunkRows in the input's dtype, and the chunk sums in double in
// chunk order: a cascade whose error grows with the chunk length plus the number of chunks rather
// than with the number of rows. Threads split the columns, so the bits do not depend on them.
#include <algorithm>

#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

namespace fastnn {
namespace {

constexpr int64_t kChunkRows = 256;
constexpr int64_t kColBlock = 512;                       // columns of one pass (two stack buffers)
constexpr int64_t kParallelElements = int64_t(1) << 20;  // below: one thread (a pool wake is ~3 us)

// Columns [c0, c1) of the sums (c1 - c0 <= kColBlock).
template <class T>
void sum_block(const T* x, int64_t rows, int64_t cols, int64_t c0, int64_t c1, T* out) {
  const int64_t n = c1 - c0;
  T part[kColBlock];
  double total[kColBlock];
  std::fill(total, total + n, 0.0);
  for (int64_t r0 = 0; r0 < rows; r0 += kChunkRows) {
    const int64_t r1 = std::min(rows, r0 + kChunkRows);
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

template <class T>
void sum_rows_impl(const T* x, int64_t rows, int64_t cols, T* out) {
  if (cols <= 0) return;
  if (rows <= 0) return std::fill(out, out + cols, T(0));
  const int64_t blocks = (cols + kColBlock - 1) / kColBlock;
  auto run = [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      sum_block(x, rows, cols, b * kColBlock, std::min(cols, (b + 1) * kColBlock), out);
  };
  if (double(rows) * double(cols) < double(kParallelElements)) return run(0, blocks);
  parallel_for(blocks, 1, run);
}

}  // namespace

void sum_rows_cpu(const float* x, int64_t rows, int64_t cols, float* out) {
  sum_rows_impl(x, rows, cols, out);
}
void sum_rows_cpu(const double* x, int64_t rows, int64_t cols, double* out) {
  sum_rows_impl(x, rows, cols, out);
}

}  // namespace fastnn
