// Activations on the CPU: relu, leaky_relu, sigmoid, tanh, gelu (exact and tanh forms), silu,
// mish, softplus, elu (selu), hardtanh (relu6), log_sigmoid, exp, sqrt, log, sin, cos, erf,
// arctan, log1p, expm1 and rsqrt (Tensor's threaded SIMD path for them: numpy's loops run on one
// core, and numpy has no erf), softmax and log_softmax along any axis, each forward and backward,
// float32 and float64. (prelu, which also reduces over a weight, is in prelu.cpp.)
//
// Shapes: element-wise ops take n elements; softmax ops take a contiguous (outer, n, inner) array
// and run along n: contiguous rows when inner == 1, else down strided columns, W at a time.
// References: PyTorch's definitions (torch.nn.functional.gelu, approximate='none'|'tanh');
// the formulas are in csrc/scalar_math.h (shared with the CUDA kernels). Do not build with
// fast-math.
//
// float32 runs the AVX-512 or AVX2 unit (vectorised exp/tanh/normal CDF, ~1-2 ulp) when the CPU
// has it, else the scalar loops below (libm); float64 always uses the scalar loops.
// Large inputs are split over the thread pool; small ones run serially (waking threads costs
// more than it saves below a few tens of thousands of elements).
#include <algorithm>

#include "cpu/activations_simd.h"
#include "cpu/axis_pieces.h"
#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"
#include "scalar_math.h"

namespace fastnn {
namespace {

// ---- scalar math → kernels (generic path) -----------------------------------------------------

// Elements per thread chunk, the same for every op. ReLU took 65536 (too cheap, it seemed, to wake
// a worker for less), so a 256 x 256 hidden layer ran on the caller alone and read the half of its
// input that the threaded GEMM before it had left in the other core's cache: 21 us, 14 split in two
// like the GEMM's rows (its backward 18.5 -> 9.7); from warm caches 65536 floats take 7.8 us on one
// thread and 5.6 on two.
constexpr int64_t kGrain = 16384;

template <class T>
void act_forward_scalar(ActOp op, T* y, const T* x, ActArgs<T> p, int64_t n) {
  const T slope = p.a;
  switch (op) {
    case ActOp::relu:
      for (int64_t i = 0; i < n; ++i) y[i] = math::relu(x[i]);
      break;
    case ActOp::leaky_relu:
      for (int64_t i = 0; i < n; ++i) y[i] = math::leaky_relu(x[i], slope);
      break;
    case ActOp::sigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = math::sigmoid(x[i]);
      break;
    case ActOp::tanh:
      for (int64_t i = 0; i < n; ++i) y[i] = math::tanh_(x[i]);
      break;
    case ActOp::gelu_erf:
      for (int64_t i = 0; i < n; ++i) y[i] = math::gelu_erf(x[i]);
      break;
    case ActOp::gelu_tanh:
      for (int64_t i = 0; i < n; ++i) y[i] = math::gelu_tanh(x[i]);
      break;
    case ActOp::silu:
      for (int64_t i = 0; i < n; ++i) y[i] = math::silu(x[i]);
      break;
    case ActOp::mish:
      for (int64_t i = 0; i < n; ++i) y[i] = math::mish(x[i]);
      break;
    case ActOp::softplus:
      for (int64_t i = 0; i < n; ++i) y[i] = math::softplus(x[i], p.a, p.b);
      break;
    case ActOp::elu:
      for (int64_t i = 0; i < n; ++i) y[i] = math::elu(x[i], p.a, p.b, p.c);
      break;
    case ActOp::hardtanh:
      for (int64_t i = 0; i < n; ++i) y[i] = math::hardtanh(x[i], p.a, p.b);
      break;
    case ActOp::log_sigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = math::log_sigmoid(x[i]);
      break;
    case ActOp::exp:
      for (int64_t i = 0; i < n; ++i) y[i] = math::m_exp(x[i]);
      break;
    case ActOp::sqrt:
      for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
      break;
    case ActOp::log:
      for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
      break;
    case ActOp::sin:  // (float in double: the C library's result correctly rounded, nearly always)
      for (int64_t i = 0; i < n; ++i) y[i] = T(std::sin(double(x[i])));
      break;
    case ActOp::cos:
      for (int64_t i = 0; i < n; ++i) y[i] = T(std::cos(double(x[i])));
      break;
    case ActOp::erf:
      for (int64_t i = 0; i < n; ++i) y[i] = T(std::erf(double(x[i])));
      break;
    case ActOp::atan:
      for (int64_t i = 0; i < n; ++i) y[i] = std::atan(x[i]);
      break;
    case ActOp::log1p:
      for (int64_t i = 0; i < n; ++i) y[i] = std::log1p(x[i]);
      break;
    case ActOp::expm1:
      for (int64_t i = 0; i < n; ++i) y[i] = std::expm1(x[i]);
      break;
    case ActOp::rsqrt:
      for (int64_t i = 0; i < n; ++i) y[i] = T(1) / std::sqrt(x[i]);
      break;
  }
}

template <class T>
void act_backward_scalar(ActOp op, T* dx, const T* dy, const T* xy, ActArgs<T> p, int64_t n) {
  const T slope = p.a;
  switch (op) {
    case ActOp::relu:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::relu_grad(dy[i], xy[i]);
      break;
    case ActOp::leaky_relu:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::leaky_relu_grad(dy[i], xy[i], slope);
      break;
    case ActOp::sigmoid:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::sigmoid_grad(dy[i], xy[i]);
      break;
    case ActOp::tanh:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::tanh_grad(dy[i], xy[i]);
      break;
    case ActOp::gelu_erf:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::gelu_erf_grad(dy[i], xy[i]);
      break;
    case ActOp::gelu_tanh:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::gelu_tanh_grad(dy[i], xy[i]);
      break;
    case ActOp::silu:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::silu_grad(dy[i], xy[i]);
      break;
    case ActOp::mish:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::mish_grad(dy[i], xy[i]);
      break;
    case ActOp::softplus:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::softplus_grad(dy[i], xy[i], p.a, p.b);
      break;
    case ActOp::elu:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::elu_grad(dy[i], xy[i], p.a, p.b, p.c);
      break;
    case ActOp::hardtanh:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::hardtanh_grad(dy[i], xy[i], p.a, p.b);
      break;
    case ActOp::log_sigmoid:
      for (int64_t i = 0; i < n; ++i) dx[i] = math::log_sigmoid_grad(dy[i], xy[i]);
      break;
    case ActOp::exp:  // xy = y
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * xy[i];
      break;
    case ActOp::sqrt:  // xy = y
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] / (xy[i] + xy[i]);
      break;
    case ActOp::log:  // xy = x
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] / xy[i];
      break;
    case ActOp::sin:  // xy = x
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * T(std::cos(double(xy[i])));
      break;
    case ActOp::cos:  // xy = x
      for (int64_t i = 0; i < n; ++i) dx[i] = -dy[i] * T(std::sin(double(xy[i])));
      break;
    case ActOp::erf:  // xy = x: 2/sqrt(pi) exp(-x^2)
      for (int64_t i = 0; i < n; ++i) {
        const double v = double(xy[i]);
        dx[i] = dy[i] * T(1.12837916709551257390 * std::exp(-v * v));
      }
      break;
    case ActOp::atan:  // xy = x
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] / (xy[i] * xy[i] + T(1));
      break;
    case ActOp::log1p:  // xy = x
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] / (xy[i] + T(1));
      break;
    case ActOp::expm1:  // xy = x
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * std::exp(xy[i]);
      break;
    case ActOp::rsqrt:  // xy = y
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * T(-0.5) * (xy[i] * xy[i] * xy[i]);
      break;
  }
}

template <class T>
void softmax_forward_scalar(bool log, T* y, const T* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T m = -__builtin_inf();
    for (int64_t j = 0; j < cols; ++j) m = xr[j] > m ? xr[j] : m;
    T s = 0;
    if (log) {
      for (int64_t j = 0; j < cols; ++j) s += math::m_exp(xr[j] - m);
      T ls = math::m_log(s);  // (x - m) - log s: m + log s would round at the scale of m
      for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - m) - ls;
    } else {
      for (int64_t j = 0; j < cols; ++j) {
        yr[j] = math::m_exp(xr[j] - m);
        s += yr[j];
      }
      T inv = T(1) / s;
      for (int64_t j = 0; j < cols; ++j) yr[j] *= inv;
    }
  }
}

template <class T>
void softmax_backward_scalar(bool log, T* dx, const T* dy, const T* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* dyr = dy + r * cols;
    const T* yr = y + r * cols;
    T* dxr = dx + r * cols;
    T s = 0;
    if (log) {
      for (int64_t j = 0; j < cols; ++j) s += dyr[j];
      for (int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j] - math::m_exp(yr[j]) * s;
    } else {
      for (int64_t j = 0; j < cols; ++j) s += dyr[j] * yr[j];
      for (int64_t j = 0; j < cols; ++j) dxr[j] = yr[j] * (dyr[j] - s);
    }
  }
}

// The same down the columns of an (n, inner) slab: columns [0, cols) from the pointers, cols <=
// kSoftmaxColumns, rows inner apart. Row by row over the block keeps every read in order.
constexpr int64_t kColumnBlock = kSoftmaxColumns;

template <class T>
void softmax_columns_forward_scalar(bool log, T* y, const T* x, int64_t n, int64_t inner,
                                    int64_t cols) {
  T m[kColumnBlock], s[kColumnBlock];
  for (int64_t c = 0; c < cols; ++c) m[c] = -__builtin_inf(), s[c] = 0;
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; ++c) m[c] = x[k * inner + c] > m[c] ? x[k * inner + c] : m[c];
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; ++c) {
      T e = math::m_exp(x[k * inner + c] - m[c]);
      if (!log) y[k * inner + c] = e;
      s[c] += e;
    }
  for (int64_t c = 0; c < cols; ++c) s[c] = log ? math::m_log(s[c]) : T(1) / s[c];
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; ++c) {
      T& out = y[k * inner + c];
      out = log ? (x[k * inner + c] - m[c]) - s[c] : out * s[c];
    }
}

template <class T>
void softmax_columns_backward_scalar(bool log, T* dx, const T* dy, const T* y, int64_t n,
                                     int64_t inner, int64_t cols) {
  T s[kColumnBlock];
  for (int64_t c = 0; c < cols; ++c) s[c] = 0;
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; ++c)
      s[c] += log ? dy[k * inner + c] : dy[k * inner + c] * y[k * inner + c];
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = k * inner + c;
      dx[i] = log ? dy[i] - math::m_exp(y[i]) * s[c] : y[i] * (dy[i] - s[c]);
    }
}

// ---- launchers: ISA dispatch and threading ----------------------------------------------------

// float32 paths by ISA (see IsaTable in cpu/cpu_features.h); float64 always runs the scalar loops.
struct ActivationKernelsF32 {
  void (*forward)(ActOp, float*, const float*, ActArgs<float>, int64_t);
  void (*backward)(ActOp, float*, const float*, const float*, ActArgs<float>, int64_t);
  void (*softmax_forward)(bool, float*, const float*, int64_t, int64_t);
  void (*softmax_backward)(bool, float*, const float*, const float*, int64_t, int64_t);
  void (*softmax_columns_forward)(bool, float*, const float*, int64_t, int64_t, int64_t);
  void (*softmax_columns_backward)(bool, float*, const float*, const float*, int64_t, int64_t,
                                   int64_t);
};
const IsaTable<ActivationKernelsF32> kActivationsF32{{{
    {&act_forward_scalar<float>, &act_backward_scalar<float>, &softmax_forward_scalar<float>,
     &softmax_backward_scalar<float>, &softmax_columns_forward_scalar<float>,
     &softmax_columns_backward_scalar<float>},
    {&avx2::act_forward_f32, &avx2::act_backward_f32, &avx2::softmax_forward_f32,
     &avx2::softmax_backward_f32, &avx2::softmax_columns_forward_f32,
     &avx2::softmax_columns_backward_f32},
    {&avx512::act_forward_f32, &avx512::act_backward_f32, &avx512::softmax_forward_f32,
     &avx512::softmax_backward_f32, &avx512::softmax_columns_forward_f32,
     &avx512::softmax_columns_backward_f32},
}}};

ActArgs<float> f32(ActArgs<double> p) { return {float(p.a), float(p.b), float(p.c)}; }

void act_forward(ActOp op, float* y, const float* x, ActArgs<double> p, int64_t n) {
  const auto forward = kActivationsF32[active_isa()].forward;
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { forward(op, y + b, x + b, f32(p), e - b); });
}
void act_forward(ActOp op, double* y, const double* x, ActArgs<double> p, int64_t n) {
  parallel_for(n, kGrain / 2, [&](int64_t b, int64_t e) {
    act_forward_scalar<double>(op, y + b, x + b, p, e - b);
  });
}
void act_backward(ActOp op, float* dx, const float* dy, const float* xy, ActArgs<double> p,
                  int64_t n) {
  const auto backward = kActivationsF32[active_isa()].backward;
  parallel_for(n, kGrain,
               [&](int64_t b, int64_t e) { backward(op, dx + b, dy + b, xy + b, f32(p), e - b); });
}
void act_backward(ActOp op, double* dx, const double* dy, const double* xy, ActArgs<double> p,
                  int64_t n) {
  parallel_for(n, kGrain / 2, [&](int64_t b, int64_t e) {
    act_backward_scalar<double>(op, dx + b, dy + b, xy + b, p, e - b);
  });
}
constexpr ActArgs<double> kNoArgs{0, 0, 0};

// The softmax kernels' pieces (cpu/axis_pieces.h) as element offsets: rows(offset, row count),
// columns(offset, column count).
template <class Rows, class Columns>
void for_pieces(const AlongDim& s, Rows rows, Columns columns) {
  for_axis_pieces(
      s, kColumnBlock, [&](int64_t r, int64_t k) { rows(r * s.n, k); },
      [&](int64_t o, int64_t c, int64_t k) { columns(o * s.n * s.inner + c, k); });
}

void softmax_fwd(bool log, float* y, const float* x, const AlongDim& s) {
  const auto& k = kActivationsF32[active_isa()];
  for_pieces(
      s, [&](int64_t o, int64_t r) { k.softmax_forward(log, y + o, x + o, r, s.n); },
      [&](int64_t o, int64_t c) { k.softmax_columns_forward(log, y + o, x + o, s.n, s.inner, c); });
}
void softmax_fwd(bool log, double* y, const double* x, const AlongDim& s) {
  for_pieces(
      s, [&](int64_t o, int64_t r) { softmax_forward_scalar<double>(log, y + o, x + o, r, s.n); },
      [&](int64_t o, int64_t c) {
        softmax_columns_forward_scalar<double>(log, y + o, x + o, s.n, s.inner, c);
      });
}
void softmax_bwd(bool log, float* dx, const float* dy, const float* y, const AlongDim& s) {
  const auto& k = kActivationsF32[active_isa()];
  for_pieces(
      s, [&](int64_t o, int64_t r) { k.softmax_backward(log, dx + o, dy + o, y + o, r, s.n); },
      [&](int64_t o, int64_t c) {
        k.softmax_columns_backward(log, dx + o, dy + o, y + o, s.n, s.inner, c);
      });
}
void softmax_bwd(bool log, double* dx, const double* dy, const double* y, const AlongDim& s) {
  for_pieces(
      s,
      [&](int64_t o, int64_t r) {
        softmax_backward_scalar<double>(log, dx + o, dy + o, y + o, r, s.n);
      },
      [&](int64_t o, int64_t c) {
        softmax_columns_backward_scalar<double>(log, dx + o, dy + o, y + o, s.n, s.inner, c);
      });
}

ActOp gelu_op(GeluApprox a) { return a == GeluApprox::tanh ? ActOp::gelu_tanh : ActOp::gelu_erf; }

}  // namespace

#define FASTNN_DEFINE_ACTIVATIONS(T)                                                         \
  void relu_forward_cpu(T* y, const T* x, int64_t n) {                                       \
    act_forward(ActOp::relu, y, x, kNoArgs, n);                                              \
  }                                                                                          \
  void relu_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                        \
    act_backward(ActOp::relu, dx, dy, x, kNoArgs, n);                                        \
  }                                                                                          \
  void leaky_relu_forward_cpu(T* y, const T* x, double s, int64_t n) {                       \
    act_forward(ActOp::leaky_relu, y, x, {s, 0, 0}, n);                                      \
  }                                                                                          \
  void leaky_relu_backward_cpu(T* dx, const T* dy, const T* x, double s, int64_t n) {        \
    act_backward(ActOp::leaky_relu, dx, dy, x, {s, 0, 0}, n);                                \
  }                                                                                          \
  void sigmoid_forward_cpu(T* y, const T* x, int64_t n) {                                    \
    act_forward(ActOp::sigmoid, y, x, kNoArgs, n);                                           \
  }                                                                                          \
  void sigmoid_backward_cpu(T* dx, const T* dy, const T* y, int64_t n) {                     \
    act_backward(ActOp::sigmoid, dx, dy, y, kNoArgs, n);                                     \
  }                                                                                          \
  void tanh_forward_cpu(T* y, const T* x, int64_t n) {                                       \
    act_forward(ActOp::tanh, y, x, kNoArgs, n);                                              \
  }                                                                                          \
  void tanh_backward_cpu(T* dx, const T* dy, const T* y, int64_t n) {                        \
    act_backward(ActOp::tanh, dx, dy, y, kNoArgs, n);                                        \
  }                                                                                          \
  void gelu_forward_cpu(T* y, const T* x, GeluApprox a, int64_t n) {                         \
    act_forward(gelu_op(a), y, x, kNoArgs, n);                                               \
  }                                                                                          \
  void gelu_backward_cpu(T* dx, const T* dy, const T* x, GeluApprox a, int64_t n) {          \
    act_backward(gelu_op(a), dx, dy, x, kNoArgs, n);                                         \
  }                                                                                          \
  void softmax_forward_cpu(T* y, const T* x, int64_t outer, int64_t n, int64_t inner) {      \
    softmax_fwd(false, y, x, {outer, n, inner});                                             \
  }                                                                                          \
  void softmax_backward_cpu(T* dx, const T* dy, const T* y, int64_t outer, int64_t n,        \
                            int64_t inner) {                                                 \
    softmax_bwd(false, dx, dy, y, {outer, n, inner});                                        \
  }                                                                                          \
  void log_softmax_forward_cpu(T* y, const T* x, int64_t outer, int64_t n, int64_t inner) {  \
    softmax_fwd(true, y, x, {outer, n, inner});                                              \
  }                                                                                          \
  void log_softmax_backward_cpu(T* dx, const T* dy, const T* y, int64_t outer, int64_t n,    \
                                int64_t inner) {                                             \
    softmax_bwd(true, dx, dy, y, {outer, n, inner});                                         \
  }                                                                                          \
  void silu_forward_cpu(T* y, const T* x, int64_t n) {                                       \
    act_forward(ActOp::silu, y, x, kNoArgs, n);                                              \
  }                                                                                          \
  void silu_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                        \
    act_backward(ActOp::silu, dx, dy, x, kNoArgs, n);                                        \
  }                                                                                          \
  void mish_forward_cpu(T* y, const T* x, int64_t n) {                                       \
    act_forward(ActOp::mish, y, x, kNoArgs, n);                                              \
  }                                                                                          \
  void mish_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                        \
    act_backward(ActOp::mish, dx, dy, x, kNoArgs, n);                                        \
  }                                                                                          \
  void softplus_forward_cpu(T* y, const T* x, double beta, double threshold, int64_t n) {    \
    act_forward(ActOp::softplus, y, x, {beta, threshold, 0}, n);                             \
  }                                                                                          \
  void softplus_backward_cpu(T* dx, const T* dy, const T* x, double beta, double threshold,  \
                             int64_t n) {                                                    \
    act_backward(ActOp::softplus, dx, dy, x, {beta, threshold, 0}, n);                       \
  }                                                                                          \
  void elu_forward_cpu(T* y, const T* x, double alpha, double scale, double input_scale,     \
                       int64_t n) {                                                          \
    act_forward(ActOp::elu, y, x, {alpha, scale, input_scale}, n);                           \
  }                                                                                          \
  void elu_backward_cpu(T* dx, const T* dy, const T* x, double alpha, double scale,          \
                        double input_scale, int64_t n) {                                     \
    act_backward(ActOp::elu, dx, dy, x, {alpha, scale, input_scale}, n);                     \
  }                                                                                          \
  void hardtanh_forward_cpu(T* y, const T* x, double min_val, double max_val, int64_t n) {   \
    act_forward(ActOp::hardtanh, y, x, {min_val, max_val, 0}, n);                            \
  }                                                                                          \
  void hardtanh_backward_cpu(T* dx, const T* dy, const T* x, double min_val, double max_val, \
                             int64_t n) {                                                    \
    act_backward(ActOp::hardtanh, dx, dy, x, {min_val, max_val, 0}, n);                      \
  }                                                                                          \
  void logsigmoid_forward_cpu(T* y, const T* x, int64_t n) {                                 \
    act_forward(ActOp::log_sigmoid, y, x, kNoArgs, n);                                       \
  }                                                                                          \
  void logsigmoid_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                  \
    act_backward(ActOp::log_sigmoid, dx, dy, x, kNoArgs, n);                                 \
  }
FASTNN_DEFINE_ACTIVATIONS(float)
FASTNN_DEFINE_ACTIVATIONS(double)
#undef FASTNN_DEFINE_ACTIVATIONS

// exp, sqrt, log, sin, cos, erf, arctan, log1p, expm1 and rsqrt: Tensor's float32 path for them
// (numpy's loops run on one core; it has no erf, and rsqrt is one pass instead of two) and erf's
// float64 one; exp, sqrt and rsqrt backward from the output y, the others from the input x.
#define FASTNN_DEFINE_MATH(T)                                                                      \
  void exp_forward_cpu(T* y, const T* x, int64_t n) { act_forward(ActOp::exp, y, x, kNoArgs, n); } \
  void exp_backward_cpu(T* dx, const T* dy, const T* y, int64_t n) {                               \
    act_backward(ActOp::exp, dx, dy, y, kNoArgs, n);                                               \
  }                                                                                                \
  void sqrt_forward_cpu(T* y, const T* x, int64_t n) {                                             \
    act_forward(ActOp::sqrt, y, x, kNoArgs, n);                                                    \
  }                                                                                                \
  void sqrt_backward_cpu(T* dx, const T* dy, const T* y, int64_t n) {                              \
    act_backward(ActOp::sqrt, dx, dy, y, kNoArgs, n);                                              \
  }                                                                                                \
  void log_forward_cpu(T* y, const T* x, int64_t n) { act_forward(ActOp::log, y, x, kNoArgs, n); } \
  void log_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                               \
    act_backward(ActOp::log, dx, dy, x, kNoArgs, n);                                               \
  }                                                                                                \
  void sin_forward_cpu(T* y, const T* x, int64_t n) { act_forward(ActOp::sin, y, x, kNoArgs, n); } \
  void sin_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                               \
    act_backward(ActOp::sin, dx, dy, x, kNoArgs, n);                                               \
  }                                                                                                \
  void cos_forward_cpu(T* y, const T* x, int64_t n) { act_forward(ActOp::cos, y, x, kNoArgs, n); } \
  void cos_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                               \
    act_backward(ActOp::cos, dx, dy, x, kNoArgs, n);                                               \
  }                                                                                                \
  void erf_forward_cpu(T* y, const T* x, int64_t n) { act_forward(ActOp::erf, y, x, kNoArgs, n); } \
  void erf_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                               \
    act_backward(ActOp::erf, dx, dy, x, kNoArgs, n);                                               \
  }                                                                                                \
  void arctan_forward_cpu(T* y, const T* x, int64_t n) {                                           \
    act_forward(ActOp::atan, y, x, kNoArgs, n);                                                    \
  }                                                                                                \
  void arctan_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                            \
    act_backward(ActOp::atan, dx, dy, x, kNoArgs, n);                                              \
  }                                                                                                \
  void log1p_forward_cpu(T* y, const T* x, int64_t n) {                                            \
    act_forward(ActOp::log1p, y, x, kNoArgs, n);                                                   \
  }                                                                                                \
  void log1p_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                             \
    act_backward(ActOp::log1p, dx, dy, x, kNoArgs, n);                                             \
  }                                                                                                \
  void expm1_forward_cpu(T* y, const T* x, int64_t n) {                                            \
    act_forward(ActOp::expm1, y, x, kNoArgs, n);                                                   \
  }                                                                                                \
  void expm1_backward_cpu(T* dx, const T* dy, const T* x, int64_t n) {                             \
    act_backward(ActOp::expm1, dx, dy, x, kNoArgs, n);                                             \
  }                                                                                                \
  void rsqrt_forward_cpu(T* y, const T* x, int64_t n) {                                            \
    act_forward(ActOp::rsqrt, y, x, kNoArgs, n);                                                   \
  }                                                                                                \
  void rsqrt_backward_cpu(T* dx, const T* dy, const T* y, int64_t n) {                             \
    act_backward(ActOp::rsqrt, dx, dy, y, kNoArgs, n);                                             \
  }
FASTNN_DEFINE_MATH(float)
FASTNN_DEFINE_MATH(double)
#undef FASTNN_DEFINE_MATH

}  // namespace fastnn
