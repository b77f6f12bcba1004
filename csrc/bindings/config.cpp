// Build and run-time configuration: threads, the ISA path, what was compiled.
#include <pybind11/pybind11.h>

#include "check.h"
#include "cpu/cpu_features.h"
#include "cpu/fma_probe.h"
#include "cpu/parallel.h"

namespace py = pybind11;

namespace fastnn::bind {

void register_config(py::module_& m) {
  m.def("get_num_threads", &get_num_threads, "Threads the CPU kernels use.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Set the threads the CPU kernels use (n >= 1).");
  m.def("default_num_threads", &default_num_threads);
  m.def("get_isa", [] { return isa_name(active_isa()); }, "The SIMD path the CPU kernels use now.");
  m.def(
      "detected_isa", [] { return isa_name(detected_isa()); },
      "The best SIMD path this CPU supports.");
  m.def(
      "set_isa", [](const std::string& name) { set_isa(isa_from_name(name.c_str())); },
      py::arg("name"),
      "Force a SIMD path: 'avx512', 'avx2' or 'generic' (no higher than detected_isa()).");
  m.def("supported_isas", [] {
    py::list out;
    for (int i = 0; i <= static_cast<int>(detected_isa()); ++i)
      out.append(isa_name(static_cast<Isa>(i)));
    return out;
  });
  m.def(
      "fma_probe",
      [](int64_t iterations) {
        FASTNN_CHECK(iterations >= 0, "fma_probe: argument 'iterations' must be >= 0, got ",
                     iterations);
        double checksum = 0;
        int64_t flops;
        {
          py::gil_scoped_release release;
          flops = fma_probe_cpu(iterations, &checksum);
        }
        return py::make_tuple(flops, checksum);
      },
      py::arg("iterations"),
      "Run the float32 FMA chains of the active SIMD path in this thread; returns (flops done, "
      "checksum). Time it to measure one core's compute limit (the benchmarks do).");
  m.attr("__version__") = FASTNN_VERSION;
  m.attr("compiler") = FASTNN_COMPILER;
  m.attr("built_with_cuda") = static_cast<bool>(FASTNN_BUILT_CUDA);
}

}  // namespace fastnn::bind
