// CPUID-based ISA detection. GCC's __builtin_cpu_supports also checks XCR0, i.e. that the OS
// saves the AVX / AVX-512 register state, so a "supported" answer is safe to act on.
#include "cpu/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "check.h"

namespace fastnn {
namespace {

Isa detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma"))
    return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
  return Isa::generic;
}

Isa initial_isa() {
  Isa best = detect();
  const char* env = std::getenv("FASTNN_ISA");
  if (env == nullptr || *env == '\0') return best;
  Isa wanted;
  try {
    wanted = isa_from_name(env);
  } catch (const std::invalid_argument&) {
    return best;  // an unknown value must not break `import fastnn`; show_config reports the path
  }
  return static_cast<int>(wanted) < static_cast<int>(best) ? wanted : best;
}

std::atomic<int>& active() {
  static std::atomic<int> isa{static_cast<int>(initial_isa())};
  return isa;
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() { return static_cast<Isa>(active().load(std::memory_order_relaxed)); }

void set_isa(Isa isa) {
  FASTNN_CHECK(static_cast<int>(isa) <= static_cast<int>(detected_isa()),
               "set_isa: this CPU does not support '", isa_name(isa), "' (best available: '",
               isa_name(detected_isa()), "')");
  active().store(static_cast<int>(isa), std::memory_order_relaxed);
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    default:
      return "generic";
  }
}

Isa isa_from_name(const char* name) {
  if (std::strcmp(name, "avx512") == 0) return Isa::avx512;
  if (std::strcmp(name, "avx2") == 0) return Isa::avx2;
  if (std::strcmp(name, "generic") == 0) return Isa::generic;
  FASTNN_CHECK(false, "unknown ISA '", name, "'; expected 'avx512', 'avx2' or 'generic'");
  return Isa::generic;
}

}  // namespace fastnn
