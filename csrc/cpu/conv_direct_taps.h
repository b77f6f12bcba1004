// The tap-count dispatch of the direct convolution units (conv_direct_avx512.cpp,
// conv_direct_avx2.cpp). Each unit defines FASTNN_VEC_NS (its ISA namespace) before including
// this, so the template lands in that namespace's anonymous namespace (see [note: ISA units] in
// CMakeLists.txt).
#pragma once
#ifndef FASTNN_VEC_NS
#error "define FASTNN_VEC_NS (the unit's ISA namespace) before including conv_direct_taps.h"
#endif
#include <type_traits>

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

// f<T>() for the kernel's tap count T = kh*kw in [1, kConvDirectTaps]: the taps' loops unroll.
template <class F>
void with_taps(int64_t T, F&& f) {
  switch (T) {
    case 1:
      return f(std::integral_constant<int, 1>());
    case 2:
      return f(std::integral_constant<int, 2>());
    case 3:
      return f(std::integral_constant<int, 3>());
    case 4:
      return f(std::integral_constant<int, 4>());
    case 5:
      return f(std::integral_constant<int, 5>());
    case 6:
      return f(std::integral_constant<int, 6>());
    case 7:
      return f(std::integral_constant<int, 7>());
    case 8:
      return f(std::integral_constant<int, 8>());
    default:
      return f(std::integral_constant<int, 9>());
  }
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
