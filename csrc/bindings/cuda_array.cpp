// DeviceArray: creation, host<->device copies, views, __cuda_array_interface__ (import and
// export), and the caching allocator's statistics. DLPack lives in cuda_dlpack.cpp.
#include "bindings/cuda_array.h"

#include <cstring>

namespace fastnn::cuda::bind {

// ---- dtypes and shapes ---------------------------------------------------------------------

DType dtype_from_py(const py::handle& obj, const char* fn) {
  py::dtype dt;
  try {
    dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(obj));
  } catch (py::error_already_set&) {
    FASTNN_TYPE_CHECK(false, fn, ": cannot interpret ", py::repr(obj).cast<std::string>(),
                      " as a dtype");
  }
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f' && size == 4) return DType::f32;
  if (kind == 'f' && size == 8) return DType::f64;
  if (kind == 'i' && size == 8) return DType::i64;
  if (kind == 'i' && size == 4) return DType::i32;
  if (kind == 'u' && size == 1) return DType::u8;
  if (kind == 'b' && size == 1) return DType::b8;
  FASTNN_TYPE_CHECK(false, fn, ": dtype ", py::str(dt).cast<std::string>(),
                    " is not supported on CUDA (float32, float64, int64, int32, uint8, bool)");
  return DType::f32;
}

py::dtype dtype_to_py(DType dt) {
  switch (dt) {
    case DType::f32:
      return py::dtype("float32");
    case DType::f64:
      return py::dtype("float64");
    case DType::i64:
      return py::dtype("int64");
    case DType::i32:
      return py::dtype("int32");
    case DType::u8:
      return py::dtype("uint8");
    default:
      return py::dtype("bool");
  }
}

static const char* typestr(DType dt) {
  switch (dt) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::i64:
      return "<i8";
    case DType::i32:
      return "<i4";
    case DType::u8:
      return "|u1";
    default:
      return "|b1";
  }
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::string describe(const DeviceArray& a) {
  return str_cat(dtype_name(a.dtype), " array of shape ", shape_str(a.shape),
                 " on cuda:", a.device());
}

// ---- creation -------------------------------------------------------------------------------

int resolve_device(int device) {
  const int count = device_count();
  if (count == 0) {
    throw std::runtime_error(
        str_cat("fastnn.cuda: no CUDA device is available (", runtime_error_string(), ")"));
  }
  if (device < 0) return current_device();
  FASTNN_CHECK(device < count, "fastnn.cuda: device ", device, " does not exist (", count,
               " visible device", count == 1 ? "" : "s", ")");
  return device;
}

int64_t checked_nbytes(const std::vector<int64_t>& shape, DType dt) {
  FASTNN_CHECK(shape.size() <= static_cast<size_t>(kMaxDims), "fastnn.cuda: at most ", kMaxDims,
               " dimensions are supported, got shape ", shape_str(shape));
  for (int64_t d : shape) {
    FASTNN_CHECK(d >= 0, "fastnn.cuda: negative dimension in shape ", shape_str(shape));
    if (d == 0) return 0;
  }
  // The byte count, not just the element count, must fit: n * 8 wraps for 8-byte dtypes long
  // before n does, and a wrapped count would allocate a tiny block behind a huge shape.
  int64_t bytes = dtype_size(dt);
  for (int64_t d : shape) {
    FASTNN_CHECK(bytes <= kMaxAllocBytes / d, "fastnn.cuda: shape ", shape_str(shape), " of ",
                 dtype_name(dt), " is too large (more than 2^62 bytes)");
    bytes *= d;
  }
  return bytes;
}

DeviceArray empty(const std::vector<int64_t>& shape, DType dt, int device) {
  const int64_t bytes = checked_nbytes(shape, dt);
  DeviceArray a;
  a.storage = std::make_shared<Storage>();
  a.storage->device = device;
  a.storage->bytes = bytes;
  a.storage->ptr = device_malloc(a.storage->bytes, device);
  a.storage->owned = true;
  a.shape = shape;
  a.dtype = dt;
  return a;
}

DeviceArray empty_like(const DeviceArray& a) { return empty(a.shape, a.dtype, a.device()); }

DeviceGuard::DeviceGuard(int device) : before_(current_device()) {
  if (before_ != device) set_device(device);
}

DeviceGuard::~DeviceGuard() {
  try {
    if (current_device() != before_) set_device(before_);
  } catch (...) {  // destructors do not throw; the next CUDA call reports the error
  }
}

// ---- argument checks ------------------------------------------------------------------------

DeviceArray& as_device_array(const py::handle& obj, const char* fn, const char* name) {
  try {
    return obj.cast<DeviceArray&>();
  } catch (py::cast_error&) {
    FASTNN_TYPE_CHECK(false, fn, ": argument '", name, "' must be a fastnn CUDA DeviceArray, got ",
                      type_name(obj));
  }
  throw std::logic_error("unreachable");
}

void check_float(const DeviceArray& a, const char* fn, const char* name) {
  FASTNN_TYPE_CHECK(is_float(a.dtype), fn, ": argument '", name,
                    "' must have dtype float32 or float64, got ", describe(a));
}

void check_dtype(const DeviceArray& a, DType dt, const char* fn, const char* name) {
  FASTNN_TYPE_CHECK(a.dtype == dt, fn, ": argument '", name, "' must have dtype ", dtype_name(dt),
                    ", got ", describe(a));
}

void check_same_dtype(const DeviceArray& a, const char* na, const DeviceArray& b, const char* nb,
                      const char* fn) {
  FASTNN_TYPE_CHECK(a.dtype == b.dtype, fn, ": '", na, "' and '", nb,
                    "' must have the same dtype, got ", dtype_name(a.dtype), " and ",
                    dtype_name(b.dtype));
}

void check_same_device(const DeviceArray& a, const char* na, const DeviceArray& b, const char* nb,
                       const char* fn) {
  FASTNN_CHECK(a.device() == b.device(), fn, ": '", na, "' is on cuda:", a.device(), " but '", nb,
               "' is on cuda:", b.device());
}

void check_shape(const DeviceArray& a, const std::vector<int64_t>& shape, const char* fn,
                 const char* name) {
  FASTNN_CHECK(a.shape == shape, fn, ": argument '", name, "' must have shape ", shape_str(shape),
               ", got ", shape_str(a.shape));
}

void check_writeable(const DeviceArray& a, const char* fn, const char* name) {
  FASTNN_CHECK(!a.readonly, fn, ": argument '", name, "' is read-only; it is written in place");
}

bool overlaps(const DeviceArray& a, const DeviceArray& b) {
  if (a.numel() == 0 || b.numel() == 0) return false;
  auto alo = reinterpret_cast<uintptr_t>(a.data()), blo = reinterpret_cast<uintptr_t>(b.data());
  auto ahi = alo + static_cast<uintptr_t>(a.nbytes()),
       bhi = blo + static_cast<uintptr_t>(b.nbytes());
  return alo < bhi && blo < ahi;
}

void check_no_overlap(const DeviceArray& out, const char* no, const DeviceArray& in, const char* ni,
                      const char* fn) {
  FASTNN_CHECK(!overlaps(out, in), fn, ": '", no, "' must not share memory with '", ni, "'");
}

DeviceArray output(const py::object& out, const std::vector<int64_t>& shape, DType dt, int device,
                   const char* fn, const char* name) {
  if (out.is_none()) return empty(shape, dt, device);
  DeviceArray& o = as_device_array(out, fn, name);
  check_dtype(o, dt, fn, name);
  check_shape(o, shape, fn, name);
  FASTNN_CHECK(o.device() == device, fn, ": argument '", name, "' is on cuda:", o.device(),
               " but the inputs are on cuda:", device);
  check_writeable(o, fn, name);
  return o;
}

// ---- host <-> device ------------------------------------------------------------------------

static std::vector<int64_t> shape_of(const py::array& a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

static std::vector<int64_t> shape_from_py(const py::handle& obj, const char* fn) {
  std::vector<int64_t> shape;
  if (py::isinstance<py::int_>(obj)) {
    shape.push_back(obj.cast<int64_t>());
    return shape;
  }
  FASTNN_TYPE_CHECK(py::isinstance<py::sequence>(obj) && !py::isinstance<py::str>(obj), fn,
                    ": shape must be an int or a sequence of ints, got ", type_name(obj));
  for (auto item : py::reinterpret_borrow<py::sequence>(obj)) {
    FASTNN_TYPE_CHECK(py::isinstance<py::int_>(item) && !py::isinstance<py::bool_>(item), fn,
                      ": shape entries must be ints, got ", type_name(item));
    shape.push_back(item.cast<int64_t>());
  }
  return shape;
}

// The bytes from_numpy uploads: `src` as a C-contiguous array of the native byte order of its
// dtype (a big-endian '>f4' input is converted, not copied as is). No copy when `src` is one.
static py::array host_staging(const py::handle& obj) {
  FASTNN_TYPE_CHECK(py::isinstance<py::array>(obj), "from_numpy: expected a numpy.ndarray, got ",
                    type_name(obj));
  auto src = py::reinterpret_borrow<py::array>(obj);
  const DType dt = dtype_from_py(src.dtype(), "from_numpy");
  py::array host = py::array::ensure(
      src.attr("astype")(dtype_to_py(dt), "C", "unsafe", true, false), py::array::c_style);
  FASTNN_CHECK(host, "from_numpy: cannot make a contiguous copy of the input");
  return host;
}

static DeviceArray from_numpy(const py::handle& obj, int device) {
  py::array host = host_staging(obj);
  const DType dt = dtype_from_py(host.dtype(), "from_numpy");
  const int dev = resolve_device(device);
  DeviceGuard guard(dev);
  DeviceArray out = empty(shape_of(host), dt, dev);
  const void* src_data = host.data();  // read with the GIL held
  {
    py::gil_scoped_release release;
    copy_host_to_device(out.data(), src_data, out.nbytes());
  }
  return out;
}

static py::array to_numpy(const DeviceArray& a) {
  std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end());
  py::array out(dtype_to_py(a.dtype), shape);
  DeviceGuard guard(a.device());
  void* dst_data = out.mutable_data();  // read with the GIL held
  {
    py::gil_scoped_release release;
    copy_device_to_host(dst_data, a.data(), a.nbytes());
  }
  return out;
}

// Copies src (a DeviceArray of the same shape, or a numpy array) into dst, casting the dtype.
static void copy_into(DeviceArray& dst, const py::handle& src_obj) {
  const char* fn = "DeviceArray.copy_";
  check_writeable(dst, fn, "self");
  DeviceGuard guard(dst.device());
  if (py::isinstance<py::array>(src_obj)) {
    auto src = py::reinterpret_borrow<py::array>(src_obj);
    FASTNN_CHECK(shape_of(src) == dst.shape, fn, ": source shape ", shape_str(shape_of(src)),
                 " does not match ", shape_str(dst.shape));
    py::array host = py::array::ensure(
        src.attr("astype")(dtype_to_py(dst.dtype), "C", "unsafe", true, false), py::array::c_style);
    const void* src_data = host.data();  // read with the GIL held
    py::gil_scoped_release release;
    copy_host_to_device(dst.data(), src_data, dst.nbytes());
    return;
  }
  DeviceArray& src = as_device_array(src_obj, fn, "src");
  FASTNN_CHECK(src.shape == dst.shape, fn, ": source shape ", shape_str(src.shape),
               " does not match ", shape_str(dst.shape));
  FASTNN_CHECK(src.device() == dst.device(), fn, ": source is on cuda:", src.device(),
               " but self is on cuda:", dst.device(), " (copy through the host)");
  if (src.dtype == dst.dtype && src.data() == dst.data()) return;  // the same elements
  if (overlaps(dst, src)) {
    // A memcpy (or the cast kernel) between overlapping ranges is undefined: stage the source.
    DeviceArray staged = empty(dst.shape, dst.dtype, dst.device());
    if (src.dtype == dst.dtype)
      copy_device_to_device(staged.data(), src.data(), src.nbytes());
    else
      cast_cuda(dst.dtype, src.dtype, staged.data(), src.data(), src.numel());
    copy_device_to_device(dst.data(), staged.data(), dst.nbytes());
  } else if (src.dtype == dst.dtype) {
    copy_device_to_device(dst.data(), src.data(), dst.nbytes());
  } else {
    cast_cuda(dst.dtype, src.dtype, dst.data(), src.data(), dst.numel());
  }
}

static DeviceArray reshape(const DeviceArray& a, const py::args& args) {
  const char* fn = "DeviceArray.reshape";
  std::vector<int64_t> shape;
  if (args.size() == 1 && !py::isinstance<py::int_>(args[0]))
    shape = shape_from_py(args[0], fn);
  else
    shape = shape_from_py(args, fn);
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      FASTNN_CHECK(infer < 0, fn, ": only one dimension can be -1, got ", shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      FASTNN_CHECK(shape[i] >= 0, fn, ": invalid shape ", shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    FASTNN_CHECK(known != 0 && a.numel() % known == 0, fn, ": cannot reshape ", describe(a), " to ",
                 shape_str(shape));
    shape[infer] = a.numel() / known;
    known *= shape[infer];
  }
  FASTNN_CHECK(known == a.numel(), fn, ": cannot reshape ", describe(a), " to ", shape_str(shape));
  FASTNN_CHECK(shape.size() <= static_cast<size_t>(kMaxDims), fn, ": at most ", kMaxDims,
               " dimensions are supported");
  DeviceArray v = a;  // a view: shares the storage
  v.shape = shape;
  return v;
}

// A contiguous view of rows [start, stop) along the first dimension.
static DeviceArray slice0(const DeviceArray& a, int64_t start, int64_t stop) {
  FASTNN_CHECK(a.ndim() >= 1, "DeviceArray.narrow: cannot slice a 0-d array");
  const int64_t n = a.shape[0];
  FASTNN_CHECK(0 <= start && start <= stop && stop <= n, "DeviceArray.narrow: rows [", start, ", ",
               stop, ") out of range for ", describe(a));
  DeviceArray v = a;
  v.shape[0] = stop - start;
  const int64_t row = n == 0 ? 0 : a.nbytes() / n;
  v.offset += start * row;
  return v;
}

// ---- __cuda_array_interface__ ---------------------------------------------------------------

static py::dict cuda_array_interface(const DeviceArray& a) {
  py::dict d;
  py::tuple shape(a.shape.size());
  for (size_t i = 0; i < a.shape.size(); ++i) shape[i] = py::int_(a.shape[i]);
  d["shape"] = shape;
  d["typestr"] = typestr(a.dtype);
  const uintptr_t ptr = a.numel() == 0 ? 0 : reinterpret_cast<uintptr_t>(a.data());
  d["data"] = py::make_tuple(ptr, a.readonly);
  d["strides"] = py::none();
  d["version"] = 3;
  // Pending writes are on fastnn's current stream; the consumer's streams are unknown, so the
  // block waits for a device-wide synchronization before its reuse ([note: stream]).
  DeviceGuard guard(a.device());
  d["stream"] = py::int_(current_protocol_stream());
  if (a.storage->owned) mark_exported(a.storage->ptr);
  return d;
}

// Wraps an object exposing __cuda_array_interface__ (CuPy, Numba, torch) without a copy; the
// DeviceArray keeps `obj` alive. Only C-contiguous data of the six dtypes is accepted.
static DeviceArray from_cuda_array_interface(const py::object& obj) {
  const char* fn = "from_cuda_array_interface";
  FASTNN_TYPE_CHECK(py::hasattr(obj, "__cuda_array_interface__"), fn, ": ", type_name(obj),
                    " has no __cuda_array_interface__");
  py::dict cai = obj.attr("__cuda_array_interface__");
  std::vector<int64_t> shape = shape_from_py(cai["shape"], fn);
  const DType dt = dtype_from_py(cai["typestr"], fn);
  // Device data is used as is, so it must already be in the native byte order.
  const std::string order = py::str(py::dtype::from_args(cai["typestr"]).attr("byteorder"));
  FASTNN_CHECK(order == "=" || order == "|", fn, ": typestr ",
               py::str(cai["typestr"]).cast<std::string>(),
               " is not in the native byte order; byte-swap the array first");
  py::tuple data = cai["data"];
  const auto ptr = data[0].cast<uintptr_t>();
  const bool readonly = data[1].cast<bool>();
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  if (cai.contains("strides") && !cai["strides"].is_none() && n > 0) {
    std::vector<int64_t> strides = shape_from_py(cai["strides"], fn);
    int64_t expect = dtype_size(dt);
    for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
      FASTNN_CHECK(shape[i] == 1 || strides[i] == expect, fn,
                   ": only C-contiguous arrays can be wrapped, got shape ", shape_str(shape),
                   " with strides ", shape_str(strides), " (make it contiguous first)");
      expect *= shape[i];
    }
  }
  FASTNN_CHECK(shape.size() <= static_cast<size_t>(kMaxDims), fn, ": at most ", kMaxDims,
               " dimensions are supported");
  int device = current_device();
  if (n > 0) {
    device = pointer_device(reinterpret_cast<void*>(ptr));
    FASTNN_CHECK(device >= 0, fn, ": the data pointer is not CUDA device memory");
  }
  if (cai.contains("stream") && !cai["stream"].is_none()) {
    const auto s = cai["stream"].cast<uintptr_t>();
    FASTNN_CHECK(s != 0, fn, ": stream 0 is disallowed by the protocol");
    DeviceGuard guard(device);
    current_stream_waits_for(s);
  }
  DeviceArray a;
  a.storage = std::make_shared<Storage>();
  a.storage->ptr = reinterpret_cast<void*>(ptr);
  a.storage->device = device;
  a.storage->bytes = n * dtype_size(dt);
  auto keep = std::make_shared<py::object>(obj);
  a.storage->release = [keep]() mutable {
    py::gil_scoped_acquire gil;
    keep.reset();
  };
  a.shape = shape;
  a.dtype = dt;
  a.readonly = readonly;
  return a;
}

// ---- registration ---------------------------------------------------------------------------

static py::dict stats_dict(int device) {
  const MemoryStats s = memory_stats(device);
  py::dict d;
  d["allocated_bytes"] = s.allocated;
  d["reserved_bytes"] = s.reserved;
  d["peak_allocated_bytes"] = s.peak_allocated;
  d["requested_bytes"] = s.requested;
  d["num_allocs"] = s.num_allocs;
  d["num_frees"] = s.num_frees;
  d["cache_hits"] = s.cache_hits;
  d["cuda_mallocs"] = s.cuda_mallocs;
  d["cuda_frees"] = s.cuda_frees;
  d["num_ooms"] = s.num_ooms;
  return d;
}

void register_array(py::module_& m) {
  // device_malloc's OutOfMemory -> fastnn.cuda.OutOfMemoryError (a RuntimeError subclass defined
  // in Python, so it exists before this module is loaded).
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const OutOfMemory& e) {
      py::object cls = py::module_::import("fastnn.cuda").attr("OutOfMemoryError");
      PyErr_SetString(cls.ptr(), e.what());
    }
  });
  py::class_<DeviceArray>(m, "DeviceArray",
                          "A contiguous array in CUDA device memory (float32, float64, int64, "
                          "int32, uint8, bool). Create with empty/zeros/from_numpy; copy back with "
                          ".numpy(). Exposes __cuda_array_interface__ and __dlpack__.")
      .def_property_readonly("shape",
                             [](const DeviceArray& a) {
                               py::tuple t(a.shape.size());
                               for (size_t i = 0; i < a.shape.size(); ++i)
                                 t[i] = py::int_(a.shape[i]);
                               return t;
                             })
      .def_property_readonly("dtype", [](const DeviceArray& a) { return dtype_to_py(a.dtype); })
      .def_property_readonly("device", &DeviceArray::device, "The CUDA device index.")
      .def_property_readonly("ndim", &DeviceArray::ndim)
      .def_property_readonly("size", &DeviceArray::numel)
      .def_property_readonly("nbytes", &DeviceArray::nbytes)
      .def_property_readonly("itemsize", [](const DeviceArray& a) { return dtype_size(a.dtype); })
      .def_property_readonly("readonly", [](const DeviceArray& a) { return a.readonly; })
      .def_property_readonly(
          "data_ptr", [](const DeviceArray& a) { return reinterpret_cast<uintptr_t>(a.data()); })
      .def_property_readonly("__cuda_array_interface__", &cuda_array_interface)
      .def("__len__",
           [](const DeviceArray& a) {
             if (a.shape.empty()) throw py::type_error("len() of a 0-d DeviceArray");
             return a.shape[0];
           })
      .def("__repr__",
           [](const DeviceArray& a) {
             return str_cat("DeviceArray(shape=", shape_str(a.shape),
                            ", dtype=", dtype_name(a.dtype), ", device='cuda:", a.device(), "')");
           })
      .def("numpy", &to_numpy, "A numpy copy of the data (synchronizes with the device).")
      .def("reshape", &reshape, "A view with a new shape (one dimension may be -1).")
      .def("narrow0", &slice0, py::arg("start"), py::arg("stop"),
           "A view of rows [start, stop) along the first dimension.")
      .def(
          "copy_",
          [](DeviceArray& self, const py::object& src) -> DeviceArray& {
            copy_into(self, src);
            return self;
          },
          py::arg("src"), py::return_value_policy::reference_internal,
          "Copy a DeviceArray or numpy array of the same shape into self (casting the dtype).")
      .def(
          "fill_",
          [](DeviceArray& self, const py::object& value) -> DeviceArray& {
            check_writeable(self, "DeviceArray.fill_", "self");
            const double v = value.cast<double>();
            const int64_t vi = is_float(self.dtype)              ? 0
                               : py::isinstance<py::int_>(value) ? value.cast<int64_t>()
                                                                 : static_cast<int64_t>(v);
            DeviceGuard guard(self.device());
            fill_cuda(self.dtype, self.data(), v, vi, self.numel());
            return self;
          },
          py::arg("value"), py::return_value_policy::reference_internal)
      .def(
          "clone",
          [](const DeviceArray& a) {
            DeviceGuard guard(a.device());
            DeviceArray b = empty_like(a);
            copy_device_to_device(b.data(), a.data(), a.nbytes());
            return b;
          },
          "A copy in new device memory.")
      .def(
          "astype",
          [](const DeviceArray& a, const py::object& dtype) {
            const DType dt = dtype_from_py(dtype, "DeviceArray.astype");
            DeviceGuard guard(a.device());
            DeviceArray b = empty(a.shape, dt, a.device());
            if (dt == a.dtype)
              copy_device_to_device(b.data(), a.data(), a.nbytes());
            else
              cast_cuda(dt, a.dtype, b.data(), a.data(), a.numel());
            return b;
          },
          py::arg("dtype"), "A copy converted to another dtype.")
      .def("_shares_memory",
           [](const DeviceArray& a, const DeviceArray& b) { return overlaps(a, b); })
      // No other DeviceArray (view, DLPack export) shares this allocator block and the array
      // spans all of it: the autograd engine may then adopt it as a .grad without a copy.
      .def_property_readonly("_sole_owner", [](const DeviceArray& a) {
        return a.storage && a.storage.use_count() == 1 && a.storage->owned && a.offset == 0 &&
               !a.readonly && a.nbytes() == a.storage->bytes;
      });

  m.def(
      "empty",
      [](const py::object& shape, const py::object& dtype, int device) {
        auto s = shape_from_py(shape, "empty");
        const DType dt = dtype_from_py(dtype, "empty");
        checked_nbytes(s, dt);  // a bad shape is a ValueError with or without a GPU
        const int dev = resolve_device(device);
        return empty(s, dt, dev);
      },
      py::arg("shape"), py::arg("dtype") = "float32", py::arg("device") = -1,
      "Uninitialised device memory (device -1: the current device).");
  m.def("from_numpy", &from_numpy, py::arg("array"), py::arg("device") = -1,
        "Copy a numpy array to the device (synchronous).");
  m.def("_host_staging", &host_staging, py::arg("array"),
        "The C-contiguous, native-byte-order array from_numpy uploads (for tests).");
  m.def(
      "_checked_nbytes",
      [](const py::object& shape, const py::object& dtype) {
        return checked_nbytes(shape_from_py(shape, "empty"), dtype_from_py(dtype, "empty"));
      },
      py::arg("shape"), py::arg("dtype"), "The byte size empty() allocates (for tests).");
  m.def("to_numpy", &to_numpy, py::arg("array"), "Copy a DeviceArray to a new numpy array.");
  m.def("from_cuda_array_interface", &from_cuda_array_interface, py::arg("obj"),
        "Wrap an object with __cuda_array_interface__ without copying (keeps it alive).");

  m.def("device_count", &device_count, "Visible CUDA devices (0 without a driver or GPU).");
  m.def(
      "probe_error",
      []() {
        device_count();  // probes afresh: no earlier device_count() call is needed
        return std::string(runtime_error_string());
      },
      "Why device_count() is 0: the CUDA runtime's error ('' when it is not).");
  m.def("runtime_version", &runtime_version);
  m.def("driver_version", &driver_version, "0 without a CUDA driver.");
  m.def("current_device", []() { return current_device(); });
  m.def("set_device", [](int device) { set_device(resolve_device(device)); }, py::arg("device"));
  m.def(
      "device_name",
      [](int device) {
        char buf[256];
        device_name(resolve_device(device), buf, sizeof buf);
        return std::string(buf);
      },
      py::arg("device") = -1);
  m.def(
      "synchronize",
      [](int device) {
        const int dev = resolve_device(device);
        py::gil_scoped_release release;
        synchronize(dev);
      },
      py::arg("device") = -1, "Wait for all work queued on the device.");
  m.def("empty_cache", []() { empty_cache(); }, "Free the allocator's cached blocks.");
  m.def("memory_stats", &stats_dict, py::arg("device") = 0);
  m.def("reset_peak_memory_stats", &reset_peak_memory_stats, py::arg("device") = 0);
  m.def("size_class", &size_class, py::arg("nbytes"),
        "The rounded block size the allocator uses for a request of nbytes.");
}

}  // namespace fastnn::cuda::bind
