"""torch's top-level conveniences and older spellings: atleast_1d/2d/3d, broadcast_shapes,
swapdims, scalar_tensor, the split aliases (split_with_sizes, unsafe_split, unsafe_chunk),
get_device, typename and is_storage. Each is the Tensor op it names, as torch defines it."""

from .._core.size import Size as _Size
from ..autograd import function as _function
from . import creation as _creation


def _tensors(args, fn):
    """atleast_*'s arguments: tensors, or one tuple/list of them; (the tensors, one given)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
        if len(args) == 1:
            return args, False
    for a in args:
        if not isinstance(a, _function.Tensor):
            raise TypeError(f"{fn}(): expected Tensors, got {type(a).__name__}")
    return args, len(args) == 1


def _atleast(args, fn, shape_of):
    ts, single = _tensors(args, fn)
    out = tuple(t if shape_of(t) is None else t.reshape(shape_of(t)) for t in ts)
    return out[0] if single else out


def atleast_1d(*tensors):
    """Each tensor with at least one dimension (a 0-d one becomes (1,))."""
    return _atleast(tensors, "atleast_1d", lambda t: (1,) if t.ndim == 0 else None)


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions: () -> (1, 1), (n,) -> (1, n)."""
    return _atleast(
        tensors,
        "atleast_2d",
        lambda t: (1, 1) if t.ndim == 0 else (1, t.shape[0]) if t.ndim == 1 else None,
    )


def atleast_3d(*tensors):
    """Each tensor with at least three dimensions: () -> (1, 1, 1), (n,) -> (1, n, 1),
    (m, n) -> (m, n, 1)."""

    def shape_of(t):
        if t.ndim == 0:
            return (1, 1, 1)
        if t.ndim == 1:
            return (1, t.shape[0], 1)
        if t.ndim == 2:
            return (*t.shape, 1)
        return None

    return _atleast(tensors, "atleast_3d", shape_of)


def broadcast_shapes(*shapes):
    """The shape tensors of these shapes broadcast to (ints count as 1-d shapes)."""
    dims = []
    for i, s in enumerate(shapes):
        s = (s,) if isinstance(s, int) else tuple(s)
        for k in range(1, len(s) + 1):
            n = s[-k]
            if k > len(dims):
                dims.insert(0, n)
            elif dims[-k] == 1:
                dims[-k] = n
            elif n not in (1, dims[-k]):
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {n} at {-k}! Mismatching "
                    f"argument at index {i} had {s}; but expected shape should be broadcastable "
                    f"to {dims}"
                )
    return _Size(dims)


def swapdims(input, dim0, dim1):
    return input.transpose(dim0, dim1)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor of the number ``s``, in the default float dtype unless ``dtype`` says."""
    return _creation.tensor(
        float(s) if dtype is None else s, dtype=dtype, device=device, requires_grad=requires_grad
    )


def split_with_sizes(input, split_sizes, dim=0):
    return input.split(list(split_sizes), dim)


def unsafe_split(input, split_size, dim=0):
    return input.split(split_size, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    return input.split(list(split_sizes), dim)


def unsafe_chunk(input, chunks, dim=0):
    return input.chunk(chunks, dim)


def get_device(input):
    """-1 on the CPU, else the device index."""
    return input.get_device()


_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}


def typename(obj):
    """A tensor's legacy type name (``fastnn.FloatTensor``...); any other object's class
    path."""
    if isinstance(obj, _function.Tensor):
        kind = _TYPE_NAMES.get(obj._data.dtype.name, obj._data.dtype.name)
        where = "cuda." if obj.device.type == "cuda" else ""
        return f"fastnn.{where}{kind}"
    module = getattr(type(obj), "__module__", "")
    name = type(obj).__qualname__
    return name if module in ("builtins", "", None) else f"{module}.{name}"


def is_storage(obj):
    """False: fastnn has no storage objects apart from its tensors."""
    return False


__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "get_device",
    "is_storage",
    "scalar_tensor",
    "split_with_sizes",
    "swapdims",
    "typename",
    "unsafe_chunk",
    "unsafe_split",
    "unsafe_split_with_sizes",
]
