// Creation ops made on the device with numpy's exact values, and the integer power.
//
// arange: numpy fills out[i] = v0 + i * (v1 - v0) in the dtype's own arithmetic after writing
// the first two values, so float32 ranges carry float32 rounding; linspace computes in float64
// (i * step + start, the endpoint set to stop) and casts at the end. The products and sums use
// the explicitly rounded intrinsics: a fused multiply-add would round once instead of twice and
// differ from numpy in the last bit.
#include "cuda/common.cuh"

namespace fastnn::cuda {
namespace {

__device__ __forceinline__ float arange_value(float v0, float d, int64_t i) {
  return __fadd_rn(v0, __fmul_rn(__ll2float_rn(i), d));
}
__device__ __forceinline__ double arange_value(double v0, double d, int64_t i) {
  return __dadd_rn(v0, __dmul_rn(__ll2double_rn(i), d));
}
__device__ __forceinline__ int64_t arange_value(int64_t v0, int64_t d, int64_t i) {
  // wraps like numpy's C arithmetic; unsigned so overflow is defined
  return static_cast<int64_t>(static_cast<uint64_t>(v0) +
                              static_cast<uint64_t>(i) * static_cast<uint64_t>(d));
}

template <class T>
__global__ void arange_kernel(T* out, T v0, T v1, T d, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) { out[i] = i == 0 ? v0 : (i == 1 ? v1 : arange_value(v0, d, i)); }
}

template <class T>
__device__ __forceinline__ T from_double(double y, bool floor_it) {
  if constexpr (std::is_same_v<T, bool>) {
    return y != 0.0;
  } else if constexpr (std::is_same_v<T, float>) {
    return __double2float_rn(y);
  } else if constexpr (std::is_same_v<T, double>) {
    return y;
  } else {
    return static_cast<T>(floor_it ? floor(y) : y);
  }
}

template <class T>
__global__ void linspace_kernel(T* out, double start, double stop, double delta, double step,
                                int64_t div, bool step_zero, bool endpoint, bool floor_it,
                                int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    const double fi = __ll2double_rn(i);
    double y =
        step_zero ? __dmul_rn(__ddiv_rn(fi, __ll2double_rn(div)), delta) : __dmul_rn(fi, step);
    y = __dadd_rn(y, start);
    if (endpoint && n > 1 && i == n - 1) y = stop;
    out[i] = from_double<T>(y, floor_it);
  }
}

__device__ __forceinline__ int64_t ipow(int64_t a, int64_t b) {
  // square-and-multiply modulo 2^64: the same wrapped value numpy's int64 loop produces
  uint64_t r = 1, x = static_cast<uint64_t>(a);
  for (; b > 0; b >>= 1) {
    if (b & 1) r *= x;
    x *= x;
  }
  return static_cast<int64_t>(r);
}

__global__ void int_pow_kernel(int64_t* out, const int64_t* a, Strides sa, const int64_t* b,
                               Strides sb, Shape shape, int64_t n) {
  FASTNN_KERNEL_LOOP(t, n) {
    int64_t rest = t, oa = 0, ob = 0;
    for (int d = shape.ndim - 1; d >= 0; --d) {
      const int64_t i = rest % shape.d[d];
      rest /= shape.d[d];
      oa += i * sa.s[d];
      ob += i * sb.s[d];
    }
    out[t] = ipow(a[oa], b[ob]);
  }
}

__global__ void any_negative_kernel(int* flag, const int64_t* x, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    if (x[i] < 0) *flag = 1;  // a benign race: every writer stores the same value
  }
}

}  // namespace

void arange_cuda(DType dt, void* out, double v0, double v1, int64_t v0_i, int64_t v1_i, int64_t n) {
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  switch (dt) {
    case DType::f32: {
      const float a = static_cast<float>(v0), b = static_cast<float>(v1);
      arange_kernel<float>
          <<<grid, kThreads, 0, current_stream()>>>(static_cast<float*>(out), a, b, b - a, n);
      break;
    }
    case DType::f64:
      arange_kernel<double>
          <<<grid, kThreads, 0, current_stream()>>>(static_cast<double*>(out), v0, v1, v1 - v0, n);
      break;
    case DType::i64: {
      const int64_t d =
          static_cast<int64_t>(static_cast<uint64_t>(v1_i) - static_cast<uint64_t>(v0_i));
      arange_kernel<int64_t>
          <<<grid, kThreads, 0, current_stream()>>>(static_cast<int64_t*>(out), v0_i, v1_i, d, n);
      break;
    }
    default:
      FASTNN_CHECK(false, "arange: expected float32, float64 or int64, got ", dtype_name(dt));
  }
  FASTNN_CUDA_CHECK_LAUNCH();
}

void linspace_cuda(DType dt, void* out, double start, double stop, double delta, double step,
                   int64_t div, bool step_zero, bool endpoint, int64_t n) {
  if (n <= 0) return;
  FASTNN_CHECK(!step_zero || div > 0, "linspace: a zero step needs a positive divisor");
  const bool floor_it = dt == DType::i64 || dt == DType::i32 || dt == DType::u8;
  dispatch_all(dt, [&](auto tag) {
    using T = decltype(tag);
    linspace_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<T*>(out), start, stop, delta, step, div, step_zero, endpoint, floor_it, n);
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

void int_pow_cuda(void* out, const void* a, const Strides& sa, const void* b, const Strides& sb,
                  const Shape& shape) {
  int64_t n = 1;
  for (int d = 0; d < shape.ndim; ++d) n *= shape.d[d];
  if (n <= 0) return;
  int_pow_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(
      static_cast<int64_t*>(out), static_cast<const int64_t*>(a), sa,
      static_cast<const int64_t*>(b), sb, shape, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

bool any_negative_cuda(const int64_t* x, int64_t n) {
  if (n <= 0) return false;
  Workspace ws(sizeof(int));
  int* flag = ws.as<int>();
  FASTNN_CUDA_CHECK(cudaMemsetAsync(flag, 0, sizeof(int), current_stream()));
  any_negative_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(flag, x, n);
  FASTNN_CUDA_CHECK_LAUNCH();
  int host = 0;
  FASTNN_CUDA_CHECK(
      cudaMemcpyAsync(&host, flag, sizeof host, cudaMemcpyDeviceToHost, current_stream()));
  FASTNN_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
  return host != 0;
}

}  // namespace fastnn::cuda
