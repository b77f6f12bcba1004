// Bindings of pinned host memory (csrc/cuda/pinned.h): numpy arrays over pinned blocks (behind
// Tensor.pin_memory), the pinned test (Tensor.is_pinned), the asynchronous upload behind
// Tensor.to('cuda', non_blocking=True), and the pinned cache's statistics.
#include <cstring>
#include <memory>

#include "bindings/cuda_array.h"
#include "cuda/pinned.h"

namespace fastnn::cuda::bind {

namespace {

std::vector<int64_t> shape_of(const py::array& a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

// A C-contiguous copy of `array` (same dtype, byte order included) in a pinned block. The
// block goes back to the cache when the last view of the copy is gone; copies still queued
// from it keep it from reuse until they are done ([note: pinned blocks]).
py::array pin_numpy(const py::handle& obj) {
  FASTNN_TYPE_CHECK(py::isinstance<py::array>(obj), "pin_memory: expected a numpy.ndarray, got ",
                    type_name(obj));
  auto src = py::reinterpret_borrow<py::array>(obj);
  FASTNN_TYPE_CHECK(src.dtype().kind() != 'O', "pin_memory: an object array cannot be pinned");
  py::array host = py::array::ensure(src, py::array::c_style);
  FASTNN_CHECK(host, "pin_memory: cannot make a contiguous copy of the input");
  const auto nbytes = static_cast<int64_t>(host.nbytes());
  // At least one byte, so an empty array also points into a pinned block (and is_pinned holds).
  std::unique_ptr<void, void (*)(void*)> block(pinned_malloc(nbytes > 0 ? nbytes : 1),
                                               [](void* p) { pinned_free(p); });
  py::capsule owner(block.get(), [](void* p) { pinned_free(p); });
  void* dst = block.release();         // the capsule frees it from now on
  const void* src_data = host.data();  // read with the GIL held
  {
    py::gil_scoped_release release;
    std::memcpy(dst, src_data, static_cast<size_t>(nbytes));
  }
  std::vector<py::ssize_t> shape(host.shape(), host.shape() + host.ndim());
  return py::array(host.dtype(), shape, dst, owner);
}

bool is_pinned(const py::handle& obj) {
  FASTNN_TYPE_CHECK(py::isinstance<py::array>(obj), "is_pinned: expected a numpy.ndarray, got ",
                    type_name(obj));
  const void* p = py::reinterpret_borrow<py::array>(obj).data();
  py::gil_scoped_release release;
  return is_pinned_host(p);
}

// Like from_numpy, but the copy is queued on the current stream and this returns without
// waiting for the device (csrc/cuda/pinned.h: direct from pinned memory, staged otherwise).
DeviceArray from_numpy_async(const py::handle& obj, int device) {
  FASTNN_TYPE_CHECK(py::isinstance<py::array>(obj),
                    "from_numpy_async: expected a numpy.ndarray, got ", type_name(obj));
  auto src = py::reinterpret_borrow<py::array>(obj);
  const DType dt = dtype_from_py(src.dtype(), "from_numpy_async");
  const int dev = resolve_device(device);
  // Native byte order and C order, copied only when the input is neither (a pinned array that
  // is both stays the pinned source of the copy).
  py::array host = py::array::ensure(
      src.attr("astype")(dtype_to_py(dt), "C", "unsafe", true, false), py::array::c_style);
  FASTNN_CHECK(host, "from_numpy_async: cannot make a contiguous copy of the input");
  DeviceGuard guard(dev);
  DeviceArray out = empty(shape_of(host), dt, dev);
  const void* src_data = host.data();  // read with the GIL held
  {
    py::gil_scoped_release release;
    copy_host_to_device_async(out.data(), src_data, out.nbytes());
  }
  return out;
}

py::dict stats_dict() {
  const PinnedStats s = pinned_stats();
  py::dict d;
  d["allocated"] = s.allocated;
  d["reserved"] = s.reserved;
  d["host_allocs"] = s.host_allocs;
  d["cache_hits"] = s.cache_hits;
  d["pending"] = s.pending;
  d["staged_copies"] = s.staged_copies;
  return d;
}

}  // namespace

void register_pinned(py::module_& m) {
  m.def("pin_numpy", &pin_numpy, py::arg("array"),
        "A C-contiguous copy of a numpy array in pinned (page-locked) host memory.");
  m.def("is_pinned", &is_pinned, py::arg("array"),
        "Whether a numpy array's data is in pinned host memory (any library's).");
  m.def("from_numpy_async", &from_numpy_async, py::arg("array"), py::arg("device") = -1,
        "Copy a numpy array to the device on the current stream without waiting for it.");
  m.def("pinned_memory_stats", &stats_dict, "Statistics of the pinned host-memory cache.");
  m.def(
      "pinned_empty_cache", []() { pinned_empty_cache(); },
      "Free the cached pinned blocks that no queued copy still reads.");
}

}  // namespace fastnn::cuda::bind
