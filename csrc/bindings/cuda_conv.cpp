// pybind11 glue for the CUDA versions of fastnn.kernels.im2col / col2im / conv2d /
// conv2d_backward / max_pool2d / max_pool2d_backward / max_pool2d_2x2 / max_pool2d_2x2_backward /
// avg_pool2d / avg_pool2d_backward (cuda/conv.cu, cuda/pool.cu) on DeviceArrays, with the names,
// arguments and semantics of the CPU bindings (conv.cpp, pool_code.cpp; the window arguments are
// parsed by the same code, bindings/window_args.h). Everything is validated before anything is
// allocated or launched; the launches run with the GIL released.
//
// The two max pooling backward kernels take one extra keyword, check=True: with it an index (a
// window code) out of range raises ValueError as on the CPU, which costs a host synchronization;
// the Tensor ops pass check=False for the indices their own forward made, so a training step does
// not wait for the GPU there. An out-of-range entry is never written through either way.
#include <string>
#include <vector>

#include "bindings/cuda_array.h"
#include "bindings/window_args.h"

namespace fastnn::cuda::bind {
namespace {

using Geom = window::Geom;
using window_args::as_pair;
using window_args::as_shape4;
using window_args::make_geom;
using window_args::shape_of;

DeviceArray& float_input4(const py::handle& obj, const char* fn, const char* name) {
  DeviceArray& a = as_device_array(obj, fn, name);
  check_float(a, fn, name);
  FASTNN_CHECK(a.ndim() == 4, fn, ": argument '", name, "' must have 4 dimensions, got shape ",
               shape_str(a.shape));
  return a;
}

// Another argument of x's dtype and device.
DeviceArray& like_x(const py::handle& obj, const DeviceArray& x, const char* fn, const char* name) {
  DeviceArray& a = as_device_array(obj, fn, name);
  check_same_dtype(x, "x", a, name, fn);
  check_same_device(x, "x", a, name, fn);
  return a;
}

Geom conv_geom(const DeviceArray& x, const DeviceArray& w, const py::object& stride,
               const py::object& padding, const py::object& dilation, const char* fn) {
  FASTNN_CHECK(w.ndim() == 4, fn, ": argument 'weight' must have 4 dimensions, got shape ",
               shape_str(w.shape));
  FASTNN_CHECK(w.shape[1] == x.shape[1], fn, ": 'weight' with shape ", shape_str(w.shape),
               " expects ", w.shape[1], " input channels, but 'x' with shape ", shape_str(x.shape),
               " has ", x.shape[1]);
  return make_geom<Geom>(x.shape, {w.shape[2], w.shape[3]}, as_pair(stride, fn, "stride", 1),
                         as_pair(padding, fn, "padding", 0), as_pair(dilation, fn, "dilation", 1),
                         fn);
}

// ---- im2col / col2im ----------------------------------------------------------------------------

DeviceArray im2col(const py::object& x_obj, const py::object& kernel_size, const py::object& stride,
                   const py::object& padding, const py::object& dilation, bool ones_row) {
  constexpr const char* fn = "im2col";
  DeviceArray& x = float_input4(x_obj, fn, "x");
  const Geom g = make_geom<Geom>(
      x.shape, as_pair(kernel_size, fn, "kernel_size", 1), as_pair(stride, fn, "stride", 1),
      as_pair(padding, fn, "padding", 0), as_pair(dilation, fn, "dilation", 1), fn);
  DeviceGuard guard(x.device());
  const int64_t R = g.C * g.kh * g.kw + (ones_row ? 1 : 0);
  DeviceArray cols = empty({g.N, R, g.Ho * g.Wo}, x.dtype, x.device());
  {
    py::gil_scoped_release release;
    im2col_cuda(x.dtype, cols.data(), x.data(), g, ones_row);
  }
  return cols;
}

DeviceArray col2im(const py::object& cols_obj, const py::object& input_shape,
                   const py::object& kernel_size, const py::object& stride,
                   const py::object& padding, const py::object& dilation) {
  constexpr const char* fn = "col2im";
  DeviceArray& cols = as_device_array(cols_obj, fn, "cols");
  check_float(cols, fn, "cols");
  const Geom g =
      make_geom<Geom>(as_shape4(input_shape, fn, "input_shape"),
                      as_pair(kernel_size, fn, "kernel_size", 1), as_pair(stride, fn, "stride", 1),
                      as_pair(padding, fn, "padding", 0), as_pair(dilation, fn, "dilation", 1), fn);
  check_shape(cols, {g.N, g.C * g.kh * g.kw, g.Ho * g.Wo}, fn, "cols");
  DeviceGuard guard(cols.device());
  DeviceArray x = empty({g.N, g.C, g.H, g.W}, cols.dtype, cols.device());
  {
    py::gil_scoped_release release;
    col2im_cuda(cols.dtype, x.data(), cols.data(), g);
  }
  return x;
}

// ---- conv2d -------------------------------------------------------------------------------------

DeviceArray conv2d(const py::object& x_obj, const py::object& w_obj, const py::object& bias,
                   const py::object& stride, const py::object& padding,
                   const py::object& dilation) {
  constexpr const char* fn = "conv2d";
  DeviceArray& x = float_input4(x_obj, fn, "x");
  DeviceArray& w = like_x(w_obj, x, fn, "weight");
  const Geom g = conv_geom(x, w, stride, padding, dilation, fn);
  const int64_t C_out = w.shape[0];
  const void* b = nullptr;
  if (!bias.is_none()) {
    DeviceArray& ba = like_x(bias, x, fn, "bias");
    check_shape(ba, {C_out}, fn, "bias");
    b = ba.data();
  }
  DeviceGuard guard(x.device());
  DeviceArray y = empty({g.N, C_out, g.Ho, g.Wo}, x.dtype, x.device());
  {
    py::gil_scoped_release release;
    conv2d_forward_cuda(x.dtype, y.data(), x.data(), w.data(), b, g, C_out);
  }
  return y;
}

py::tuple conv2d_backward(const py::object& grad_obj, const py::object& x_obj,
                          const py::object& w_obj, const py::object& stride,
                          const py::object& padding, const py::object& dilation, bool need_input,
                          bool need_weight, bool need_bias) {
  constexpr const char* fn = "conv2d_backward";
  DeviceArray& x = float_input4(x_obj, fn, "x");
  DeviceArray& w = like_x(w_obj, x, fn, "weight");
  const Geom g = conv_geom(x, w, stride, padding, dilation, fn);
  const int64_t C_out = w.shape[0];
  DeviceArray& grad = like_x(grad_obj, x, fn, "grad");
  check_shape(grad, {g.N, C_out, g.Ho, g.Wo}, fn, "grad");
  DeviceGuard guard(x.device());
  DeviceArray dx, dw, db;
  if (need_input) dx = empty(x.shape, x.dtype, x.device());
  if (need_weight) dw = empty(w.shape, x.dtype, x.device());
  if (need_bias) db = empty({C_out}, x.dtype, x.device());
  {
    py::gil_scoped_release release;
    conv2d_backward_cuda(x.dtype, need_input ? dx.data() : nullptr,
                         need_weight ? dw.data() : nullptr, need_bias ? db.data() : nullptr,
                         grad.data(), x.data(), w.data(), g, C_out);
  }
  auto one = [](bool on, DeviceArray& a) -> py::object {
    return on ? py::cast(std::move(a)) : py::none();
  };
  return py::make_tuple(one(need_input, dx), one(need_weight, dw), one(need_bias, db));
}

// ---- max pooling --------------------------------------------------------------------------------

py::tuple max_pool2d(const py::object& x_obj, const py::object& kernel_size,
                     const py::object& stride, const py::object& padding,
                     const py::object& dilation) {
  constexpr const char* fn = "max_pool2d";
  DeviceArray& x = float_input4(x_obj, fn, "x");
  const window_args::PoolWindow pw = window_args::pool_window(kernel_size, stride, padding, fn);
  const Geom g =
      make_geom<Geom>(x.shape, pw.k, pw.s, pw.p, as_pair(dilation, fn, "dilation", 1), fn);
  DeviceGuard guard(x.device());
  const std::vector<int64_t> shape{g.N, g.C, g.Ho, g.Wo};
  DeviceArray y = empty(shape, x.dtype, x.device());
  DeviceArray idx = empty(shape, DType::i64, x.device());
  {
    py::gil_scoped_release release;
    max_pool2d_forward_cuda(x.dtype, y.data(), static_cast<int64_t*>(idx.data()), x.data(), g);
  }
  return py::make_tuple(std::move(y), std::move(idx));
}

// Reads one element of a device array back (the bad entry, for the error message).
template <class T>
T read_back(const DeviceArray& a, int64_t at) {
  T v{};
  copy_device_to_host(&v, static_cast<const T*>(a.data()) + at, sizeof(T));
  return v;
}

DeviceArray max_pool2d_backward(const py::object& grad_obj, const py::object& idx_obj,
                                const py::object& input_shape, bool check) {
  constexpr const char* fn = "max_pool2d_backward";
  DeviceArray& grad = float_input4(grad_obj, fn, "grad");
  DeviceArray& idx = as_device_array(idx_obj, fn, "indices");
  check_dtype(idx, DType::i64, fn, "indices");
  check_same_device(grad, "grad", idx, "indices", fn);
  check_shape(idx, grad.shape, fn, "indices");
  const std::vector<int64_t> in = as_shape4(input_shape, fn, "input_shape");
  FASTNN_CHECK(in[0] == grad.shape[0] && in[1] == grad.shape[1], fn, ": 'grad' with shape ",
               shape_str(grad.shape), " does not match input_shape ", shape_of(in), " in N and C");
  const Geom g{in[0], in[1], in[2], in[3], 1, 1, 1, 1, 0, 0, 1, 1, grad.shape[2], grad.shape[3]};
  DeviceGuard guard(grad.device());
  DeviceArray dx = empty(in, grad.dtype, grad.device());
  int64_t bad;
  {
    py::gil_scoped_release release;
    bad = max_pool2d_backward_cuda(grad.dtype, dx.data(), grad.data(),
                                   static_cast<const int64_t*>(idx.data()), g, check);
  }
  FASTNN_CHECK(bad < 0, fn, ": 'indices' holds ", bad < 0 ? 0 : read_back<int64_t>(idx, bad),
               " at flat position ", bad, ", outside [0, H*W = ", g.H * g.W, ") for input_shape ",
               shape_of(in));
  return dx;
}

py::tuple max_pool2d_2x2(const py::object& x_obj) {
  constexpr const char* fn = "max_pool2d_2x2";
  DeviceArray& x = float_input4(x_obj, fn, "x");
  FASTNN_CHECK(x.shape[2] >= 2 && x.shape[3] >= 2, fn, ": argument 'x' with shape ",
               shape_str(x.shape),
               " is smaller than the 2x2 window in H or W (the output would be empty)");
  const Geom g{x.shape[0], x.shape[1], x.shape[2],     x.shape[3],    2, 2, 2, 2, 0, 0,
               1,          1,          x.shape[2] / 2, x.shape[3] / 2};
  DeviceGuard guard(x.device());
  const std::vector<int64_t> shape{g.N, g.C, g.Ho, g.Wo};
  DeviceArray y = empty(shape, x.dtype, x.device());
  DeviceArray code = empty(shape, DType::u8, x.device());
  {
    py::gil_scoped_release release;
    max_pool2d_2x2_code_forward_cuda(x.dtype, y.data(), static_cast<uint8_t*>(code.data()),
                                     x.data(), g);
  }
  return py::make_tuple(std::move(y), std::move(code));
}

DeviceArray max_pool2d_2x2_backward(const py::object& grad_obj, const py::object& code_obj,
                                    const py::object& input_shape, bool check) {
  constexpr const char* fn = "max_pool2d_2x2_backward";
  DeviceArray& grad = float_input4(grad_obj, fn, "grad");
  DeviceArray& code = as_device_array(code_obj, fn, "code");
  check_dtype(code, DType::u8, fn, "code");
  check_same_device(grad, "grad", code, "code", fn);
  check_shape(code, grad.shape, fn, "code");
  const std::vector<int64_t> in = as_shape4(input_shape, fn, "input_shape");
  FASTNN_CHECK(in[0] == grad.shape[0] && in[1] == grad.shape[1] && in[2] / 2 == grad.shape[2] &&
                   in[3] / 2 == grad.shape[3],
               fn, ": 'grad' with shape ", shape_str(grad.shape),
               " is not the 2x2 pooling of input_shape ", shape_of(in));
  const Geom g{in[0], in[1], in[2], in[3], 2, 2, 2, 2, 0, 0, 1, 1, in[2] / 2, in[3] / 2};
  DeviceGuard guard(grad.device());
  DeviceArray dx = empty(in, grad.dtype, grad.device());
  int64_t bad;
  {
    py::gil_scoped_release release;
    bad = max_pool2d_2x2_code_backward_cuda(grad.dtype, dx.data(), grad.data(),
                                            static_cast<const uint8_t*>(code.data()), g, check);
  }
  FASTNN_CHECK(bad < 0, fn, ": 'code' holds ", bad < 0 ? 0 : int(read_back<uint8_t>(code, bad)),
               " at flat position ", bad, "; a window code is 0, 1, 2 or 3");
  return dx;
}

// ---- average pooling ----------------------------------------------------------------------------

struct AvgArgs {
  Geom g;
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
  return {make_geom<Geom>(in, pw.k, pw.s, pw.p, {1, 1}, fn), include_pad, divisor};
}

DeviceArray avg_pool2d(const py::object& x_obj, const py::object& kernel_size,
                       const py::object& stride, const py::object& padding,
                       const py::object& count_include_pad, const py::object& divisor_override) {
  constexpr const char* fn = "avg_pool2d";
  DeviceArray& x = float_input4(x_obj, fn, "x");
  const AvgArgs a =
      avg_args(x.shape, kernel_size, stride, padding, count_include_pad, divisor_override, fn);
  DeviceGuard guard(x.device());
  DeviceArray y = empty({a.g.N, a.g.C, a.g.Ho, a.g.Wo}, x.dtype, x.device());
  {
    py::gil_scoped_release release;
    avg_pool2d_forward_cuda(x.dtype, y.data(), x.data(), a.g, a.include_pad, a.divisor);
  }
  return y;
}

DeviceArray avg_pool2d_backward(const py::object& grad_obj, const py::object& input_shape,
                                const py::object& kernel_size, const py::object& stride,
                                const py::object& padding, const py::object& count_include_pad,
                                const py::object& divisor_override) {
  constexpr const char* fn = "avg_pool2d_backward";
  DeviceArray& grad = float_input4(grad_obj, fn, "grad");
  const AvgArgs a = avg_args(as_shape4(input_shape, fn, "input_shape"), kernel_size, stride,
                             padding, count_include_pad, divisor_override, fn);
  check_shape(grad, {a.g.N, a.g.C, a.g.Ho, a.g.Wo}, fn, "grad");
  DeviceGuard guard(grad.device());
  DeviceArray dx = empty({a.g.N, a.g.C, a.g.H, a.g.W}, grad.dtype, grad.device());
  {
    py::gil_scoped_release release;
    avg_pool2d_backward_cuda(grad.dtype, dx.data(), grad.data(), a.g, a.include_pad, a.divisor);
  }
  return dx;
}

}  // namespace

void register_conv(py::module_& m) {
  m.def("im2col", &im2col, py::arg("x"), py::arg("kernel_size"), py::arg("stride") = 1,
        py::arg("padding") = 0, py::arg("dilation") = 1, py::kw_only(), py::arg("ones_row") = false,
        "CUDA im2col: patches of x (N, C, H, W) as columns (N, C*kh*kw [+1], Ho*Wo).");
  m.def("col2im", &col2im, py::arg("cols"), py::arg("input_shape"), py::arg("kernel_size"),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
        "CUDA col2im: the adjoint of im2col, gathered per input element (deterministic).");
  m.def("conv2d", &conv2d, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
        "CUDA conv2d (groups=1): im2col + batched GEMM, then the bias.");
  m.def("conv2d_backward", &conv2d_backward, py::arg("grad"), py::arg("x"), py::arg("weight"),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1, py::kw_only(),
        py::arg("need_input") = true, py::arg("need_weight") = true, py::arg("need_bias") = true,
        "CUDA conv2d gradients (dx, dweight, dbias), None where not asked for; deterministic.");
  m.def("max_pool2d", &max_pool2d, py::arg("x"), py::arg("kernel_size"),
        py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("dilation") = 1,
        "CUDA max_pool2d: (out, indices), indices int64 flat ih*W + iw within each plane.");
  m.def("max_pool2d_backward", &max_pool2d_backward, py::arg("grad"), py::arg("indices"),
        py::arg("input_shape"), py::kw_only(), py::arg("check") = true,
        "CUDA max_pool2d gradient: grad added at indices into zeros of input_shape, in output "
        "order (deterministic). check=False skips the host sync of the index check.");
  m.def("max_pool2d_2x2", &max_pool2d_2x2, py::arg("x"),
        "CUDA 2x2 stride-2 max pooling: (y, code), code the uint8 tap of each window's max.");
  m.def("max_pool2d_2x2_backward", &max_pool2d_2x2_backward, py::arg("grad"), py::arg("code"),
        py::arg("input_shape"), py::kw_only(), py::arg("check") = true,
        "CUDA gradient of max_pool2d_2x2: grad at each window's coded tap, 0 elsewhere. "
        "check=False skips the host sync of the code check.");
  m.def("avg_pool2d", &avg_pool2d, py::arg("x"), py::arg("kernel_size"),
        py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("count_include_pad") = true,
        py::arg("divisor_override") = py::none(), "CUDA avg_pool2d (torch's divisor rules).");
  m.def("avg_pool2d_backward", &avg_pool2d_backward, py::arg("grad"), py::arg("input_shape"),
        py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
        py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none(),
        "CUDA avg_pool2d gradient, gathered per input element (deterministic).");
}

}  // namespace fastnn::cuda::bind
