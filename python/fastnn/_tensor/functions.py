"""Top-level tensor functions (``fastnn.matmul``, ``fastnn.cat``, ``fastnn.exp``...)."""

import builtins

import numpy as np

from .. import _C as _kernels
from .. import _devices
from .._core import autocast as _autocast
from .._core import dtype as _dtype
from .._core.dims import wrap_dim
from .._devices import cpu as _cpu
from ..autograd import function as _function
from ..autograd import graph_ops as _graph_ops
from ..autograd import node_extras as _node_extras
from ..autograd.grad_mode import is_grad_enabled as _grad_enabled
from ..autograd.grad_mode import state as _grad_state
from . import creation as _creation
from . import sparse as _sparse
from .ops import elementwise as E
from .ops import linalg as L
from .ops import mathfns as E_
from .ops import shape as S
from .sparse import SparseStorage as _SparseStorage

_NDARRAY = np.ndarray
_KDT = (np.dtype(np.float32), np.dtype(np.float64))


def _record_matmul(a, b, da, db):
    """MatMul.apply(a, b) while recording, for two CPU float arrays: the node apply would build
    (the same fields), without its generic pass over the inputs and the backend's dispatch.
    A running profiler takes apply's path, where it records the op."""
    if _function.op_observer is not None:
        return L.MatMul.apply(a, b)
    ctx = _new_node(L.MatMul)
    ctx.be = _devices.cpu
    ctx.requires_grad = True
    ctx.a, ctx.b = da, db
    out = _kernels.matmul_ab(da, db)
    ctx.parents = (a, b)
    ctx.needs_input_grad = (a.requires_grad, b.requires_grad)
    ctx.versions = (a._vc[0], b._vc[0])
    result = _function._make(out, True, ctx)
    if _function.saved_hooks is not None:
        _node_extras.pack_node(ctx, _function.saved_hooks, (a, b), result)
    return result


_new_node = object.__new__


def _as_tensor(x):
    return x if isinstance(x, _function.Tensor) else _creation.tensor(x)


def _tensor_list(tensors, fn):
    """cat/stack's operands: a list or tuple of tensors, as torch requires. A tensor would have
    been split along its first dimension, and a number or a string made into a tensor."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{fn}(): argument 'tensors' must be a tuple or list of Tensors, not "
            f"{type(tensors).__name__}"
        )
    for i, t in enumerate(tensors):
        if not isinstance(t, _function.Tensor):
            raise TypeError(
                f"{fn}(): expected Tensor as element {i} of argument 'tensors', but got "
                f"{type(t).__name__}"
            )
    return list(tensors)


def _level(x):
    """(numpy dtype, level) of an operand for promotion: level 2 a dimensioned tensor, 1 a 0-d
    tensor, 0 a Python number; None for anything else."""
    if isinstance(x, _function.Tensor):
        return x._data.dtype, (2 if x._data.ndim else 1)
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, (bool, int, float, complex)):
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
    return _dtype.is_floating(input._data.dtype)


def matmul(input, other, *, out=None):
    """Matrix product with torch's rules for 1-D, 2-D, batched and broadcast operands; the work
    is one GEMM (2-D) or one batched GEMM (3-D) on the matmul kernel."""
    a, b = input, other
    if out is not None:
        return _into(out, "matmul", lambda: matmul(a, b), a, b)
    T = _function.Tensor
    if not isinstance(a, T):  # (not _as_tensor: on 4x4 operands its two calls cost ~5%)
        a = _creation.tensor(a)
    if not isinstance(b, T):
        b = _creation.tensor(b)
    if _autocast.flag.on:
        a, b = _autocast.lower(a, b)
    da, db = a._data, b._data
    na, nb = da.ndim, db.ndim
    if na == 2 and nb == 2 and da.dtype == db.dtype and da.shape[1] == db.shape[0]:
        # the common case first: its checks are the ones below. Not recording, two CPU float
        # arrays: straight to the kernel (what MatMul.apply would do after its generic loop
        # over the inputs, a third of a 4x4 product's time).
        if da.__class__ is _NDARRAY and db.__class__ is _NDARRAY and da.dtype in _KDT:
            if not ((a.requires_grad or b.requires_grad) and _grad_state.enabled):
                return _function._make(_kernels.matmul_ab(da, db), False, None)
            return _record_matmul(a, b, da, db)
        if da.__class__ is _SparseStorage or db.__class__ is _SparseStorage:
            return _sparse.matmul(a, b)
        return L.MatMul.apply(a, b)
    if da.__class__ is _SparseStorage or db.__class__ is _SparseStorage:
        return _sparse.matmul(a, b)  # (after the dense fast path: no test on its way)
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


def mm(input, mat2, *, out=None):
    a, b = input, mat2
    if out is not None:
        return _into(out, "mm", lambda: a.mm(b), a, b)
    return a.mm(b)


def bmm(input, mat2, *, out=None):
    a, b = input, mat2
    if out is not None:
        return _into(out, "bmm", lambda: a.bmm(b), a, b)
    return a.bmm(b)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """``repeat_interleave(x, repeats, dim=None)`` is ``x.repeat_interleave(...)``; the one-tensor
    form ``repeat_interleave(counts)`` gives each index i, counts[i] times (the row id of every
    element of a ragged batch)."""
    if repeats is not None:
        return _as_tensor(input).repeat_interleave(repeats, dim, output_size=output_size)
    counts = _as_tensor(input)
    if counts._data.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    index = _creation.arange(counts.shape[0], device=counts.device)
    return index.repeat_interleave(counts, 0, output_size=output_size)


def mv(input, vec, *, out=None):
    a, b = input, vec
    if out is not None:
        return _into(out, "mv", lambda: a.mv(b), a, b)
    return a.mv(b)


def dot(input, tensor, *, out=None):
    a, b = input, tensor
    if out is not None:
        return _into(out, "dot", lambda: dot(a, b), a, b)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)


def cat(tensors, dim=0, *, out=None):
    if out is not None:
        return _into(out, "cat", lambda: cat(tensors, dim), tensors)
    arrays = _plain_host_arrays(tensors)
    if arrays is not None and dim.__class__ is int:
        try:  # the kernel checks the shapes and the dim; the path below words its errors as torch
            return _function._make(_cpu.concatenate(arrays, dim), False, None)
        except (ValueError, IndexError):
            pass
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")  # as torch
    first = tensors[0]._data.shape
    nd = len(first)
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    dim = wrap_dim(dim, nd, fn="cat")
    for i, t in enumerate(tensors):
        shape = t._data.shape
        if shape == first:
            continue
        if len(shape) != nd:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {nd} and {len(shape)}"
            )
        for d in range(nd):
            if d != dim and shape[d] != first[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{first[d]} but got size {shape[d]} for tensor number {i} in the list."
                )
    tensors = _promote_all(tensors)  # (one tensor is copied too: torch's cat never aliases)
    arrays = _host_arrays(tensors)
    if arrays is not None:
        return _function._make(_cpu.concatenate(arrays, dim), False, None)
    return S.Cat.apply(*tensors, axis=dim)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    if out is not None:
        return _into(out, "stack", lambda: stack(tensors, dim), tensors)
    arrays = _plain_host_arrays(tensors)
    if arrays is not None and dim.__class__ is int:
        first = arrays[0].shape
        if -len(first) - 1 <= dim <= len(first):
            for a in arrays:
                if a.shape != first:
                    break
            else:
                return _function._make(_cpu.stack(arrays, dim % (len(first) + 1)), False, None)
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    dim = wrap_dim(dim, len(first) + 1, fn="stack")
    for i, t in enumerate(tensors):
        if t._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got "
                f"{list(first)} at entry 0 and {list(t._data.shape)} at "
                f"entry {i}"
            )
    tensors = _promote_all(tensors)
    arrays = _host_arrays(tensors)
    if arrays is not None:
        return _function._make(_cpu.stack(arrays, dim), False, None)
    return S.Stack.apply(*tensors, axis=dim)


def _plain_host_arrays(tensors):
    """The arrays of ``tensors`` when it is a non-empty list or tuple of CPU tensors of one
    dtype outside autograd (most calls of cat and stack: one pass over it), else None."""
    if (tensors.__class__ is not list and tensors.__class__ is not tuple) or not tensors:
        return None
    T = _function.Tensor
    arrays = []
    dt = None
    for t in tensors:
        if not isinstance(t, T):
            return None
        a = t._data
        if a.__class__ is not _NDARRAY or t.requires_grad or (a.dtype is not dt and arrays):
            return None
        dt = a.dtype
        arrays.append(a)
    return arrays


def _host_arrays(tensors):
    """The arrays of CPU tensors outside autograd (cat and stack then call the host op
    themselves, as the operators do); None when any is on a device or records."""
    arrays = []
    for t in tensors:
        a = t._data
        if a.__class__ is not _NDARRAY or t.requires_grad:
            return None
        arrays.append(a)
    return arrays


def _promote_all(tensors):
    """The tensors cast to their promoted dtype: cat and stack promote them as equals, whatever
    their dimensions. (This module's ``any`` is fastnn.any: plain loops here.)"""
    dt = tensors[0]._data.dtype
    for t in tensors:
        if t._data.dtype is not dt:
            break
    else:
        return tensors  # one dtype (most calls)
    same = True
    for t in tensors:
        same = same and t._data.dtype == dt
        dt = _dtype.promote(dt, t._data.dtype)
    if same:  # (a promoted dtype equal to the first's does not mean all are equal: f16, i16)
        return tensors
    return [t if t._data.dtype == dt else t.to(dt) for t in tensors]


def where(condition, input=None, other=None):
    x, y = input, other
    T = _function.Tensor
    c = condition._data if isinstance(condition, T) else np.asarray(condition)
    if (  # two CPU tensors of one dtype outside autograd and a bool mask (most calls)
        c.__class__ is _NDARRAY
        and c.dtype.kind == "b"
        and isinstance(x, T)
        and isinstance(y, T)
        and x._data.__class__ is _NDARRAY
        and y._data.__class__ is _NDARRAY
        and x._data.dtype is y._data.dtype
        and not (x.requires_grad or y.requires_grad)
    ):
        try:
            return _function._make(_cpu.wrap(_cpu.where(c, x._data, y._data)), False, None)
        except ValueError:
            pass  # shapes that do not broadcast: the path below raises the op's error
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


def maximum(input, other, *, out=None):
    if out is not None:
        return _into(out, "maximum", lambda: maximum(input, other), input, other)
    return _as_tensor(input).maximum(other)


def minimum(input, other, *, out=None):
    if out is not None:
        return _into(out, "minimum", lambda: minimum(input, other), input, other)
    return _as_tensor(input).minimum(other)


def clamp(input, min=None, max=None, *, out=None):
    if out is not None:
        return _into(out, "clamp", lambda: input.clamp(min, max), input, min, max)
    return input.clamp(min, max)


clip = clamp


def numel(input):
    return input.numel()


def is_tensor(x):
    return isinstance(x, _function.Tensor)


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    a, b = np.asarray(input), np.asarray(other)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a, b):
    return a.equal(b)


# the generated functions (below) that take torch's ``out=``; the hand-written ones (matmul, bmm,
# maximum, clamp...) handle ``out=`` themselves
_OUT = frozenset(
    (
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
        "sigmoid",
        "tanh",
        "sum",
        "mean",
        "prod",
        "cumsum",
        "cumprod",
        "logsumexp",
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
        "tan",
        "sinh",
        "cosh",
        "asin",
        "acos",
        "atan",
        "arcsin",
        "arccos",
        "arctan",
        "atan2",
        "arctan2",
        "asinh",
        "acosh",
        "atanh",
        "arcsinh",
        "arccosh",
        "arctanh",
        "exp2",
        "log2",
        "log10",
        "reciprocal",
        "floor",
        "ceil",
        "round",
        "trunc",
        "fix",
        "frac",
        "erf",
        "lerp",
        "hypot",
        "logaddexp",
        "addmm",
        "baddbmm",
        "outer",
        "addcmul",
        "addcdiv",
        "tril",
        "triu",
        "gather",
        "index_select",
        "argsort",
        "logical_and",
        "logical_or",
        "logical_xor",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "bitwise_not",
        "isinf",
        "isposinf",
        "isneginf",
        "isfinite",
        "isclose",
        "count_nonzero",
        "nan_to_num",
    )
)


def _requires_grad(args):
    T = _function.Tensor
    for a in args:
        if isinstance(a, T):
            if a.requires_grad:
                return True
        elif isinstance(a, (list, tuple)) and _requires_grad(a):
            return True
    return False


def _into(out, name, compute, *args):
    """torch's ``out=``: the result written into ``out`` (same shape; a dtype out can hold by
    torch's same-kind rule). Not differentiable, like torch: refused when grad is recorded."""
    T = _function.Tensor
    if not isinstance(out, T):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if _grad_enabled() and (out.requires_grad or _requires_grad(args)):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    r = compute()
    if r._data.__class__ is not out._data.__class__:
        _function.device_mismatch((r, out))
    if r._data.shape != out._data.shape:
        raise RuntimeError(
            f"{name}(): out has shape {list(out.shape)} but the result has shape "
            f"{list(r.shape)} (fastnn does not resize out)"
        )
    if r._data.dtype != out._data.dtype and not np.can_cast(
        r._data.dtype, out._data.dtype, "same_kind"
    ):
        raise RuntimeError(
            f"{name}(): result type {_dtype.name(r._data.dtype)} can't be cast to the desired "
            f"output type {_dtype.name(out._data.dtype)}"
        )
    _devices.of(out._data).copyto(out._data, r._data)
    out._vc[0] += 1
    return out


# One-input functions whose Tensor method takes no argument: fastnn.tanh(x) calls x.tanh()
# without packing and unpacking an argument list (a fifth of a 4x4 op).
_UNARY = frozenset(
    ("exp", "log", "sqrt", "abs", "sin", "cos", "tan", "relu", "sigmoid", "tanh", "sinh",
     "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan",
     "arcsinh", "arccosh", "arctanh", "exp2", "log2", "log10", "erf")
)  # fmt: skip


def _method(name):
    if name in _UNARY:

        def fn(input, *, out=None):
            if out is not None:
                return _into(out, name, getattr(_as_tensor(input), name), input)
            if input.__class__ is not _function.Tensor:
                input = _as_tensor(input)
            return getattr(input, name)()

        fn.__name__ = name
        fn.__doc__ = f"``fastnn.{name}(x, out=None)`` is ``x.{name}()``."
        return fn
    if name in _OUT:

        def fn(input, *args, out=None, **kwargs):
            if out is not None:
                return _into(
                    out,
                    name,
                    lambda: getattr(_as_tensor(input), name)(*args, **kwargs),
                    input,
                    args,
                )
            return getattr(_as_tensor(input), name)(*args, **kwargs)

        fn.__name__ = name
        fn.__doc__ = f"``fastnn.{name}(x, ..., out=None)`` is ``x.{name}(...)``."
        return fn

    def fn(input, *args, **kwargs):
        return getattr(_as_tensor(input), name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"``fastnn.{name}(x, ...)`` is ``x.{name}(...)``."
    return fn


def einsum(equation, *operands):
    """Einstein summation: 'ij,jk->ik', 'bij,bjk->bik', 'i,i->', 'ii->i', '...ij->...ji';
    implicit output (no '->': the letters seen once, sorted) and '...' like torch. Operands may
    also come as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    T = _function.Tensor
    for i, t in enumerate(operands):
        if not isinstance(t, T):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(t).__name__}")
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): equation must be a str, not {type(equation).__name__}")
    subscripts = _einsum_letters(equation.replace(" ", ""), operands)
    dts = {t._data.dtype for t in operands}
    if len(dts) > 1:
        dt = np.result_type(*dts)
        operands = tuple(t.to(dt) for t in operands)
    try:
        return E_.Einsum.apply(*operands, subscripts=subscripts)
    except RuntimeError as e:
        raise RuntimeError(f"einsum(): {e}") from None


def _einsum_letters(eq, operands):
    """The equation with '...' spelled out as letters it does not use and an explicit output."""
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(operands):
        raise RuntimeError(
            f"einsum(): {len(subs)} operands in the equation but {len(operands)} tensors given"
        )
    letters = set(eq) - set(".,->")
    bad = [c for c in letters if not c.isascii() or not c.isalpha()]
    if bad:
        raise RuntimeError(f"einsum(): invalid subscript {bad[0]!r} in the equation {eq!r}")
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in letters]
    n_ell = 0
    for sub, t in zip(subs, operands):
        named = len(sub.replace("...", ""))
        if "..." in sub:
            n_ell = builtins.max(n_ell, t.ndim - named)
    if n_ell > len(free):
        raise RuntimeError("einsum(): too many dimensions under '...'")
    ell = "".join(free[:n_ell])
    out_subs = []
    for i, (sub, t) in enumerate(zip(subs, operands)):
        named = len(sub.replace("...", ""))
        if "..." in sub:
            k = t.ndim - named
            if k < 0:
                raise RuntimeError(
                    f"einsum(): operand {i} has {t.ndim} dimensions, fewer than the "
                    f"{named} subscripts of {sub!r}"
                )
            sub = sub.replace("...", ell[n_ell - k :])
        elif named != t.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not match "
                f"the number of dimensions ({t.ndim}) for operand {i} and no ellipsis was given"
            )
        out_subs.append(sub)
    if arrow:
        out = rhs.replace("...", ell)
        unknown = [c for c in out if c not in "".join(out_subs)]
        if unknown or len(set(out)) != len(out):
            raise RuntimeError(f"einsum(): invalid output subscripts {rhs!r}")
    else:
        counts = {}
        for c in "".join(s.replace("...", "") for s in subs):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    return ",".join(out_subs) + "->" + out


def tensordot(a, b, dims=2, out=None):
    """Contract the last ``dims`` dimensions of a with the first ``dims`` of b, or the listed
    dimensions (``dims=([1, 0], [0, 1])``)."""
    if out is not None:
        return _into(out, "tensordot", lambda: tensordot(a, b, dims), a, b)
    if isinstance(dims, int):
        if dims < 0 or dims > builtins.min(a.ndim, b.ndim):
            raise RuntimeError(
                f"tensordot expects dims >= 0 and <= min(a.ndim, b.ndim), got {dims}"
            )
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, got {da} and {db}")
        da, db = [d % a.ndim for d in da], [d % b.ndim for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[i]} in dim "
                f"{i} and second has size {b.shape[j]} in dim {j}"
            )
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    sa = letters[: a.ndim]
    sb = list(letters[a.ndim : a.ndim + b.ndim])
    for i, j in zip(da, db):
        sb[j] = sa[i]
    sb = "".join(sb)
    res = "".join(c for k, c in enumerate(sa) if k not in da)
    res += "".join(c for k, c in enumerate(sb) if k not in db)
    return einsum(f"{sa},{sb}->{res}", a, b)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids (expanded views) from 1-D tensors; indexing='xy' swaps the first two
    output dimensions (Cartesian order)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D "
                f"(tensor {i})"
            )
    sizes = [t.numel() for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    full = tuple(sizes[order[k]] for k in range(len(tensors)))
    grids = []
    for i, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[order.index(i)] = sizes[i]
        grids.append(t.reshape(tuple(shape)).expand(full))
    return tuple(grids)


# the tutorials' math surface: more functions that are the Tensor method of the same name
_MATH_METHODS = (
    "tan",
    "sinh",
    "cosh",
    "asin",
    "acos",
    "atan",
    "arcsin",
    "arccos",
    "arctan",
    "asinh",
    "acosh",
    "atanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "atan2",
    "arctan2",
    "exp2",
    "log2",
    "log10",
    "reciprocal",
    "floor",
    "ceil",
    "round",
    "trunc",
    "fix",
    "frac",
    "erf",
    "lerp",
    "hypot",
    "logaddexp",
    "cumsum",
    "cumprod",
    "prod",
    "logsumexp",
    "topk",
    "sort",
    "argsort",
    "kthvalue",
    "median",
    "addmm",
    "baddbmm",
    "outer",
    "ger",
    "addcmul",
    "addcdiv",
    "tril",
    "triu",
    "scatter",
    "scatter_add",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "narrow",
    "movedim",
    "moveaxis",
    "logical_and",
    "logical_or",
    "logical_xor",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "isinf",
    "isposinf",
    "isneginf",
    "isfinite",
    "isclose",
    "count_nonzero",
    "nan_to_num",
    "log1p",
    "expm1",
    "remainder",
    "fmod",
    "floor_divide",
    "diff",
    "cross",
    "diagonal",
    "trace",
    "diag",
    "tile",
    "masked_select",
    "unique",
    "index_add",
    "true_divide",
)

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
    "nonzero",
)
for _name in _METHODS + _MATH_METHODS:
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
    "einsum",
    "equal",
    "is_floating_point",
    "is_tensor",
    "matmul",
    "maximum",
    "meshgrid",
    "minimum",
    "mm",
    "mv",
    "numel",
    "repeat_interleave",
    "result_type",
    "stack",
    "tensordot",
    "where",
]
__all__.extend(_METHODS)
__all__.extend(_MATH_METHODS)


# the recorded forms of the backend's where and maximum, for backward under create_graph=True


@_graph_ops.recorded("where")
def _recorded_where(cond, a, b):
    c, const = _graph_ops.data(cond), _graph_ops.const
    if not isinstance(a, _function.Tensor) and not isinstance(b, _function.Tensor):
        return const(_devices.of(c).where(c, _graph_ops.data(a), _graph_ops.data(b)))
    return where(const(c), const(a), const(b))


@_graph_ops.recorded("maximum")
def _recorded_maximum(a, b):
    T = _function.Tensor
    if not isinstance(a, T) and not isinstance(b, T):
        return _graph_ops.const(_devices.of(_graph_ops.data(a)).maximum(a, b))
    like = (a if isinstance(a, T) else b)._data
    a, b = (
        x if isinstance(x, T) else T._make(_devices.of(like).asarray(x, like.dtype)) for x in (a, b)
    )
    return maximum(a, b)


@_graph_ops.recorded("stack")
def _recorded_stack(arrays, axis):
    return stack([_graph_ops.const(a) for a in arrays], dim=axis)
