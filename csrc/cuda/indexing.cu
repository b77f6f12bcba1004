// Gathers and scatters through integer index arrays: numpy's advanced indexing (x[idx],
// x[mask] once the mask is turned into coordinates, x[idx] = v), take_along_axis / scatter and
// the embedding lookup, all through one IndexView (fastnn_cuda.h).
//
// The index-add (the backward of every gather) is deterministic: a float sum depends on its
// order, so atomics would make gradients differ run to run. Instead the (destination, position)
// pairs are radix-sorted by destination (a stable sort keeps positions in order within a
// destination), and the first pair of each run of equal destinations sums the run sequentially.
// That is numpy's np.add.at order, so float32 and float64 results equal the CPU backend's bit for
// bit. A destination hit by many positions is summed by one thread (a skewed index array is slow,
// never wrong).
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include "cuda/common.cuh"

namespace fastnn::cuda {
namespace {

// The view's element for iteration index t (and the offset of t read through `other`, for the
// value of a scatter); false when an index is out of range after the negative wrap.
template <bool kOther>
__device__ __forceinline__ bool view_offset(const IndexView& v, int64_t t, int64_t& off,
                                            const Strides& other, int64_t& other_off) {
  int64_t o = v.offset, oo = 0;
  int64_t io[kMaxDims];
#pragma unroll
  for (int j = 0; j < kMaxDims; ++j) io[j] = 0;
#pragma unroll
  for (int d = kMaxDims - 1; d >= 0; --d) {
    if (d < v.shape.ndim) {
      const int64_t n = v.shape.d[d];
      const int64_t i = t % n;
      t /= n;
      o += i * v.strides.s[d];
      if (kOther) oo += i * other.s[d];
#pragma unroll
      for (int j = 0; j < kMaxDims; ++j)
        if (j < v.n_idx) io[j] += i * v.idx_strides[j].s[d];
    }
  }
  bool ok = true;
#pragma unroll
  for (int j = 0; j < kMaxDims; ++j) {
    if (j < v.n_idx) {
      int64_t k = v.idx[j][io[j]];
      if (k < 0) k += v.axis_size[j];
      ok = ok && k >= 0 && k < v.axis_size[j];
      o += k * v.axis_stride[j];
    }
  }
  off = o;
  other_off = oo;
  return ok;
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int d = 0; d < s.ndim; ++d) n *= s.d[d];
  return n;
}

// ---- bounds check ----

__global__ void bad_index_kernel(unsigned long long* first, const int64_t* idx, int64_t n,
                                 int64_t size, bool allow_negative) {
  FASTNN_KERNEL_LOOP(p, n) {
    const int64_t k = idx[p];
    const bool bad = allow_negative ? (k < -size || k >= size) : (k < 0 || k >= size);
    if (bad) atomicMin(first, static_cast<unsigned long long>(p));
  }
}

// ---- gather / scatter ----

template <class E>
__global__ void gather_kernel(E* out, const E* src, IndexView v, int64_t n) {
  const Strides none{};
  FASTNN_KERNEL_LOOP(t, n) {
    int64_t off, unused;
    out[t] = view_offset<false>(v, t, off, none, unused) ? src[off] : E(0);
  }
}

template <class E>
__global__ void scatter_kernel(E* dst, const E* value, Strides vs, IndexView v, int64_t n) {
  FASTNN_KERNEL_LOOP(t, n) {
    int64_t off, voff;
    if (view_offset<true>(v, t, off, vs, voff)) dst[off] = value[voff];
  }
}

template <class F>
void by_element_size(int64_t elem_size, const char* fn, F&& f) {
  switch (elem_size) {
    case 1:
      f(uint8_t{});
      return;
    case 4:
      f(uint32_t{});
      return;
    case 8:
      f(uint64_t{});
      return;
    default:
      FASTNN_CHECK(false, fn, ": unsupported element size ", elem_size);
  }
}

// ---- deterministic index-add ----

// key[t] = the destination of element t (or `sentinel` when its index is out of range), pos[t]
// = t.
__global__ void add_keys_kernel(uint64_t* key, int64_t* pos, IndexView v, int64_t n,
                                int64_t dst_numel) {
  const Strides none{};
  FASTNN_KERNEL_LOOP(t, n) {
    int64_t off, unused;
    const bool ok = view_offset<false>(v, t, off, none, unused) && off >= 0 && off < dst_numel;
    key[t] = static_cast<uint64_t>(ok ? off : dst_numel);
    pos[t] = t;
  }
}

template <class T>
__global__ void add_runs_kernel(T* dst, const T* src, const uint64_t* key, const int64_t* pos,
                                int64_t n, uint64_t sentinel, bool scale_by_count) {
  FASTNN_KERNEL_LOOP(t, n) {
    const uint64_t k = key[t];
    if (k == sentinel || (t > 0 && key[t - 1] == k)) continue;  // not the head of a run
    T acc = dst[k];
    int64_t s = t;
    for (; s < n && key[s] == k; ++s) acc += src[pos[s]];
    const int64_t count = s - t;
    if (scale_by_count && count > 1) acc *= T(1) / T(count);
    dst[k] = acc;
  }
}

// CUB treats a null scratch pointer as a size query: never hand it an empty (null) block.
int64_t scratch_bytes(size_t cub_bytes) {
  return cub_bytes > 0 ? static_cast<int64_t>(cub_bytes) : 1;
}

int bits_for(uint64_t v) {
  int b = 0;
  while (v) {
    ++b;
    v >>= 1;
  }
  return b < 1 ? 1 : b;
}

// ---- nonzero ----

__global__ void flags_kernel(int64_t* flags, const bool* mask, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) flags[i] = mask[i] ? 1 : 0;
}

// incl: the inclusive prefix count of the mask; entry i (when set) goes to row incl[i] - 1.
__global__ void coords_kernel(int64_t* coords, const bool* mask, const int64_t* incl, Shape shape,
                              int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    if (!mask[i]) continue;
    int64_t* row = coords + (incl[i] - 1) * shape.ndim;
    int64_t rest = i;
    for (int d = shape.ndim - 1; d >= 0; --d) {
      row[d] = rest % shape.d[d];
      rest /= shape.d[d];
    }
  }
}

}  // namespace

BadIndex first_bad_index_cuda(int n_arrays, const int64_t* const* idx, const int64_t* numel,
                              const int64_t* size, bool allow_negative) {
  BadIndex r;
  if (n_arrays <= 0) return r;
  FASTNN_CHECK(n_arrays <= kMaxDims, "index check: at most ", kMaxDims, " index arrays");
  Workspace ws(n_arrays * static_cast<int64_t>(sizeof(unsigned long long)));
  auto* first = ws.as<unsigned long long>();
  // all bits set = "no bad entry" (larger than any position)
  FASTNN_CUDA_CHECK(
      cudaMemsetAsync(first, 0xff, n_arrays * sizeof(unsigned long long), current_stream()));
  for (int j = 0; j < n_arrays; ++j) {
    if (numel[j] <= 0) continue;
    bad_index_kernel<<<grid_for(numel[j]), kThreads, 0, current_stream()>>>(
        first + j, idx[j], numel[j], size[j], allow_negative);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  unsigned long long host[kMaxDims];
  FASTNN_CUDA_CHECK(cudaMemcpyAsync(host, first, n_arrays * sizeof(unsigned long long),
                                    cudaMemcpyDeviceToHost, current_stream()));
  FASTNN_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
  for (int j = 0; j < n_arrays; ++j) {
    if (host[j] == ~0ULL) continue;
    r.array = j;
    r.position = static_cast<int64_t>(host[j]);
    FASTNN_CUDA_CHECK(cudaMemcpyAsync(&r.value, idx[j] + r.position, sizeof(int64_t),
                                      cudaMemcpyDeviceToHost, current_stream()));
    FASTNN_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
    break;
  }
  return r;
}

void index_gather_cuda(int64_t elem_size, void* out, const void* src, const IndexView& v) {
  const int64_t n = numel(v.shape);
  if (n == 0) return;
  by_element_size(elem_size, "index_gather", [&](auto tag) {
    using E = decltype(tag);
    gather_kernel<E><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<E*>(out), static_cast<const E*>(src), v, n);
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

void index_scatter_cuda(int64_t elem_size, void* dst, const void* value,
                        const Strides& value_strides, const IndexView& v) {
  const int64_t n = numel(v.shape);
  if (n == 0) return;
  by_element_size(elem_size, "index_scatter", [&](auto tag) {
    using E = decltype(tag);
    scatter_kernel<E><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<E*>(dst), static_cast<const E*>(value), value_strides, v, n);
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

void index_add_cuda(DType dt, void* dst, int64_t dst_numel, const void* src, const IndexView& v,
                    bool scale_by_count) {
  const int64_t n = numel(v.shape);
  if (n == 0 || dst_numel == 0) return;
  // keys / positions, their sorted copies, then CUB's scratch
  Workspace keys_ws(2 * n * static_cast<int64_t>(sizeof(uint64_t)));
  Workspace pos_ws(2 * n * static_cast<int64_t>(sizeof(int64_t)));
  uint64_t* key_in = keys_ws.as<uint64_t>();
  uint64_t* key_out = key_in + n;
  int64_t* pos_in = pos_ws.as<int64_t>();
  int64_t* pos_out = pos_in + n;
  add_keys_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(key_in, pos_in, v, n, dst_numel);
  FASTNN_CUDA_CHECK_LAUNCH();
  const int end_bit = bits_for(static_cast<uint64_t>(dst_numel));  // the sentinel included
  size_t temp_bytes = 0;
  FASTNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, key_in, key_out, pos_in,
                                                    pos_out, n, 0, end_bit, current_stream()));
  Workspace temp(scratch_bytes(temp_bytes));
  FASTNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.as<void>(), temp_bytes, key_in, key_out,
                                                    pos_in, pos_out, n, 0, end_bit,
                                                    current_stream()));
  dispatch_numeric(dt, "index_add", [&](auto tag) {
    using T = decltype(tag);
    add_runs_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<T*>(dst), static_cast<const T*>(src), key_out, pos_out, n,
        static_cast<uint64_t>(dst_numel), scale_by_count);
    FASTNN_CUDA_CHECK_LAUNCH();
  });
}

int64_t count_nonzero_cuda(const bool* mask, int64_t n) {
  if (n <= 0) return 0;
  Workspace flags_ws(2 * n * static_cast<int64_t>(sizeof(int64_t)));
  int64_t* flags = flags_ws.as<int64_t>();
  int64_t* incl = flags + n;
  flags_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(flags, mask, n);
  FASTNN_CUDA_CHECK_LAUNCH();
  size_t temp_bytes = 0;
  FASTNN_CUDA_CHECK(
      cub::DeviceScan::InclusiveSum(nullptr, temp_bytes, flags, incl, n, current_stream()));
  Workspace temp(scratch_bytes(temp_bytes));
  FASTNN_CUDA_CHECK(
      cub::DeviceScan::InclusiveSum(temp.as<void>(), temp_bytes, flags, incl, n, current_stream()));
  int64_t count = 0;
  FASTNN_CUDA_CHECK(cudaMemcpyAsync(&count, incl + n - 1, sizeof count, cudaMemcpyDeviceToHost,
                                    current_stream()));
  FASTNN_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
  return count;
}

void nonzero_cuda(int64_t* coords, const bool* mask, const Shape& shape, int64_t count) {
  const int64_t n = numel(shape);
  if (n <= 0 || count <= 0) return;
  // The scan is redone rather than kept from count_nonzero_cuda: the caller allocates `coords`
  // from the count in between, and one extra pass over n flags is cheap next to that sync.
  Workspace flags_ws(2 * n * static_cast<int64_t>(sizeof(int64_t)));
  int64_t* flags = flags_ws.as<int64_t>();
  int64_t* incl = flags + n;
  flags_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(flags, mask, n);
  FASTNN_CUDA_CHECK_LAUNCH();
  size_t temp_bytes = 0;
  FASTNN_CUDA_CHECK(
      cub::DeviceScan::InclusiveSum(nullptr, temp_bytes, flags, incl, n, current_stream()));
  Workspace temp(scratch_bytes(temp_bytes));
  FASTNN_CUDA_CHECK(
      cub::DeviceScan::InclusiveSum(temp.as<void>(), temp_bytes, flags, incl, n, current_stream()));
  if (shape.ndim == 0) return;  // a 0-d mask has no coordinates to write
  coords_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(coords, mask, incl, shape, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
