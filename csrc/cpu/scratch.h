// A 64-byte aligned scratch buffer, grown on demand and kept between calls: the kernels keep one
// per thread and use (thread_local), so steady-state calls allocate nothing.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace fastnn {

struct Scratch {
  void* ptr = nullptr;
  size_t cap = 0;
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(ptr); }
  // At least `bytes` bytes (rounded up to whole pages); the old contents are not kept.
  void* get(size_t bytes) {
    if (cap < bytes) {
      std::free(ptr);
      bytes = (bytes + 4095) & ~size_t(4095);
      ptr = std::aligned_alloc(64, bytes);
      cap = ptr ? bytes : 0;
      if (!ptr) throw std::bad_alloc();
    }
    return ptr;
  }
};

}  // namespace fastnn
