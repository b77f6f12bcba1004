// Activations on the GPU, forward and backward: relu, leaky_relu, sigmoid, tanh, gelu (erf and
// tanh forms), silu, mish, softplus, elu (selu), hardtanh (relu6), log_sigmoid (softmax and
// log_softmax are in softmax.cu). The scalar math is the one in
// csrc/scalar_math.h, shared with the CPU kernels, so both backends compute the same formulas.
// Elementwise ops: any shape, n elements; out may alias an input (in place); contiguous, so they
// run the 16-byte vector loops of vec_map.cuh (one kernel per op and dtype).
// Numerics: IEEE exp/erfc/tanh; never build with --use_fast_math.
#include "cuda/common.cuh"
#include "cuda/vec_map.cuh"
#include "scalar_math.h"

namespace fastnn::cuda {
namespace {
namespace fm = fastnn::math;

// ---- kernels ------------------------------------------------------------------------------------

enum class Act {
  relu,
  leaky_relu,
  sigmoid,
  tanh,
  gelu_erf,
  gelu_tanh,
  silu,
  mish,
  softplus,
  elu,
  hardtanh,
  log_sigmoid
};

// a, b, c: the op's parameters (leaky_relu: a = slope; softplus: beta, threshold; elu: alpha,
// scale, input_scale; hardtanh: min, max). The op is a template parameter so each kernel holds
// one formula, unrolled over the elements of its 16-byte packs.
template <Act A, class T>
__device__ __forceinline__ T act_forward_value(T v, T a, T b, T c) {
  if constexpr (A == Act::relu)
    return fm::relu(v);
  else if constexpr (A == Act::leaky_relu)
    return fm::leaky_relu(v, a);
  else if constexpr (A == Act::silu)
    return fm::silu(v);
  else if constexpr (A == Act::mish)
    return fm::mish(v);
  else if constexpr (A == Act::softplus)
    return fm::softplus(v, a, b);
  else if constexpr (A == Act::elu)
    return fm::elu(v, a, b, c);
  else if constexpr (A == Act::hardtanh)
    return fm::hardtanh(v, a, b);
  else if constexpr (A == Act::log_sigmoid)
    return fm::log_sigmoid(v);
  else if constexpr (A == Act::sigmoid)
    return fm::sigmoid(v);
  else if constexpr (A == Act::tanh)
    return fm::tanh_(v);
  else if constexpr (A == Act::gelu_erf)
    return fm::gelu_erf(v);
  else
    return fm::gelu_tanh(v);
}

// v: the forward input (relu, leaky_relu, gelu, ...) or output (sigmoid, tanh).
template <Act A, class T>
__device__ __forceinline__ T act_backward_value(T g, T v, T a, T b, T c) {
  if constexpr (A == Act::relu)
    return fm::relu_grad(g, v);
  else if constexpr (A == Act::leaky_relu)
    return fm::leaky_relu_grad(g, v, a);
  else if constexpr (A == Act::silu)
    return fm::silu_grad(g, v);
  else if constexpr (A == Act::mish)
    return fm::mish_grad(g, v);
  else if constexpr (A == Act::softplus)
    return fm::softplus_grad(g, v, a, b);
  else if constexpr (A == Act::elu)
    return fm::elu_grad(g, v, a, b, c);
  else if constexpr (A == Act::hardtanh)
    return fm::hardtanh_grad(g, v, a, b);
  else if constexpr (A == Act::log_sigmoid)
    return fm::log_sigmoid_grad(g, v);
  else if constexpr (A == Act::sigmoid)
    return fm::sigmoid_grad(g, v);
  else if constexpr (A == Act::tanh)
    return fm::tanh_grad(g, v);
  else if constexpr (A == Act::gelu_erf)
    return fm::gelu_erf_grad(g, v);
  else
    return fm::gelu_tanh_grad(g, v);
}

template <Act A, class T>
struct ActForward {
  T a, b, c;
  __device__ T operator()(T v) const { return act_forward_value<A>(v, a, b, c); }
};

template <Act A, class T>
struct ActBackward {
  T a, b, c;
  __device__ T operator()(T g, T v) const { return act_backward_value<A>(g, v, a, b, c); }
};

// Calls f(std::integral_constant<Act, act>{}).
template <class F>
void dispatch_act(Act act, F&& f) {
  switch (act) {
    case Act::relu:
      return f(std::integral_constant<Act, Act::relu>{});
    case Act::leaky_relu:
      return f(std::integral_constant<Act, Act::leaky_relu>{});
    case Act::sigmoid:
      return f(std::integral_constant<Act, Act::sigmoid>{});
    case Act::tanh:
      return f(std::integral_constant<Act, Act::tanh>{});
    case Act::gelu_erf:
      return f(std::integral_constant<Act, Act::gelu_erf>{});
    case Act::gelu_tanh:
      return f(std::integral_constant<Act, Act::gelu_tanh>{});
    case Act::silu:
      return f(std::integral_constant<Act, Act::silu>{});
    case Act::mish:
      return f(std::integral_constant<Act, Act::mish>{});
    case Act::softplus:
      return f(std::integral_constant<Act, Act::softplus>{});
    case Act::elu:
      return f(std::integral_constant<Act, Act::elu>{});
    case Act::hardtanh:
      return f(std::integral_constant<Act, Act::hardtanh>{});
    case Act::log_sigmoid:
      return f(std::integral_constant<Act, Act::log_sigmoid>{});
  }
}

// ---- launchers ----------------------------------------------------------------------------------

void act_forward(Act act, DType dt, void* y, const void* x, double a, double b, double c,
                 int64_t n) {
  if (n == 0) return;
  dispatch_float(dt, "activation", [&](auto tag) {
    using T = decltype(tag);
    dispatch_act(act, [&](auto op) {
      map1(static_cast<T*>(y), static_cast<const T*>(x), n,
           ActForward<decltype(op)::value, T>{static_cast<T>(a), static_cast<T>(b),
                                              static_cast<T>(c)});
    });
  });
}

void act_backward(Act act, DType dt, void* dx, const void* dy, const void* xy, double a, double b,
                  double c, int64_t n) {
  if (n == 0) return;
  dispatch_float(dt, "activation backward", [&](auto tag) {
    using T = decltype(tag);
    dispatch_act(act, [&](auto op) {
      map2(static_cast<T*>(dx), static_cast<const T*>(dy), static_cast<const T*>(xy), n,
           ActBackward<decltype(op)::value, T>{static_cast<T>(a), static_cast<T>(b),
                                               static_cast<T>(c)});
    });
  });
}

}  // namespace

void relu_forward_cuda(DType dt, void* y, const void* x, int64_t n) {
  act_forward(Act::relu, dt, y, x, 0.0, 0.0, 0.0, n);
}
void relu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, int64_t n) {
  act_backward(Act::relu, dt, dx, dy, x, 0.0, 0.0, 0.0, n);
}
void leaky_relu_forward_cuda(DType dt, void* y, const void* x, double slope, int64_t n) {
  act_forward(Act::leaky_relu, dt, y, x, slope, 0.0, 0.0, n);
}
void leaky_relu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, double slope,
                              int64_t n) {
  act_backward(Act::leaky_relu, dt, dx, dy, x, slope, 0.0, 0.0, n);
}
void sigmoid_forward_cuda(DType dt, void* y, const void* x, int64_t n) {
  act_forward(Act::sigmoid, dt, y, x, 0.0, 0.0, 0.0, n);
}
void sigmoid_backward_cuda(DType dt, void* dx, const void* dy, const void* y, int64_t n) {
  act_backward(Act::sigmoid, dt, dx, dy, y, 0.0, 0.0, 0.0, n);
}
void tanh_forward_cuda(DType dt, void* y, const void* x, int64_t n) {
  act_forward(Act::tanh, dt, y, x, 0.0, 0.0, 0.0, n);
}
void tanh_backward_cuda(DType dt, void* dx, const void* dy, const void* y, int64_t n) {
  act_backward(Act::tanh, dt, dx, dy, y, 0.0, 0.0, 0.0, n);
}
void gelu_forward_cuda(DType dt, void* y, const void* x, GeluApprox approx, int64_t n) {
  act_forward(approx == GeluApprox::tanh ? Act::gelu_tanh : Act::gelu_erf, dt, y, x, 0.0, 0.0, 0.0,
              n);
}
void gelu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, GeluApprox approx,
                        int64_t n) {
  act_backward(approx == GeluApprox::tanh ? Act::gelu_tanh : Act::gelu_erf, dt, dx, dy, x, 0.0, 0.0,
               0.0, n);
}
void silu_forward_cuda(DType dt, void* y, const void* x, int64_t n) {
  act_forward(Act::silu, dt, y, x, 0.0, 0.0, 0.0, n);
}
void silu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, int64_t n) {
  act_backward(Act::silu, dt, dx, dy, x, 0.0, 0.0, 0.0, n);
}
void mish_forward_cuda(DType dt, void* y, const void* x, int64_t n) {
  act_forward(Act::mish, dt, y, x, 0.0, 0.0, 0.0, n);
}
void mish_backward_cuda(DType dt, void* dx, const void* dy, const void* x, int64_t n) {
  act_backward(Act::mish, dt, dx, dy, x, 0.0, 0.0, 0.0, n);
}
void softplus_forward_cuda(DType dt, void* y, const void* x, double beta, double threshold,
                           int64_t n) {
  act_forward(Act::softplus, dt, y, x, beta, threshold, 0.0, n);
}
void softplus_backward_cuda(DType dt, void* dx, const void* dy, const void* x, double beta,
                            double threshold, int64_t n) {
  act_backward(Act::softplus, dt, dx, dy, x, beta, threshold, 0.0, n);
}
void elu_forward_cuda(DType dt, void* y, const void* x, double alpha, double scale,
                      double input_scale, int64_t n) {
  act_forward(Act::elu, dt, y, x, alpha, scale, input_scale, n);
}
void elu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, double alpha,
                       double scale, double input_scale, int64_t n) {
  act_backward(Act::elu, dt, dx, dy, x, alpha, scale, input_scale, n);
}
void hardtanh_forward_cuda(DType dt, void* y, const void* x, double min_val, double max_val,
                           int64_t n) {
  act_forward(Act::hardtanh, dt, y, x, min_val, max_val, 0.0, n);
}
void hardtanh_backward_cuda(DType dt, void* dx, const void* dy, const void* x, double min_val,
                            double max_val, int64_t n) {
  act_backward(Act::hardtanh, dt, dx, dy, x, min_val, max_val, 0.0, n);
}
void logsigmoid_forward_cuda(DType dt, void* y, const void* x, int64_t n) {
  act_forward(Act::log_sigmoid, dt, y, x, 0.0, 0.0, 0.0, n);
}
void logsigmoid_backward_cuda(DType dt, void* dx, const void* dy, const void* x, int64_t n) {
  act_backward(Act::log_sigmoid, dt, dx, dy, x, 0.0, 0.0, 0.0, n);
}

}  // namespace fastnn::cuda
