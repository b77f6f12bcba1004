// The loops of arithmetic.cpp's add / sub / mul / div, written once and compiled in each ISA unit
// (arithmetic_avx512.cpp, arithmetic_avx2.cpp) and the generic one: plain loops the compiler
// vectorises with that unit's registers. Each unit defines FASTNN_VEC_NS (its namespace) first.
//
// out may be an input itself (in place) but never overlaps one otherwise (the binding checks).
// Each operand is a run of elements (Run), one value (Scalar) or out itself (Self), so that every
// pointer in a loop is __restrict__ and the compiler needs no run-time overlap test, which would
// send an in-place call to its scalar fallback. IEEE operations only, no contraction: the results
// are numpy's bits.
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS (the unit's namespace) before including arithmetic_simd.h"
#endif
#include <cstdint>

#include "cpu/arithmetic.h"

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

template <class T>
struct Run {
  const T* __restrict__ p;
  T at(const T* __restrict__, int64_t i) const { return p[i]; }
};
template <class T>
struct Scalar {
  T v;
  T at(const T* __restrict__, int64_t) const { return v; }
};
template <class T>
struct Self {
  T at(const T* __restrict__ out, int64_t i) const { return out[i]; }
};

template <class T, class A, class B, class F>
inline __attribute__((always_inline)) void arith_loop(T* __restrict__ out, A a, B b, int64_t n,
                                                      F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(a.at(out, i), b.at(out, i));
}

template <class T, class A, class B>
void arith_op(ArithOp op, T* __restrict__ out, A a, B b, int64_t n) {
  switch (op) {
    case ArithOp::add:
      return arith_loop(out, a, b, n, [](T x, T y) { return x + y; });
    case ArithOp::sub:
      return arith_loop(out, a, b, n, [](T x, T y) { return x - y; });
    case ArithOp::mul:
      return arith_loop(out, a, b, n, [](T x, T y) { return x * y; });
    case ArithOp::div:
      return arith_loop(out, a, b, n, [](T x, T y) { return x / y; });
  }
}

// The loop for b's kind, a's already chosen.
template <class T, class A>
void arith_b(ArithOp op, T* out, A a, ArithOperand<T> b, int64_t n) {
  if (b.scalar) return arith_op(op, out, a, Scalar<T>{*b.p}, n);
  if (b.p == out) return arith_op(op, out, a, Self<T>{}, n);
  arith_op(op, out, a, Run<T>{b.p}, n);
}

template <class T>
void arith_range(ArithOp op, T* out, ArithOperand<T> a, ArithOperand<T> b, int64_t n) {
  if (a.scalar) return arith_b(op, out, Scalar<T>{*a.p}, b, n);
  if (a.p == out) return arith_b(op, out, Self<T>{}, b, n);
  arith_b(op, out, Run<T>{a.p}, b, n);
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
