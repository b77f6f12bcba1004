// The float32 LSTM / GRU cell bodies of rnn_simd.h, compiled for AVX-512; cpu/rnn.cpp picks this
// unit at run time. Only *_avx512.cpp files get these ISA flags (CMakeLists.txt), and everything
// here but the declared entry points has internal linkage, so generic code never calls it.

// First: defines FASTNN_VEC_NS and the vector type V, which turn on the bodies of the next header.
#include "cpu/vec_avx512.h"

#include "cpu/rnn_simd.h"
