// Dropout on the GPU. Forward: one launch draws the Philox words and writes y and the uint8 mask;
// backward: one pass of dy * mask * scale. The per-element rule (which word an element reads, the
// threshold, the product) is csrc/dropout_math.h, the one the CPU kernel runs, so a (seed,
// offset) gives the same mask on both devices, whatever the launch geometry.
// A thread handles one Philox counter at a time: 4 floats or 2 doubles, 16 bytes, moved as one
// vector load and store when x and y are 16-byte aligned (allocator blocks are; views may not
// be), with the counter's mask bytes as one 4- or 2-byte store. The partial last counter and
// unaligned arrays take the scalar path.
#include "cuda/common.cuh"
#include "cuda/philox.h"
#include "dropout_math.h"

namespace fastnn::cuda {
namespace {

template <class T>
constexpr int kPer = sizeof(T) == 4 ? 4 : 2;  // elements per counter and per 16-byte vector

template <class T>
struct Vec16;
template <>
struct Vec16<float> {
  using type = float4;
  using mask_type = uchar4;
};
template <>
struct Vec16<double> {
  using type = double2;
  using mask_type = uchar2;
};

__device__ __forceinline__ void apply_vec(float4& v, const uint8_t* k, float s) {
  v.x = dropout::apply(v.x, k[0], s);
  v.y = dropout::apply(v.y, k[1], s);
  v.z = dropout::apply(v.z, k[2], s);
  v.w = dropout::apply(v.w, k[3], s);
}
__device__ __forceinline__ void apply_vec(double2& v, const uint8_t* k, double s) {
  v.x = dropout::apply(v.x, k[0], s);
  v.y = dropout::apply(v.y, k[1], s);
}

__device__ __forceinline__ uchar4 pack_mask(const uint8_t* k, uchar4*) {
  return make_uchar4(k[0], k[1], k[2], k[3]);
}
__device__ __forceinline__ uchar2 pack_mask(const uint8_t* k, uchar2*) {
  return make_uchar2(k[0], k[1]);
}
__device__ __forceinline__ void unpack_mask(uchar4 m, uint8_t* k) {
  k[0] = m.x, k[1] = m.y, k[2] = m.z, k[3] = m.w;
}
__device__ __forceinline__ void unpack_mask(uchar2 m, uint8_t* k) { k[0] = m.x, k[1] = m.y; }

// drop_all (p == 1): every keep bit is 0, which threshold 2^32 would say but cannot hold.
template <class T, bool kAligned>
__global__ void dropout_kernel(T* y, uint8_t* mask, const T* x, int64_t n, uint32_t threshold,
                               bool drop_all, T scale, uint64_t seed, uint64_t offset) {
  constexpr int per = kPer<T>;
  using V = typename Vec16<T>::type;
  using M = typename Vec16<T>::mask_type;
  const int64_t full = n / per;  // counters whose elements all lie inside
  FASTNN_KERNEL_LOOP(b, ceil_div_d(n, per)) {
    const philox::U32x4 w = philox::philox_block(seed, offset, static_cast<uint64_t>(b));
    uint8_t k[per];
#pragma unroll
    for (int e = 0; e < per; ++e)
      k[e] = drop_all
                 ? uint8_t{0}
                 : static_cast<uint8_t>(dropout::keep(w.x[dropout::word_of(per, e)], threshold));
    if (kAligned && b < full) {
      V v = reinterpret_cast<const V*>(x)[b];
      apply_vec(v, k, scale);
      reinterpret_cast<V*>(y)[b] = v;
      if (mask) reinterpret_cast<M*>(mask)[b] = pack_mask(k, static_cast<M*>(nullptr));
    } else {
#pragma unroll
      for (int e = 0; e < per; ++e) {
        const int64_t i = b * per + e;
        if (i < n) {
          y[i] = dropout::apply(x[i], k[e], scale);
          if (mask) mask[i] = k[e];
        }
      }
    }
  }
}

template <class T, bool kAligned>
__global__ void dropout_backward_kernel(T* dx, const T* dy, const uint8_t* mask, T scale,
                                        int64_t n) {
  constexpr int per = kPer<T>;
  using V = typename Vec16<T>::type;
  using M = typename Vec16<T>::mask_type;
  const int64_t full = n / per;
  FASTNN_KERNEL_LOOP(b, ceil_div_d(n, per)) {
    if (kAligned && b < full) {
      uint8_t k[per];
      unpack_mask(reinterpret_cast<const M*>(mask)[b], k);
      V v = reinterpret_cast<const V*>(dy)[b];
      apply_vec(v, k, scale);
      reinterpret_cast<V*>(dx)[b] = v;
    } else {
#pragma unroll
      for (int e = 0; e < per; ++e) {
        const int64_t i = b * per + e;
        if (i < n) dx[i] = dropout::apply(dy[i], mask[i], scale);
      }
    }
  }
}

bool aligned(const void* p, unsigned bytes) {
  return reinterpret_cast<std::uintptr_t>(p) % bytes == 0;
}

}  // namespace

void dropout_forward_cuda(DType dt, void* y, uint8_t* mask, const void* x, int64_t n, double p,
                          uint64_t seed, uint64_t offset) {
  FASTNN_CHECK(p >= 0.0 && p <= 1.0, "dropout: p must be in [0, 1], got ", p);
  if (n == 0) return;
  const bool drop_all = p >= 1.0;
  const uint32_t threshold = drop_all ? 0u : dropout::threshold(p);
  dispatch_float(dt, "dropout", [&](auto tag) {
    using T = decltype(tag);
    constexpr int per = kPer<T>;
    const unsigned grid = grid_for(ceil_div(n, per));
    const T scale = static_cast<T>(dropout::scale(p));
    const bool vec = aligned(x, 16) && aligned(y, 16) && (mask == nullptr || aligned(mask, per));
    auto launch = [&](auto kernel) {
      kernel<<<grid, kThreads, 0, current_stream()>>>(static_cast<T*>(y), mask,
                                                      static_cast<const T*>(x), n, threshold,
                                                      drop_all, scale, seed, offset);
    };
    if (vec)
      launch(dropout_kernel<T, true>);
    else
      launch(dropout_kernel<T, false>);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

void dropout_backward_cuda(DType dt, void* dx, const void* dy, const uint8_t* mask, double p,
                           int64_t n) {
  FASTNN_CHECK(p >= 0.0 && p <= 1.0, "dropout_backward: p must be in [0, 1], got ", p);
  if (n == 0) return;
  dispatch_float(dt, "dropout_backward", [&](auto tag) {
    using T = decltype(tag);
    constexpr int per = kPer<T>;
    const unsigned grid = grid_for(ceil_div(n, per));
    const T scale = static_cast<T>(dropout::scale(p));
    const bool vec = aligned(dx, 16) && aligned(dy, 16) && aligned(mask, per);
    auto launch = [&](auto kernel) {
      kernel<<<grid, kThreads, 0, current_stream()>>>(static_cast<T*>(dx),
                                                      static_cast<const T*>(dy), mask, scale, n);
    };
    if (vec)
      launch(dropout_backward_kernel<T, true>);
    else
      launch(dropout_backward_kernel<T, false>);
  });
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
