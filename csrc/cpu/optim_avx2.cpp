// The fused optimizer element loops (cpu/optim_loops.h) compiled for AVX2 + FMA. Only the
// extern overloads fastnn::avx2::{sgd,adagrad,rmsprop,adam}_kernel leave this unit; everything
// they call is static inline ([note: ISA units], [note: optim math linkage]). cpu/optim.cpp
// threads and dispatches.
#include "cpu/optim_loops.h"

namespace fastnn {
namespace avx2 {
FASTNN_OPTIM_ISA_ENTRY_POINTS(float)
FASTNN_OPTIM_ISA_ENTRY_POINTS(double)
}  // namespace avx2
}  // namespace fastnn
