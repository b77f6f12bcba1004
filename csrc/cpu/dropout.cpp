// Dropout forward (mask, scale and product in one pass) and backward (the saved byte mask). The
// counter of element i depends only on i, so the work is split over threads without changing any
// result. Independent counters keep the multiplier busy even in scalar code (a structure-of-arrays
// version left to the auto-vectoriser was slower: GCC emulates the 32x32->64 products).
#include <algorithm>

#include "cpu/cpu_features.h"
#include "cpu/dropout.h"
#include "cpu/parallel.h"
#include "cuda/philox.h"
#include "dropout_math.h"

namespace fastnn {

void philox16_avx2(uint32_t* words, uint64_t seed, uint64_t first);
void philox16_avx512(uint32_t* words, uint64_t seed, uint64_t first);

namespace {

constexpr int64_t kGrainCounters = 1024;
constexpr int kBatch = 16;  // counters drawn together

// words[j * kBatch + q] = word j of counter (first + q), q < kBatch: the scalar Philox, whose
// independent counters overlap in the out-of-order core.
void philox16_generic(uint32_t* words, uint64_t seed, uint64_t first) {
  for (int q = 0; q < kBatch; ++q) {
    const philox::U32x4 w = philox::philox_block(seed, first, static_cast<uint64_t>(q));
    for (int j = 0; j < 4; ++j) words[j * kBatch + q] = w.x[j];
  }
}

// By ISA (IsaTable, cpu/cpu_features.h): the vector versions run the counters in the lanes of
// one AVX-512 register or two AVX2 ones.
const IsaTable<void (*)(uint32_t*, uint64_t, uint64_t)> kPhilox16{
    {{&philox16_generic, &philox16_avx2, &philox16_avx512}}};

// Counters [b0, b1) of the call (elements b0 * per ..), the last one possibly partial: each batch
// of kBatch counters is drawn first and its words put in element order, then they are compared
// and applied in one loop without branches (a random mask would mispredict one branch in five at
// p = 0.2), which the compiler vectorizes (dropout::keep is written for that). Reading the words
// in place, those of consecutive elements 16 apart, kept it scalar, at 4 ns an element.
template <class T>
void dropout_range(T* y, uint8_t* mask, const T* x, int64_t n, uint32_t threshold, T scale,
                   uint64_t seed, uint64_t offset, int64_t b0, int64_t b1) {
  constexpr int per = dropout::per_counter(sizeof(T));  // elements per counter
  // Element e = q * per + k reads word word_of(per, k) = k * stride of counter q, at q * 4 + k *
  // stride = e * stride in the ordered words.
  constexpr int stride = dropout::word_of(per, 1);
  const auto philox16 = kPhilox16[active_isa()];
  alignas(64) uint32_t words[kBatch * 4];    // [word][counter], as philox16 writes them
  alignas(64) uint32_t ordered[kBatch * 4];  // [counter][word]
  for (int64_t b = b0; b < b1; b += kBatch) {
    philox16(words, seed, offset + static_cast<uint64_t>(b));
    for (int q = 0; q < kBatch; ++q)
      for (int j = 0; j < 4; ++j) ordered[q * 4 + j] = words[j * kBatch + q];
    const int64_t i = b * per;
    const int64_t m = std::min<int64_t>(kBatch * per, std::min(b1 * per, n) - i);
    // Restricted: the byte stores to mask could otherwise alias anything.
    T* __restrict yi = y + i;
    const T* __restrict xi = x + i;
    uint8_t* __restrict mi = mask + i;
    for (int64_t e = 0; e < m; ++e) {
      const int32_t keep = dropout::keep(ordered[e * stride], threshold);
      yi[e] = dropout::apply(xi[e], keep, scale);
      mi[e] = static_cast<uint8_t>(keep);
    }
  }
}

template <class T>
void dropout_impl(T* y, uint8_t* mask, const T* x, int64_t n, double p, uint64_t seed,
                  uint64_t offset) {
  if (n <= 0) return;
  if (p >= 1.0) {  // every word is below 2^32: nothing kept (and no 0 * inf scale)
    parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) y[i] = x[i] * T(0), mask[i] = 0;
    });
    return;
  }
  const uint32_t threshold = dropout::threshold(p);
  const T scale = static_cast<T>(dropout::scale(p));
  const int64_t n_counters = static_cast<int64_t>(dropout::counters(sizeof(T), n));
  parallel_for(n_counters, kGrainCounters, [&](int64_t b0, int64_t b1) {
    dropout_range(y, mask, x, n, threshold, scale, seed, offset, b0, b1);
  });
}

template <class T>
void dropout_backward_impl(T* dx, const T* dy, const uint8_t* mask, int64_t n, double p) {
  const T scale = static_cast<T>(dropout::scale(p));
  parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
    // arithmetic, not a branch: a random mask would mispredict one branch in five at p = 0.2
    for (int64_t i = i0; i < i1; ++i) dx[i] = dropout::apply(dy[i], mask[i], scale);
  });
}

}  // namespace

void dropout_cpu(float* y, uint8_t* mask, const float* x, int64_t n, double p, uint64_t seed,
                 uint64_t offset) {
  dropout_impl(y, mask, x, n, p, seed, offset);
}
void dropout_cpu(double* y, uint8_t* mask, const double* x, int64_t n, double p, uint64_t seed,
                 uint64_t offset) {
  dropout_impl(y, mask, x, n, p, seed, offset);
}
void dropout_backward_cpu(float* dx, const float* dy, const uint8_t* mask, int64_t n, double p) {
  dropout_backward_impl(dx, dy, mask, n, p);
}
void dropout_backward_cpu(double* dx, const double* dy, const uint8_t* mask, int64_t n, double p) {
  dropout_backward_impl(dx, dy, mask, n, p);
}

}  // namespace fastnn
