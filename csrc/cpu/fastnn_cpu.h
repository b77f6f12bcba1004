// The fastnn CPU kernel API: every CPU kernel, with its shape contract.
// Plain C++: no pybind11, no CUDA. Outputs first, then inputs, then sizes; all sizes int64_t;
// contiguous row-major buffers; backward kernels overwrite their outputs.
// The CUDA kernels of the same names live in csrc/cuda/ and are declared in
// csrc/cuda/fastnn_cuda.h.
#pragma once
#include <cstdint>

#include "contract.h"
#include "cpu/arithmetic.h"

namespace fastnn {

// ---- matmul -----------------------------------------------------------------------------------

// The layout of one (batched) GEMM, all in elements (int64), strides may be negative or zero.
// op(A)[b] is M x K with element (i, k) at a[b*a_bs + i*a_rs + k*a_cs]; a transpose is just a swap
// of a_rs and a_cs. op(B)[b] is K x N, element (k, j) at b[b*b_bs + k*b_rs + j*b_cs]. C[b] is
// M x N, element (i, j) at c[b*c_bs + i*c_rs + j] (unit column stride).
struct MatmulLayout {
  int64_t batch, M, N, K;
  int64_t a_bs, a_rs, a_cs;
  int64_t b_bs, b_rs, b_cs;
  int64_t c_bs, c_rs;
};

// C[b] = alpha * op(A)[b] @ op(B)[b] + beta * C[b] + bias  (bias: (N,) contiguous or nullptr,
// broadcast over rows). beta == 0 means C is write-only (its old contents, even NaN, are ignored,
// as in BLAS). K == 0 gives beta * C + bias. C must not overlap A, B or bias.
// Packed, cache-blocked GEMM (BLIS loop order) with per-ISA micro-kernels; threaded over the pool.
// min(M, N) <= 16 with a suitably contiguous big operand: no-packing skinny kernels instead.
void matmul_cpu(float* c, const float* a, const float* b, const float* bias, const MatmulLayout& L,
                float alpha, float beta);
void matmul_cpu(double* c, const double* a, const double* b, const double* bias,
                const MatmulLayout& L, double alpha, double beta);

// ---- activations ------------------------------------------------------------------------------
// Element-wise, n elements, y/dx may alias x/dy exactly (each element is read before it is
// written) but must not overlap them otherwise. Overloads for float and double.
// Backward kernels take the upstream gradient dy and the tensor named in their signature:
// relu/leaky_relu/gelu/log/sin/cos/erf/arctan/log1p/expm1 the forward *input* x,
// sigmoid/tanh/exp/sqrt/rsqrt the forward *output* y.
#define FASTNN_DECLARE_ACTIVATIONS(T)                                                             \
  void relu_forward_cpu(T* y, const T* x, int64_t n);                                             \
  void relu_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                              \
  void leaky_relu_forward_cpu(T* y, const T* x, double negative_slope, int64_t n);                \
  void leaky_relu_backward_cpu(T* dx, const T* dy, const T* x, double negative_slope, int64_t n); \
  void sigmoid_forward_cpu(T* y, const T* x, int64_t n);                                          \
  void sigmoid_backward_cpu(T* dx, const T* dy, const T* y, int64_t n);                           \
  void tanh_forward_cpu(T* y, const T* x, int64_t n);                                             \
  void tanh_backward_cpu(T* dx, const T* dy, const T* y, int64_t n);                              \
  void exp_forward_cpu(T* y, const T* x, int64_t n);                                              \
  void exp_backward_cpu(T* dx, const T* dy, const T* y, int64_t n);                               \
  void sqrt_forward_cpu(T* y, const T* x, int64_t n);                                             \
  void sqrt_backward_cpu(T* dx, const T* dy, const T* y, int64_t n);                              \
  void log_forward_cpu(T* y, const T* x, int64_t n);                                              \
  void log_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                               \
  void sin_forward_cpu(T* y, const T* x, int64_t n);                                              \
  void sin_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                               \
  void cos_forward_cpu(T* y, const T* x, int64_t n);                                              \
  void cos_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                               \
  void erf_forward_cpu(T* y, const T* x, int64_t n);                                              \
  void erf_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                               \
  void arctan_forward_cpu(T* y, const T* x, int64_t n);                                           \
  void arctan_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                            \
  void log1p_forward_cpu(T* y, const T* x, int64_t n);                                            \
  void log1p_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                             \
  void expm1_forward_cpu(T* y, const T* x, int64_t n);                                            \
  void expm1_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                             \
  void rsqrt_forward_cpu(T* y, const T* x, int64_t n);                                            \
  void rsqrt_backward_cpu(T* dx, const T* dy, const T* y, int64_t n);                             \
  void gelu_forward_cpu(T* y, const T* x, GeluApprox approx, int64_t n);                          \
  void gelu_backward_cpu(T* dx, const T* dy, const T* x, GeluApprox approx, int64_t n);           \
  /* softmax / log_softmax along the middle axis of x, y, dy, dx seen as contiguous (outer, n,    \
     inner) arrays (inner == 1: the last axis); y may be x. */                                    \
  void softmax_forward_cpu(T* y, const T* x, int64_t outer, int64_t n, int64_t inner);            \
  void softmax_backward_cpu(T* dx, const T* dy, const T* y, int64_t outer, int64_t n,             \
                            int64_t inner);                                                       \
  void log_softmax_forward_cpu(T* y, const T* x, int64_t outer, int64_t n, int64_t inner);        \
  void log_softmax_backward_cpu(T* dx, const T* dy, const T* y, int64_t outer, int64_t n,         \
                                int64_t inner);                                                   \
  /* silu, mish, softplus, elu (selu: fixed alpha and scale), hardtanh (relu6: 0, 6), logsigmoid; \
     their backward kernels take the forward INPUT x */                                           \
  void silu_forward_cpu(T* y, const T* x, int64_t n);                                             \
  void silu_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                              \
  void mish_forward_cpu(T* y, const T* x, int64_t n);                                             \
  void mish_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                              \
  void softplus_forward_cpu(T* y, const T* x, double beta, double threshold, int64_t n);          \
  void softplus_backward_cpu(T* dx, const T* dy, const T* x, double beta, double threshold,       \
                             int64_t n);                                                          \
  void elu_forward_cpu(T* y, const T* x, double alpha, double scale, double input_scale,          \
                       int64_t n);                                                                \
  void elu_backward_cpu(T* dx, const T* dy, const T* x, double alpha, double scale,               \
                        double input_scale, int64_t n);                                           \
  void hardtanh_forward_cpu(T* y, const T* x, double min_val, double max_val, int64_t n);         \
  void hardtanh_backward_cpu(T* dx, const T* dy, const T* x, double min_val, double max_val,      \
                             int64_t n);                                                          \
  void logsigmoid_forward_cpu(T* y, const T* x, int64_t n);                                       \
  void logsigmoid_backward_cpu(T* dx, const T* dy, const T* x, int64_t n);                        \
  /* prelu (prelu.cpp): x viewed as (outer, C, inner), weight (C,) (C = 1: one shared weight);    \
     the backward writes dx and dweight (dweight may be nullptr) */                               \
  void prelu_forward_cpu(T* y, const T* x, const T* w, int64_t outer, int64_t C, int64_t inner);  \
  void prelu_backward_cpu(T* dx, T* dw, const T* dy, const T* x, const T* w, int64_t outer,       \
                          int64_t C, int64_t inner);
FASTNN_DECLARE_ACTIVATIONS(float)
FASTNN_DECLARE_ACTIVATIONS(double)
#undef FASTNN_DECLARE_ACTIVATIONS

// ---- softmax_cross_entropy (softmax_cross_entropy.cpp), binary_cross_entropy_with_logits
// (binary_cross_entropy_with_logits.cpp) ---------------------------------------------------------
// PyTorch's F.cross_entropy / F.binary_cross_entropy_with_logits semantics, fused: one pass over
// each row computes the loss and (if dlogits != nullptr) the gradient of the *reduced* loss
// (for Reduction::none: of the sum of the per-row/per-element losses). Return the reduced loss
// (mean or sum; for none the per-item losses go to `loss` and the return value is their sum).

// logits (N, C); target (N,) class indices (int32 or int64); weight (C,) or nullptr;
// loss (N,) or nullptr (per-row losses, 0 for rows whose target is ignore_index); dlogits (N, C).
// Validates every target before any other work: a target outside [0, C) that is not ignore_index
// throws std::invalid_argument naming the value and its position.
#define FASTNN_DECLARE_XENT(T, I)                                                        \
  double softmax_cross_entropy_forward_cpu(                                              \
      T* loss, T* dlogits, const T* logits, const I* target, const T* weight, int64_t N, \
      int64_t C, int64_t ignore_index, double label_smoothing, Reduction reduction);
FASTNN_DECLARE_XENT(float, int32_t)
FASTNN_DECLARE_XENT(float, int64_t)
FASTNN_DECLARE_XENT(double, int32_t)
FASTNN_DECLARE_XENT(double, int64_t)
#undef FASTNN_DECLARE_XENT

// Probability targets: logits, target (N, C); weight (C,) or nullptr; loss (N,) or nullptr.
// 'mean' divides by N (as torch does for probability targets).
// BCE: logits, target (n,) viewed as rows of C (the last dim); weight nullptr, (n,) or, with
// weight_per_class, (C,); pos_weight (C,) or nullptr; loss (n,) or nullptr. 'mean' divides by n.
#define FASTNN_DECLARE_LOSSES(T)                                                                  \
  double softmax_cross_entropy_forward_cpu(T* loss, T* dlogits, const T* logits, const T* target, \
                                           const T* weight, int64_t N, int64_t C,                 \
                                           double label_smoothing, Reduction reduction);          \
  double binary_cross_entropy_with_logits_forward_cpu(                                            \
      T* loss, T* dlogits, const T* logits, const T* target, const T* weight,                     \
      bool weight_per_class, const T* pos_weight, int64_t n, int64_t C, Reduction reduction);
FASTNN_DECLARE_LOSSES(float)
FASTNN_DECLARE_LOSSES(double)
#undef FASTNN_DECLARE_LOSSES

// ---- gradient norm and scaling (nn.utils.clip_grad_norm_) --------------------------------------
// Tensor i has numels[i] contiguous elements at xs[i]. grad_norm_cpu returns the norm of all of
// them together (accumulated in double; NaN if any element is NaN); grad_scale_cpu multiplies
// them in place. Threaded over all elements together; results do not depend on the thread count.
enum class GradNormKind { l1, l2, linf };
double grad_norm_cpu(const float* const* xs, const int64_t* numels, int64_t n_tensors,
                     GradNormKind kind);
double grad_norm_cpu(const double* const* xs, const int64_t* numels, int64_t n_tensors,
                     GradNormKind kind);
void grad_scale_cpu(float* const* xs, const int64_t* numels, int64_t n_tensors, float factor);
void grad_scale_cpu(double* const* xs, const int64_t* numels, int64_t n_tensors, double factor);
// out[r] = the norm of row r of a C-contiguous (rows, cols) array (Tensor.norm(dim=-1)), each
// row accumulated in double as grad_norm_cpu does; rows split over the pool.
void norm_last_cpu(const float* x, int64_t rows, int64_t cols, GradNormKind kind, float* out);
void norm_last_cpu(const double* x, int64_t rows, int64_t cols, GradNormKind kind, double* out);

// ---- sum over rows (cpu/sum_rows.cpp) -----------------------------------------------------------
// out[c] = sum over r < rows of x[r * cols + c]; rows == 0 gives zeros. Chunks of rows summed in
// T, the chunk sums in double; the result does not depend on the thread count.
void sum_rows_cpu(const float* x, int64_t rows, int64_t cols, float* out);
void sum_rows_cpu(const double* x, int64_t rows, int64_t cols, double* out);

// ---- pairwise sums: of all elements, of each row (cpu/sum_all.cpp) ----------------------------
// The sum of x[0..n) in numpy's pairwise order (the same bits as np.sum); n == 0 gives +0.
float sum_all_cpu(const float* x, int64_t n);
double sum_all_cpu(const double* x, int64_t n);
// out[r] = the sum of row r of a C-contiguous (rows, cols) array, each in that pairwise order.
void sum_last_cpu(const float* x, int64_t rows, int64_t cols, float* out);
void sum_last_cpu(const double* x, int64_t rows, int64_t cols, double* out);
// out[r] = the product of row r (cols >= 1), sixteen running products combined pairwise.
void prod_last_cpu(const float* x, int64_t rows, int64_t cols, float* out);
void prod_last_cpu(const double* x, int64_t rows, int64_t cols, double* out);

// ---- add, sub, mul, div, maximum, minimum, neg, abs, where of whole arrays (cpu/arithmetic.cpp) -
// out[i] = a[i] (op) b[i] for i < n, on the thread pool when n is large; IEEE operations, so the
// bits are numpy's. At most one operand is a scalar; out may be an input array itself but must
// not overlap one otherwise.
void arith_cpu(ArithOp op, float* out, ArithOperand<float> a, ArithOperand<float> b, int64_t n);
void arith_cpu(ArithOp op, double* out, ArithOperand<double> a, ArithOperand<double> b, int64_t n);
// out[i] = -x[i] or |x[i]| (numpy's bits, NaN's sign included); out may be x.
void unary_cpu(UnaryOp op, float* out, const float* x, int64_t n);
void unary_cpu(UnaryOp op, double* out, const double* x, int64_t n);
// memcpy of `bytes` bytes split over the thread pool (numpy's copy runs on one core).
void copy_cpu(void* dst, const void* src, int64_t bytes);
// dst (C-contiguous) = the view of ndim <= 8 dimensions of items of `itemsize` bytes at src, with
// the given shape and byte strides (any sign), on the thread pool (cpu/copy_strided.cpp).
void copy_strided_cpu(void* dst, const void* src, int64_t itemsize, int ndim, const int64_t* shape,
                      const int64_t* strides);
// out[i] = x[i] + (s a[i]) b[i], x[i] + (s a[i]) / b[i] or lerp(x[i], a[i], s) (TernaryOp in
// cpu/arithmetic.h) for same-sized runs; b null for lerp; out may be x, not a or b.
void ternary_cpu(TernaryOp op, float* out, const float* x, const float* a, const float* b, float s,
                 int64_t n);
void ternary_cpu(TernaryOp op, double* out, const double* x, const double* a, const double* b,
                 double s, int64_t n);
// out[i] = c[i] ? x[i] : y[i] for numpy bools c (x or y may be a scalar); out overlaps nothing.
void where_cpu(float* out, const uint8_t* c, ArithOperand<float> x, ArithOperand<float> y,
               int64_t n);
void where_cpu(double* out, const uint8_t* c, ArithOperand<double> x, ArithOperand<double> y,
               int64_t n);
// The gradients of maximum(a, b) (maximum false: minimum) for same-shaped a, b and g (see
// arithmetic_simd.h); ga or gb null: that one is not computed.
void minmax_backward_cpu(bool maximum, float* ga, float* gb, const float* g, const float* a,
                         const float* b, int64_t n);
void minmax_backward_cpu(bool maximum, double* ga, double* gb, const double* g, const double* a,
                         const double* b, int64_t n);

// ---- concatenation (cpu/cat.cpp) --------------------------------------------------------------
// One input of cat_cpu: `outer` rows of row_bytes bytes each, contiguous.
struct CatPart {
  const void* data;
  int64_t row_bytes;
};
// out = row 0 of every part in turn, then row 1 of every part..., outer rows in all: numpy's
// concatenate (and stack) of C-contiguous arrays cut at the axis, on the thread pool from 128 KiB;
// out overlaps no part.
void cat_cpu(void* out, const CatPart* parts, int64_t n_parts, int64_t outer);

// ---- running sums and products along an axis (cpu/scan.cpp) -----------------------------------
// out[o, i, c] = x[o, 0, c] + ... + x[o, i, c] (cumprod: the product) for C-contiguous (outer, n,
// inner) arrays, accumulated in double and rounded once per element (torch's CPU result for
// float32); reverse: from i = n - 1 down (x[o, i, c] + ... + x[o, n - 1, c]). out overlaps no x.
void cumsum_cpu(float* out, const float* x, int64_t outer, int64_t n, int64_t inner, bool reverse);
void cumsum_cpu(double* out, const double* x, int64_t outer, int64_t n, int64_t inner,
                bool reverse);
void cumprod_cpu(float* out, const float* x, int64_t outer, int64_t n, int64_t inner);
void cumprod_cpu(double* out, const double* x, int64_t outer, int64_t n, int64_t inner);

// ---- the extreme and the top k of each row (cpu/max_min_last.cpp) ----------------------------
// values[r], indices[r] = the max (min) of row r of a C-contiguous (rows, cols) array, cols >= 1,
// and its first column; a NaN is the answer at its first column.
void max_last_cpu(const float* x, int64_t rows, int64_t cols, float* values, int64_t* indices);
void max_last_cpu(const double* x, int64_t rows, int64_t cols, double* values, int64_t* indices);
void min_last_cpu(const float* x, int64_t rows, int64_t cols, float* values, int64_t* indices);
void min_last_cpu(const double* x, int64_t rows, int64_t cols, double* values, int64_t* indices);
// values[r] = the max (min) of row r alone, cols >= 1; NaN (the row's first) if the row has one.
void amax_last_cpu(const float* x, int64_t rows, int64_t cols, float* values);
void amax_last_cpu(const double* x, int64_t rows, int64_t cols, double* values);
void amin_last_cpu(const float* x, int64_t rows, int64_t cols, float* values);
void amin_last_cpu(const double* x, int64_t rows, int64_t cols, double* values);
// indices[r, :k] = the columns of the k largest (smallest) values of row r, best first; ties in
// column order, NaN above every number. 0 <= k <= cols; O(cols k) at worst (an ascending row).
void topk_last_cpu(const float* x, int64_t rows, int64_t cols, int64_t k, bool largest,
                   int64_t* indices);
void topk_last_cpu(const double* x, int64_t rows, int64_t cols, int64_t k, bool largest,
                   int64_t* indices);

// ---- variance and mean along an axis (cpu/var_mean.cpp) ----------------------------------------
// var[o, i], mean[o, i] over x[o, :, i] of a C-contiguous (outer, n, inner) array (outer = inner =
// 1: all of x), accumulated in double; var divides by max(n - correction, 0).
void var_mean_cpu(float* var, float* mean, const float* x, int64_t outer, int64_t n, int64_t inner,
                  double correction);
void var_mean_cpu(double* var, double* mean, const double* x, int64_t outer, int64_t n,
                  int64_t inner, double correction);

// ---- optimizer steps --------------------------------------------------------------------------
// Fused multi-tensor updates, torch.optim semantics (csrc/optim_math.h has the formulas).
// Each step updates a list of n_tensors tensors in place: tensor i has numels[i] contiguous
// elements in params[i] and in each state buffer, and its gradient in grads[i]. One call covers
// the whole list, threaded over all tensors' elements together. Buffers must not overlap each
// other (grads may be shared read-only). Hyperparameters are validated by the caller (bindings);
// step-dependent scalars are computed here once per call, in double.

// momentum_bufs may be null when momentum == 0.
void sgd_step_cpu(float* const* params, float* const* momentum_bufs, const float* const* grads,
                  const int64_t* numels, int64_t n_tensors, const SgdOptions& opt);
void sgd_step_cpu(double* const* params, double* const* momentum_bufs, const double* const* grads,
                  const int64_t* numels, int64_t n_tensors, const SgdOptions& opt);

void adagrad_step_cpu(float* const* params, float* const* state_sums, const float* const* grads,
                      const int64_t* numels, int64_t n_tensors, const AdagradOptions& opt);
void adagrad_step_cpu(double* const* params, double* const* state_sums, const double* const* grads,
                      const int64_t* numels, int64_t n_tensors, const AdagradOptions& opt);

// grad_avgs: needed when centered, else null; momentum_bufs: needed when momentum > 0, else null.
void rmsprop_step_cpu(float* const* params, float* const* square_avgs, float* const* grad_avgs,
                      float* const* momentum_bufs, const float* const* grads, const int64_t* numels,
                      int64_t n_tensors, const RmspropOptions& opt);
void rmsprop_step_cpu(double* const* params, double* const* square_avgs, double* const* grad_avgs,
                      double* const* momentum_bufs, const double* const* grads,
                      const int64_t* numels, int64_t n_tensors, const RmspropOptions& opt);

// max_exp_avg_sqs: needed when amsgrad, else null.
void adam_step_cpu(float* const* params, float* const* exp_avgs, float* const* exp_avg_sqs,
                   float* const* max_exp_avg_sqs, const float* const* grads, const int64_t* numels,
                   int64_t n_tensors, const AdamOptions& opt);
void adam_step_cpu(double* const* params, double* const* exp_avgs, double* const* exp_avg_sqs,
                   double* const* max_exp_avg_sqs, const double* const* grads,
                   const int64_t* numels, int64_t n_tensors, const AdamOptions& opt);

// Adadelta: square_avgs and acc_deltas; Adamax: exp_avgs and exp_infs; NAdam and RAdam: exp_avgs
// and exp_avg_sqs (all required).
#define FASTNN_DECLARE_OPTIM2(name, Options, s1, s2)                                             \
  void name(float* const* params, float* const* s1, float* const* s2, const float* const* grads, \
            const int64_t* numels, int64_t n_tensors, const Options& opt);                       \
  void name(double* const* params, double* const* s1, double* const* s2,                         \
            const double* const* grads, const int64_t* numels, int64_t n_tensors,                \
            const Options& opt);
FASTNN_DECLARE_OPTIM2(adadelta_step_cpu, AdadeltaOptions, square_avgs, acc_deltas)
FASTNN_DECLARE_OPTIM2(adamax_step_cpu, AdamaxOptions, exp_avgs, exp_infs)
FASTNN_DECLARE_OPTIM2(nadam_step_cpu, NadamOptions, exp_avgs, exp_avg_sqs)
FASTNN_DECLARE_OPTIM2(radam_step_cpu, RadamOptions, exp_avgs, exp_avg_sqs)
#undef FASTNN_DECLARE_OPTIM2

// ---- conv -------------------------------------------------------------------------------------
// NCHW, contiguous. Geometry of one 2-D window op (conv via im2col, pooling): input (N, C, H, W),
// window kh x kw, stride sh/sw >= 1, padding ph/pw >= 0, dilation dh/dw >= 1, and the output size
// Ho = (H + 2ph - dh(kh-1) - 1) / sh + 1 (likewise Wo), >= 1 (the binding checks all of it).
struct Conv2dGeom {
  int64_t N, C, H, W;
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  int64_t Ho, Wo;
};

// Rows of the im2col matrix: the C*kh*kw patch rows, optionally followed by one row of ones (so
// that a GEMM with [W | bias] adds the bias).
enum class Im2colRows { patches, patches_and_ones };

// cols (N, C*kh*kw [+1], Ho*Wo) = the patches of x (N, C, H, W), zero in the padding; row
// (c*kh + i)*kw + j, column oh*Wo + ow holds x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw].
void im2col_cpu(float* cols, const float* x, const Conv2dGeom& g, Im2colRows rows);
void im2col_cpu(double* cols, const double* x, const Conv2dGeom& g, Im2colRows rows);
// x (N, C, H, W) = the adjoint of im2col applied to cols (N, C*kh*kw, Ho*Wo): overlapping patch
// entries add up, padding entries are dropped. Overwrites x.
void col2im_cpu(float* x, const float* cols, const Conv2dGeom& g);
void col2im_cpu(double* x, const double* cols, const Conv2dGeom& g);
// conv2d (cross-correlation, groups = 1) by chunked im2col + GEMM: y (N, C_out, Ho, Wo) =
// sum over c, i, j of w[o, c, i, j] * x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] + b[o];
// w (C_out, C, kh, kw), b (C_out) or nullptr. Overwrites y.
void conv2d_forward_cpu(float* y, const float* x, const float* w, const float* b,
                        const Conv2dGeom& g, int64_t C_out);
void conv2d_forward_cpu(double* y, const double* x, const double* w, const double* b,
                        const Conv2dGeom& g, int64_t C_out);
// Its gradients from dy (N, C_out, Ho, Wo): dx (N, C, H, W), dw (C_out, C, kh, kw), db (C_out);
// each may be nullptr (not computed). Overwrites them; bitwise the same for any thread count.
void conv2d_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x,
                         const float* w, const Conv2dGeom& g, int64_t C_out);
void conv2d_backward_cpu(double* dx, double* dw, double* db, const double* dy, const double* x,
                         const double* w, const Conv2dGeom& g, int64_t C_out);
// Depthwise conv2d (cpu/conv_depthwise.cpp): groups = C, mult output channels per input channel,
// w (C * mult, 1, kh, kw), b (C * mult) or nullptr, y (N, C * mult, Ho, Wo); the backward as
// conv2d_backward_cpu's (any of dx, dw, db nullptr). Overwrite their outputs.
void depthwise_conv2d_forward_cpu(float* y, const float* x, const float* w, const float* b,
                                  const Conv2dGeom& g, int64_t mult);
void depthwise_conv2d_forward_cpu(double* y, const double* x, const double* w, const double* b,
                                  const Conv2dGeom& g, int64_t mult);
void depthwise_conv2d_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x,
                                   const float* w, const Conv2dGeom& g, int64_t mult);
void depthwise_conv2d_backward_cpu(double* dx, double* dw, double* db, const double* dy,
                                   const double* x, const double* w, const Conv2dGeom& g,
                                   int64_t mult);
// y, idx (N, C, Ho, Wo): window max (padding = -inf, NaN propagates) and its flat index ih*W + iw
// within the (n, c) plane. Needs ph <= kh/2, pw <= kw/2 (every window holds an input element).
void max_pool2d_forward_cpu(float* y, int64_t* idx, const float* x, const Conv2dGeom& g);
void max_pool2d_forward_cpu(double* y, int64_t* idx, const double* x, const Conv2dGeom& g);
// dx (N, C, H, W) = scatter-add of dy (N, C, Ho, Wo) at idx. Overwrites dx. An index outside
// [0, H*W) is not used: the call returns the smallest flat position of such an index (dx then
// holds garbage), or -1 when all are valid. Checking here saves the caller a pass over idx.
int64_t max_pool2d_backward_cpu(float* dx, const float* dy, const int64_t* idx,
                                const Conv2dGeom& g);
int64_t max_pool2d_backward_cpu(double* dx, const double* dy, const int64_t* idx,
                                const Conv2dGeom& g);
// y (N, C, Ho, Wo) = window sums / divisor (pool.cpp has the divisor rule; divisor = 0: none
// given, else it replaces the count). Needs ph <= kh/2, pw <= kw/2; dilation 1. Overwrites y.
void avg_pool2d_forward_cpu(float* y, const float* x, const Conv2dGeom& g, bool count_include_pad,
                            int64_t divisor);
void avg_pool2d_forward_cpu(double* y, const double* x, const Conv2dGeom& g, bool count_include_pad,
                            int64_t divisor);
// dx (N, C, H, W) = dy / divisor spread over each window (overlaps add). Overwrites dx.
void avg_pool2d_backward_cpu(float* dx, const float* dy, const Conv2dGeom& g,
                             bool count_include_pad, int64_t divisor);
void avg_pool2d_backward_cpu(double* dx, const double* dy, const Conv2dGeom& g,
                             bool count_include_pad, int64_t divisor);

// ---- normalization (batch_norm.cpp; layer_norm.cpp holds layer_norm and group_norm) -------------
// The forward computes the statistics and normalises in one call, writing per channel (batch_norm)
// or per row (layer_norm, group_norm) the mean and rstd = 1 / sqrt(biased var + eps) it used, in
// double; the backward reads them back. weight / bias may be nullptr (no affine: 1 and 0); dx,
// dweight, dbias may be nullptr (not computed) and are overwritten otherwise.
// batch_norm: x, y (N, C, S) with S the spatial size; weight, bias, running_mean, running_var (C,).
// training: batch statistics, and running_mean / running_var (both or neither) move by momentum
// towards the batch mean and unbiased variance; else the running buffers are the statistics.
// layer_norm: x, y (R, D), weight, bias (D,), mean, rstd (R,).
// group_norm: x, y (N, C, S), G divides C, weight, bias (C,), mean, rstd (N, G).
#define FASTNN_DECLARE_NORMS(T)                                                                    \
  void batch_norm_forward_cpu(T* y, double* save_mean, double* save_rstd, T* running_mean,         \
                              T* running_var, const T* x, const T* weight, const T* bias,          \
                              int64_t N, int64_t C, int64_t S, double eps, double momentum,        \
                              bool training);                                                      \
  void batch_norm_backward_cpu(T* dx, T* dweight, T* dbias, const T* dy, const T* x,               \
                               const T* weight, const double* save_mean, const double* save_rstd,  \
                               int64_t N, int64_t C, int64_t S, bool training);                    \
  void layer_norm_forward_cpu(T* y, double* mean, double* rstd, const T* x, const T* weight,       \
                              const T* bias, int64_t R, int64_t D, double eps);                    \
  void layer_norm_backward_cpu(T* dx, T* dweight, T* dbias, const T* dy, const T* x,               \
                               const T* weight, const double* mean, const double* rstd, int64_t R, \
                               int64_t D);                                                         \
  void group_norm_forward_cpu(T* y, double* mean, double* rstd, const T* x, const T* weight,       \
                              const T* bias, int64_t N, int64_t C, int64_t S, int64_t G,           \
                              double eps);                                                         \
  void group_norm_backward_cpu(T* dx, T* dweight, T* dbias, const T* dy, const T* x,               \
                               const T* weight, const double* mean, const double* rstd, int64_t N, \
                               int64_t C, int64_t S, int64_t G);
FASTNN_DECLARE_NORMS(float)
FASTNN_DECLARE_NORMS(double)
#undef FASTNN_DECLARE_NORMS
// ---- embedding (embedding.cpp) ----------------------------------------------------------------
// weight / dweight (num, dim), idx (n,) int32 or int64, out / dout (n, dim), all contiguous.
// forward: out[i] = weight[idx[i]]. backward: dweight[r] = sum of dout[i] over idx[i] == r
// (overwritten; zero for padding_idx, -1 = none; divided by the count of r with
// scale_grad_by_freq; dweight_is_zero: dweight is known to be zero-filled, only the looked-up
// rows are written). renorm: rows looked up whose norm_type-norm exceeds max_norm are scaled
// in place by max_norm / (norm + 1e-7). Each checks every index first and throws
// std::out_of_range naming the first one outside [0, num) before writing anything.
// Bags: bag b is the positions [bounds[b], bounds[b + 1]) (bounds non-decreasing from 0 to n,
// checked by the caller); bag forward: out[b] = the sum of weight[idx[i]] over bag b's positions
// (in order; zero for an empty bag), out (nbags, dim); bag backward: dweight[r] = the sum of
// grad[b] over the positions i of idx[i] == r, b the bag of i, grad (nbags, dim).
#define FASTNN_DECLARE_EMBEDDING(T, I)                                                            \
  void embedding_forward_cpu(T* out, const T* weight, const I* idx, int64_t n, int64_t num,       \
                             int64_t dim);                                                        \
  void embedding_backward_cpu(T* dweight, const T* dout, const I* idx, int64_t n, int64_t num,    \
                              int64_t dim, int64_t padding_idx, bool scale_grad_by_freq,          \
                              bool dweight_is_zero);                                              \
  void embedding_bag_forward_cpu(T* out, const T* weight, const I* idx, const int64_t* bounds,    \
                                 int64_t nbags, int64_t num, int64_t dim);                        \
  void embedding_bag_backward_cpu(T* dweight, const T* grad, const I* idx, const int64_t* bounds, \
                                  int64_t nbags, int64_t num, int64_t dim, bool dweight_is_zero); \
  void embedding_renorm_cpu(T* weight, const I* idx, int64_t n, int64_t num, int64_t dim,         \
                            double max_norm, double norm_type);
FASTNN_DECLARE_EMBEDDING(float, int32_t)
FASTNN_DECLARE_EMBEDDING(float, int64_t)
FASTNN_DECLARE_EMBEDDING(double, int32_t)
FASTNN_DECLARE_EMBEDDING(double, int64_t)
#undef FASTNN_DECLARE_EMBEDDING

}  // namespace fastnn
