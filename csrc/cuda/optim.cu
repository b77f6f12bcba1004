// Fused optimizer steps on the GPU (one kernel launch per tensor), torch.optim semantics:
// SGD (momentum, dampening, nesterov), Adagrad, RMSprop (centered, momentum), Adam / AdamW
// (amsgrad), Adadelta, Adamax, NAdam, RAdam, all with maximize and weight decay. The per-element
// update is csrc/optim_math.h the same code the CPU loops run; the step-dependent scalars (bias
// corrections, Adagrad's decayed lr) are computed here once per call, on the host, in double,
// exactly as csrc/cpu/optim.cpp does, then rounded to the element type. Each kernel reads and
// writes every element once (memory bound: param, grad and 1-3 states).
#include <cmath>

#include "contract.h"
#include "cuda/common.cuh"
#include "optim_math.h"

namespace fastnn::cuda {
namespace {

template <class T>
__global__ void sgd_kernel(T* p, T* buf, const T* g, int64_t n, SgdScalars<T> s, bool use_momentum,
                           bool nesterov, bool maximize, bool first_step) {
  FASTNN_KERNEL_LOOP(i, n) {
    T pi = p[i], bi = use_momentum ? buf[i] : T(0);
    sgd_update(pi, bi, g[i], s, use_momentum, nesterov, maximize, first_step);
    p[i] = pi;
    if (use_momentum) buf[i] = bi;
  }
}

template <class T>
__global__ void adagrad_kernel(T* p, T* sum, const T* g, int64_t n, AdagradScalars<T> s,
                               bool maximize) {
  FASTNN_KERNEL_LOOP(i, n) {
    T pi = p[i], si = sum[i];
    adagrad_update(pi, si, g[i], s, maximize);
    p[i] = pi;
    sum[i] = si;
  }
}

template <class T>
__global__ void rmsprop_kernel(T* p, T* sq, T* ga, T* buf, const T* g, int64_t n,
                               RmspropScalars<T> s, bool centered, bool use_momentum,
                               bool maximize) {
  FASTNN_KERNEL_LOOP(i, n) {
    T pi = p[i], sqi = sq[i], gai = centered ? ga[i] : T(0), bi = use_momentum ? buf[i] : T(0);
    rmsprop_update(pi, sqi, gai, bi, g[i], s, centered, use_momentum, maximize);
    p[i] = pi;
    sq[i] = sqi;
    if (centered) ga[i] = gai;
    if (use_momentum) buf[i] = bi;
  }
}

template <class T>
__global__ void adam_kernel(T* p, T* m, T* v, T* vmax, const T* g, int64_t n, AdamScalars<T> s,
                            bool amsgrad, bool maximize) {
  FASTNN_KERNEL_LOOP(i, n) {
    T pi = p[i], mi = m[i], vi = v[i], vmi = amsgrad ? vmax[i] : T(0);
    adam_update(pi, mi, vi, vmi, g[i], s, amsgrad, maximize);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
    if (amsgrad) vmax[i] = vmi;
  }
}

// The optimizers with two state buffers: `Update` is a functor calling the shared formula.
template <class T, class Update>
__global__ void two_state_kernel(T* p, T* a, T* b, const T* g, int64_t n, Update update) {
  FASTNN_KERNEL_LOOP(i, n) {
    T pi = p[i], ai = a[i], bi = b[i];
    update(pi, ai, bi, g[i]);
    p[i] = pi;
    a[i] = ai;
    b[i] = bi;
  }
}

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

template <class T, class Update>
void launch_two_state(void* const* params, void* const* s1, void* const* s2,
                      const void* const* grads, const int64_t* numels, int64_t n_tensors,
                      const Update& update) {
  for (int64_t i = 0; i < n_tensors; ++i) {
    const int64_t n = numels[i];
    if (n == 0) continue;
    two_state_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<T*>(params[i]), static_cast<T*>(s1[i]), static_cast<T*>(s2[i]),
        static_cast<const T*>(grads[i]), n, update);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
}

template <class T>
T* at(void* const* list, int64_t i) {
  return list ? static_cast<T*>(list[i]) : nullptr;
}

}  // namespace

void sgd_step_cuda(DType dt, void* const* params, void* const* momentum_bufs,
                   const void* const* grads, const int64_t* numels, int64_t n_tensors,
                   const SgdOptions& h) {
  const bool use_momentum = h.momentum != 0;
  dispatch_float(dt, "sgd_step", [&](auto tag) {
    using T = decltype(tag);
    const SgdScalars<T> s = sgd_scalars<T>(h);
    for (int64_t i = 0; i < n_tensors; ++i) {
      const int64_t n = numels[i];
      if (n == 0) continue;
      sgd_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
          at<T>(params, i), use_momentum ? at<T>(momentum_bufs, i) : nullptr,
          static_cast<const T*>(grads[i]), n, s, use_momentum, h.nesterov, h.maximize,
          h.first_step);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
  });
}

void adagrad_step_cuda(DType dt, void* const* params, void* const* state_sums,
                       const void* const* grads, const int64_t* numels, int64_t n_tensors,
                       const AdagradOptions& h) {
  dispatch_float(dt, "adagrad_step", [&](auto tag) {
    using T = decltype(tag);
    const AdagradScalars<T> s = adagrad_scalars<T>(h);
    for (int64_t i = 0; i < n_tensors; ++i) {
      const int64_t n = numels[i];
      if (n == 0) continue;
      adagrad_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
          at<T>(params, i), at<T>(state_sums, i), static_cast<const T*>(grads[i]), n, s,
          h.maximize);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
  });
}

void rmsprop_step_cuda(DType dt, void* const* params, void* const* square_avgs,
                       void* const* grad_avgs, void* const* momentum_bufs, const void* const* grads,
                       const int64_t* numels, int64_t n_tensors, const RmspropOptions& h) {
  const bool use_momentum = h.momentum > 0;
  dispatch_float(dt, "rmsprop_step", [&](auto tag) {
    using T = decltype(tag);
    const RmspropScalars<T> s = rmsprop_scalars<T>(h);
    for (int64_t i = 0; i < n_tensors; ++i) {
      const int64_t n = numels[i];
      if (n == 0) continue;
      rmsprop_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
          at<T>(params, i), at<T>(square_avgs, i), h.centered ? at<T>(grad_avgs, i) : nullptr,
          use_momentum ? at<T>(momentum_bufs, i) : nullptr, static_cast<const T*>(grads[i]), n, s,
          h.centered, use_momentum, h.maximize);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
  });
}

void adam_step_cuda(DType dt, void* const* params, void* const* exp_avgs, void* const* exp_avg_sqs,
                    void* const* max_exp_avg_sqs, const void* const* grads, const int64_t* numels,
                    int64_t n_tensors, const AdamOptions& h) {
  dispatch_float(dt, "adam_step", [&](auto tag) {
    using T = decltype(tag);
    const AdamScalars<T> s = adam_scalars<T>(h);
    for (int64_t i = 0; i < n_tensors; ++i) {
      const int64_t n = numels[i];
      if (n == 0) continue;
      adam_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
          at<T>(params, i), at<T>(exp_avgs, i), at<T>(exp_avg_sqs, i),
          h.amsgrad ? at<T>(max_exp_avg_sqs, i) : nullptr, static_cast<const T*>(grads[i]), n, s,
          h.amsgrad, h.maximize);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
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
