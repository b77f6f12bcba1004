// sum_rows: out[c] = sum over r of x[r, c] for a C-contiguous (rows, cols) array: the gradient
// of a bias broadcast over rows (Linear's db, x + b) and Tensor.sum over leading dimensions.
// numpy's reduction over the leading axis walks the array one row at a time through its generic
// loop (11 us for a 256 x 10 gradient); here each row is one vectorised add.
// Rows are summed in chunks of kChunkRows in the input's dtype, and the chunk sums in double in
// chunk order: a cascade whose error grows with the chunk length plus the number of chunks rather
// than with the number of rows. Threads split the columns, so the bits do not depend on them, and
// every ISA path adds in the same order (sum_rows_block.h).
#include <algorithm>

#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

#define FASTNN_VEC_NS generic
#include "cpu/sum_rows_block.h"
#undef FASTNN_VEC_NS

namespace fastnn {

// The AVX2 unit's entry points (sum_rows_avx2.cpp).
void sum_rows_block_avx2(const float* x, int64_t rows, int64_t cols, int64_t c0, int64_t c1,
                         float* out);
void sum_rows_block_avx2(const double* x, int64_t rows, int64_t cols, int64_t c0, int64_t c1,
                         double* out);

namespace {

// Threads split the columns from kParallelElements elements on (a 256 x 784 gradient, 200k
// floats, is worth a pool wake of ~3 us; 256 x 256 is not), each taking one block of whole
// 64-byte lines as wide as the buffers allow: narrower blocks read each row in short pieces.
constexpr int64_t kParallelElements = int64_t(1) << 17;

template <class T>
void sum_rows_impl(const T* x, int64_t rows, int64_t cols, T* out) {
  if (cols <= 0) return;
  if (rows <= 0) return std::fill(out, out + cols, T(0));
  using Block = void (*)(const T*, int64_t, int64_t, int64_t, int64_t, T*);
  static const IsaTable<Block> table{
      {{&generic::sum_rows_block<T>, &sum_rows_block_avx2, &sum_rows_block_avx2}}};
  const Block block = table[active_isa()];
  const bool parallel = double(rows) * double(cols) >= double(kParallelElements);
  const int64_t threads = parallel ? get_num_threads() : 1;
  const int64_t share = ((cols + threads - 1) / threads + 15) / 16 * 16;
  const int64_t width = std::min(generic::kSumColBlock, share);
  const int64_t blocks = (cols + width - 1) / width;
  auto run = [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      block(x, rows, cols, b * width, std::min(cols, (b + 1) * width), out);
  };
  if (!parallel) return run(0, blocks);
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
