// Elementwise CUDA kernels for the Tensor API: unary math, clamp, broadcast binary arithmetic
// and comparisons, where, fill, dtype casts and strided copies (transpose/expand/slice).
// Shapes: outputs are contiguous; broadcast inputs are read through element strides (0 for a
// broadcast dimension), so one kernel serves every numpy-style broadcast. Contiguous operands run
// the 16-byte vector loops of vec_map.cuh; strided ones are first planned (size-1 dims dropped,
// contiguous runs merged: csrc/strided_index.h), and a plan that reduces to one contiguous run
// takes the vector loop too. NaN semantics follow torch: maximum/minimum and clamp propagate NaN.
// No fast-math: exp/log/pow are the IEEE ones.
#include "cuda/common.cuh"
#include "cuda/vec_map.cuh"

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

// ---- functors for the maps of vec_map.cuh ----------------------------------------------------

template <class T>
struct UnaryF {
  UnaryOp op;
  __device__ T operator()(T x) const { return unary_op(op, x); }
};

template <class T>
struct ClampF {
  T lo, hi;
  bool has_lo, has_hi;
  __device__ T operator()(T v) const {
    if (!is_nan(v)) {
      if (has_lo && v < lo) v = lo;
      if (has_hi && v > hi) v = hi;
    }
    return v;
  }
};

// Out is T (arithmetic) or bool (comparisons).
template <class T, class Out>
__device__ __forceinline__ Out binary_value(BinaryOp op, T x, T y) {
  if constexpr (std::is_same_v<Out, bool>)
    return compare(op, x, y);
  else
    return arith(op, x, y);
}

template <class T, class Out>
struct BinaryF {
  BinaryOp op;
  __device__ Out operator()(T x, T y) const { return binary_value<T, Out>(op, x, y); }
};

template <class T, class Out>
struct ScalarF {
  BinaryOp op;
  T s;
  bool scalar_first;
  __device__ Out operator()(T x) const {
    return scalar_first ? binary_value<T, Out>(op, s, x) : binary_value<T, Out>(op, x, s);
  }
};

template <class To, class From>
struct CastF {
  __device__ To operator()(From x) const {
    if constexpr (std::is_same_v<To, bool>)
      return x != From(0);
    else
      return static_cast<To>(x);
  }
};

template <class T>
struct CopyF {
  __device__ T operator()(T x) const { return x; }
};

// Strided functors: load(offsets) reads an element's operands, store(i, regs) writes out[i].
template <class T, class Out>
struct BinaryStrided {
  BinaryOp op;
  Out* out;
  const T* a;
  const T* b;
  struct Regs {
    T x, y;
  };
  __device__ Regs load(const int64_t (&off)[2]) const { return {a[off[0]], b[off[1]]}; }
  __device__ void store(int64_t i, const Regs& r) const {
    out[i] = binary_value<T, Out>(op, r.x, r.y);
  }
};

template <class T>
struct WhereStrided {
  T* out;
  const bool* c;
  const T* a;
  const T* b;
  struct Regs {
    T v;
  };
  __device__ Regs load(const int64_t (&off)[3]) const {
    return {c[off[0]] ? a[off[1]] : b[off[2]]};
  }
  __device__ void store(int64_t i, const Regs& r) const { out[i] = r.v; }
};

template <class T>
struct CopyStrided {
  T* out;
  const T* in;
  struct Regs {
    T v;
  };
  __device__ Regs load(const int64_t (&off)[1]) const { return {in[off[0]]}; }
  __device__ void store(int64_t i, const Regs& r) const { out[i] = r.v; }
};

// ---- launchers ----------------------------------------------------------------------------------

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int d = 0; d < s.ndim; ++d) n *= s.d[d];
  return n;
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
    map1(static_cast<T*>(out), static_cast<const T*>(x), n, UnaryF<T>{op});
  });
}

void clamp_cuda(DType dt, void* out, const void* x, const double* lo, const double* hi, int64_t n) {
  if (n == 0) return;
  dispatch_numeric(dt, "clamp", [&](auto tag) {
    using T = decltype(tag);
    const T l = lo ? static_cast<T>(*lo) : T(0), h = hi ? static_cast<T>(*hi) : T(0);
    map1(static_cast<T*>(out), static_cast<const T*>(x), n,
         ClampF<T>{l, h, lo != nullptr, hi != nullptr});
  });
}

void binary_cuda(BinaryOp op, DType dt, void* out, const void* a, const Strides& sa, const void* b,
                 const Strides& sb, const Shape& shape) {
  FASTNN_CHECK(is_float(dt) || (op != BinaryOp::div && op != BinaryOp::pow),
               "binary op: div and pow need float32 or float64 arrays, got ", dtype_name(dt));
  const int64_t n = numel(shape);
  if (n == 0) return;
  const IndexPlan<2> plan = plan_for<2>(shape, {&sa, &sb});
  dispatch_numeric(dt, "binary op", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a);
    const T* pb = static_cast<const T*>(b);
    auto run = [&](auto* po) {
      using Out = std::remove_pointer_t<decltype(po)>;
      if (plan.contiguous())
        map2(po, pa, pb, n, BinaryF<T, Out>{op});
      else
        launch_strided(plan, n, BinaryStrided<T, Out>{op, po, pa, pb});
    };
    if (is_comparison(op))
      run(static_cast<bool*>(out));
    else
      run(static_cast<T*>(out));
  });
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
      map1(static_cast<bool*>(out), pa, n, ScalarF<T, bool>{op, static_cast<T>(s), scalar_first});
    else
      map1(static_cast<T*>(out), pa, n, ScalarF<T, T>{op, static_cast<T>(s), scalar_first});
  });
}

void where_cuda(DType dt, void* out, const void* cond, const Strides& sc, const void* a,
                const Strides& sa, const void* b, const Strides& sb, const Shape& shape) {
  const int64_t n = numel(shape);
  if (n == 0) return;
  const IndexPlan<3> plan = plan_for<3>(shape, {&sc, &sa, &sb});
  dispatch_numeric(dt, "where", [&](auto tag) {
    using T = decltype(tag);
    launch_strided(plan, n,
                   WhereStrided<T>{static_cast<T*>(out), static_cast<const bool*>(cond),
                                   static_cast<const T*>(a), static_cast<const T*>(b)});
  });
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
    fill_contiguous(static_cast<T*>(out), v, n);
  });
}

void cast_cuda(DType out_dt, DType in_dt, void* out, const void* in, int64_t n) {
  if (n == 0) return;
  dispatch_all(out_dt, [&](auto to_tag) {
    using To = decltype(to_tag);
    dispatch_all(in_dt, [&](auto from_tag) {
      using From = decltype(from_tag);
      map1(static_cast<To*>(out), static_cast<const From*>(in), n, CastF<To, From>{});
    });
  });
}

void copy_strided_cuda(int64_t elem_size, void* out, const void* in, const Strides& strides,
                       const Shape& shape) {
  const int64_t n = numel(shape);
  if (n == 0) return;
  const IndexPlan<1> plan = plan_for<1>(shape, {&strides});
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    T* po = static_cast<T*>(out);
    const T* pi = static_cast<const T*>(in);
    if (plan.contiguous())
      map1(po, pi, n, CopyF<T>{});
    else
      launch_strided(plan, n, CopyStrided<T>{po, pi});
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
}

}  // namespace fastnn::cuda
