// The float32 activation and softmax kernels of activations_simd.h, compiled for AVX-512 (F, DQ,
// BW, VL); cpu/activations.cpp picks this unit at run time. Only *_avx512.cpp files get these ISA
// flags (CMakeLists.txt), and everything here but the declared entry points has internal linkage,
// so generic code can never call an AVX512 copy.

// First: defines FASTNN_VEC_NS and the vector type V, which turn on the bodies of the next header.
#include "cpu/vec_avx512.h"

#include "cpu/activations_simd.h"
