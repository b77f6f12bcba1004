"""``fastnn.device``: where a tensor's storage lives ('cpu' or 'cuda:N'), and the default device
that creation functions use when they are given none (``fastnn.set_default_device``)."""

import numpy as np


class device:  # lower-case: torch's name
    """A device, compared equal to its string form: ``device('cuda') == 'cuda:0'``."""

    __slots__ = ("index", "type")

    def __init__(self, spec, index=None):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            # a bare ordinal names a CUDA device, as in torch
            if index is not None or spec < 0:
                raise RuntimeError(f"Device index must not be negative, got {spec}")
            self.type, self.index = "cuda", int(spec)
            return
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {spec!r}")
        if index is not None and (
            isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0
        ):
            raise RuntimeError(f"Device index must be a non-negative int, got {index!r}")
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {spec}"
            )
        if idx:
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{spec}'")
            index = int(idx)
        if kind == "cuda" and index is None:
            index = 0
        if kind == "cpu":
            index = None
        self.type, self.index = kind, None if index is None else int(index)

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __enter__(self):
        # `with fastnn.device(d):` makes d the default of the creation functions in the block
        _entered.append(_default)
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        set_default_device(_entered.pop())
        return False


CPU = device("cpu")

_default = CPU
_entered = []  # the defaults that the open `with device(...)` blocks replaced, innermost last


def to_device(d):
    """A ``device`` from a device, a string, an int (a CUDA ordinal) or None (-> None)."""
    if d is None or d.__class__ is device:
        return d
    return device(d)


def set_default_device(d):
    """Make ``d`` the device of new tensors created without ``device=`` (None: back to the CPU)."""
    global _default  # noqa: PLW0603 (the one process-wide default, as in torch)
    _default = CPU if d is None else to_device(d)


def get_default_device():
    """The device that creation functions use when given no ``device=``."""
    return _default


def default_device(d):
    """``d`` as a device, or the default device when ``d`` is None (for creation functions)."""
    return _default if d is None else to_device(d)
