// 2-D max and average pooling, CPU (float32, float64). NCHW, row-major, contiguous.
//
// Forward: y[n,c,oh,ow] = the max over the window (padding is -inf, as in torch), idx the flat
// index ih*W + iw of that max within its (n, c) plane. Elements are visited row by row and one
// replaces the running max when it is greater or NaN, so a NaN wins (the last NaN of the window
// gives the index) and among equal maxima the first one keeps it: torch's rule.
// Backward: dx = dy scatter-added at idx (windows overlap when stride < kernel); overwrites dx.
// It also checks the indices (they may come from the user), on the way, not in a separate pass.
//
// Why the loops look the way they do: the data decide each comparison, so a branch per element
// mispredicts on random inputs (a 3x slowdown against all-equal data). Every comparison here
// is a select (cmov / blend), and the bounds of each window are clipped once per output instead
// of tested per element. The 2x2 stride-2 window of most CNNs gets its own unrolled loop, and its
// backward writes each dx element exactly once (disjoint windows) instead of zero-fill + scatter.
//
// Work is split over (n, c) planes on the thread pool; each plane is written by one task, so the
// backward needs no atomics and its sums run in a fixed order (deterministic for any thread count).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "cpu/cpu_features.h"
#include "cpu/fastnn_cpu.h"
#include "cpu/max_pool_code.h"
#include "cpu/parallel.h"
#include "cpu/pool_simd.h"
#include "window_ops.h"

namespace fastnn {
namespace {

constexpr int64_t kGrainElems = 32768;  // elements of work per task chunk before threads pay off

int64_t grain_for(int64_t work_per_task) {
  return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, work_per_task));
}

bool is_2x2_stride2(const Conv2dGeom& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 &&
         g.dw == 1;
}

// Taking v over the running max (window::max_takes, the rule the CUDA kernels share).
template <class T>
inline bool takes(T v, T best) {
  return window::max_takes(v, best);
}

// t ? a : b through bit masks. A plain ?: on floats is compiled to a branch by GCC here, and
// that branch is what made the time depend on the data.
template <class T>
struct BitsOf;
template <>
struct BitsOf<float> {
  using type = uint32_t;
};
template <>
struct BitsOf<double> {
  using type = uint64_t;
};
template <class T>
inline T pick(bool t, T a, T b) {
  using U = typename BitsOf<T>::type;
  const U m = U(0) - U(t);
  U ua, ub;
  std::memcpy(&ua, &a, sizeof(T));
  std::memcpy(&ub, &b, sizeof(T));
  const U r = (ua & m) | (ub & ~m);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}
inline int64_t pick(bool t, int64_t a, int64_t b) {
  const int64_t m = -int64_t(t);
  return (a & m) | (b & ~m);
}

// The window taps [lo, hi) of one axis that fall inside [0, n), for a window starting at p0.
// The padding rule (p <= k/2) keeps a window non-empty unless the dilation is large.
inline void tap_range(int64_t p0, int64_t d, int64_t k, int64_t n, int64_t& lo, int64_t& hi) {
  window::taps(p0, d, k, n, lo, hi);
}

template <class T>
void max_pool_plane(T* y, int64_t* idx, const T* x, const Conv2dGeom& g) {
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const int64_t h0 = oh * g.sh - g.ph;
    int64_t i0, i1;
    tap_range(h0, g.dh, g.kh, g.H, i0, i1);
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const int64_t w0 = ow * g.sw - g.pw;
      int64_t j0, j1;
      tap_range(w0, g.dw, g.kw, g.W, j0, j1);
      int64_t bi = (h0 + i0 * g.dh) * g.W + w0 + j0 * g.dw;
      if (i0 >= i1 || j0 >= j1) {  // every tap misses the input: -inf, as torch
        y[oh * g.Wo + ow] = -std::numeric_limits<T>::infinity();
        idx[oh * g.Wo + ow] = bi;
        continue;
      }
      T best = x[bi];
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t row = (h0 + i * g.dh) * g.W + w0;
        for (int64_t j = j0; j < j1; ++j) {
          const int64_t at = row + j * g.dw;
          const T v = x[at];
          const bool t = takes(v, best);
          best = pick(t, v, best);
          bi = pick(t, at, bi);
        }
      }
      y[oh * g.Wo + ow] = best;
      idx[oh * g.Wo + ow] = bi;
    }
  }
}

// Window taps in scan order: (0,0), (0,1), (1,0), (1,1), i.e. offsets 0, 1, W, W+1.
template <class T>
void max_pool_plane_2x2(T* y, int64_t* idx, const T* x, const Conv2dGeom& g) {
  const int64_t W = g.W;
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const T* r0 = x + 2 * oh * W;
    const T* r1 = r0 + W;
    T* yr = y + oh * g.Wo;
    int64_t* ir = idx + oh * g.Wo;
    const int64_t base = 2 * oh * W;
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const T a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
      T best = a;
      int64_t k = 0;
      bool t = takes(b, best);
      best = pick(t, b, best);
      k = pick(t, int64_t(1), k);
      t = takes(c, best);
      best = pick(t, c, best);
      k = pick(t, int64_t(W), k);
      t = takes(d, best);
      best = pick(t, d, best);
      k = pick(t, int64_t(W + 1), k);
      yr[ow] = best;
      ir[ow] = base + 2 * ow + k;
    }
  }
}

// The float32 2x2 planes in the vector units (pool_simd.h); nullptr: the scalar loops here.
struct Pool2x2Entries {
  void (*forward)(float*, int64_t*, const float*, int64_t, int64_t, int64_t, int64_t);
  bool (*backward)(float*, const float*, const int64_t*, int64_t, int64_t, int64_t, int64_t);
};
const IsaTable<Pool2x2Entries> kPool2x2{{{
    {nullptr, nullptr},
    {avx2::max_pool_2x2_plane_f32, avx2::max_pool_2x2_backward_plane_f32},
    {avx512::max_pool_2x2_plane_f32, avx512::max_pool_2x2_backward_plane_f32},
}}};

// The float32 code planes in the vector units (pool_simd.h); nullptr: the scalar loops.
struct Pool2x2CodeEntries {
  void (*forward)(float*, uint8_t*, const float*, int64_t, int64_t, int64_t, int64_t);
  bool (*backward)(float*, const float*, const uint8_t*, int64_t, int64_t, int64_t, int64_t);
};
const IsaTable<Pool2x2CodeEntries> kPool2x2Code{{{
    {nullptr, nullptr},
    {avx2::max_pool_2x2_code_plane_f32, avx2::max_pool_2x2_code_backward_plane_f32},
    {avx512::max_pool_2x2_code_plane_f32, avx512::max_pool_2x2_code_backward_plane_f32},
}}};

template <class T>
void max_pool_plane_2x2_any(T* y, int64_t* idx, const T* x, const Conv2dGeom& g) {
  if constexpr (std::is_same_v<T, float>) {
    if (const auto f = kPool2x2[active_isa()].forward) return f(y, idx, x, g.H, g.W, g.Ho, g.Wo);
  }
  max_pool_plane_2x2(y, idx, x, g);
}

template <class T>
void max_pool_forward_impl(T* y, int64_t* idx, const T* x, const Conv2dGeom& g) {
  const int64_t in = g.H * g.W, out = g.Ho * g.Wo;
  const bool fast = is_2x2_stride2(g);
  parallel_for(g.N * g.C, grain_for(out * g.kh * g.kw), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      if (fast)
        max_pool_plane_2x2_any(y + t * out, idx + t * out, x + t * in, g);
      else
        max_pool_plane(y + t * out, idx + t * out, x + t * in, g);
    }
  });
}

template <class T>
void scatter_plane(T* dx, const T* dy, const int64_t* idx, int64_t in, int64_t out) {
  std::fill(dx, dx + in, T(0));
  for (int64_t k = 0; k < out; ++k) dx[idx[k]] += dy[k];
}

// When Ho = H/2 and Wo = W/2 (rounded down) and every index lies in its own 2x2 stride-2 window,
// the windows are disjoint and each dx element gets at most one dy: write it directly. Returns
// false (after writing garbage) when some index lies elsewhere; the caller then scatters.
template <class T>
bool scatter_plane_2x2(T* dx, const T* dy, const int64_t* idx, const Conv2dGeom& g) {
  const int64_t W = g.W;
  bool ok = true;
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    T* d0 = dx + 2 * oh * W;
    T* d1 = d0 + W;
    const T* gr = dy + oh * g.Wo;
    const int64_t* ir = idx + oh * g.Wo;
    const int64_t base = 2 * oh * W;
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const int64_t k = ir[ow] - base - 2 * ow;
      const T v = gr[ow];
      const bool k0 = k == 0, k1 = k == 1, k2 = k == W, k3 = k == W + 1;
      d0[2 * ow] = pick(k0, v, T(0));
      d0[2 * ow + 1] = pick(k1, v, T(0));
      d1[2 * ow] = pick(k2, v, T(0));
      d1[2 * ow + 1] = pick(k3, v, T(0));
      ok &= k0 | k1 | k2 | k3;
    }
    if (W & 1) d0[W - 1] = d1[W - 1] = T(0);
  }
  if (g.H & 1) std::fill(dx + (g.H - 1) * W, dx + g.H * W, T(0));
  return ok;
}

template <class T>
bool scatter_plane_2x2_any(T* dx, const T* dy, const int64_t* idx, const Conv2dGeom& g) {
  if constexpr (std::is_same_v<T, float>) {
    if (const auto f = kPool2x2[active_isa()].backward) return f(dx, dy, idx, g.H, g.W, g.Ho, g.Wo);
  }
  return scatter_plane_2x2(dx, dy, idx, g);
}

template <class T>
int64_t max_pool_backward_impl(T* dx, const T* dy, const int64_t* idx, const Conv2dGeom& g) {
  const int64_t in = g.H * g.W, out = g.Ho * g.Wo;
  const bool halves = g.Ho > 0 && g.Wo > 0 && g.Ho == g.H / 2 && g.Wo == g.W / 2;
  std::atomic<int64_t> first_bad{-1};
  parallel_for(g.N * g.C, grain_for(in + out), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t* ip = idx + t * out;
      if (halves && scatter_plane_2x2_any(dx + t * in, dy + t * out, ip, g)) continue;
      int64_t k = 0;
      while (k < out && ip[k] >= 0 && ip[k] < in) ++k;
      if (k == out) {
        scatter_plane(dx + t * in, dy + t * out, ip, in, out);
        continue;
      }
      const int64_t at = t * out + k;
      int64_t seen = first_bad.load();
      while ((seen < 0 || at < seen) && !first_bad.compare_exchange_weak(seen, at)) {
      }
    }
  });
  return first_bad.load();
}

// ---- max pooling 2x2 with window codes (cpu/max_pool_code.h) ----------------------------------

template <class T>
void max_pool_code_plane_2x2(T* y, uint8_t* code, const T* x, const Conv2dGeom& g) {
  const int64_t W = g.W;
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const T* r0 = x + 2 * oh * W;
    const T* r1 = r0 + W;
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const T a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
      T best = a;
      int64_t k = 0;
      bool t = takes(b, best);
      best = pick(t, b, best);
      k = pick(t, int64_t(1), k);
      t = takes(c, best);
      best = pick(t, c, best);
      k = pick(t, int64_t(2), k);
      t = takes(d, best);
      best = pick(t, d, best);
      k = pick(t, int64_t(3), k);
      y[oh * g.Wo + ow] = best;
      code[oh * g.Wo + ow] = static_cast<uint8_t>(k);
    }
  }
}

template <class T>
bool scatter_code_plane_2x2(T* dx, const T* dy, const uint8_t* code, const Conv2dGeom& g) {
  const int64_t W = g.W;
  bool ok = true;
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    T* d0 = dx + 2 * oh * W;
    T* d1 = d0 + W;
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const uint8_t k = code[oh * g.Wo + ow];
      const T v = dy[oh * g.Wo + ow];
      d0[2 * ow] = pick(k == 0, v, T(0));
      d0[2 * ow + 1] = pick(k == 1, v, T(0));
      d1[2 * ow] = pick(k == 2, v, T(0));
      d1[2 * ow + 1] = pick(k == 3, v, T(0));
      ok &= k <= 3;
    }
    for (int64_t w = 2 * g.Wo; w < W; ++w) d0[w] = d1[w] = T(0);
  }
  std::fill(dx + 2 * g.Ho * W, dx + g.H * W, T(0));
  return ok;
}

template <class T>
void max_pool_code_forward_impl(T* y, uint8_t* code, const T* x, const Conv2dGeom& g) {
  const int64_t in = g.H * g.W, out = g.Ho * g.Wo;
  [[maybe_unused]] const auto simd =
      std::is_same_v<T, float> ? kPool2x2Code[active_isa()].forward : nullptr;
  parallel_for(g.N * g.C, grain_for(4 * out), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      if constexpr (std::is_same_v<T, float>) {
        if (simd) {
          simd(y + t * out, code + t * out, x + t * in, g.H, g.W, g.Ho, g.Wo);
          continue;
        }
      }
      max_pool_code_plane_2x2(y + t * out, code + t * out, x + t * in, g);
    }
  });
}

template <class T>
int64_t max_pool_code_backward_impl(T* dx, const T* dy, const uint8_t* code, const Conv2dGeom& g) {
  const int64_t in = g.H * g.W, out = g.Ho * g.Wo;
  [[maybe_unused]] const auto simd =
      std::is_same_v<T, float> ? kPool2x2Code[active_isa()].backward : nullptr;
  std::atomic<bool> bad{false};
  parallel_for(g.N * g.C, grain_for(in + out), [&](int64_t b, int64_t e) {
    bool ok = true;
    for (int64_t t = b; t < e; ++t) {
      if constexpr (std::is_same_v<T, float>) {
        if (simd) {
          ok &= simd(dx + t * in, dy + t * out, code + t * out, g.H, g.W, g.Ho, g.Wo);
          continue;
        }
      }
      ok &= scatter_code_plane_2x2(dx + t * in, dy + t * out, code + t * out, g);
    }
    if (!ok) bad.store(true);
  });
  if (!bad.load()) return -1;
  const int64_t total = g.N * g.C * out;  // the rare error path: find the first bad code
  for (int64_t i = 0; i < total; ++i)
    if (code[i] > 3) return i;
  return -1;
}

// ---- average pooling ----------------------------------------------------------------------------
// y = the window sum (in scan order) / divisor. The divisor, as torch: a divisor_override > 0
// (any nonzero value, passed as `divisor`) wins; else with count_include_pad the number of taps
// of the window clipped to the padded input, else the number inside the input.

// The window and divisor rules are window::avg_window / avg_divisor, shared with the CUDA kernels.
using window::avg_divisor;
using window::avg_window;
using window::AvgWindow;

template <class T>
void avg_pool_plane(T* y, const T* x, const Conv2dGeom& g, bool include_pad, int64_t divisor) {
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const AvgWindow h = avg_window(oh, g.sh, g.ph, g.kh, g.H);
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const AvgWindow w = avg_window(ow, g.sw, g.pw, g.kw, g.W);
      T sum = 0;
      for (int64_t ih = h.lo; ih < h.hi; ++ih)
        for (int64_t iw = w.lo; iw < w.hi; ++iw) sum += x[ih * g.W + iw];
      y[oh * g.Wo + ow] = sum / avg_divisor<T>(h, w, include_pad, divisor);
    }
  }
}

// 2x2 stride 2 without padding: every window is whole, one divisor for all.
template <class T>
void avg_pool_plane_2x2(T* y, const T* x, const Conv2dGeom& g, T div) {
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const T* r0 = x + 2 * oh * g.W;
    const T* r1 = r0 + g.W;
    T* yr = y + oh * g.Wo;
    for (int64_t ow = 0; ow < g.Wo; ++ow)
      yr[ow] = (((r0[2 * ow] + r0[2 * ow + 1]) + r1[2 * ow]) + r1[2 * ow + 1]) / div;
  }
}

template <class T>
void avg_pool_backward_plane(T* dx, const T* dy, const Conv2dGeom& g, bool include_pad,
                             int64_t divisor) {
  std::fill(dx, dx + g.H * g.W, T(0));
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const AvgWindow h = avg_window(oh, g.sh, g.ph, g.kh, g.H);
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const AvgWindow w = avg_window(ow, g.sw, g.pw, g.kw, g.W);
      const T v = dy[oh * g.Wo + ow] / avg_divisor<T>(h, w, include_pad, divisor);
      for (int64_t ih = h.lo; ih < h.hi; ++ih)
        for (int64_t iw = w.lo; iw < w.hi; ++iw) dx[ih * g.W + iw] += v;
    }
  }
}

// Disjoint whole windows: each dx element is written once (0 in an odd last row / column).
template <class T>
void avg_pool_backward_plane_2x2(T* dx, const T* dy, const Conv2dGeom& g, T div) {
  const int64_t W = g.W;
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    T* d0 = dx + 2 * oh * W;
    T* d1 = d0 + W;
    const T* gr = dy + oh * g.Wo;
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const T v = gr[ow] / div;
      d0[2 * ow] = d0[2 * ow + 1] = d1[2 * ow] = d1[2 * ow + 1] = v;
    }
    for (int64_t w = 2 * g.Wo; w < W; ++w) d0[w] = d1[w] = T(0);
  }
  std::fill(dx + 2 * g.Ho * W, dx + g.H * W, T(0));
}

template <class T>
void avg_pool_forward_impl(T* y, const T* x, const Conv2dGeom& g, bool include_pad,
                           int64_t divisor) {
  const int64_t in = g.H * g.W, out = g.Ho * g.Wo;
  const bool fast = is_2x2_stride2(g);
  const T div = divisor != 0 ? T(divisor) : T(4);
  parallel_for(g.N * g.C, grain_for(out * g.kh * g.kw), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      if (fast)
        avg_pool_plane_2x2(y + t * out, x + t * in, g, div);
      else
        avg_pool_plane(y + t * out, x + t * in, g, include_pad, divisor);
    }
  });
}

template <class T>
void avg_pool_backward_impl(T* dx, const T* dy, const Conv2dGeom& g, bool include_pad,
                            int64_t divisor) {
  const int64_t in = g.H * g.W, out = g.Ho * g.Wo;
  const bool fast = is_2x2_stride2(g);
  const T div = divisor != 0 ? T(divisor) : T(4);
  parallel_for(g.N * g.C, grain_for(in + out * g.kh * g.kw), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      if (fast)
        avg_pool_backward_plane_2x2(dx + t * in, dy + t * out, g, div);
      else
        avg_pool_backward_plane(dx + t * in, dy + t * out, g, include_pad, divisor);
    }
  });
}

}  // namespace

void max_pool2d_2x2_code_forward_cpu(float* y, uint8_t* code, const float* x, const Conv2dGeom& g) {
  max_pool_code_forward_impl(y, code, x, g);
}
void max_pool2d_2x2_code_forward_cpu(double* y, uint8_t* code, const double* x,
                                     const Conv2dGeom& g) {
  max_pool_code_forward_impl(y, code, x, g);
}
int64_t max_pool2d_2x2_code_backward_cpu(float* dx, const float* dy, const uint8_t* code,
                                         const Conv2dGeom& g) {
  return max_pool_code_backward_impl(dx, dy, code, g);
}
int64_t max_pool2d_2x2_code_backward_cpu(double* dx, const double* dy, const uint8_t* code,
                                         const Conv2dGeom& g) {
  return max_pool_code_backward_impl(dx, dy, code, g);
}

void max_pool2d_forward_cpu(float* y, int64_t* idx, const float* x, const Conv2dGeom& g) {
  max_pool_forward_impl(y, idx, x, g);
}
void max_pool2d_forward_cpu(double* y, int64_t* idx, const double* x, const Conv2dGeom& g) {
  max_pool_forward_impl(y, idx, x, g);
}
int64_t max_pool2d_backward_cpu(float* dx, const float* dy, const int64_t* idx,
                                const Conv2dGeom& g) {
  return max_pool_backward_impl(dx, dy, idx, g);
}
int64_t max_pool2d_backward_cpu(double* dx, const double* dy, const int64_t* idx,
                                const Conv2dGeom& g) {
  return max_pool_backward_impl(dx, dy, idx, g);
}

void avg_pool2d_forward_cpu(float* y, const float* x, const Conv2dGeom& g, bool count_include_pad,
                            int64_t divisor) {
  avg_pool_forward_impl(y, x, g, count_include_pad, divisor);
}
void avg_pool2d_forward_cpu(double* y, const double* x, const Conv2dGeom& g, bool count_include_pad,
                            int64_t divisor) {
  avg_pool_forward_impl(y, x, g, count_include_pad, divisor);
}
void avg_pool2d_backward_cpu(float* dx, const float* dy, const Conv2dGeom& g,
                             bool count_include_pad, int64_t divisor) {
  avg_pool_backward_impl(dx, dy, g, count_include_pad, divisor);
}
void avg_pool2d_backward_cpu(double* dx, const double* dy, const Conv2dGeom& g,
                             bool count_include_pad, int64_t divisor) {
  avg_pool_backward_impl(dx, dy, g, count_include_pad, divisor);
}

}  // namespace fastnn
