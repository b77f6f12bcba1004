// Host loops over the per-element bodies of csrc/window_ops.h, one call per element exactly as
// the CUDA kernels make them (cuda/conv.cu, cuda/pool.cu), compiled by tests/test_window_ops.py
// into a small shared library and compared there with the CPU kernels.
#include <stdint.h>

#include "window_ops.h"

using fastnn::window::Geom;

namespace {

Geom geom(const int64_t* v) {
  return Geom{v[0], v[1], v[2], v[3],  v[4],  v[5],  v[6],
              v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
}

template <class T>
void im2col(T* cols, const T* x, const int64_t* gv, int64_t R) {
  const Geom g = geom(gv);
  const int64_t L = g.Ho * g.Wo;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t r = 0; r < R; ++r)
      for (int64_t l = 0; l < L; ++l)
        cols[(n * R + r) * L + l] = fastnn::window::im2col_value(x, g, n, r, l);
}

template <class T>
void col2im(T* x, const T* cols, const int64_t* gv) {
  const Geom g = geom(gv);
  const int64_t L = g.Ho * g.Wo, K = g.C * g.kh * g.kw;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t h = 0; h < g.H; ++h)
        for (int64_t w = 0; w < g.W; ++w)
          x[((n * g.C + c) * g.H + h) * g.W + w] =
              fastnn::window::col2im_value(cols, K * L, L, g, n, c, h, w);
}

template <class T>
void max_pool(T* y, int64_t* idx, const T* x, const int64_t* gv) {
  const Geom g = geom(gv);
  for (int64_t p = 0; p < g.N * g.C; ++p)
    for (int64_t oh = 0; oh < g.Ho; ++oh)
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        const int64_t o = (p * g.Ho + oh) * g.Wo + ow;
        y[o] = fastnn::window::max_pool_value(x + p * g.H * g.W, g, oh, ow, idx[o]);
      }
}

template <class T>
void max_pool_2x2(T* y, uint8_t* code, const T* x, const int64_t* gv) {
  const Geom g = geom(gv);
  for (int64_t p = 0; p < g.N * g.C; ++p)
    for (int64_t oh = 0; oh < g.Ho; ++oh)
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        const int64_t o = (p * g.Ho + oh) * g.Wo + ow;
        int k = 0;
        y[o] = fastnn::window::max_pool_2x2_value(x + p * g.H * g.W, g.W, oh, ow, k);
        code[o] = static_cast<uint8_t>(k);
      }
}

template <class T>
int64_t max_pool_2x2_grad(T* dx, const T* dy, const uint8_t* code, const int64_t* gv) {
  const Geom g = geom(gv);
  const int64_t in = g.H * g.W, out = g.Ho * g.Wo;
  int64_t bad_count = 0;
  for (int64_t p = 0; p < g.N * g.C; ++p)
    for (int64_t h = 0; h < g.H; ++h)
      for (int64_t w = 0; w < g.W; ++w) {
        bool bad = false;
        dx[p * in + h * g.W + w] =
            fastnn::window::max_pool_2x2_grad(dy + p * out, code + p * out, g.Ho, g.Wo, h, w, bad);
        bad_count += bad;
      }
  return bad_count;
}

template <class T>
void avg_pool(T* y, const T* x, const int64_t* gv, int include_pad, int64_t divisor) {
  const Geom g = geom(gv);
  for (int64_t p = 0; p < g.N * g.C; ++p)
    for (int64_t oh = 0; oh < g.Ho; ++oh)
      for (int64_t ow = 0; ow < g.Wo; ++ow)
        y[(p * g.Ho + oh) * g.Wo + ow] =
            fastnn::window::avg_pool_value(x + p * g.H * g.W, g, oh, ow, include_pad != 0, divisor);
}

template <class T>
void avg_pool_grad(T* dx, const T* dy, const int64_t* gv, int include_pad, int64_t divisor) {
  const Geom g = geom(gv);
  for (int64_t p = 0; p < g.N * g.C; ++p)
    for (int64_t h = 0; h < g.H; ++h)
      for (int64_t w = 0; w < g.W; ++w)
        dx[(p * g.H + h) * g.W + w] =
            fastnn::window::avg_pool_grad(dy + p * g.Ho * g.Wo, g, h, w, include_pad != 0, divisor);
}

}  // namespace

#define FASTNN_HARNESS(T, S)                                                                   \
  extern "C" void im2col_##S(T* c, const T* x, const int64_t* g, int64_t R) {                  \
    im2col(c, x, g, R);                                                                        \
  }                                                                                            \
  extern "C" void col2im_##S(T* x, const T* c, const int64_t* g) { col2im(x, c, g); }          \
  extern "C" void max_pool_##S(T* y, int64_t* i, const T* x, const int64_t* g) {               \
    max_pool(y, i, x, g);                                                                      \
  }                                                                                            \
  extern "C" void max_pool_2x2_##S(T* y, uint8_t* k, const T* x, const int64_t* g) {           \
    max_pool_2x2(y, k, x, g);                                                                  \
  }                                                                                            \
  extern "C" int64_t max_pool_2x2_grad_##S(T* dx, const T* dy, const uint8_t* k,               \
                                           const int64_t* g) {                                 \
    return max_pool_2x2_grad(dx, dy, k, g);                                                    \
  }                                                                                            \
  extern "C" void avg_pool_##S(T* y, const T* x, const int64_t* g, int ip, int64_t d) {        \
    avg_pool(y, x, g, ip, d);                                                                  \
  }                                                                                            \
  extern "C" void avg_pool_grad_##S(T* dx, const T* dy, const int64_t* g, int ip, int64_t d) { \
    avg_pool_grad(dx, dy, g, ip, d);                                                           \
  }

FASTNN_HARNESS(float, f32)
FASTNN_HARNESS(double, f64)

extern "C" int64_t out_size(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d) {
  return fastnn::window::out_size(n, k, s, p, d);
}
