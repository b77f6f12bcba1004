"""Saving and loading weights.

- ``save`` / ``load``: fastnn's own checkpoint format (a zip of a JSON manifest and .npy arrays,
  no pickle) for state dicts and tensors: nested dicts, lists and tuples of tensors, arrays,
  numbers and strings. Any other object (a whole module, an optimizer...) is pickled, its
  tensors' bytes beside the pickle in the same zip (``_pickled``); ``load`` rebuilds it with
  ``weights_only=False``, or with the default ``weights_only=True`` when every class it names is
  a tensor, container or one of the ``add_safe_globals`` / ``safe_globals`` entries. ``load`` also
  reads the zip checkpoints ``torch.save`` writes (torch >= 1.6),
  without torch and without running anything from the file: the pickle inside is read by a
  restricted unpickler that knows tensors, numbers, strings and containers only.
- ``save_torch``: a checkpoint in torch's zip format, for ``torch.load`` (``weights_only=True``).
- ``save_file`` / ``load_file``: safetensors files (the ``safetensors`` extra).

``load`` tells the formats apart by the zip's contents.
"""

import io
import os
import pickle
import zipfile

from . import _native, _pickled, _tempfiles, _torch
from ._pickled import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from ._safetensors import load_file, save_file

__all__ = [
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "load",
    "load_file",
    "safe_globals",
    "save",
    "save_file",
    "save_torch",
]


def save(obj, f):
    """Save ``obj`` to the path (or binary file object) ``f``; atomic for paths. State dicts
    and tensors (nested containers of tensors, arrays, numbers, strings) are written in fastnn's
    pickle-free format; any other picklable object is pickled, its tensors stored beside the
    pickle (storage sharing kept), and loads with ``load(f, weights_only=False)``."""
    _native.check_file(f, "fastnn.save", "write")
    try:
        prepared = _native.prepare(obj)
    except _native.NotPlain:
        data = _pickled.dumps(obj)  # raises before anything is written
        if isinstance(f, (str, os.PathLike)):
            _tempfiles.write_atomically(f, lambda out: out.write(data))
        else:
            f.write(data)
        return
    _native.write_prepared(f, prepared)


def save_torch(obj, f):
    """Save ``obj`` (nested dicts, lists and tuples of tensors, numbers, strings, bools, None)
    to the path or binary file ``f`` in torch's zip format, for ``torch.load``. Each tensor is
    written as a contiguous copy of its own (views do not share storage in the file). Saving to
    a path is atomic, like ``save``."""
    _native.check_file(f, "save_torch", "write")
    if isinstance(f, (str, os.PathLike)):
        buf = io.BytesIO()
        _torch.write(buf, obj)  # nothing is written to the path when obj cannot be saved
        _tempfiles.write_atomically(f, lambda out: out.write(buf.getbuffer()))
    else:
        _torch.write(f, obj)


def _not_a_zip_reason(f):
    """Why ``f`` (not a zip) cannot be loaded: names the formats recognisable by their start."""
    try:
        if isinstance(f, (str, os.PathLike)):
            with open(f, "rb") as fh:
                head = fh.read(16)
        else:
            f.seek(0)
            head = f.read(16)
    except (OSError, AttributeError):
        return None
    if head[:2] == b"\x80\x02" and len(head) > 2:
        return (
            "(it is a PyTorch checkpoint in the legacy (pre-1.6, non-zip) format, which fastnn "
            "does not read; re-save it with torch >= 1.6 (torch.save's default zip format))"
        )
    if len(head) >= 9 and head[8:9] == b"{":
        return "(it looks like a safetensors file: read it with fastnn.serialization.load_file)"
    return None


def load(
    f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args
):
    """Load what ``save`` wrote, or a ``torch.save`` zip checkpoint (state dicts, optimizer
    states and nested containers of tensors, numbers and strings). Tensors come back on the CPU
    (or ``map_location``). A whole object that ``save`` pickled loads with
    ``weights_only=False``; with ``weights_only=True`` (the default, as ``None`` is) a class
    outside the tensors, containers and safe globals raises ``pickle.UnpicklingError``. A torch
    file is read weights-only whatever ``weights_only`` says: naming any other global raises
    ``pickle.UnpicklingError``.

    ``mmap=True`` (a file path only, as in torch) maps a fastnn checkpoint's arrays from the
    file instead of reading them; other layouts are read as usual. ``pickle_module`` and
    ``encoding`` are accepted as torch takes them: fastnn unpickles with the standard library."""
    _native.check_file(f, "fastnn.load", "read", "seek")
    if weights_only is None:
        weights_only = True
    elif type(weights_only) is not bool:
        raise TypeError(f"fastnn.load: weights_only must be a bool, got {weights_only!r}")
    unknown = set(pickle_load_args) - {"encoding"}
    if unknown:
        raise TypeError(f"load() got an unexpected keyword argument '{min(unknown)}'")
    if pickle_module is not None and weights_only:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", repr(f))
    kind = "fastnn"
    try:
        with zipfile.ZipFile(f, "r") as z:
            names = z.namelist()
            if "manifest.json" in names:
                obj = _native.read(z, os.fspath(f) if mmap else None)
            elif _pickled.is_pickled(names):
                kind = "fastnn objects"
                obj = _pickled.read(z, name, map_location, weights_only)
            elif _torch.is_torch_zip(names):
                kind = "torch"
                obj = _torch.read(z, name, map_location, weights_only)
            elif any(n.endswith("constants.pkl") for n in names):
                raise ValueError(
                    "it is a TorchScript archive (torch.jit.save), not a checkpoint of weights"
                )
            else:
                raise ValueError("the zip holds neither a fastnn nor a torch checkpoint")
    except FileNotFoundError:
        raise
    except _pickled.Passthrough as e:  # raised by the file's own classes (weights_only=False)
        raise e.error from None
    except pickle.UnpicklingError as e:  # torch's type for a refused or malformed pickle
        if name in str(e):
            raise
        raise pickle.UnpicklingError(f"fastnn.load: {name}: {e}") from None
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        EOFError,
        OSError,
        TypeError,
        IndexError,
        OverflowError,
        RecursionError,
        NotImplementedError,
        MemoryError,
        AttributeError,
    ) as e:
        reason = _not_a_zip_reason(f) if isinstance(e, zipfile.BadZipFile) else None
        detail = reason or f"(corrupt or truncated file?): {type(e).__name__}: {e}"
        raise RuntimeError(
            f"fastnn.load: {name} is not a valid {kind} checkpoint {detail}"
        ) from None
    if kind == "fastnn" and map_location is not None and str(map_location) != "cpu":
        obj = _to_device(obj, map_location)
    return obj


def _to_device(obj, device):
    from .._tensor.core import Tensor

    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return type(obj)((k, _to_device(v, device)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device) for v in obj)
    return obj
