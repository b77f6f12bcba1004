// Fused multi-tensor optimizer steps on the CPU: SGD (momentum, dampening, nesterov), Adagrad,
// RMSprop (centered, momentum), Adam / AdamW (amsgrad), Adadelta, Adamax, NAdam and RAdam (both
// with L2 or decoupled weight decay), all with weight decay and maximize.
//
// Shapes: a list of n tensors; tensor i is numels[i] contiguous elements in params[i], grads[i]
// and each of its state buffers. Semantics: torch.optim's single-tensor / foreach algorithms
// (torch 2.x); the per-element formulas are csrc/optim_math.h.
//
// The step is memory-bound (Adam: 16 bytes read + 12 written per float32 parameter), so the job
// here is to touch each element once: the list is flattened into one index space [0, total),
// cut into blocks that the pool's threads take in turn, and each block walks the tensor spans
// it covers (many small tensors share a block; a big one spans many). Step-dependent scalars
// (bias corrections, Adagrad's decayed lr) are computed once per call, in double
// (csrc/contract.h), as torch does. Do not build with -ffast-math (see optim_math.h).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"
#include "optim_math.h"

namespace fastnn {

// ---- per-ISA element loops
// -----------------------------------------------------------------------

namespace generic {
FASTNN_OPTIM_ISA_ENTRY_POINTS(float)
FASTNN_OPTIM_ISA_ENTRY_POINTS(double)
}  // namespace generic
namespace avx2 {
FASTNN_OPTIM_ISA_DECLARATIONS(float)
FASTNN_OPTIM_ISA_DECLARATIONS(double)
}  // namespace avx2
namespace avx512 {
FASTNN_OPTIM_ISA_DECLARATIONS(float)
FASTNN_OPTIM_ISA_DECLARATIONS(double)
}  // namespace avx512

namespace {

// Below this many elements in all, one thread does the whole step (waking a worker costs more).
constexpr int64_t kMinElementsPerThread = 1 << 15;
// Threads take blocks of this many elements from a shared counter: a thread that starts late
// (a busy core) simply takes fewer blocks. A multiple of 16, so no 64-byte line of a (64-byte
// aligned) tensor is written by two threads and each block's vector loop starts aligned.
constexpr int64_t kBlock = 1 << 16;

// Calls fn(t, begin, end) for every non-empty span [begin, end) of tensor t, over all tensors,
// the flattened element range [0, total) split into blocks shared among the pool's threads.
template <class Fn>
void for_each_span(const int64_t* numels, int64_t n_tensors, const Fn& fn) {
  std::vector<int64_t> offsets(n_tensors + 1, 0);
  for (int64_t t = 0; t < n_tensors; ++t) offsets[t + 1] = offsets[t] + numels[t];
  const int64_t total = offsets[n_tensors];
  if (total == 0) return;
  const int64_t n_blocks = (total + kBlock - 1) / kBlock;
  const int64_t want =
      std::min((total + kMinElementsPerThread - 1) / kMinElementsPerThread, n_blocks);
  std::atomic<int64_t> next{0};
  parallel_run(static_cast<int>(std::min<int64_t>(want, 1 << 16)), [&](int, int) {
    for (int64_t blk = next.fetch_add(1, std::memory_order_relaxed); blk < n_blocks;
         blk = next.fetch_add(1, std::memory_order_relaxed)) {
      int64_t lo = blk * kBlock, hi = std::min(total, lo + kBlock);
      int64_t t = std::upper_bound(offsets.begin(), offsets.end(), lo) - offsets.begin() - 1;
      while (lo < hi) {
        int64_t end = std::min(hi, offsets[t + 1]);
        if (end > lo) fn(t, lo - offsets[t], end - offsets[t]);
        lo = end;
        ++t;
      }
    }
  });
}

// ---- ISA dispatch (IsaTable, cpu/cpu_features.h) ------------------------------------------------

template <class T>
struct OptimKernels {
  void (*sgd)(T*, T*, const T*, int64_t, const SgdScalars<T>&, bool, bool, bool, bool);
  void (*adagrad)(T*, T*, const T*, int64_t, const AdagradScalars<T>&, bool);
  void (*rmsprop)(T*, T*, T*, T*, const T*, int64_t, const RmspropScalars<T>&, bool, bool, bool);
  void (*adam)(T*, T*, T*, T*, const T*, int64_t, const AdamScalars<T>&, bool, bool);
  void (*adadelta)(T*, T*, T*, const T*, int64_t, const AdadeltaScalars<T>&, bool);
  void (*adamax)(T*, T*, T*, const T*, int64_t, const AdamaxScalars<T>&, bool);
  void (*nadam)(T*, T*, T*, const T*, int64_t, const NadamScalars<T>&, bool);
  void (*radam)(T*, T*, T*, const T*, int64_t, const RadamScalars<T>&, bool, bool);
};
template <class T>
const IsaTable<OptimKernels<T>> kOptim{{{
    {&generic::sgd_kernel, &generic::adagrad_kernel, &generic::rmsprop_kernel,
     &generic::adam_kernel, &generic::adadelta_kernel, &generic::adamax_kernel,
     &generic::nadam_kernel, &generic::radam_kernel},
    {&avx2::sgd_kernel, &avx2::adagrad_kernel, &avx2::rmsprop_kernel, &avx2::adam_kernel,
     &avx2::adadelta_kernel, &avx2::adamax_kernel, &avx2::nadam_kernel, &avx2::radam_kernel},
    {&avx512::sgd_kernel, &avx512::adagrad_kernel, &avx512::rmsprop_kernel, &avx512::adam_kernel,
     &avx512::adadelta_kernel, &avx512::adamax_kernel, &avx512::nadam_kernel,
     &avx512::radam_kernel},
}}};

// ---- drivers
// --------------------------------------------------------------------------------------

template <class T>
void sgd_impl(T* const* params, T* const* bufs, const T* const* grads, const int64_t* numels,
              int64_t n, const SgdOptions& o) {
  const SgdScalars<T> s = sgd_scalars<T>(o);
  const bool momentum = o.momentum != 0;
  const auto kernel = kOptim<T>[active_isa()].sgd;
  for_each_span(numels, n, [&](int64_t t, int64_t b, int64_t e) {
    T* p = params[t] + b;
    T* buf = momentum ? bufs[t] + b : nullptr;
    const T* g = grads[t] + b;
    kernel(p, buf, g, e - b, s, momentum, o.nesterov, o.maximize, o.first_step);
  });
}

template <class T>
void adagrad_impl(T* const* params, T* const* sums, const T* const* grads, const int64_t* numels,
                  int64_t n, const AdagradOptions& o) {
  const AdagradScalars<T> s = adagrad_scalars<T>(o);
  const auto kernel = kOptim<T>[active_isa()].adagrad;
  for_each_span(numels, n, [&](int64_t t, int64_t b, int64_t e) {
    T* p = params[t] + b;
    T* sum = sums[t] + b;
    const T* g = grads[t] + b;
    kernel(p, sum, g, e - b, s, o.maximize);
  });
}

template <class T>
void rmsprop_impl(T* const* params, T* const* sqs, T* const* gas, T* const* bufs,
                  const T* const* grads, const int64_t* numels, int64_t n,
                  const RmspropOptions& o) {
  const RmspropScalars<T> s = rmsprop_scalars<T>(o);
  const bool momentum = o.momentum > 0;
  const auto kernel = kOptim<T>[active_isa()].rmsprop;
  for_each_span(numels, n, [&](int64_t t, int64_t b, int64_t e) {
    T* p = params[t] + b;
    T* sq = sqs[t] + b;
    T* ga = o.centered ? gas[t] + b : nullptr;
    T* buf = momentum ? bufs[t] + b : nullptr;
    const T* g = grads[t] + b;
    kernel(p, sq, ga, buf, g, e - b, s, o.centered, momentum, o.maximize);
  });
}

template <class T>
void adam_impl(T* const* params, T* const* ms, T* const* vs, T* const* vmaxs, const T* const* grads,
               const int64_t* numels, int64_t n, const AdamOptions& o) {
  const AdamScalars<T> s = adam_scalars<T>(o);
  const auto kernel = kOptim<T>[active_isa()].adam;
  for_each_span(numels, n, [&](int64_t t, int64_t b, int64_t e) {
    T* p = params[t] + b;
    T* m = ms[t] + b;
    T* v = vs[t] + b;
    T* vmax = o.amsgrad ? vmaxs[t] + b : nullptr;
    const T* g = grads[t] + b;
    kernel(p, m, v, vmax, g, e - b, s, o.amsgrad, o.maximize);
  });
}

// The optimizers with two state buffers per parameter: `call(kernel, p, s1, s2, g, n)` runs one
// span with the kernel of the active ISA that `pick` selects from the table.
template <class T, class Pick, class Call>
void two_state_impl(T* const* params, T* const* s1s, T* const* s2s, const T* const* grads,
                    const int64_t* numels, int64_t n, const Pick& pick, const Call& call) {
  const auto kernel = pick(kOptim<T>[active_isa()]);
  for_each_span(numels, n, [&](int64_t t, int64_t b, int64_t e) {
    call(kernel, params[t] + b, s1s[t] + b, s2s[t] + b, grads[t] + b, e - b);
  });
}

}  // namespace

// ---- public entry points (csrc/cpu/fastnn_cpu.h)
// -------------------------------------------------------

void sgd_step_cpu(float* const* params, float* const* momentum_bufs, const float* const* grads,
                  const int64_t* numels, int64_t n_tensors, const SgdOptions& opt) {
  sgd_impl(params, momentum_bufs, grads, numels, n_tensors, opt);
}
void sgd_step_cpu(double* const* params, double* const* momentum_bufs, const double* const* grads,
                  const int64_t* numels, int64_t n_tensors, const SgdOptions& opt) {
  sgd_impl(params, momentum_bufs, grads, numels, n_tensors, opt);
}

void adagrad_step_cpu(float* const* params, float* const* state_sums, const float* const* grads,
                      const int64_t* numels, int64_t n_tensors, const AdagradOptions& opt) {
  adagrad_impl(params, state_sums, grads, numels, n_tensors, opt);
}
void adagrad_step_cpu(double* const* params, double* const* state_sums, const double* const* grads,
                      const int64_t* numels, int64_t n_tensors, const AdagradOptions& opt) {
  adagrad_impl(params, state_sums, grads, numels, n_tensors, opt);
}

void rmsprop_step_cpu(float* const* params, float* const* square_avgs, float* const* grad_avgs,
                      float* const* momentum_bufs, const float* const* grads, const int64_t* numels,
                      int64_t n_tensors, const RmspropOptions& opt) {
  rmsprop_impl(params, square_avgs, grad_avgs, momentum_bufs, grads, numels, n_tensors, opt);
}
void rmsprop_step_cpu(double* const* params, double* const* square_avgs, double* const* grad_avgs,
                      double* const* momentum_bufs, const double* const* grads,
                      const int64_t* numels, int64_t n_tensors, const RmspropOptions& opt) {
  rmsprop_impl(params, square_avgs, grad_avgs, momentum_bufs, grads, numels, n_tensors, opt);
}

void adam_step_cpu(float* const* params, float* const* exp_avgs, float* const* exp_avg_sqs,
                   float* const* max_exp_avg_sqs, const float* const* grads, const int64_t* numels,
                   int64_t n_tensors, const AdamOptions& opt) {
  adam_impl(params, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, grads, numels, n_tensors, opt);
}
void adam_step_cpu(double* const* params, double* const* exp_avgs, double* const* exp_avg_sqs,
                   double* const* max_exp_avg_sqs, const double* const* grads,
                   const int64_t* numels, int64_t n_tensors, const AdamOptions& opt) {
  adam_impl(params, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, grads, numels, n_tensors, opt);
}

#define FASTNN_DEFINE_OPTIM2(T, name, Options)                                                     \
  void name##_step_cpu(T* const* params, T* const* s1, T* const* s2, const T* const* grads,        \
                       const int64_t* numels, int64_t n_tensors, const Options& opt) {             \
    const auto s = name##_scalars<T>(opt);                                                         \
    two_state_impl(                                                                                \
        params, s1, s2, grads, numels, n_tensors, [](const OptimKernels<T>& k) { return k.name; }, \
        [&](auto kernel, T* p, T* a, T* b, const T* g, int64_t n) {                                \
          kernel(p, a, b, g, n, s, opt.maximize);                                                  \
        });                                                                                        \
  }
FASTNN_DEFINE_OPTIM2(float, adadelta, AdadeltaOptions)
FASTNN_DEFINE_OPTIM2(double, adadelta, AdadeltaOptions)
FASTNN_DEFINE_OPTIM2(float, adamax, AdamaxOptions)
FASTNN_DEFINE_OPTIM2(double, adamax, AdamaxOptions)
FASTNN_DEFINE_OPTIM2(float, nadam, NadamOptions)
FASTNN_DEFINE_OPTIM2(double, nadam, NadamOptions)
#undef FASTNN_DEFINE_OPTIM2

template <class T>
static void radam_step(T* const* params, T* const* exp_avgs, T* const* exp_avg_sqs,
                       const T* const* grads, const int64_t* numels, int64_t n_tensors,
                       const RadamOptions& opt) {
  const RadamScalars<T> s = radam_scalars<T>(opt);
  const bool rectified = radam_rectification(opt.beta2, static_cast<double>(opt.step)).rectified;
  two_state_impl(
      params, exp_avgs, exp_avg_sqs, grads, numels, n_tensors,
      [](const OptimKernels<T>& k) { return k.radam; },
      [&](auto kernel, T* p, T* m, T* v, const T* g, int64_t n) {
        kernel(p, m, v, g, n, s, rectified, opt.maximize);
      });
}
void radam_step_cpu(float* const* params, float* const* exp_avgs, float* const* exp_avg_sqs,
                    const float* const* grads, const int64_t* numels, int64_t n_tensors,
                    const RadamOptions& opt) {
  radam_step(params, exp_avgs, exp_avg_sqs, grads, numels, n_tensors, opt);
}
void radam_step_cpu(double* const* params, double* const* exp_avgs, double* const* exp_avg_sqs,
                    const double* const* grads, const int64_t* numels, int64_t n_tensors,
                    const RadamOptions& opt) {
  radam_step(params, exp_avgs, exp_avg_sqs, grads, numels, n_tensors, opt);
}

}  // namespace fastnn
