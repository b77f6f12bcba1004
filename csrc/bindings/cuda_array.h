// fastnn._cuda.DeviceArray: a contiguous n-d array in device memory, and the argument checks the
// _cuda binding files share. Host-compiled: talks to the device only through
// csrc/cuda/fastnn_cuda.h.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "cuda/fastnn_cuda.h"

namespace fastnn::cuda::bind {
namespace py = pybind11;

// The memory behind one or more DeviceArrays (views share it). Either a block of the caching
// allocator, or foreign memory (DLPack / __cuda_array_interface__) kept alive by `release`.
struct Storage {
  void* ptr = nullptr;
  int device = 0;
  int64_t bytes = 0;
  bool owned = false;
  std::function<void()> release;  // foreign memory: drops the producer's reference
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (owned) {
      device_free(ptr);
    } else if (release) {
      try {
        release();
      } catch (...) {  // a destructor must not throw; the producer's deleter failed
      }
    }
  }
};

struct DeviceArray {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // bytes from storage->ptr
  std::vector<int64_t> shape;
  DType dtype = DType::f32;
  bool readonly = false;  // imported from a read-only producer

  void* data() const { return static_cast<char*>(storage->ptr) + offset; }
  int device() const { return storage->device; }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t nbytes() const { return numel() * dtype_size(dtype); }
  int ndim() const { return static_cast<int>(shape.size()); }
};

// ---- dtypes and shapes ----
DType dtype_from_py(const py::handle& obj, const char* fn);  // anything numpy.dtype() accepts
py::dtype dtype_to_py(DType dt);
std::string shape_str(const std::vector<int64_t>& shape);
std::string describe(const DeviceArray& a);
inline std::string type_name(const py::handle& obj) {
  return py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
}  // "float32 array of shape (2, 3) on cuda:0"

// ---- creation ----
// The device index to use: `device` < 0 means the current one. RuntimeError without a GPU.
int resolve_device(int device);
// The byte size of a `shape` array of `dt`; ValueError naming the shape when a dimension is
// negative or the size passes kMaxAllocBytes. Touches no device.
int64_t checked_nbytes(const std::vector<int64_t>& shape, DType dt);
DeviceArray empty(const std::vector<int64_t>& shape, DType dt, int device);
DeviceArray empty_like(const DeviceArray& a);

// Switches to a device for the lifetime of the guard (kernels launch on the current device).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int before_;
};

// ---- argument checks: TypeError for wrong types/dtypes, ValueError for shapes/devices ----
DeviceArray& as_device_array(const py::handle& obj, const char* fn, const char* name);
void check_float(const DeviceArray& a, const char* fn, const char* name);
void check_dtype(const DeviceArray& a, DType dt, const char* fn, const char* name);
void check_same_dtype(const DeviceArray& a, const char* na, const DeviceArray& b, const char* nb,
                      const char* fn);
void check_same_device(const DeviceArray& a, const char* na, const DeviceArray& b, const char* nb,
                       const char* fn);
void check_shape(const DeviceArray& a, const std::vector<int64_t>& shape, const char* fn,
                 const char* name);
void check_writeable(const DeviceArray& a, const char* fn, const char* name);
bool overlaps(const DeviceArray& a, const DeviceArray& b);
void check_no_overlap(const DeviceArray& out, const char* no, const DeviceArray& in, const char* ni,
                      const char* fn);
// An output argument: a DeviceArray of the given shape and dtype on `device` (checked), or a new
// one when `out` is None.
DeviceArray output(const py::object& out, const std::vector<int64_t>& shape, DType dt, int device,
                   const char* fn, const char* name);

}  // namespace fastnn::cuda::bind
