// Element loops of the fused optimizer steps over one contiguous span: the traversal half of C3
// (the math is csrc/optim_math.h). Included by cpu/optim.cpp (generic x86-64) and by
// optim_avx2.cpp / optim_avx512.cpp, which recompile the same loops with wider ISA flags; the
// compiler vectorises them (sqrt and division vectorise because we build with -fno-math-errno).
// Everything is `static inline` ([note: optim math linkage]), so each unit keeps its own copy.
//
// Each loop loads an element's values into locals, calls the scalar update and stores them back;
// flags that decide which buffers exist (momentum, centered, amsgrad) are template parameters so
// the loops contain no conditional loads or stores. Pointers are __restrict: the bindings reject
// overlapping buffers.
#pragma once
#include <cstdint>

#include "optim_math.h"

namespace fastnn {
namespace optim_loops {

template <class T, bool MOMENTUM>
static inline void sgd_span(T* __restrict p, T* __restrict buf, const T* __restrict g, int64_t n,
                            const SgdScalars<T>& scalars, bool nesterov, bool maximize, bool first_step) {
  const SgdScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], b = MOMENTUM ? buf[i] : T(0);
    sgd_update(pv, b, g[i], s, MOMENTUM, nesterov, maximize, first_step);
    p[i] = pv;
    if (MOMENTUM) buf[i] = b;
  }
}

template <class T>
static inline void sgd_run(T* p, T* buf, const T* g, int64_t n, const SgdScalars<T>& s, bool momentum,
                           bool nesterov, bool maximize, bool first_step) {
  if (momentum)
    sgd_span<T, true>(p, buf, g, n, s, nesterov, maximize, first_step);
  else
    sgd_span<T, false>(p, buf, g, n, s, nesterov, maximize, first_step);
}

template <class T>
static inline void adagrad_run(T* __restrict p, T* __restrict sum, const T* __restrict g, int64_t n,
                               const AdagradScalars<T>& scalars, bool maximize) {
  const AdagradScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], sv = sum[i];
    adagrad_update(pv, sv, g[i], s, maximize);
    p[i] = pv;
    sum[i] = sv;
  }
}

template <class T, bool CENTERED, bool MOMENTUM>
static inline void rmsprop_span(T* __restrict p, T* __restrict sq, T* __restrict ga, T* __restrict buf,
                                const T* __restrict g, int64_t n, const RmspropScalars<T>& scalars,
                                bool maximize) {
  const RmspropScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], sv = sq[i], gav = CENTERED ? ga[i] : T(0), bv = MOMENTUM ? buf[i] : T(0);
    rmsprop_update(pv, sv, gav, bv, g[i], s, CENTERED, MOMENTUM, maximize);
    p[i] = pv;
    sq[i] = sv;
    if (CENTERED) ga[i] = gav;
    if (MOMENTUM) buf[i] = bv;
  }
}

template <class T>
static inline void rmsprop_run(T* p, T* sq, T* ga, T* buf, const T* g, int64_t n, const RmspropScalars<T>& s,
                               bool centered, bool momentum, bool maximize) {
  if (centered) {
    if (momentum)
      rmsprop_span<T, true, true>(p, sq, ga, buf, g, n, s, maximize);
    else
      rmsprop_span<T, true, false>(p, sq, ga, buf, g, n, s, maximize);
  } else {
    if (momentum)
      rmsprop_span<T, false, true>(p, sq, ga, buf, g, n, s, maximize);
    else
      rmsprop_span<T, false, false>(p, sq, ga, buf, g, n, s, maximize);
  }
}

template <class T, bool AMSGRAD>
static inline void adam_span(T* __restrict p, T* __restrict m, T* __restrict v, T* __restrict vmax,
                             const T* __restrict g, int64_t n, const AdamScalars<T>& scalars, bool maximize) {
  const AdamScalars<T> s = scalars;
  for (int64_t i = 0; i < n; ++i) {
    T pv = p[i], mv = m[i], vv = v[i], xv = AMSGRAD ? vmax[i] : T(0);
    adam_update(pv, mv, vv, xv, g[i], s, AMSGRAD, maximize);
    p[i] = pv;
    m[i] = mv;
    v[i] = vv;
    if (AMSGRAD) vmax[i] = xv;
  }
}

template <class T>
static inline void adam_run(T* p, T* m, T* v, T* vmax, const T* g, int64_t n, const AdamScalars<T>& s,
                            bool amsgrad, bool maximize) {
  if (amsgrad)
    adam_span<T, true>(p, m, v, vmax, g, n, s, maximize);
  else
    adam_span<T, false>(p, m, v, vmax, g, n, s, maximize);
}

}  // namespace optim_loops
}  // namespace fastnn

// The extern entry points every ISA unit defines (in namespace fastnn::<isa>), one overload per
// optimizer and dtype: they only forward to the loops above, compiled with that unit's flags.
#define FASTNN_OPTIM_ISA_ENTRY_POINTS(T)                                                              \
  void sgd_kernel(T* p, T* buf, const T* g, int64_t n, const SgdScalars<T>& s, bool momentum,               \
                    bool nesterov, bool maximize, bool first_step) {                                          \
    optim_loops::sgd_run<T>(p, buf, g, n, s, momentum, nesterov, maximize, first_step);                       \
  }                                                                                                           \
  void adagrad_kernel(T* p, T* sum, const T* g, int64_t n, const AdagradScalars<T>& s, bool maximize) {     \
    optim_loops::adagrad_run<T>(p, sum, g, n, s, maximize);                                                   \
  }                                                                                                           \
  void rmsprop_kernel(T* p, T* sq, T* ga, T* buf, const T* g, int64_t n, const RmspropScalars<T>& s,        \
                        bool centered, bool momentum, bool maximize) {                                        \
    optim_loops::rmsprop_run<T>(p, sq, ga, buf, g, n, s, centered, momentum, maximize);                       \
  }                                                                                                           \
  void adam_kernel(T* p, T* m, T* v, T* vmax, const T* g, int64_t n, const AdamScalars<T>& s, bool amsgrad, \
                     bool maximize) {                                                                         \
    optim_loops::adam_run<T>(p, m, v, vmax, g, n, s, amsgrad, maximize);                                      \
  }

#define FASTNN_OPTIM_ISA_DECLARATIONS(T)                                                              \
  void sgd_kernel(T* p, T* buf, const T* g, int64_t n, const SgdScalars<T>& s, bool momentum,               \
                    bool nesterov, bool maximize, bool first_step);                                           \
  void adagrad_kernel(T* p, T* sum, const T* g, int64_t n, const AdagradScalars<T>& s, bool maximize);      \
  void rmsprop_kernel(T* p, T* sq, T* ga, T* buf, const T* g, int64_t n, const RmspropScalars<T>& s,        \
                        bool centered, bool momentum, bool maximize);                                         \
  void adam_kernel(T* p, T* m, T* v, T* vmax, const T* g, int64_t n, const AdamScalars<T>& s, bool amsgrad, \
                     bool maximize);
