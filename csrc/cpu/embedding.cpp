// Embedding lookup on the CPU: the gather forward, the scatter-add backward and the max_norm
// renormalisation, float32 and float64 tables, int32 and int64 indices.
//
// Shapes: weight (num, dim) row-major contiguous; idx (n,) (any index shape, flattened by the
// caller); out / dout (n, dim); dweight (num, dim).
//   forward:  out[i, :] = weight[idx[i], :]
//   backward: dweight[r, :] = sum over i with idx[i] == r of dout[i, :]   (zero for padding_idx
//             and for rows nobody looked up); with scale_grad_by_freq the sum is divided by the
//             number of such i (torch's rule: rarer words get no smaller steps than common ones).
//   renorm:   every row looked up whose p-norm exceeds max_norm is scaled in place by
//             max_norm / (norm + 1e-7) (torch's constant), each row once however often it occurs.
//   bags:     positions [bounds[b], bounds[b + 1]) form bag b; the bag forward sums its rows
//             (out[b] = sum of weight[idx[i]], in position order: EmbeddingBag's sum without the
//             (n, dim) lookup in between), the bag backward is the backward above with bag b's
//             gradient row standing for each of its positions.
//
// Every index is checked before anything is written: an index outside [0, num) throws
// std::out_of_range (IndexError in Python) naming the index, its position and the table size.
//
// Threads: the forward splits the output rows; the backward first groups the positions by table
// row (a counting sort, in position order), then splits the TABLE rows, so each thread owns the
// dweight rows it writes (no atomics, no per-thread copies of the table) and every row is summed
// in position order: the gradient is bitwise the same for any thread count. Given a dweight
// that is already zero (dweight_is_zero), only the looked-up rows are written.
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"

namespace fastnn {
namespace {

constexpr int64_t kGrainElems = 32768;  // elements copied per task before a thread pays off

int64_t row_grain(int64_t dim) { return kGrainElems / (dim > 0 ? dim : 1) + 1; }

// All indices in [0, num), else out_of_range naming the first bad one. The first pass is a
// branch-free scan (vectorises); the second finds the culprit only when there is one.
template <class I>
void check_indices(const I* idx, int64_t n, int64_t num, const char* fn) {
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) ok &= static_cast<uint64_t>(int64_t(idx[i])) < uint64_t(num);
  if (ok) return;
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] < 0 || int64_t(idx[i]) >= num)
      throw std::out_of_range(str_cat(fn, ": index ", int64_t(idx[i]), " at position ", i,
                                      " is out of range for an embedding table of ", num,
                                      " rows (valid indices are 0 to ", num - 1, ")"));
}

template <class T, class I>
void forward(T* out, const T* w, const I* idx, int64_t n, int64_t num, int64_t dim) {
  check_indices(idx, n, num, "embedding");
  if (dim == 0) return;
  parallel_for(n, row_grain(dim), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      std::memcpy(out + i * dim, w + int64_t(idx[i]) * dim, size_t(dim) * sizeof(T));
  });
}

// out (dim) = the sum of the rows of w at idx[lo, hi), in order. A block of 64 bytes x 16 of the
// sum stays in registers while every row of the bag adds its part (row by row over the whole
// width, the sum went through memory once per row); the bag's rows stay in cache between blocks.
template <class T, class I>
void sum_rows(T* out, const T* w, const I* idx, int64_t lo, int64_t hi, int64_t dim) {
  typedef T V __attribute__((vector_size(16)));
  constexpr int64_t L = 16 / sizeof(T), kBlock = 16 * L;
  int64_t j0 = 0;
  for (; j0 + kBlock <= dim; j0 += kBlock) {
    V acc[16];
    std::memcpy(acc, w + int64_t(idx[lo]) * dim + j0, sizeof acc);
    for (int64_t i = lo + 1; i < hi; ++i) {
      const T* r = w + int64_t(idx[i]) * dim + j0;
      for (int k = 0; k < 16; ++k) {
        V v;
        std::memcpy(&v, r + k * L, sizeof v);
        acc[k] += v;
      }
    }
    std::memcpy(out + j0, acc, sizeof acc);
  }
  if (j0 == dim) return;
  std::memcpy(out + j0, w + int64_t(idx[lo]) * dim + j0, size_t(dim - j0) * sizeof(T));
  for (int64_t i = lo + 1; i < hi; ++i) {
    const T* r = w + int64_t(idx[i]) * dim;
    for (int64_t j = j0; j < dim; ++j) out[j] += r[j];
  }
}

template <class T, class I>
void bag_forward(T* out, const T* w, const I* idx, const int64_t* bounds, int64_t nbags,
                 int64_t num, int64_t dim) {
  const int64_t n = bounds[nbags];
  check_indices(idx, n, num, "embedding_bag");
  if (dim == 0) return;
  const int64_t per_bag = nbags ? n / nbags + 1 : 1;
  parallel_for(nbags, row_grain(dim * per_bag), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      if (bounds[b] == bounds[b + 1])
        std::memset(out + b * dim, 0, size_t(dim) * sizeof(T));
      else
        sum_rows(out + b * dim, w, idx, bounds[b], bounds[b + 1], dim);
    }
  });
}

// `row(i)`: the gradient row of position i.
template <class T, class I, class Row>
void backward(T* dw, Row row, const I* idx, int64_t n, int64_t num, int64_t dim,
              int64_t padding_idx, bool scale_grad_by_freq, bool dw_is_zero, const char* fn) {
  check_indices(idx, n, num, fn);
  if (dim == 0 || num == 0) return;
  // start[r] .. start[r + 1]: the positions i (ascending) with idx[i] == r, listed in `order`.
  std::vector<int64_t> start(static_cast<size_t>(num) + 1, 0);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ++start[size_t(idx[i]) + 1];
  for (int64_t r = 0; r < num; ++r) start[r + 1] += start[r];
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i) order[next[size_t(idx[i])]++] = i;
  }
  // Row r's gradient: the sum of its positions' rows (in position order), or zero.
  auto write_row = [&](int64_t r) {
    T* d = dw + r * dim;
    const int64_t lo = start[r], hi = start[r + 1];
    if (lo == hi || r == padding_idx) {
      std::memset(d, 0, size_t(dim) * sizeof(T));
      return;
    }
    std::memcpy(d, row(order[lo]), size_t(dim) * sizeof(T));
    for (int64_t k = lo + 1; k < hi; ++k) {
      const T* g = row(order[k]);
      for (int64_t j = 0; j < dim; ++j) d[j] += g[j];
    }
    if (scale_grad_by_freq && hi - lo > 1) {
      const T s = T(1) / T(hi - lo);
      for (int64_t j = 0; j < dim; ++j) d[j] *= s;
    }
  };
  if (!dw_is_zero) {
    parallel_for(num, row_grain(dim), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) write_row(r);
    });
    return;
  }
  // A zero-filled table (fresh calloc'd pages) needs only the looked-up rows written: the
  // backward costs O(n dim), not O(num dim), and the untouched pages stay unmapped until read.
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < num; ++r)
    if (start[r + 1] > start[r] && r != padding_idx) rows.push_back(r);
  parallel_for(int64_t(rows.size()), row_grain(dim), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) write_row(rows[k]);
  });
}

// The p-norm of one row in double: p = inf (max |x|), 0 (count of non-zeros), 1, 2, or general.
template <class T>
double row_norm(const T* x, int64_t dim, double p) {
  double s = 0;
  if (std::isinf(p) && p > 0) {
    for (int64_t j = 0; j < dim; ++j) s = std::fmax(s, std::fabs(double(x[j])));
    return s;
  }
  if (p == 0) {
    for (int64_t j = 0; j < dim; ++j) s += x[j] != T(0);
    return s;
  }
  if (p == 1) {
    for (int64_t j = 0; j < dim; ++j) s += std::fabs(double(x[j]));
    return s;
  }
  if (p == 2) {
    for (int64_t j = 0; j < dim; ++j) s += double(x[j]) * double(x[j]);
    return std::sqrt(s);
  }
  for (int64_t j = 0; j < dim; ++j) s += std::pow(std::fabs(double(x[j])), p);
  return std::pow(s, 1.0 / p);
}

template <class T, class I>
void renorm(T* w, const I* idx, int64_t n, int64_t num, int64_t dim, double max_norm, double p) {
  check_indices(idx, n, num, "embedding_renorm_");
  // Each distinct row once, in order of first appearance: a row listed twice must not shrink
  // twice, and two threads must never scale the same row.
  std::vector<unsigned char> seen(size_t(num), 0);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = idx[i];
    if (!seen[r]) seen[r] = 1, rows.push_back(r);
  }
  parallel_for(int64_t(rows.size()), row_grain(dim), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      T* x = w + rows[k] * dim;
      const double norm = row_norm(x, dim, p);
      if (norm > max_norm) {
        const T s = T(max_norm / (norm + 1e-7));
        for (int64_t j = 0; j < dim; ++j) x[j] *= s;
      }
    }
  });
}

}  // namespace

#define FASTNN_DEFINE_EMBEDDING(T, I)                                                              \
  void embedding_forward_cpu(T* out, const T* weight, const I* idx, int64_t n, int64_t num,        \
                             int64_t dim) {                                                        \
    forward(out, weight, idx, n, num, dim);                                                        \
  }                                                                                                \
  void embedding_backward_cpu(T* dweight, const T* dout, const I* idx, int64_t n, int64_t num,     \
                              int64_t dim, int64_t padding_idx, bool scale_grad_by_freq,           \
                              bool dweight_is_zero) {                                              \
    const auto row = [=](int64_t i) { return dout + i * dim; };                                    \
    backward(dweight, row, idx, n, num, dim, padding_idx, scale_grad_by_freq, dweight_is_zero,     \
             "embedding_backward");                                                                \
  }                                                                                                \
  void embedding_bag_forward_cpu(T* out, const T* weight, const I* idx, const int64_t* bounds,     \
                                 int64_t nbags, int64_t num, int64_t dim) {                        \
    bag_forward(out, weight, idx, bounds, nbags, num, dim);                                        \
  }                                                                                                \
  void embedding_bag_backward_cpu(T* dweight, const T* grad, const I* idx, const int64_t* bounds,  \
                                  int64_t nbags, int64_t num, int64_t dim, bool dweight_is_zero) { \
    std::vector<int64_t> bag_of(size_t(bounds[nbags]));                                            \
    for (int64_t b = 0; b < nbags; ++b)                                                            \
      for (int64_t i = bounds[b]; i < bounds[b + 1]; ++i) bag_of[i] = b;                           \
    const auto row = [&](int64_t i) { return grad + bag_of[i] * dim; };                            \
    backward(dweight, row, idx, bounds[nbags], num, dim, -1, false, dweight_is_zero,               \
             "embedding_bag_backward");                                                            \
  }                                                                                                \
  void embedding_renorm_cpu(T* weight, const I* idx, int64_t n, int64_t num, int64_t dim,          \
                            double max_norm, double norm_type) {                                   \
    renorm(weight, idx, n, num, dim, max_norm, norm_type);                                         \
  }
FASTNN_DEFINE_EMBEDDING(float, int32_t)
FASTNN_DEFINE_EMBEDDING(float, int64_t)
FASTNN_DEFINE_EMBEDDING(double, int32_t)
FASTNN_DEFINE_EMBEDDING(double, int64_t)
#undef FASTNN_DEFINE_EMBEDDING

}  // namespace fastnn
