// Elementwise CUDA kernels for the Tensor API: unary math, clamp, broadcast binary arithmetic
// and comparisons, where, fill, dtype casts and strided copies (transpose/expand/slice).
// Shapes: outputs are contiguous; broadcast inputs are read through element strides (0 for a
// broadcast dimension), so one kernel serves every numpy-style broadcast. NaN semantics follow
// torch: maximum/minimum and clamp propagate NaN. No fast-math: exp/log/pow are the IEEE ones.
#include "cuda/common.cuh"

namespace fastnn::cuda {
namespace {

// ---- scalar math ------------------------------------------------------------------------------

__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }
__device__ __forceinline__ float m_log(float x) { return logf(x); }
__device__ __forceinline__ double m_log(double x) { return log(x); }
__device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float m_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double m_log1p(double x) { return log1p(x); }
__device__ __forceinline__ float m_expm1(float x) { return expm1f(x); }
__device__ __forceinline__ double m_expm1(double x) { return expm1(x); }
__device__ __forceinline__ float m_sin(float x) { return sinf(x); }
__device__ __forceinline__ double m_sin(double x) { return sin(x); }
__device__ __forceinline__ float m_cos(float x) { return cosf(x); }
__device__ __forceinline__ double m_cos(double x) { return cos(x); }
__device__ __forceinline__ float m_floor(float x) { return floorf(x); }
__device__ __forceinline__ double m_floor(double x) { return floor(x); }
__device__ __forceinline__ float m_ceil(float x) { return ceilf(x); }
__device__ __forceinline__ double m_ceil(double x) { return ceil(x); }
__device__ __forceinline__ float m_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double m_pow(double a, double b) { return pow(a, b); }

template <class T>
__device__ __forceinline__ T unary_float(UnaryOp op, T x) {
  switch (op) {
    case UnaryOp::neg:
      return -x;
    case UnaryOp::exp:
      return m_exp(x);
    case UnaryOp::log:
      return m_log(x);
    case UnaryOp::sqrt:
      return m_sqrt(x);
    case UnaryOp::abs:
      return x < T(0) ? -x : (x == T(0) ? T(0) : x);  // abs(-0) = +0
    case UnaryOp::reciprocal:
      return T(1) / x;
    case UnaryOp::square:
      return x * x;
    case UnaryOp::sign:
      return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);  // keeps 0 and NaN
    case UnaryOp::log1p:
      return m_log1p(x);
    case UnaryOp::expm1:
      return m_expm1(x);
    case UnaryOp::sin:
      return m_sin(x);
    case UnaryOp::cos:
      return m_cos(x);
    case UnaryOp::floor:
      return m_floor(x);
    case UnaryOp::ceil:
      return m_ceil(x);
    case UnaryOp::rsqrt:
      return T(1) / m_sqrt(x);
  }
  return x;
}

__device__ __forceinline__ int64_t unary_int(UnaryOp op, int64_t x) {
  switch (op) {
    case UnaryOp::neg:
      return -x;
    case UnaryOp::abs:
      return x < 0 ? -x : x;
    case UnaryOp::square:
      return x * x;
    case UnaryOp::sign:
      return (x > 0) - (x < 0);
    default:
      return x;  // floor/ceil of an integer; the others are rejected on the host
  }
}

template <class T>
__device__ __forceinline__ T unary_op(UnaryOp op, T x) {
  if constexpr (std::is_same_v<T, int64_t>)
    return unary_int(op, x);
  else
    return unary_float(op, x);
}

template <class T>
__device__ __forceinline__ bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>)
    return x != x;
  else
    return false;
}

template <class T>
__device__ __forceinline__ T arith(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::add:
      return a + b;
    case BinaryOp::sub:
      return a - b;
    case BinaryOp::mul:
      return a * b;
    case BinaryOp::div:
      return a / b;  // floats only (checked on the host)
    case BinaryOp::pow:
      if constexpr (std::is_floating_point_v<T>)
        return m_pow(a, b);
      else
        return a;  // rejected on the host
    case BinaryOp::maximum:
      return is_nan(a) ? a : is_nan(b) ? b : (a > b ? a : b);
    case BinaryOp::minimum:
      return is_nan(a) ? a : is_nan(b) ? b : (a < b ? a : b);
    default:
      return a;
  }
}

template <class T>
__device__ __forceinline__ bool compare(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::eq:
      return a == b;
    case BinaryOp::ne:
      return a != b;
    case BinaryOp::lt:
      return a < b;
    case BinaryOp::le:
      return a <= b;
    case BinaryOp::gt:
      return a > b;
    case BinaryOp::ge:
      return a >= b;
    default:
      return false;
  }
}

// Offset of the element with contiguous index i of `shape` in a view with `strides`.
__device__ __forceinline__ int64_t strided_offset(int64_t i, const Shape& shape,
                                                  const Strides& st) {
  int64_t off = 0;
  for (int d = shape.ndim - 1; d >= 0; --d) {
    const int64_t n = shape.d[d];
    const int64_t idx = i % n;
    i /= n;
    off += idx * st.s[d];
  }
  return off;
}

// ---- kernels ------------------------------------------------------------------------------------

template <class T>
__global__ void unary_kernel(UnaryOp op, T* out, const T* x, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) out[i] = unary_op(op, x[i]);
}

template <class T>
__global__ void clamp_kernel(T* out, const T* x, T lo, T hi, bool has_lo, bool has_hi, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    T v = x[i];
    if (!is_nan(v)) {
      if (has_lo && v < lo) v = lo;
      if (has_hi && v > hi) v = hi;
    }
    out[i] = v;
  }
}

// Out is T (arithmetic) or bool (comparisons); Contig: both inputs contiguous of out's shape.
template <class T, class Out, bool Contig>
__global__ void binary_kernel(BinaryOp op, Out* out, const T* a, Strides sa, const T* b, Strides sb,
                              Shape shape, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    T x, y;
    if constexpr (Contig) {
      x = a[i];
      y = b[i];
    } else {
      x = a[strided_offset(i, shape, sa)];
      y = b[strided_offset(i, shape, sb)];
    }
    if constexpr (std::is_same_v<Out, bool>)
      out[i] = compare(op, x, y);
    else
      out[i] = arith(op, x, y);
  }
}

template <class T, class Out>
__global__ void binary_scalar_kernel(BinaryOp op, Out* out, const T* a, T s, bool scalar_first,
                                     int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    const T x = scalar_first ? s : a[i];
    const T y = scalar_first ? a[i] : s;
    if constexpr (std::is_same_v<Out, bool>)
      out[i] = compare(op, x, y);
    else
      out[i] = arith(op, x, y);
  }
}

template <class T>
__global__ void where_kernel(T* out, const bool* c, Strides sc, const T* a, Strides sa, const T* b,
                             Strides sb, Shape shape, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    out[i] = c[strided_offset(i, shape, sc)] ? a[strided_offset(i, shape, sa)]
                                             : b[strided_offset(i, shape, sb)];
  }
}

template <class T>
__global__ void fill_kernel(T* out, T v, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) out[i] = v;
}

template <class To, class From>
__global__ void cast_kernel(To* out, const From* in, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    if constexpr (std::is_same_v<To, bool>)
      out[i] = in[i] != From(0);
    else
      out[i] = static_cast<To>(in[i]);
  }
}

template <class T>
__global__ void copy_strided_kernel(T* out, const T* in, Strides st, Shape shape, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) out[i] = in[strided_offset(i, shape, st)];
}

// ---- launchers ----------------------------------------------------------------------------------

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int d = 0; d < s.ndim; ++d) n *= s.d[d];
  return n;
}

bool contiguous(const Strides& st, const Shape& s) {
  int64_t expect = 1;
  for (int d = s.ndim - 1; d >= 0; --d) {
    if (s.d[d] != 1 && st.s[d] != expect) return false;
    expect *= s.d[d];
  }
  return true;
}

bool int_ok(UnaryOp op) {
  return op == UnaryOp::neg || op == UnaryOp::abs || op == UnaryOp::square || op == UnaryOp::sign ||
         op == UnaryOp::floor || op == UnaryOp::ceil;
}

}  // namespace

void unary_cuda(UnaryOp op, DType dt, void* out, const void* x, int64_t n) {
  FASTNN_CHECK(is_float(dt) || (dt == DType::i64 && int_ok(op)),
               "unary op: this operation needs a float32 or float64 array, got ", dtype_name(dt));
  if (n == 0) return;
  dispatch_numeric(dt, "unary op", [&](auto tag) {
    using T = decltype(tag);
    unary_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(op, static_cast<T*>(out),
                                                                    static_cast<const T*>(x), n);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void clamp_cuda(DType dt, void* out, const void* x, const double* lo, const double* hi, int64_t n) {
  if (n == 0) return;
  dispatch_numeric(dt, "clamp", [&](auto tag) {
    using T = decltype(tag);
    const T l = lo ? static_cast<T>(*lo) : T(0), h = hi ? static_cast<T>(*hi) : T(0);
    clamp_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<T*>(out), static_cast<const T*>(x), l, h, lo != nullptr, hi != nullptr, n);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void binary_cuda(BinaryOp op, DType dt, void* out, const void* a, const Strides& sa, const void* b,
                 const Strides& sb, const Shape& shape) {
  FASTNN_CHECK(is_float(dt) || (op != BinaryOp::div && op != BinaryOp::pow),
               "binary op: div and pow need float32 or float64 arrays, got ", dtype_name(dt));
  const int64_t n = numel(shape);
  if (n == 0) return;
  const bool contig = contiguous(sa, shape) && contiguous(sb, shape);
  dispatch_numeric(dt, "binary op", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a);
    const T* pb = static_cast<const T*>(b);
    if (is_comparison(op)) {
      bool* po = static_cast<bool*>(out);
      if (contig)
        binary_kernel<T, bool, true>
            <<<grid_for(n), kThreads, 0, current_stream()>>>(op, po, pa, sa, pb, sb, shape, n);
      else
        binary_kernel<T, bool, false>
            <<<grid_for(n), kThreads, 0, current_stream()>>>(op, po, pa, sa, pb, sb, shape, n);
    } else {
      T* po = static_cast<T*>(out);
      if (contig)
        binary_kernel<T, T, true>
            <<<grid_for(n), kThreads, 0, current_stream()>>>(op, po, pa, sa, pb, sb, shape, n);
      else
        binary_kernel<T, T, false>
            <<<grid_for(n), kThreads, 0, current_stream()>>>(op, po, pa, sa, pb, sb, shape, n);
    }
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void binary_scalar_cuda(BinaryOp op, DType dt, void* out, const void* a, double s,
                        bool scalar_first, int64_t n) {
  FASTNN_CHECK(is_float(dt) || (op != BinaryOp::div && op != BinaryOp::pow),
               "binary op: div and pow need float32 or float64 arrays, got ", dtype_name(dt));
  if (n == 0) return;
  dispatch_numeric(dt, "binary op", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a);
    if (is_comparison(op))
      binary_scalar_kernel<T, bool><<<grid_for(n), kThreads, 0, current_stream()>>>(
          op, static_cast<bool*>(out), pa, static_cast<T>(s), scalar_first, n);
    else
      binary_scalar_kernel<T, T><<<grid_for(n), kThreads, 0, current_stream()>>>(
          op, static_cast<T*>(out), pa, static_cast<T>(s), scalar_first, n);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void where_cuda(DType dt, void* out, const void* cond, const Strides& sc, const void* a,
                const Strides& sa, const void* b, const Strides& sb, const Shape& shape) {
  const int64_t n = numel(shape);
  if (n == 0) return;
  dispatch_numeric(dt, "where", [&](auto tag) {
    using T = decltype(tag);
    where_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<T*>(out), static_cast<const bool*>(cond), sc, static_cast<const T*>(a), sa,
        static_cast<const T*>(b), sb, shape, n);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void fill_cuda(DType dt, void* out, double value, int64_t value_i, int64_t n) {
  if (n == 0) return;
  dispatch_all(dt, [&](auto tag) {
    using T = decltype(tag);
    T v;
    if constexpr (std::is_same_v<T, bool>)
      v = value != 0.0 || value_i != 0;
    else if constexpr (std::is_floating_point_v<T>)
      v = static_cast<T>(value);
    else
      v = static_cast<T>(value_i);
    fill_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(static_cast<T*>(out), v, n);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void cast_cuda(DType out_dt, DType in_dt, void* out, const void* in, int64_t n) {
  if (n == 0) return;
  dispatch_all(out_dt, [&](auto to_tag) {
    using To = decltype(to_tag);
    dispatch_all(in_dt, [&](auto from_tag) {
      using From = decltype(from_tag);
      cast_kernel<To, From><<<grid_for(n), kThreads, 0, current_stream()>>>(
          static_cast<To*>(out), static_cast<const From*>(in), n);
    });
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void copy_strided_cuda(int64_t elem_size, void* out, const void* in, const Strides& strides,
                       const Shape& shape) {
  const int64_t n = numel(shape);
  if (n == 0) return;
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    copy_strided_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<T*>(out), static_cast<const T*>(in), strides, shape, n);
  };
  switch (elem_size) {
    case 1:
      launch(uint8_t{});
      break;
    case 4:
      launch(uint32_t{});
      break;
    case 8:
      launch(uint64_t{});
      break;
    default:
      FASTNN_CHECK(false, "copy_strided: unsupported element size ", elem_size);
  }
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
