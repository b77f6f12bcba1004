// Activations on the GPU, forward and backward: relu, leaky_relu, sigmoid, tanh, gelu (erf and
// tanh forms), silu, mish, softplus, elu (selu), hardtanh (relu6), log_sigmoid (softmax and
// log_softmax are in softmax.cu). The scalar math is the one in
// csrc/scalar_math.h, shared with the CPU kernels, so both backends compute the same formulas.
// Elementwise ops: any shape, n elements; out may alias an input (in place).
// Numerics: IEEE exp/erfc/tanh; never build with --use_fast_math.
#include "cuda/common.cuh"
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

template <class T>
// a, b, c: the op's parameters (leaky_relu: a = slope; softplus: beta, threshold; elu: alpha,
// scale, input_scale; hardtanh: min, max).
__global__ void act_forward_kernel(Act act, T* y, const T* x, T a, T b, T c, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    const T v = x[i];
    T r;
    switch (act) {
      case Act::relu:
        r = fm::relu(v);
        break;
      case Act::leaky_relu:
        r = fm::leaky_relu(v, a);
        break;
      case Act::silu:
        r = fm::silu(v);
        break;
      case Act::mish:
        r = fm::mish(v);
        break;
      case Act::softplus:
        r = fm::softplus(v, a, b);
        break;
      case Act::elu:
        r = fm::elu(v, a, b, c);
        break;
      case Act::hardtanh:
        r = fm::hardtanh(v, a, b);
        break;
      case Act::log_sigmoid:
        r = fm::log_sigmoid(v);
        break;
      case Act::sigmoid:
        r = fm::sigmoid(v);
        break;
      case Act::tanh:
        r = fm::tanh_(v);
        break;
      case Act::gelu_erf:
        r = fm::gelu_erf(v);
        break;
      default:
        r = fm::gelu_tanh(v);
        break;
    }
    y[i] = r;
  }
}

// xy: the forward input (relu, leaky_relu, gelu) or output (sigmoid, tanh).
template <class T>
__global__ void act_backward_kernel(Act act, T* dx, const T* dy, const T* xy, T a, T b, T c,
                                    int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    const T g = dy[i], v = xy[i];
    T r;
    switch (act) {
      case Act::relu:
        r = fm::relu_grad(g, v);
        break;
      case Act::leaky_relu:
        r = fm::leaky_relu_grad(g, v, a);
        break;
      case Act::silu:
        r = fm::silu_grad(g, v);
        break;
      case Act::mish:
        r = fm::mish_grad(g, v);
        break;
      case Act::softplus:
        r = fm::softplus_grad(g, v, a, b);
        break;
      case Act::elu:
        r = fm::elu_grad(g, v, a, b, c);
        break;
      case Act::hardtanh:
        r = fm::hardtanh_grad(g, v, a, b);
        break;
      case Act::log_sigmoid:
        r = fm::log_sigmoid_grad(g, v);
        break;
      case Act::sigmoid:
        r = fm::sigmoid_grad(g, v);
        break;
      case Act::tanh:
        r = fm::tanh_grad(g, v);
        break;
      case Act::gelu_erf:
        r = fm::gelu_erf_grad(g, v);
        break;
      default:
        r = fm::gelu_tanh_grad(g, v);
        break;
    }
    dx[i] = r;
  }
}

// ---- launchers ----------------------------------------------------------------------------------

void act_forward(Act act, DType dt, void* y, const void* x, double a, double b, double c,
                 int64_t n) {
  if (n == 0) return;
  dispatch_float(dt, "activation", [&](auto tag) {
    using T = decltype(tag);
    act_forward_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        act, static_cast<T*>(y), static_cast<const T*>(x), static_cast<T>(a), static_cast<T>(b),
        static_cast<T>(c), n);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void act_backward(Act act, DType dt, void* dx, const void* dy, const void* xy, double a, double b,
                  double c, int64_t n) {
  if (n == 0) return;
  dispatch_float(dt, "activation backward", [&](auto tag) {
    using T = decltype(tag);
    act_backward_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        act, static_cast<T*>(dx), static_cast<const T*>(dy), static_cast<const T*>(xy),
        static_cast<T>(a), static_cast<T>(b), static_cast<T>(c), n);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
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
