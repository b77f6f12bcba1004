"""torch.sparse's names for COO tensors: ``mm``, ``sum``, ``softmax``, ``log_softmax``,
``addmm``. The layout itself (``fastnn.sparse_coo_tensor``, ``x.to_sparse()``) and its ops live in
``fastnn._tensor.sparse``."""

from .._tensor import sparse as _impl


def mm(mat1, mat2):
    """Matrix product with a sparse first operand: dense for a dense ``mat2``, sparse for a
    sparse one. The sparse operand's gradient keeps its own index pattern."""
    if not getattr(mat1, "is_sparse", False):
        raise RuntimeError("sparse.mm: mat1 must be a sparse COO tensor")
    return _impl.mm(mat1, mat2, masked=True)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``beta * mat + alpha * (mat1 @ mat2)`` with ``mat1`` sparse and ``mat`` dense."""
    prod = mm(mat1, mat2)
    return mat * beta + (prod * alpha if alpha != 1 else prod)


def sum(input, dim=None, dtype=None):
    """Sum of a sparse tensor: a 0-d dense tensor over everything, else sparse over the dims
    left (dense when none is)."""
    if not getattr(input, "is_sparse", False):
        return input.sum() if dim is None else input.sum(dim, dtype=dtype)
    return _impl.sum(input, dim, False, dtype)


def softmax(input, dim, *, dtype=None):
    """Softmax along ``dim`` over each fiber's stored entries; absent entries stay absent."""
    if not getattr(input, "is_sparse", False):
        raise RuntimeError("sparse.softmax: input must be a sparse COO tensor")
    return _impl.softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """log of ``softmax``: the same pattern, the log of its values."""
    out = softmax(input, dim, dtype=dtype)
    return _impl._make(out._idx, out._vals.log(), out._data.shape, True)


__all__ = ["addmm", "log_softmax", "mm", "softmax", "sum"]
