// Host loops over the per-element bodies of csrc/window_ops.h, one call per element exactly as
// the CUDA kernels make them (cuda/conv.cu, cuda/pool.cu), and the conv2d drivers of
// csrc/conv_driver.h on a host executor; compiled by tests/test_window_ops.py into a small shared
// library and compared there with the CPU kernels.
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "conv_driver.h"
#include "window_ops.h"

using fastnn::window::Geom;
using fastnn::window::GeomT;
using fastnn::window::narrow;
namespace W = fastnn::window;

namespace {

Geom geom(const int64_t* v) {
  return Geom{v[0], v[1], v[2], v[3],  v[4],  v[5],  v[6],
              v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
}

// The body loops run with the index type I of the kernels: int64, or int32 (the kernels' fast
// path; the tests pick geometries for which fits_int32 holds).
template <class T, class I>
void im2col(T* cols, const T* x, const int64_t* gv, int64_t R) {
  const GeomT<I> g = narrow<I>(geom(gv));
  const I L = g.Ho * g.Wo;
  for (I n = 0; n < g.N; ++n)
    for (I r = 0; r < I(R); ++r)
      for (I l = 0; l < L; ++l) cols[(n * I(R) + r) * L + l] = W::im2col_value(x, g, n, r, l);
}

template <class T, class I>
void col2im(T* x, const T* cols, const int64_t* gv) {
  const GeomT<I> g = narrow<I>(geom(gv));
  const I L = g.Ho * g.Wo, K = g.C * g.kh * g.kw;
  for (I n = 0; n < g.N; ++n)
    for (I c = 0; c < g.C; ++c)
      for (I h = 0; h < g.H; ++h)
        for (I w = 0; w < g.W; ++w)
          x[((n * g.C + c) * g.H + h) * g.W + w] = W::col2im_value(cols, K * L, L, g, n, c, h, w);
}

template <class T, class I>
void max_pool(T* y, int64_t* idx, const T* x, const int64_t* gv) {
  const GeomT<I> g = narrow<I>(geom(gv));
  for (I p = 0; p < g.N * g.C; ++p)
    for (I oh = 0; oh < g.Ho; ++oh)
      for (I ow = 0; ow < g.Wo; ++ow) {
        const I o = (p * g.Ho + oh) * g.Wo + ow;
        y[o] = W::max_pool_value(x + p * g.H * g.W, g, oh, ow, idx[o]);
      }
}

template <class T, class I>
void max_pool_2x2(T* y, uint8_t* code, const T* x, const int64_t* gv) {
  const GeomT<I> g = narrow<I>(geom(gv));
  for (I p = 0; p < g.N * g.C; ++p)
    for (I oh = 0; oh < g.Ho; ++oh)
      for (I ow = 0; ow < g.Wo; ++ow) {
        const I o = (p * g.Ho + oh) * g.Wo + ow;
        int k = 0;
        y[o] = W::max_pool_2x2_value(x + p * g.H * g.W, g.W, oh, ow, k);
        code[o] = static_cast<uint8_t>(k);
      }
}

template <class T, class I>
int64_t max_pool_2x2_grad(T* dx, const T* dy, const uint8_t* code, const int64_t* gv) {
  const GeomT<I> g = narrow<I>(geom(gv));
  const I in = g.H * g.W, out = g.Ho * g.Wo;
  int64_t bad_count = 0;
  for (I p = 0; p < g.N * g.C; ++p)
    for (I h = 0; h < g.H; ++h)
      for (I w = 0; w < g.W; ++w) {
        bool bad = false;
        dx[p * in + h * g.W + w] =
            W::max_pool_2x2_grad(dy + p * out, code + p * out, g.Ho, g.Wo, h, w, bad);
        bad_count += bad;
      }
  return bad_count;
}

template <class T, class I>
void avg_pool(T* y, const T* x, const int64_t* gv, int include_pad, int64_t divisor) {
  const GeomT<I> g = narrow<I>(geom(gv));
  for (I p = 0; p < g.N * g.C; ++p)
    for (I oh = 0; oh < g.Ho; ++oh)
      for (I ow = 0; ow < g.Wo; ++ow)
        y[(p * g.Ho + oh) * g.Wo + ow] =
            W::avg_pool_value(x + p * g.H * g.W, g, oh, ow, include_pad != 0, I(divisor));
}

template <class T, class I>
void avg_pool_grad(T* dx, const T* dy, const int64_t* gv, int include_pad, int64_t divisor) {
  const GeomT<I> g = narrow<I>(geom(gv));
  for (I p = 0; p < g.N * g.C; ++p)
    for (I h = 0; h < g.H; ++h)
      for (I w = 0; w < g.W; ++w)
        dx[(p * g.H + h) * g.W + w] =
            W::avg_pool_grad(dy + p * g.Ho * g.Wo, g, h, w, include_pad != 0, I(divisor));
}

// conv_driver.h's executor on the host: the kernels' per-element bodies in loops, a plain GEMM.
// Scratch starts as NaN, so a step that reads scratch nobody wrote shows in the results.
template <class T>
struct HostExec {
  int64_t budget;
  std::vector<T> ws[2];

  int64_t workspace_bytes() const { return budget; }
  T* workspace(int slot, int64_t elems) {
    ws[slot].assign(static_cast<size_t>(elems), T(NAN));
    return ws[slot].data();
  }
  void im2col(T* cols, const T* x, const Geom& g, int64_t n0, int64_t nb, int64_t R, int64_t sn,
              int64_t sr) {
    const int64_t L = g.Ho * g.Wo;
    for (int64_t n = 0; n < nb; ++n)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t l = 0; l < L; ++l)
          cols[n * sn + r * sr + l] = W::im2col_value(x, g, n0 + n, r, l);
  }
  void col2im(T* x, const T* cols, const Geom& g, int64_t n0, int64_t nb, int64_t sn, int64_t sr) {
    for (int64_t n = 0; n < nb; ++n)
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t h = 0; h < g.H; ++h)
          for (int64_t w = 0; w < g.W; ++w)
            x[(((n0 + n) * g.C + c) * g.H + h) * g.W + w] =
                fastnn::window::col2im_value(cols, sn, sr, g, n, c, h, w);
  }
  void gemm(T* c, const T* a, const T* b, int64_t batch, int64_t M, int64_t N, int64_t K, bool ta,
            bool tb, int64_t sa, int64_t sb, int64_t sc) {
    for (int64_t z = 0; z < batch; ++z)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          double acc = 0;
          for (int64_t k = 0; k < K; ++k) {
            const T av = ta ? a[z * sa + k * M + m] : a[z * sa + m * K + k];
            const T bv = tb ? b[z * sb + n * K + k] : b[z * sb + k * N + n];
            acc += double(av) * double(bv);
          }
          c[z * sc + m * N + n] = T(acc);
        }
  }
  void add_channel_bias(T* y, const T* b, int64_t total, int64_t C_out, int64_t L) {
    for (int64_t t = 0; t < total; ++t) y[t] += b[(t / L) % C_out];
  }
  void channel_sum(T* db, const T* dy, int64_t N, int64_t C_out, int64_t L) {
    for (int64_t o = 0; o < C_out; ++o) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t l = 0; l < L; ++l) acc += dy[(n * C_out + o) * L + l];
      db[o] = T(acc);
    }
  }
  void sum_images(T* dw, const T* part, int64_t nb, int64_t CK, bool accumulate) {
    for (int64_t j = 0; j < CK; ++j) {
      double acc = accumulate ? double(dw[j]) : 0.0;
      for (int64_t n = 0; n < nb; ++n) acc += part[n * CK + j];
      dw[j] = T(acc);
    }
  }
  void zero(T* p, int64_t n) { std::fill(p, p + n, T(0)); }
};

template <class T>
void conv_forward(T* y, const T* x, const T* w, const T* b, const int64_t* gv, int64_t C_out,
                  int64_t budget) {
  HostExec<T> e{budget, {}};
  fastnn::conv_driver::forward(e, y, x, w, b, geom(gv), C_out);
}

template <class T>
void conv_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const int64_t* gv,
                   int64_t C_out, int64_t budget) {
  HostExec<T> e{budget, {}};
  fastnn::conv_driver::backward(e, dx, dw, db, dy, x, w, geom(gv), C_out);
}

}  // namespace

#define FASTNN_BODIES(T, S, I)                                                                 \
  extern "C" void im2col_##S(T* c, const T* x, const int64_t* g, int64_t R) {                  \
    im2col<T, I>(c, x, g, R);                                                                  \
  }                                                                                            \
  extern "C" void col2im_##S(T* x, const T* c, const int64_t* g) { col2im<T, I>(x, c, g); }    \
  extern "C" void max_pool_##S(T* y, int64_t* i, const T* x, const int64_t* g) {               \
    max_pool<T, I>(y, i, x, g);                                                                \
  }                                                                                            \
  extern "C" void max_pool_2x2_##S(T* y, uint8_t* k, const T* x, const int64_t* g) {           \
    max_pool_2x2<T, I>(y, k, x, g);                                                            \
  }                                                                                            \
  extern "C" int64_t max_pool_2x2_grad_##S(T* dx, const T* dy, const uint8_t* k,               \
                                           const int64_t* g) {                                 \
    return max_pool_2x2_grad<T, I>(dx, dy, k, g);                                              \
  }                                                                                            \
  extern "C" void avg_pool_##S(T* y, const T* x, const int64_t* g, int ip, int64_t d) {        \
    avg_pool<T, I>(y, x, g, ip, d);                                                            \
  }                                                                                            \
  extern "C" void avg_pool_grad_##S(T* dx, const T* dy, const int64_t* g, int ip, int64_t d) { \
    avg_pool_grad<T, I>(dx, dy, g, ip, d);                                                     \
  }

#define FASTNN_DRIVER(T, S)                                                                    \
  extern "C" void conv_forward_##S(T* y, const T* x, const T* w, const T* b, const int64_t* g, \
                                   int64_t co, int64_t budget) {                               \
    conv_forward(y, x, w, b, g, co, budget);                                                   \
  }                                                                                            \
  extern "C" void conv_backward_##S(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w,  \
                                    const int64_t* g, int64_t co, int64_t budget) {            \
    conv_backward(dx, dw, db, dy, x, w, g, co, budget);                                        \
  }

FASTNN_BODIES(float, f32, int64_t)
FASTNN_BODIES(double, f64, int64_t)
FASTNN_BODIES(float, f32_i32, int32_t)
FASTNN_BODIES(double, f64_i32, int32_t)
FASTNN_DRIVER(float, f32)
FASTNN_DRIVER(double, f64)

extern "C" int64_t out_size(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d) {
  return fastnn::window::out_size(n, k, s, p, d);
}

extern "C" int fits_int32(const int64_t* g, int64_t elems) {
  return fastnn::window::fits_int32(geom(g), elems);
}
