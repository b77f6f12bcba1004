// Run-time choice of the SIMD code path. The build never uses -march=native; every kernel that
// has SIMD variants asks active_isa() and calls the matching unit (see [note: ISA units]).
#pragma once

namespace fastnn {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

Isa detected_isa();              // best path this CPU (and OS) supports
Isa active_isa();                // path kernels use now: detected, lowered by FASTNN_ISA or set_isa
void set_isa(Isa isa);           // throws std::invalid_argument if the CPU lacks it
const char* isa_name(Isa isa);   // "generic" | "avx2" | "avx512"
Isa isa_from_name(const char* name);  // throws std::invalid_argument on an unknown name

}  // namespace fastnn
