"""``F.gumbel_softmax`` (differentiable sampling from a categorical) and ``F.pdist`` (the
condensed pairwise distance vector), both compositions of Tensor ops.

gumbel_softmax: softmax((logits + g) / tau) with g = -log(E), E ~ Exp(1) drawn from fastnn's
generator (E = -log(1 - U), U uniform in [0, 1)); hard=True returns the one-hot of the argmax in
the forward and the soft sample's gradient (y_hard - y_soft.detach() + y_soft), the
straight-through estimator. pdist: for rows i < j of an (N, M) input, in row-major order, the
p-norm of x_i - x_j: N (N - 1) / 2 distances, gathered by index_select (its backward
scatter-adds) and reduced by norm.
"""

import numpy as np

from ... import _devices
from ..._core import dtype as _dtype
from ..._tensor.creation import tensor as _tensor


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    be = _devices.of(logits._data)
    u = logits._make(be.rand(tuple(logits.shape), logits.dtype))
    gumbels = -((1.0 - u).log().neg().log())
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.detach().argmax(dim, keepdim=True)
    y_hard = logits.detach().new_zeros(tuple(logits.shape)).scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def pdist(input, p=2):
    """torch.pdist / F.pdist: (N, M) -> (N (N - 1) / 2,) p-norm distances of row pairs i < j."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not _dtype.is_floating(input.dtype):
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {input.dtype}")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    if i.size == 0:
        return input.new_zeros((0,))
    rows = _tensor(i.astype(np.int64), device=input.device)
    cols = _tensor(j.astype(np.int64), device=input.device)
    diff = input.index_select(0, rows) - input.index_select(0, cols)
    return diff.norm(p, dim=1)


__all__ = ["gumbel_softmax", "pdist"]
