// Run-time choice of the SIMD code path. The build never uses -march=native; instead the SIMD
// code sits in *_avx512.cpp / *_avx2.cpp units (the only ones built with wider ISA flags) and the
// generic drivers pick one at run time.
//
// ISA dispatch, one pattern everywhere: a kernel with SIMD variants keeps an IsaTable, one entry
// (a function pointer, or a struct of them with the unit's tuning constants) per Isa in enum
// order {generic, avx2, avx512}, and its driver calls table[active_isa()].
#pragma once
#include <array>
#include <cstddef>

namespace fastnn {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

template <class Entry>
struct IsaTable {
  std::array<Entry, 3> entries;  // {generic, avx2, avx512}
  const Entry& operator[](Isa isa) const { return entries[static_cast<size_t>(isa)]; }
};

Isa detected_isa();             // best path this CPU (and OS) supports
Isa active_isa();               // path kernels use now: detected, lowered by FASTNN_ISA or set_isa
void set_isa(Isa isa);          // throws std::invalid_argument if the CPU lacks it
const char* isa_name(Isa isa);  // "generic" | "avx2" | "avx512"
Isa isa_from_name(const char* name);  // throws std::invalid_argument on an unknown name

}  // namespace fastnn
