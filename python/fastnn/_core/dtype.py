"""fastnn dtypes are numpy dtypes: ``fastnn.float32 is np.dtype('float32')`` (the Tensor contract).

The public names (``fastnn.float``, ``fastnn.long``, ``fastnn.bool``...) are bound in __init__.py
from ``PUBLIC`` so that this module can keep using Python's own ``float``/``int``/``bool``.
"""

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

# torch's names -> numpy dtypes
PUBLIC = {
    "float16": float16,
    "half": float16,
    "float32": float32,
    "float": float32,
    "float64": float64,
    "double": float64,
    "int8": int8,
    "int16": int16,
    "short": int16,
    "int32": int32,
    "int": int32,
    "int64": int64,
    "long": int64,
    "uint8": uint8,
    "bool": bool_,
}

_state = {"default": float32}


def to_dtype(d):
    """A numpy dtype from a fastnn/numpy dtype, a Python type or a name ('float32', 'long')."""
    if d.__class__ is np.dtype:
        return d
    if d is None:
        return None
    if d is float:
        return _state["default"]
    if isinstance(d, str):
        try:
            return PUBLIC[d.rsplit(".", 1)[-1]]
        except KeyError:
            raise TypeError(f"unknown dtype {d!r}") from None
    return np.dtype(d)


def get_default_dtype():
    """The dtype of float tensors made from Python floats (float32 unless changed)."""
    return _state["default"]


def set_default_dtype(d):
    d = to_dtype(d)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _state["default"] = d


def name(dt) -> str:
    """'fastnn.float32' for repr."""
    return f"fastnn.{dt.name}"
