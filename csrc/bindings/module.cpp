// The fastnn._C extension: one registration function per kernel family, each in its own file.
#include <pybind11/pybind11.h>

#include "check.h"
#include "cpu/heap.h"

namespace py = pybind11;

namespace fastnn::bind {
void register_config(py::module_& m);
void register_matmul(py::module_& m);
void register_activations(py::module_& m);
void register_losses(py::module_& m);
void register_optim(py::module_& m);
void register_conv(py::module_& m);
void register_normalization(py::module_& m);
void register_rnn(py::module_& m);
void register_clip_grad(py::module_& m);
void register_reductions(py::module_& m);
void register_embedding(py::module_& m);
void register_matmul_packed(py::module_& m);
void register_dropout(py::module_& m);
void register_pool_code(py::module_& m);
void register_dispatch(py::module_& m);
void register_arithmetic(py::module_& m);
void register_cat(py::module_& m);
void register_scan(py::module_& m);
}  // namespace fastnn::bind

PYBIND11_MODULE(_C, m) {
  m.doc() = "fastnn CPU kernels on numpy arrays (float32 and float64); see fastnn.kernels";
  // Before any tensor exists: freed activations stay in the process (cpu/heap.h).
  fastnn::keep_freed_memory();
  py::register_exception<fastnn::type_error>(m, "_TypeError", PyExc_TypeError);
  fastnn::bind::register_config(m);
  fastnn::bind::register_matmul(m);
  fastnn::bind::register_activations(m);
  fastnn::bind::register_losses(m);
  fastnn::bind::register_optim(m);
  fastnn::bind::register_conv(m);
  fastnn::bind::register_normalization(m);
  fastnn::bind::register_rnn(m);
  fastnn::bind::register_clip_grad(m);
  fastnn::bind::register_reductions(m);
  fastnn::bind::register_embedding(m);
  fastnn::bind::register_matmul_packed(m);
  fastnn::bind::register_dropout(m);
  fastnn::bind::register_pool_code(m);
  fastnn::bind::register_dispatch(m);
  fastnn::bind::register_arithmetic(m);
  fastnn::bind::register_cat(m);
  fastnn::bind::register_scan(m);
}
