// Element-wise row loops of batch_norm's column path (inputs with a small spatial size S, e.g.
// BatchNorm1d on (N, C)): x viewed as N rows of C * S contiguous columns, each loop one row of n
// columns, per-column statistics kept in arrays. Plain loops the compiler vectorises for the ISA
// of the unit that includes this header; everything is in an anonymous namespace, so each unit
// (generic, *_avx2.cpp, *_avx512.cpp) keeps its own copy and the linker can never mix them up.
#pragma once
#include <stdint.h>

namespace fastnn {
namespace {

// acc[q] += x[q] - shift[q] (exact when x is near the shift: a large mean keeps its precision)
template <class A, class T>
void col_add(A* __restrict acc, const T* __restrict x, const T* __restrict shift, int64_t n) {
  for (int64_t q = 0; q < n; ++q) acc[q] += static_cast<A>(x[q] - shift[q]);
}

// acc[q] += ((x[q] - hi[q]) - lo[q])^2
template <class A, class T>
void col_add_centered_sq(A* __restrict acc, const T* __restrict x, const T* __restrict hi,
                         const T* __restrict lo, int64_t n) {
  for (int64_t q = 0; q < n; ++q) {
    const T d = (x[q] - hi[q]) - lo[q];
    acc[q] += static_cast<A>(d * d);
  }
}

// a[q] += dy[q], b[q] += dy[q] ((x[q] - hi[q]) - lo[q])
template <class A, class T>
void col_add_grad(A* __restrict a, A* __restrict b, const T* __restrict dy, const T* __restrict x,
                  const T* __restrict hi, const T* __restrict lo, int64_t n) {
  for (int64_t q = 0; q < n; ++q) {
    a[q] += static_cast<A>(dy[q]);
    b[q] += static_cast<A>(dy[q] * ((x[q] - hi[q]) - lo[q]));
  }
}

// y[q] = ((x[q] - hi[q]) - lo[q]) k[q] + shift[q]
template <class T>
void col_affine(T* __restrict y, const T* __restrict x, const T* __restrict hi,
                const T* __restrict lo, const T* __restrict k, const T* __restrict shift,
                int64_t n) {
  for (int64_t q = 0; q < n; ++q) y[q] = ((x[q] - hi[q]) - lo[q]) * k[q] + shift[q];
}

// dx[q] = k_g[q] (dy[q] - m_g[q]) + k_x[q] ((x[q] - hi[q]) - lo[q])
template <class T>
void col_backward(T* __restrict dx, const T* __restrict dy, const T* __restrict x,
                  const T* __restrict hi, const T* __restrict lo, const T* __restrict k_g,
                  const T* __restrict m_g, const T* __restrict k_x, int64_t n) {
  for (int64_t q = 0; q < n; ++q)
    dx[q] = k_g[q] * (dy[q] - m_g[q]) + k_x[q] * ((x[q] - hi[q]) - lo[q]);
}

}  // namespace
}  // namespace fastnn
