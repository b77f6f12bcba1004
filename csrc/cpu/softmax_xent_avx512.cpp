// softmax_xent_avx512: float32 softmax cross-entropy rows and BCE-with-logits compiled for
// AVX512 (see [note: ISA units] in CMakeLists.txt). The bodies are shared with the other ISA unit.
#include "cpu/vec_avx512.h"
#include "cpu/vec_math.h"
#include "cpu/vec_xent.h"
