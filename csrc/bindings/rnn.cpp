// Bindings for the recurrent kernels (csrc/cpu/rnn.h): the fused LSTM / GRU cells and the time
// loops of LSTM, GRU and RNN. Every array is checked (float32/float64, one dtype for all,
// C-contiguous, the exact shape implied by the others) before anything is written; then the
// GIL is released and the kernel runs. The sequence forwards overwrite their input projection
// (it becomes the saved gates or the outputs), so that argument must be writeable and share
// memory with nothing else.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings/common.h"
#include "cpu/rnn.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

using Shape = std::vector<py::ssize_t>;

// Checks one array argument of kernel `fn` against the first one's dtype.
struct Checker {
  const char* fn;
  py::dtype dtype{py::dtype::of<float>()};
  bool have = false;
  bool f32 = true;

  py::array arr(py::handle obj, const char* name, int ndim) {
    py::array a = as_array(obj, fn, name);
    DType d = float_dtype(a, fn, name);
    if (!have) {
      have = true;
      dtype = a.dtype();
      f32 = d == DType::f32;
    }
    FASTNN_TYPE_CHECK(a.dtype().equal(dtype), fn, ": argument '", name, "' must have dtype ",
                      py::str(dtype).cast<std::string>(), " like the first array, got ",
                      dtype_str(a));
    check_ndim(a, {ndim}, fn, name);
    check_contiguous(a, fn, name);
    return a;
  }
  py::array arr(py::handle obj, const char* name, const Shape& shape) {
    py::array a = arr(obj, name, static_cast<int>(shape.size()));
    check_shape(a, shape, fn, name);
    return a;
  }
  py::array out(const Shape& shape) const { return py::array(dtype, shape); }
};

bool parse_relu(const std::string& nonlinearity, const char* fn) {
  FASTNN_CHECK(nonlinearity == "tanh" || nonlinearity == "relu", fn,
               ": argument 'nonlinearity' must be 'tanh' or 'relu', got '", nonlinearity, "'");
  return nonlinearity == "relu";
}

// An argument the kernel overwrites: writeable and disjoint from the other inputs.
void check_inplace(const py::array& a, const char* name, std::initializer_list<py::array> others,
                   const char* fn) {
  check_writeable(a, fn, name);
  for (const py::array& o : others)
    FASTNN_CHECK(!overlaps(a, o), fn, ": '", name,
                 "' is overwritten and must not share memory with the other arguments");
}

// A data pointer read while the GIL is held: the kernel's side of a call gets only these plain
// values, never a py::array (even reading an array's fields needs the GIL).
struct Ptr {
  void* v;
};
template <class T>
T* w(Ptr p) {
  return static_cast<T*>(p.v);
}
template <class T>
const T* r(Ptr p) {
  return static_cast<const T*>(p.v);
}
Ptr written(py::array& a) { return {a.mutable_data()}; }
Ptr read(const py::array& a) { return {const_cast<void*>(a.data())}; }
// An optional array argument (None or an array Checker accepted).
Ptr ptr_or_null(const py::object& a) {
  return {a.is_none() ? nullptr : const_cast<void*>(py::reinterpret_borrow<py::array>(a).data())};
}

// Runs body(T{}) for the checker's dtype T; body gathers its pointers, then releases the GIL.
template <class Body>
void typed(const Checker& ck, const Body& body) {
  if (ck.f32)
    body(float{});
  else
    body(double{});
}

py::tuple lstm_cell(py::handle gates_o, py::handle c_prev_o) {
  Checker ck{"lstm_cell"};
  py::array gates = ck.arr(gates_o, "gates", 2);
  const py::ssize_t B = gates.shape(0), H4 = gates.shape(1);
  FASTNN_CHECK(H4 % 4 == 0, "lstm_cell: 'gates' must have 4 * hidden columns, got shape ",
               shape_str(gates));
  const py::ssize_t H = H4 / 4;
  py::array c_prev = ck.arr(c_prev_o, "c_prev", Shape{B, H});
  py::array h = ck.out({B, H}), c = ck.out({B, H}), act = ck.out({B, H4});
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr h_ = written(h), c_ = written(c), act_ = written(act), gates_ = read(gates),
              c_prev_ = read(c_prev);
    py::gil_scoped_release release;
    lstm_cell_forward_cpu(w<T>(h_), w<T>(c_), w<T>(act_), r<T>(gates_), r<T>(c_prev_), B, H);
  });
  return py::make_tuple(h, c, act);
}

py::tuple lstm_cell_backward(py::handle dh_o, py::object dc_o, py::handle act_o,
                             py::handle c_prev_o, py::handle c_o) {
  Checker ck{"lstm_cell_backward"};
  py::array dh = ck.arr(dh_o, "dh", 2);
  const py::ssize_t B = dh.shape(0), H = dh.shape(1);
  py::object dc = py::none();
  if (!dc_o.is_none()) dc = ck.arr(dc_o, "dc", Shape{B, H});
  py::array act = ck.arr(act_o, "act", Shape{B, 4 * H});
  py::array c_prev = ck.arr(c_prev_o, "c_prev", Shape{B, H});
  py::array c = ck.arr(c_o, "c", Shape{B, H});
  py::array dgates = ck.out({B, 4 * H}), dc_prev = ck.out({B, H});
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr dgates_ = written(dgates), dc_prev_ = written(dc_prev), dh_ = read(dh),
              dc_ = ptr_or_null(dc), act_ = read(act), c_prev_ = read(c_prev), c_ = read(c);
    py::gil_scoped_release release;
    lstm_cell_backward_cpu(w<T>(dgates_), w<T>(dc_prev_), r<T>(dh_), r<T>(dc_), r<T>(act_),
                           r<T>(c_prev_), r<T>(c_), B, H);
  });
  return py::make_tuple(dgates, dc_prev);
}

py::tuple gru_cell(py::handle gi_o, py::handle gh_o, py::handle h_prev_o) {
  Checker ck{"gru_cell"};
  py::array gi = ck.arr(gi_o, "gi", 2);
  const py::ssize_t B = gi.shape(0), H3 = gi.shape(1);
  FASTNN_CHECK(H3 % 3 == 0, "gru_cell: 'gi' must have 3 * hidden columns, got shape ",
               shape_str(gi));
  const py::ssize_t H = H3 / 3;
  py::array gh = ck.arr(gh_o, "gh", Shape{B, H3});
  py::array h_prev = ck.arr(h_prev_o, "h_prev", Shape{B, H});
  py::array h = ck.out({B, H}), act = ck.out({B, 4 * H});
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr h_ = written(h), act_ = written(act), gi_ = read(gi), gh_ = read(gh),
              h_prev_ = read(h_prev);
    py::gil_scoped_release release;
    gru_cell_forward_cpu(w<T>(h_), w<T>(act_), r<T>(gi_), r<T>(gh_), r<T>(h_prev_), B, H);
  });
  return py::make_tuple(h, act);
}

py::tuple gru_cell_backward(py::handle dh_o, py::handle act_o, py::handle h_prev_o) {
  Checker ck{"gru_cell_backward"};
  py::array dh = ck.arr(dh_o, "dh", 2);
  const py::ssize_t B = dh.shape(0), H = dh.shape(1);
  py::array act = ck.arr(act_o, "act", Shape{B, 4 * H});
  py::array h_prev = ck.arr(h_prev_o, "h_prev", Shape{B, H});
  py::array dgi = ck.out({B, 3 * H}), dgh = ck.out({B, 3 * H}), dh_prev = ck.out({B, H});
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr dgi_ = written(dgi), dgh_ = written(dgh), dh_prev_ = written(dh_prev), dh_ = read(dh),
              act_ = read(act), h_prev_ = read(h_prev);
    py::gil_scoped_release release;
    gru_cell_backward_cpu(w<T>(dgi_), w<T>(dgh_), w<T>(dh_prev_), r<T>(dh_), r<T>(act_),
                          r<T>(h_prev_), B, H);
  });
  return py::make_tuple(dgi, dgh, dh_prev);
}

// w_hh (gates * H, H) fixes H; x (S, B, width * H) fixes S and B.
struct SeqDims {
  py::ssize_t S, B, H;
};
SeqDims seq_dims(const py::array& x, const char* xname, const py::array& w_hh, int gates,
                 const char* fn, int width = 0) {
  if (width == 0) width = gates;
  const py::ssize_t H = w_hh.shape(1);
  FASTNN_CHECK(H > 0 && w_hh.shape(0) == gates * H, fn, ": 'w_hh' must have shape (", gates,
               " * hidden, hidden) with hidden > 0, got ", shape_str(w_hh));
  FASTNN_CHECK(x.shape(2) == width * H, fn, ": '", xname, "' must have shape (seq, batch, ",
               width * H, ") for w_hh of shape ", shape_str(w_hh), ", got ", shape_str(x));
  return {x.shape(0), x.shape(1), H};
}

py::tuple lstm_sequence(py::handle gates_o, py::handle w_hh_o, py::handle h0_o, py::handle c0_o,
                        bool reverse) {
  const char* fn = "lstm_sequence";
  Checker ck{fn};
  py::array gates = ck.arr(gates_o, "gates", 3);
  py::array w_hh = ck.arr(w_hh_o, "w_hh", 2);
  const SeqDims d = seq_dims(gates, "gates", w_hh, 4, fn);
  py::array h0 = ck.arr(h0_o, "h0", Shape{d.B, d.H});
  py::array c0 = ck.arr(c0_o, "c0", Shape{d.B, d.H});
  check_inplace(gates, "gates", {w_hh, h0, c0}, fn);
  py::array hs = ck.out({d.S, d.B, d.H}), cs = ck.out({d.S, d.B, d.H});
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr hs_ = written(hs), cs_ = written(cs), gates_ = written(gates), w_hh_ = read(w_hh),
              h0_ = read(h0), c0_ = read(c0);
    py::gil_scoped_release release;
    lstm_sequence_forward_cpu(w<T>(hs_), w<T>(cs_), w<T>(gates_), r<T>(w_hh_), r<T>(h0_), r<T>(c0_),
                              d.S, d.B, d.H, reverse);
  });
  return py::make_tuple(hs, cs);
}

py::tuple lstm_sequence_backward(py::handle dhs_o, py::object dc_n_o, py::handle gates_o,
                                 py::handle cs_o, py::handle c0_o, py::handle w_hh_o,
                                 bool reverse) {
  const char* fn = "lstm_sequence_backward";
  Checker ck{fn};
  py::array dhs = ck.arr(dhs_o, "dhs", 3);
  py::array w_hh = ck.arr(w_hh_o, "w_hh", 2);
  py::array gates = ck.arr(gates_o, "gates", 3);
  const SeqDims d = seq_dims(gates, "gates", w_hh, 4, fn);
  check_shape(dhs, {d.S, d.B, d.H}, fn, "dhs");
  py::object dc_n = py::none();
  if (!dc_n_o.is_none()) dc_n = ck.arr(dc_n_o, "dc_n", Shape{d.B, d.H});
  py::array cs = ck.arr(cs_o, "cs", Shape{d.S, d.B, d.H});
  py::array c0 = ck.arr(c0_o, "c0", Shape{d.B, d.H});
  py::array dgates = ck.out({d.S, d.B, 4 * d.H}), dh0 = ck.out({d.B, d.H}),
            dc0 = ck.out({d.B, d.H});
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr dgates_ = written(dgates), dh0_ = written(dh0), dc0_ = written(dc0), dhs_ = read(dhs),
              dc_n_ = ptr_or_null(dc_n), gates_ = read(gates), cs_ = read(cs), c0_ = read(c0),
              w_hh_ = read(w_hh);
    py::gil_scoped_release release;
    lstm_sequence_backward_cpu(w<T>(dgates_), w<T>(dh0_), w<T>(dc0_), r<T>(dhs_), r<T>(dc_n_),
                               r<T>(gates_), r<T>(cs_), r<T>(c0_), r<T>(w_hh_), d.S, d.B, d.H,
                               reverse);
  });
  return py::make_tuple(dgates, dh0, dc0);
}

py::tuple gru_sequence(py::handle gi_o, py::handle w_hh_o, py::object b_hh_o, py::handle h0_o,
                       bool reverse) {
  const char* fn = "gru_sequence";
  Checker ck{fn};
  py::array gi = ck.arr(gi_o, "gi", 3);
  py::array w_hh = ck.arr(w_hh_o, "w_hh", 2);
  const SeqDims d = seq_dims(gi, "gi", w_hh, 3, fn);
  py::object b_hh = py::none();
  if (!b_hh_o.is_none()) b_hh = ck.arr(b_hh_o, "b_hh", Shape{3 * d.H});
  py::array h0 = ck.arr(h0_o, "h0", Shape{d.B, d.H});
  py::array hs = ck.out({d.S, d.B, d.H}), act = ck.out({d.S, d.B, 4 * d.H});
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr hs_ = written(hs), act_ = written(act), gi_ = read(gi), w_hh_ = read(w_hh),
              b_hh_ = ptr_or_null(b_hh), h0_ = read(h0);
    py::gil_scoped_release release;
    gru_sequence_forward_cpu(w<T>(hs_), w<T>(act_), r<T>(gi_), r<T>(w_hh_), r<T>(b_hh_), r<T>(h0_),
                             d.S, d.B, d.H, reverse);
  });
  return py::make_tuple(hs, act);
}

py::tuple gru_sequence_backward(py::handle dhs_o, py::handle act_o, py::handle hs_o,
                                py::handle h0_o, py::handle w_hh_o, bool reverse) {
  const char* fn = "gru_sequence_backward";
  Checker ck{fn};
  py::array dhs = ck.arr(dhs_o, "dhs", 3);
  py::array w_hh = ck.arr(w_hh_o, "w_hh", 2);
  py::array act = ck.arr(act_o, "act", 3);
  const SeqDims d = seq_dims(dhs, "dhs", w_hh, 3, fn, 1);  // w_hh (3H, H) and H wide dhs
  const py::ssize_t S = d.S, B = d.B, H = d.H;
  check_shape(act, {S, B, 4 * H}, fn, "act");
  check_shape(dhs, {S, B, H}, fn, "dhs");
  py::array hs = ck.arr(hs_o, "hs", Shape{S, B, H});
  py::array h0 = ck.arr(h0_o, "h0", Shape{B, H});
  py::array dgi = ck.out({S, B, 3 * H}), dgh = ck.out({S, B, 3 * H}), dh0 = ck.out({B, H});
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr dgi_ = written(dgi), dgh_ = written(dgh), dh0_ = written(dh0), dhs_ = read(dhs),
              act_ = read(act), hs_ = read(hs), h0_ = read(h0), w_hh_ = read(w_hh);
    py::gil_scoped_release release;
    gru_sequence_backward_cpu(w<T>(dgi_), w<T>(dgh_), w<T>(dh0_), r<T>(dhs_), r<T>(act_), r<T>(hs_),
                              r<T>(h0_), r<T>(w_hh_), S, B, H, reverse);
  });
  return py::make_tuple(dgi, dgh, dh0);
}

py::array rnn_sequence(py::handle pre_o, py::handle w_hh_o, py::handle h0_o,
                       const std::string& nonlinearity, bool reverse) {
  const char* fn = "rnn_sequence";
  const bool relu = parse_relu(nonlinearity, fn);
  Checker ck{fn};
  py::array pre = ck.arr(pre_o, "pre", 3);
  py::array w_hh = ck.arr(w_hh_o, "w_hh", 2);
  const SeqDims d = seq_dims(pre, "pre", w_hh, 1, fn);
  py::array h0 = ck.arr(h0_o, "h0", Shape{d.B, d.H});
  check_inplace(pre, "pre", {w_hh, h0}, fn);
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr pre_ = written(pre), w_hh_ = read(w_hh), h0_ = read(h0);
    py::gil_scoped_release release;
    rnn_sequence_forward_cpu(w<T>(pre_), r<T>(w_hh_), r<T>(h0_), d.S, d.B, d.H, relu, reverse);
  });
  return pre;
}

py::tuple rnn_sequence_backward(py::handle dhs_o, py::handle hs_o, py::handle w_hh_o,
                                const std::string& nonlinearity, bool reverse) {
  const char* fn = "rnn_sequence_backward";
  const bool relu = parse_relu(nonlinearity, fn);
  Checker ck{fn};
  py::array dhs = ck.arr(dhs_o, "dhs", 3);
  py::array w_hh = ck.arr(w_hh_o, "w_hh", 2);
  const SeqDims d = seq_dims(dhs, "dhs", w_hh, 1, fn);
  py::array hs = ck.arr(hs_o, "hs", Shape{d.S, d.B, d.H});
  py::array dpre = ck.out({d.S, d.B, d.H}), dh0 = ck.out({d.B, d.H});
  typed(ck, [&](auto zero) {
    using T = decltype(zero);
    const Ptr dpre_ = written(dpre), dh0_ = written(dh0), dhs_ = read(dhs), hs_ = read(hs),
              w_hh_ = read(w_hh);
    py::gil_scoped_release release;
    rnn_sequence_backward_cpu(w<T>(dpre_), w<T>(dh0_), r<T>(dhs_), r<T>(hs_), r<T>(w_hh_), d.S, d.B,
                              d.H, relu, reverse);
  });
  return py::make_tuple(dpre, dh0);
}

}  // namespace

void register_rnn(py::module_& m) {
  m.def("lstm_cell", &lstm_cell, py::arg("gates"), py::arg("c_prev"),
        "Fused LSTM cell on the gate pre-activations gates (B, 4H) (order i, f, g, o) and c_prev "
        "(B, H): returns (h, c, act), act the activated gates backward needs.");
  m.def("lstm_cell_backward", &lstm_cell_backward, py::arg("dh"), py::arg("dc"), py::arg("act"),
        py::arg("c_prev"), py::arg("c"),
        "Gradients of lstm_cell: (dgates, dc_prev) from dh, dc (None = zero) reaching h, c.");
  m.def("gru_cell", &gru_cell, py::arg("gi"), py::arg("gh"), py::arg("h_prev"),
        "Fused GRU cell on gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh (B, 3H), order r, z, n: "
        "returns (h, act), act (B, 4H) = r, z, n, gh_n.");
  m.def(
      "gru_cell_backward", &gru_cell_backward, py::arg("dh"), py::arg("act"), py::arg("h_prev"),
      "Gradients of gru_cell: (dgi, dgh, dh_prev), dh_prev = dh * z being the element-wise part.");
  m.def("lstm_sequence", &lstm_sequence, py::arg("gates"), py::arg("w_hh"), py::arg("h0"),
        py::arg("c0"), py::arg("reverse") = false,
        "LSTM time loop: gates (S, B, 4H) = x W_ih^T + b_ih + b_hh is overwritten with the "
        "activated gates; returns (hs, cs), each (S, B, H).");
  m.def("lstm_sequence_backward", &lstm_sequence_backward, py::arg("dhs"), py::arg("dc_n"),
        py::arg("gates"), py::arg("cs"), py::arg("c0"), py::arg("w_hh"), py::arg("reverse") = false,
        "Backward of lstm_sequence: (dgates, dh0, dc0) from dhs (S, B, H) and dc_n (None = zero).");
  m.def("gru_sequence", &gru_sequence, py::arg("gi"), py::arg("w_hh"), py::arg("b_hh"),
        py::arg("h0"), py::arg("reverse") = false,
        "GRU time loop on gi (S, B, 3H) = x W_ih^T + b_ih: returns (hs, act).");
  m.def("gru_sequence_backward", &gru_sequence_backward, py::arg("dhs"), py::arg("act"),
        py::arg("hs"), py::arg("h0"), py::arg("w_hh"), py::arg("reverse") = false,
        "Backward of gru_sequence: (dgi, dgh, dh0).");
  m.def("rnn_sequence", &rnn_sequence, py::arg("pre"), py::arg("w_hh"), py::arg("h0"),
        py::arg("nonlinearity") = "tanh", py::arg("reverse") = false,
        "Elman RNN time loop: pre (S, B, H) = x W_ih^T + b_ih + b_hh is overwritten with hs and "
        "returned.");
  m.def("rnn_sequence_backward", &rnn_sequence_backward, py::arg("dhs"), py::arg("hs"),
        py::arg("w_hh"), py::arg("nonlinearity") = "tanh", py::arg("reverse") = false,
        "Backward of rnn_sequence: (dpre, dh0).");
}

}  // namespace fastnn::bind
