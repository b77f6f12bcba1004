// pybind11 glue of [note: deferred target check] (csrc/cuda/target_error.h): the Python exception
// for a bad class target found on the device, and the host side of the check on a record the
// caller fills (the test of that logic needs no GPU).
#include <pybind11/pybind11.h>

#include <stdexcept>

#include "cuda/target_error.h"

namespace py = pybind11;

namespace fastnn::cuda::bind {

void register_target_error(py::module_& m) {
  // IndexError as F.cross_entropy raises on the CPU, ValueError as the CPU kernel raises.
  const py::tuple bases =
      py::make_tuple(py::handle(PyExc_IndexError), py::handle(PyExc_ValueError));
  py::register_exception<target_index_error>(m, "_TargetIndexError", bases);
  m.def(
      "_check_target_record",
      [](int state, int64_t row, int64_t label, int64_t classes, int64_t ignore_index) {
        TargetErrorRecord rec{state, 0, row, label, classes, ignore_index};
        try {
          raise_if_reported(&rec);
        } catch (const target_index_error&) {
          if (rec.state != 0) throw std::logic_error("the reported record was not cleared");
          throw;
        }
        return rec.state;
      },
      py::arg("state"), py::arg("row"), py::arg("label"), py::arg("classes"),
      py::arg("ignore_index"),
      "Runs the host side of the deferred target check on a record holding these fields: raises "
      "_TargetIndexError (and clears the record) when state is nonzero, else returns 0.");
}

}  // namespace fastnn::cuda::bind
