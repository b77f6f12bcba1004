"""PyTorch's zip checkpoints (what ``torch.save`` writes since torch 1.6), read and written
without torch.

The file is a zip with one top folder holding ``data.pkl`` (a pickle of the saved object),
``data/<key>`` (the raw bytes of each storage), ``byteorder`` and ``version``. Tensors appear in
the pickle as calls to torch's rebuild functions on storages named by persistent ids.

Reading never runs the pickle's own choice of code: ``_Unpickler.find_class`` resolves only the
few names a tensor-only pickle uses, each to a function of this module, and refuses every other
global by name (the behaviour of ``torch.load(weights_only=True)``). Every storage is checked
against its record's size, and every tensor's size, stride and offset against its storage,
before anything is built; tensors are numpy views of their storage, so views saved by torch
share memory again after loading and nothing is allocated beyond the file's own bytes.
"""

import collections
import io
import pickle
import struct
import warnings
import zipfile

import numpy as np

from .._core import dtype as _dtype
from .._tensor.core import Tensor
from ..cuda import is_available as _cuda_available

# torch's storage class -> (the numpy dtype of its bytes, the tensor dtype name for messages)
_STORAGES = {
    "FloatStorage": ("<f4", "float32"),
    "DoubleStorage": ("<f8", "float64"),
    "HalfStorage": ("<f2", "float16"),
    "BFloat16Storage": ("<u2", "bfloat16"),
    "LongStorage": ("<i8", "int64"),
    "IntStorage": ("<i4", "int32"),
    "ShortStorage": ("<i2", "int16"),
    "CharStorage": ("i1", "int8"),
    "ByteStorage": ("u1", "uint8"),
    "BoolStorage": ("u1", "bool"),
    "ComplexFloatStorage": ("<c8", "complex64"),
    "ComplexDoubleStorage": ("<c16", "complex128"),
}
_UNSUPPORTED_STORAGES = {
    "QInt8Storage": "qint8",
    "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32",
    "QUInt4x2Storage": "quint4x2",
    "QUInt2x4Storage": "quint2x4",
}
_MAX_DIMS = 64  # numpy's limit
_KNOWN_VERSIONS = (1, 2, 3)


class _StorageType:
    """What ``torch.FloatStorage`` & co. resolve to: a marker carrying the dtype."""

    __slots__ = ("dtype", "name", "torch_dtype")

    def __init__(self, name, dtype, torch_dtype):
        self.name, self.dtype, self.torch_dtype = name, np.dtype(dtype), torch_dtype

    def __reduce__(self):  # never pickled by fastnn; refuse rather than write something odd
        raise TypeError("storage markers are not picklable")


_STORAGE_TYPES = {name: _StorageType(name, *spec) for name, spec in _STORAGES.items()}


class _Storage:
    """One storage record: its bytes as a flat array of the storage's dtype."""

    __slots__ = ("flat", "location", "type")

    def __init__(self, flat, stype, location):
        self.flat, self.type, self.location = flat, stype, location


class _LoadedTensor:
    """A tensor as the pickle rebuilt it; turned into a fastnn Tensor once the whole pickle is
    read. A pickle may BUILD (set attributes on) the objects it made: refused for tensors."""

    __slots__ = ("array", "location", "requires_grad", "was_bfloat16")

    def __init__(self, array, location, requires_grad, was_bfloat16):
        self.array, self.location = array, location
        self.requires_grad, self.was_bfloat16 = requires_grad, was_bfloat16

    def __setstate__(self, state):
        raise pickle.UnpicklingError("the pickle sets attributes on a tensor (BUILD on a tensor)")


def _check_int(value, what, low=0):
    if type(value) is not int or value < low:
        raise ValueError(f"{what} is {value!r}, expected an int >= {low}")
    return value


def _check_hooks(hooks):
    # torch pickles an empty OrderedDict; hooks are code and cannot be restored.
    if not isinstance(hooks, dict) or hooks:
        raise ValueError(f"backward hooks {hooks!r} in the checkpoint (only empty ones load)")


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad, backward_hooks, *rest):
    if not isinstance(storage, _Storage):
        raise ValueError(  # noqa: TRY004 (a malformed file)
            f"a tensor's storage is a {type(storage).__name__}, not a storage"
        )
    if len(rest) > 1 or (rest and rest[0] is not None and not isinstance(rest[0], dict)):
        raise ValueError(f"unexpected extra arguments to a tensor: {rest!r}")
    _check_hooks(backward_hooks)
    if type(requires_grad) is not bool:
        raise ValueError(f"requires_grad is {requires_grad!r}, not a bool")
    offset = _check_int(storage_offset, "storage_offset")
    if not isinstance(size, (tuple, list)) or not isinstance(stride, (tuple, list)):
        raise ValueError(  # noqa: TRY004 (a malformed file)
            f"size {size!r} and stride {stride!r} must be tuples"
        )
    if len(size) != len(stride) or len(size) > _MAX_DIMS:
        raise ValueError(f"size {tuple(size)} and stride {tuple(stride)} do not match")
    size = tuple(_check_int(n, f"size {tuple(size)}") for n in size)
    stride = tuple(_check_int(s, f"stride {tuple(stride)}") for s in stride)
    flat, item = storage.flat, storage.flat.dtype.itemsize
    numel = 1
    for n in size:
        numel *= n
    if numel == 0:
        if max(size, default=0) >= 2**62:
            raise ValueError(f"size {size} is too large")
        array = np.empty(size, flat.dtype)
    else:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= flat.size:
            raise ValueError(
                f"a tensor of size {size}, stride {stride} and offset {offset} reaches element "
                f"{last} of a storage of {flat.size} elements"
            )
        # Size-1 dimensions may carry any stride; numpy only needs in-range byte strides.
        strides = tuple(s * item if n > 1 else 0 for n, s in zip(size, stride))
        array = np.lib.stride_tricks.as_strided(flat[offset:], size, strides)
    bf16 = storage.type.torch_dtype == "bfloat16"
    if bf16 and _dtype.bfloat16 is not None:  # the stored bits are bfloat16's
        array, bf16 = array.view(_dtype.bfloat16), False
    elif bf16:  # without ml_dtypes no bfloat16 storage: widen exactly to float32, a copy
        array = (array.astype(np.uint32) << 16).view(np.float32)
    elif storage.type.torch_dtype == "bool":
        array = array.view(np.bool_)
    return _LoadedTensor(array, storage.location, requires_grad, bf16)


def _rebuild_parameter(data, requires_grad, backward_hooks, *state):
    if not isinstance(data, _LoadedTensor):
        raise ValueError(  # noqa: TRY004 (a malformed file)
            f"a Parameter of a {type(data).__name__}, not a tensor"
        )
    if type(requires_grad) is not bool:
        raise ValueError(f"requires_grad is {requires_grad!r}, not a bool")
    _check_hooks(backward_hooks)
    if len(state) > 1 or (state and state[0] not in (None, {}, ())):
        raise ValueError("a Parameter with extra attributes (only plain Parameters load)")
    data.requires_grad = requires_grad
    return data


# The globals a tensor-only pickle may name, and what each resolves to.
_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data, zf, prefix, name, weights_only=True):
        super().__init__(io.BytesIO(data))
        self._zip, self._prefix, self._name = zf, prefix, name
        self._storages = {}  # key -> the record's bytes (one buffer, shared by every view)
        self._weights_only = weights_only
        self.tensors = 0  # tensors the pickle rebuilt

    def find_class(self, module, name):
        found = self._torch_global(module, name)
        if found is _rebuild_tensor:
            return self._counted(found)
        return found

    def _counted(self, rebuild):
        def counted(*args):
            self.tensors += 1
            return rebuild(*args)

        return counted

    def _torch_global(self, module, name):
        if not self._weights_only and module.split(".", 1)[0] != "torch":
            # weights_only=False: the classes of the file (fastnn's, the user's) load as
            # pickle loads them; torch's own stay refused, fastnn has none of them
            return super().find_class(module, name)
        if module == "torch" and name in _STORAGE_TYPES:
            return _STORAGE_TYPES[name]
        if module == "torch" and name in _UNSUPPORTED_STORAGES:
            raise RuntimeError(
                f"fastnn.load: {self._name} holds a tensor of dtype "
                f"{_UNSUPPORTED_STORAGES[name]} (torch.{name}), which fastnn does not support"
            )
        found = _GLOBALS.get((module, name))
        if found is None and not self._weights_only:
            raise pickle.UnpicklingError(
                f"fastnn.load: {self._name} refers to torch's {module}.{name}; fastnn rebuilds "
                "torch's tensors and containers but no other torch object (load a state_dict "
                "instead: model.load_state_dict(fastnn.load(path)))"
            )
        if found is None:
            hint = ""
            if module.split(".", 1)[0] != "torch":
                hint = (
                    "; if you trust the file, fastnn.load(..., weights_only=False) loads its "
                    "classes (unpickling them runs code)"
                )
            raise pickle.UnpicklingError(
                f"fastnn.load: {self._name} refers to the global {module}.{name}, which is not "
                "part of a weights-only checkpoint; fastnn loads tensors, numbers, strings and "
                f"containers only and never imports or runs code from a file{hint}"
            )
        return found

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"persistent id {pid!r} names no storage type")
        if not isinstance(key, str) or not isinstance(location, str):
            raise pickle.UnpicklingError(f"persistent id {pid!r}: key and location are strings")
        if location != "cpu" and not location.startswith("cuda"):
            raise ValueError(f"storage {key} is on device {location!r} (only cpu and cuda load)")
        numel = _check_int(numel, f"storage {key}: the element count")
        record = f"{self._prefix}data/{key}"
        raw = self._storages.get(key)
        if raw is None:
            try:
                info = self._zip.getinfo(record)
            except KeyError:
                raise ValueError(f"the storage record {record!r} is missing") from None
            if info.file_size != numel * stype.dtype.itemsize:
                raise ValueError(
                    f"storage {key}: the record holds {info.file_size} bytes, the pickle "
                    f"claims {numel} elements of {stype.torch_dtype} "
                    f"({numel * stype.dtype.itemsize} bytes)"
                )
            raw = bytearray(self._zip.read(record))
            self._storages[key] = raw
        elif len(raw) != numel * stype.dtype.itemsize:
            raise ValueError(f"storage {key} is referred to with two different sizes")
        flat = np.frombuffer(raw, stype.dtype)
        if stype.torch_dtype == "bool" and flat.size and flat.max() > 1:
            flat[flat > 1] = 1  # numpy bools must be 0 or 1; torch reads any nonzero as True
        return _Storage(flat, stype, location)


class _Finisher:
    """Turns the unpickled tree into fastnn objects: Tensors for the loaded tensors, every other
    type refused (the pickle opcodes alone can still build sets, bytearrays...)."""

    def __init__(self, map_location, name, strict=True):
        self.map_location, self.name = map_location, name
        self.memo, self.active = {}, set()  # shared objects stay shared; cycles are refused
        self.bfloat16 = False
        self.strict = strict  # False: objects of other types are returned as they are
        self.tensors = 0

    def __call__(self, obj):
        kind = type(obj)
        if obj is None or kind in (bool, int, float, str, bytes):
            return obj
        key = id(obj)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:
            raise ValueError("a container holds itself")
        self.active.add(key)
        if kind is _LoadedTensor:
            out = self._tensor(obj)
        elif kind is list:
            out = [self(v) for v in obj]
        elif kind is tuple:
            out = tuple(self(v) for v in obj)
        elif kind in (dict, collections.OrderedDict):
            out = kind((self(k), self(v)) for k, v in obj.items())
            extra = getattr(obj, "__dict__", {})
            if set(extra) - {"_metadata"}:
                raise ValueError(f"unexpected attributes {sorted(extra)} on a dict")
            if "_metadata" in extra:  # torch's state dicts carry their modules' versions here
                out._metadata = self(extra["_metadata"])
        elif self.strict:
            raise ValueError(f"an object of type {kind.__name__} in the pickle")
        else:
            out = obj
        self.active.discard(key)
        self.memo[key] = out
        return out

    def _tensor(self, loaded):
        self.tensors += 1
        self.bfloat16 |= loaded.was_bfloat16
        t = Tensor._make(loaded.array)
        target = self.map_location
        if target is None and loaded.location.startswith("cuda"):
            if not _cuda_available():
                raise RuntimeError(
                    f"fastnn.load: {self.name}: a tensor was saved on {loaded.location!r} but "
                    "CUDA is not available; "
                    "pass map_location='cpu'"
                )
            target = loaded.location
        if target is not None and str(target) != "cpu":
            t = t.to(target)
        return t.requires_grad_(True) if loaded.requires_grad else t


def is_torch_zip(names):
    """Whether the zip entry names look like a torch checkpoint: one top folder with data.pkl."""
    return _prefix(names) is not None


def _prefix(names):
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) != 1 or any("/" not in n for n in names):
        return None
    top = tops.pop() + "/"
    return top if top + "data.pkl" in names else None


def read(z, name, map_location, weights_only=True):
    """The object in the torch checkpoint open as the zip ``z``. With ``weights_only=False``
    the pickle may also name classes outside torch (a whole fastnn model that ``torch.save``
    wrote), loaded by pickle's own rules; torch tensors must then sit in plain containers."""
    names = z.namelist()
    prefix = _prefix(names)
    for info in z.infolist():
        if info.compress_type != zipfile.ZIP_STORED:  # torch stores; a compressed one may be a bomb
            raise ValueError(f"entry {info.filename!r} is compressed (torch stores its records)")
    if prefix + "byteorder" in names:
        order = z.read(prefix + "byteorder").strip()
        if order != b"little":
            raise ValueError(
                f"byte order {order.decode('ascii', 'replace')!r}: only little-endian "
                "checkpoints load"
            )
    if prefix + "version" in names:
        raw = z.read(prefix + "version").strip()
        if not raw.isdigit() or int(raw) not in _KNOWN_VERSIONS:
            raise ValueError(f"unknown torch checkpoint version {raw[:20]!r}")
    unpickler = _Unpickler(z.read(prefix + "data.pkl"), z, prefix, name, weights_only)
    obj = unpickler.load()
    rebuilt = unpickler.tensors
    del unpickler
    finish = _Finisher(map_location, name, strict=weights_only)
    loaded = finish(obj)
    if finish.tensors != rebuilt:  # some sat inside an object of a class the finisher skips
        raise pickle.UnpicklingError(
            f"fastnn.load: {name} holds torch tensors inside objects of other classes; fastnn "
            "rebuilds torch tensors only within dicts, lists and tuples"
        )
    if finish.bfloat16:
        warnings.warn(
            f"fastnn.load: {name} holds bfloat16 tensors; without the ml_dtypes package "
            "fastnn has no bfloat16 storage, they were loaded as float32 (exactly: every "
            "bfloat16 value is a float32 value)",
            UserWarning,
            stacklevel=3,
        )
    return loaded


# ---- writing ----------------------------------------------------------------------------------

_WRITE_STORAGES = {
    np.dtype(np.float32): "FloatStorage",
    np.dtype(np.float64): "DoubleStorage",
    np.dtype(np.float16): "HalfStorage",
    np.dtype(np.int64): "LongStorage",
    np.dtype(np.int32): "IntStorage",
    np.dtype(np.int16): "ShortStorage",
    np.dtype(np.int8): "CharStorage",
    np.dtype(np.uint8): "ByteStorage",
    np.dtype(np.bool_): "BoolStorage",
    np.dtype(np.complex64): "ComplexFloatStorage",
    np.dtype(np.complex128): "ComplexDoubleStorage",
}
if _dtype.bfloat16 is not None:
    _WRITE_STORAGES[_dtype.bfloat16] = "BFloat16Storage"


class _PickleWriter:
    """Protocol-2 opcodes for the plain containers and the tensors of a state dict, written by
    hand: the globals torch expects (torch._utils...) cannot be pickled by reference here,
    where torch is not installed."""

    def __init__(self):
        self.out = io.BytesIO()
        self.storages = []  # contiguous little-endian arrays, in key order

    def dump(self, obj):
        self.out.write(b"\x80\x02")
        self._save(obj, 0)
        self.out.write(b".")
        return self.out.getvalue()

    def _save(self, obj, depth):
        w = self.out.write
        if depth > 200:
            raise ValueError("fastnn.serialization.save_torch: the object is nested too deeply")
        if obj is None:
            w(b"N")
        elif obj is True or obj is False:
            w(b"\x88" if obj else b"\x89")
        elif type(obj) is int:
            if 0 <= obj < 256:
                w(b"K" + bytes([obj]))
            elif -(2**31) <= obj < 2**31:
                w(b"J" + struct.pack("<i", obj))
            else:
                raw = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
                if len(raw) > 255:
                    raise ValueError("fastnn.serialization.save_torch: an int is too large")
                w(b"\x8a" + bytes([len(raw)]) + raw)
        elif type(obj) is float:
            w(b"G" + struct.pack(">d", obj))
        elif type(obj) is str:
            raw = obj.encode("utf-8", "surrogatepass")
            w(b"X" + struct.pack("<I", len(raw)) + raw)
        elif isinstance(obj, Tensor):
            self._save_tensor(obj)
        elif type(obj) is tuple:
            w(b"(")
            for v in obj:
                self._save(v, depth + 1)
            w(b"t")
        elif type(obj) is list:
            w(b"](")
            for v in obj:
                self._save(v, depth + 1)
            w(b"e")
        elif type(obj) in (dict, collections.OrderedDict):
            w(b"ccollections\nOrderedDict\n)R(" if type(obj) is not dict else b"}(")
            for k, v in obj.items():
                self._save(k, depth + 1)
                self._save(v, depth + 1)
            w(b"u")
        else:
            raise TypeError(
                f"fastnn.serialization.save_torch: cannot save an object of type "
                f"{type(obj).__name__} (only tensors, ints, floats, strings, bools, None, "
                "dicts, lists and tuples)"
            )

    def _save_tensor(self, t):
        a = np.asarray(t.detach().__array__())
        storage = _WRITE_STORAGES.get(a.dtype)
        if storage is None:
            raise TypeError(f"fastnn.serialization.save_torch: a tensor of dtype {a.dtype}")
        shape = a.shape  # (np.ascontiguousarray makes a 0-d array 1-d)
        if a.dtype is _dtype.bfloat16:  # its bits, in the byte order torch reads
            a = np.ascontiguousarray(a).view(np.uint16).astype("<u2").view(a.dtype)
        else:
            a = np.ascontiguousarray(a, a.dtype.newbyteorder("<"))
        a = a.reshape(shape)
        key = str(len(self.storages))
        self.storages.append(a)
        w = self.out.write
        w(b"ctorch._utils\n_rebuild_tensor_v2\n(")
        w(b"(")
        self._save("storage", 0)
        w(f"ctorch\n{storage}\n".encode("ascii"))
        self._save(key, 0)
        self._save("cpu", 0)
        self._save(a.size, 0)
        w(b"tQ")
        self._save(0, 0)
        self._save(tuple(a.shape), 0)
        strides = [1] * a.ndim
        for i in range(a.ndim - 2, -1, -1):
            strides[i] = strides[i + 1] * a.shape[i + 1]
        self._save(tuple(strides), 0)
        self._save(bool(t.requires_grad), 0)
        w(b"ccollections\nOrderedDict\n)R")
        w(b"tR")


def write(f, obj):
    """Write ``obj`` to the binary file ``f`` as a torch zip checkpoint."""
    writer = _PickleWriter()
    data = writer.dump(obj)
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr("archive/data.pkl", data)
        z.writestr("archive/byteorder", "little")
        for i, a in enumerate(writer.storages):
            with z.open(f"archive/data/{i}", "w", force_zip64=True) as out:
                out.write(a.tobytes())
        z.writestr("archive/version", "3\n")
