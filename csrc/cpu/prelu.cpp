// PReLU on the CPU, float32 and float64: y = x for x > 0, else w[c] x, with x viewed as
// (outer, C, inner) (C = the channel dim 1 of torch's input, inner = the elements per channel
// and sample) and one learnable weight per channel (C = 1: one weight shared by all).
//
// Backward: dx = dy where x > 0, else w[c] dy; dw[c] = sum over outer and inner of dy x where
// x <= 0, accumulated in double. dx is split over the (outer, C) planes; dw over the channels,
// each summed by one thread in a fixed order (the same result for any thread count).
#include "cpu/fastnn_cpu.h"
#include "cpu/parallel.h"
#include "scalar_math.h"

namespace fastnn {
namespace {

int64_t plane_grain(int64_t inner) { return 32768 / (inner > 0 ? inner : 1) + 1; }

template <class T>
void forward(T* y, const T* x, const T* w, int64_t outer, int64_t C, int64_t inner) {
  parallel_for(outer * C, plane_grain(inner), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T wc = w[p % C];
      const T* xp = x + p * inner;
      T* yp = y + p * inner;
      for (int64_t i = 0; i < inner; ++i) yp[i] = math::prelu(xp[i], wc);
    }
  });
}

template <class T>
void backward(T* dx, T* dw, const T* dy, const T* x, const T* w, int64_t outer, int64_t C,
              int64_t inner) {
  parallel_for(outer * C, plane_grain(inner), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T wc = w[p % C];
      const T *xp = x + p * inner, *gp = dy + p * inner;
      T* dp = dx + p * inner;
      for (int64_t i = 0; i < inner; ++i) dp[i] = xp[i] > T(0) ? gp[i] : wc * gp[i];
    }
  });
  if (dw == nullptr) return;
  parallel_for(C, plane_grain(outer * inner), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double s = 0;
      for (int64_t o = 0; o < outer; ++o) {
        const int64_t off = (o * C + c) * inner;
        for (int64_t i = 0; i < inner; ++i)
          if (!(x[off + i] > T(0))) s += double(dy[off + i]) * double(x[off + i]);
      }
      dw[c] = T(s);
    }
  });
}

}  // namespace

#define FASTNN_DEFINE_PRELU(T)                                                                    \
  void prelu_forward_cpu(T* y, const T* x, const T* w, int64_t outer, int64_t C, int64_t inner) { \
    forward(y, x, w, outer, C, inner);                                                            \
  }                                                                                               \
  void prelu_backward_cpu(T* dx, T* dw, const T* dy, const T* x, const T* w, int64_t outer,       \
                          int64_t C, int64_t inner) {                                             \
    backward(dx, dw, dy, x, w, outer, C, inner);                                                  \
  }
FASTNN_DEFINE_PRELU(float)
FASTNN_DEFINE_PRELU(double)
#undef FASTNN_DEFINE_PRELU

}  // namespace fastnn
