"""torch's memory formats (``fastnn.channels_last``...): layout hints. fastnn keeps every host
tensor in row-major storage (NCHW for images), so a format is checked as torch checks it (the
rank channels_last needs, the argument's type) and then changes nothing: the values, shapes and
results are torch's; only the strides torch would pick are not.

Also torch's storage layouts: ``strided`` (dense) and ``sparse_coo`` (``_tensor/sparse.py``)."""


class layout:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "fastnn." + self.name

    def __reduce__(self):
        return (_layout_by_name, (self.name,))


strided = layout("strided")
sparse_coo = layout("sparse_coo")
_LAYOUTS = {"strided": strided, "sparse_coo": sparse_coo}


def _layout_by_name(name):
    if name not in _LAYOUTS:
        raise ValueError(f"fastnn has no {name} layout (only strided and sparse_coo)")
    return _LAYOUTS[name]


class memory_format:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "fastnn." + self.name

    def __reduce__(self):  # pickles give back the singleton
        return (_by_name, (self.name,))


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
_ALL = {f.name: f for f in (contiguous_format, channels_last, channels_last_3d, preserve_format)}


def _by_name(name):
    return _ALL[name]


def check(fmt, ndim, fn):
    """Refuse what torch refuses: a format that is not one, channels_last on a tensor of rank
    ``ndim`` other than 4 (channels_last_3d: 5); ``ndim`` None: the type alone."""
    if fmt.__class__ is not memory_format:
        raise TypeError(
            f"{fn}(): argument 'memory_format' must be torch.memory_format, not "
            f"{type(fmt).__name__}"
        )
    if ndim is None:
        return
    if fmt is channels_last and ndim != 4:
        raise RuntimeError("required rank 4 tensor to use channels_last format")
    if fmt is channels_last_3d and ndim != 5:
        raise RuntimeError("required rank 5 tensor to use channels_last_3d format")


def is_laid_out(a, fmt):
    """Whether the numpy array ``a`` has the strides of ``fmt`` (channels_last: N, H, W, C
    row-major; sizes of 1 take any stride)."""
    if fmt is contiguous_format or fmt is preserve_format:
        return bool(a.flags.c_contiguous)
    if a.ndim != (4 if fmt is channels_last else 5):
        return False
    order = (0, *range(2, a.ndim), 1)  # the dims from outermost to innermost
    expected = a.itemsize
    for d in reversed(order):
        if a.shape[d] != 1 and a.strides[d] != expected:
            return False
        expected *= a.shape[d]
    return True
