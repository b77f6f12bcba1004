"""Top-level tensor functions (``fastnn.matmul``, ``fastnn.cat``, ``fastnn.exp``...)."""

import numpy as np

from .. import _devices
from .._core import dtype as _dtype
from .._core.dims import wrap_dim
from ..autograd import function as _function
from .ops import elementwise as E
from .ops import linalg as L
from .ops import shape as S


def _as_tensor(x, like=None):
    T = _function.Tensor
    if isinstance(x, T):
        return x
    from .creation import tensor

    if like is not None and isinstance(x, (int, float, bool)):
        dt = like.dtype
        if isinstance(x, float) and dt.kind != "f":
            dt = _dtype.get_default_dtype()
        return tensor(x, dtype=dt, device=like.device)
    return tensor(x)


def matmul(a, b):
    """Matrix product with torch's rules for 1-D, 2-D, batched and broadcast operands; the work
    is one GEMM (2-D) or one batched GEMM (3-D) on the matmul kernel."""
    a, b = _as_tensor(a), _as_tensor(b)
    na, nb = a.ndim, b.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: "
            f"{_dtype.name(a.dtype)} != {_dtype.name(b.dtype)}"
        )
    ka, kb = a.shape[-1], b.shape[0] if nb == 1 else b.shape[-2]
    if ka != kb:
        if na == 1 and nb == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{ka}] and src [{kb}] "
                f"to have the same number of elements, but got {ka} and {kb} "
                "elements respectively"
            )
        sa = "x".join(map(str, a.shape if na > 1 else (1, *a.shape)))
        sb = "x".join(map(str, b.shape if nb > 1 else (*b.shape, 1)))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    if na == 2 and nb == 2:
        return L.MatMul.apply(a, b)
    if na == 1 and nb == 1:
        return L.MatMul.apply(a.reshape(1, ka), b.reshape(kb, 1)).reshape(())
    if na == 1:
        return matmul(a.reshape(1, ka), b).squeeze(-2)
    if nb == 1:
        return matmul(a, b.reshape(kb, 1)).squeeze(-1)
    if nb == 2:  # (..., m, k) @ (k, n): one 2-D GEMM over the flattened rows
        return L.MatMul.apply(a.reshape(-1, ka), b).reshape((*a.shape[:-1], b.shape[-1]))
    if na == 3 and nb == 3 and a.shape[0] == b.shape[0]:
        return L.MatMul.apply(a, b)
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast"
        ) from None
    m, n = a.shape[-2], b.shape[-1]
    a3 = a.expand(batch + a.shape[-2:]).reshape(-1, m, ka)
    b3 = b.expand(batch + b.shape[-2:]).reshape(-1, kb, n)
    return L.MatMul.apply(a3, b3).reshape((*batch, m, n))


def mm(a, b):
    return a.mm(b)


def bmm(a, b):
    return a.bmm(b)


def mv(a, b):
    return a.mv(b)


def dot(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)


def cat(tensors, dim=0):
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    nd = tensors[0].ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    dim = wrap_dim(dim, nd, fn="cat")
    for i, t in enumerate(tensors):
        if t.ndim != nd:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {nd} and {t.ndim}"
            )
        for d in range(nd):
            if d != dim and t.shape[d] != tensors[0].shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{tensors[0].shape[d]} but got size {t.shape[d]} for tensor number {i} in "
                    "the list."
                )
    if len(tensors) == 1:
        return tensors[0]
    return S.Cat.apply(*tensors, axis=dim)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    dim = wrap_dim(dim, tensors[0].ndim + 1, fn="stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got "
                f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                f"entry {i}"
            )
    return S.Stack.apply(*tensors, axis=dim)


def where(condition, x=None, y=None):
    T = _function.Tensor
    c = condition._data if isinstance(condition, T) else np.asarray(condition)
    if x is None and y is None:
        if not isinstance(c, np.ndarray):  # a device array: nonzero on a host copy
            be = _devices.of(c)
            return tuple(T._make(be.from_numpy(np.asarray(i))) for i in np.nonzero(be.to_numpy(c)))
        return tuple(T._make(np.asarray(i)) for i in np.nonzero(c))
    if c.dtype != np.bool_:
        c = c.astype(bool)
    like = x if isinstance(x, T) else y if isinstance(y, T) else None
    x, y = _as_tensor(x, like), _as_tensor(y, like)
    if x.dtype != y.dtype:
        dt = np.result_type(x.dtype, y.dtype)
        x, y = x.to(dt), y.to(dt)
    return E.Where.apply(x, y, cond=c)


def maximum(a, b):
    return _as_tensor(a).maximum(b)


def minimum(a, b):
    return _as_tensor(a).minimum(b)


def clamp(x, min=None, max=None):
    return x.clamp(min, max)


clip = clamp


def numel(x):
    return x.numel()


def is_tensor(x):
    return isinstance(x, _function.Tensor)


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(
        np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, equal_nan=equal_nan)
    )


def equal(a, b):
    return a.equal(b)


def _method(name):
    def fn(x, *args, **kwargs):
        return getattr(_as_tensor(x), name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"``fastnn.{name}(x, ...)`` is ``x.{name}(...)``."
    return fn


# functions that are the Tensor method of the same name
_METHODS = (
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "abs",
    "neg",
    "square",
    "sin",
    "cos",
    "sign",
    "pow",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "sum",
    "mean",
    "var",
    "std",
    "norm",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "transpose",
    "permute",
    "t",
    "gather",
    "split",
    "chunk",
    "unbind",
    "clone",
    "detach",
    "isnan",
    "logical_not",
    "masked_fill",
    "index_select",
    "add",
    "sub",
    "mul",
    "div",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "any",
    "all",
    "repeat",
    "expand_as",
    "swapaxes",
)
for _name in _METHODS:
    globals()[_name] = _method(_name)
del _name

__all__ = [
    "allclose",
    "bmm",
    "cat",
    "clamp",
    "clip",
    "concat",
    "concatenate",
    "dot",
    "equal",
    "is_tensor",
    "matmul",
    "maximum",
    "minimum",
    "mm",
    "mv",
    "numel",
    "stack",
    "where",
]
__all__.extend(_METHODS)
