// max_last / min_last: the largest (smallest) value of each row of a C-contiguous (rows, cols)
// array and its column, in one pass: torch's x.max(-1) / x.min(-1), which numpy computes as two
// reductions (argmax, then amax), each with its own set-up. Ties give the first column; a NaN
// wins at its first column (the value is that NaN), as in torch and numpy's argmax.
#include "cpu/fastnn_cpu.h"

namespace fastnn {
namespace {

template <class T, bool kMax>
void extreme_last(const T* x, int64_t rows, int64_t cols, T* values, int64_t* indices) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * cols;
    T best = row[0];
    int64_t at = 0;
    if (best == best) {
      for (int64_t c = 1; c < cols; ++c) {
        const T v = row[c];
        if (kMax ? v > best : v < best) {
          best = v;
          at = c;
        } else if (v != v) {  // NaN: nothing compares greater, and it is the answer
          best = v;
          at = c;
          break;
        }
      }
    }
    values[r] = best;
    indices[r] = at;
  }
}

}  // namespace

void max_last_cpu(const float* x, int64_t rows, int64_t cols, float* values, int64_t* indices) {
  extreme_last<float, true>(x, rows, cols, values, indices);
}
void max_last_cpu(const double* x, int64_t rows, int64_t cols, double* values, int64_t* indices) {
  extreme_last<double, true>(x, rows, cols, values, indices);
}
void min_last_cpu(const float* x, int64_t rows, int64_t cols, float* values, int64_t* indices) {
  extreme_last<float, false>(x, rows, cols, values, indices);
}
void min_last_cpu(const double* x, int64_t rows, int64_t cols, double* values, int64_t* indices) {
  extreme_last<double, false>(x, rows, cols, values, indices);
}

}  // namespace fastnn
