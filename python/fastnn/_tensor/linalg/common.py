"""What the linear-algebra functions share: ``LinAlgError``, the checks torch makes on a matrix
argument (a Tensor, a floating dtype LAPACK handles, at least two dimensions, square), the named
tuples of the functions with several results, ``out=``, and the two pieces every LAPACK
primitive uses: the host round trip and the packing of several outputs into one.

Host round trip: numpy.linalg (LAPACK) runs on the CPU, so a primitive's forward and backward
read their storage arrays through ``to_host`` (the array itself on the CPU, a copy from a GPU)
and return ``to_device`` of the result (the array itself on the CPU, a copy to the GPU); on a
CUDA tensor each call is then correct but copies and synchronizes, as the "[host]" ops of the
CUDA backend do.

Packing: a ``Function`` has one output, so a primitive with several (Q and R, U S Vh, the
eigenvalues and eigenvectors) returns them flattened side by side in one (*batch, total) array,
and the functional cuts that into its outputs with views (``unpack``). The views' backward fills
the gradient of every unused output with zeros, which the backward formulas skip.
"""

import functools

import numpy as np

from ..._core import dtype as _dtype
from ..._core.return_types import return_type as _return_type
from ..._devices import cpu as _cpu
from ...autograd import function as _function
from .. import functions as _fns


class LinAlgError(RuntimeError):
    """A matrix the function cannot handle: singular where an inverse or a solve is needed,
    not positive-definite for a Cholesky factorization (torch.linalg.LinAlgError)."""


# ---- named results (torch.return_types) ----------------------------------------------------------

slogdet_result = _return_type("linalg_slogdet", ["sign", "logabsdet"])
legacy_slogdet_result = _return_type("slogdet", ["sign", "logabsdet"])
inv_ex_result = _return_type("linalg_inv_ex", ["inverse", "info"])
cholesky_ex_result = _return_type("linalg_cholesky_ex", ["L", "info"])
qr_result = _return_type("linalg_qr", ["Q", "R"])
svd_result = _return_type("linalg_svd", ["U", "S", "Vh"])
eigh_result = _return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
lstsq_result = _return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


# ---- argument checks -----------------------------------------------------------------------------


def describe(t):
    """'shape [2, 3], fastnn.float32' for messages."""
    return f"shape {list(t.shape)}, {_dtype.name(t._data.dtype)}"


def tensor_arg(x, fn, arg):
    if not isinstance(x, _function.Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


def floating(x, fn, arg, *, int_error=RuntimeError, half_error=None):
    """``x`` if it has a floating dtype. Integers and bools raise ``int_error`` (torch's type:
    RuntimeError, NotImplementedError where its kernel lacks the dtype); float16 raises
    ``half_error`` when given (LAPACK has no half precision)."""
    dt = x._data.dtype
    if not _dtype.is_floating(dt):
        raise int_error(
            f"{fn}: expected a floating point tensor as {arg}, got {describe(x)} (the linear "
            "algebra functions work in float32 and float64)"
        )
    if half_error is not None and dt.itemsize < 4:
        raise half_error(
            f"{fn}: low precision dtypes are not supported, got {arg} of {describe(x)} (LAPACK "
            "works in float32 and float64)"
        )
    return x


def matrix_input(x, fn, arg="A", *, square=False, int_error=RuntimeError, half_error=RuntimeError):
    """A LAPACK function's matrix argument: a float32/float64 Tensor of shape (*, m, n), square
    when ``square``."""
    floating(tensor_arg(x, fn, arg), fn, arg, int_error=int_error, half_error=half_error)
    if x.ndim < 2:
        raise RuntimeError(
            f"{fn}: the input tensor {arg} must have at least 2 dimensions, got {describe(x)}"
        )
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(
            f"{fn}: {arg} must be batches of square matrices, but they are {x.shape[-2]} by "
            f"{x.shape[-1]} matrices ({describe(x)})"
        )
    return x


def same_dtype(a, b, fn, names=("A", "B")):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"{fn}: expected {names[0]} and {names[1]} to have the same dtype, but got "
            f"{names[0]} of {describe(a)} and {names[1]} of {describe(b)}"
        )


def batch_shape(a_batch, b_batch, fn, a, b, names=("A", "B")):
    """The broadcast of two batch shapes, torch's RuntimeError when they do not broadcast."""
    try:
        return tuple(np.broadcast_shapes(tuple(a_batch), tuple(b_batch)))
    except ValueError:
        raise RuntimeError(
            f"{fn}: the batch dimensions of {names[0]} ({describe(a)}) and {names[1]} "
            f"({describe(b)}) cannot be broadcast together"
        ) from None


def with_out(out, fn, res, *inputs):
    """torch's ``out=``: ``res`` copied into ``out`` (see ``functions._into``), or ``res``."""
    return res if out is None else _fns._into(out, fn, lambda: res, *inputs)


# ---- the host round trip -------------------------------------------------------------------------


def to_host(be, a):
    """[host] A storage array as numpy: the array itself on the CPU, a copy from a GPU."""
    return be.to_numpy(a)


def to_device(be, h, dtype):
    """[host] A numpy result as a storage array of ``dtype`` on ``be``'s device."""
    h = np.asarray(h, dtype=dtype)
    return h if be is _cpu else be.from_numpy(np.ascontiguousarray(h))


def lapack(name):
    """Decorates a primitive's forward or backward that calls numpy.linalg: floating-point
    warnings stay silent, as torch's are (a NaN in, NaN out), and a routine that does not
    converge raises LinAlgError naming ``name`` (or the call's ``fn=``) and the input. numpy's
    own LinAlgError is a ValueError, which Function.apply would report as a RuntimeError naming
    the primitive instead."""

    def wrap(method):
        @functools.wraps(method)
        def run(self, *arrays, **kwargs):
            with np.errstate(all="ignore"):
                try:
                    return method(self, *arrays, **kwargs)
                except np.linalg.LinAlgError as e:
                    h = to_host(self.be, arrays[0])
                    raise not_converged(kwargs.get("fn", name), h, e) from None

        return run

    return wrap


def not_converged(fn, h, error):
    """The LinAlgError of a LAPACK routine that did not converge on ``h``."""
    why = "it contains non-finite values" if not np.isfinite(h).all() else str(error)
    return LinAlgError(
        f"{fn}: the algorithm failed to converge on the input of shape {list(h.shape)}, "
        f"{_dtype.name(h.dtype)}, because {why}"
    )


def like(t, h):
    """A tensor on ``t``'s device holding the numpy array ``h`` (a result without gradient)."""
    return _function.Tensor._make(to_device(t._backend(), h, np.asarray(h).dtype))


def swap(h):
    """The matrices of ``h`` (..., m, n) transposed (a view)."""
    return np.swapaxes(h, -1, -2)


def eye_like(h):
    """Identity matrices of ``h``'s last dimension and dtype, broadcast over its batch."""
    return np.broadcast_to(np.eye(h.shape[-1], dtype=h.dtype), h.shape)


def batch_prefix(h, i):
    """torch's "(Batch element i): " in front of a message about matrix i of a batch."""
    return "" if h.ndim == 2 else f"(Batch element {i}): "


def per_matrix(h):
    """``h`` (..., m, n) as a (count, m, n) array of its matrices (a view where numpy can)."""
    return h.reshape(int(np.prod(h.shape[:-2], dtype=np.int64)), *h.shape[-2:])


# ---- several outputs in one array ----------------------------------------------------------------


def pack(parts, batch):
    """Host arrays of batch shape ``batch`` flattened side by side: (*batch, total)."""
    nb = len(batch)
    return np.concatenate(
        [p.reshape(*batch, int(np.prod(p.shape[nb:], dtype=np.int64))) for p in parts], axis=-1
    )


def unpack_host(g, batch, shapes):
    """The arrays ``pack`` put in ``g``, of shapes (*batch, *shape)."""
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        out.append(g[..., start : start + size].reshape(*batch, *shape))
        start += size
    return out


def unpack(t, batch, shapes):
    """The tensors ``pack`` put in the packed tensor ``t``: differentiable views."""
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        out.append(t.narrow(-1, start, size).reshape(*batch, *shape))
        start += size
    return out
