// im2col / col2im and 2-D max pooling, CPU (float32, float64). NCHW, row-major, contiguous.
//
// Geometry (Conv2dGeom in fastnn.h), per spatial axis with kernel k, stride s, padding p,
// dilation d:  out = floor((in + 2p - d(k-1) - 1) / s) + 1   (PyTorch's Conv2d / MaxPool2d).
//
// im2col: cols (N, R, L), L = Ho*Wo, R = C*kh*kw (+1 with Im2colRows::patches_and_ones):
//   cols[n, (c*kh + i)*kw + j, oh*Wo + ow] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]
//   (0 where that lies in the padding). The row order matches weight.reshape(C_out, C*kh*kw),
//   so conv2d is W @ cols[n]. The optional last row of ones lets a GEMM with [W | b] add a
//   per-output-channel bias (see python/fastnn/_ops/conv.py).
// col2im: the adjoint of im2col (the backward of the gather is a scatter-add): every column
//   entry is added back to the pixel it was read from; overlapping patches accumulate, padding
//   entries are dropped. Writes (overwrites) x.
// max_pool2d: y[n,c,oh,ow] = max over the window (padding is -inf, as in torch), idx the flat
//   index ih*W + iw of the maximum within its (n, c) plane; NaN wins (torch's rule). Backward
//   scatter-adds dy at idx (windows may overlap when stride < kernel), overwriting dx.
//
// Work is split over (n, c) planes on the thread pool: each plane's output region is written
// by exactly one task, so col2im and the pooling backward need no atomics, and their sums are
// in a fixed order (deterministic for any thread count).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/parallel.h"
#include "fastnn.h"

namespace fastnn {
namespace {

constexpr int64_t kGrainElems = 32768;  // elements of work per task chunk before threads pay off

int64_t grain_for(int64_t work_per_task) {
  return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, work_per_task));
}

// The output columns ow in [lo, hi) whose input column ow*s + off lies in [0, W).
void valid_range(int64_t off, int64_t s, int64_t W, int64_t Wo, int64_t& lo, int64_t& hi) {
  lo = std::min(Wo, off >= 0 ? 0 : (-off + s - 1) / s);
  hi = W - 1 - off < 0 ? 0 : std::min(Wo, (W - 1 - off) / s + 1);
  hi = std::max(hi, lo);
}

// ---- im2col / col2im --------------------------------------------------------------------------

template <class T>
void im2col_plane(T* cols, const T* x, const Conv2dGeom& g, int64_t n, int64_t c, int64_t R) {
  const int64_t L = g.Ho * g.Wo;
  const T* plane = x + (n * g.C + c) * g.H * g.W;
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      T* row = cols + (n * R + (c * g.kh + i) * g.kw + j) * L;
      const int64_t off_w = j * g.dw - g.pw;
      int64_t lo, hi;
      valid_range(off_w, g.sw, g.W, g.Wo, lo, hi);
      for (int64_t oh = 0; oh < g.Ho; ++oh) {
        T* r = row + oh * g.Wo;
        const int64_t ih = oh * g.sh - g.ph + i * g.dh;
        if (ih < 0 || ih >= g.H) {
          std::fill(r, r + g.Wo, T(0));
          continue;
        }
        const T* xr = plane + ih * g.W;  // column ow reads xr[ow*sw + off_w], in range on [lo, hi)
        std::fill(r, r + lo, T(0));
        if (g.sw == 1) {
          if (hi > lo) std::memcpy(r + lo, xr + lo + off_w, static_cast<size_t>(hi - lo) * sizeof(T));
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) r[ow] = xr[ow * g.sw + off_w];
        }
        std::fill(r + hi, r + g.Wo, T(0));
      }
    }
  }
}

template <class T>
void im2col_impl(T* cols, const T* x, const Conv2dGeom& g, Im2colRows rows) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  const int64_t R = K + (rows == Im2colRows::patches_and_ones ? 1 : 0);
  parallel_for(g.N * g.C, grain_for(K / std::max<int64_t>(1, g.C) * L), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) im2col_plane(cols, x, g, t / g.C, t % g.C, R);
  });
  if (R > K)
    for (int64_t n = 0; n < g.N; ++n) std::fill(cols + (n * R + K) * L, cols + (n * R + K + 1) * L, T(1));
}

template <class T>
void col2im_plane(T* x, const T* cols, const Conv2dGeom& g, int64_t n, int64_t c) {
  const int64_t K = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
  T* plane = x + (n * g.C + c) * g.H * g.W;
  std::fill(plane, plane + g.H * g.W, T(0));
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      const T* row = cols + (n * K + (c * g.kh + i) * g.kw + j) * L;
      const int64_t off_w = j * g.dw - g.pw;
      int64_t lo, hi;
      valid_range(off_w, g.sw, g.W, g.Wo, lo, hi);
      for (int64_t oh = 0; oh < g.Ho; ++oh) {
        const int64_t ih = oh * g.sh - g.ph + i * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        const T* r = row + oh * g.Wo;
        T* xr = plane + ih * g.W;
        if (g.sw == 1) {
          for (int64_t ow = lo; ow < hi; ++ow) xr[ow + off_w] += r[ow];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) xr[ow * g.sw + off_w] += r[ow];
        }
      }
    }
  }
}

template <class T>
void col2im_impl(T* x, const T* cols, const Conv2dGeom& g) {
  parallel_for(g.N * g.C, grain_for(g.kh * g.kw * g.Ho * g.Wo + g.H * g.W), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) col2im_plane(x, cols, g, t / g.C, t % g.C);
  });
}

// ---- max pooling --------------------------------------------------------------------------------

template <class T>
void max_pool_plane(T* y, int64_t* idx, const T* x, const Conv2dGeom& g) {
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const int64_t h0 = oh * g.sh - g.ph;
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const int64_t w0 = ow * g.sw - g.pw;
      T best = -INFINITY;
      int64_t bi = -1;
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t ih = h0 + i * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t iw = w0 + j * g.dw;
          if (iw < 0 || iw >= g.W) continue;
          const T v = x[ih * g.W + iw];
          // The first valid element seeds the index, so an all -inf window still points inside.
          if (bi < 0 || v > best || std::isnan(v)) {
            best = v;
            bi = ih * g.W + iw;
          }
        }
      }
      y[oh * g.Wo + ow] = best;  // the padding rule (p <= k/2) guarantees bi >= 0
      idx[oh * g.Wo + ow] = bi;
    }
  }
}

template <class T>
void max_pool_forward_impl(T* y, int64_t* idx, const T* x, const Conv2dGeom& g) {
  const int64_t in = g.H * g.W, out = g.Ho * g.Wo;
  parallel_for(g.N * g.C, grain_for(out * g.kh * g.kw), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) max_pool_plane(y + t * out, idx + t * out, x + t * in, g);
  });
}

template <class T>
void max_pool_backward_impl(T* dx, const T* dy, const int64_t* idx, const Conv2dGeom& g) {
  const int64_t in = g.H * g.W, out = g.Ho * g.Wo;
  parallel_for(g.N * g.C, grain_for(in + out), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      T* p = dx + t * in;
      std::fill(p, p + in, T(0));
      for (int64_t k = 0; k < out; ++k) p[idx[t * out + k]] += dy[t * out + k];
    }
  });
}

}  // namespace

// ---- launchers ----------------------------------------------------------------------------------

void im2col_cpu(float* cols, const float* x, const Conv2dGeom& g, Im2colRows rows) { im2col_impl(cols, x, g, rows); }
void im2col_cpu(double* cols, const double* x, const Conv2dGeom& g, Im2colRows rows) { im2col_impl(cols, x, g, rows); }
void col2im_cpu(float* x, const float* cols, const Conv2dGeom& g) { col2im_impl(x, cols, g); }
void col2im_cpu(double* x, const double* cols, const Conv2dGeom& g) { col2im_impl(x, cols, g); }
void max_pool2d_forward_cpu(float* y, int64_t* idx, const float* x, const Conv2dGeom& g) {
  max_pool_forward_impl(y, idx, x, g);
}
void max_pool2d_forward_cpu(double* y, int64_t* idx, const double* x, const Conv2dGeom& g) {
  max_pool_forward_impl(y, idx, x, g);
}
void max_pool2d_backward_cpu(float* dx, const float* dy, const int64_t* idx, const Conv2dGeom& g) {
  max_pool_backward_impl(dx, dy, idx, g);
}
void max_pool2d_backward_cpu(double* dx, const double* dy, const int64_t* idx, const Conv2dGeom& g) {
  max_pool_backward_impl(dx, dy, idx, g);
}

}  // namespace fastnn
