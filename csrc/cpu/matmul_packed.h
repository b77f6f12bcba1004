// A GEMM operand packed once into the micro-kernel's panel order (csrc/cpu/matmul.cpp), for
// loops that multiply many small left operands by the same right one: the recurrent layers'
// time loops multiply every step's (B, H) state by W_hh. The plain matmul_cpu repacks op(B) on
// every call, which for a 32-row step costs about half as much as the product itself.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace fastnn {

template <class T>
class PackedB {
 public:
  // Packs op(B) (K x N), op(B)(k, j) = b[k*rs + j*cs], for the SIMD path active now; the buffer
  // is kept and reused by later packs of the same or a smaller size.
  void pack(const T* b, int64_t rs, int64_t cs, int64_t K, int64_t N);

  // C (M x N, row stride ldc, unit column stride) = beta * C + op(A) @ op(B) + bias, with
  // op(A)(i, k) = a[i*a_rs + k*a_cs] and bias (N,) broadcast over rows or nullptr; beta == 0 does
  // not read C. Runs on up to `threads` threads, split over the columns, when it is big enough.
  void gemm(T* c, int64_t ldc, const T* a, int64_t a_rs, int64_t a_cs, int64_t M, T beta,
            const T* bias, int threads) const;

  int64_t rows() const { return K_; }
  int64_t cols() const { return N_; }

 private:
  void gemm_cols(T* c, int64_t ldc, const T* a, int64_t a_rs, int64_t a_cs, int64_t M, T beta,
                 const T* bias, int64_t j0, int64_t j1) const;

  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t cap_ = 0;
  const void* kernel_ = nullptr;    // the matmul.cpp kernel (shape, packers) the panels are for
  int64_t K_ = 0, N_ = 0, Np_ = 0;  // Np_: N rounded up to whole panels
};

extern template class PackedB<float>;
extern template class PackedB<double>;

}  // namespace fastnn
