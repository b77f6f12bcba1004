// Build and run-time configuration: threads, the ISA path, what was compiled.
#include <pybind11/pybind11.h>

#include "cpu/conv_winograd.h"
#include "cpu/cpu_features.h"
#include "cpu/heap.h"
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
  m.def("set_conv_winograd", &set_conv_winograd, py::arg("enabled"),
        "Use Winograd F(2x2, 3x3) for float32 3x3 stride-1 conv2d where it applies (the default), "
        "or packed im2col everywhere.");
  m.def("conv_winograd_enabled", &conv_winograd_enabled);
  m.def("heap_policy", [] {
    const HeapPolicy& p = keep_freed_memory();
    py::dict out;
    out["keeps_freed"] = p.keeps_freed;
    out["reason"] = p.reason;
    out["trim_threshold"] = p.trim_threshold;
    out["mmap_threshold"] = p.mmap_threshold;
    return out;
  });
  m.attr("__version__") = FASTNN_VERSION;
  m.attr("compiler") = FASTNN_COMPILER;
  m.attr("built_with_cuda") = static_cast<bool>(FASTNN_BUILT_CUDA);
}

}  // namespace fastnn::bind
