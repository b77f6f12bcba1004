// DLPack exchange (producer and consumer) for fastnn._cuda, per the Python array API standard:
// DeviceArray.__dlpack__ / __dlpack_device__ export without a copy; from_dlpack_capsule imports
// a capsule from torch / CuPy / JAX / numpy without a copy (a DeviceArray for CUDA memory, a
// numpy array for host memory), keeping the producer alive until the importer is gone.
#include <Python.h>

#include "bindings/cuda_array.h"
#include "bindings/dlpack.h"

namespace fastnn::cuda::bind {
namespace {

constexpr const char* kLegacy = "dltensor";
constexpr const char* kLegacyUsed = "used_dltensor";
constexpr const char* kVersioned = "dltensor_versioned";
constexpr const char* kVersionedUsed = "used_dltensor_versioned";

// ---- producer -------------------------------------------------------------------------------

// Owns everything a DLManagedTensor[Versioned] points to; `keep` holds the memory alive.
template <class MT>
struct Export {
  MT managed{};
  std::vector<int64_t> shape, strides;
  std::shared_ptr<void> keep;
  static void deleter(MT* self) { delete static_cast<Export*>(self->manager_ctx); }
};

DLDataType dl_dtype(DType dt) {
  switch (dt) {
    case DType::f32:
      return {kDLFloat, 32, 1};
    case DType::f64:
      return {kDLFloat, 64, 1};
    case DType::i64:
      return {kDLInt, 64, 1};
    case DType::i32:
      return {kDLInt, 32, 1};
    case DType::u8:
      return {kDLUInt, 8, 1};
    default:
      return {kDLBool, 8, 1};
  }
}

template <class MT>
void capsule_destructor(PyObject* capsule) {
  constexpr bool versioned = std::is_same_v<MT, DLManagedTensorVersioned>;
  if (PyCapsule_IsValid(capsule, versioned ? kVersionedUsed : kLegacyUsed)) return;  // consumed
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);  // a destructor must not clobber a pending exception
  auto* mt = static_cast<MT*>(PyCapsule_GetPointer(capsule, versioned ? kVersioned : kLegacy));
  if (mt != nullptr) {
    if (mt->deleter) mt->deleter(mt);
  } else {
    PyErr_Clear();
  }
  PyErr_Restore(type, value, tb);
}

template <class MT>
py::object make_capsule(void* data, DLDevice device, const std::vector<int64_t>& shape, DType dt,
                        std::shared_ptr<void> keep, bool readonly) {
  auto* ex = new Export<MT>();
  ex->shape = shape;
  ex->strides.resize(shape.size());
  int64_t s = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    ex->strides[i] = s;
    s *= shape[i];
  }
  ex->keep = std::move(keep);
  MT& mt = ex->managed;
  mt.manager_ctx = ex;
  mt.deleter = &Export<MT>::deleter;
  DLTensor& t = mt.dl_tensor;
  t.data = data;
  t.device = device;
  t.ndim = static_cast<int32_t>(shape.size());
  t.dtype = dl_dtype(dt);
  t.shape = ex->shape.data();
  t.strides = ex->strides.data();
  t.byte_offset = 0;
  const char* name = kLegacy;
  if constexpr (std::is_same_v<MT, DLManagedTensorVersioned>) {
    mt.version = {kDLPackMajor, kDLPackMinor};
    mt.flags = readonly ? DLPACK_FLAG_BITMASK_READ_ONLY : 0;
    name = kVersioned;
  }
  PyObject* cap = PyCapsule_New(&mt, name, &capsule_destructor<MT>);
  if (cap == nullptr) {
    delete ex;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(cap);
}

// Parses the keyword max_version=(major, minor) | None: true when a versioned capsule is wanted.
bool wants_versioned(const py::object& max_version) {
  if (max_version.is_none()) return false;
  py::tuple v = max_version.cast<py::tuple>();
  FASTNN_CHECK(v.size() >= 1, "__dlpack__: max_version must be a (major, minor) tuple");
  return v[0].cast<int64_t>() >= 1;
}

py::object export_device(const DeviceArray& a, const py::object& stream,
                         const py::object& max_version, const py::object& dl_device,
                         const py::object& copy) {
  if (!dl_device.is_none()) {
    py::tuple d = dl_device.cast<py::tuple>();
    const int type = d[0].cast<int>(), id = d[1].cast<int>();
    if (type != kDLCUDA || id != a.device()) {
      PyErr_SetString(PyExc_BufferError,
                      "DeviceArray.__dlpack__: export to another device is not supported; copy "
                      "with .numpy() first");
      throw py::error_already_set();
    }
  }
  DeviceGuard guard(a.device());
  DeviceArray src = a;
  if (!copy.is_none() && copy.cast<bool>()) {
    src = empty_like(a);
    copy_device_to_device(src.data(), a.data(), a.nbytes());
  }
  // The consumer's stream must see the writes queued on fastnn's current stream; -1 means "no
  // synchronization", None the legacy default stream (the protocol's default).
  const int64_t s = stream.is_none() ? 1 : stream.cast<int64_t>();
  FASTNN_CHECK(s != 0, "DeviceArray.__dlpack__: stream 0 is ambiguous and disallowed for CUDA");
  FASTNN_CHECK(s >= -1, "DeviceArray.__dlpack__: invalid stream ", s);
  if (s != -1) stream_waits_for_current(static_cast<std::uintptr_t>(s));
  // The consumer may use the memory on any stream, and fastnn is not told when it stops: the
  // block's reuse waits for a device-wide synchronization ([note: stream] in common.cuh).
  if (src.storage->owned) mark_exported(src.storage->ptr);
  DLDevice dev{kDLCUDA, src.device()};
  std::shared_ptr<void> keep = src.storage;
  void* data = src.numel() == 0 ? nullptr : src.data();
  if (wants_versioned(max_version))
    return make_capsule<DLManagedTensorVersioned>(data, dev, src.shape, src.dtype, keep,
                                                  src.readonly);
  return make_capsule<DLManagedTensor>(data, dev, src.shape, src.dtype, keep, src.readonly);
}

// A CPU capsule over a numpy array (the same producer code as the device path; the tests check
// it against numpy's own consumer, np.from_dlpack, on machines without a GPU).
py::object export_host(const py::array& arr, bool versioned) {
  const DType dt = dtype_from_py(arr.dtype(), "export_host_dlpack");
  FASTNN_CHECK((arr.flags() & py::array::c_style) != 0,
               "export_host_dlpack: the array must be C-contiguous");
  std::vector<int64_t> shape(arr.shape(), arr.shape() + arr.ndim());
  auto* ref = new py::object(arr);
  std::shared_ptr<void> keep(ref, [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
  void* data = const_cast<void*>(arr.data());
  const bool readonly = !arr.writeable();
  if (versioned)
    return make_capsule<DLManagedTensorVersioned>(data, {kDLCPU, 0}, shape, dt, keep, readonly);
  return make_capsule<DLManagedTensor>(data, {kDLCPU, 0}, shape, dt, keep, readonly);
}

// ---- consumer -------------------------------------------------------------------------------

struct Imported {
  const DLTensor* t = nullptr;
  bool versioned = false;
  uint32_t major = 0, minor = 0;
  bool readonly = false;
  void* managed = nullptr;
};

Imported inspect(const py::handle& capsule, const char* fn) {
  PyObject* cap = capsule.ptr();
  FASTNN_TYPE_CHECK(PyCapsule_CheckExact(cap), fn, ": expected a DLPack capsule, got ",
                    type_name(capsule));
  Imported im;
  if (PyCapsule_IsValid(cap, kVersioned)) {
    auto* mt = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(cap, kVersioned));
    im.versioned = true;
    im.major = mt->version.major;
    im.minor = mt->version.minor;
    if (im.major > kDLPackMajor) {  // the layout after the version field may differ: do not touch
      PyErr_SetString(PyExc_BufferError,
                      str_cat(fn, ": DLPack version ", im.major, ".", im.minor,
                              " is newer than the supported ", kDLPackMajor, ".", kDLPackMinor)
                          .c_str());
      throw py::error_already_set();
    }
    im.readonly = (mt->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0;
    im.t = &mt->dl_tensor;
    im.managed = mt;
  } else if (PyCapsule_IsValid(cap, kLegacy)) {
    auto* mt = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, kLegacy));
    im.t = &mt->dl_tensor;
    im.managed = mt;
  } else {
    const bool used = PyCapsule_IsValid(cap, kLegacyUsed) || PyCapsule_IsValid(cap, kVersionedUsed);
    FASTNN_CHECK(!used, fn, ": this DLPack capsule was already consumed");
    FASTNN_TYPE_CHECK(false, fn, ": the capsule is not a DLPack tensor");
  }
  return im;
}

DType dtype_from_dl(const DLDataType& d, const char* fn) {
  FASTNN_TYPE_CHECK(d.lanes == 1, fn, ": vector dtypes (lanes ", d.lanes, ") are not supported");
  if (d.code == kDLFloat && d.bits == 32) return DType::f32;
  if (d.code == kDLFloat && d.bits == 64) return DType::f64;
  if (d.code == kDLInt && d.bits == 64) return DType::i64;
  if (d.code == kDLInt && d.bits == 32) return DType::i32;
  if (d.code == kDLUInt && d.bits == 8) return DType::u8;
  if (d.code == kDLBool && d.bits == 8) return DType::b8;
  FASTNN_TYPE_CHECK(false, fn, ": DLPack dtype (code ", int(d.code), ", bits ", int(d.bits),
                    ") is not supported (float32, float64, int64, int32, uint8, bool)");
  return DType::f32;
}

std::vector<int64_t> shape_of(const DLTensor* t) {
  return std::vector<int64_t>(t->shape, t->shape + t->ndim);
}

// Strides in elements (row-major when the producer passed NULL).
std::vector<int64_t> strides_of(const DLTensor* t) {
  std::vector<int64_t> s(t->ndim);
  if (t->strides != nullptr) {
    s.assign(t->strides, t->strides + t->ndim);
  } else {
    int64_t acc = 1;
    for (int i = t->ndim - 1; i >= 0; --i) {
      s[i] = acc;
      acc *= t->shape[i];
    }
  }
  return s;
}

// Marks the capsule consumed and returns a function that calls the producer's deleter.
std::function<void()> consume(const py::handle& capsule, const Imported& im) {
  PyObject* cap = capsule.ptr();
  if (PyCapsule_SetName(cap, im.versioned ? kVersionedUsed : kLegacyUsed) != 0)
    throw py::error_already_set();
  if (im.versioned) {
    auto* mt = static_cast<DLManagedTensorVersioned*>(im.managed);
    return [mt]() {
      py::gil_scoped_acquire gil;  // Python producers (numpy) need the GIL in their deleter
      if (mt->deleter) mt->deleter(mt);
    };
  }
  auto* mt = static_cast<DLManagedTensor*>(im.managed);
  return [mt]() {
    py::gil_scoped_acquire gil;
    if (mt->deleter) mt->deleter(mt);
  };
}

py::tuple to_tuple(const std::vector<int64_t>& v) {
  py::tuple t(v.size());
  for (size_t i = 0; i < v.size(); ++i) t[i] = py::int_(v[i]);
  return t;
}

py::dict info(const py::handle& capsule) {
  Imported im = inspect(capsule, "dlpack_info");
  py::dict d;
  d["versioned"] = im.versioned;
  d["version"] = py::make_tuple(im.major, im.minor);
  d["device"] = py::make_tuple(static_cast<int>(im.t->device.device_type), im.t->device.device_id);
  d["shape"] = to_tuple(shape_of(im.t));
  d["strides"] = im.t->strides ? py::object(to_tuple(strides_of(im.t))) : py::none();
  d["dtype"] = py::make_tuple(int(im.t->dtype.code), int(im.t->dtype.bits), int(im.t->dtype.lanes));
  d["byte_offset"] = im.t->byte_offset;
  d["readonly"] = im.readonly;
  return d;
}

py::object from_capsule(const py::handle& capsule) {
  const char* fn = "from_dlpack";
  Imported im = inspect(capsule, fn);
  const DLTensor* t = im.t;
  const DType dt = dtype_from_dl(t->dtype, fn);
  std::vector<int64_t> shape = shape_of(t), strides = strides_of(t);
  void* data = static_cast<char*>(t->data) + t->byte_offset;
  const int type = t->device.device_type;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;

  if (type == kDLCPU || type == kDLCUDAHost) {  // host memory: a numpy view
    std::vector<py::ssize_t> pshape(shape.begin(), shape.end()), pstrides(strides.size());
    for (size_t i = 0; i < strides.size(); ++i)
      pstrides[i] = static_cast<py::ssize_t>(strides[i] * dtype_size(dt));
    auto release = consume(capsule, im);
    auto* holder = new std::function<void()>(std::move(release));
    py::capsule base(holder, [](void* p) {
      auto* f = static_cast<std::function<void()>*>(p);
      (*f)();
      delete f;
    });
    py::array out(dtype_to_py(dt), pshape, pstrides, data, base);
    if (im.readonly) out.attr("setflags")(py::arg("write") = false);
    return std::move(out);
  }

  FASTNN_CHECK(type == kDLCUDA || type == kDLCUDAManaged, fn, ": DLPack device type ", type,
               " is not supported (CPU or CUDA only)");
  FASTNN_CHECK(shape.size() <= static_cast<size_t>(kMaxDims), fn, ": at most ", kMaxDims,
               " dimensions are supported, got shape ", shape_str(shape));
  if (n > 0) {
    int64_t expect = 1;
    for (int i = t->ndim - 1; i >= 0; --i) {
      FASTNN_CHECK(shape[i] == 1 || strides[i] == expect, fn,
                   ": only C-contiguous tensors can be imported, got shape ", shape_str(shape),
                   " with strides ", shape_str(strides), " (call .contiguous() first)");
      expect *= shape[i];
    }
  }
  DeviceArray a;
  a.storage = std::make_shared<Storage>();
  a.storage->ptr = data;
  a.storage->device = t->device.device_id;
  a.storage->bytes = n * dtype_size(dt);
  a.shape = shape;
  a.dtype = dt;
  a.readonly = im.readonly;
  a.storage->release = consume(capsule, im);
  return py::cast(std::move(a));
}

}  // namespace

void register_dlpack(py::module_& m) {
  auto cls = py::type::of<DeviceArray>();
  cls.attr("__dlpack__") = py::cpp_function(
      &export_device, py::is_method(cls), py::kw_only(), py::arg("stream") = py::none(),
      py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(),
      py::arg("copy") = py::none(),
      "Export as a DLPack capsule (zero-copy unless copy=True); see the array API standard.");
  cls.attr("__dlpack_device__") = py::cpp_function(
      [](const DeviceArray& a) { return py::make_tuple(static_cast<int>(kDLCUDA), a.device()); },
      py::is_method(cls));
  m.def("from_dlpack_capsule", &from_capsule, py::arg("capsule"),
        "Import a DLPack capsule without copying: CUDA memory gives a DeviceArray, host memory a "
        "numpy array. The capsule is consumed; the producer stays alive until the result dies.");
  m.def("dlpack_info", &info, py::arg("capsule"),
        "Describe a DLPack capsule (device, shape, strides, dtype) without consuming it.");
  m.def("export_host_dlpack", &export_host, py::arg("array"), py::arg("versioned") = false,
        "A DLPack capsule over a C-contiguous numpy array (exercises the producer on the host).");
}

}  // namespace fastnn::cuda::bind
