// pybind11 glue for the CUDA versions of fastnn.kernels: activations, losses, matmul and
// optimizer steps on DeviceArrays, with the same names, arguments and semantics as the CPU
// bindings. Validate everything first (TypeError / ValueError naming the argument), then launch.
// Kernels are asynchronous: results are ready when read back (.numpy()) or after synchronize().
#include <cmath>
#include <string>

#include "bindings/cuda_array.h"
#include "cuda/gemm_plan.h"

namespace fastnn::cuda::bind {
namespace {

DeviceArray& float_input(const py::handle& obj, const char* fn, const char* name) {
  DeviceArray& a = as_device_array(obj, fn, name);
  check_float(a, fn, name);
  return a;
}

// `out=None` -> new; else same dtype/shape/device and either an input itself or disjoint.
DeviceArray out_like(const py::object& out, const DeviceArray& like,
                     std::initializer_list<const DeviceArray*> inputs, const char* fn) {
  DeviceArray o = output(out, like.shape, like.dtype, like.device(), fn, "out");
  if (!out.is_none())
    for (const DeviceArray* in : inputs)
      FASTNN_CHECK(
          o.data() == in->data() || !overlaps(o, *in), fn,
          ": 'out' must be an input itself (in place) or not share memory with the inputs");
  return o;
}

py::object ret(const py::object& out, DeviceArray&& result) {
  return out.is_none() ? py::cast(std::move(result)) : out;
}

void check_pair(const DeviceArray& g, const DeviceArray& xy, const char* xy_name, const char* fn) {
  check_same_dtype(g, "grad", xy, xy_name, fn);
  check_same_device(g, "grad", xy, xy_name, fn);
  FASTNN_CHECK(g.shape == xy.shape, fn, ": 'grad' and '", xy_name,
               "' must have the same shape, got ", shape_str(g.shape), " and ",
               shape_str(xy.shape));
}

using UnaryK = void (*)(DType, void*, const void*, int64_t);
using BinaryK = void (*)(DType, void*, const void*, const void*, int64_t);

py::object unary(const char* fn, UnaryK k, const py::object& x_obj, const py::object& out) {
  DeviceArray& x = float_input(x_obj, fn, "x");
  DeviceGuard guard(x.device());
  DeviceArray y = out_like(out, x, {&x}, fn);
  k(x.dtype, y.data(), x.data(), x.numel());
  return ret(out, std::move(y));
}

py::object binary(const char* fn, BinaryK k, const py::object& g_obj, const py::object& xy_obj,
                  const char* xy_name, const py::object& out) {
  DeviceArray& g = float_input(g_obj, fn, "grad");
  DeviceArray& xy = float_input(xy_obj, fn, xy_name);
  check_pair(g, xy, xy_name, fn);
  DeviceGuard guard(g.device());
  DeviceArray dx = out_like(out, g, {&g, &xy}, fn);
  k(g.dtype, dx.data(), g.data(), xy.data(), g.numel());
  return ret(out, std::move(dx));
}

// The softmax family runs along `dim`, the array seen as (outer, n, inner).
AlongDim along(const DeviceArray& a, int64_t dim, const char* fn, const char* name) {
  return along_dim(a.shape, a.ndim(), dim, fn, name, [&] { return shape_str(a.shape); });
}

using SoftmaxK = void (*)(DType, void*, const void*, int64_t, int64_t, int64_t);
using SoftmaxBK = void (*)(DType, void*, const void*, const void*, int64_t, int64_t, int64_t);

py::object softmax_fwd(const char* fn, SoftmaxK k, const py::object& x_obj, int64_t dim,
                       const py::object& out) {
  DeviceArray& x = float_input(x_obj, fn, "x");
  const AlongDim s = along(x, dim, fn, "x");
  DeviceGuard guard(x.device());
  DeviceArray y = out_like(out, x, {&x}, fn);
  k(x.dtype, y.data(), x.data(), s.outer, s.n, s.inner);
  return ret(out, std::move(y));
}

py::object softmax_bwd(const char* fn, SoftmaxBK k, const py::object& g_obj,
                       const py::object& y_obj, int64_t dim, const py::object& out) {
  DeviceArray& g = float_input(g_obj, fn, "grad");
  DeviceArray& y = float_input(y_obj, fn, "y");
  check_pair(g, y, "y", fn);
  const AlongDim s = along(g, dim, fn, "grad");
  DeviceGuard guard(g.device());
  DeviceArray dx = out_like(out, g, {&g, &y}, fn);
  k(g.dtype, dx.data(), g.data(), y.data(), s.outer, s.n, s.inner);
  return ret(out, std::move(dx));
}

const DeviceArray* optional_operand(const py::object& obj, const DeviceArray& logits,
                                    const char* fn, const char* name) {
  if (obj.is_none()) return nullptr;
  DeviceArray& a = float_input(obj, fn, name);
  check_same_dtype(a, name, logits, "logits", fn);
  check_same_device(a, name, logits, "logits", fn);
  return &a;
}

py::object loss_result(DeviceArray&& loss, DeviceArray&& dlogits, bool grad) {
  if (grad) return py::make_tuple(std::move(loss), std::move(dlogits));
  return py::cast(std::move(loss));
}

py::object softmax_cross_entropy(const py::object& logits_obj, const py::object& target_obj,
                                 const std::string& reduction, double label_smoothing,
                                 int64_t ignore_index, const py::object& weight_obj, bool grad) {
  const char* fn = "softmax_cross_entropy";
  DeviceArray& logits = float_input(logits_obj, fn, "logits");
  FASTNN_CHECK(logits.ndim() == 2, fn, ": argument 'logits' must have shape (N, C), got ",
               shape_str(logits.shape));
  const int64_t N = logits.shape[0], C = logits.shape[1];
  FASTNN_CHECK(C >= 1, fn, ": 'logits' must have at least one class, got shape ",
               shape_str(logits.shape));
  const Reduction red = parse_reduction(reduction, fn);
  FASTNN_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, fn,
               ": argument 'label_smoothing' must be between 0.0 and 1.0, got ", label_smoothing);
  DeviceArray& target = as_device_array(target_obj, fn, "target");
  check_same_device(target, "target", logits, "logits", fn);
  const bool is_prob = is_float(target.dtype);
  FASTNN_TYPE_CHECK(is_prob || target.dtype == DType::i64 || target.dtype == DType::i32, fn,
                    ": argument 'target' must hold class indices (int32 or int64) or class "
                    "probabilities (the dtype of 'logits', ",
                    dtype_name(logits.dtype), "), got ", dtype_name(target.dtype));
  if (is_prob) {
    check_same_dtype(target, "target", logits, "logits", fn);
    check_shape(target, {N, C}, fn, "target");
  } else {
    check_shape(target, {N}, fn, "target");
  }
  const DeviceArray* weight = optional_operand(weight_obj, logits, fn, "weight");
  if (weight) check_shape(*weight, {C}, fn, "weight");
  DeviceGuard guard(logits.device());
  DeviceArray loss =
      empty(red == Reduction::none ? std::vector<int64_t>{N} : std::vector<int64_t>{}, logits.dtype,
            logits.device());
  DeviceArray dlogits;
  if (grad) dlogits = empty(logits.shape, logits.dtype, logits.device());
  softmax_cross_entropy_forward_cuda(
      logits.dtype, loss.data(), grad ? dlogits.data() : nullptr, logits.data(),
      is_prob ? nullptr : target.data(), target.dtype, is_prob ? target.data() : nullptr,
      weight ? weight->data() : nullptr, N, C, red, label_smoothing, ignore_index);
  return loss_result(std::move(loss), std::move(dlogits), grad);
}

py::object binary_cross_entropy_with_logits(const py::object& logits_obj,
                                            const py::object& target_obj,
                                            const py::object& weight_obj,
                                            const py::object& pos_weight_obj,
                                            const std::string& reduction, bool grad) {
  const char* fn = "binary_cross_entropy_with_logits";
  DeviceArray& logits = float_input(logits_obj, fn, "logits");
  const Reduction red = parse_reduction(reduction, fn);
  DeviceArray& target = float_input(target_obj, fn, "target");
  check_same_dtype(target, "target", logits, "logits", fn);
  check_same_device(target, "target", logits, "logits", fn);
  check_shape(target, logits.shape, fn, "target");
  const int64_t n = logits.numel();
  const int64_t C = logits.ndim() == 0 ? 1 : logits.shape.back();
  const DeviceArray* weight = optional_operand(weight_obj, logits, fn, "weight");
  bool per_class = false;
  if (weight) {
    const bool same = weight->shape == logits.shape;
    per_class = !same && weight->ndim() == 1 && weight->shape[0] == C;
    FASTNN_CHECK(same || per_class, fn, ": argument 'weight' must have the shape of 'logits' ",
                 shape_str(logits.shape), " or (", C, ",) (one weight per last-dim entry), got ",
                 shape_str(weight->shape));
  }
  const DeviceArray* pos_weight = optional_operand(pos_weight_obj, logits, fn, "pos_weight");
  if (pos_weight) check_shape(*pos_weight, {C}, fn, "pos_weight");
  DeviceGuard guard(logits.device());
  DeviceArray loss = empty(red == Reduction::none ? logits.shape : std::vector<int64_t>{},
                           logits.dtype, logits.device());
  DeviceArray dlogits;
  if (grad) dlogits = empty(logits.shape, logits.dtype, logits.device());
  binary_cross_entropy_with_logits_forward_cuda(
      logits.dtype, loss.data(), grad ? dlogits.data() : nullptr, logits.data(), target.data(),
      weight ? weight->data() : nullptr, per_class, pos_weight ? pos_weight->data() : nullptr, n, C,
      red);
  return loss_result(std::move(loss), std::move(dlogits), grad);
}

py::object matmul(const py::object& a_obj, const py::object& b_obj, bool trans_a, bool trans_b,
                  double alpha, double beta, const py::object& out, const py::object& bias_obj) {
  const char* fn = "matmul";
  DeviceArray& a = float_input(a_obj, fn, "a");
  DeviceArray& b = float_input(b_obj, fn, "b");
  check_same_dtype(a, "a", b, "b", fn);
  check_same_device(a, "a", b, "b", fn);
  FASTNN_CHECK(a.ndim() == 2 || a.ndim() == 3, fn,
               ": argument 'a' must have 2 or 3 dimensions, got shape ", shape_str(a.shape));
  FASTNN_CHECK(b.ndim() == 2 || b.ndim() == 3, fn,
               ": argument 'b' must have 2 or 3 dimensions, got shape ", shape_str(b.shape));
  FASTNN_CHECK(!(a.ndim() == 2 && b.ndim() == 3), fn, ": 'a' with shape ", shape_str(a.shape),
               " and 'b' with shape ", shape_str(b.shape),
               ": a 3-D 'b' needs a 3-D 'a' with the same batch size");
  const int ra = a.ndim() - 2, rb = b.ndim() - 2;
  const int64_t batch = a.ndim() == 3 ? a.shape[0] : 1;
  const int64_t M = trans_a ? a.shape[ra + 1] : a.shape[ra];
  const int64_t ka = trans_a ? a.shape[ra] : a.shape[ra + 1];
  const int64_t kb = trans_b ? b.shape[rb + 1] : b.shape[rb];
  const int64_t N = trans_b ? b.shape[rb] : b.shape[rb + 1];
  FASTNN_CHECK(ka == kb, fn, ": inner dimensions differ: 'a' ", shape_str(a.shape),
               " with trans_a=", trans_a ? "True" : "False", " gives K=", ka, ", 'b' ",
               shape_str(b.shape), " with trans_b=", trans_b ? "True" : "False", " gives K=", kb);
  if (b.ndim() == 3)
    FASTNN_CHECK(b.shape[0] == batch, fn, ": batch sizes differ: 'a' ", shape_str(a.shape),
                 " and 'b' ", shape_str(b.shape));
  std::vector<int64_t> shape;
  if (a.ndim() == 3) shape.push_back(batch);
  shape.push_back(M);
  shape.push_back(N);
  const DeviceArray* bias = nullptr;
  if (!bias_obj.is_none()) {
    bias = &float_input(bias_obj, fn, "bias");
    check_same_dtype(*bias, "bias", a, "a", fn);
    check_same_device(*bias, "bias", a, "a", fn);
    check_shape(*bias, {N}, fn, "bias");
  }
  FASTNN_CHECK(
      !out.is_none() || beta == 0.0, fn, ": beta=", beta,
      " needs 'out' (its contents are the C term of alpha * op(a) @ op(b) + beta * out + bias)");
  DeviceGuard guard(a.device());
  DeviceArray c = output(out, shape, a.dtype, a.device(), fn, "out");
  if (!out.is_none()) {
    check_no_overlap(c, "out", a, "a", fn);
    check_no_overlap(c, "out", b, "b", fn);
    if (bias) check_no_overlap(c, "out", *bias, "bias", fn);
  }
  matmul_forward_cuda(a.dtype, c.data(), a.data(), b.data(), bias ? bias->data() : nullptr, batch,
                      M, N, ka, trans_a ? Trans::T : Trans::N, trans_b ? Trans::T : Trans::N, alpha,
                      beta, a.ndim() == 3 ? M * ka : 0, b.ndim() == 3 ? ka * N : 0, M * N);
  return ret(out, std::move(c));
}

// The float32 GEMM's plan for a problem (tile, K split, grid), for tests and benchmarks to see
// which kernel path a shape takes. sms=0: the current device's multiprocessor count.
py::dict gemm_plan(int64_t batch, int64_t m, int64_t n, int64_t k, int sms) {
  const char* fn = "_gemm_plan";
  FASTNN_CHECK(batch >= 1 && m >= 1 && n >= 1 && k >= 1, fn,
               ": batch, m, n and k must be >= 1, got batch=", batch, ", m=", m, ", n=", n,
               ", k=", k);
  FASTNN_CHECK(sms >= 0, fn, ": sms must be >= 0, got ", sms);
  if (sms == 0) sms = multiprocessor_count();
  const gemm::Plan p = gemm::plan_gemm(batch, m, n, k, sms);
  const gemm::TileCfg& c = gemm::kTiles[p.tile];
  py::dict d;
  d["tile_m"] = c.bm;
  d["tile_n"] = c.bn;
  d["threads"] = c.threads();
  d["splits"] = p.splits;
  d["k_chunk"] = p.k_chunk;
  d["grid_x"] = p.grid_x;
  d["grid_y"] = p.grid_y;
  d["sms"] = sms;
  return d;
}

// ---- optimizer steps ----

std::string fmt_double(double x) { return py::str(py::float_(x)).cast<std::string>(); }

// Lists of DeviceArrays: params first; every other list matches it in length, shape, dtype and
// device; written lists must be writeable; no written array may overlap another argument.
class Lists {
 public:
  Lists(const char* fn, const py::object& params) : fn_(fn) { add(params, "params", true); }

  void add(const py::object& obj, const char* name, bool written) {
    FASTNN_TYPE_CHECK(py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj), fn_,
                      ": argument '", name, "' must be a list or tuple of DeviceArrays, got ",
                      type_name(obj));
    Entry e{name, written, {}};
    size_t i = 0;
    for (const py::handle& item : obj) {
      const std::string item_name = std::string(name) + "[" + std::to_string(i) + "]";
      DeviceArray& a = as_device_array(item, fn_, item_name.c_str());
      check_float(a, fn_, item_name.c_str());
      if (!lists_.empty()) {
        const auto& ps = lists_[0].arrays;
        FASTNN_CHECK(i < ps.size(), fn_, ": '", name, "' has more arrays than 'params' (",
                     ps.size(), ")");
        check_same_dtype(a, item_name.c_str(), *ps[i], "params", fn_);
        check_same_device(a, item_name.c_str(), *ps[i], "params", fn_);
        FASTNN_CHECK(a.shape == ps[i]->shape, fn_, ": '", item_name, "' has shape ",
                     shape_str(a.shape), " but 'params[", i, "]' has shape ",
                     shape_str(ps[i]->shape));
      } else if (i > 0) {
        check_same_dtype(a, item_name.c_str(), *e.arrays[0], "params[0]", fn_);
        check_same_device(a, item_name.c_str(), *e.arrays[0], "params[0]", fn_);
      }
      if (written) check_writeable(a, fn_, item_name.c_str());
      e.arrays.push_back(&a);
      ++i;
    }
    if (!lists_.empty()) check_list_length(fn_, name, e.arrays.size(), lists_[0].arrays.size());
    lists_.push_back(std::move(e));
  }

  void add_optional(const py::object& obj, const char* name, bool needed, const char* why) {
    if (obj.is_none()) {
      FASTNN_CHECK(!needed, fn_, ": '", name, "' is required when ", why);
      lists_.push_back(Entry{name, false, {}});
      return;
    }
    add(obj, name, needed);
  }

  // See fastnn::check_no_overlap (csrc/contract.h).
  void check_no_overlap() const {
    std::vector<BufferSpan> spans;
    for (const Entry& e : lists_)
      for (size_t i = 0; i < e.arrays.size(); ++i) {
        const DeviceArray& a = *e.arrays[i];
        if (a.numel() == 0) continue;
        const auto lo = reinterpret_cast<intptr_t>(a.data());
        spans.push_back(
            BufferSpan{lo, lo + static_cast<intptr_t>(a.nbytes()), &e.name, i, e.written});
      }
    fastnn::check_no_overlap(fn_, std::move(spans));
  }

  size_t size() const { return lists_[0].arrays.size(); }
  DType dtype() const { return size() ? lists_[0].arrays[0]->dtype : DType::f32; }
  int device() const { return size() ? lists_[0].arrays[0]->device() : 0; }
  std::vector<void*> ptrs(size_t k) const {
    std::vector<void*> out;
    for (const DeviceArray* a : lists_[k].arrays) out.push_back(a->data());
    return out;
  }
  bool present(size_t k) const { return !lists_[k].arrays.empty() || size() == 0; }
  std::vector<int64_t> numels() const {
    std::vector<int64_t> n;
    for (const DeviceArray* a : lists_[0].arrays) n.push_back(a->numel());
    return n;
  }

 private:
  struct Entry {
    std::string name;
    bool written;
    std::vector<DeviceArray*> arrays;
  };
  const char* fn_;
  std::vector<Entry> lists_;
};

std::vector<const void*> cptrs(const std::vector<void*>& v) { return {v.begin(), v.end()}; }

void sgd_step(const py::object& params, const py::object& grads, const py::object& momentum_bufs,
              double lr, double momentum, double dampening, bool nesterov, double weight_decay,
              bool maximize, bool first_step) {
  const char* fn = "sgd_step";
  SgdOptions h;
  h.lr = lr, h.momentum = momentum, h.dampening = dampening, h.weight_decay = weight_decay;
  h.nesterov = nesterov, h.maximize = maximize, h.first_step = first_step;
  validate(h, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add_optional(momentum_bufs, "momentum_bufs", momentum != 0, "momentum != 0");
  l.check_no_overlap();
  if (l.size() == 0) return;
  DeviceGuard guard(l.device());
  auto p = l.ptrs(0), g = l.ptrs(1);
  auto b = momentum != 0 ? l.ptrs(2) : std::vector<void*>();
  auto n = l.numels();
  sgd_step_cuda(l.dtype(), p.data(), b.empty() ? nullptr : b.data(), cptrs(g).data(), n.data(),
                static_cast<int64_t>(n.size()), h);
}

void adagrad_step(const py::object& params, const py::object& grads, const py::object& state_sums,
                  double lr, double lr_decay, double weight_decay, double eps, int64_t step,
                  bool maximize) {
  const char* fn = "adagrad_step";
  AdagradOptions h;
  h.lr = lr, h.lr_decay = lr_decay, h.weight_decay = weight_decay, h.eps = eps, h.step = step;
  h.maximize = maximize;
  validate(h, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add(state_sums, "state_sums", true);
  l.check_no_overlap();
  if (l.size() == 0) return;
  DeviceGuard guard(l.device());
  auto p = l.ptrs(0), g = l.ptrs(1), s = l.ptrs(2);
  auto n = l.numels();
  adagrad_step_cuda(l.dtype(), p.data(), s.data(), cptrs(g).data(), n.data(),
                    static_cast<int64_t>(n.size()), h);
}

void rmsprop_step(const py::object& params, const py::object& grads, const py::object& square_avgs,
                  double lr, double alpha, double eps, double weight_decay, double momentum,
                  bool centered, const py::object& momentum_bufs, const py::object& grad_avgs,
                  bool maximize) {
  const char* fn = "rmsprop_step";
  RmspropOptions h;
  h.lr = lr, h.alpha = alpha, h.eps = eps, h.weight_decay = weight_decay, h.momentum = momentum;
  h.centered = centered, h.maximize = maximize;
  validate(h, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add(square_avgs, "square_avgs", true);
  l.add_optional(momentum_bufs, "momentum_bufs", momentum > 0, "momentum > 0");
  l.add_optional(grad_avgs, "grad_avgs", centered, "centered=True");
  l.check_no_overlap();
  if (l.size() == 0) return;
  DeviceGuard guard(l.device());
  auto p = l.ptrs(0), g = l.ptrs(1), sq = l.ptrs(2), b = l.ptrs(3), ga = l.ptrs(4);
  auto n = l.numels();
  rmsprop_step_cuda(l.dtype(), p.data(), sq.data(), centered ? ga.data() : nullptr,
                    momentum > 0 ? b.data() : nullptr, cptrs(g).data(), n.data(),
                    static_cast<int64_t>(n.size()), h);
}

void adam_step(const py::object& params, const py::object& grads, const py::object& exp_avgs,
               const py::object& exp_avg_sqs, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool decoupled, bool amsgrad, const py::object& max_exp_avg_sqs,
               bool maximize, int64_t step) {
  const char* fn = "adam_step";
  AdamOptions h;
  h.lr = lr, h.beta1 = beta1, h.beta2 = beta2, h.eps = eps, h.weight_decay = weight_decay;
  h.mode = decoupled ? AdamMode::decoupled : AdamMode::l2;
  h.amsgrad = amsgrad, h.maximize = maximize, h.step = step;
  validate(h, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add(exp_avgs, "exp_avgs", true);
  l.add(exp_avg_sqs, "exp_avg_sqs", true);
  l.add_optional(max_exp_avg_sqs, "max_exp_avg_sqs", amsgrad, "amsgrad=True");
  l.check_no_overlap();
  if (l.size() == 0) return;
  DeviceGuard guard(l.device());
  auto p = l.ptrs(0), g = l.ptrs(1), m = l.ptrs(2), v = l.ptrs(3), vm = l.ptrs(4);
  auto n = l.numels();
  adam_step_cuda(l.dtype(), p.data(), m.data(), v.data(), amsgrad ? vm.data() : nullptr,
                 cptrs(g).data(), n.data(), static_cast<int64_t>(n.size()), h);
}

// Validates the options and the four lists of a two-state optimizer, then runs `launch(p, a, b,
// g, numels, n)` on the params' device.
template <class Options, class Launch>
void two_state_step(const char* fn, const Options& h, const py::object& params,
                    const py::object& grads, const py::object& s1, const char* s1_name,
                    const py::object& s2, const char* s2_name, const Launch& launch) {
  validate(h, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add(s1, s1_name, true);
  l.add(s2, s2_name, true);
  l.check_no_overlap();
  if (l.size() == 0) return;
  DeviceGuard guard(l.device());
  auto p = l.ptrs(0), g = l.ptrs(1), a = l.ptrs(2), b = l.ptrs(3);
  auto n = l.numels();
  launch(l.dtype(), p.data(), a.data(), b.data(), cptrs(g).data(), n.data(),
         static_cast<int64_t>(n.size()), h);
}

void adadelta_step(const py::object& params, const py::object& grads, const py::object& square_avgs,
                   const py::object& acc_deltas, double lr, double rho, double eps,
                   double weight_decay, bool maximize) {
  AdadeltaOptions h;
  h.lr = lr, h.rho = rho, h.eps = eps, h.weight_decay = weight_decay, h.maximize = maximize;
  two_state_step("adadelta_step", h, params, grads, square_avgs, "square_avgs", acc_deltas,
                 "acc_deltas", adadelta_step_cuda);
}

void adamax_step(const py::object& params, const py::object& grads, const py::object& exp_avgs,
                 const py::object& exp_infs, double lr, double beta1, double beta2, double eps,
                 double weight_decay, bool maximize, int64_t step) {
  AdamaxOptions h;
  h.lr = lr, h.beta1 = beta1, h.beta2 = beta2, h.eps = eps, h.weight_decay = weight_decay;
  h.maximize = maximize, h.step = step;
  two_state_step("adamax_step", h, params, grads, exp_avgs, "exp_avgs", exp_infs, "exp_infs",
                 adamax_step_cuda);
}

void nadam_step(const py::object& params, const py::object& grads, const py::object& exp_avgs,
                const py::object& exp_avg_sqs, double lr, double beta1, double beta2, double eps,
                double weight_decay, double momentum_decay, bool decoupled, bool maximize,
                int64_t step, double mu_product) {
  NadamOptions h;
  h.lr = lr, h.beta1 = beta1, h.beta2 = beta2, h.eps = eps, h.weight_decay = weight_decay;
  h.momentum_decay = momentum_decay, h.mu_product = mu_product;
  h.mode = decoupled ? AdamMode::decoupled : AdamMode::l2;
  h.maximize = maximize, h.step = step;
  two_state_step("nadam_step", h, params, grads, exp_avgs, "exp_avgs", exp_avg_sqs, "exp_avg_sqs",
                 nadam_step_cuda);
}

void radam_step(const py::object& params, const py::object& grads, const py::object& exp_avgs,
                const py::object& exp_avg_sqs, double lr, double beta1, double beta2, double eps,
                double weight_decay, bool decoupled, bool maximize, int64_t step) {
  RadamOptions h;
  h.lr = lr, h.beta1 = beta1, h.beta2 = beta2, h.eps = eps, h.weight_decay = weight_decay;
  h.mode = decoupled ? AdamMode::decoupled : AdamMode::l2;
  h.maximize = maximize, h.step = step;
  two_state_step("radam_step", h, params, grads, exp_avgs, "exp_avgs", exp_avg_sqs, "exp_avg_sqs",
                 radam_step_cuda);
}

// unary / binary for the ops with scalar parameters: k(dtype, out, in[, in2], n) is a lambda
// that adds them.
template <class K>
py::object unary_with(const char* fn, K k, const py::object& x_obj, const py::object& out) {
  DeviceArray& x = float_input(x_obj, fn, "x");
  DeviceGuard guard(x.device());
  DeviceArray y = out_like(out, x, {&x}, fn);
  k(x.dtype, y.data(), x.data(), x.numel());
  return ret(out, std::move(y));
}
template <class K>
py::object binary_with(const char* fn, K k, const py::object& g_obj, const py::object& x_obj,
                       const py::object& out) {
  DeviceArray& g = float_input(g_obj, fn, "grad");
  DeviceArray& x = float_input(x_obj, fn, "x");
  check_pair(g, x, "x", fn);
  DeviceGuard guard(g.device());
  DeviceArray dx = out_like(out, g, {&g, &x}, fn);
  k(g.dtype, dx.data(), g.data(), x.data(), g.numel());
  return ret(out, std::move(dx));
}

void check_softplus_beta(double beta, const char* fn) {
  FASTNN_CHECK(std::isfinite(beta), fn, ": argument 'beta' must be finite, got ", beta);
  FASTNN_CHECK(beta != 0, fn, ": argument 'beta' must be non-zero");
}
void check_hardtanh_range(double lo, double hi, const char* fn) {
  FASTNN_CHECK(lo <= hi, fn, ": min_val (", lo, ") cannot be greater than max_val (", hi, ")");
}

void register_more_activations(py::module_& m, const py::arg_v& out) {
  m.def(
      "silu",
      [](const py::object& x, const py::object& o) {
        return unary("silu", silu_forward_cuda, x, o);
      },
      py::arg("x"), py::kw_only(), out);
  m.def(
      "silu_backward",
      [](const py::object& g, const py::object& x, const py::object& o) {
        return binary("silu_backward", silu_backward_cuda, g, x, "x", o);
      },
      py::arg("grad"), py::arg("x"), py::kw_only(), out);
  m.def(
      "mish",
      [](const py::object& x, const py::object& o) {
        return unary("mish", mish_forward_cuda, x, o);
      },
      py::arg("x"), py::kw_only(), out);
  m.def(
      "mish_backward",
      [](const py::object& g, const py::object& x, const py::object& o) {
        return binary("mish_backward", mish_backward_cuda, g, x, "x", o);
      },
      py::arg("grad"), py::arg("x"), py::kw_only(), out);
  m.def(
      "logsigmoid",
      [](const py::object& x, const py::object& o) {
        return unary("logsigmoid", logsigmoid_forward_cuda, x, o);
      },
      py::arg("x"), py::kw_only(), out);
  m.def(
      "logsigmoid_backward",
      [](const py::object& g, const py::object& x, const py::object& o) {
        return binary("logsigmoid_backward", logsigmoid_backward_cuda, g, x, "x", o);
      },
      py::arg("grad"), py::arg("x"), py::kw_only(), out);
  m.def(
      "softplus",
      [](const py::object& x, double beta, double threshold, const py::object& o) {
        check_softplus_beta(beta, "softplus");
        return unary_with(
            "softplus",
            [=](DType dt, void* y, const void* xp, int64_t n) {
              softplus_forward_cuda(dt, y, xp, beta, threshold, n);
            },
            x, o);
      },
      py::arg("x"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0, py::kw_only(), out);
  m.def(
      "softplus_backward",
      [](const py::object& g, const py::object& x, double beta, double threshold,
         const py::object& o) {
        check_softplus_beta(beta, "softplus_backward");
        return binary_with(
            "softplus_backward",
            [=](DType dt, void* dx, const void* gp, const void* xp, int64_t n) {
              softplus_backward_cuda(dt, dx, gp, xp, beta, threshold, n);
            },
            g, x, o);
      },
      py::arg("grad"), py::arg("x"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0,
      py::kw_only(), out);
  m.def(
      "elu",
      [](const py::object& x, double alpha, double scale, double input_scale, const py::object& o) {
        return unary_with(
            "elu",
            [=](DType dt, void* y, const void* xp, int64_t n) {
              elu_forward_cuda(dt, y, xp, alpha, scale, input_scale, n);
            },
            x, o);
      },
      py::arg("x"), py::arg("alpha") = 1.0, py::arg("scale") = 1.0, py::arg("input_scale") = 1.0,
      py::kw_only(), out);
  m.def(
      "elu_backward",
      [](const py::object& g, const py::object& x, double alpha, double scale, double input_scale,
         const py::object& o) {
        return binary_with(
            "elu_backward",
            [=](DType dt, void* dx, const void* gp, const void* xp, int64_t n) {
              elu_backward_cuda(dt, dx, gp, xp, alpha, scale, input_scale, n);
            },
            g, x, o);
      },
      py::arg("grad"), py::arg("x"), py::arg("alpha") = 1.0, py::arg("scale") = 1.0,
      py::arg("input_scale") = 1.0, py::kw_only(), out);
  m.def(
      "hardtanh",
      [](const py::object& x, double lo, double hi, const py::object& o) {
        check_hardtanh_range(lo, hi, "hardtanh");
        return unary_with(
            "hardtanh",
            [=](DType dt, void* y, const void* xp, int64_t n) {
              hardtanh_forward_cuda(dt, y, xp, lo, hi, n);
            },
            x, o);
      },
      py::arg("x"), py::arg("min_val") = -1.0, py::arg("max_val") = 1.0, py::kw_only(), out);
  m.def(
      "hardtanh_backward",
      [](const py::object& g, const py::object& x, double lo, double hi, const py::object& o) {
        check_hardtanh_range(lo, hi, "hardtanh_backward");
        return binary_with(
            "hardtanh_backward",
            [=](DType dt, void* dx, const void* gp, const void* xp, int64_t n) {
              hardtanh_backward_cuda(dt, dx, gp, xp, lo, hi, n);
            },
            g, x, o);
      },
      py::arg("grad"), py::arg("x"), py::arg("min_val") = -1.0, py::arg("max_val") = 1.0,
      py::kw_only(), out);
}

}  // namespace

void register_nn(py::module_& m) {
  const py::arg_v out = py::arg("out") = py::none();
  register_more_activations(m, out);
  m.def(
      "relu",
      [](const py::object& x, const py::object& o) {
        return unary("relu", relu_forward_cuda, x, o);
      },
      py::arg("x"), py::kw_only(), out);
  m.def(
      "relu_backward",
      [](const py::object& g, const py::object& x, const py::object& o) {
        return binary("relu_backward", relu_backward_cuda, g, x, "x", o);
      },
      py::arg("grad"), py::arg("x"), py::kw_only(), out);
  m.def(
      "leaky_relu",
      [](const py::object& x_obj, double s, const py::object& o) {
        const char* fn = "leaky_relu";
        FASTNN_CHECK(s == s, fn, ": argument 'negative_slope' must be a number, got nan");
        DeviceArray& x = float_input(x_obj, fn, "x");
        check_negative_slope(s, x.dtype == DType::f32, fn);
        DeviceGuard guard(x.device());
        DeviceArray y = out_like(o, x, {&x}, fn);
        leaky_relu_forward_cuda(x.dtype, y.data(), x.data(), s, x.numel());
        return ret(o, std::move(y));
      },
      py::arg("x"), py::arg("negative_slope") = 0.01, py::kw_only(), out);
  m.def(
      "leaky_relu_backward",
      [](const py::object& g_obj, const py::object& x_obj, double s, const py::object& o) {
        const char* fn = "leaky_relu_backward";
        FASTNN_CHECK(s == s, fn, ": argument 'negative_slope' must be a number, got nan");
        DeviceArray& g = float_input(g_obj, fn, "grad");
        DeviceArray& x = float_input(x_obj, fn, "x");
        check_pair(g, x, "x", fn);
        check_negative_slope(s, g.dtype == DType::f32, fn);
        DeviceGuard guard(g.device());
        DeviceArray dx = out_like(o, g, {&g, &x}, fn);
        leaky_relu_backward_cuda(g.dtype, dx.data(), g.data(), x.data(), s, g.numel());
        return ret(o, std::move(dx));
      },
      py::arg("grad"), py::arg("x"), py::arg("negative_slope") = 0.01, py::kw_only(), out);
  m.def(
      "sigmoid",
      [](const py::object& x, const py::object& o) {
        return unary("sigmoid", sigmoid_forward_cuda, x, o);
      },
      py::arg("x"), py::kw_only(), out);
  m.def(
      "sigmoid_backward",
      [](const py::object& g, const py::object& y, const py::object& o) {
        return binary("sigmoid_backward", sigmoid_backward_cuda, g, y, "y", o);
      },
      py::arg("grad"), py::arg("y"), py::kw_only(), out);
  m.def(
      "tanh",
      [](const py::object& x, const py::object& o) {
        return unary("tanh", tanh_forward_cuda, x, o);
      },
      py::arg("x"), py::kw_only(), out);
  m.def(
      "tanh_backward",
      [](const py::object& g, const py::object& y, const py::object& o) {
        return binary("tanh_backward", tanh_backward_cuda, g, y, "y", o);
      },
      py::arg("grad"), py::arg("y"), py::kw_only(), out);
  m.def(
      "gelu",
      [](const py::object& x_obj, const std::string& approximate, const py::object& o) {
        const char* fn = "gelu";
        const GeluApprox ap = parse_gelu_approx(approximate, fn);
        DeviceArray& x = float_input(x_obj, fn, "x");
        DeviceGuard guard(x.device());
        DeviceArray y = out_like(o, x, {&x}, fn);
        gelu_forward_cuda(x.dtype, y.data(), x.data(), ap, x.numel());
        return ret(o, std::move(y));
      },
      py::arg("x"), py::arg("approximate") = "none", py::kw_only(), out);
  m.def(
      "gelu_backward",
      [](const py::object& g_obj, const py::object& x_obj, const std::string& approximate,
         const py::object& o) {
        const char* fn = "gelu_backward";
        const GeluApprox ap = parse_gelu_approx(approximate, fn);
        DeviceArray& g = float_input(g_obj, fn, "grad");
        DeviceArray& x = float_input(x_obj, fn, "x");
        check_pair(g, x, "x", fn);
        DeviceGuard guard(g.device());
        DeviceArray dx = out_like(o, g, {&g, &x}, fn);
        gelu_backward_cuda(g.dtype, dx.data(), g.data(), x.data(), ap, g.numel());
        return ret(o, std::move(dx));
      },
      py::arg("grad"), py::arg("x"), py::arg("approximate") = "none", py::kw_only(), out);
  m.def(
      "softmax",
      [](const py::object& x, int64_t dim, const py::object& o) {
        return softmax_fwd("softmax", softmax_forward_cuda, x, dim, o);
      },
      py::arg("x"), py::arg("dim") = -1, py::kw_only(), out);
  m.def(
      "softmax_backward",
      [](const py::object& g, const py::object& y, int64_t dim, const py::object& o) {
        return softmax_bwd("softmax_backward", softmax_backward_cuda, g, y, dim, o);
      },
      py::arg("grad"), py::arg("y"), py::arg("dim") = -1, py::kw_only(), out);
  m.def(
      "log_softmax",
      [](const py::object& x, int64_t dim, const py::object& o) {
        return softmax_fwd("log_softmax", log_softmax_forward_cuda, x, dim, o);
      },
      py::arg("x"), py::arg("dim") = -1, py::kw_only(), out);
  m.def(
      "log_softmax_backward",
      [](const py::object& g, const py::object& y, int64_t dim, const py::object& o) {
        return softmax_bwd("log_softmax_backward", log_softmax_backward_cuda, g, y, dim, o);
      },
      py::arg("grad"), py::arg("y"), py::arg("dim") = -1, py::kw_only(), out);

  m.def(
      "softmax_cross_entropy", &softmax_cross_entropy, py::arg("logits"), py::arg("target"),
      py::kw_only(), py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0,
      py::arg("ignore_index") = -100, py::arg("weight") = py::none(), py::arg("grad") = false,
      "CUDA fastnn.kernels.softmax_cross_entropy (same semantics); the loss is a 0-d DeviceArray.");
  m.def("binary_cross_entropy_with_logits", &binary_cross_entropy_with_logits, py::arg("logits"),
        py::arg("target"), py::kw_only(), py::arg("weight") = py::none(),
        py::arg("pos_weight") = py::none(), py::arg("reduction") = "mean", py::arg("grad") = false);
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::kw_only(), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
        py::arg("out") = py::none(), py::arg("bias") = py::none(),
        "CUDA GEMM: alpha * op(a) @ op(b) + beta * out + bias (same semantics as the CPU matmul).");
  m.def("_gemm_plan", &gemm_plan, py::arg("batch"), py::arg("m"), py::arg("n"), py::arg("k"),
        py::kw_only(), py::arg("sms") = 0,
        "The float32 GEMM's tile shape, K split and grid for a problem (sms=0: this device's).");

  m.def("sgd_step", &sgd_step, py::arg("params"), py::arg("grads"), py::arg("momentum_bufs"),
        py::kw_only(), py::arg("lr"), py::arg("momentum") = 0.0, py::arg("dampening") = 0.0,
        py::arg("nesterov") = false, py::arg("weight_decay") = 0.0, py::arg("maximize") = false,
        py::arg("first_step") = false);
  m.def("adagrad_step", &adagrad_step, py::arg("params"), py::arg("grads"), py::arg("state_sums"),
        py::kw_only(), py::arg("lr"), py::arg("lr_decay") = 0.0, py::arg("weight_decay") = 0.0,
        py::arg("eps") = 1e-10, py::arg("step"), py::arg("maximize") = false);
  m.def("rmsprop_step", &rmsprop_step, py::arg("params"), py::arg("grads"), py::arg("square_avgs"),
        py::kw_only(), py::arg("lr"), py::arg("alpha") = 0.99, py::arg("eps") = 1e-8,
        py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0, py::arg("centered") = false,
        py::arg("momentum_bufs") = py::none(), py::arg("grad_avgs") = py::none(),
        py::arg("maximize") = false);
  m.def("adam_step", &adam_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_avg_sqs"), py::kw_only(), py::arg("lr"), py::arg("beta1") = 0.9,
        py::arg("beta2") = 0.999, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0,
        py::arg("decoupled") = false, py::arg("amsgrad") = false,
        py::arg("max_exp_avg_sqs") = py::none(), py::arg("maximize") = false, py::arg("step"));
  m.def("adadelta_step", &adadelta_step, py::arg("params"), py::arg("grads"),
        py::arg("square_avgs"), py::arg("acc_deltas"), py::kw_only(), py::arg("lr") = 1.0,
        py::arg("rho") = 0.9, py::arg("eps") = 1e-6, py::arg("weight_decay") = 0.0,
        py::arg("maximize") = false);
  m.def("adamax_step", &adamax_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_infs"), py::kw_only(), py::arg("lr"), py::arg("beta1") = 0.9,
        py::arg("beta2") = 0.999, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0,
        py::arg("maximize") = false, py::arg("step"));
  m.def("nadam_step", &nadam_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_avg_sqs"), py::kw_only(), py::arg("lr"), py::arg("beta1") = 0.9,
        py::arg("beta2") = 0.999, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0,
        py::arg("momentum_decay") = 4e-3, py::arg("decoupled") = false, py::arg("maximize") = false,
        py::arg("step"), py::arg("mu_product"));
  m.def("radam_step", &radam_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_avg_sqs"), py::kw_only(), py::arg("lr"), py::arg("beta1") = 0.9,
        py::arg("beta2") = 0.999, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0,
        py::arg("decoupled") = false, py::arg("maximize") = false, py::arg("step"));
}

}  // namespace fastnn::cuda::bind
