// sum_rows' column blocks compiled for AVX2 (see [note: ISA units] in CMakeLists.txt); the
// AVX-512 path runs them too: 8-lane adds already outrun the caches the rows stream from.
#define FASTNN_VEC_NS avx2
#include "cpu/sum_rows_block.h"

namespace fastnn {

void sum_rows_block_avx2(const float* x, int64_t rows, int64_t cols, int64_t c0, int64_t c1,
                         float* out) {
  avx2::sum_rows_block(x, rows, cols, c0, c1, out);
}
void sum_rows_block_avx2(const double* x, int64_t rows, int64_t cols, int64_t c0, int64_t c1,
                         double* out) {
  avx2::sum_rows_block(x, rows, cols, c0, c1, out);
}

}  // namespace fastnn
