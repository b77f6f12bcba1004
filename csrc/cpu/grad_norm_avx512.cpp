// grad_norm's span sums for AVX-512: float32 widened to double 8 lanes at a time, four
// accumulators (32 elements per iteration) to hide the add latency. Only the declared entry
// points leave this unit; it includes no header with shared inline code ([note: ISA units]).
#include <immintrin.h>

#include "cpu/grad_norm_simd.h"

namespace fastnn {
namespace avx512 {
namespace {

// The maskz form: the plain conversion starts from an undefined vector, which GCC 12 reports as
// possibly uninitialised.
inline __m512d widen(const float* p) { return _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(p)); }
inline __m512d load(const double* p) { return _mm512_loadu_pd(p); }
inline __m512d square_acc(__m512d v, __m512d acc) { return _mm512_fmadd_pd(v, v, acc); }
inline __m512d abs_acc(__m512d v, __m512d acc) { return _mm512_add_pd(_mm512_abs_pd(v), acc); }

// Horizontal sum without the unmasked 256-bit extract (GCC 12 builds it from an undefined
// vector and warns); the low half is a plain lane shuffle.
inline double hsum(__m512d a) {
  const __m256d lo = __builtin_shufflevector(a, a, 0, 1, 2, 3);
  const __m256d h = _mm256_add_pd(lo, _mm512_maskz_extractf64x4_pd(0xFF, a, 1));
  const __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
  return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
}

template <class T, class Load, class Acc>
double span_sum(const T* x, int64_t n, Load ld, Acc acc_fn, bool square) {
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = acc_fn(ld(x + i), a0);
    a1 = acc_fn(ld(x + i + 8), a1);
    a2 = acc_fn(ld(x + i + 16), a2);
    a3 = acc_fn(ld(x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = acc_fn(ld(x + i), a0);
  double s = hsum(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
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

}  // namespace avx512
}  // namespace fastnn
