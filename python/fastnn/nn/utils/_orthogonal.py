"""The maps behind ``parametrizations.orthogonal``: a matrix X (n >= k; a wide one is handled
transposed) to an n x k matrix with orthonormal columns, and the inverses that pick X for a
given orthogonal Q.

- matrix_exp: exp(A) for the skew-symmetric A = L - L^T, L the lower triangle of X (padded to
  n x n with zero columns), first k columns.
- cayley: (I - A / 2)^-1 (I + A / 2), the same A.
- householder: the product of the reflectors I - tau_i v_i v_i^T with v_i the unit-diagonal
  columns of X's strict lower triangle and tau_i = 2 / |v_i|^2, each column's sign then taken
  from X's diagonal (truncated to an int, as torch's), which is how its inverse (a QR
  factorization, LAPACK's geqrf) stores it.

With the trivialization (the default), the tensor kept is X = -I and the matrix it maps to is
multiplied onto ``base``, the orthogonal matrix assigned last; training then moves X away
from -I (where every map gives the identity, up to the householder signs).

The maps are fastnn.linalg's differentiable matrix_exp, solve and householder_product; the
inverses run on the host in float64 numpy, without gradient.
"""

import numpy as np

from ..._tensor.creation import eye, tensor
from ..._tensor.functions import cat
from ...linalg import householder_product, matrix_exp, solve


def orthogonal_map(x, kind, base):
    """The map ``kind`` of x, times ``base`` when there is one."""
    n, k = x.shape[-2], x.shape[-1]
    transposed = n < k
    if transposed:
        x, n, k = x.mT, k, n
    if kind in ("matrix_exp", "cayley"):
        x = x.tril()
        if n != k:
            x = cat([x, x.new_zeros((n, n - k)).expand(*x.shape[:-2], n, n - k)], -1)
        a = x - x.mT
        if kind == "matrix_exp":
            q = matrix_exp(a)
        else:
            ident = eye(n, dtype=a.dtype, device=a.device)
            q = solve(ident - 0.5 * a, ident + 0.5 * a)
        q = q[..., :k] if n != k else q
    else:
        a = x.tril(-1)
        tau = 2.0 / (1.0 + (a * a).sum(-2))
        q = householder_product(a, tau)
        signs = x.diagonal(dim1=-2, dim2=-1).detach().to(dtype=np.int64).to(dtype=x.dtype)
        q = q * signs.unsqueeze(-2)
    if base is not None:
        q = base @ q
    return q.mT if transposed else q


def _host(t):
    return t.detach().cpu().numpy().astype(np.float64)


def _back(a, like):
    return tensor(np.ascontiguousarray(a), dtype=like.dtype, device=like.device)


def geqrf(q):
    """LAPACK's QR of each matrix of ``q`` (n >= k) as (a, tau): R on and above a's diagonal,
    the reflectors' vectors below it."""
    m = _host(q)
    flat = m.reshape(-1, *m.shape[-2:])
    a, tau = np.empty_like(flat), np.empty((flat.shape[0], flat.shape[-1]))
    for i, mat in enumerate(flat):
        h, t = np.linalg.qr(mat, mode="raw")
        a[i], tau[i] = h.T, t
    return _back(a.reshape(m.shape), q), _back(tau.reshape(*m.shape[:-2], m.shape[-1]), q)


def make_orthogonal(a):
    """The Q of a's QR factorization with R's diagonal made non-negative (the closest
    orthogonal matrix in that sense; what torch takes for a non-orthogonal assignment)."""
    m = _host(a)
    q, r = np.linalg.qr(m)
    d = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    d[d == 0] = 1
    return _back(q * d[..., None, :], a)


def is_orthogonal(q):
    raw = q.detach().cpu().numpy()
    m = raw.astype(np.float64)
    n, k = m.shape[-2:]
    eps = 10.0 * n * np.finfo(raw.dtype).eps
    return np.allclose(np.swapaxes(m, -1, -2) @ m, np.eye(k), atol=eps, rtol=1e-5)


__all__ = ["geqrf", "is_orthogonal", "make_orthogonal", "orthogonal_map"]
