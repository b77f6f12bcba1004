"""fastnn's own checkpoint format (``fastnn.save``): state dicts (nested dicts, lists and tuples
of tensors, numpy arrays, numbers, strings, None) in a zip holding a JSON manifest and .npy arrays.

No pickle anywhere: arrays are read with ``allow_pickle=False`` and the manifest is JSON, so
loading a file cannot run code. ``save`` to a path writes a temporary file in the same folder
and renames it over the target (``os.replace``): a crash mid-save leaves the old file intact,
and the next save removes the temporary the crashed writer left (see ``_tempfiles``).
"""

import collections
import io
import json
import os
import zipfile

import numpy as np

from .._core import dtype as _dtype
from . import _tempfiles

_FORMAT, _VERSION = "fastnn", 1

# Tensor dtypes ``read`` rebuilds as tensors (bool, signed and unsigned integers, floats); ``save``
# refuses any other so that it never writes (and replaces a good file with) what load rejects.
_TENSOR_KINDS = "biufc"
# numpy scalars whose ``item()`` is a Python bool/int/float that JSON holds exactly; any other
# scalar (complex, long double, bytes, datetime, structured...) is stored as a 0-d array.
_JSON_SCALAR_KINDS = "biu"
_JSON_FLOAT_DTYPES = ("float16", "float32", "float64")


def _encode(obj, arrays):
    from .._tensor.core import Tensor

    if isinstance(obj, Tensor):
        a = np.asarray(obj.__array__(), order="C")
        if _dtype.bfloat16 is not None and a.dtype is _dtype.bfloat16:
            # .npy has no bfloat16 (it would read back as raw 2-byte voids): its bits as uint16
            arrays.append(a.view(np.uint16))
            return {
                "__tensor__": len(arrays) - 1,
                "requires_grad": bool(obj.requires_grad),
                "dtype": "bfloat16",
            }
        if a.dtype.kind not in _TENSOR_KINDS:
            raise TypeError(
                f"fastnn.save: cannot save a tensor of dtype {a.dtype} (shape {a.shape}); "
                "checkpoints hold bool, integer, float and complex tensors (save tensor.numpy() instead)"
            )
        arrays.append(a)
        return {"__tensor__": len(arrays) - 1, "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError("fastnn.save: numpy arrays of Python objects are not supported")
        if _dtype.bfloat16 is not None and obj.dtype is _dtype.bfloat16:  # as for tensors
            arrays.append(np.asarray(obj, order="C").view(np.uint16))
            return {"__ndarray__": len(arrays) - 1, "dtype": "bfloat16"}
        arrays.append(np.asarray(obj, order="C"))
        return {"__ndarray__": len(arrays) - 1}
    if isinstance(obj, np.generic):  # before str/float: np.str_ and np.float64 subclass them
        dt = obj.dtype
        if dt.kind in _JSON_SCALAR_KINDS or dt.name in _JSON_FLOAT_DTYPES:
            return {"__scalar__": obj.item(), "dtype": dt.str}
        if dt.hasobject:
            raise TypeError(f"fastnn.save: a numpy scalar of dtype {dt} holds Python objects")
        arrays.append(np.asarray(obj).reshape(()))
        return {"__scalar_array__": len(arrays) - 1}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        kind = "__odict__" if isinstance(obj, collections.OrderedDict) else "__dict__"
        return {kind: [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    raise NotPlain(
        f"fastnn.save: cannot save an object of type {type(obj).__name__} (only "
        "tensors, numpy arrays, numbers, strings, None, dicts, lists and tuples)"
    )


class NotPlain(TypeError):
    """``obj`` holds something besides tensors, arrays, numbers, strings and containers; the
    caller pickles it instead (``_pickled``)."""


def _decode(node, arrays):
    from .._tensor.core import Tensor

    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        a = arrays[_index(node["__tensor__"], arrays)]
        if node.get("dtype") == "bfloat16":
            a = _bfloat16_bits(a)
        elif a.dtype.kind not in _TENSOR_KINDS:
            raise ValueError(
                f"a tensor of dtype {a.dtype} (only bool, integer, float and complex tensors)"
            )
        t = Tensor._make(a)
        return t.requires_grad_(True) if node.get("requires_grad") else t
    if "__ndarray__" in node:
        a = arrays[_index(node["__ndarray__"], arrays)]
        return _bfloat16_bits(a) if node.get("dtype") == "bfloat16" else a
    if "__scalar__" in node:
        return np.dtype(node["dtype"]).type(node["__scalar__"])
    if "__scalar_array__" in node:
        a = arrays[_index(node["__scalar_array__"], arrays)]
        if a.shape != ():
            raise ValueError(f"a scalar stored as an array of shape {a.shape}")
        return a[()]
    if "__tuple__" in node:
        return tuple(_decode(v, arrays) for v in node["__tuple__"])
    for kind, cls in (("__dict__", dict), ("__odict__", collections.OrderedDict)):
        if kind in node:
            return cls((_hashable(_decode(k, arrays)), _decode(v, arrays)) for k, v in node[kind])
    raise ValueError(f"unknown manifest node {sorted(node)}")


def _bfloat16_bits(a):
    """A stored bfloat16 tensor (its uint16 bits) back as bfloat16."""
    if a.dtype != np.uint16:
        raise ValueError(f"a bfloat16 tensor stored as {a.dtype} (expected its uint16 bits)")
    if _dtype.bfloat16 is None:
        raise RuntimeError(
            f"fastnn.load: the file holds a bfloat16 tensor; {_dtype.BFLOAT16_MISSING}"
        )
    return a.view(_dtype.bfloat16)


def _index(i, arrays):
    # A negative or bool index would silently pick another array.
    if type(i) is not int or not 0 <= i < len(arrays):
        raise ValueError(f"array index {i!r} out of range for {len(arrays)} arrays")
    return i


def _read_npy(z, i, mapped=None):
    """arrays/{i}.npy, its header checked against the member's size before any allocation (a
    corrupt shape would otherwise allocate whatever it claims). With ``mapped`` (the file's
    path) the array is a copy-on-write map of the file's bytes (torch.load's mmap=True): pages
    are read when touched, and writes stay in memory."""
    if mapped is not None:
        arr = _mapped_npy(z, i, mapped)
        if arr is not None:
            return arr
    buf = io.BytesIO(z.read(f"arrays/{i}.npy"))
    version = np.lib.format.read_magic(buf)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"array {i}: unsupported .npy version {version}")
    read_header = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, _, dtype = read_header(buf)
    if dtype.hasobject:
        raise ValueError(f"array {i}: dtype {dtype} holds Python objects")
    want = dtype.itemsize
    for d in shape:
        want *= d
    have = len(buf.getbuffer()) - buf.tell()
    if want != have:
        raise ValueError(
            f"array {i}: header says shape {shape} of {dtype} ({want} bytes), "
            f"the file holds {have} bytes"
        )
    buf.seek(0)
    return np.lib.format.read_array(buf, allow_pickle=False)


def _mapped_npy(z, i, path):
    """The map of arrays/{i}.npy in the file at ``path``, or None where a plain read is needed
    (an empty or Fortran-ordered array)."""
    info = z.getinfo(f"arrays/{i}.npy")
    with z.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"array {i}: unsupported .npy version {version}")
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(member)
        header_len = member.tell()
    size = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if fortran or dtype.hasobject or size == 0 or size != info.file_size - header_len:
        return None
    with open(path, "rb") as f:  # the member's data follows its local header (30 bytes + names)
        f.seek(info.header_offset)
        local = f.read(30)
    start = info.header_offset + 30 + int.from_bytes(local[26:28], "little")
    start += int.from_bytes(local[28:30], "little")
    mapped = np.memmap(path, dtype=dtype, mode="c", offset=start + header_len, shape=shape)
    return mapped.view(np.ndarray)  # a plain array (the fast paths test the class) on the map


def _hashable(k):
    return tuple(_hashable(v) for v in k) if isinstance(k, list) else k


def prepare(obj):
    """The manifest text and arrays of ``obj``; raises before any byte is written, so a refused
    object never truncates a file object or leaves a half-written temporary."""
    arrays = []
    root = _encode(obj, arrays)
    manifest = {"format": _FORMAT, "version": _VERSION, "arrays": len(arrays), "root": root}
    try:
        text = json.dumps(manifest, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise TypeError(f"fastnn.save: {e}") from None
    return text, arrays


def _write(f, prepared):
    text, arrays = prepared
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr("manifest.json", text)
        for i, a in enumerate(arrays):
            with z.open(f"arrays/{i}.npy", "w", force_zip64=True) as out:
                np.lib.format.write_array(out, a, allow_pickle=False)


def check_file(f, fn, *methods):
    """``f`` must be a path or a file object with ``methods``; anything else would fail deep in
    zipfile with an AttributeError about a missing seek or write."""
    if isinstance(f, (str, os.PathLike)):
        return
    if isinstance(f, io.TextIOBase) or not all(callable(getattr(f, m, None)) for m in methods):
        raise TypeError(
            f"{fn}: f must be a path (str or os.PathLike) or a binary file object with "
            f"{' and '.join(m + '()' for m in methods)}, got {type(f).__name__}"
        )


def save(obj, f):
    """Save ``obj`` to the path (or binary file object) ``f``; atomic for paths."""
    check_file(f, "fastnn.save", "write")
    write_prepared(f, prepare(obj))


def write_prepared(f, prepared):
    """Write what ``prepare`` returned to the path (atomically) or file object ``f``."""
    if not isinstance(f, (str, os.PathLike)):
        _write(f, prepared)
        return
    _tempfiles.write_atomically(f, lambda out: _write(out, prepared))


def read(z, mapped=None):
    """The object stored in the fastnn checkpoint open as the zip ``z`` (its arrays mapped from
    the file at ``mapped`` when given). Raises the errors that ``fastnn.load`` reports as a
    corrupt file (ValueError, KeyError, ...)."""
    for info in z.infolist():  # save() stores; a compressed entry could be a zip bomb
        if info.compress_type != zipfile.ZIP_STORED:
            raise ValueError(
                f"entry {info.filename!r} is compressed; fastnn checkpoints "
                "store their entries uncompressed"
            )
    manifest = json.loads(z.read("manifest.json"))
    if not isinstance(manifest, dict):
        raise ValueError(  # noqa: TRY004 (a malformed file, not a wrong argument)
            f"the manifest is a {type(manifest).__name__}, not an object"
        )
    if manifest.get("format") != _FORMAT:
        raise ValueError(f"not a fastnn checkpoint (manifest format {manifest.get('format')!r})")
    arrays = []
    for i in range(int(manifest["arrays"])):
        arrays.append(_read_npy(z, i, mapped))
    return _decode(manifest["root"], arrays)
