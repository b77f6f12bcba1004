// The extreme of one float32 row for max_last / min_last and amax_last / amin_last
// (cpu/max_min_last.cpp), compiled for AVX2 (see [note: ISA units] in CMakeLists.txt); the AVX-512
// path runs it too. The extreme by vector max / min (any NaN noted on the way), then, for
// max_last / min_last, a second pass over the row (still in L1) for the first column holding it,
// found by vector compares. The answer is the scalar loop's: the first column of the extreme (its
// value read from there, so a tie of -0 and +0 gives the first one's sign), or the first NaN.
#include <immintrin.h>

#include <cstdint>

namespace fastnn {
namespace avx2 {
namespace {

template <bool kMax>
inline __m256 pick(__m256 a, __m256 b) {
  return kMax ? _mm256_max_ps(a, b) : _mm256_min_ps(a, b);
}

template <bool kMax>
inline bool beats(float v, float best) {
  return kMax ? v > best : v < best;
}

// The first column c >= from with row[c] == v (or, for NaN v, row[c] != row[c]); cols if none.
inline int64_t first_equal(const float* row, int64_t from, int64_t cols, float v, bool nan) {
  int64_t c = from;
  const __m256 target = _mm256_set1_ps(v);
  for (; c + 8 <= cols; c += 8) {
    const __m256 x = _mm256_loadu_ps(row + c);
    const int hit = _mm256_movemask_ps(nan ? _mm256_cmp_ps(x, x, _CMP_UNORD_Q)
                                           : _mm256_cmp_ps(x, target, _CMP_EQ_OQ));
    if (hit) return c + __builtin_ctz(static_cast<unsigned>(hit));
  }
  for (; c < cols; ++c)
    if (nan ? row[c] != row[c] : row[c] == v) return c;
  return cols;
}

// The extreme value (amax_last / amin_last, and the first pass of extreme_row): one pass with four
// chains of vector max / min in flight (one chain waits on its latency every step), any NaN noted
// on the way; a row with a NaN answers its first NaN.
template <bool kMax>
float extreme_value(const float* row, int64_t cols) {
  int64_t c = 0;
  float best = row[0];
  bool nan = best != best;
  if (cols >= 32) {
    __m256 m[4], unordered = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      m[k] = _mm256_loadu_ps(row + 8 * k);
      unordered = _mm256_or_ps(unordered, _mm256_cmp_ps(m[k], m[k], _CMP_UNORD_Q));
    }
    for (c = 32; c + 32 <= cols; c += 32)
      for (int k = 0; k < 4; ++k) {
        const __m256 x = _mm256_loadu_ps(row + c + 8 * k);
        unordered = _mm256_or_ps(unordered, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
        m[k] = pick<kMax>(m[k], x);
      }
    nan = _mm256_movemask_ps(unordered) != 0;
    alignas(32) float lanes[32];
    for (int k = 0; k < 4; ++k) _mm256_store_ps(lanes + 8 * k, m[k]);
    best = lanes[0];
    for (int k = 1; k < 32; ++k)
      if (beats<kMax>(lanes[k], best)) best = lanes[k];
  }
  for (; c < cols && !nan; ++c) {
    if (row[c] != row[c]) nan = true;
    if (beats<kMax>(row[c], best)) best = row[c];
  }
  return nan ? row[first_equal(row, 0, cols, best, true)] : best;
}

// The extreme and its first column (max_last / min_last): the value by extreme_value's pass, then
// its column by vector compares; the value read from that column, so a tie of -0 and +0 gives the
// first one's sign.
template <bool kMax>
void extreme_row(const float* row, int64_t cols, float* value, int64_t* index) {
  const float best = extreme_value<kMax>(row, cols);
  const int64_t at = first_equal(row, 0, cols, best, best != best);
  *index = at;
  *value = row[at];
}

}  // namespace
}  // namespace avx2

void max_row_avx2(const float* row, int64_t cols, float* value, int64_t* index) {
  avx2::extreme_row<true>(row, cols, value, index);
}
void min_row_avx2(const float* row, int64_t cols, float* value, int64_t* index) {
  avx2::extreme_row<false>(row, cols, value, index);
}
float max_value_avx2(const float* row, int64_t cols) {
  return avx2::extreme_value<true>(row, cols);
}
float min_value_avx2(const float* row, int64_t cols) {
  return avx2::extreme_value<false>(row, cols);
}

}  // namespace fastnn
