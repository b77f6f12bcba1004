// The operations and operands of arith_cpu, unary_cpu, ternary_cpu and minmax_backward_cpu
// (cpu/fastnn_cpu.h): plain types only, so that the ISA units can include this (see [note: ISA
// units] in CMakeLists.txt).
#pragma once
#include <cstdint>

namespace fastnn {

// maximum / minimum follow numpy: a NaN in either operand is the result (a's when both are), and
// between equal values (-0 and +0) the second operand wins.
enum class ArithOp { add, sub, mul, div, maximum, minimum };

// The one-operand ops of unary_cpu: -x and |x| by the sign bit alone, as numpy (a NaN's sign too);
// sign as torch's (-1, 0 or 1; 0 at -0 and at NaN, where numpy keeps the NaN); floor, ceil, trunc
// and rint (half to even) as numpy; cube (x x) x, torch's x ** 3 in one pass.
enum class UnaryOp { neg, abs, sign, floor, ceil, trunc, rint, cube };

// The three-operand maps of ternary_cpu, torch's addcmul, addcdiv and lerp with a number s (value,
// weight), with torch's bits: x + (s a) b (one fused multiply-add after s a), x + (s a) / b, and
// x + s (a - x) for |s| < 0.5, else a - (1 - s) (a - x), each one fused multiply-add (the second
// form gives a at s = 1 exactly).
enum class TernaryOp { addcmul, addcdiv, lerp };

// An operand of n elements at p, or (scalar) the one value at p that every element uses, or
// (period > 0, arith_cpu only) a row of period elements at p that every row of the result uses:
// a bias vector added to each row of a matrix, numpy's broadcast of trailing dimensions.
template <class T>
struct ArithOperand {
  const T* p;
  bool scalar;
  int64_t period = 0;
};

}  // namespace fastnn
