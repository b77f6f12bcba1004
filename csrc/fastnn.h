// The fastnn C++ kernel API (C1, C4): every CPU kernel, with its shape contract.
// Plain C++: no pybind11, no CUDA. Outputs first, then inputs, then sizes; all sizes int64_t;
// contiguous row-major buffers; backward kernels overwrite their outputs.
// The CUDA kernels of the same names live in csrc/cuda/ and are declared in csrc/cuda/fastnn_cuda.h.
#pragma once
#include <cstdint>

namespace fastnn {

// ---- matmul -----------------------------------------------------------------------------------


// ---- activations ------------------------------------------------------------------------------


// ---- softmax cross-entropy, binary cross-entropy ----------------------------------------------


// ---- optimizer steps --------------------------------------------------------------------------
// Fused multi-tensor updates (C8), torch.optim semantics (csrc/optim_math.h has the formulas).
// Each step updates a list of n_tensors tensors in place: tensor i has numels[i] contiguous
// elements in params[i] and in each state buffer, and its gradient in grads[i]. One call covers
// the whole list, threaded over all tensors' elements together. Buffers must not overlap each
// other (grads may be shared read-only). Hyperparameters are validated by the caller (bindings);
// step-dependent scalars are computed here once per call, in double.

// How weight decay enters Adam: added to the gradient (torch.optim.Adam) or decoupled
// (torch.optim.AdamW: p *= 1 - lr * weight_decay before the update).
enum class AdamMode { l2, decoupled };

struct SgdOptions {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  bool first_step = false;  // momentum buffers are initialised to the (decayed) gradient, as torch does
};
struct AdagradOptions {
  double lr = 0, lr_decay = 0, weight_decay = 0, eps = 1e-10;
  int64_t step = 1;  // the step being taken (>= 1), after the increment
  bool maximize = false;
};
struct RmspropOptions {
  double lr = 0, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
struct AdamOptions {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  AdamMode mode = AdamMode::l2;
  bool amsgrad = false, maximize = false;
  int64_t step = 1;  // the step being taken (>= 1), after the increment
};

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
                      double* const* momentum_bufs, const double* const* grads, const int64_t* numels,
                      int64_t n_tensors, const RmspropOptions& opt);

// max_exp_avg_sqs: needed when amsgrad, else null.
void adam_step_cpu(float* const* params, float* const* exp_avgs, float* const* exp_avg_sqs,
                   float* const* max_exp_avg_sqs, const float* const* grads, const int64_t* numels,
                   int64_t n_tensors, const AdamOptions& opt);
void adam_step_cpu(double* const* params, double* const* exp_avgs, double* const* exp_avg_sqs,
                   double* const* max_exp_avg_sqs, const double* const* grads, const int64_t* numels,
                   int64_t n_tensors, const AdamOptions& opt);


}  // namespace fastnn
