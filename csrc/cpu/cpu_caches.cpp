// Cache sizes from CPUID (deterministic cache parameters) or sysfs; see cpu_caches.h.
#include "cpu/cpu_caches.h"

#include <cstdio>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace fastnn {
namespace {

// Records one cache level (1 = data or unified, 2, 3); `sharing` threads share `bytes`.
void record(CacheSizes& c, int level, int64_t bytes, int64_t sharing) {
  if (bytes <= 0) return;
  if (level == 1) c.l1d = bytes;
  if (level == 2) c.l2 = bytes;
  if (level == 3) c.l3 = bytes / (sharing > 0 ? sharing : 1);
}

bool from_cpuid(CacheSizes& c) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, cx, d;
  if (!__get_cpuid(0, &a, &b, &cx, &d)) return false;
  const bool amd = b == 0x68747541u;  // "Auth" of "AuthenticAMD"
  unsigned leaf = 4;
  if (amd) {
    // 0x8000001D needs the topology extensions (CPUID 0x80000001 ECX bit 22).
    if (!__get_cpuid(0x80000001u, &a, &b, &cx, &d) || !(cx & (1u << 22))) return false;
    leaf = 0x8000001Du;
  } else if (a < 4) {
    return false;
  }
  bool any = false;
  for (unsigned sub = 0; sub < 16; ++sub) {
    __cpuid_count(leaf, sub, a, b, cx, d);
    const unsigned type = a & 0x1f;  // 0: no more caches, 1: data, 2: instruction, 3: unified
    if (type == 0) break;
    if (type == 2) continue;
    const int level = (a >> 5) & 0x7;
    const int64_t sharing = ((a >> 14) & 0xfff) + 1;
    const int64_t ways = ((b >> 22) & 0x3ff) + 1, parts = ((b >> 12) & 0x3ff) + 1;
    const int64_t line = (b & 0xfff) + 1, sets = int64_t(cx) + 1;
    record(c, level, ways * parts * line * sets, sharing);
    any = true;
  }
  return any && c.l1d > 0 && c.l2 > 0;
#else
  (void)c;
  return false;
#endif
}

bool read_line(const std::string& path, char* buf, size_t n) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  const bool ok = std::fgets(buf, static_cast<int>(n), f) != nullptr;
  std::fclose(f);
  return ok;
}

// Threads in a cpu list such as "0-7,16-23".
int64_t count_cpus(const char* list) {
  int64_t n = 0;
  for (const char* p = list; *p && *p != '\n';) {
    char* end;
    const long lo = std::strtol(p, &end, 10);
    if (end == p) break;
    long hi = lo;
    if (*end == '-') hi = std::strtol(end + 1, &end, 10);
    n += hi - lo + 1;
    p = *end == ',' ? end + 1 : end;
  }
  return n;
}

bool from_sysfs(CacheSizes& c) {
  bool any = false;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    char level[32], type[32], size[32], shared[256];
    if (!read_line(dir + "level", level, sizeof level)) break;
    if (!read_line(dir + "type", type, sizeof type) || !read_line(dir + "size", size, sizeof size))
      continue;
    if (std::strncmp(type, "Instruction", 11) == 0) continue;
    char* end;
    int64_t bytes = std::strtoll(size, &end, 10);
    if (*end == 'K') bytes <<= 10;
    if (*end == 'M') bytes <<= 20;
    const int64_t sharing =
        read_line(dir + "shared_cpu_list", shared, sizeof shared) ? count_cpus(shared) : 1;
    record(c, std::atoi(level), bytes, sharing);
    any = true;
  }
  return any && c.l1d > 0 && c.l2 > 0;
}

CacheSizes detect() {
  CacheSizes c;
  if (from_cpuid(c)) {
    c.source = "cpuid";
    return c;
  }
  c = CacheSizes{};
  if (from_sysfs(c)) {
    c.source = "sysfs";
    return c;
  }
  return CacheSizes{};
}

}  // namespace

const CacheSizes& cache_sizes() {
  static const CacheSizes c = detect();
  return c;
}

}  // namespace fastnn
