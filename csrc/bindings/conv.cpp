// Bindings for fastnn.kernels.im2col / col2im / conv2d / conv2d_backward / depthwise_conv2d /
// depthwise_conv2d_backward / max_pool2d / max_pool2d_backward / avg_pool2d / avg_pool2d_backward:
// validate every argument (shapes, dtypes, window hyperparameters, the output size), then release
// the GIL and run the kernel on C-contiguous NCHW arrays. Window hyperparameters are an int or a
// pair.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "bindings/common.h"
#include "bindings/host_cache.h"
#include "bindings/window_args.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

using window_args::as_int;
using window_args::as_pair;
using window_args::as_shape4;
using window_args::Pair;
using window_args::pair_str;
using window_args::shape_of;

Conv2dGeom make_geom(const std::vector<int64_t>& in, Pair k, Pair s, Pair p, Pair d,
                     const char* fn) {
  return window_args::make_geom<Conv2dGeom>(in, k, s, p, d, fn);
}

std::vector<int64_t> shape4(const py::array& x) {
  return {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
}

py::array float_input(const py::object& obj, const char* fn, const char* name, DType& dt) {
  py::array a = as_array(obj, fn, name);
  dt = float_dtype(a, fn, name);
  check_ndim(a, {4}, fn, name);
  check_contiguous(a, fn, name);
  return a;
}

// ---- im2col / col2im --------------------------------------------------------------------------

template <class T>
py::array run_im2col(const py::array& x, const Conv2dGeom& g, Im2colRows rows) {
  const int64_t R = g.C * g.kh * g.kw + (rows == Im2colRows::patches_and_ones ? 1 : 0);
  py::array cols(py::dtype::of<T>(), std::vector<py::ssize_t>{g.N, R, g.Ho * g.Wo});
  T* c = static_cast<T*>(cols.mutable_data());
  const T* xp = static_cast<const T*>(x.data());
  {
    py::gil_scoped_release release;
    im2col_cpu(c, xp, g, rows);
  }
  return cols;
}

py::array im2col(const py::object& x_obj, const py::object& kernel_size, const py::object& stride,
                 const py::object& padding, const py::object& dilation, bool ones_row) {
  constexpr const char* fn = "im2col";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  const Conv2dGeom g = make_geom(
      shape4(x), as_pair(kernel_size, fn, "kernel_size", 1), as_pair(stride, fn, "stride", 1),
      as_pair(padding, fn, "padding", 0), as_pair(dilation, fn, "dilation", 1), fn);
  const Im2colRows rows = ones_row ? Im2colRows::patches_and_ones : Im2colRows::patches;
  return dt == DType::f32 ? run_im2col<float>(x, g, rows) : run_im2col<double>(x, g, rows);
}

template <class T>
py::array run_col2im(const py::array& cols, const Conv2dGeom& g) {
  py::array x(py::dtype::of<T>(), std::vector<py::ssize_t>{g.N, g.C, g.H, g.W});
  T* xp = static_cast<T*>(x.mutable_data());
  const T* c = static_cast<const T*>(cols.data());
  {
    py::gil_scoped_release release;
    col2im_cpu(xp, c, g);
  }
  return x;
}

py::array col2im(const py::object& cols_obj, const py::object& input_shape,
                 const py::object& kernel_size, const py::object& stride, const py::object& padding,
                 const py::object& dilation) {
  constexpr const char* fn = "col2im";
  py::array cols = as_array(cols_obj, fn, "cols");
  const DType dt = float_dtype(cols, fn, "cols");
  check_ndim(cols, {3}, fn, "cols");
  const Conv2dGeom g =
      make_geom(as_shape4(input_shape, fn, "input_shape"),
                as_pair(kernel_size, fn, "kernel_size", 1), as_pair(stride, fn, "stride", 1),
                as_pair(padding, fn, "padding", 0), as_pair(dilation, fn, "dilation", 1), fn);
  check_shape(cols, {g.N, g.C * g.kh * g.kw, g.Ho * g.Wo}, fn, "cols");
  check_contiguous(cols, fn, "cols");
  return dt == DType::f32 ? run_col2im<float>(cols, g) : run_col2im<double>(cols, g);
}

// ---- conv2d (chunked im2col + GEMM) ------------------------------------------------------------

// x (N, C, H, W) and weight (C_out, C, kh, kw), both float, same dtype, C-contiguous: the geometry.
Conv2dGeom conv_geom(const py::array& x, const py::array& w, const py::object& stride,
                     const py::object& padding, const py::object& dilation, const char* fn) {
  check_same_dtype(x, "x", w, "weight", fn);
  check_ndim(w, {4}, fn, "weight");
  check_contiguous(w, fn, "weight");
  FASTNN_CHECK(w.shape(1) == x.shape(1), fn, ": 'weight' with shape ", shape_str(w), " expects ",
               w.shape(1), " input channels, but 'x' with shape ", shape_str(x), " has ",
               x.shape(1));
  return make_geom(shape4(x), {w.shape(2), w.shape(3)}, as_pair(stride, fn, "stride", 1),
                   as_pair(padding, fn, "padding", 0), as_pair(dilation, fn, "dilation", 1), fn);
}

// An optional bias (C_out,) of x's dtype, C-contiguous, read in place (not an aligned copy).
void check_bias(const py::array& x, const py::array& w, const py::object& bias, const char* fn) {
  if (bias.is_none()) return;
  py::array b = as_array(bias, fn, "bias");
  check_same_dtype(x, "x", b, "bias", fn);
  check_shape(b, {w.shape(0)}, fn, "bias");
  check_contiguous(b, fn, "bias");
  // run_forward reads bias through the caller's object, not an aligned copy as_array made.
  FASTNN_CHECK(b.ptr() == bias.ptr(), fn,
               ": argument 'bias' has data that is not aligned to its item size; pass a copy");
}

// The output (N, C_out, Ho, Wo) of a forward kernel, then kernel(y, x, w, b) without the GIL (b
// null without a bias).
template <class T, class Kernel>
py::array run_forward(const py::array& x, const py::array& w, const py::object& bias,
                      const Conv2dGeom& g, Kernel kernel) {
  py::array y = cached_empty(py::dtype::of<T>(), {g.N, w.shape(0), g.Ho, g.Wo});
  T* yp = static_cast<T*>(y.mutable_data());
  const T* xp = static_cast<const T*>(x.data());
  const T* wp = static_cast<const T*>(w.data());
  const T* bp = bias.is_none()
                    ? nullptr
                    : static_cast<const T*>(py::reinterpret_borrow<py::array>(bias).data());
  {
    py::gil_scoped_release release;
    kernel(yp, xp, wp, bp);
  }
  return y;
}

py::array conv2d(const py::object& x_obj, const py::object& w_obj, const py::object& bias,
                 const py::object& stride, const py::object& padding, const py::object& dilation) {
  constexpr const char* fn = "conv2d";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  py::array w = as_array(w_obj, fn, "weight");
  const Conv2dGeom g = conv_geom(x, w, stride, padding, dilation, fn);
  check_bias(x, w, bias, fn);
  const int64_t O = w.shape(0);
  auto kernel = [&g, O](auto* y, const auto* xp, const auto* wp, const auto* bp) {
    conv2d_forward_cpu(y, xp, wp, bp, g, O);
  };
  return dt == DType::f32 ? run_forward<float>(x, w, bias, g, kernel)
                          : run_forward<double>(x, w, bias, g, kernel);
}

// The gradient arrays a backward kernel fills (dx like x, dw like the weight, db one per output
// channel; None where not needed), then kernel(dx, dw, db, dy, x, w) without the GIL.
template <class T, class Kernel>
py::tuple run_backward(const py::array& grad, const py::array& x, const py::array& w,
                       const Conv2dGeom& g, bool need_x, bool need_w, bool need_b, Kernel kernel) {
  py::object dx = py::none(), dw = py::none(), db = py::none();
  T *dxp = nullptr, *dwp = nullptr, *dbp = nullptr;
  if (need_x) {
    py::array a = cached_empty(py::dtype::of<T>(), {g.N, g.C, g.H, g.W});
    dxp = static_cast<T*>(a.mutable_data());
    dx = a;
  }
  if (need_w) {
    py::array a(py::dtype::of<T>(), std::vector<py::ssize_t>(w.shape(), w.shape() + 4));
    dwp = static_cast<T*>(a.mutable_data());
    dw = a;
  }
  if (need_b) {
    py::array a(py::dtype::of<T>(), std::vector<py::ssize_t>{w.shape(0)});
    dbp = static_cast<T*>(a.mutable_data());
    db = a;
  }
  const T* gp = static_cast<const T*>(grad.data());
  const T* xp = static_cast<const T*>(x.data());
  const T* wp = static_cast<const T*>(w.data());
  {
    py::gil_scoped_release release;
    kernel(dxp, dwp, dbp, gp, xp, wp);
  }
  return py::make_tuple(dx, dw, db);
}

py::tuple conv2d_backward(const py::object& grad_obj, const py::object& x_obj,
                          const py::object& w_obj, const py::object& stride,
                          const py::object& padding, const py::object& dilation, bool need_input,
                          bool need_weight, bool need_bias) {
  constexpr const char* fn = "conv2d_backward";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  py::array w = as_array(w_obj, fn, "weight");
  const Conv2dGeom g = conv_geom(x, w, stride, padding, dilation, fn);
  py::array grad = as_array(grad_obj, fn, "grad");
  check_same_dtype(x, "x", grad, "grad", fn);
  check_shape(grad, {g.N, w.shape(0), g.Ho, g.Wo}, fn, "grad");
  check_contiguous(grad, fn, "grad");
  const int64_t O = w.shape(0);
  auto kernel = [&g, O](auto* dx, auto* dw, auto* db, const auto* dy, const auto* xp,
                        const auto* wp) { conv2d_backward_cpu(dx, dw, db, dy, xp, wp, g, O); };
  return dt == DType::f32
             ? run_backward<float>(grad, x, w, g, need_input, need_weight, need_bias, kernel)
             : run_backward<double>(grad, x, w, g, need_input, need_weight, need_bias, kernel);
}

// ---- depthwise conv2d (groups = input channels) ------------------------------------------------

// x (N, C, H, W) and weight (C * mult, 1, kh, kw): the geometry (on the per-channel planes) and
// mult; an optional bias (C * mult) checked as conv2d's (None for the backward).
Conv2dGeom depthwise_geom(const py::array& x, const py::array& w, const py::object& bias,
                          const py::object& stride, const py::object& padding,
                          const py::object& dilation, const char* fn, int64_t& mult) {
  check_same_dtype(x, "x", w, "weight", fn);
  check_ndim(w, {4}, fn, "weight");
  check_contiguous(w, fn, "weight");
  const int64_t C = x.shape(1), O = w.shape(0);
  FASTNN_CHECK(w.shape(1) == 1 && C > 0 && O % C == 0 && O > 0, fn, ": 'weight' with shape ",
               shape_str(w), " is not a depthwise filter for 'x' with shape ", shape_str(x),
               ": it needs shape (C * k, 1, kh, kw) for C = ", C, " input channels");
  mult = O / C;
  check_bias(x, w, bias, fn);
  return make_geom(shape4(x), {w.shape(2), w.shape(3)}, as_pair(stride, fn, "stride", 1),
                   as_pair(padding, fn, "padding", 0), as_pair(dilation, fn, "dilation", 1), fn);
}

py::array depthwise_conv2d(const py::object& x_obj, const py::object& w_obj, const py::object& bias,
                           const py::object& stride, const py::object& padding,
                           const py::object& dilation) {
  constexpr const char* fn = "depthwise_conv2d";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  py::array w = as_array(w_obj, fn, "weight");
  int64_t mult;
  const Conv2dGeom g = depthwise_geom(x, w, bias, stride, padding, dilation, fn, mult);
  auto kernel = [&g, mult](auto* y, const auto* xp, const auto* wp, const auto* bp) {
    depthwise_conv2d_forward_cpu(y, xp, wp, bp, g, mult);
  };
  return dt == DType::f32 ? run_forward<float>(x, w, bias, g, kernel)
                          : run_forward<double>(x, w, bias, g, kernel);
}

py::tuple depthwise_conv2d_backward(const py::object& grad_obj, const py::object& x_obj,
                                    const py::object& w_obj, const py::object& stride,
                                    const py::object& padding, const py::object& dilation,
                                    bool need_input, bool need_weight, bool need_bias) {
  constexpr const char* fn = "depthwise_conv2d_backward";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  py::array w = as_array(w_obj, fn, "weight");
  int64_t mult;
  const Conv2dGeom g = depthwise_geom(x, w, py::none(), stride, padding, dilation, fn, mult);
  py::array grad = as_array(grad_obj, fn, "grad");
  check_same_dtype(x, "x", grad, "grad", fn);
  check_shape(grad, {g.N, w.shape(0), g.Ho, g.Wo}, fn, "grad");
  check_contiguous(grad, fn, "grad");
  auto kernel = [&g, mult](auto* dx, auto* dw, auto* db, const auto* dy, const auto* xp,
                           const auto* wp) {
    depthwise_conv2d_backward_cpu(dx, dw, db, dy, xp, wp, g, mult);
  };
  return dt == DType::f32
             ? run_backward<float>(grad, x, w, g, need_input, need_weight, need_bias, kernel)
             : run_backward<double>(grad, x, w, g, need_input, need_weight, need_bias, kernel);
}

// ---- max pooling --------------------------------------------------------------------------------

template <class T>
py::tuple run_pool(const py::array& x, const Conv2dGeom& g) {
  const std::vector<py::ssize_t> shape{g.N, g.C, g.Ho, g.Wo};
  py::array y = cached_empty(py::dtype::of<T>(), shape);
  py::array idx = cached_empty(py::dtype::of<int64_t>(), shape);
  T* yp = static_cast<T*>(y.mutable_data());
  int64_t* ip = static_cast<int64_t*>(idx.mutable_data());
  const T* xp = static_cast<const T*>(x.data());
  {
    py::gil_scoped_release release;
    max_pool2d_forward_cpu(yp, ip, xp, g);
  }
  return py::make_tuple(y, idx);
}

py::tuple max_pool2d(const py::object& x_obj, const py::object& kernel_size,
                     const py::object& stride, const py::object& padding,
                     const py::object& dilation) {
  constexpr const char* fn = "max_pool2d";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  const window_args::PoolWindow pw = window_args::pool_window(kernel_size, stride, padding, fn);
  const Conv2dGeom g =
      make_geom(shape4(x), pw.k, pw.s, pw.p, as_pair(dilation, fn, "dilation", 1), fn);
  return dt == DType::f32 ? run_pool<float>(x, g) : run_pool<double>(x, g);
}

template <class T>
py::array run_pool_backward(const py::array& grad, const py::array& idx, const Conv2dGeom& g,
                            const std::vector<int64_t>& in) {
  py::array dx = cached_empty(py::dtype::of<T>(), {g.N, g.C, g.H, g.W});
  T* dxp = static_cast<T*>(dx.mutable_data());
  const T* gp = static_cast<const T*>(grad.data());
  const int64_t* ip = static_cast<const int64_t*>(idx.data());
  int64_t bad;
  {
    py::gil_scoped_release release;
    bad = max_pool2d_backward_cpu(dxp, gp, ip, g);
  }
  // Every index must address its own plane; the kernel checks them on its way through.
  FASTNN_CHECK(bad < 0, "max_pool2d_backward: 'indices' holds ", bad < 0 ? 0 : ip[bad],
               " at flat position ", bad, ", outside [0, H*W = ", g.H * g.W, ") for input_shape ",
               shape_of(in));
  return dx;
}

py::array max_pool2d_backward(const py::object& grad_obj, const py::object& idx_obj,
                              const py::object& input_shape) {
  constexpr const char* fn = "max_pool2d_backward";
  DType dt;
  py::array grad = float_input(grad_obj, fn, "grad", dt);
  py::array idx = as_array(idx_obj, fn, "indices");
  FASTNN_TYPE_CHECK(idx.dtype().equal(py::dtype::of<int64_t>()), fn,
                    ": argument 'indices' must have dtype int64, got ", dtype_str(idx));
  check_shape(idx, {grad.shape(0), grad.shape(1), grad.shape(2), grad.shape(3)}, fn, "indices");
  check_contiguous(idx, fn, "indices");
  const std::vector<int64_t> in = as_shape4(input_shape, fn, "input_shape");
  FASTNN_CHECK(in[0] == grad.shape(0) && in[1] == grad.shape(1), fn, ": 'grad' with shape ",
               shape_str(grad), " does not match input_shape ", shape_of(in), " in N and C");
  Conv2dGeom g{in[0], in[1], in[2], in[3], 1, 1, 1, 1, 0, 0, 1, 1, grad.shape(2), grad.shape(3)};
  return dt == DType::f32 ? run_pool_backward<float>(grad, idx, g, in)
                          : run_pool_backward<double>(grad, idx, g, in);
}

// ---- average pooling ----------------------------------------------------------------------------

struct AvgArgs {
  Conv2dGeom g;
  bool include_pad;
  int64_t divisor;  // 0: none given
};

AvgArgs avg_args(const std::vector<int64_t>& in, const py::object& kernel_size,
                 const py::object& stride, const py::object& padding,
                 const py::object& count_include_pad, const py::object& divisor_override,
                 const char* fn) {
  const window_args::PoolWindow pw = window_args::pool_window(kernel_size, stride, padding, fn);
  const bool include_pad = window_args::as_include_pad(count_include_pad, fn);
  const int64_t divisor = window_args::as_divisor(divisor_override, fn);
  return {make_geom(in, pw.k, pw.s, pw.p, {1, 1}, fn), include_pad, divisor};
}

template <class T>
py::array run_avg(const py::array& x, const AvgArgs& a) {
  const Conv2dGeom& g = a.g;
  py::array y(py::dtype::of<T>(), std::vector<py::ssize_t>{g.N, g.C, g.Ho, g.Wo});
  T* yp = static_cast<T*>(y.mutable_data());
  const T* xp = static_cast<const T*>(x.data());
  {
    py::gil_scoped_release release;
    avg_pool2d_forward_cpu(yp, xp, g, a.include_pad, a.divisor);
  }
  return y;
}

py::array avg_pool2d(const py::object& x_obj, const py::object& kernel_size,
                     const py::object& stride, const py::object& padding,
                     const py::object& count_include_pad, const py::object& divisor_override) {
  constexpr const char* fn = "avg_pool2d";
  DType dt;
  py::array x = float_input(x_obj, fn, "x", dt);
  const AvgArgs a =
      avg_args(shape4(x), kernel_size, stride, padding, count_include_pad, divisor_override, fn);
  return dt == DType::f32 ? run_avg<float>(x, a) : run_avg<double>(x, a);
}

template <class T>
py::array run_avg_backward(const py::array& grad, const AvgArgs& a) {
  const Conv2dGeom& g = a.g;
  py::array dx = cached_empty(py::dtype::of<T>(), {g.N, g.C, g.H, g.W});
  T* dxp = static_cast<T*>(dx.mutable_data());
  const T* gp = static_cast<const T*>(grad.data());
  {
    py::gil_scoped_release release;
    avg_pool2d_backward_cpu(dxp, gp, g, a.include_pad, a.divisor);
  }
  return dx;
}

py::array avg_pool2d_backward(const py::object& grad_obj, const py::object& input_shape,
                              const py::object& kernel_size, const py::object& stride,
                              const py::object& padding, const py::object& count_include_pad,
                              const py::object& divisor_override) {
  constexpr const char* fn = "avg_pool2d_backward";
  DType dt;
  py::array grad = float_input(grad_obj, fn, "grad", dt);
  const AvgArgs a = avg_args(as_shape4(input_shape, fn, "input_shape"), kernel_size, stride,
                             padding, count_include_pad, divisor_override, fn);
  check_shape(grad, {a.g.N, a.g.C, a.g.Ho, a.g.Wo}, fn, "grad");
  return dt == DType::f32 ? run_avg_backward<float>(grad, a) : run_avg_backward<double>(grad, a);
}

}  // namespace

void register_conv(py::module_& m) {
  m.def("im2col", &im2col, py::arg("x"), py::arg("kernel_size"), py::arg("stride") = 1,
        py::arg("padding") = 0, py::arg("dilation") = 1, py::kw_only(), py::arg("ones_row") = false,
        R"doc(Patches of x (N, C, H, W) as columns: (N, C*kh*kw, Ho*Wo), float32 or float64.

cols[n, (c*kh + i)*kw + j, oh*Wo + ow] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw], zero in
the padding; kernel_size, stride, padding, dilation are an int or a pair (h, w). The row order
matches weight.reshape(C_out, -1), so a convolution is weight2d @ cols[n]. ones_row=True appends
a row of ones (N, C*kh*kw + 1, Ho*Wo), so [weight2d | bias] @ cols adds the bias in the GEMM.
x must be C-contiguous.)doc");
  m.def("col2im", &col2im, py::arg("cols"), py::arg("input_shape"), py::arg("kernel_size"),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
        R"doc(The adjoint of im2col: cols (N, C*kh*kw, Ho*Wo) summed back into a new (N, C, H, W)
array, input_shape = (N, C, H, W); overlapping patches accumulate, padding entries are dropped.)doc");
  m.def("conv2d", &conv2d, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
        R"doc(2-D convolution (cross-correlation, groups=1) of x (N, C, H, W) with weight
(C_out, C, kh, kw) plus bias (C_out,) or None: a new (N, C_out, Ho, Wo) array, float32 or float64,
all C-contiguous. Winograd, direct sums or packed im2col + GEMM by layer (see fastnn.kernels);
stride, padding, dilation are an int or a pair.)doc");
  m.def("depthwise_conv2d", &depthwise_conv2d, py::arg("x"), py::arg("weight"),
        py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
        py::arg("dilation") = 1,
        R"(Depthwise conv2d, torch's conv2d with groups = C: x (N, C, H, W), weight (C * k, 1, kh,
kw), bias (C * k) or None -> (N, C * k, Ho, Wo); output channel o sees input channel o // k
only. Direct sums over each plane, threaded over the planes.)");
  m.def("depthwise_conv2d_backward", &depthwise_conv2d_backward, py::arg("grad"), py::arg("x"),
        py::arg("weight"), py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
        py::kw_only(), py::arg("need_input") = true, py::arg("need_weight") = true,
        py::arg("need_bias") = true,
        R"((dx, dweight, dbias) of depthwise_conv2d, None where not needed. The weight and bias
gradients accumulate in double; no result depends on the thread count.)");
  m.def("conv2d_backward", &conv2d_backward, py::arg("grad"), py::arg("x"), py::arg("weight"),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1, py::kw_only(),
        py::arg("need_input") = true, py::arg("need_weight") = true, py::arg("need_bias") = true,
        R"doc(Gradients of conv2d from grad (N, C_out, Ho, Wo): (dx, dweight, dbias), each None when
not asked for. Recomputes the patches of x; the result does not depend on the thread count.)doc");
  m.def(
      "max_pool2d", &max_pool2d, py::arg("x"), py::arg("kernel_size"),
      py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("dilation") = 1,
      R"doc(2-D max pooling of x (N, C, H, W): returns (out, indices), both (N, C, Ho, Wo), indices
int64 flat positions ih*W + iw within each (n, c) plane (torch's return_indices format). Padding
counts as -inf and must be at most half the kernel size; NaN propagates; stride defaults to
kernel_size.)doc");
  m.def("max_pool2d_backward", &max_pool2d_backward, py::arg("grad"), py::arg("indices"),
        py::arg("input_shape"),
        R"doc(Gradient of max_pool2d: grad (N, C, Ho, Wo) scatter-added at indices into a new zero
array of input_shape (N, C, H, W).)doc");
  m.def("avg_pool2d", &avg_pool2d, py::arg("x"), py::arg("kernel_size"),
        py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("count_include_pad") = true,
        py::arg("divisor_override") = py::none(),
        R"doc(2-D average pooling of x (N, C, H, W): a new (N, C, Ho, Wo) array of window sums over
a divisor: divisor_override when given (nonzero), else the window size counting padded zeros
(count_include_pad) or only the elements inside the input. Padding must be at most half the
kernel size; stride defaults to kernel_size.)doc");
  m.def("avg_pool2d_backward", &avg_pool2d_backward, py::arg("grad"), py::arg("input_shape"),
        py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
        py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none(),
        R"doc(Gradient of avg_pool2d: grad (N, C, Ho, Wo) / divisor spread over each window into a
new array of input_shape (N, C, H, W); overlapping windows add.)doc");
}

}  // namespace fastnn::bind
