// pybind11 glue for the CUDA LSTM / GRU cells (csrc/cuda/rnn.cu): the same names, arguments and
// checks as the CPU bindings in csrc/bindings/rnn.cpp, on DeviceArrays. Validate everything
// first (TypeError / ValueError naming the argument), then launch.
#include <string>
#include <vector>

#include "bindings/cuda_array.h"
#include "cuda/rnn_cuda.h"

namespace fastnn::cuda::bind {
namespace {

using Shape = std::vector<int64_t>;

// Checks each argument against the first one's dtype and device.
struct Checker {
  const char* fn;
  const DeviceArray* first = nullptr;
  const char* first_name = nullptr;

  DeviceArray& arr(const py::handle& obj, const char* name, int ndim) {
    DeviceArray& a = as_device_array(obj, fn, name);
    check_float(a, fn, name);
    if (!first) {
      first = &a;
      first_name = name;
    }
    check_same_dtype(*first, first_name, a, name, fn);
    check_same_device(*first, first_name, a, name, fn);
    FASTNN_CHECK(a.ndim() == ndim, fn, ": argument '", name, "' must have ", ndim,
                 " dimensions, got shape ", shape_str(a.shape));
    return a;
  }
  DeviceArray& arr(const py::handle& obj, const char* name, const Shape& shape) {
    DeviceArray& a = arr(obj, name, static_cast<int>(shape.size()));
    check_shape(a, shape, fn, name);
    return a;
  }
  DeviceArray out(const Shape& shape) const { return empty(shape, first->dtype, first->device()); }
};

py::tuple lstm_cell(const py::object& gates_o, const py::object& c_prev_o) {
  Checker ck{"lstm_cell"};
  DeviceArray& gates = ck.arr(gates_o, "gates", 2);
  const int64_t B = gates.shape[0], H4 = gates.shape[1];
  FASTNN_CHECK(H4 % 4 == 0, "lstm_cell: 'gates' must have 4 * hidden columns, got shape ",
               shape_str(gates.shape));
  const int64_t H = H4 / 4;
  DeviceArray& c_prev = ck.arr(c_prev_o, "c_prev", Shape{B, H});
  DeviceGuard guard(gates.device());
  DeviceArray h = ck.out({B, H}), c = ck.out({B, H}), act = ck.out({B, H4});
  lstm_cell_forward_cuda(gates.dtype, h.data(), c.data(), act.data(), gates.data(), c_prev.data(),
                         B, H);
  return py::make_tuple(std::move(h), std::move(c), std::move(act));
}

py::tuple lstm_cell_backward(const py::object& dh_o, const py::object& dc_o,
                             const py::object& act_o, const py::object& c_prev_o,
                             const py::object& c_o) {
  Checker ck{"lstm_cell_backward"};
  DeviceArray& dh = ck.arr(dh_o, "dh", 2);
  const int64_t B = dh.shape[0], H = dh.shape[1];
  const void* dc = nullptr;
  if (!dc_o.is_none()) dc = ck.arr(dc_o, "dc", Shape{B, H}).data();
  DeviceArray& act = ck.arr(act_o, "act", Shape{B, 4 * H});
  DeviceArray& c_prev = ck.arr(c_prev_o, "c_prev", Shape{B, H});
  DeviceArray& c = ck.arr(c_o, "c", Shape{B, H});
  DeviceGuard guard(dh.device());
  DeviceArray dgates = ck.out({B, 4 * H}), dc_prev = ck.out({B, H});
  lstm_cell_backward_cuda(dh.dtype, dgates.data(), dc_prev.data(), dh.data(), dc, act.data(),
                          c_prev.data(), c.data(), B, H);
  return py::make_tuple(std::move(dgates), std::move(dc_prev));
}

py::tuple gru_cell(const py::object& gi_o, const py::object& gh_o, const py::object& h_prev_o) {
  Checker ck{"gru_cell"};
  DeviceArray& gi = ck.arr(gi_o, "gi", 2);
  const int64_t B = gi.shape[0], H3 = gi.shape[1];
  FASTNN_CHECK(H3 % 3 == 0, "gru_cell: 'gi' must have 3 * hidden columns, got shape ",
               shape_str(gi.shape));
  const int64_t H = H3 / 3;
  DeviceArray& gh = ck.arr(gh_o, "gh", Shape{B, H3});
  DeviceArray& h_prev = ck.arr(h_prev_o, "h_prev", Shape{B, H});
  DeviceGuard guard(gi.device());
  DeviceArray h = ck.out({B, H}), act = ck.out({B, 4 * H});
  gru_cell_forward_cuda(gi.dtype, h.data(), act.data(), gi.data(), gh.data(), h_prev.data(), B, H);
  return py::make_tuple(std::move(h), std::move(act));
}

py::tuple gru_cell_backward(const py::object& dh_o, const py::object& act_o,
                            const py::object& h_prev_o) {
  Checker ck{"gru_cell_backward"};
  DeviceArray& dh = ck.arr(dh_o, "dh", 2);
  const int64_t B = dh.shape[0], H = dh.shape[1];
  DeviceArray& act = ck.arr(act_o, "act", Shape{B, 4 * H});
  DeviceArray& h_prev = ck.arr(h_prev_o, "h_prev", Shape{B, H});
  DeviceGuard guard(dh.device());
  DeviceArray dgi = ck.out({B, 3 * H}), dgh = ck.out({B, 3 * H}), dh_prev = ck.out({B, H});
  gru_cell_backward_cuda(dh.dtype, dgi.data(), dgh.data(), dh_prev.data(), dh.data(), act.data(),
                         h_prev.data(), B, H);
  return py::make_tuple(std::move(dgi), std::move(dgh), std::move(dh_prev));
}

}  // namespace

void register_rnn(py::module_& m) {
  m.def("lstm_cell", &lstm_cell, py::arg("gates"), py::arg("c_prev"),
        "Fused LSTM cell (see fastnn.kernels.lstm_cell): returns (h, c, act).");
  m.def("lstm_cell_backward", &lstm_cell_backward, py::arg("dh"), py::arg("dc"), py::arg("act"),
        py::arg("c_prev"), py::arg("c"), "Gradients of lstm_cell: (dgates, dc_prev).");
  m.def("gru_cell", &gru_cell, py::arg("gi"), py::arg("gh"), py::arg("h_prev"),
        "Fused GRU cell (see fastnn.kernels.gru_cell): returns (h, act).");
  m.def("gru_cell_backward", &gru_cell_backward, py::arg("dh"), py::arg("act"), py::arg("h_prev"),
        "Gradients of gru_cell: (dgi, dgh, dh_prev).");
}

}  // namespace fastnn::cuda::bind
