// grad_norm's span sums for AVX2 + FMA: float32 widened to double 4 lanes at a time, four
// accumulators (16 elements per iteration) to hide the add latency. Only the declared entry
// points leave this unit; it includes no header with shared inline code ([note: ISA units]).
#include <immintrin.h>

#include "cpu/grad_norm_simd.h"

namespace fastnn {
namespace avx2 {
namespace {

inline __m256d widen(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
inline __m256d load(const double* p) { return _mm256_loadu_pd(p); }
inline __m256d square_acc(__m256d v, __m256d acc) { return _mm256_fmadd_pd(v, v, acc); }
inline __m256d abs_acc(__m256d v, __m256d acc) {
  return _mm256_add_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), v), acc);
}

inline double hsum(__m256d a) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

template <class T, class Load, class Acc>
double span_sum(const T* x, int64_t n, Load ld, Acc acc_fn, bool square) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = acc_fn(ld(x + i), a0);
    a1 = acc_fn(ld(x + i + 4), a1);
    a2 = acc_fn(ld(x + i + 8), a2);
    a3 = acc_fn(ld(x + i + 12), a3);
  }
  for (; i + 4 <= n; i += 4) a0 = acc_fn(ld(x + i), a0);
  double s = hsum(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  for (; i < n; ++i) {
    const double v = x[i];
    s += square ? v * v : (v < 0 ? -v : v);
  }
  return s;
}

}  // namespace

double grad_sum_sq_f32(const float* x, int64_t n) {
  return span_sum(x, n, widen, square_acc, true);
}
double grad_sum_sq_f64(const double* x, int64_t n) {
  return span_sum(x, n, load, square_acc, true);
}
double grad_sum_abs_f32(const float* x, int64_t n) { return span_sum(x, n, widen, abs_acc, false); }
double grad_sum_abs_f64(const double* x, int64_t n) { return span_sum(x, n, load, abs_acc, false); }

}  // namespace avx2
}  // namespace fastnn
