// activations_avx2: the float32 activation and softmax kernels compiled for AVX2
// (see [note: ISA units] in CMakeLists.txt). The bodies are shared with the other ISA unit.
#include "cpu/vec_avx2.h"
#include "cpu/vec_math.h"
#include "cpu/vec_act.h"
