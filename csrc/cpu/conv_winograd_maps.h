// The input-side maps of Winograd F(2x2, 3x3) on whole vectors, shared by the transform units
// (conv_winograd_avx512.cpp, conv_winograd_avx2.cpp). Each unit defines FASTNN_VEC_NS (its ISA
// namespace) and its vector type's add, sub and neg before including this; everything lands in
// that namespace's anonymous namespace (see [note: ISA units] in CMakeLists.txt).
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS (the unit's ISA namespace) before including conv_winograd_maps.h"
#endif

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

// s = B^T d (four rows or four columns at once).
template <class V>
inline void apply_bt(const V* d, V* s) {
  s[0] = sub(d[0], d[2]);
  s[1] = add(d[1], d[2]);
  s[2] = sub(d[2], d[1]);
  s[3] = sub(d[1], d[3]);
}

// e = B v, the adjoint of apply_bt.
template <class V>
inline void apply_b(const V* v, V* e) {
  e[0] = v[0];
  e[1] = add(sub(v[1], v[2]), v[3]);
  e[2] = sub(add(v[1], v[2]), v[0]);
  e[3] = neg(v[3]);
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
