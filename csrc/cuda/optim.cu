// Fused optimizer steps on the GPU, torch.optim semantics:
// SGD (momentum, dampening, nesterov), Adagrad, RMSprop (centered, momentum), Adam / AdamW
// (amsgrad), Adadelta, Adamax, NAdam, RAdam, all with maximize and weight decay. The per-element
// update is csrc/optim_math.h the same code the CPU loops run; the step-dependent scalars (bias
// corrections, Adagrad's decayed lr) are computed here once per call, on the host, in double,
// exactly as csrc/cpu/optim.cpp does, then rounded to the element type. A call is one
// multi-tensor launch per table of tensors (multi_tensor.cuh), not one per tensor; each element is
// read and written once (memory bound: param, grad and 1-3 states).
#include <cmath>

#include "contract.h"
#include "cuda/common.cuh"
#include "cuda/multi_tensor.cuh"
#include "optim_math.h"

namespace fastnn::cuda {
namespace {

// The element ops of multi_tensor_apply: x[0] param, x[1] grad, then the op's state buffers in
// the order of its launcher's list. Flags that decide which buffers exist are template
// parameters, so a buffer that is absent is neither loaded nor stored.

template <class T, bool MOMENTUM>
struct SgdOp {
  static constexpr int D = MOMENTUM ? 3 : 2;
  SgdScalars<T> s;
  bool nesterov, maximize, first_step;
  __device__ void operator()(T (&x)[D]) const {
    T b = T(0);
    if constexpr (MOMENTUM) b = x[2];
    sgd_update(x[0], b, x[1], s, MOMENTUM, nesterov, maximize, first_step);
    if constexpr (MOMENTUM) x[2] = b;
  }
};

template <class T>
struct AdagradOp {
  static constexpr int D = 3;
  AdagradScalars<T> s;
  bool maximize;
  __device__ void operator()(T (&x)[D]) const { adagrad_update(x[0], x[2], x[1], s, maximize); }
};

// Lists: p, g, square_avg, then grad_avg when CENTERED, then the momentum buffer when MOMENTUM.
template <class T, bool CENTERED, bool MOMENTUM>
struct RmspropOp {
  static constexpr int D = 3 + CENTERED + MOMENTUM;
  RmspropScalars<T> s;
  bool maximize;
  __device__ void operator()(T (&x)[D]) const {
    T ga = T(0), b = T(0);
    if constexpr (CENTERED) ga = x[3];
    if constexpr (MOMENTUM) b = x[3 + CENTERED];
    rmsprop_update(x[0], x[2], ga, b, x[1], s, CENTERED, MOMENTUM, maximize);
    if constexpr (CENTERED) x[3] = ga;
    if constexpr (MOMENTUM) x[3 + CENTERED] = b;
  }
};

template <class T, bool AMSGRAD>
struct AdamOp {
  static constexpr int D = AMSGRAD ? 5 : 4;
  AdamScalars<T> s;
  bool maximize;
  __device__ void operator()(T (&x)[D]) const {
    T vmax = T(0);
    if constexpr (AMSGRAD) vmax = x[4];
    adam_update(x[0], x[2], x[3], vmax, x[1], s, AMSGRAD, maximize);
    if constexpr (AMSGRAD) x[4] = vmax;
  }
};

// The optimizers with two state buffers: `Update` is a functor calling the shared formula.
template <class T, class Update>
struct TwoStateOp {
  static constexpr int D = 4;
  Update update;
  __device__ void operator()(T (&x)[D]) const { update(x[0], x[2], x[3], x[1]); }
};

template <class T>
struct AdadeltaUpdate {
  AdadeltaScalars<T> s;
  bool maximize;
  __device__ void operator()(T& p, T& a, T& b, T g) const {
    adadelta_update(p, a, b, g, s, maximize);
  }
};
template <class T>
struct AdamaxUpdate {
  AdamaxScalars<T> s;
  bool maximize;
  __device__ void operator()(T& p, T& a, T& b, T g) const {
    adamax_update(p, a, b, g, s, maximize);
  }
};
template <class T>
struct NadamUpdate {
  NadamScalars<T> s;
  bool maximize;
  __device__ void operator()(T& p, T& a, T& b, T g) const { nadam_update(p, a, b, g, s, maximize); }
};
template <class T>
struct RadamUpdate {
  RadamScalars<T> s;
  bool rectified, maximize;
  __device__ void operator()(T& p, T& a, T& b, T g) const {
    radam_update(p, a, b, g, s, rectified, maximize);
  }
};

using List = const void* const*;

template <class T, class Update>
void launch_two_state(void* const* params, void* const* s1, void* const* s2,
                      const void* const* grads, const int64_t* numels, int64_t n_tensors,
                      const Update& update) {
  multi_tensor_apply<4, T>({params, grads, s1, s2}, numels, n_tensors,
                           TwoStateOp<T, Update>{update});
}

// Calls f(std::bool_constant<flag>{}).
template <class F>
void with_flag(bool flag, F&& f) {
  if (flag)
    f(std::true_type{});
  else
    f(std::false_type{});
}

}  // namespace

void sgd_step_cuda(DType dt, void* const* params, void* const* momentum_bufs,
                   const void* const* grads, const int64_t* numels, int64_t n_tensors,
                   const SgdOptions& h) {
  dispatch_float(dt, "sgd_step", [&](auto tag) {
    using T = decltype(tag);
    const SgdScalars<T> s = sgd_scalars<T>(h);
    if (h.momentum != 0)
      multi_tensor_apply<3, T>({params, grads, momentum_bufs}, numels, n_tensors,
                               SgdOp<T, true>{s, h.nesterov, h.maximize, h.first_step});
    else
      multi_tensor_apply<2, T>({params, grads}, numels, n_tensors,
                               SgdOp<T, false>{s, h.nesterov, h.maximize, h.first_step});
  });
}

void adagrad_step_cuda(DType dt, void* const* params, void* const* state_sums,
                       const void* const* grads, const int64_t* numels, int64_t n_tensors,
                       const AdagradOptions& h) {
  dispatch_float(dt, "adagrad_step", [&](auto tag) {
    using T = decltype(tag);
    multi_tensor_apply<3, T>({params, grads, state_sums}, numels, n_tensors,
                             AdagradOp<T>{adagrad_scalars<T>(h), h.maximize});
  });
}

void rmsprop_step_cuda(DType dt, void* const* params, void* const* square_avgs,
                       void* const* grad_avgs, void* const* momentum_bufs, const void* const* grads,
                       const int64_t* numels, int64_t n_tensors, const RmspropOptions& h) {
  dispatch_float(dt, "rmsprop_step", [&](auto tag) {
    using T = decltype(tag);
    const RmspropScalars<T> s = rmsprop_scalars<T>(h);
    with_flag(h.centered, [&](auto centered) {
      with_flag(h.momentum > 0, [&](auto momentum) {
        constexpr bool C = decltype(centered)::value, M = decltype(momentum)::value;
        using Op = RmspropOp<T, C, M>;
        List lists[Op::D];
        lists[0] = params, lists[1] = grads, lists[2] = square_avgs;
        if constexpr (C) lists[3] = grad_avgs;
        if constexpr (M) lists[3 + C] = momentum_bufs;
        multi_tensor_apply<Op::D, T>(lists, numels, n_tensors, Op{s, h.maximize});
      });
    });
  });
}

void adam_step_cuda(DType dt, void* const* params, void* const* exp_avgs, void* const* exp_avg_sqs,
                    void* const* max_exp_avg_sqs, const void* const* grads, const int64_t* numels,
                    int64_t n_tensors, const AdamOptions& h) {
  dispatch_float(dt, "adam_step", [&](auto tag) {
    using T = decltype(tag);
    const AdamScalars<T> s = adam_scalars<T>(h);
    if (h.amsgrad)
      multi_tensor_apply<5, T>({params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs}, numels,
                               n_tensors, AdamOp<T, true>{s, h.maximize});
    else
      multi_tensor_apply<4, T>({params, grads, exp_avgs, exp_avg_sqs}, numels, n_tensors,
                               AdamOp<T, false>{s, h.maximize});
  });
}

void adadelta_step_cuda(DType dt, void* const* params, void* const* square_avgs,
                        void* const* acc_deltas, const void* const* grads, const int64_t* numels,
                        int64_t n_tensors, const AdadeltaOptions& h) {
  dispatch_float(dt, "adadelta_step", [&](auto tag) {
    using T = decltype(tag);
    launch_two_state<T>(params, square_avgs, acc_deltas, grads, numels, n_tensors,
                        AdadeltaUpdate<T>{adadelta_scalars<T>(h), h.maximize});
  });
}

void adamax_step_cuda(DType dt, void* const* params, void* const* exp_avgs, void* const* exp_infs,
                      const void* const* grads, const int64_t* numels, int64_t n_tensors,
                      const AdamaxOptions& h) {
  dispatch_float(dt, "adamax_step", [&](auto tag) {
    using T = decltype(tag);
    launch_two_state<T>(params, exp_avgs, exp_infs, grads, numels, n_tensors,
                        AdamaxUpdate<T>{adamax_scalars<T>(h), h.maximize});
  });
}

void nadam_step_cuda(DType dt, void* const* params, void* const* exp_avgs, void* const* exp_avg_sqs,
                     const void* const* grads, const int64_t* numels, int64_t n_tensors,
                     const NadamOptions& h) {
  dispatch_float(dt, "nadam_step", [&](auto tag) {
    using T = decltype(tag);
    launch_two_state<T>(params, exp_avgs, exp_avg_sqs, grads, numels, n_tensors,
                        NadamUpdate<T>{nadam_scalars<T>(h), h.maximize});
  });
}

void radam_step_cuda(DType dt, void* const* params, void* const* exp_avgs, void* const* exp_avg_sqs,
                     const void* const* grads, const int64_t* numels, int64_t n_tensors,
                     const RadamOptions& h) {
  const bool rectified = radam_rectification(h.beta2, static_cast<double>(h.step)).rectified;
  dispatch_float(dt, "radam_step", [&](auto tag) {
    using T = decltype(tag);
    launch_two_state<T>(params, exp_avgs, exp_avg_sqs, grads, numels, n_tensors,
                        RadamUpdate<T>{radam_scalars<T>(h), rectified, h.maximize});
  });
}

}  // namespace fastnn::cuda
