// Streams, events, graph capture and the allocator's stream bookkeeping for fastnn._cuda; the
// torch-style classes are in python/fastnn/cuda/streams.py and graphs.py. Handles cross the
// boundary as integers (a cudaStream_t / cudaEvent_t / cudaGraphExec_t value). Everything that
// may wait for the device releases the GIL.
#include "bindings/cuda_array.h"

namespace fastnn::cuda::bind {
namespace {

// A stream argument: an int handle, or an object with a `cuda_stream` attribute (fastnn's or
// torch's Stream).
std::uintptr_t stream_arg(const py::handle& obj, const char* fn) {
  py::object v = py::reinterpret_borrow<py::object>(obj);
  if (py::hasattr(obj, "cuda_stream")) v = obj.attr("cuda_stream");
  FASTNN_TYPE_CHECK(py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v), fn,
                    ": expected a Stream or an integer stream handle, got ", type_name(obj));
  const auto s = v.cast<int64_t>();
  FASTNN_CHECK(s >= 0, fn, ": invalid stream handle ", s);
  return static_cast<std::uintptr_t>(s);
}

}  // namespace

void register_stream(py::module_& m) {
  m.def("get_current_stream", &get_current_stream,
        "The calling thread's current stream on the current device (0: legacy default stream).");
  m.def(
      "set_current_stream",
      [](const py::object& s) { set_current_stream(stream_arg(s, "set_current_stream")); },
      py::arg("stream"), "Make `stream` (of the current device) the thread's current stream.");
  m.def(
      "stream_from_pool",
      [](int device, int priority) { return stream_from_pool(resolve_device(device), priority); },
      py::arg("device") = -1, py::arg("priority") = 0,
      "A non-blocking stream from the device's pool (priority < 0: the high-priority pool).");
  m.def("stream_priority", &stream_priority, py::arg("stream"));
  m.def("stream_query", &stream_query, py::arg("stream"));
  m.def(
      "stream_synchronize",
      [](std::uintptr_t s) {
        check_no_host_sync("Stream.synchronize()");
        py::gil_scoped_release release;
        stream_synchronize(s);
      },
      py::arg("stream"));
  m.def("stream_wait_event", &stream_wait_event, py::arg("stream"), py::arg("event"));
  m.def("event_create", &event_create, py::arg("enable_timing") = false,
        py::arg("blocking") = false);
  m.def("event_destroy", &event_destroy, py::arg("event"));
  m.def("event_record", &event_record, py::arg("event"), py::arg("stream"));
  m.def("event_query", &event_query, py::arg("event"));
  m.def(
      "event_synchronize",
      [](std::uintptr_t e) {
        check_no_host_sync("Event.synchronize()");
        py::gil_scoped_release release;
        event_synchronize(e);
      },
      py::arg("event"));
  m.def("event_elapsed_ms", &event_elapsed_ms, py::arg("start"), py::arg("end"));

  m.def(
      "pool_create", [](int device) { return pool_create(resolve_device(device)); },
      py::arg("device") = -1, "A private allocator pool for graph capture (one holder).");
  m.def("pool_retain", &pool_retain, py::arg("pool"));
  m.def("pool_release", &pool_release, py::arg("pool"));
  m.def("pending_frees", &pending_frees, py::arg("device") = 0,
        "Freed blocks waiting for other streams or a device synchronization before reuse.");
  m.def("graph_capture_begin", &graph_capture_begin, py::arg("stream"), py::arg("pool"),
        py::arg("mode") = 0);
  m.def("graph_capture_end", &graph_capture_end, py::arg("stream"));
  m.def("graph_launch", &graph_launch, py::arg("exec"), py::arg("stream"));
  m.def("graph_destroy", &graph_destroy, py::arg("exec"));
  m.def("is_capturing", &is_capturing, "True while the calling thread captures a CUDA graph.");
  m.def("hold_stream", &hold_stream, py::arg("stream"), py::arg("timeout_s") = 30.0,
        "Tests only: hold `stream` (a host callback that waits) until release_stream(gate).");
  m.def("release_stream", &release_stream, py::arg("gate"));

  auto cls = py::type::of<DeviceArray>();
  cls.attr("record_stream") = py::cpp_function(
      [](const DeviceArray& a, const py::object& stream) {
        const std::uintptr_t s = stream_arg(stream, "DeviceArray.record_stream");
        if (a.storage && a.storage->owned) record_stream(a.storage->ptr, s);
      },
      py::is_method(cls), py::arg("stream"),
      "Mark the array's memory as used by `stream`: when it is freed, it is not reused until the "
      "work queued on `stream` by then has finished (torch's Tensor.record_stream).");
}

}  // namespace fastnn::cuda::bind
