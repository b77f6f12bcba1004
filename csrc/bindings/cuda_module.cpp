// The fastnn._cuda extension: loaded only by fastnn.cuda, never by `import fastnn`.
// One registration function per family, each in its own csrc/bindings/cuda_*.cpp file.
#include <pybind11/pybind11.h>

#include "check.h"

namespace py = pybind11;

namespace fastnn::cuda::bind {
void register_array(py::module_& m);
void register_dlpack(py::module_& m);
void register_ops(py::module_& m);
void register_nn(py::module_& m);
void register_normalization(py::module_& m);
void register_rnn(py::module_& m);
void register_index(py::module_& m);
void register_pinned(py::module_& m);
void register_stream(py::module_& m);
void register_target_error(py::module_& m);
void register_indexing(py::module_& m);
void register_conv(py::module_& m);
}  // namespace fastnn::cuda::bind

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "fastnn CUDA kernels and device memory (see fastnn.cuda)";
  py::register_exception<fastnn::type_error>(m, "_TypeError", PyExc_TypeError);
  fastnn::cuda::bind::register_array(m);
  fastnn::cuda::bind::register_dlpack(m);
  fastnn::cuda::bind::register_ops(m);
  fastnn::cuda::bind::register_nn(m);
  fastnn::cuda::bind::register_normalization(m);
  fastnn::cuda::bind::register_rnn(m);
  fastnn::cuda::bind::register_index(m);
  fastnn::cuda::bind::register_pinned(m);
  fastnn::cuda::bind::register_stream(m);
  fastnn::cuda::bind::register_target_error(m);
  fastnn::cuda::bind::register_indexing(m);
  fastnn::cuda::bind::register_conv(m);
}
