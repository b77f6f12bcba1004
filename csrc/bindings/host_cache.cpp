// The recycling of large output buffers, and element-wise kernels' out= argument (host_cache.h).
#include "host_cache.h"

#include <cstdlib>
#include <deque>
#include <mutex>
#include <new>
#include <stdexcept>

#include "bindings/common.h"

namespace fastnn::bind {
namespace py = pybind11;
namespace {

constexpr size_t kMinBytes = size_t(1) << 20;      // smaller arrays: numpy's own allocation
constexpr size_t kCacheBytes = size_t(256) << 20;  // kept free buffers, in all
constexpr size_t kCacheBlocks = 32;
constexpr size_t kRound = size_t(64) << 10;  // capacities are multiples of this

struct Block {
  void* ptr;
  size_t cap;
};

// Never destroyed: arrays may outlive static destruction at interpreter exit.
struct Cache {
  std::mutex mu;
  std::deque<Block> free;  // oldest first
  size_t bytes = 0;

  // The smallest kept buffer of at least `cap` bytes and at most an eighth more, or nullptr
  // (a much larger one would pin memory the request does not use).
  void* take(size_t cap) {
    std::lock_guard<std::mutex> lock(mu);
    auto best = free.end();
    for (auto it = free.begin(); it != free.end(); ++it)
      if (it->cap >= cap && it->cap <= cap + cap / 8 && (best == free.end() || it->cap < best->cap))
        best = it;
    if (best == free.end()) return nullptr;
    void* p = best->ptr;
    bytes -= best->cap;
    free.erase(best);
    return p;
  }

  void give(Block b) {
    if (b.cap > kCacheBytes) return std::free(b.ptr);
    std::deque<Block> drop;
    {
      std::lock_guard<std::mutex> lock(mu);
      while (!free.empty() && (bytes + b.cap > kCacheBytes || free.size() >= kCacheBlocks)) {
        bytes -= free.front().cap;
        drop.push_back(free.front());
        free.pop_front();
      }
      free.push_back(b);
      bytes += b.cap;
    }
    for (const Block& d : drop) std::free(d.ptr);
  }
};

Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

}  // namespace

py::array cached_empty(const py::dtype& dt, const std::vector<py::ssize_t>& shape) {
  size_t bytes = static_cast<size_t>(dt.itemsize());
  for (py::ssize_t d : shape) {
    // A wrapped product would make a small buffer behind a huge array: refuse it instead.
    if (d < 0 || __builtin_mul_overflow(bytes, static_cast<size_t>(d), &bytes))
      throw std::length_error("array size overflows the address space");
  }
  if (bytes < kMinBytes) return py::array(dt, shape);
  const size_t cap = (bytes + kRound - 1) / kRound * kRound;
  void* p = cache().take(cap);
  if (!p) p = std::aligned_alloc(64, cap);
  if (!p) throw std::bad_alloc();
  Block* b = new (std::nothrow) Block{p, cap};
  if (!b) {
    std::free(p);
    throw std::bad_alloc();
  }
  py::capsule owner;
  try {
    owner = py::capsule(b, [](void* v) {
      Block* blk = static_cast<Block*>(v);
      cache().give(*blk);
      delete blk;
    });
  } catch (...) {
    delete b;
    std::free(p);
    throw;
  }
  // Should this throw, the capsule's destructor hands the buffer back.
  return py::array(dt, shape, {}, p, owner);
}

py::array output_for(py::handle out_obj, const py::array& like,
                     std::initializer_list<py::array> inputs, const char* fn) {
  const std::vector<py::ssize_t> shape(like.shape(), like.shape() + like.ndim());
  if (out_obj.is_none()) return cached_empty(like.dtype(), shape);
  py::array out = as_array(out_obj, fn, "out");
  FASTNN_TYPE_CHECK(out.dtype().equal(like.dtype()), fn, ": argument 'out' must have dtype ",
                    dtype_str(like), ", got ", dtype_str(out));
  check_shape(out, shape, fn, "out");
  check_contiguous(out, fn, "out");
  check_writeable(out, fn, "out");
  for (const py::array& in : inputs)
    FASTNN_CHECK(out.data() == in.data() || !overlaps(out, in), fn,
                 ": 'out' must be an input itself (in place) or not share memory with the inputs");
  return out;
}

}  // namespace fastnn::bind
