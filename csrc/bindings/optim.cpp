// Bindings of the fused multi-tensor optimizer steps: sgd_step, adagrad_step,
// rmsprop_step, adam_step, adadelta_step, adamax_step, nadam_step, radam_step. Each takes lists of
// numpy arrays, validates ALL of them and every hyperparameter before touching any data (a failed
// call leaves every array untouched), then releases the GIL and runs one threaded kernel over the
// whole list.
//
// Arrays written in place (params and state buffers) are taken as they are, never converted: a
// silent copy would make the optimizer step a temporary. They must be writeable, C-contiguous,
// of the params' dtype and shape, and may not overlap one another or any gradient.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "bindings/common.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

std::string fmt_double(double x) { return py::str(py::float_(x)).cast<std::string>(); }

// One list argument of a step call: its name, its arrays and their data pointers (read while
// the GIL is held, so the kernel's side of the call touches no Python object).
struct ArrayList {
  std::string name;
  std::vector<py::array> arrays;
  std::vector<void*> data;
  bool written;
};

// Collects and validates the list arguments of one call; `params` defines count, dtype, shapes.
class Lists {
 public:
  Lists(const char* fn, const py::object& params) : fn_(fn) {
    lists_.push_back(take(params, "params", true));
    const auto& ps = lists_[0].arrays;
    if (!ps.empty()) dtype_ = float_dtype(ps[0], fn_, "params[0]");
    for (size_t i = 0; i < ps.size(); ++i) check_element(lists_[0], i);
  }

  // A required list of the params' length, dtype and shapes.
  void add(const py::object& obj, const char* name, bool written) {
    lists_.push_back(take(obj, name, written));
    const ArrayList& l = lists_.back();
    check_list_length(fn_, name, l.arrays.size(), size());
    for (size_t i = 0; i < l.arrays.size(); ++i) check_element(l, i);
  }

  // A state list that only some options need: required when `needed` (else a ValueError saying
  // which option wants it), validated when given anyway, never written unless needed.
  void add_optional(const py::object& obj, const char* name, bool needed, const char* why) {
    if (obj.is_none()) {
      FASTNN_CHECK(!needed, fn_, ": '", name, "' is required when ", why);
      return;
    }
    add(obj, name, needed);
  }

  size_t size() const { return lists_[0].arrays.size(); }
  DType dtype() const { return dtype_; }
  const std::vector<py::array>& operator[](size_t k) const { return lists_[k].arrays; }

  std::vector<int64_t> numels() const {
    std::vector<int64_t> n;
    for (const auto& a : lists_[0].arrays) n.push_back(static_cast<int64_t>(a.size()));
    return n;
  }

  // See fastnn::check_no_overlap (csrc/contract.h).
  void check_no_overlap() const {
    std::vector<BufferSpan> spans;
    for (const ArrayList& l : lists_)
      for (size_t i = 0; i < l.arrays.size(); ++i) {
        if (l.arrays[i].size() == 0) continue;
        BufferSpan s{0, 0, &l.name, i, l.written};
        byte_bounds(l.arrays[i], s.lo, s.hi);
        spans.push_back(s);
      }
    fastnn::check_no_overlap(fn_, std::move(spans));
  }

  // Safe without the GIL: plain pointers gathered by take().
  template <class T>
  std::vector<T*> pointers(size_t k) const {
    std::vector<T*> out;
    for (void* d : lists_[k].data) out.push_back(static_cast<T*>(d));
    return out;
  }

 private:
  ArrayList take(const py::object& obj, const char* name, bool written) {
    FASTNN_TYPE_CHECK(py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj), fn_,
                      ": argument '", name, "' must be a list or tuple of numpy arrays, got ",
                      py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>());
    ArrayList l{name, {}, {}, written};
    size_t i = 0;
    for (const py::handle& item : obj) {
      std::string item_name = std::string(name) + "[" + std::to_string(i++) + "]";
      l.arrays.push_back(as_array(item, fn_, item_name.c_str()));
      l.data.push_back(const_cast<void*>(l.arrays.back().data()));
    }
    return l;
  }

  void check_element(const ArrayList& l, size_t i) const {
    const py::array& a = l.arrays[i];
    const py::array& p = lists_[0].arrays[i];
    const std::string name = l.name + "[" + std::to_string(i) + "]";
    DType dt = float_dtype(a, fn_, name.c_str());
    FASTNN_TYPE_CHECK(dt == dtype_, fn_, ": '", name, "' has dtype ", dtype_str(a),
                      " but 'params[0]' has ", dtype_str(lists_[0].arrays[0]),
                      "; all arrays of one call must share a dtype");
    if (&l != &lists_[0]) {
      bool same = a.ndim() == p.ndim();
      for (py::ssize_t d = 0; same && d < a.ndim(); ++d) same = a.shape(d) == p.shape(d);
      FASTNN_CHECK(same, fn_, ": '", name, "' has shape ", shape_str(a), " but 'params[", i,
                   "]' has shape ", shape_str(p));
    }
    check_contiguous(a, fn_, name.c_str());
    if (l.written) check_writeable(a, fn_, name.c_str());
  }

  const char* fn_;
  std::vector<ArrayList> lists_;
  DType dtype_ = DType::f32;
};

// Runs kernel<T>() with the GIL released, T being the call's element type; the kernel may use
// Lists::pointers and numels, nothing that reads a Python object.
template <class Fn>
void run_typed(DType dt, const Fn& fn) {
  py::gil_scoped_release release;
  if (dt == DType::f32)
    fn(float{});
  else
    fn(double{});
}

void sgd_step(const py::object& params, const py::object& grads, const py::object& momentum_bufs,
              double lr, double momentum, double dampening, bool nesterov, double weight_decay,
              bool maximize, bool first_step) {
  const char* fn = "sgd_step";
  SgdOptions o;
  o.lr = lr, o.momentum = momentum, o.dampening = dampening, o.weight_decay = weight_decay;
  o.nesterov = nesterov, o.maximize = maximize, o.first_step = first_step;
  validate(o, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add_optional(momentum_bufs, "momentum_bufs", momentum != 0, "momentum != 0");
  l.check_no_overlap();
  const bool use_buf = momentum != 0;
  auto numels = l.numels();
  run_typed(l.dtype(), [&](auto zero) {
    using T = decltype(zero);
    auto p = l.pointers<T>(0), g = l.pointers<T>(1);
    std::vector<T*> b = use_buf ? l.pointers<T>(2) : std::vector<T*>();
    sgd_step_cpu(p.data(), use_buf ? b.data() : nullptr, const_cast<const T* const*>(g.data()),
                 numels.data(), static_cast<int64_t>(numels.size()), o);
  });
}

void adagrad_step(const py::object& params, const py::object& grads, const py::object& state_sums,
                  double lr, double lr_decay, double weight_decay, double eps, int64_t step,
                  bool maximize) {
  const char* fn = "adagrad_step";
  AdagradOptions o;
  o.lr = lr, o.lr_decay = lr_decay, o.weight_decay = weight_decay, o.eps = eps, o.step = step;
  o.maximize = maximize;
  validate(o, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add(state_sums, "state_sums", true);
  l.check_no_overlap();
  auto numels = l.numels();
  run_typed(l.dtype(), [&](auto zero) {
    using T = decltype(zero);
    auto p = l.pointers<T>(0), g = l.pointers<T>(1), s = l.pointers<T>(2);
    adagrad_step_cpu(p.data(), s.data(), const_cast<const T* const*>(g.data()), numels.data(),
                     static_cast<int64_t>(numels.size()), o);
  });
}

void rmsprop_step(const py::object& params, const py::object& grads, const py::object& square_avgs,
                  double lr, double alpha, double eps, double weight_decay, double momentum,
                  bool centered, const py::object& momentum_bufs, const py::object& grad_avgs,
                  bool maximize) {
  const char* fn = "rmsprop_step";
  RmspropOptions o;
  o.lr = lr, o.alpha = alpha, o.eps = eps, o.weight_decay = weight_decay, o.momentum = momentum;
  o.centered = centered, o.maximize = maximize;
  validate(o, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add(square_avgs, "square_avgs", true);
  // Fixed list slots: 3 = momentum_bufs, 4 = grad_avgs (empty placeholders when absent).
  const bool use_buf = momentum > 0;
  l.add_optional(momentum_bufs, "momentum_bufs", use_buf, "momentum > 0");
  const bool has_buf_list = !momentum_bufs.is_none();
  l.add_optional(grad_avgs, "grad_avgs", centered, "centered=True");
  l.check_no_overlap();
  const size_t buf_slot = 3, ga_slot = has_buf_list ? 4 : 3;
  auto numels = l.numels();
  run_typed(l.dtype(), [&](auto zero) {
    using T = decltype(zero);
    auto p = l.pointers<T>(0), g = l.pointers<T>(1), sq = l.pointers<T>(2);
    std::vector<T*> b = use_buf ? l.pointers<T>(buf_slot) : std::vector<T*>();
    std::vector<T*> ga = centered ? l.pointers<T>(ga_slot) : std::vector<T*>();
    rmsprop_step_cpu(p.data(), sq.data(), centered ? ga.data() : nullptr,
                     use_buf ? b.data() : nullptr, const_cast<const T* const*>(g.data()),
                     numels.data(), static_cast<int64_t>(numels.size()), o);
  });
}

void adam_step(const py::object& params, const py::object& grads, const py::object& exp_avgs,
               const py::object& exp_avg_sqs, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool decoupled, bool amsgrad, const py::object& max_exp_avg_sqs,
               bool maximize, int64_t step) {
  const char* fn = "adam_step";
  AdamOptions o;
  o.lr = lr, o.beta1 = beta1, o.beta2 = beta2, o.eps = eps, o.weight_decay = weight_decay;
  o.mode = decoupled ? AdamMode::decoupled : AdamMode::l2;
  o.amsgrad = amsgrad, o.maximize = maximize, o.step = step;
  validate(o, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add(exp_avgs, "exp_avgs", true);
  l.add(exp_avg_sqs, "exp_avg_sqs", true);
  l.add_optional(max_exp_avg_sqs, "max_exp_avg_sqs", amsgrad, "amsgrad=True");
  l.check_no_overlap();
  auto numels = l.numels();
  run_typed(l.dtype(), [&](auto zero) {
    using T = decltype(zero);
    auto p = l.pointers<T>(0), g = l.pointers<T>(1), m = l.pointers<T>(2), v = l.pointers<T>(3);
    std::vector<T*> vmax = amsgrad ? l.pointers<T>(4) : std::vector<T*>();
    adam_step_cpu(p.data(), m.data(), v.data(), amsgrad ? vmax.data() : nullptr,
                  const_cast<const T* const*>(g.data()), numels.data(),
                  static_cast<int64_t>(numels.size()), o);
  });
}

// The optimizers with two required state lists: validate the options and every list, then run
// `kernel(params, s1, s2, grads, numels, n, options)` with the GIL released.
template <class Options>
void two_state_step(const char* fn, const Options& o, const py::object& params,
                    const py::object& grads, const py::object& s1, const char* s1_name,
                    const py::object& s2, const char* s2_name) {
  validate(o, fn, fmt_double);
  Lists l(fn, params);
  l.add(grads, "grads", false);
  l.add(s1, s1_name, true);
  l.add(s2, s2_name, true);
  l.check_no_overlap();
  auto numels = l.numels();
  run_typed(l.dtype(), [&](auto zero) {
    using T = decltype(zero);
    auto p = l.pointers<T>(0), g = l.pointers<T>(1), a = l.pointers<T>(2), b = l.pointers<T>(3);
    const T* const* gc = const_cast<const T* const*>(g.data());
    const auto n = static_cast<int64_t>(numels.size());
    if constexpr (std::is_same_v<Options, AdadeltaOptions>)
      adadelta_step_cpu(p.data(), a.data(), b.data(), gc, numels.data(), n, o);
    else if constexpr (std::is_same_v<Options, AdamaxOptions>)
      adamax_step_cpu(p.data(), a.data(), b.data(), gc, numels.data(), n, o);
    else if constexpr (std::is_same_v<Options, NadamOptions>)
      nadam_step_cpu(p.data(), a.data(), b.data(), gc, numels.data(), n, o);
    else
      radam_step_cpu(p.data(), a.data(), b.data(), gc, numels.data(), n, o);
  });
}

void adadelta_step(const py::object& params, const py::object& grads, const py::object& square_avgs,
                   const py::object& acc_deltas, double lr, double rho, double eps,
                   double weight_decay, bool maximize) {
  AdadeltaOptions o;
  o.lr = lr, o.rho = rho, o.eps = eps, o.weight_decay = weight_decay, o.maximize = maximize;
  two_state_step("adadelta_step", o, params, grads, square_avgs, "square_avgs", acc_deltas,
                 "acc_deltas");
}

void adamax_step(const py::object& params, const py::object& grads, const py::object& exp_avgs,
                 const py::object& exp_infs, double lr, double beta1, double beta2, double eps,
                 double weight_decay, bool maximize, int64_t step) {
  AdamaxOptions o;
  o.lr = lr, o.beta1 = beta1, o.beta2 = beta2, o.eps = eps, o.weight_decay = weight_decay;
  o.maximize = maximize, o.step = step;
  two_state_step("adamax_step", o, params, grads, exp_avgs, "exp_avgs", exp_infs, "exp_infs");
}

void nadam_step(const py::object& params, const py::object& grads, const py::object& exp_avgs,
                const py::object& exp_avg_sqs, double lr, double beta1, double beta2, double eps,
                double weight_decay, double momentum_decay, bool decoupled, bool maximize,
                int64_t step, double mu_product) {
  NadamOptions o;
  o.lr = lr, o.beta1 = beta1, o.beta2 = beta2, o.eps = eps, o.weight_decay = weight_decay;
  o.momentum_decay = momentum_decay, o.mu_product = mu_product;
  o.mode = decoupled ? AdamMode::decoupled : AdamMode::l2;
  o.maximize = maximize, o.step = step;
  two_state_step("nadam_step", o, params, grads, exp_avgs, "exp_avgs", exp_avg_sqs, "exp_avg_sqs");
}

void radam_step(const py::object& params, const py::object& grads, const py::object& exp_avgs,
                const py::object& exp_avg_sqs, double lr, double beta1, double beta2, double eps,
                double weight_decay, bool decoupled, bool maximize, int64_t step) {
  RadamOptions o;
  o.lr = lr, o.beta1 = beta1, o.beta2 = beta2, o.eps = eps, o.weight_decay = weight_decay;
  o.mode = decoupled ? AdamMode::decoupled : AdamMode::l2;
  o.maximize = maximize, o.step = step;
  two_state_step("radam_step", o, params, grads, exp_avgs, "exp_avgs", exp_avg_sqs, "exp_avg_sqs");
}

}  // namespace

void register_optim(py::module_& m) {
  m.def("sgd_step", &sgd_step, py::arg("params"), py::arg("grads"), py::arg("momentum_bufs"),
        py::kw_only(), py::arg("lr"), py::arg("momentum") = 0.0, py::arg("dampening") = 0.0,
        py::arg("nesterov") = false, py::arg("weight_decay") = 0.0, py::arg("maximize") = false,
        py::arg("first_step") = false,
        R"(In-place torch.optim.SGD step over lists of same-shaped arrays.

momentum_bufs may be None when momentum == 0. first_step=True initialises every momentum buffer
to the (weight-decayed, sign-flipped if maximize) gradient instead of reading it, as torch does
on a parameter's first step; the buffers' previous contents are then ignored.)");
  m.def("adagrad_step", &adagrad_step, py::arg("params"), py::arg("grads"), py::arg("state_sums"),
        py::kw_only(), py::arg("lr"), py::arg("lr_decay") = 0.0, py::arg("weight_decay") = 0.0,
        py::arg("eps") = 1e-10, py::arg("step"), py::arg("maximize") = false,
        "In-place torch.optim.Adagrad step; `step` is the step being taken (1 on the first call).");
  m.def("rmsprop_step", &rmsprop_step, py::arg("params"), py::arg("grads"), py::arg("square_avgs"),
        py::kw_only(), py::arg("lr"), py::arg("alpha") = 0.99, py::arg("eps") = 1e-8,
        py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0, py::arg("centered") = false,
        py::arg("momentum_bufs") = py::none(), py::arg("grad_avgs") = py::none(),
        py::arg("maximize") = false,
        "In-place torch.optim.RMSprop step; momentum_bufs needed when momentum > 0, grad_avgs when "
        "centered.");
  m.def("adam_step", &adam_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_avg_sqs"), py::kw_only(), py::arg("lr"), py::arg("beta1") = 0.9,
        py::arg("beta2") = 0.999, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0,
        py::arg("decoupled") = false, py::arg("amsgrad") = false,
        py::arg("max_exp_avg_sqs") = py::none(), py::arg("maximize") = false, py::arg("step"),
        R"(In-place torch.optim.Adam (decoupled=False) or AdamW (decoupled=True) step.

`step` is the step being taken (1 on the first call); bias corrections are computed from it once
per call, in double. max_exp_avg_sqs is needed when amsgrad=True.)");
  m.def("adadelta_step", &adadelta_step, py::arg("params"), py::arg("grads"),
        py::arg("square_avgs"), py::arg("acc_deltas"), py::kw_only(), py::arg("lr") = 1.0,
        py::arg("rho") = 0.9, py::arg("eps") = 1e-6, py::arg("weight_decay") = 0.0,
        py::arg("maximize") = false, "In-place torch.optim.Adadelta step.");
  m.def("adamax_step", &adamax_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_infs"), py::kw_only(), py::arg("lr"), py::arg("beta1") = 0.9,
        py::arg("beta2") = 0.999, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0,
        py::arg("maximize") = false, py::arg("step"),
        "In-place torch.optim.Adamax step; `step` is the step being taken (1 on the first call).");
  m.def("nadam_step", &nadam_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_avg_sqs"), py::kw_only(), py::arg("lr"), py::arg("beta1") = 0.9,
        py::arg("beta2") = 0.999, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0,
        py::arg("momentum_decay") = 4e-3, py::arg("decoupled") = false, py::arg("maximize") = false,
        py::arg("step"), py::arg("mu_product"),
        R"(In-place torch.optim.NAdam step (decoupled=True: decoupled weight decay).

`step` is the step being taken (1 on the first call). `mu_product` is the product of the momentum
schedule mu_1 * ... * mu_step, this step's factor included, as the caller keeps it in its state.)");
  m.def("radam_step", &radam_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_avg_sqs"), py::kw_only(), py::arg("lr"), py::arg("beta1") = 0.9,
        py::arg("beta2") = 0.999, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0,
        py::arg("decoupled") = false, py::arg("maximize") = false, py::arg("step"),
        "In-place torch.optim.RAdam step (decoupled=True: decoupled weight decay); `step` is the "
        "step being taken.");
}

}  // namespace fastnn::bind
