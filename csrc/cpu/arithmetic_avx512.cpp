// The loops of arithmetic_simd.h compiled for AVX512 (see [note: ISA units] in CMakeLists.txt);
// cpu/arithmetic.cpp picks this unit at run time.
#define FASTNN_VEC_NS avx512
#include "cpu/arithmetic_simd.h"

namespace fastnn {

void arith_range_avx512(ArithOp op, float* out, ArithOperand<float> a, ArithOperand<float> b,
                        int64_t n) {
  avx512::arith_range(op, out, a, b, n);
}
void arith_range_avx512(ArithOp op, double* out, ArithOperand<double> a, ArithOperand<double> b,
                        int64_t n) {
  avx512::arith_range(op, out, a, b, n);
}

void unary_range_avx512(UnaryOp op, float* out, const float* x, int64_t n) {
  avx512::unary_range(op, out, x, n);
}
void unary_range_avx512(UnaryOp op, double* out, const double* x, int64_t n) {
  avx512::unary_range(op, out, x, n);
}
void ternary_range_avx512(TernaryOp op, float* out, const float* x, const float* a, const float* b,
                          float s, int64_t n) {
  avx512::ternary_range(op, out, x, a, b, s, n);
}
void ternary_range_avx512(TernaryOp op, double* out, const double* x, const double* a,
                          const double* b, double s, int64_t n) {
  avx512::ternary_range(op, out, x, a, b, s, n);
}
void where_range_avx512(float* out, const uint8_t* c, ArithOperand<float> x, ArithOperand<float> y,
                        int64_t n) {
  avx512::where_range(out, c, x, y, n);
}
void where_range_avx512(double* out, const uint8_t* c, ArithOperand<double> x,
                        ArithOperand<double> y, int64_t n) {
  avx512::where_range(out, c, x, y, n);
}
void minmax_backward_range_avx512(bool maximum, float* ga, float* gb, const float* g,
                                  const float* a, const float* b, int64_t n) {
  avx512::minmax_backward_range(maximum, ga, gb, g, a, b, n);
}
void minmax_backward_range_avx512(bool maximum, double* ga, double* gb, const double* g,
                                  const double* a, const double* b, int64_t n) {
  avx512::minmax_backward_range(maximum, ga, gb, g, a, b, n);
}

}  // namespace fastnn
