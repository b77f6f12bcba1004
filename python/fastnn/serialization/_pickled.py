"""Whole objects (modules, optimizers, any picklable object holding tensors) for ``fastnn.save``
and ``fastnn.load(weights_only=False)``.

The file is a zip of three kinds of entries, all stored uncompressed:

- ``objects.json``: ``{"format": "fastnn-objects", "version": 1, "storages": [nbytes...],
  "tensors": [{"storage", "offset", "shape", "strides", "dtype", "requires_grad",
  "device"}...]}``; offsets and strides are in bytes;
- ``data.pkl``: the object pickled with every tensor replaced by a persistent id
  ``("tensor", index, class, state)`` (state: the instance ``__dict__`` of a subclass, or None);
- ``storages/<i>``: the raw bytes of storage ``i``.

Tensors whose memory overlaps (views of one array, a tied weight saved once) are written as one
storage and come back as views of one buffer again, sharing their version counter as views do;
a tensor object met twice is saved once and loads as one object.

``weights_only=True`` reads the pickle with an unpickler that resolves only tensors, fastnn's
Size, device and dtype, plain containers and the classes given to ``add_safe_globals`` /
``safe_globals``; any other global is refused with ``pickle.UnpicklingError``.
"""

import collections
import ctypes
import io
import json
import pickle
import zipfile

import numpy as np

from .._core import device as _device_mod
from .._core import dtype as _dtype_mod
from .._core import size as _size_mod
from .._tensor.core import Tensor
from ..cuda import is_available as _cuda_available
from ..nn.parameter import Parameter

FORMAT, VERSION = "fastnn-objects", 1
try:  # numpy >= 2 moved it
    _byte_bounds = np.lib.array_utils.byte_bounds
except AttributeError:  # numpy 1.x
    _byte_bounds = np.byte_bounds
MANIFEST = "objects.json"
_TENSOR_KINDS = "biufc"

# ---- the allow-list of weights_only loading ----------------------------------------------------

_safe = []  # what add_safe_globals added: classes / functions, or (object, "module.name")


def _qualified(entry):
    if isinstance(entry, tuple):
        return entry[1]
    return f"{entry.__module__}.{entry.__qualname__}"


def _check_entries(entries, fn):
    if not isinstance(entries, (list, tuple)):
        raise TypeError(
            f"{fn}: expected a list of classes or functions (or (object, 'module.name') "
            f"tuples), got {type(entries).__name__}"
        )
    for e in entries:
        if isinstance(e, tuple):
            if len(e) != 2 or not isinstance(e[1], str) or "." not in e[1]:
                raise TypeError(f"{fn}: a tuple entry must be (object, 'module.name'), got {e!r}")
        elif not callable(e) or not hasattr(e, "__module__") or not hasattr(e, "__qualname__"):
            raise TypeError(
                f"{fn}: {e!r} is not a class or function (give (object, 'module.name') for "
                "other objects)"
            )
    return list(entries)


def add_safe_globals(safe_globals):
    """Allow ``weights_only=True`` loading to reconstruct these classes / call these functions.
    Entries are classes or functions, or ``(object, "module.name")`` tuples naming the global
    the pickle refers to."""
    _safe.extend(_check_entries(safe_globals, "add_safe_globals"))


def get_safe_globals():
    """The entries added by ``add_safe_globals`` (a new list)."""
    return list(_safe)


def clear_safe_globals():
    """Forget every entry added by ``add_safe_globals``."""
    _safe.clear()


class safe_globals:
    """``with safe_globals([cls, ...]):`` allows those entries for the block only; the list
    ``get_safe_globals`` returns is restored on exit."""

    def __init__(self, safe_globals):
        self._entries = _check_entries(safe_globals, "safe_globals")
        self._before = None

    def __enter__(self):
        self._before = list(_safe)
        _safe.extend(self._entries)
        return self

    def __exit__(self, *exc):
        _safe[:] = self._before
        return False


def _default_allowed():
    return {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.bytearray": bytearray,
        "builtins.complex": complex,
        "builtins.slice": slice,
        f"{Tensor.__module__}.Tensor": Tensor,
        f"{Parameter.__module__}.Parameter": Parameter,
        f"{_size_mod.__name__}.Size": _size_mod.Size,
        f"{_device_mod.__name__}.device": _device_mod.device,
        f"{_dtype_mod.__name__}.of": _dtype_mod.of,  # how a fastnn dtype pickles
        "numpy.dtype": np.dtype,
    }


# ---- writing -----------------------------------------------------------------------------------


class _Pickler(pickle.Pickler):
    def __init__(self, file):
        super().__init__(file, protocol=4)
        self.tensors = []  # in index order
        self._index = {}  # id(tensor) -> index

    def persistent_id(self, obj):
        if not isinstance(obj, Tensor):
            return None
        i = self._index.get(id(obj))
        if i is None:
            i = self._index[id(obj)] = len(self.tensors)
            self.tensors.append(obj)
        state = getattr(obj, "__dict__", None) or None
        return ("tensor", i, type(obj), state)


def _host(t):
    """(numpy array, device string) of t's values."""
    a = t._data
    if isinstance(a, np.ndarray):
        return a, "cpu"
    return np.asarray(t.detach().cpu().__array__()), str(t.device)


def _storage_name(dt):
    """A record's dtype: numpy's string, which for bfloat16 ('<V2') would read back as raw voids,
    so bfloat16 is named."""
    return "bfloat16" if _dtype_mod.bfloat16 is not None and dt is _dtype_mod.bfloat16 else dt.str


def _storage_dtype(name):
    if name == "bfloat16":
        if _dtype_mod.bfloat16 is None:
            raise RuntimeError(
                f"fastnn.load: the file holds a bfloat16 tensor; {_dtype_mod.BFLOAT16_MISSING}"
            )
        return _dtype_mod.bfloat16
    return np.dtype(name)


def _layout(tensors):
    """The storages (bytes) and per-tensor records for ``tensors``: arrays whose bytes overlap
    share one storage spanning all of them."""
    arrays, records = [], []
    for t in tensors:
        a, dev = _host(t)
        if (
            not (a.dtype.kind in _TENSOR_KINDS or a.dtype is _dtype_mod.bfloat16)
            or a.dtype.hasobject
        ):
            raise TypeError(f"fastnn.save: cannot save a tensor of dtype {a.dtype}")
        arrays.append(a)
        records.append({"device": dev, "requires_grad": bool(t.requires_grad)})
    spans = []
    for i, a in enumerate(arrays):
        if a.size:
            lo, hi = _byte_bounds(a)
            spans.append((lo, hi, i))
    spans.sort()
    storages, groups = [], []  # groups: (lo, hi, [array indices])
    for lo, hi, i in spans:
        if groups and lo < groups[-1][1]:
            g = groups[-1]
            groups[-1] = (g[0], max(g[1], hi), [*g[2], i])
        else:
            groups.append((lo, hi, [i]))
    for lo, hi, members in groups:
        k = len(storages)
        storages.append(ctypes.string_at(lo, hi - lo))
        for i in members:
            a = arrays[i]
            records[i].update(
                storage=k,
                offset=a.__array_interface__["data"][0] - lo,
                shape=list(a.shape),
                strides=list(a.strides),
                dtype=_storage_name(a.dtype),
            )
    for i, a in enumerate(arrays):
        if not a.size:
            records[i].update(
                storage=len(storages),
                offset=0,
                shape=list(a.shape),
                strides=None,
                dtype=_storage_name(a.dtype),
            )
            storages.append(b"")
    return storages, records


def dumps(obj):
    """The file's bytes for ``obj`` (raises before anything is written)."""
    buf = io.BytesIO()
    pickler = _Pickler(buf)
    pickler.dump(obj)
    storages, records = _layout(pickler.tensors)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "storages": [len(s) for s in storages],
        "tensors": records,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr(MANIFEST, json.dumps(manifest))
        z.writestr("data.pkl", buf.getvalue())
        for i, s in enumerate(storages):
            z.writestr(f"storages/{i}", s)
    return out.getvalue()


# ---- reading -----------------------------------------------------------------------------------


def _check_int(v, what):
    if type(v) is not int or v < 0:
        raise Corrupt(f"{what} is {v!r}, expected an int >= 0")
    return v


class _Reader:
    """Builds the tensors of the file on demand (by index, each once)."""

    def __init__(self, z, manifest, map_location, name):
        self.z, self.name, self.map_location = z, name, map_location
        sizes = manifest["storages"]
        self.records = manifest["tensors"]
        if not isinstance(sizes, list) or not isinstance(self.records, list):
            raise Corrupt("the manifest's storages and tensors must be lists")
        self.sizes = [_check_int(n, "a storage size") for n in sizes]
        self.buffers = {}  # storage index -> its bytes, a uint8 array (the views' base)
        self.counters = {}  # storage index -> the version counter its tensors share
        self.users = collections.Counter(
            r.get("storage") for r in self.records if isinstance(r, dict)
        )
        self.made = {}

    def _buffer(self, k):
        raw = self.buffers.get(k)
        if raw is None:
            if type(k) is not int or not 0 <= k < len(self.sizes):
                raise Corrupt(f"storage index {k!r} out of range")
            raw = np.frombuffer(bytearray(self.z.read(f"storages/{k}")), np.uint8)
            if len(raw) != self.sizes[k]:
                raise Corrupt(
                    f"storage {k} holds {len(raw)} bytes, the manifest says {self.sizes[k]}"
                )
            self.buffers[k] = raw
        return raw

    def tensor(self, i, cls, state):
        try:
            return self._tensor(i, cls, state)
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            if isinstance(e, Corrupt):
                raise
            raise Corrupt(f"tensor {i!r}: {type(e).__name__}: {e}") from None

    def _tensor(self, i, cls, state):
        if type(i) is int and i in self.made:
            return self.made[i]
        if type(i) is not int or not 0 <= i < len(self.records):
            raise Corrupt(f"tensor index {i!r} out of range")
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise pickle.UnpicklingError(f"a tensor of class {cls!r}, not a Tensor subclass")
        rec = self.records[i]
        dtype = _storage_dtype(rec["dtype"])
        if not (dtype.kind in _TENSOR_KINDS or dtype is _dtype_mod.bfloat16) or dtype.hasobject:
            raise Corrupt(f"a tensor of dtype {dtype}")
        shape = tuple(_check_int(n, "a size") for n in rec["shape"])
        k = rec["storage"]
        raw = self._buffer(k)
        if rec["strides"] is None:
            array = np.zeros(shape, dtype)
            if array.size:
                raise Corrupt(f"a tensor of shape {shape} without strides")
        else:
            strides = rec["strides"]
            if not isinstance(strides, list) or not all(type(s) is int for s in strides):
                raise Corrupt(f"strides {strides!r}")
            array = np.ndarray(
                shape,
                dtype,
                buffer=raw,
                offset=_check_int(rec["offset"], "an offset"),
                strides=tuple(strides),
            )
        t = object.__new__(cls)
        t._data, t.grad, t._ctx, t._vc = array, None, None, [0]
        t._retains_grad, t._hooks, t.requires_grad = False, None, False
        if state:
            if not isinstance(state, dict):
                raise pickle.UnpicklingError("a tensor's state is not a dict")
            t.__dict__.update(state)
        target = self.map_location
        device = rec.get("device", "cpu")
        if target is None and device != "cpu":
            if not _cuda_available():
                raise RuntimeError(
                    f"fastnn.load: {self.name}: a tensor was saved on {device!r} but CUDA is "
                    "not available; pass map_location='cpu'"
                )
            target = device
        if target is not None and str(target) != "cpu":
            t._data = Tensor._make(array).to(target)._data
        elif self.users[k] > 1:  # views of one storage share their version counter
            vc = self.counters.setdefault(k, [0, None])
            t._vc = vc
        if rec.get("requires_grad"):
            t.requires_grad_(True)
        self.made[i] = t
        return t


class _Unpickler(pickle.Unpickler):
    def __init__(self, data, reader, weights_only):
        super().__init__(io.BytesIO(data))
        self._reader, self._weights_only = reader, weights_only
        self._allowed = _default_allowed() if weights_only else None
        if weights_only:
            for entry in _safe:
                self._allowed[_qualified(entry)] = entry[0] if isinstance(entry, tuple) else entry

    def find_class(self, module, name):
        if not self._weights_only:
            return super().find_class(module, name)
        found = self._allowed.get(f"{module}.{name}")
        if found is None:
            raise pickle.UnpicklingError(
                f"Weights only load failed: {self._reader.name} names the global "
                f"{module}.{name}, which weights_only=True loading does not allow. If you trust "
                "the file's source, load it with weights_only=False (that runs whatever code "
                "the pickle names), or allow the class with "
                f"fastnn.serialization.add_safe_globals([{name}]) or inside "
                f"`with fastnn.serialization.safe_globals([{name}]):`."
            )
        return found

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "tensor"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        return self._reader.tensor(pid[1], pid[2], pid[3])


def is_pickled(names):
    return MANIFEST in names


def read(z, name, map_location, weights_only):
    for info in z.infolist():
        if info.compress_type != zipfile.ZIP_STORED:
            raise Corrupt(f"entry {info.filename!r} is compressed (fastnn stores its entries)")
    manifest = json.loads(z.read(MANIFEST))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise Corrupt("not a fastnn objects file (its manifest names another format)")
    if manifest.get("version") != VERSION:
        raise Corrupt(f"unknown fastnn objects file version {manifest.get('version')!r}")
    reader = _Reader(z, manifest, map_location, name)
    unpickler = _Unpickler(z.read("data.pkl"), reader, weights_only)
    try:
        return unpickler.load()
    except (pickle.UnpicklingError, Corrupt, RuntimeError):
        raise
    except Exception as e:
        if weights_only:  # whatever an allowed class raised while being rebuilt
            raise pickle.UnpicklingError(
                f"Weights only load failed: {type(e).__name__}: {e}"
            ) from None
        raise Passthrough(e) from e


class Corrupt(ValueError):
    """The file's manifest or storages contradict themselves."""


class Passthrough(Exception):
    """An error the unpickled objects raised with weights_only=False: re-raised as it is."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error
