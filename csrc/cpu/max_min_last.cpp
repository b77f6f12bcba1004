// The best elements of each row of a C-contiguous (rows, cols) array, in one pass over it:
// - max_last / min_last: the largest (smallest) value and its column, torch's x.max(-1) /
//   x.min(-1), which numpy computes as two reductions (argmax, then amax), each with its own
//   set-up. Ties give the first column; a NaN wins at its first column (the value is that NaN),
//   as in torch and numpy's argmax.
// - amax_last / amin_last: the value alone, torch's x.amax(-1) / x.amin(-1) (numpy's reduction
//   walks a short row with one vector chain); NaN if the row has one.
// - topk_last: the columns of the k largest (smallest) values, best first, torch's x.topk(k):
//   a sorted list of the k best so far, which almost every later element of a long row fails to
//   enter with one comparison, instead of sorting the whole row. Ties keep column order; NaN
//   counts as larger than every number for both orders, as in torch's sort.
// Rows are split over the thread pool; each row is one thread's, so no result depends on the
// thread count.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

namespace fastnn {

// The AVX2 unit's float32 rows (max_min_last_avx2.cpp).
void max_row_avx2(const float* row, int64_t cols, float* value, int64_t* index);
void min_row_avx2(const float* row, int64_t cols, float* value, int64_t* index);
float max_value_avx2(const float* row, int64_t cols);
float min_value_avx2(const float* row, int64_t cols);

namespace {

// Rows per task at least: a task should have ~32k elements to be worth a wake of the pool.
int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(cols, 1)); }

// The extreme of one row and its first column; a NaN is the answer at its first column.
template <class T, bool kMax>
void extreme_row(const T* row, int64_t cols, T* value, int64_t* index) {
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
  *value = best;
  *index = at;
}

// The extreme value of one row alone (NaN if the row has one: its first).
template <class T, bool kMax>
T extreme_value(const T* row, int64_t cols) {
  T value;
  int64_t at;
  extreme_row<T, kMax>(row, cols, &value, &at);
  return value;
}

template <class T>
using RowFn = void (*)(const T*, int64_t, T*, int64_t*);
template <class T>
using ValueFn = T (*)(const T*, int64_t);

template <class T, bool kMax>
ValueFn<T> value_fn() {
  if constexpr (std::is_same_v<T, float>) {
    static const IsaTable<ValueFn<float>> table{
        {{&extreme_value<float, kMax>, kMax ? &max_value_avx2 : &min_value_avx2,
          kMax ? &max_value_avx2 : &min_value_avx2}}};
    return table[active_isa()];
  }
  return &extreme_value<T, kMax>;
}

template <class T, bool kMax>
void extreme_value_last(const T* x, int64_t rows, int64_t cols, T* values) {
  const ValueFn<T> row = value_fn<T, kMax>();
  parallel_for(rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) values[r] = row(x + r * cols, cols);
  });
}

// float32 rows take the AVX2 unit's vector passes where the CPU has them (the same answers).
template <class T, bool kMax>
RowFn<T> row_fn() {
  if constexpr (std::is_same_v<T, float>) {
    static const IsaTable<RowFn<float>> table{
        {{&extreme_row<float, kMax>, kMax ? &max_row_avx2 : &min_row_avx2,
          kMax ? &max_row_avx2 : &min_row_avx2}}};
    return table[active_isa()];
  }
  return &extreme_row<T, kMax>;
}

template <class T, bool kMax>
void extreme_last(const T* x, int64_t rows, int64_t cols, T* values, int64_t* indices) {
  const RowFn<T> row = row_fn<T, kMax>();
  parallel_for(rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) row(x + r * cols, cols, values + r, indices + r);
  });
}

// Whether v ranks strictly before w: larger (smaller) first, NaN above every number.
template <class T, bool kLargest>
inline bool ranks_before(T v, T w) {
  if (kLargest) return v > w || (v != v && w == w);
  return v < w || (w != w && v == v);
}

template <class T, bool kLargest>
void topk_last(const T* x, int64_t rows, int64_t cols, int64_t k, int64_t* out) {
  if (k == 0) return;
  parallel_for(rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
    std::vector<T> best(static_cast<size_t>(k));  // the values at the kept columns
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = x + r * cols;
      int64_t* at = out + r * k;
      int64_t kept = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const T v = row[c];
        int64_t pos;
        if (kept == k) {
          if (!ranks_before<T, kLargest>(v, best[k - 1])) continue;  // most elements stop here
          pos = k - 1;
        } else {
          pos = kept++;
        }
        // move past the strictly worse only, so an equal value keeps its earlier column's place
        for (; pos > 0 && ranks_before<T, kLargest>(v, best[pos - 1]); --pos) {
          best[pos] = best[pos - 1];
          at[pos] = at[pos - 1];
        }
        best[pos] = v;
        at[pos] = c;
      }
    }
  });
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

void amax_last_cpu(const float* x, int64_t rows, int64_t cols, float* values) {
  extreme_value_last<float, true>(x, rows, cols, values);
}
void amax_last_cpu(const double* x, int64_t rows, int64_t cols, double* values) {
  extreme_value_last<double, true>(x, rows, cols, values);
}
void amin_last_cpu(const float* x, int64_t rows, int64_t cols, float* values) {
  extreme_value_last<float, false>(x, rows, cols, values);
}
void amin_last_cpu(const double* x, int64_t rows, int64_t cols, double* values) {
  extreme_value_last<double, false>(x, rows, cols, values);
}

void topk_last_cpu(const float* x, int64_t rows, int64_t cols, int64_t k, bool largest,
                   int64_t* indices) {
  if (largest)
    topk_last<float, true>(x, rows, cols, k, indices);
  else
    topk_last<float, false>(x, rows, cols, k, indices);
}
void topk_last_cpu(const double* x, int64_t rows, int64_t cols, int64_t k, bool largest,
                   int64_t* indices) {
  if (largest)
    topk_last<double, true>(x, rows, cols, k, indices);
  else
    topk_last<double, false>(x, rows, cols, k, indices);
}

}  // namespace fastnn
