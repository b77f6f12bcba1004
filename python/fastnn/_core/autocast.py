"""``fastnn.autocast`` / ``fastnn.amp.autocast``: torch's automatic mixed precision regions.

Inside ``with fastnn.autocast("cpu", dtype=fastnn.bfloat16):`` the matrix products (``linear``,
``matmul``/``@``/``mm``/``bmm``, ``conv1d``/``conv2d``) cast their floating inputs to the region's
dtype and return that dtype, and the losses torch keeps in float32 there (``cross_entropy``,
``nll_loss``, ``mse_loss``, ``l1_loss``, ``binary_cross_entropy(_with_logits)``) compute on
float32 inputs; every other op runs on whatever dtypes reach it, as in torch. The casts are
ordinary recorded ops, so the gradients of float32 parameters come back in float32.

Only the host is autocast: fastnn's GPU kernels compute in float32, so a ``"cuda"`` region is
accepted (and reported by ``is_autocast_enabled("cuda")``) but casts nothing.
"""

import functools

from . import dtype as _dtype

_DEFAULTS = {"cpu": "bfloat16", "cuda": "float16"}  # torch's default dtype per device type
# the device type -> [enabled, numpy dtype or None for the default]
_state = {"cpu": [False, None], "cuda": [False, None]}


class _Flag:
    __slots__ = ("on",)

    def __init__(self):
        self.on = False


flag = _Flag()  # flag.on: a host region is open (the one test the ops make on every call)


def _device_type(device_type, fn):
    if not isinstance(device_type, str):
        raise TypeError(
            f"{fn}: expected a device type string ('cpu' or 'cuda'), got "
            f"{type(device_type).__name__}"
        )
    kind = device_type.split(":", 1)[0]
    if kind not in _state:
        raise RuntimeError(
            f"{fn}: device_type must be 'cpu' or 'cuda' (fastnn's devices), got {device_type!r}"
        )
    return kind


def is_autocast_enabled(device_type="cuda"):
    """Whether an autocast region of ``device_type`` is open."""
    return _state[_device_type(device_type, "is_autocast_enabled")][0]


def get_autocast_dtype(device_type):
    """The dtype that ``device_type``'s autocast regions compute in (torch's default outside
    them: bfloat16 on the host, float16 on a GPU)."""
    kind = _device_type(device_type, "get_autocast_dtype")
    d = _state[kind][1]
    return _dtype.PUBLIC[_DEFAULTS[kind]] if d is None else _dtype.of(d)


class autocast:
    """A region (``with``) or a function (decorator) where matrix products compute in a lower
    precision floating dtype: bfloat16 (the default) or float16 on the host."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        self.device = _device_type(device_type, "autocast")
        if not isinstance(enabled, bool):
            raise TypeError(f"autocast: enabled must be a bool, got {type(enabled).__name__}")
        target = _DEFAULTS[self.device] if dtype is None else dtype
        if enabled:  # (the dtype of a disabled region is never used: torch does not check it)
            d = _dtype.to_dtype(_dtype.PUBLIC[target] if isinstance(target, str) else target)
            if self.device == "cpu" and not _dtype.is_low_precision(d):
                raise RuntimeError(
                    "autocast: in CPU autocast, only bfloat16 and float16 are supported as "
                    f"the dtype, got {_dtype.name(d)}"
                )
            self.dtype = d
        else:
            self.dtype = None
        self.enabled = enabled
        self._saved = []

    def __enter__(self):
        st = _state[self.device]
        self._saved.append((st[0], st[1]))
        st[0] = self.enabled
        if self.enabled:
            st[1] = self.dtype
        flag.on = _state["cpu"][0]
        return self

    def __exit__(self, *exc):
        st = _state[self.device]
        st[0], st[1] = self._saved.pop()
        flag.on = _state["cpu"][0]
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def inside(*args, **kwargs):
            with autocast(self.device, _dtype.of(self.dtype) if self.dtype else None, self.enabled):
                return fn(*args, **kwargs)

        return inside


def _cast(t, d):
    """``t`` in dtype ``d`` when it is a floating host tensor of another dtype; float64 stays
    (torch's autocast leaves double precision alone)."""
    if t is None or not hasattr(t, "_data"):
        return t
    a = t._data
    if (
        a.dtype is d
        or a.dtype is _dtype.float64
        or a.__class__.__module__ != "numpy"
        or not _dtype.is_floating(a.dtype)
    ):
        return t
    return t.to(d)


def lower(*tensors):
    """The operands of a matrix product inside a host region: floating ones in its dtype."""
    d = _state["cpu"][1]
    return tuple(_cast(t, d) for t in tensors)


def widen(*tensors):
    """The operands of a loss torch computes in float32 inside a region: low-precision floating
    ones in float32."""
    f32 = _dtype.float32
    return tuple(
        _cast(t, f32) if t is not None and hasattr(t, "_data") and _low(t) else t for t in tensors
    )


def _low(t):
    return _dtype.is_low_precision(t._data.dtype)
