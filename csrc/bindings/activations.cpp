// pybind11 glue for the activation kernels: validate, release the GIL, call, return.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "bindings/host_cache.h"
#include "contract.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

// A float32/float64, C-contiguous ndarray argument.
py::array float_input(py::handle obj, const char* fn, const char* name) {
  py::array a = as_array(obj, fn, name);
  float_dtype(a, fn, name);
  check_contiguous(a, fn, name);
  return a;
}

void check_same_shape(const py::array& a, const char* na, const py::array& b, const char* nb,
                      const char* fn) {
  bool ok = a.ndim() == b.ndim();
  for (py::ssize_t i = 0; ok && i < a.ndim(); ++i) ok = a.shape(i) == b.shape(i);
  FASTNN_CHECK(ok, fn, ": '", na, "' and '", nb, "' must have the same shape, got ", shape_str(a),
               " and ", shape_str(b));
}

// y = f(x) for an element-wise op; kern(T* y, const T* x, int64_t n) is called for T =
// float/double.
template <class K>
py::array unary(const char* fn, py::handle x_obj, py::handle out_obj, K kern) {
  py::array x = float_input(x_obj, fn, "x");
  py::array y = output_for(out_obj, x, {x}, fn);
  int64_t n = x.size();
  bool f32 = float_dtype(x, fn, "x") == DType::f32;
  void* yp = y.mutable_data();
  const void* xp = x.data();
  py::gil_scoped_release release;
  if (f32)
    kern(static_cast<float*>(yp), static_cast<const float*>(xp), n);
  else
    kern(static_cast<double*>(yp), static_cast<const double*>(xp), n);
  return y;
}

// dx = grad * f'(xy) for an element-wise op (xy is the forward input or output, per op).
template <class K>
py::array binary(const char* fn, py::handle g_obj, py::handle xy_obj, const char* xy_name,
                 py::handle out_obj, K kern) {
  py::array g = float_input(g_obj, fn, "grad");
  py::array xy = float_input(xy_obj, fn, xy_name);
  check_same_dtype(g, "grad", xy, xy_name, fn);
  check_same_shape(g, "grad", xy, xy_name, fn);
  py::array dx = output_for(out_obj, g, {g, xy}, fn);
  int64_t n = g.size();
  bool f32 = float_dtype(g, fn, "grad") == DType::f32;
  void* dp = dx.mutable_data();
  const void *gp = g.data(), *xp = xy.data();
  py::gil_scoped_release release;
  if (f32)
    kern(static_cast<float*>(dp), static_cast<const float*>(gp), static_cast<const float*>(xp), n);
  else
    kern(static_cast<double*>(dp), static_cast<const double*>(gp), static_cast<const double*>(xp),
         n);
  return dx;
}

// The softmax family runs along `dim`, the array seen as (outer, n, inner).
AlongDim along(const py::array& a, int64_t dim, const char* fn, const char* name) {
  return along_dim(a.shape(), a.ndim(), dim, fn, name, [&] { return shape_str(a); });
}

template <class K>
py::array softmax_unary(const char* fn, py::handle x_obj, int64_t dim, py::handle out_obj, K kern) {
  py::array x = float_input(x_obj, fn, "x");
  const AlongDim s = along(x, dim, fn, "x");
  py::array y = output_for(out_obj, x, {x}, fn);
  bool f32 = float_dtype(x, fn, "x") == DType::f32;
  void* yp = y.mutable_data();
  const void* xp = x.data();
  py::gil_scoped_release release;
  if (f32)
    kern(static_cast<float*>(yp), static_cast<const float*>(xp), s);
  else
    kern(static_cast<double*>(yp), static_cast<const double*>(xp), s);
  return y;
}

template <class K>
py::array softmax_binary(const char* fn, py::handle g_obj, py::handle y_obj, int64_t dim,
                         py::handle out_obj, K kern) {
  py::array g = float_input(g_obj, fn, "grad");
  py::array y = float_input(y_obj, fn, "y");
  check_same_dtype(g, "grad", y, "y", fn);
  check_same_shape(g, "grad", y, "y", fn);
  const AlongDim s = along(g, dim, fn, "grad");
  py::array dx = output_for(out_obj, g, {g, y}, fn);
  bool f32 = float_dtype(g, fn, "grad") == DType::f32;
  void* dp = dx.mutable_data();
  const void *gp = g.data(), *yp = y.data();
  py::gil_scoped_release release;
  if (f32)
    kern(static_cast<float*>(dp), static_cast<const float*>(gp), static_cast<const float*>(yp), s);
  else
    kern(static_cast<double*>(dp), static_cast<const double*>(gp), static_cast<const double*>(yp),
         s);
  return dx;
}

// The slope's range depends on the dtype of `arr` (an input, not yet validated: a non-array
// is reported by the kernel's own checks).
void check_slope(double s, py::handle arr, const char* fn) {
  bool float32 = py::isinstance<py::array>(arr) &&
                 py::reinterpret_borrow<py::array>(arr).dtype().equal(py::dtype::of<float>());
  check_negative_slope(s, float32, fn);
}

// PReLU's view of x as (outer, C, inner): C = weight.size, the channel dim 1 of x; a single
// weight (C = 1) applies to all of x.
void prelu_layout(const py::array& x, const py::array& w, const char* fn, int64_t& outer,
                  int64_t& C, int64_t& inner) {
  FASTNN_CHECK(w.ndim() <= 1, fn, ": 'weight' must be 1-D (num_parameters,), got shape ",
               shape_str(w));
  C = w.size();
  FASTNN_CHECK(C >= 1, fn, ": 'weight' must have at least one element, got shape ", shape_str(w));
  if (C == 1) {
    outer = 1;
    inner = x.size();
    return;
  }
  FASTNN_CHECK(x.ndim() >= 2 && x.shape(1) == C, fn, ": 'weight' has ", C,
               " parameters, so 'x' must have ", C, " channels in dim 1, got shape ", shape_str(x));
  outer = x.shape(0);
  inner = outer * C == 0 ? 0 : x.size() / (outer * C);
}

py::array prelu(py::handle x_obj, py::handle w_obj) {
  constexpr const char* fn = "prelu";
  py::array x = float_input(x_obj, fn, "x");
  py::array w = float_input(w_obj, fn, "weight");
  check_same_dtype(x, "x", w, "weight", fn);
  int64_t outer, C, inner;
  prelu_layout(x, w, fn, outer, C, inner);
  py::array y = output_for(py::none(), x, {x}, fn);
  const bool f32 = float_dtype(x, fn, "x") == DType::f32;
  void* yp = y.mutable_data();
  const void *xp = x.data(), *wp = w.data();
  py::gil_scoped_release release;
  if (f32)
    prelu_forward_cpu(static_cast<float*>(yp), static_cast<const float*>(xp),
                      static_cast<const float*>(wp), outer, C, inner);
  else
    prelu_forward_cpu(static_cast<double*>(yp), static_cast<const double*>(xp),
                      static_cast<const double*>(wp), outer, C, inner);
  return y;
}

py::tuple prelu_backward(py::handle g_obj, py::handle x_obj, py::handle w_obj, bool need_weight) {
  constexpr const char* fn = "prelu_backward";
  py::array g = float_input(g_obj, fn, "grad");
  py::array x = float_input(x_obj, fn, "x");
  py::array w = float_input(w_obj, fn, "weight");
  check_same_dtype(g, "grad", x, "x", fn);
  check_same_dtype(x, "x", w, "weight", fn);
  check_same_shape(g, "grad", x, "x", fn);
  int64_t outer, C, inner;
  prelu_layout(x, w, fn, outer, C, inner);
  py::array dx = output_for(py::none(), x, {x}, fn);
  py::object dw = py::none();
  void* dwp = nullptr;
  if (need_weight) {
    py::array a(w.dtype(), std::vector<py::ssize_t>(w.shape(), w.shape() + w.ndim()));
    dwp = a.mutable_data();
    dw = a;
  }
  const bool f32 = float_dtype(x, fn, "x") == DType::f32;
  void* dxp = dx.mutable_data();
  const void *gp = g.data(), *xp = x.data(), *wp = w.data();
  {
    py::gil_scoped_release release;
    if (f32)
      prelu_backward_cpu(static_cast<float*>(dxp), static_cast<float*>(dwp),
                         static_cast<const float*>(gp), static_cast<const float*>(xp),
                         static_cast<const float*>(wp), outer, C, inner);
    else
      prelu_backward_cpu(static_cast<double*>(dxp), static_cast<double*>(dwp),
                         static_cast<const double*>(gp), static_cast<const double*>(xp),
                         static_cast<const double*>(wp), outer, C, inner);
  }
  return py::make_tuple(dx, dw);
}

void check_finite(double v, const char* fn, const char* name) {
  FASTNN_CHECK(std::isfinite(v), fn, ": argument '", name, "' must be finite, got ", v);
}

}  // namespace

void register_activations(py::module_& m) {
  const py::arg x = py::arg("x"), grad = py::arg("grad");
  const py::arg_v out = py::arg("out") = py::none();

  m.def(
      "relu",
      [](py::handle x, py::handle out) {
        return unary("relu", x, out,
                     [](auto* y, auto* x, int64_t n) { relu_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "relu(x, *, out=None): max(x, 0) element-wise; out may be x.");
  m.def(
      "relu_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("relu_backward", g, x, "x", out, [](auto* dx, auto* g, auto* x, int64_t n) {
          relu_backward_cpu(dx, g, x, n);
        });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "relu_backward(grad, x, *, out=None): grad where the forward INPUT x > 0, else 0.");

  m.def(
      "leaky_relu",
      [](py::handle x, double s, py::handle out) {
        check_slope(s, x, "leaky_relu");
        return unary("leaky_relu", x, out,
                     [s](auto* y, auto* x, int64_t n) { leaky_relu_forward_cpu(y, x, s, n); });
      },
      x, py::arg("negative_slope") = 0.01, py::kw_only(), out,
      "leaky_relu(x, negative_slope=0.01, *, out=None): x if x > 0 else negative_slope * x.");
  m.def(
      "leaky_relu_backward",
      [](py::handle g, py::handle x, double s, py::handle out) {
        check_slope(s, g, "leaky_relu_backward");
        return binary("leaky_relu_backward", g, x, "x", out,
                      [s](auto* dx, auto* g, auto* x, int64_t n) {
                        leaky_relu_backward_cpu(dx, g, x, s, n);
                      });
      },
      grad, py::arg("x"), py::arg("negative_slope") = 0.01, py::kw_only(), out,
      "leaky_relu_backward(grad, x, negative_slope=0.01, *, out=None): takes the forward INPUT x.");

  m.def(
      "sigmoid",
      [](py::handle x, py::handle out) {
        return unary("sigmoid", x, out,
                     [](auto* y, auto* x, int64_t n) { sigmoid_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "sigmoid(x, *, out=None): 1 / (1 + exp(-x)), stable for any x.");
  m.def(
      "sigmoid_backward",
      [](py::handle g, py::handle y, py::handle out) {
        return binary(
            "sigmoid_backward", g, y, "y", out,
            [](auto* dx, auto* g, auto* y, int64_t n) { sigmoid_backward_cpu(dx, g, y, n); });
      },
      grad, py::arg("y"), py::kw_only(), out,
      "sigmoid_backward(grad, y, *, out=None): grad * y * (1 - y), from the forward OUTPUT y.");

  m.def(
      "tanh",
      [](py::handle x, py::handle out) {
        return unary("tanh", x, out,
                     [](auto* y, auto* x, int64_t n) { tanh_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "tanh(x, *, out=None): hyperbolic tangent element-wise.");
  m.def(
      "tanh_backward",
      [](py::handle g, py::handle y, py::handle out) {
        return binary("tanh_backward", g, y, "y", out, [](auto* dx, auto* g, auto* y, int64_t n) {
          tanh_backward_cpu(dx, g, y, n);
        });
      },
      grad, py::arg("y"), py::kw_only(), out,
      "tanh_backward(grad, y, *, out=None): grad * (1 - y^2), from the forward OUTPUT y.");

  m.def(
      "exp",
      [](py::handle x, py::handle out) {
        return unary("exp", x, out, [](auto* y, auto* x, int64_t n) { exp_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "exp(x, *, out=None): e^x element-wise.");
  m.def(
      "exp_backward",
      [](py::handle g, py::handle y, py::handle out) {
        return binary("exp_backward", g, y, "y", out,
                      [](auto* dx, auto* g, auto* y, int64_t n) { exp_backward_cpu(dx, g, y, n); });
      },
      grad, py::arg("y"), py::kw_only(), out,
      "exp_backward(grad, y, *, out=None): grad * y, from the forward OUTPUT y.");

  m.def(
      "sqrt",
      [](py::handle x, py::handle out) {
        return unary("sqrt", x, out,
                     [](auto* y, auto* x, int64_t n) { sqrt_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out,
      "sqrt(x, *, out=None): square root element-wise (NaN below 0, -0 kept).");
  m.def(
      "sqrt_backward",
      [](py::handle g, py::handle y, py::handle out) {
        return binary("sqrt_backward", g, y, "y", out, [](auto* dx, auto* g, auto* y, int64_t n) {
          sqrt_backward_cpu(dx, g, y, n);
        });
      },
      grad, py::arg("y"), py::kw_only(), out,
      "sqrt_backward(grad, y, *, out=None): grad / (2 y), from the forward OUTPUT y.");
  m.def(
      "log",
      [](py::handle x, py::handle out) {
        return unary("log", x, out, [](auto* y, auto* x, int64_t n) { log_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out,
      "log(x, *, out=None): natural logarithm element-wise (-inf at 0, NaN below 0).");
  m.def(
      "log_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("log_backward", g, x, "x", out,
                      [](auto* dx, auto* g, auto* x, int64_t n) { log_backward_cpu(dx, g, x, n); });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "log_backward(grad, x, *, out=None): grad / x, from the forward INPUT x.");

  m.def(
      "sin",
      [](py::handle x, py::handle out) {
        return unary("sin", x, out, [](auto* y, auto* x, int64_t n) { sin_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "sin(x, *, out=None): sine element-wise (radians).");
  m.def(
      "sin_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("sin_backward", g, x, "x", out,
                      [](auto* dx, auto* g, auto* x, int64_t n) { sin_backward_cpu(dx, g, x, n); });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "sin_backward(grad, x, *, out=None): grad * cos(x), from the forward INPUT x.");
  m.def(
      "cos",
      [](py::handle x, py::handle out) {
        return unary("cos", x, out, [](auto* y, auto* x, int64_t n) { cos_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "cos(x, *, out=None): cosine element-wise (radians).");
  m.def(
      "cos_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("cos_backward", g, x, "x", out,
                      [](auto* dx, auto* g, auto* x, int64_t n) { cos_backward_cpu(dx, g, x, n); });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "cos_backward(grad, x, *, out=None): -grad * sin(x), from the forward INPUT x.");
  m.def(
      "erf",
      [](py::handle x, py::handle out) {
        return unary("erf", x, out, [](auto* y, auto* x, int64_t n) { erf_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "erf(x, *, out=None): the error function element-wise.");
  m.def(
      "erf_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("erf_backward", g, x, "x", out,
                      [](auto* dx, auto* g, auto* x, int64_t n) { erf_backward_cpu(dx, g, x, n); });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "erf_backward(grad, x, *, out=None): grad * 2/sqrt(pi) exp(-x^2), from the forward INPUT x.");
  m.def(
      "arctan",
      [](py::handle x, py::handle out) {
        return unary("arctan", x, out,
                     [](auto* y, auto* x, int64_t n) { arctan_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "arctan(x, *, out=None): the inverse tangent element-wise (radians).");
  m.def(
      "arctan_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("arctan_backward", g, x, "x", out, [](auto* dx, auto* g, auto* x, int64_t n) {
          arctan_backward_cpu(dx, g, x, n);
        });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "arctan_backward(grad, x, *, out=None): grad / (x^2 + 1), from the forward INPUT x.");
  m.def(
      "log1p",
      [](py::handle x, py::handle out) {
        return unary("log1p", x, out,
                     [](auto* y, auto* x, int64_t n) { log1p_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out,
      "log1p(x, *, out=None): log(1 + x) element-wise, accurate near 0 (-inf at -1, NaN below).");
  m.def(
      "log1p_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("log1p_backward", g, x, "x", out, [](auto* dx, auto* g, auto* x, int64_t n) {
          log1p_backward_cpu(dx, g, x, n);
        });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "log1p_backward(grad, x, *, out=None): grad / (x + 1), from the forward INPUT x.");
  m.def(
      "expm1",
      [](py::handle x, py::handle out) {
        return unary("expm1", x, out,
                     [](auto* y, auto* x, int64_t n) { expm1_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out,
      "expm1(x, *, out=None): exp(x) - 1 element-wise, accurate near 0 (-1 for x -> -inf).");
  m.def(
      "expm1_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("expm1_backward", g, x, "x", out, [](auto* dx, auto* g, auto* x, int64_t n) {
          expm1_backward_cpu(dx, g, x, n);
        });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "expm1_backward(grad, x, *, out=None): grad * exp(x), from the forward INPUT x.");
  m.def(
      "rsqrt",
      [](py::handle x, py::handle out) {
        return unary("rsqrt", x, out,
                     [](auto* y, auto* x, int64_t n) { rsqrt_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out,
      "rsqrt(x, *, out=None): 1 / sqrt(x) element-wise (inf at 0, NaN below).");
  m.def(
      "rsqrt_backward",
      [](py::handle g, py::handle y, py::handle out) {
        return binary("rsqrt_backward", g, y, "y", out, [](auto* dx, auto* g, auto* y, int64_t n) {
          rsqrt_backward_cpu(dx, g, y, n);
        });
      },
      grad, py::arg("y"), py::kw_only(), out,
      "rsqrt_backward(grad, y, *, out=None): -grad y^3 / 2, from the forward OUTPUT y.");

  m.def(
      "gelu",
      [](py::handle x, const std::string& approximate, py::handle out) {
        GeluApprox a = parse_gelu_approx(approximate, "gelu");
        return unary("gelu", x, out,
                     [a](auto* y, auto* x, int64_t n) { gelu_forward_cpu(y, x, a, n); });
      },
      x, py::arg("approximate") = "none", py::kw_only(), out,
      "gelu(x, approximate='none', *, out=None): x * Phi(x) ('none', exact erf form) or its tanh\n"
      "approximation ('tanh'), as torch.nn.functional.gelu.");
  m.def(
      "gelu_backward",
      [](py::handle g, py::handle x, const std::string& approximate, py::handle out) {
        GeluApprox a = parse_gelu_approx(approximate, "gelu_backward");
        return binary("gelu_backward", g, x, "x", out, [a](auto* dx, auto* g, auto* x, int64_t n) {
          gelu_backward_cpu(dx, g, x, a, n);
        });
      },
      grad, py::arg("x"), py::arg("approximate") = "none", py::kw_only(), out,
      "gelu_backward(grad, x, approximate='none', *, out=None): takes the forward INPUT x.");

  m.def(
      "silu",
      [](py::handle x, py::handle out) {
        return unary("silu", x, out,
                     [](auto* y, auto* x, int64_t n) { silu_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "silu(x, *, out=None): x * sigmoid(x); out may be x.");
  m.def(
      "silu_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("silu_backward", g, x, "x", out, [](auto* dx, auto* g, auto* x, int64_t n) {
          silu_backward_cpu(dx, g, x, n);
        });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "silu_backward(grad, x, *, out=None): grad * s * (1 + x (1 - s)), s = sigmoid(x).");
  m.def(
      "mish",
      [](py::handle x, py::handle out) {
        return unary("mish", x, out,
                     [](auto* y, auto* x, int64_t n) { mish_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out, "mish(x, *, out=None): x * tanh(softplus(x)); out may be x.");
  m.def(
      "mish_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary("mish_backward", g, x, "x", out, [](auto* dx, auto* g, auto* x, int64_t n) {
          mish_backward_cpu(dx, g, x, n);
        });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "mish_backward(grad, x, *, out=None): takes the forward INPUT x.");
  m.def(
      "softplus",
      [](py::handle x, double beta, double threshold, py::handle out) {
        check_finite(beta, "softplus", "beta");
        FASTNN_CHECK(beta != 0, "softplus: argument 'beta' must be non-zero");
        return unary("softplus", x, out, [beta, threshold](auto* y, auto* x, int64_t n) {
          softplus_forward_cpu(y, x, beta, threshold, n);
        });
      },
      x, py::arg("beta") = 1.0, py::arg("threshold") = 20.0, py::kw_only(), out,
      "softplus(x, beta=1.0, threshold=20.0, *, out=None): log(1 + exp(beta x)) / beta, and x\n"
      "where beta x > threshold, as torch.nn.functional.softplus.");
  m.def(
      "softplus_backward",
      [](py::handle g, py::handle x, double beta, double threshold, py::handle out) {
        check_finite(beta, "softplus_backward", "beta");
        FASTNN_CHECK(beta != 0, "softplus_backward: argument 'beta' must be non-zero");
        return binary("softplus_backward", g, x, "x", out,
                      [beta, threshold](auto* dx, auto* g, auto* x, int64_t n) {
                        softplus_backward_cpu(dx, g, x, beta, threshold, n);
                      });
      },
      grad, py::arg("x"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0, py::kw_only(), out,
      "softplus_backward(grad, x, beta=1.0, threshold=20.0, *, out=None): grad * sigmoid(beta x)\n"
      "(grad where beta x > threshold); takes the forward INPUT x.");
  m.def(
      "elu",
      [](py::handle x, double alpha, double scale, double input_scale, py::handle out) {
        return unary("elu", x, out, [=](auto* y, auto* x, int64_t n) {
          elu_forward_cpu(y, x, alpha, scale, input_scale, n);
        });
      },
      x, py::arg("alpha") = 1.0, py::arg("scale") = 1.0, py::arg("input_scale") = 1.0,
      py::kw_only(), out,
      "elu(x, alpha=1.0, scale=1.0, input_scale=1.0, *, out=None): scale * x for x > 0, else\n"
      "scale * alpha * (exp(input_scale * x) - 1); selu is alpha=1.6732632423543772,\n"
      "scale=1.0507009873554805.");
  m.def(
      "elu_backward",
      [](py::handle g, py::handle x, double alpha, double scale, double input_scale,
         py::handle out) {
        return binary("elu_backward", g, x, "x", out, [=](auto* dx, auto* g, auto* x, int64_t n) {
          elu_backward_cpu(dx, g, x, alpha, scale, input_scale, n);
        });
      },
      grad, py::arg("x"), py::arg("alpha") = 1.0, py::arg("scale") = 1.0,
      py::arg("input_scale") = 1.0, py::kw_only(), out,
      "elu_backward(grad, x, alpha=1.0, scale=1.0, input_scale=1.0, *, out=None): takes the\n"
      "forward INPUT x.");
  m.def(
      "hardtanh",
      [](py::handle x, double lo, double hi, py::handle out) {
        FASTNN_CHECK(lo <= hi, "hardtanh: min_val (", lo, ") cannot be greater than max_val (", hi,
                     ")");
        return unary("hardtanh", x, out, [lo, hi](auto* y, auto* x, int64_t n) {
          hardtanh_forward_cpu(y, x, lo, hi, n);
        });
      },
      x, py::arg("min_val") = -1.0, py::arg("max_val") = 1.0, py::kw_only(), out,
      "hardtanh(x, min_val=-1.0, max_val=1.0, *, out=None): x clamped to [min_val, max_val]\n"
      "(relu6 is hardtanh(x, 0, 6)); NaN propagates; out may be x.");
  m.def(
      "hardtanh_backward",
      [](py::handle g, py::handle x, double lo, double hi, py::handle out) {
        FASTNN_CHECK(lo <= hi, "hardtanh_backward: min_val (", lo,
                     ") cannot be greater than max_val (", hi, ")");
        return binary("hardtanh_backward", g, x, "x", out,
                      [lo, hi](auto* dx, auto* g, auto* x, int64_t n) {
                        hardtanh_backward_cpu(dx, g, x, lo, hi, n);
                      });
      },
      grad, py::arg("x"), py::arg("min_val") = -1.0, py::arg("max_val") = 1.0, py::kw_only(), out,
      "hardtanh_backward(grad, x, min_val=-1.0, max_val=1.0, *, out=None): grad where\n"
      "min_val < x < max_val, else 0; takes the forward INPUT x.");
  m.def(
      "logsigmoid",
      [](py::handle x, py::handle out) {
        return unary("logsigmoid", x, out,
                     [](auto* y, auto* x, int64_t n) { logsigmoid_forward_cpu(y, x, n); });
      },
      x, py::kw_only(), out,
      "logsigmoid(x, *, out=None): log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for\n"
      "any finite x; out may be x.");
  m.def(
      "logsigmoid_backward",
      [](py::handle g, py::handle x, py::handle out) {
        return binary(
            "logsigmoid_backward", g, x, "x", out,
            [](auto* dx, auto* g, auto* x, int64_t n) { logsigmoid_backward_cpu(dx, g, x, n); });
      },
      grad, py::arg("x"), py::kw_only(), out,
      "logsigmoid_backward(grad, x, *, out=None): grad * sigmoid(-x); takes the forward INPUT x.");
  m.def("prelu", &prelu, x, py::arg("weight"),
        "prelu(x, weight): x where x > 0, else weight[c] * x, c = x's index in dim 1; weight has\n"
        "x.shape[1] entries or one (shared by all elements).");
  m.def("prelu_backward", &prelu_backward, grad, x, py::arg("weight"), py::kw_only(),
        py::arg("need_weight") = true,
        "prelu_backward(grad, x, weight, *, need_weight=True): (dx, dweight): dx = grad where\n"
        "x > 0, else weight[c] * grad; dweight[c] = the sum of grad * x where x <= 0 (None unless\n"
        "need_weight).");

  const auto dim = py::arg("dim") = -1;
  m.def(
      "softmax",
      [](py::handle x, int64_t dim, py::handle out) {
        return softmax_unary("softmax", x, dim, out, [](auto* y, auto* x, AlongDim s) {
          softmax_forward_cpu(y, x, s.outer, s.n, s.inner);
        });
      },
      x, dim, py::kw_only(), out,
      "softmax(x, dim=-1, *, out=None): exp(x - m) / sum(exp(x - m)) along dim, m the maximum "
      "there (numerically stable); out may be x.");
  m.def(
      "softmax_backward",
      [](py::handle g, py::handle y, int64_t dim, py::handle out) {
        return softmax_binary("softmax_backward", g, y, dim, out,
                              [](auto* dx, auto* g, auto* y, AlongDim s) {
                                softmax_backward_cpu(dx, g, y, s.outer, s.n, s.inner);
                              });
      },
      grad, py::arg("y"), dim, py::kw_only(), out,
      "softmax_backward(grad, y, dim=-1, *, out=None): y * (grad - sum(grad * y, dim)), from the "
      "OUTPUT y.");
  m.def(
      "log_softmax",
      [](py::handle x, int64_t dim, py::handle out) {
        return softmax_unary("log_softmax", x, dim, out, [](auto* y, auto* x, AlongDim s) {
          log_softmax_forward_cpu(y, x, s.outer, s.n, s.inner);
        });
      },
      x, dim, py::kw_only(), out,
      "log_softmax(x, dim=-1, *, out=None): x - logsumexp(x, dim); out may be x.");
  m.def(
      "log_softmax_backward",
      [](py::handle g, py::handle y, int64_t dim, py::handle out) {
        return softmax_binary("log_softmax_backward", g, y, dim, out,
                              [](auto* dx, auto* g, auto* y, AlongDim s) {
                                log_softmax_backward_cpu(dx, g, y, s.outer, s.n, s.inner);
                              });
      },
      grad, py::arg("y"), dim, py::kw_only(), out,
      "log_softmax_backward(grad, y, dim=-1, *, out=None): grad - exp(y) * sum(grad, dim), from "
      "the OUTPUT y.");
}

}  // namespace fastnn::bind
