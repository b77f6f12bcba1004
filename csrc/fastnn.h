// The fastnn C++ kernel API (C1, C4): every CPU kernel, with its shape contract.
// Plain C++: no pybind11, no CUDA. Outputs first, then inputs, then sizes; all sizes int64_t;
// contiguous row-major buffers; backward kernels overwrite their outputs.
// The CUDA kernels of the same names live in csrc/cuda/ and are declared in csrc/cuda/fastnn_cuda.h.
#pragma once
#include <cstdint>

namespace fastnn {

// ---- matmul -----------------------------------------------------------------------------------


// ---- activations ------------------------------------------------------------------------------
// Element-wise, n elements, y/dx may alias x/dy exactly (each element is read before it is
// written) but must not overlap them otherwise. Overloads for float and double.
// Backward kernels take the upstream gradient dy and the tensor named in their signature:
// relu/leaky_relu/gelu the forward *input* x, sigmoid/tanh the forward *output* y.
enum class GeluApprox { none, tanh };

#define FASTNN_DECLARE_ACTIVATIONS(T)                                                            \
  void relu_forward_cpu(T* y, const T* x, int64_t n);                                            \
  void relu_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                             \
  void leaky_relu_forward_cpu(T* y, const T* x, double negative_slope, int64_t n);               \
  void leaky_relu_backward_cpu(T* dx, const T* dy, const T* x, double negative_slope, int64_t n); \
  void sigmoid_forward_cpu(T* y, const T* x, int64_t n);                                         \
  void sigmoid_backward_cpu(T* dx, const T* dy, const T* y, int64_t n);                          \
  void tanh_forward_cpu(T* y, const T* x, int64_t n);                                            \
  void tanh_backward_cpu(T* dx, const T* dy, const T* y, int64_t n);                             \
  void gelu_forward_cpu(T* y, const T* x, GeluApprox approx, int64_t n);                         \
  void gelu_backward_cpu(T* dx, const T* dy, const T* x, GeluApprox approx, int64_t n);          \
  /* softmax / log_softmax over the last axis: x, y, dy, dx are (rows, cols); y may be x. */      \
  void softmax_forward_cpu(T* y, const T* x, int64_t rows, int64_t cols);                        \
  void softmax_backward_cpu(T* dx, const T* dy, const T* y, int64_t rows, int64_t cols);         \
  void log_softmax_forward_cpu(T* y, const T* x, int64_t rows, int64_t cols);                    \
  void log_softmax_backward_cpu(T* dx, const T* dy, const T* y, int64_t rows, int64_t cols);
FASTNN_DECLARE_ACTIVATIONS(float)
FASTNN_DECLARE_ACTIVATIONS(double)
#undef FASTNN_DECLARE_ACTIVATIONS


// ---- softmax cross-entropy, binary cross-entropy ----------------------------------------------


// ---- optimizer steps --------------------------------------------------------------------------


}  // namespace fastnn
