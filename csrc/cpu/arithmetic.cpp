// add, sub, mul, div, maximum and minimum of whole float arrays (or an array and a scalar), the
// one-operand maps (neg, abs, sign, floor, ceil, trunc, rint), addcmul / addcdiv / lerp, where,
// copies, and the gradients of maximum / minimum, split over the thread pool. numpy's loops run on
// one core; a large element-wise op is bound by one core's share of the cache and memory bandwidth,
// so two cores finish it in about half the time. The loops are in arithmetic_simd.h, compiled here
// for the generic path and in the AVX2 / AVX-512 units.
#include <algorithm>
#include <cstring>

#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

#define FASTNN_VEC_NS generic
#include "cpu/arithmetic_simd.h"
#undef FASTNN_VEC_NS

namespace fastnn {

// The ISA units' entry points: arith_range of arithmetic_simd.h.
void arith_range_avx512(ArithOp op, float* out, ArithOperand<float> a, ArithOperand<float> b,
                        int64_t n);
void arith_range_avx512(ArithOp op, double* out, ArithOperand<double> a, ArithOperand<double> b,
                        int64_t n);
void arith_range_avx2(ArithOp op, float* out, ArithOperand<float> a, ArithOperand<float> b,
                      int64_t n);
void arith_range_avx2(ArithOp op, double* out, ArithOperand<double> a, ArithOperand<double> b,
                      int64_t n);

void unary_range_avx512(UnaryOp op, float* out, const float* x, int64_t n);
void unary_range_avx512(UnaryOp op, double* out, const double* x, int64_t n);
void unary_range_avx2(UnaryOp op, float* out, const float* x, int64_t n);
void unary_range_avx2(UnaryOp op, double* out, const double* x, int64_t n);
void ternary_range_avx512(TernaryOp op, float* out, const float* x, const float* a, const float* b,
                          float s, int64_t n);
void ternary_range_avx512(TernaryOp op, double* out, const double* x, const double* a,
                          const double* b, double s, int64_t n);
void ternary_range_avx2(TernaryOp op, float* out, const float* x, const float* a, const float* b,
                        float s, int64_t n);
void ternary_range_avx2(TernaryOp op, double* out, const double* x, const double* a,
                        const double* b, double s, int64_t n);
void where_range_avx512(float* out, const uint8_t* c, ArithOperand<float> x, ArithOperand<float> y,
                        int64_t n);
void where_range_avx512(double* out, const uint8_t* c, ArithOperand<double> x,
                        ArithOperand<double> y, int64_t n);
void where_range_avx2(float* out, const uint8_t* c, ArithOperand<float> x, ArithOperand<float> y,
                      int64_t n);
void where_range_avx2(double* out, const uint8_t* c, ArithOperand<double> x, ArithOperand<double> y,
                      int64_t n);
void minmax_backward_range_avx512(bool maximum, float* ga, float* gb, const float* g,
                                  const float* a, const float* b, int64_t n);
void minmax_backward_range_avx512(bool maximum, double* ga, double* gb, const double* g,
                                  const double* a, const double* b, int64_t n);
void minmax_backward_range_avx2(bool maximum, float* ga, float* gb, const float* g, const float* a,
                                const float* b, int64_t n);
void minmax_backward_range_avx2(bool maximum, double* ga, double* gb, const double* g,
                                const double* a, const double* b, int64_t n);

namespace {

// Elements per thread at least: below two of these a call runs on one thread (a pool wake costs
// ~3 us, a pass over 64k floats in L2 ~5 us).
constexpr int64_t kGrain = 32768;

template <class T>
ArithOperand<T> shifted(ArithOperand<T> x, int64_t i) {
  return x.scalar ? x : ArithOperand<T>{x.p + i, false};
}

// Row r of an operand whose rows are `period` long: the same row when it repeats (period set).
template <class T>
ArithOperand<T> row_of(ArithOperand<T> x, int64_t r, int64_t period) {
  if (x.scalar) return x;
  return {x.period ? x.p : x.p + r * period, false};
}

template <class T>
void arith_impl(ArithOp op, T* out, ArithOperand<T> a, ArithOperand<T> b, int64_t n) {
  using Range = void (*)(ArithOp, T*, ArithOperand<T>, ArithOperand<T>, int64_t);
  static const IsaTable<Range> table{
      {{&generic::arith_range<T>, &arith_range_avx2, &arith_range_avx512}}};
  const Range range = table[active_isa()];
  if (const int64_t period = a.period ? a.period : b.period) {
    // a repeating row: the result row by row, each a plain pass over two rows
    parallel_for(n / period, std::max<int64_t>(1, kGrain / period), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        range(op, out + r * period, row_of(a, r, period), row_of(b, r, period), period);
    });
    return;
  }
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    range(op, out + i0, shifted(a, i0), shifted(b, i0), i1 - i0);
  });
}

template <class T>
void unary_impl(UnaryOp op, T* out, const T* x, int64_t n) {
  using Range = void (*)(UnaryOp, T*, const T*, int64_t);
  static const IsaTable<Range> table{
      {{&generic::unary_range<T>, &unary_range_avx2, &unary_range_avx512}}};
  const Range range = table[active_isa()];
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) { range(op, out + i0, x + i0, i1 - i0); });
}

template <class T>
void ternary_impl(TernaryOp op, T* out, const T* x, const T* a, const T* b, T s, int64_t n) {
  using Range = void (*)(TernaryOp, T*, const T*, const T*, const T*, T, int64_t);
  static const IsaTable<Range> table{
      {{&generic::ternary_range<T>, &ternary_range_avx2, &ternary_range_avx512}}};
  const Range range = table[active_isa()];
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    range(op, out + i0, x + i0, a + i0, b ? b + i0 : nullptr, s, i1 - i0);
  });
}

template <class T>
void where_impl(T* out, const uint8_t* c, ArithOperand<T> x, ArithOperand<T> y, int64_t n) {
  using Range = void (*)(T*, const uint8_t*, ArithOperand<T>, ArithOperand<T>, int64_t);
  static const IsaTable<Range> table{
      {{&generic::where_range<T>, &where_range_avx2, &where_range_avx512}}};
  const Range range = table[active_isa()];
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    range(out + i0, c + i0, shifted(x, i0), shifted(y, i0), i1 - i0);
  });
}

template <class T>
void minmax_backward_impl(bool maximum, T* ga, T* gb, const T* g, const T* a, const T* b,
                          int64_t n) {
  using Range = void (*)(bool, T*, T*, const T*, const T*, const T*, int64_t);
  static const IsaTable<Range> table{
      {{&generic::minmax_backward_range<T>, &minmax_backward_range_avx2,
        &minmax_backward_range_avx512}}};
  const Range range = table[active_isa()];
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    range(maximum, ga ? ga + i0 : nullptr, gb ? gb + i0 : nullptr, g + i0, a + i0, b + i0, i1 - i0);
  });
}

}  // namespace

void unary_cpu(UnaryOp op, float* out, const float* x, int64_t n) { unary_impl(op, out, x, n); }
void unary_cpu(UnaryOp op, double* out, const double* x, int64_t n) { unary_impl(op, out, x, n); }

void ternary_cpu(TernaryOp op, float* out, const float* x, const float* a, const float* b, float s,
                 int64_t n) {
  ternary_impl(op, out, x, a, b, s, n);
}
void ternary_cpu(TernaryOp op, double* out, const double* x, const double* a, const double* b,
                 double s, int64_t n) {
  ternary_impl(op, out, x, a, b, s, n);
}

void where_cpu(float* out, const uint8_t* c, ArithOperand<float> x, ArithOperand<float> y,
               int64_t n) {
  where_impl(out, c, x, y, n);
}
void where_cpu(double* out, const uint8_t* c, ArithOperand<double> x, ArithOperand<double> y,
               int64_t n) {
  where_impl(out, c, x, y, n);
}

void copy_cpu(void* dst, const void* src, int64_t bytes) {
  // tasks of whole 64-byte lines, at least kGrain floats' worth each
  const int64_t lines = (bytes + 63) / 64;
  parallel_for(lines, kGrain / 16, [&](int64_t l0, int64_t l1) {
    const int64_t b0 = l0 * 64, b1 = std::min(bytes, l1 * 64);
    std::memcpy(static_cast<char*>(dst) + b0, static_cast<const char*>(src) + b0,
                static_cast<size_t>(b1 - b0));
  });
}

void minmax_backward_cpu(bool maximum, float* ga, float* gb, const float* g, const float* a,
                         const float* b, int64_t n) {
  minmax_backward_impl(maximum, ga, gb, g, a, b, n);
}
void minmax_backward_cpu(bool maximum, double* ga, double* gb, const double* g, const double* a,
                         const double* b, int64_t n) {
  minmax_backward_impl(maximum, ga, gb, g, a, b, n);
}

void arith_cpu(ArithOp op, float* out, ArithOperand<float> a, ArithOperand<float> b, int64_t n) {
  arith_impl(op, out, a, b, n);
}
void arith_cpu(ArithOp op, double* out, ArithOperand<double> a, ArithOperand<double> b, int64_t n) {
  arith_impl(op, out, a, b, n);
}

}  // namespace fastnn
