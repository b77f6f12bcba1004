#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace fastnn::bind {

void register_matmul(py::module_& m) {}

}  // namespace fastnn::bind
