// activations_avx512: the float32 activation and softmax kernels compiled for AVX512
// (see [note: ISA units] in CMakeLists.txt). The bodies are shared with the other ISA unit.
#include "cpu/vec_avx512.h"
#include "cpu/vec_math.h"
#include "cpu/vec_act.h"
