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

template <class T>
T* p(py::array& a) {
  return static_cast<T*>(a.mutable_data());
}
template <class T>
const T* cp(const py::array& a) {
  return static_cast<const T*>(a.data());
}
// Called with the GIL released: it reads the array's data pointer through the handle and builds
// no py::array (that would change a reference count without the GIL).
template <class T>
const T* cp_or_null(const py::object& a) {
  return a.is_none() ? nullptr : reinterpret_cast<const T*>(py::detail::array_proxy(a.ptr())->data);
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
  py::gil_scoped_release release;
  if (ck.f32)
    lstm_cell_forward_cpu(p<float>(h), p<float>(c), p<float>(act), cp<float>(gates),
                          cp<float>(c_prev), B, H);
  else
    lstm_cell_forward_cpu(p<double>(h), p<double>(c), p<double>(act), cp<double>(gates),
                          cp<double>(c_prev), B, H);
  py::gil_scoped_acquire acquire;
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
  py::gil_scoped_release release;
  if (ck.f32)
    lstm_cell_backward_cpu(p<float>(dgates), p<float>(dc_prev), cp<float>(dh),
                           cp_or_null<float>(dc), cp<float>(act), cp<float>(c_prev), cp<float>(c),
                           B, H);
  else
    lstm_cell_backward_cpu(p<double>(dgates), p<double>(dc_prev), cp<double>(dh),
                           cp_or_null<double>(dc), cp<double>(act), cp<double>(c_prev),
                           cp<double>(c), B, H);
  py::gil_scoped_acquire acquire;
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
  py::gil_scoped_release release;
  if (ck.f32)
    gru_cell_forward_cpu(p<float>(h), p<float>(act), cp<float>(gi), cp<float>(gh),
                         cp<float>(h_prev), B, H);
  else
    gru_cell_forward_cpu(p<double>(h), p<double>(act), cp<double>(gi), cp<double>(gh),
                         cp<double>(h_prev), B, H);
  py::gil_scoped_acquire acquire;
  return py::make_tuple(h, act);
}

py::tuple gru_cell_backward(py::handle dh_o, py::handle act_o, py::handle h_prev_o) {
  Checker ck{"gru_cell_backward"};
  py::array dh = ck.arr(dh_o, "dh", 2);
  const py::ssize_t B = dh.shape(0), H = dh.shape(1);
  py::array act = ck.arr(act_o, "act", Shape{B, 4 * H});
  py::array h_prev = ck.arr(h_prev_o, "h_prev", Shape{B, H});
  py::array dgi = ck.out({B, 3 * H}), dgh = ck.out({B, 3 * H}), dh_prev = ck.out({B, H});
  py::gil_scoped_release release;
  if (ck.f32)
    gru_cell_backward_cpu(p<float>(dgi), p<float>(dgh), p<float>(dh_prev), cp<float>(dh),
                          cp<float>(act), cp<float>(h_prev), B, H);
  else
    gru_cell_backward_cpu(p<double>(dgi), p<double>(dgh), p<double>(dh_prev), cp<double>(dh),
                          cp<double>(act), cp<double>(h_prev), B, H);
  py::gil_scoped_acquire acquire;
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
  py::gil_scoped_release release;
  if (ck.f32)
    lstm_sequence_forward_cpu(p<float>(hs), p<float>(cs), p<float>(gates), cp<float>(w_hh),
                              cp<float>(h0), cp<float>(c0), d.S, d.B, d.H, reverse);
  else
    lstm_sequence_forward_cpu(p<double>(hs), p<double>(cs), p<double>(gates), cp<double>(w_hh),
                              cp<double>(h0), cp<double>(c0), d.S, d.B, d.H, reverse);
  py::gil_scoped_acquire acquire;
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
  py::gil_scoped_release release;
  if (ck.f32)
    lstm_sequence_backward_cpu(p<float>(dgates), p<float>(dh0), p<float>(dc0), cp<float>(dhs),
                               cp_or_null<float>(dc_n), cp<float>(gates), cp<float>(cs),
                               cp<float>(c0), cp<float>(w_hh), d.S, d.B, d.H, reverse);
  else
    lstm_sequence_backward_cpu(p<double>(dgates), p<double>(dh0), p<double>(dc0), cp<double>(dhs),
                               cp_or_null<double>(dc_n), cp<double>(gates), cp<double>(cs),
                               cp<double>(c0), cp<double>(w_hh), d.S, d.B, d.H, reverse);
  py::gil_scoped_acquire acquire;
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
  py::gil_scoped_release release;
  if (ck.f32)
    gru_sequence_forward_cpu(p<float>(hs), p<float>(act), cp<float>(gi), cp<float>(w_hh),
                             cp_or_null<float>(b_hh), cp<float>(h0), d.S, d.B, d.H, reverse);
  else
    gru_sequence_forward_cpu(p<double>(hs), p<double>(act), cp<double>(gi), cp<double>(w_hh),
                             cp_or_null<double>(b_hh), cp<double>(h0), d.S, d.B, d.H, reverse);
  py::gil_scoped_acquire acquire;
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
  py::gil_scoped_release release;
  if (ck.f32)
    gru_sequence_backward_cpu(p<float>(dgi), p<float>(dgh), p<float>(dh0), cp<float>(dhs),
                              cp<float>(act), cp<float>(hs), cp<float>(h0), cp<float>(w_hh), S, B,
                              H, reverse);
  else
    gru_sequence_backward_cpu(p<double>(dgi), p<double>(dgh), p<double>(dh0), cp<double>(dhs),
                              cp<double>(act), cp<double>(hs), cp<double>(h0), cp<double>(w_hh), S,
                              B, H, reverse);
  py::gil_scoped_acquire acquire;
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
  py::gil_scoped_release release;
  if (ck.f32)
    rnn_sequence_forward_cpu(p<float>(pre), cp<float>(w_hh), cp<float>(h0), d.S, d.B, d.H, relu,
                             reverse);
  else
    rnn_sequence_forward_cpu(p<double>(pre), cp<double>(w_hh), cp<double>(h0), d.S, d.B, d.H, relu,
                             reverse);
  py::gil_scoped_acquire acquire;
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
  py::gil_scoped_release release;
  if (ck.f32)
    rnn_sequence_backward_cpu(p<float>(dpre), p<float>(dh0), cp<float>(dhs), cp<float>(hs),
                              cp<float>(w_hh), d.S, d.B, d.H, relu, reverse);
  else
    rnn_sequence_backward_cpu(p<double>(dpre), p<double>(dh0), cp<double>(dhs), cp<double>(hs),
                              cp<double>(w_hh), d.S, d.B, d.H, relu, reverse);
  py::gil_scoped_acquire acquire;
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
