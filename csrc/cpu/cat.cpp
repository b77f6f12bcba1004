// cat and stack: the concatenation of arrays along one axis, as byte copies on the thread pool.
//
// Cut at the axis, every C-contiguous array is `outer` rows of bytes (outer the product of the
// dimensions before the axis, the same for every input), and the result's row o is the inputs'
// rows o one after another. So the result is one run of segments, and each thread copies an equal
// byte range of it, whatever the axis: along the first one (outer = 1) a few long copies, along
// the last many short ones. numpy's concatenate runs on one core, bound by its bandwidth.
#include <algorithm>
#include <cstring>

#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

namespace fastnn {

void cat_cpu(void* out, const CatPart* parts, int64_t n_parts, int64_t outer) {
  int64_t row = 0;  // bytes of one result row
  for (int64_t i = 0; i < n_parts; ++i) row += parts[i].row_bytes;
  const int64_t total = row * outer;
  if (total == 0) return;
  char* dst = static_cast<char*>(out);
  // Result bytes [b0, b1): find the part holding b0, then copy segment by segment.
  auto copy_range = [&](int64_t b0, int64_t b1) {
    int64_t o = b0 / row, r = b0 - o * row;  // result row and byte within it
    int64_t i = 0, start = 0;                // the part holding byte r, its first byte in the row
    while (r >= start + parts[i].row_bytes) start += parts[i++].row_bytes;
    for (int64_t p = b0; p < b1;) {
      const int64_t end = start + parts[i].row_bytes;
      const int64_t len = std::min(b1 - p, end - r);
      const char* src = static_cast<const char*>(parts[i].data) + o * parts[i].row_bytes;
      std::memcpy(dst + p, src + (r - start), static_cast<size_t>(len));
      p += len;
      r += len;
      if (r == end) {  // on to the next part (an empty one is passed with a copy of 0 bytes)
        start = end;
        if (++i == n_parts) i = start = r = 0, ++o;
      }
    }
  };
  // whole 64-byte lines per task, 128 KiB at least (as copy_cpu)
  const int64_t lines = (total + 63) / 64;
  parallel_for(lines, 2048,
               [&](int64_t l0, int64_t l1) { copy_range(l0 * 64, std::min(total, l1 * 64)); });
}

}  // namespace fastnn
