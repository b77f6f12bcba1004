// The float32 SIMD entry points of the activation and loss ISA units (see [note: ISA units]):
// plain extern functions in fastnn::avx512 / fastnn::avx2, declared once here for the generic
// drivers (activations.cpp, softmax_xent.cpp), which thread and dispatch. Declarations only.
#pragma once
#include <stdint.h>

namespace fastnn {

// Which element-wise function an activation kernel applies.
enum class ActOp { relu, leaky_relu, sigmoid, tanh, gelu_erf, gelu_tanh };

#define FASTNN_DECLARE_VEC_ENTRIES                                                               \
  /* forward: y = f(x); backward: dx = dy * f'(from xy), xy = x or y as the op needs */          \
  void act_forward_f32(ActOp op, float* y, const float* x, float slope, int64_t n);              \
  void act_backward_f32(ActOp op, float* dx, const float* dy, const float* xy, float slope,      \
                        int64_t n);                                                              \
  /* rows of length cols; log selects log_softmax */                                              \
  void softmax_forward_f32(bool log, float* y, const float* x, int64_t rows, int64_t cols);      \
  void softmax_backward_f32(bool log, float* dx, const float* dy, const float* y, int64_t rows,  \
                            int64_t cols);                                                       \
  /* one row of softmax cross-entropy; see softmax_xent.cpp for the formulas */                   \
  float xent_row_index_f32(float* g, const float* z, int64_t C, int64_t t, const float* w,      \
                           float eps, float w_total, float scale);                               \
  /* four consecutive rows of index-target cross-entropy without label smoothing, C <= W */      \
  void xent_rows4_narrow_f32(float* loss4, float* g, const float* z, int64_t C, const int64_t* t, \
                             const float* w, float scale);                                       \
  int vec_width_f32();                                                                           \
  float xent_row_prob_f32(float* g, const float* z, const float* q, int64_t C, const float* w,  \
                          float eps, float scale);                                               \
  /* n elements of BCE-with-logits; returns sum of loss; w/pw may be null */                      \
  float bce_f32(float* loss, float* g, const float* x, const float* t, const float* w,          \
                const float* pw, int64_t n, float gscale);

namespace avx512 {
FASTNN_DECLARE_VEC_ENTRIES
}
namespace avx2 {
FASTNN_DECLARE_VEC_ENTRIES
}
#undef FASTNN_DECLARE_VEC_ENTRIES

}  // namespace fastnn
