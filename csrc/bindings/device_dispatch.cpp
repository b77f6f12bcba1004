// fastnn._C.DeviceDispatch: what fastnn.kernels exports, in a CUDA build, for a kernel with a CUDA
// twin. A call whose arguments all have host classes (numpy arrays, numbers, strings, None: the
// `host_types` given) goes straight to the CPU kernel; any other argument sends the whole call to
// `device`, a Python function that picks the CUDA kernel when an argument is a CUDA array.
//
// Why not a Python wrapper: its frame and the repacking of *args / **kwargs cost 0.6-1 us per call,
// as much as a small matmul. Here the CPU path is one class comparison per argument and a
// vectorcall that hands the caller's argument array and keyword names on untouched.
//
// The object is a descriptor returning itself (so inspect and pydoc treat it as a routine, like a
// builtin function) with an instance __dict__ for the __name__, __doc__ and __wrapped__ that
// functools.update_wrapper copies from the CPU kernel; it pickles by its qualified name.
#include <Python.h>
#include <pybind11/pybind11.h>
#include <structmember.h>

#include <cstddef>

namespace py = pybind11;

namespace fastnn::bind {
namespace {

#ifdef Py_TPFLAGS_HAVE_VECTORCALL
constexpr unsigned long kVectorcallFlag = Py_TPFLAGS_HAVE_VECTORCALL;
#else
constexpr unsigned long kVectorcallFlag = _Py_TPFLAGS_HAVE_VECTORCALL;  // Python < 3.12
#endif

constexpr Py_ssize_t kMaxHostTypes = 8;

struct DeviceDispatch {
  PyObject ob_base;  // PyObject_HEAD
  vectorcallfunc vectorcall;
  PyObject* cpu;
  PyObject* device;
  PyObject* dict;
  Py_ssize_t n_host;
  PyObject* host[kMaxHostTypes];  // the host classes (strong references)
};

PyObject* dispatch_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* d = reinterpret_cast<DeviceDispatch*>(self);
  const Py_ssize_t n = PyVectorcall_NARGS(nargsf) + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* cls = reinterpret_cast<PyObject*>(Py_TYPE(args[i]));
    Py_ssize_t j = 0;
    while (j < d->n_host && d->host[j] != cls) ++j;
    if (j == d->n_host) return PyObject_Vectorcall(d->device, args, nargsf, kwnames);
  }
  return PyObject_Vectorcall(d->cpu, args, nargsf, kwnames);
}

int dispatch_clear(PyObject* self) {
  auto* d = reinterpret_cast<DeviceDispatch*>(self);
  Py_CLEAR(d->cpu);
  Py_CLEAR(d->device);
  Py_CLEAR(d->dict);
  for (Py_ssize_t j = 0; j < d->n_host; ++j) Py_CLEAR(d->host[j]);
  d->n_host = 0;
  return 0;
}

int dispatch_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* d = reinterpret_cast<DeviceDispatch*>(self);
  Py_VISIT(Py_TYPE(self));  // heap types are referenced by their instances
  Py_VISIT(d->cpu);
  Py_VISIT(d->device);
  Py_VISIT(d->dict);
  for (Py_ssize_t j = 0; j < d->n_host; ++j) Py_VISIT(d->host[j]);
  return 0;
}

void dispatch_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  dispatch_clear(self);
  type->tp_free(self);
  Py_DECREF(type);
}

PyObject* dispatch_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"cpu", "device", "host_types", nullptr};
  PyObject *cpu, *device, *host;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO!:DeviceDispatch", const_cast<char**>(names),
                                   &cpu, &device, &PyTuple_Type, &host))
    return nullptr;
  if (!PyCallable_Check(cpu) || !PyCallable_Check(device)) {
    PyErr_SetString(PyExc_TypeError, "DeviceDispatch: 'cpu' and 'device' must be callable");
    return nullptr;
  }
  const Py_ssize_t n = PyTuple_GET_SIZE(host);
  if (n > kMaxHostTypes) {
    PyErr_Format(PyExc_ValueError, "DeviceDispatch: at most %zd host types, got %zd", kMaxHostTypes,
                 n);
    return nullptr;
  }
  for (Py_ssize_t j = 0; j < n; ++j) {
    if (!PyType_Check(PyTuple_GET_ITEM(host, j))) {
      PyErr_Format(PyExc_TypeError, "DeviceDispatch: 'host_types' must hold classes, got %R",
                   PyTuple_GET_ITEM(host, j));
      return nullptr;
    }
  }
  auto* d = reinterpret_cast<DeviceDispatch*>(type->tp_alloc(type, 0));
  if (!d) return nullptr;
  d->vectorcall = dispatch_call;
  Py_INCREF(cpu), Py_INCREF(device);
  d->cpu = cpu, d->device = device;
  for (Py_ssize_t j = 0; j < n; ++j) {
    d->host[j] = PyTuple_GET_ITEM(host, j);
    Py_INCREF(d->host[j]);
  }
  d->n_host = n;
  return reinterpret_cast<PyObject*>(d);
}

// Attribute access through a class (or an instance) gives the object itself, as for builtins.
PyObject* dispatch_get(PyObject* self, PyObject*, PyObject*) {
  Py_INCREF(self);
  return self;
}

// pickle stores a global reference (module + qualified name), as for functions.
PyObject* dispatch_reduce(PyObject* self, PyObject*) {
  return PyObject_GetAttrString(self, "__qualname__");
}

PyMethodDef dispatch_methods[] = {
    {"__reduce__", dispatch_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyMemberDef dispatch_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(DeviceDispatch, vectorcall), READONLY, nullptr},
    {"__dictoffset__", T_PYSSIZET, offsetof(DeviceDispatch, dict), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyGetSetDef dispatch_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot dispatch_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(dispatch_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(dispatch_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(dispatch_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(dispatch_clear)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_descr_get, reinterpret_cast<void*>(dispatch_get)},
    {Py_tp_methods, dispatch_methods},
    {Py_tp_members, dispatch_members},
    {Py_tp_getset, dispatch_getset},
    {Py_tp_doc,
     const_cast<char*>("DeviceDispatch(cpu, device, host_types): calls cpu(*args, **kwargs) when "
                       "every argument's class is in host_types, else device(*args, **kwargs).")},
    {0, nullptr},
};

PyType_Spec dispatch_spec = {
    "fastnn._C.DeviceDispatch",
    sizeof(DeviceDispatch),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | kVectorcallFlag,
    dispatch_slots,
};

}  // namespace

void register_device_dispatch(py::module_& m) {
  PyObject* type = PyType_FromSpec(&dispatch_spec);
  if (!type) throw py::error_already_set();
  m.add_object("DeviceDispatch", py::reinterpret_steal<py::object>(type));
}

}  // namespace fastnn::bind
