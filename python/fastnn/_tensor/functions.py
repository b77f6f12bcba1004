"""Top-level tensor functions (``fastnn.matmul``, ``fastnn.cat``, ``fastnn.exp``...)."""

import numpy as np

from .. import _devices
from .._core import dtype as _dtype
from .._core.dims import wrap_dim
from ..autograd import function as _function
from .ops import elementwise as E
from .ops import linalg as L
from .ops import shape as S


def _as_tensor(x):
    T = _function.Tensor
    if isinstance(x, T):
        return x
    from .creation import tensor

    return tensor(x)


def _level(x):
    """(numpy dtype, level) of an operand for promotion: level 2 a dimensioned tensor, 1 a 0-d
    tensor, 0 a Python number; None for anything else."""
    if isinstance(x, _function.Tensor):
        return x._data.dtype, (2 if x._data.ndim else 1)
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, (bool, int, float)):
        return _dtype.scalar_dtype(x), 0
    return None


def _result_dtype(operands):
    """torch's result type (a numpy dtype) of tensors and Python numbers."""
    groups = [None, None, None]
    for x in operands:
        dt, level = _level(x)
        groups[level] = _dtype.promote(groups[level], dt)
    return _dtype.combine(groups[2], groups[1], groups[0])


def result_type(tensor, other):
    """The dtype of an arithmetic operation on ``tensor`` and ``other`` (tensors or numbers)."""
    for arg, x in (("tensor", tensor), ("other", other)):
        if _level(x) is None:
            raise TypeError(
                f"result_type(): argument '{arg}' must be a Tensor or a number, "
                f"not {type(x).__name__}"
            )
    return _dtype.of(_result_dtype((tensor, other)))


def is_floating_point(input):
    """Whether ``input``'s dtype is a floating point type."""
    if not isinstance(input, _function.Tensor):
        raise TypeError(
            f"is_floating_point(): argument 'input' must be Tensor, not {type(input).__name__}"
        )
    return input._data.dtype.kind == "f"


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
    tensors = _promote_all(tensors)
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
    return S.Stack.apply(*_promote_all(tensors), axis=dim)


def _promote_all(tensors):
    """The tensors cast to their promoted dtype: cat and stack promote them as equals, whatever
    their dimensions. (This module's ``any`` is fastnn.any: plain loops here.)"""
    first = dt = tensors[0]._data.dtype
    for t in tensors:
        dt = _dtype.promote(dt, t._data.dtype)
    if dt is first:
        return tensors
    return [t if t._data.dtype == dt else t.to(dt) for t in tensors]


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
    for arg, v in (("input", x), ("other", y)):
        if _level(v) is None:
            raise TypeError(
                f"where(): argument '{arg}' must be a Tensor or a number, not {type(v).__name__}"
            )
    dt = _result_dtype((x, y))
    like = x if isinstance(x, T) else y if isinstance(y, T) else None
    x, y = (_place(v, dt, like, c) for v in (x, y))
    return E.Where.apply(x, y, cond=c)


def _place(v, dt, like, cond):
    """A where() operand as a tensor of dtype ``dt`` on the device of ``like`` (or of the
    condition when both operands are numbers)."""
    T = _function.Tensor
    if isinstance(v, T):
        return v if v._data.dtype == dt else v.to(dt)
    if isinstance(v, np.generic):
        v = v.item()
    be = _devices.of(like._data if like is not None else cond)
    return T._make(be.asarray(v, dt))


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
    "is_floating_point",
    "is_tensor",
    "matmul",
    "maximum",
    "minimum",
    "mm",
    "mv",
    "numel",
    "result_type",
    "stack",
    "where",
]
__all__.extend(_METHODS)
