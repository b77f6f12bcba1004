// The fastnn CUDA API: device memory, copies, and the CUDA versions of the kernels in
// csrc/cpu/fastnn_cpu.h, on raw device pointers. Plain C++ (no CUDA headers), so the binding files
// compile with the host compiler. Conventions: outputs first, then inputs, then sizes; all sizes
// and index math int64_t; contiguous row-major buffers; backward kernels overwrite their outputs.
// Every function runs on the current device and the calling thread's current stream ([note:
// stream] in common.cuh) and throws std::runtime_error on a CUDA error, std::invalid_argument on
// bad input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "contract.h"    // Reduction, GeluApprox, the optimizer options
#include "window_ops.h"  // window::Geom, the geometry of the conv and pooling kernels

namespace fastnn::cuda {

// ---- dtypes -------------------------------------------------------------------------------------
enum class DType : int { f32, f64, i64, i32, u8, b8 };

inline int64_t dtype_size(DType dt) {
  switch (dt) {
    case DType::f32:
    case DType::i32:
      return 4;
    case DType::f64:
    case DType::i64:
      return 8;
    default:
      return 1;
  }
}

inline const char* dtype_name(DType dt) {
  switch (dt) {
    case DType::f32:
      return "float32";
    case DType::f64:
      return "float64";
    case DType::i64:
      return "int64";
    case DType::i32:
      return "int32";
    case DType::u8:
      return "uint8";
    default:
      return "bool";
  }
}

inline bool is_float(DType dt) { return dt == DType::f32 || dt == DType::f64; }

// ---- runtime (runtime.cu) ----------------------------------------------------------------------
int device_count();  // 0 when the driver or a GPU is missing (never throws)
int current_device();
void set_device(int device);
void synchronize(int device);        // waits for all work on `device`
const char* runtime_error_string();  // why device_count() is 0 ("" when it is not)
int runtime_version();
int driver_version();  // 0 without a driver
void device_name(int device, char* buf, int len);
// The calling thread's current stream on the current device, as a cudaStream_t value (0: the
// legacy default stream). Each host thread has one current stream per device.
std::uintptr_t get_current_stream();
void set_current_stream(std::uintptr_t stream);

void copy_host_to_device(void* dst, const void* src, int64_t bytes);    // synchronous
void copy_device_to_host(void* dst, const void* src, int64_t bytes);    // synchronous
void copy_device_to_device(void* dst, const void* src, int64_t bytes);  // stream-ordered
// The device of a device (or managed) pointer, or -1 for host memory / unknown pointers.
int pointer_device(const void* ptr);
// Makes fastnn's current stream wait for work queued on `stream` (a stream number of the DLPack /
// CAI protocols: 1 legacy default, 2 per-thread default, else a cudaStream_t), or the other way
// round, so buffers exchanged through DLPack / CAI are never read early.
void current_stream_waits_for(std::uintptr_t stream);
void stream_waits_for_current(std::uintptr_t stream);
// fastnn's current stream as a protocol stream number (1 for the legacy default stream).
std::uintptr_t current_protocol_stream();

// ---- streams, events and CUDA graphs (stream.cu, graph.cu) -------------------------------------
// Streams created here come from a per-device pool (like torch's) and are never destroyed, so a
// handle the allocator recorded for a block stays valid. priority < 0 asks for the device's
// highest priority, otherwise the lowest (the default).
std::uintptr_t stream_from_pool(int device, int priority);
int stream_priority(std::uintptr_t stream);
bool stream_query(std::uintptr_t stream);        // true when all queued work has finished
void stream_synchronize(std::uintptr_t stream);  // blocks the host
void stream_wait_event(std::uintptr_t stream, std::uintptr_t event);
std::uintptr_t event_create(bool enable_timing, bool blocking);
void event_destroy(std::uintptr_t event) noexcept;
void event_record(std::uintptr_t event, std::uintptr_t stream);
bool event_query(std::uintptr_t event);
void event_synchronize(std::uintptr_t event);
float event_elapsed_ms(std::uintptr_t start, std::uintptr_t end);
// Throws a RuntimeError naming `what` when the calling thread is capturing a CUDA graph (or any
// thread captures in global mode): a host synchronization would invalidate the capture.
void check_no_host_sync(const char* what);
// Test support: blocks `stream` (a host callback that waits) until the gate is opened or
// `timeout_s` passes, so a test can hold work on a stream deterministically.
std::uintptr_t hold_stream(std::uintptr_t stream, double timeout_s);
void release_stream(std::uintptr_t gate);
// Graph capture on `stream` (not the legacy default stream); allocations of the capturing thread
// come from the private pool `pool` (pool_create). mode: 0 global, 1 thread-local, 2 relaxed.
void graph_capture_begin(std::uintptr_t stream, int64_t pool, int mode);
// Ends the capture and instantiates the graph; returns the executable graph. On failure (the
// capture was invalidated) the capture is ended, nothing is kept, and it throws.
std::uintptr_t graph_capture_end(std::uintptr_t stream);
void graph_launch(std::uintptr_t exec, std::uintptr_t stream);
void graph_destroy(std::uintptr_t exec) noexcept;
bool is_capturing();  // the calling thread is capturing

// ---- caching allocator (memory.cu) -------------------------------------------------------------
// Blocks are rounded up to a size class and returned to a per-device free list on free, so a
// training loop reaches a steady state with no cudaMalloc/cudaFree. Zero bytes -> nullptr.
void* device_malloc(int64_t bytes, int device);
// The largest request device_malloc takes (4 EiB; larger is a caller's size overflow).
constexpr int64_t kMaxAllocBytes = int64_t(1) << 62;
// Thrown by device_malloc when cudaMalloc fails even after the cache was handed back; the binding
// raises it as fastnn.cuda.OutOfMemoryError, a RuntimeError (like torch.OutOfMemoryError).
struct OutOfMemory : std::runtime_error {
  using std::runtime_error::runtime_error;
};
void device_free(void* ptr) noexcept;  // returns the block to the cache; never throws
void empty_cache();                    // cudaFree every cached (unused) block
struct MemoryStats {
  int64_t allocated = 0;  // bytes in live blocks (size-class rounded)
  int64_t reserved = 0;   // allocated + cached
  int64_t peak_allocated = 0;
  int64_t requested = 0;   // bytes asked for by live allocations (before rounding)
  int64_t num_allocs = 0;  // device_malloc calls that returned a block
  int64_t num_frees = 0;
  int64_t cache_hits = 0;    // allocations served from the cache
  int64_t cuda_mallocs = 0;  // cudaMalloc calls made
  int64_t cuda_frees = 0;
  int64_t num_ooms = 0;  // cudaMalloc failures (after a retry with an emptied cache)
};
MemoryStats memory_stats(int device);
// Stream-safe reuse ([note: stream] in common.cuh). `base` is the pointer device_malloc returned.
void record_stream(void* base, std::uintptr_t stream);  // another stream uses the block
void mark_exported(void* base);   // handed to another library: used by streams we cannot see
int64_t pool_create(int device);  // a private pool for graph capture, held by one user
void pool_retain(int64_t pool);
void pool_release(int64_t pool);       // the last release returns the pool's blocks to the cache
void allocator_note_sync(int device);  // the device was synchronized (all work finished)
int64_t pending_frees(int device);     // freed blocks waiting for other streams (for tests)
void reset_peak_memory_stats(int device);
int64_t size_class(
    int64_t bytes);  // the rounded size a request of `bytes` gets (<= kMaxAllocBytes)

// ---- elementwise (elementwise.cu) --------------------------------------------------------------
constexpr int kMaxDims = 8;
// A strided view for broadcasting: element (i0..i_{ndim-1}) lives at sum(i_k * strides[k]),
// in elements; a broadcast dimension has stride 0.
struct Strides {
  int64_t s[kMaxDims];
};
struct Shape {
  int ndim;
  int64_t d[kMaxDims];
};

enum class UnaryOp {
  neg,
  exp,
  log,
  sqrt,
  abs,
  reciprocal,
  square,
  sign,
  log1p,
  expm1,
  sin,
  cos,
  floor,
  ceil,
  rsqrt
};
enum class BinaryOp { add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge };
inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::eq; }

// out[i] = op(x[i]); neg/abs/square/sign also on int64, the others on float32/float64.
void unary_cuda(UnaryOp op, DType dt, void* out, const void* x, int64_t n);
// out = min(max(x, lo), hi) with either bound optional; NaN stays NaN (like torch.clamp).
void clamp_cuda(DType dt, void* out, const void* x, const double* lo, const double* hi, int64_t n);
// out (contiguous, `shape`) = op(a, b) with a and b read through broadcast strides.
// Comparisons write bool; the others write `dt`. dt in {f32, f64, i64}.
void binary_cuda(BinaryOp op, DType dt, void* out, const void* a, const Strides& sa, const void* b,
                 const Strides& sb, const Shape& shape);
// out[i] = op(a[i], s) (or op(s, a[i]) when scalar_first), contiguous.
void binary_scalar_cuda(BinaryOp op, DType dt, void* out, const void* a, double s,
                        bool scalar_first, int64_t n);
// out = cond ? a : b, each read through broadcast strides; cond is bool.
void where_cuda(DType dt, void* out, const void* cond, const Strides& sc, const void* a,
                const Strides& sa, const void* b, const Strides& sb, const Shape& shape);
// out[i] = value (value_i for integer dtypes, so int64 fills are exact).
void fill_cuda(DType dt, void* out, double value, int64_t value_i, int64_t n);
// out[i] = (out dtype) in[i], any pair of the six dtypes (bool: x != 0).
void cast_cuda(DType out_dt, DType in_dt, void* out, const void* in, int64_t n);
// out (contiguous, `shape`) = in read through `strides` (elements): transposes, broadcasts,
// slices. Works on any dtype by element size.
void copy_strided_cuda(int64_t elem_size, void* out, const void* in, const Strides& strides,
                       const Shape& shape);

// ---- reductions (reduce.cu) --------------------------------------------------------------------
enum class ReduceOp { sum, mean, max, min, argmax, argmin };
// in is (outer, len, inner) contiguous; out is (outer, inner). sum/max/min keep dt (int64 sums in
// int64), mean needs a float dt, argmax/argmin write int64 (first index of the extreme value;
// NaN counts as the extreme, like torch). max/min/arg* of len == 0 are rejected by the caller.
void reduce_cuda(ReduceOp op, DType dt, void* out, const void* in, int64_t outer, int64_t len,
                 int64_t inner);

// ---- activations (activations.cu) --------------------------------------------------------------
void relu_forward_cuda(DType dt, void* y, const void* x, int64_t n);
void relu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, int64_t n);
void leaky_relu_forward_cuda(DType dt, void* y, const void* x, double slope, int64_t n);
void leaky_relu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, double slope,
                              int64_t n);
void sigmoid_forward_cuda(DType dt, void* y, const void* x, int64_t n);
void sigmoid_backward_cuda(DType dt, void* dx, const void* dy, const void* y, int64_t n);
void tanh_forward_cuda(DType dt, void* y, const void* x, int64_t n);
void tanh_backward_cuda(DType dt, void* dx, const void* dy, const void* y, int64_t n);
void gelu_forward_cuda(DType dt, void* y, const void* x, GeluApprox approx, int64_t n);
void gelu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, GeluApprox approx,
                        int64_t n);
// silu, mish, softplus, elu (selu), hardtanh (relu6), logsigmoid: backward from the INPUT x.
void silu_forward_cuda(DType dt, void* y, const void* x, int64_t n);
void silu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, int64_t n);
void mish_forward_cuda(DType dt, void* y, const void* x, int64_t n);
void mish_backward_cuda(DType dt, void* dx, const void* dy, const void* x, int64_t n);
void softplus_forward_cuda(DType dt, void* y, const void* x, double beta, double threshold,
                           int64_t n);
void softplus_backward_cuda(DType dt, void* dx, const void* dy, const void* x, double beta,
                            double threshold, int64_t n);
void elu_forward_cuda(DType dt, void* y, const void* x, double alpha, double scale,
                      double input_scale, int64_t n);
void elu_backward_cuda(DType dt, void* dx, const void* dy, const void* x, double alpha,
                       double scale, double input_scale, int64_t n);
void hardtanh_forward_cuda(DType dt, void* y, const void* x, double min_val, double max_val,
                           int64_t n);
void hardtanh_backward_cuda(DType dt, void* dx, const void* dy, const void* x, double min_val,
                            double max_val, int64_t n);
void logsigmoid_forward_cuda(DType dt, void* y, const void* x, int64_t n);
void logsigmoid_backward_cuda(DType dt, void* dx, const void* dy, const void* x, int64_t n);
// Along the middle axis of x, y, dy, dx seen as contiguous (outer, n, inner) arrays (inner == 1:
// rows over the last dimension).
void softmax_forward_cuda(DType dt, void* y, const void* x, int64_t outer, int64_t n,
                          int64_t inner);
void softmax_backward_cuda(DType dt, void* dx, const void* dy, const void* y, int64_t outer,
                           int64_t n, int64_t inner);
void log_softmax_forward_cuda(DType dt, void* y, const void* x, int64_t outer, int64_t n,
                              int64_t inner);
void log_softmax_backward_cuda(DType dt, void* dx, const void* dy, const void* y, int64_t outer,
                               int64_t n, int64_t inner);

// ---- losses (softmax_cross_entropy.cu, binary_cross_entropy_with_logits.cu) -------------------
// Fused log-softmax + cross-entropy over rows of logits (N, C), PyTorch semantics.
// Exactly one of `labels` (N,) int64/int32 and `probs` (N, C) is given. weight: (C,) or null.
// loss: (N,) for Reduction::none, else one element. dlogits: (N, C) or null: the gradient of
// the (reduced) loss w.r.t. the logits (for none: of the sum of the per-row losses).
// Labels outside [0, C) other than ignore_index are found on the device and reported at the next
// synchronization as target_index_error ([note: deferred target check] in cuda/target_error.h).
void softmax_cross_entropy_forward_cuda(DType dt, void* loss, void* dlogits, const void* logits,
                                        const void* labels, DType label_dt, const void* probs,
                                        const void* weight, int64_t N, int64_t C,
                                        Reduction reduction, double label_smoothing,
                                        int64_t ignore_index);
// Binary cross-entropy with logits, elementwise over n values (last dimension C). weight: n
// values, or C values when weight_per_class, or null; pos_weight: C values or null.
// Same loss / dlogits layout as above.
void binary_cross_entropy_with_logits_forward_cuda(DType dt, void* loss, void* dlogits,
                                                   const void* logits, const void* target,
                                                   const void* weight, bool weight_per_class,
                                                   const void* pos_weight, int64_t n, int64_t C,
                                                   Reduction reduction);

// ---- optimizer steps (optim.cu): multi-tensor launches ------------------------------------------
// Same options and semantics as the CPU steps in csrc/cpu/fastnn_cpu.h (torch.optim); the
// per-element math is csrc/optim_math.h. Each call updates n_tensors tensors in place; tensor i has
// numels[i] contiguous elements in params[i], grads[i] and each state buffer. Step-dependent
// scalars are computed once per call on the host, in double. momentum_bufs may be null when
// momentum == 0.
void sgd_step_cuda(DType dt, void* const* params, void* const* momentum_bufs,
                   const void* const* grads, const int64_t* numels, int64_t n_tensors,
                   const SgdOptions& h);
void adagrad_step_cuda(DType dt, void* const* params, void* const* state_sums,
                       const void* const* grads, const int64_t* numels, int64_t n_tensors,
                       const AdagradOptions& h);
// grad_avgs: needed when centered, else null; momentum_bufs: needed when momentum > 0, else null.
void rmsprop_step_cuda(DType dt, void* const* params, void* const* square_avgs,
                       void* const* grad_avgs, void* const* momentum_bufs, const void* const* grads,
                       const int64_t* numels, int64_t n_tensors, const RmspropOptions& h);
// max_exp_avg_sqs: needed when amsgrad, else null.
void adam_step_cuda(DType dt, void* const* params, void* const* exp_avgs, void* const* exp_avg_sqs,
                    void* const* max_exp_avg_sqs, const void* const* grads, const int64_t* numels,
                    int64_t n_tensors, const AdamOptions& h);
// Adadelta, Adamax, NAdam, RAdam: two required state lists each.
void adadelta_step_cuda(DType dt, void* const* params, void* const* square_avgs,
                        void* const* acc_deltas, const void* const* grads, const int64_t* numels,
                        int64_t n_tensors, const AdadeltaOptions& h);
void adamax_step_cuda(DType dt, void* const* params, void* const* exp_avgs, void* const* exp_infs,
                      const void* const* grads, const int64_t* numels, int64_t n_tensors,
                      const AdamaxOptions& h);
void nadam_step_cuda(DType dt, void* const* params, void* const* exp_avgs, void* const* exp_avg_sqs,
                     const void* const* grads, const int64_t* numels, int64_t n_tensors,
                     const NadamOptions& h);
void radam_step_cuda(DType dt, void* const* params, void* const* exp_avgs, void* const* exp_avg_sqs,
                     const void* const* grads, const int64_t* numels, int64_t n_tensors,
                     const RadamOptions& h);

// ---- matmul (matmul.cu) ------------------------------------------------------------------------
enum class Trans { N, T };
// For each of `batch` problems: C = alpha * op(A) @ op(B) + beta * C + bias, with op(A) (M, K),
// op(B) (K, N), C (M, N) row-major; A is (M, K) or (K, M) when transposed, likewise B.
// stride_* are element strides between batch items (0 broadcasts one matrix). bias: (N,) or null.
// beta == 0 never reads C (so C may hold NaN garbage, like BLAS).
void matmul_forward_cuda(DType dt, void* c, const void* a, const void* b, const void* bias,
                         int64_t batch, int64_t M, int64_t N, int64_t K, Trans ta, Trans tb,
                         double alpha, double beta, int64_t stride_a, int64_t stride_b,
                         int64_t stride_c);
// Streaming multiprocessors of the current device (cached per device): the GEMM sizes its grid
// and K split by it (csrc/cuda/gemm_plan.h).
int multiprocessor_count();

// ---- random numbers (random.cu): Philox 4x32-10, counter based ---------------------------------
// Element i of a call draws from counter (offset + i / per_counter) under key `seed`, so results
// depend only on (seed, offset, i): reproducible and independent of the launch geometry.
void philox4x32_10_host(uint32_t out[4], const uint32_t counter[4], const uint32_t key[2]);
void uniform_cuda(DType dt, void* out, int64_t n, double low, double high, uint64_t seed,
                  uint64_t offset);
void normal_cuda(DType dt, void* out, int64_t n, double mean, double std, uint64_t seed,
                 uint64_t offset);
// dropout.cu: y = x * mask / (1 - p), the mask drawn by the rule of csrc/dropout_math.h (the CPU
// kernel's, bit for bit); mask (uint8) may be null.
void dropout_forward_cuda(DType dt, void* y, uint8_t* mask, const void* x, int64_t n, double p,
                          uint64_t seed, uint64_t offset);
void dropout_backward_cuda(DType dt, void* dx, const void* dy, const uint8_t* mask, double p,
                           int64_t n);
// Philox counters one call over n elements of dt consumes (the generator advances by this).
uint64_t philox_counters(DType dt, int64_t n);

// ---- normalization (batch_norm.cu; layer_norm.cu holds layer_norm and group_norm) -----------
// The twins of the CPU kernels in csrc/cpu/fastnn_cpu.h, same shapes and semantics: the forward
// writes y and the float64 mean / rstd it used (per channel for batch_norm, per row otherwise),
// batch_norm moving running_mean / running_var in training; weight / bias may be null; the
// backward overwrites each of dx, dweight, dbias that is not null.
void batch_norm_forward_cuda(DType dt, void* y, double* save_mean, double* save_rstd,
                             void* running_mean, void* running_var, const void* x,
                             const void* weight, const void* bias, int64_t N, int64_t C, int64_t S,
                             double eps, double momentum, bool training);
void batch_norm_backward_cuda(DType dt, void* dx, void* dweight, void* dbias, const void* dy,
                              const void* x, const void* weight, const double* save_mean,
                              const double* save_rstd, int64_t N, int64_t C, int64_t S,
                              bool training);
void layer_norm_forward_cuda(DType dt, void* y, double* mean, double* rstd, const void* x,
                             const void* weight, const void* bias, int64_t R, int64_t D,
                             double eps);
void layer_norm_backward_cuda(DType dt, void* dx, void* dweight, void* dbias, const void* dy,
                              const void* x, const void* weight, const double* mean,
                              const double* rstd, int64_t R, int64_t D);
void group_norm_forward_cuda(DType dt, void* y, double* mean, double* rstd, const void* x,
                             const void* weight, const void* bias, int64_t N, int64_t C, int64_t S,
                             int64_t G, double eps);
void group_norm_backward_cuda(DType dt, void* dx, void* dweight, void* dbias, const void* dy,
                              const void* x, const void* weight, const double* mean,
                              const double* rstd, int64_t N, int64_t C, int64_t S, int64_t G);

// ---- indexing (indexing.cu): gathers and scatters through integer index arrays ---------------
// An indexed view of a contiguous array: element t of the contiguous iteration space `shape`
// (multi-index i_0 .. i_{ndim-1}) is the array element
//   offset + sum_k i_k * strides[k] + sum_j wrap_j(idx[j][sum_k i_k * idx_strides[j].s[k]]) *
//   axis_stride[j]
// where wrap_j adds axis_size[j] to a negative index. An element whose index stays outside
// [0, axis_size[j]) after the wrap is skipped (a gather writes 0), so a kernel never reads or
// writes outside the array; callers report bad indices first with first_bad_index_cuda.
struct IndexView {
  Shape shape;
  Strides strides;
  int64_t offset;
  int n_idx;  // 0 .. kMaxDims index arrays (int64, device)
  const int64_t* idx[kMaxDims];
  Strides idx_strides[kMaxDims];
  int64_t axis_size[kMaxDims];
  int64_t axis_stride[kMaxDims];
};
struct BadIndex {
  int array = -1;  // -1: every index is valid
  int64_t position = -1;
  int64_t value = 0;
};
// The first entry (lowest position, first array) outside [-size, size) ([0, size) without
// allow_negative) of n_arrays int64 index arrays of numel[j] entries. Synchronizes the stream:
// the answer is read back.
BadIndex first_bad_index_cuda(int n_arrays, const int64_t* const* idx, const int64_t* numel,
                              const int64_t* size, bool allow_negative);
// out (contiguous over v.shape) = the view's elements; any dtype, by element size (1, 4 or 8).
void index_gather_cuda(int64_t elem_size, void* out, const void* src, const IndexView& v);
// The view's elements of dst = value read through value_strides over v.shape (0 broadcasts).
// Where several elements of the view name one element of dst, one of the writes wins.
void index_scatter_cuda(int64_t elem_size, void* dst, const void* value,
                        const Strides& value_strides, const IndexView& v);
// The view's elements of dst (contiguous, dst_numel elements) += src (contiguous over v.shape),
// deterministically: the (destination, position) pairs are sorted (stably) and each destination
// adds its sources in position order, starting from its old value (numpy's np.add.at order).
// With scale_by_count a destination hit k > 1 times gets (old + sum) * (1 / k) (embedding's
// scale_grad_by_freq; old is 0 there). f32 / f64 / i64.
void index_add_cuda(DType dt, void* dst, int64_t dst_numel, const void* src, const IndexView& v,
                    bool scale_by_count);
// The number of non-zero entries of a bool array (synchronizes), and their coordinates:
// coords (count, shape.ndim) int64 in C order (numpy's nonzero, transposed).
int64_t count_nonzero_cuda(const bool* mask, int64_t n);
void nonzero_cuda(int64_t* coords, const bool* mask, const Shape& shape, int64_t count);

// ---- creation (creation.cu): numpy's arange / linspace values, made on the device ------------
// out[0] = v0, out[1] = v1, out[i] = v0 + T(i) * (v1 - v0) in the dtype's arithmetic (numpy's
// fill rule; no fused multiply-add). v0 / v1 are the first two values already cast to dt.
void arange_cuda(DType dt, void* out, double v0, double v1, int64_t v0_i, int64_t v1_i, int64_t n);
// numpy.linspace in float64: y_i = i * step + start (or i / div * delta + start when step == 0),
// the last = stop when endpoint and n > 1, floored for integer dtypes, then cast to dt.
void linspace_cuda(DType dt, void* out, double start, double stop, double delta, double step,
                   int64_t div, bool step_zero, bool endpoint, int64_t n);
// Integer power with numpy's int64 wrap-around: out = a ** b, broadcast like binary_cuda.
// Negative exponents are rejected by the caller.
void int_pow_cuda(void* out, const void* a, const Strides& sa, const void* b, const Strides& sb,
                  const Shape& shape);
// 1 when some int64 element of x is negative (synchronizes).
bool any_negative_cuda(const int64_t* x, int64_t n);

// ---- integer matmul (int_matmul.cu) -------------------------------------------------------------
// c (batch, M, N) contiguous = a @ b in int64 wrapping arithmetic; a's element (p, i, k) is at
// p * a_batch + i * a_row + k * a_col, b's (p, k, j) at p * b_batch + k * b_row + j * b_col.
struct IntMatmulShape {
  int64_t batch, M, N, K;
  int64_t a_batch, a_row, a_col;
  int64_t b_batch, b_row, b_col;
};
void int_matmul_cuda(int64_t* c, const int64_t* a, const int64_t* b, const IntMatmulShape& s);

// ---- conv and pooling (conv.cu, pool.cu) --------------------------------------------------------
// The twins of the CPU kernels im2col_cpu ... avg_pool2d_backward_cpu and the 2x2 code kernels
// (csrc/cpu/fastnn_cpu.h, cpu/max_pool_code.h): same layouts, rules and results; the geometry is
// window::Geom, field for field the CPU's Conv2dGeom. conv2d is groups = 1. Every backward kernel
// sums in a fixed order (no atomics), so results are the same on every run. The max pooling
// backward kernels never write through an index (code) out of range; with `check` they return the
// first flat position of one, or -1 (reading it back is their one host synchronization).
void im2col_cuda(DType dt, void* cols, const void* x, const window::Geom& g, bool ones_row);
void col2im_cuda(DType dt, void* x, const void* cols, const window::Geom& g);
void conv2d_forward_cuda(DType dt, void* y, const void* x, const void* w, const void* b,
                         const window::Geom& g, int64_t C_out);
void conv2d_backward_cuda(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x,
                          const void* w, const window::Geom& g, int64_t C_out);
void max_pool2d_forward_cuda(DType dt, void* y, int64_t* idx, const void* x, const window::Geom& g);
int64_t max_pool2d_backward_cuda(DType dt, void* dx, const void* dy, const int64_t* idx,
                                 const window::Geom& g, bool check);
void max_pool2d_2x2_code_forward_cuda(DType dt, void* y, uint8_t* code, const void* x,
                                      const window::Geom& g);
int64_t max_pool2d_2x2_code_backward_cuda(DType dt, void* dx, const void* dy, const uint8_t* code,
                                          const window::Geom& g, bool check);
void avg_pool2d_forward_cuda(DType dt, void* y, const void* x, const window::Geom& g,
                             bool count_include_pad, int64_t divisor);
void avg_pool2d_backward_cuda(DType dt, void* dx, const void* dy, const window::Geom& g,
                              bool count_include_pad, int64_t divisor);

}  // namespace fastnn::cuda
