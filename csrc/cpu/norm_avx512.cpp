// The float32 run loops of the normalization kernels (cpu/norm_simd.h), compiled for
// AVX-512; cpu/norm_ops.cpp picks this unit at run time. Only *_avx512.cpp files get
// these ISA flags (CMakeLists.txt), and everything here but the declared entry points has internal
// linkage, so generic code can never call an AVX-512 copy.

// First: defines FASTNN_VEC_NS and the vector type V, which turn on the bodies of the next header.
#include "cpu/vec_avx512.h"

#include "cpu/norm_simd.h"
