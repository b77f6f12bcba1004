// The loops of arithmetic.cpp (add / sub / mul / div / maximum / minimum, the one-operand maps,
// addcmul / addcdiv / lerp, where, the gradient of maximum / minimum), written once and compiled in
// each ISA unit (arithmetic_avx512.cpp, arithmetic_avx2.cpp) and the generic one: plain loops the
// compiler vectorises with that unit's registers. Each unit defines FASTNN_VEC_NS (its namespace)
// first.
//
// out may be an input itself (in place) but never overlaps one otherwise (the binding checks).
// Each operand is a run of elements (Run), one value (Scalar) or out itself (Self), so that every
// pointer in a loop is __restrict__ and the compiler needs no run-time overlap test, which would
// send an in-place call to its scalar fallback. IEEE operations only, no contraction: the results
// are numpy's bits (addcmul's and lerp's fused multiply-adds are written out: torch's).
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS (the unit's namespace) before including arithmetic_simd.h"
#endif
#include <cmath>
#include <cstdint>

#include "cpu/align_head.h"
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

// loop(begin, end) over the head before out's 64-byte alignment (align_head.h), then the rest,
// which stores whole aligned vectors.
template <class T, class L>
inline __attribute__((always_inline)) void head_then_rest(const T* out, int64_t n, L loop) {
  const int64_t h = head_to_aligned<64>(out, n);
  loop(int64_t{0}, h);
  loop(h, n);
}

template <class T, class A, class B, class F>
inline __attribute__((always_inline)) void arith_loop(T* __restrict__ out, A a, B b, int64_t n,
                                                      F f) {
  head_then_rest(out, n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = f(a.at(out, i), b.at(out, i));
  });
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
    case ArithOp::maximum:  // x != x: a NaN x is the result; a NaN y fails x > y
      return arith_loop(out, a, b, n, [](T x, T y) { return x > y || x != x ? x : y; });
    case ArithOp::minimum:
      return arith_loop(out, a, b, n, [](T x, T y) { return x < y || x != x ? x : y; });
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

template <class T, class F>
inline __attribute__((always_inline)) void unary_loop(T* __restrict__ out, const T* __restrict__ x,
                                                      int64_t n, F f) {
  head_then_rest(out, n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = f(x[i]);
  });
}
template <class T, class F>
inline __attribute__((always_inline)) void unary_loop_self(T* __restrict__ out, int64_t n, F f) {
  head_then_rest(out, n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = f(out[i]);
  });
}

template <class T, class F>
void unary_map(T* out, const T* x, int64_t n, F f) {
  if (out == x) return unary_loop_self(out, n, f);
  unary_loop(out, x, n, f);
}

template <class T>
void unary_range(UnaryOp op, T* out, const T* x, int64_t n) {
  switch (op) {
    case UnaryOp::neg:
      return unary_map(out, x, n, [](T v) { return -v; });
    case UnaryOp::abs:
      return unary_map(out, x, n, [](T v) { return std::fabs(v); });
    case UnaryOp::sign:
      return unary_map(out, x, n, [](T v) { return v > 0 ? T(1) : v < 0 ? T(-1) : T(0); });
    case UnaryOp::floor:
      return unary_map(out, x, n, [](T v) { return std::floor(v); });
    case UnaryOp::ceil:
      return unary_map(out, x, n, [](T v) { return std::ceil(v); });
    case UnaryOp::trunc:
      return unary_map(out, x, n, [](T v) { return std::trunc(v); });
    case UnaryOp::rint:
      return unary_map(out, x, n, [](T v) { return std::rint(v); });
    case UnaryOp::cube:
      return unary_map(out, x, n, [](T v) { return v * v * v; });
  }
}

// out[i] = c[i] ? x[i] : y[i] (c: numpy bools, one byte each): a select the compiler vectorises,
// where numpy's where branches on every element (4 ns each when the mask is random).
template <class T, class X, class Y>
void where_loop(T* __restrict__ out, const uint8_t* __restrict__ c, X x, Y y, int64_t n) {
  head_then_rest(out, n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = c[i] ? x.at(out, i) : y.at(out, i);
  });
}

template <class T, class X>
void where_y(T* out, const uint8_t* c, X x, ArithOperand<T> y, int64_t n) {
  if (y.scalar) return where_loop(out, c, x, Scalar<T>{*y.p}, n);
  where_loop(out, c, x, Run<T>{y.p}, n);
}

template <class T>
void where_range(T* out, const uint8_t* c, ArithOperand<T> x, ArithOperand<T> y, int64_t n) {
  if (x.scalar) return where_y(out, c, Scalar<T>{*x.p}, y, n);
  where_y(out, c, Run<T>{x.p}, y, n);
}

// addcmul, addcdiv and lerp (TernaryOp); lerp reads no b. std::fma is one instruction in the
// AVX2 and AVX-512 units (they compile with FMA), which vectorise it.
template <class T, class X>
inline __attribute__((always_inline)) void ternary_loop(TernaryOp op, T* __restrict__ out, X x,
                                                        const T* __restrict__ a,
                                                        const T* __restrict__ b, T s, int64_t n) {
  switch (op) {
    case TernaryOp::addcmul:
      for (int64_t i = 0; i < n; ++i) out[i] = std::fma(s * a[i], b[i], x.at(out, i));
      return;
    case TernaryOp::addcdiv:
      for (int64_t i = 0; i < n; ++i) out[i] = x.at(out, i) + s * a[i] / b[i];
      return;
    case TernaryOp::lerp:
      if (std::fabs(s) < T(0.5)) {
        for (int64_t i = 0; i < n; ++i) {
          const T xi = x.at(out, i);
          out[i] = std::fma(s, a[i] - xi, xi);
        }
      } else {
        const T c = s - T(1);
        for (int64_t i = 0; i < n; ++i) out[i] = std::fma(c, a[i] - x.at(out, i), a[i]);
      }
      return;
  }
}

// out may be x itself, not a or b.
template <class T>
void ternary_range(TernaryOp op, T* out, const T* x, const T* a, const T* b, T s, int64_t n) {
  if (out == x) return ternary_loop(op, out, Self<T>{}, a, b, s, n);
  ternary_loop(op, out, Run<T>{x}, a, b, s, n);
}

// The gradients of maximum(a, b) (minimum: a and b's order swapped) as torch defines them: an
// operand gets the whole of g where it is not the smaller one, half of it where a == b, 0 where it
// loses. A NaN compares neither way, so both operands get g there. ga or gb null: not wanted.
template <class T>
void minmax_backward_loop(T* __restrict__ ga, T* __restrict__ gb, const T* __restrict__ g,
                          const T* __restrict__ a, const T* __restrict__ b, int64_t n) {
  if (ga)
    for (int64_t i = 0; i < n; ++i)
      ga[i] = a[i] == b[i] ? g[i] * T(0.5) : a[i] < b[i] ? T(0) : g[i];
  if (gb)
    for (int64_t i = 0; i < n; ++i)
      gb[i] = a[i] == b[i] ? g[i] * T(0.5) : b[i] < a[i] ? T(0) : g[i];
}

template <class T>
void minmax_backward_range(bool maximum, T* ga, T* gb, const T* g, const T* a, const T* b,
                           int64_t n) {
  if (maximum)
    minmax_backward_loop(ga, gb, g, a, b, n);
  else
    minmax_backward_loop(ga, gb, g, b, a, n);
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
