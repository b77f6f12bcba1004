// Callables that pick one of two functions per call, in C:
// - fastnn._C.DeviceDispatch: what fastnn.kernels exports, in a CUDA build, for a kernel with a
//   CUDA twin. A call whose arguments all have host classes (numpy arrays, numbers, strings, None:
//   the `host_types` given) goes straight to the CPU kernel; any other argument sends the whole
//   call to `device`, a Python function that picks the CUDA kernel when an argument is a CUDA
//   array.
// - fastnn._C.SizeDispatch: the CPU backend's element-wise ops. A call whose first or second
//   positional argument is a numpy array of at least `min_size` elements goes to `large` (the
//   threaded kernels' Python route, which checks the rest); any other to `small` (numpy's ufunc).
//
// Why not a Python wrapper: its frame and the repacking of *args / **kwargs cost 0.6-1 us per call,
// as much as a small matmul (and 5 % of a recorded 4x4 add, where the size test alone is wanted).
// Here the fast path is a class comparison or two and a vectorcall that hands the caller's
// argument array and keyword names on untouched.
//
// The objects are descriptors returning themselves (so inspect and pydoc treat them as routines,
// like builtin functions) with an instance __dict__ for the __name__, __doc__ and __wrapped__ that
// functools.update_wrapper copies from the function they stand for; they pickle by their qualified
// name.
#include <Python.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <structmember.h>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace py = pybind11;

namespace fastnn::bind {
namespace {

#ifdef Py_TPFLAGS_HAVE_VECTORCALL
constexpr unsigned long kVectorcallFlag = Py_TPFLAGS_HAVE_VECTORCALL;
#else
constexpr unsigned long kVectorcallFlag = _Py_TPFLAGS_HAVE_VECTORCALL;  // Python < 3.12
#endif

constexpr Py_ssize_t kMaxHostTypes = 8;

// Both types: `first` and `second` are the two callables (DeviceDispatch: cpu and device;
// SizeDispatch: small and large), `refs` the classes a call is tested against (strong references).
struct Dispatch {
  PyObject ob_base;  // PyObject_HEAD
  vectorcallfunc vectorcall;
  PyObject* first;
  PyObject* second;
  PyObject* dict;
  Py_ssize_t n_refs;
  PyObject* refs[kMaxHostTypes];
  Py_ssize_t min_size;  // SizeDispatch only
};

// DeviceDispatch: cpu when every argument's class is a host class (refs), else device.
PyObject* device_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* d = reinterpret_cast<Dispatch*>(self);
  const Py_ssize_t n = PyVectorcall_NARGS(nargsf) + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* cls = reinterpret_cast<PyObject*>(Py_TYPE(args[i]));
    Py_ssize_t j = 0;
    while (j < d->n_refs && d->refs[j] != cls) ++j;
    if (j == d->n_refs) return PyObject_Vectorcall(d->second, args, nargsf, kwnames);
  }
  return PyObject_Vectorcall(d->first, args, nargsf, kwnames);
}

// SizeDispatch: large when the first or second positional argument is an array (of the class
// refs[0], numpy.ndarray) with at least min_size elements, else small.
PyObject* size_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* d = reinterpret_cast<Dispatch*>(self);
  const Py_ssize_t n = std::min<Py_ssize_t>(PyVectorcall_NARGS(nargsf), 2);
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (reinterpret_cast<PyObject*>(Py_TYPE(args[i])) != d->refs[0]) continue;
    const auto* a = py::detail::array_proxy(args[i]);
    Py_ssize_t size = 1;
    for (int k = 0; k < a->nd; ++k) size *= a->dimensions[k];
    if (size >= d->min_size) return PyObject_Vectorcall(d->second, args, nargsf, kwnames);
  }
  return PyObject_Vectorcall(d->first, args, nargsf, kwnames);
}

int dispatch_clear(PyObject* self) {
  auto* d = reinterpret_cast<Dispatch*>(self);
  Py_CLEAR(d->first);
  Py_CLEAR(d->second);
  Py_CLEAR(d->dict);
  for (Py_ssize_t j = 0; j < d->n_refs; ++j) Py_CLEAR(d->refs[j]);
  d->n_refs = 0;
  return 0;
}

int dispatch_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* d = reinterpret_cast<Dispatch*>(self);
  Py_VISIT(Py_TYPE(self));  // heap types are referenced by their instances
  Py_VISIT(d->first);
  Py_VISIT(d->second);
  Py_VISIT(d->dict);
  for (Py_ssize_t j = 0; j < d->n_refs; ++j) Py_VISIT(d->refs[j]);
  return 0;
}

void dispatch_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  dispatch_clear(self);
  type->tp_free(self);
  Py_DECREF(type);
}

// A new Dispatch of `type` calling `call`, with its two callables and reference classes checked.
PyObject* new_dispatch(PyTypeObject* type, vectorcallfunc call, const char* name, PyObject* first,
                       PyObject* second, PyObject* refs, Py_ssize_t min_size) {
  if (!PyCallable_Check(first) || !PyCallable_Check(second)) {
    PyErr_Format(PyExc_TypeError, "%s: the two functions must be callable", name);
    return nullptr;
  }
  const Py_ssize_t n = PyTuple_GET_SIZE(refs);
  if (n > kMaxHostTypes) {
    PyErr_Format(PyExc_ValueError, "%s: at most %zd classes, got %zd", name, kMaxHostTypes, n);
    return nullptr;
  }
  for (Py_ssize_t j = 0; j < n; ++j) {
    if (!PyType_Check(PyTuple_GET_ITEM(refs, j))) {
      PyErr_Format(PyExc_TypeError, "%s: expected classes, got %R", name,
                   PyTuple_GET_ITEM(refs, j));
      return nullptr;
    }
  }
  auto* d = reinterpret_cast<Dispatch*>(type->tp_alloc(type, 0));
  if (!d) return nullptr;
  d->vectorcall = call;
  Py_INCREF(first), Py_INCREF(second);
  d->first = first, d->second = second;
  for (Py_ssize_t j = 0; j < n; ++j) {
    d->refs[j] = PyTuple_GET_ITEM(refs, j);
    Py_INCREF(d->refs[j]);
  }
  d->n_refs = n;
  d->min_size = min_size;
  return reinterpret_cast<PyObject*>(d);
}

PyObject* device_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"cpu", "device", "host_types", nullptr};
  PyObject *cpu, *device, *host;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO!:DeviceDispatch", const_cast<char**>(names),
                                   &cpu, &device, &PyTuple_Type, &host))
    return nullptr;
  return new_dispatch(type, device_call, "DeviceDispatch", cpu, device, host, 0);
}

PyObject* size_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"small", "large", "min_size", nullptr};
  PyObject *small, *large;
  Py_ssize_t min_size;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOn:SizeDispatch", const_cast<char**>(names),
                                   &small, &large, &min_size))
    return nullptr;
  py::object ndarray;
  try {
    ndarray = py::module_::import("numpy").attr("ndarray");
  } catch (py::error_already_set& e) {
    e.restore();
    return nullptr;
  }
  py::tuple refs = py::make_tuple(ndarray);
  return new_dispatch(type, size_call, "SizeDispatch", small, large, refs.ptr(), min_size);
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
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(Dispatch, vectorcall), READONLY, nullptr},
    {"__dictoffset__", T_PYSSIZET, offsetof(Dispatch, dict), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyGetSetDef dispatch_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

constexpr char kDeviceDoc[] =
    "DeviceDispatch(cpu, device, host_types): calls cpu(*args, **kwargs) when every argument's "
    "class is in host_types, else device(*args, **kwargs).";
constexpr char kSizeDoc[] =
    "SizeDispatch(small, large, min_size): calls large(*args, **kwargs) when the first or second "
    "positional argument is a numpy.ndarray of at least min_size elements, else "
    "small(*args, **kwargs).";

// The slots of a dispatch type: its constructor and docstring, the rest shared.
template <newfunc New, const char* Doc>
PyType_Slot dispatch_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(New)},
    {Py_tp_dealloc, reinterpret_cast<void*>(dispatch_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(dispatch_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(dispatch_clear)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_descr_get, reinterpret_cast<void*>(dispatch_get)},
    {Py_tp_methods, dispatch_methods},
    {Py_tp_members, dispatch_members},
    {Py_tp_getset, dispatch_getset},
    {Py_tp_doc, const_cast<char*>(Doc)},
    {0, nullptr},
};

constexpr unsigned int kDispatchFlags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | kVectorcallFlag;
PyType_Spec device_spec = {"fastnn._C.DeviceDispatch", sizeof(Dispatch), 0, kDispatchFlags,
                           dispatch_slots<device_new, kDeviceDoc>};
PyType_Spec size_spec = {"fastnn._C.SizeDispatch", sizeof(Dispatch), 0, kDispatchFlags,
                         dispatch_slots<size_new, kSizeDoc>};

}  // namespace

void register_dispatch(py::module_& m) {
  for (auto [name, spec] :
       {std::pair{"DeviceDispatch", &device_spec}, {"SizeDispatch", &size_spec}}) {
    PyObject* type = PyType_FromSpec(spec);
    if (!type) throw py::error_already_set();
    m.add_object(name, py::reinterpret_steal<py::object>(type));
  }
}

}  // namespace fastnn::bind
