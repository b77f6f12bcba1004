// The fastnn._cuda extension: loaded only by fastnn.cuda, never by `import fastnn`.
#include <pybind11/pybind11.h>

#include "cuda/fastnn_cuda.h"

namespace py = pybind11;

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "fastnn CUDA kernels and device memory";
  m.def("device_count", &fastnn::cuda::device_count, "Number of visible CUDA devices (0 without a driver).");
}
