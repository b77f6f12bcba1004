"""safetensors files through the ``safetensors`` package (the optional extra
``fastnn[safetensors]``): flat dicts of named tensors, no code, readable by torch, JAX and
numpy users alike."""

import numpy as np

from .._tensor.core import Tensor
from . import _tempfiles

_EXTRA = "pip install 'fastnn[safetensors]' (or pip install safetensors)"


def _numpy_api(what):
    try:
        import safetensors.numpy as api
    except ImportError:
        raise ImportError(
            f"fastnn.serialization.{what} needs the safetensors package: {_EXTRA}"
        ) from None
    return api


def save_file(tensors, filename, metadata=None):
    """Write the dict ``tensors`` (str -> Tensor) to the safetensors file ``filename``;
    ``metadata`` is an optional str -> str dict stored in the header. Atomic, like ``save``."""
    api = _numpy_api("save_file")
    if not isinstance(tensors, dict):
        raise TypeError(
            f"save_file: tensors must be a dict of str -> Tensor, got {type(tensors).__name__}"
        )
    arrays = {}
    for key, value in tensors.items():
        if not isinstance(key, str):
            raise TypeError(f"save_file: keys must be str, got {key!r}")
        if not isinstance(value, Tensor):
            raise TypeError(
                f"save_file: tensors[{key!r}] is a {type(value).__name__}, not a Tensor"
            )
        arrays[key] = np.ascontiguousarray(value.detach().__array__())
    data = api.save(arrays, metadata=metadata)  # bytes: refused input writes nothing
    _tempfiles.write_atomically(filename, lambda out: out.write(data))


def load_file(filename, device="cpu"):
    """The dict str -> Tensor stored in the safetensors file ``filename``, on ``device``."""
    api = _numpy_api("load_file")
    try:
        arrays = api.load_file(filename)
    except TypeError as e:  # a dtype safetensors.numpy lacks (bfloat16, float8...)
        raise TypeError(
            f"load_file: {filename}: {e} (fastnn reads safetensors through safetensors.numpy, "
            "which has no such dtype)"
        ) from None
    out = {}
    for key, a in arrays.items():
        t = Tensor._make(a if a.flags.writeable else a.copy())
        out[key] = t if str(device) == "cpu" else t.to(device)
    return out
