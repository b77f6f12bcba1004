"""``set_float32_matmul_precision`` / ``get_float32_matmul_precision``: torch's setting of how
much precision float32 matrix products may give up, tied to ``backends.cuda.matmul.allow_tf32``
as in torch ("high" and "medium" allow TF32, "highest" does not; setting the flag moves the
precision between "high" and "highest").

The setting permits lower precision; it never requires it. fastnn's float32 GEMMs always
compute in full float32, which every setting allows, so results do not change."""

import warnings

_PRECISIONS = ("highest", "high", "medium")
_state = {"precision": "highest"}


def set_float32_matmul_precision(precision):
    if precision not in _PRECISIONS:
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            "set_float32_matmul_precision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _state["precision"] = precision


def get_float32_matmul_precision():
    return _state["precision"]


def allows_tf32():
    return _state["precision"] != "highest"


def set_allow_tf32(allow):
    _state["precision"] = "high" if allow else "highest"


__all__ = ["get_float32_matmul_precision", "set_float32_matmul_precision"]
