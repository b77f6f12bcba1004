// The fused optimizer element loops (the end of csrc/optim_math.h) compiled for AVX2 + FMA. Only
// the extern overloads fastnn::avx2::{sgd,adagrad,rmsprop,adam}_kernel leave this unit; everything
// they call is static inline ([note: ISA units], [note: optim math linkage]). cpu/optim.cpp
// threads and dispatches.
#include "optim_math.h"

namespace fastnn {
namespace avx2 {
FASTNN_OPTIM_ISA_ENTRY_POINTS(float)
FASTNN_OPTIM_ISA_ENTRY_POINTS(double)
}  // namespace avx2
}  // namespace fastnn
