// The operation and operands of arith_cpu (cpu/fastnn_cpu.h): plain types only, so that the ISA
// units can include this (see [note: ISA units] in CMakeLists.txt).
#pragma once

namespace fastnn {

enum class ArithOp { add, sub, mul, div };

// An operand of n elements at p, or (scalar) the one value at p that every element uses.
template <class T>
struct ArithOperand {
  const T* p;
  bool scalar;
};

}  // namespace fastnn
