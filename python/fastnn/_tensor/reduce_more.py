"""More reductions, scans and products (a mixin of ``Tensor``): nansum, nanmean, nanmedian,
aminmax, cummax, cummin, logcumsumexp, quantile, nanquantile, mode, cov, corrcoef, dist, renorm,
inner, vdot, addmv, addr, addbmm and scatter_reduce.

Values that are picked (nanmedian, cummax, quantile's neighbours) are gathered from the input at
indices found on the host, so their gradient flows to the picked elements. scatter_reduce's
amax / amin / prod are computed on the host and made differentiable by adding each contribution's
first-order term (x - x.detach()) * d out / d x, which is zero in value: amax / amin share the
gradient equally between the elements that tie for the result (torch's rule), prod passes
the product of the others (zeros included).
"""

import numpy as np

from .._core import dtype as _dtype
from .._core.dims import wrap_dim
from .._core.return_types import return_type as _return_type
from ..autograd import function as _function
from . import functions as _fns
from .logic import _host, _wrap_like

aminmax_result = _return_type("aminmax", ["min", "max"])
cummax_result = _return_type("cummax", ["values", "indices"])
cummin_result = _return_type("cummin", ["values", "indices"])
mode_result = _return_type("mode", ["values", "indices"])
nanmedian_result = _return_type("nanmedian", ["values", "indices"])

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _long(t, values):
    return _wrap_like(t, np.asarray(values, dtype=np.int64))


def _float_only(x, fn):
    if not _dtype.is_floating(x._data.dtype):
        raise RuntimeError(f"{fn}(): expected a floating point input, got {x.dtype}")
    return x


def _running_pick(x, d, better):
    """Indices of the running best along ``d`` (a later tie wins, as in torch)."""
    h = np.moveaxis(_host(x), d, 0)
    idx = np.zeros(h.shape, dtype=np.int64)
    best = h[0].copy() if h.shape[0] else None
    cur = np.zeros(h.shape[1:], dtype=np.int64)
    for i in range(h.shape[0]):
        v = h[i]
        take = better(v, best) | np.isnan(v) if i else np.ones(v.shape, bool)
        take &= ~np.isnan(best) if i else take
        best = np.where(take, v, best)
        cur = np.where(take, i, cur)
        idx[i] = cur
    return np.moveaxis(idx, 0, d)


class ReduceMoreMixin:
    __slots__ = ()

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        x = (
            self
            if not _dtype.is_floating(self._data.dtype)
            else _fns.where(self.isnan(), 0.0, self)
        )
        return x.sum(dim, keepdim=keepdim, dtype=dtype)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        _float_only(x, "nanmean")
        count = (~x.isnan()).sum(dim, keepdim=keepdim)
        return x.nansum(dim, keepdim=keepdim) / count

    def nanmedian(self, dim=None, keepdim=False):
        """The lower median of the non-NaN values (NaN where all are NaN)."""
        if dim is None:
            flat = self.reshape(-1)
            if flat.numel() == 0:
                raise RuntimeError("nanmedian() input tensor cannot be empty")
            return flat.nanmedian(0).values
        d = wrap_dim(dim, max(self.ndim, 1), fn="nanmedian")
        x = self.reshape(1) if self.ndim == 0 else self
        h = np.moveaxis(_host(x), d, -1)
        order = np.argsort(h, axis=-1, kind="stable")  # NaN last
        k = np.sum(~np.isnan(h), axis=-1, keepdims=True) if _dtype.is_floating(h.dtype) else None
        k = np.full((*h.shape[:-1], 1), h.shape[-1]) if k is None else k
        pos = np.maximum(k - 1, 0) // 2
        idx = np.take_along_axis(order, pos, axis=-1)
        idx = np.moveaxis(idx, -1, d)
        values = x.gather(d, _long(x, idx))
        indices = _long(x, idx)
        if not keepdim:
            values, indices = values.squeeze(d), indices.squeeze(d)
        if self.ndim == 0:
            values, indices = values.reshape(()), indices.reshape(())
        return nanmedian_result(values, indices)

    def aminmax(self, *, dim=None, keepdim=False):
        return aminmax_result(self.amin(dim, keepdim=keepdim), self.amax(dim, keepdim=keepdim))

    def cummax(self, dim):
        d = wrap_dim(dim, max(self.ndim, 1), fn="cummax")
        idx = _long(self, _running_pick(self, d, np.greater_equal)) if self.ndim else _long(self, 0)
        return cummax_result(self.gather(d, idx) if self.ndim else self.clone(), idx)

    def cummin(self, dim):
        d = wrap_dim(dim, max(self.ndim, 1), fn="cummin")
        idx = _long(self, _running_pick(self, d, np.less_equal)) if self.ndim else _long(self, 0)
        return cummin_result(self.gather(d, idx) if self.ndim else self.clone(), idx)

    def logcumsumexp(self, dim):
        """log(cumsum(exp(x))) along ``dim``, shifted by the slice's max against overflow."""
        d = wrap_dim(dim, max(self.ndim, 1), fn="logcumsumexp")
        x = _float_only(self, "logcumsumexp")
        if x.ndim == 0:
            return x.clone()
        m = x.amax(d, keepdim=True).detach()
        m = _fns.where(m.isinf(), 0.0, m)
        return (x - m).exp().cumsum(d).log() + m

    def _quantile(self, q, dim, keepdim, interpolation, ignore_nan, fn):
        if interpolation not in _INTERPOLATIONS:
            raise RuntimeError(
                f"{fn}() interpolation must be one of linear, lower, higher, midpoint or "
                f"nearest, but got {interpolation}"
            )
        _float_only(self, fn)
        scalar_q = not isinstance(q, _function.Tensor) or q.ndim == 0
        qs = np.atleast_1d(np.asarray(_host(q) if isinstance(q, _function.Tensor) else q, float))
        if qs.ndim > 1:
            raise RuntimeError(f"{fn}() q must be a scalar or 1D tensor")
        if np.any((qs < 0) | (qs > 1)):
            bad = qs[(qs < 0) | (qs > 1)][0]
            raise RuntimeError(f"{fn}() q must be in the range [0, 1] but got {bad}")
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else wrap_dim(dim, max(x.ndim, 1), fn=fn)
        if x.numel() == 0:
            raise RuntimeError(f"{fn}() input tensor must be non-empty")
        s = x.movedim(d, -1).sort(-1).values  # NaN last
        h = _host(s)
        n = h.shape[-1]
        nan = np.isnan(h)
        count = (n - nan.sum(-1, keepdims=True)) if ignore_nan else np.full((*h.shape[:-1], 1), n)
        pos = qs * (count - 1)  # (..., Q)
        lo = np.floor(pos)
        hi = np.ceil(pos)
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = np.round(pos)
        frac = {"linear": pos - lo, "midpoint": np.where(hi > lo, 0.5, 0.0)}.get(interpolation)
        clip = np.maximum(count - 1, 0)
        lo_i, hi_i = (np.clip(v, 0, clip).astype(np.int64) for v in (lo, hi))
        v_lo, v_hi = s.gather(-1, _long(s, lo_i)), s.gather(-1, _long(s, hi_i))
        out = v_lo if frac is None else v_lo + (v_hi - v_lo) * _wrap_like(s, frac.astype(h.dtype))
        bad = (count == 0) if ignore_nan else nan.any(-1, keepdims=True)
        out = _fns.where(_wrap_like(s, np.broadcast_to(bad, out.shape)), float("nan"), out)
        out = out.movedim(-1, 0)  # (Q, ...)
        if keepdim:
            out = out.unsqueeze(d + 1) if dim is not None else out.reshape(-1, *[1] * self.ndim)
        return out[0] if scalar_q else out

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return self._quantile(q, dim, keepdim, interpolation, False, "quantile")

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return self._quantile(q, dim, keepdim, interpolation, True, "nanquantile")

    def mode(self, dim=-1, keepdim=False):
        """The most frequent value along ``dim`` (the smallest among ties) and an index of it."""
        d = wrap_dim(dim, max(self.ndim, 1), fn="mode")
        x = self.reshape(1) if self.ndim == 0 else self
        h = np.moveaxis(_host(x), d, -1)
        rows = h.reshape(-1, h.shape[-1])
        idx = np.zeros(rows.shape[0], dtype=np.int64)
        for r, row in enumerate(rows):
            vals, counts = np.unique(row, return_counts=True)
            best = vals[np.argmax(counts)]
            idx[r] = np.flatnonzero(row == best)[-1]
        idx = np.moveaxis(idx.reshape((*h.shape[:-1], 1)), -1, d)
        values = x.gather(d, _long(x, idx))
        indices = _long(x, idx)
        if not keepdim or self.ndim == 0:
            values, indices = values.squeeze(d), indices.squeeze(d)
        return mode_result(values, indices)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        """Covariance of the rows (variables) over the columns (observations)."""
        if self.ndim > 2:
            raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {self.ndim} dimensions")  # fmt: skip
        x = self.reshape(1, -1) if self.ndim < 2 else self
        x = x if _dtype.is_floating(x._data.dtype) else x.to(_dtype.default())
        w = None
        if fweights is not None:
            w = fweights.to(x.dtype)
        if aweights is not None:
            w = aweights if w is None else w * aweights
        if w is None:
            n = x.shape[1]
            avg = x.mean(1, keepdim=True)
            norm = n - correction
            xc = x - avg
            c = (xc @ xc.mT) / max(norm, 0)
        else:
            w_sum = w.sum()
            avg = (x * w).sum(1, keepdim=True) / w_sum
            if aweights is None:
                norm = w_sum - correction
            else:
                norm = w_sum - correction * (w * aweights).sum() / w_sum
            xc = x - avg
            c = ((xc * w) @ xc.mT) / norm.clamp(min=0)
        return c.reshape(()) if c.shape[0] == 1 else c

    def corrcoef(self):
        c = self.cov()
        if c.ndim == 0:
            return c / c
        d = c.diagonal().sqrt()
        return (c / d.unsqueeze(1) / d.unsqueeze(0)).clamp(-1, 1)

    def dist(self, other, p=2):
        return (self - other).norm(p)

    def renorm(self, p, dim, maxnorm):
        """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to it."""
        if p <= 0:
            raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
        d = wrap_dim(dim, self.ndim, fn="renorm")
        others = tuple(i for i in range(self.ndim) if i != d)
        norms = self.norm(p, others, keepdim=True) if others else self.abs()
        scale = _fns.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
        return self * scale

    def inner(self, other):
        if self.ndim == 0 or other.ndim == 0:
            return self * other
        if self.shape[-1] != other.shape[-1]:
            raise RuntimeError(
                f"inner() the last dimension must match on both input tensors but got shapes "
                f"{list(self.shape)} and {list(other.shape)}"
            )
        return _fns.tensordot(self, other, dims=([-1], [-1]))

    def vdot(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")  # fmt: skip
        return self.conj().dot(other)  # the first vector conjugated (a no-op on real ones)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return _scaled_sum(self, mat.mv(vec), beta, alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        if vec1.ndim != 1 or vec2.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.ndim}-D")
        return _scaled_sum(self, vec1.outer(vec2), beta, alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        if batch1.ndim != 3 or batch2.ndim != 3:
            raise RuntimeError("batch1 and batch2 must be 3D tensors")
        return _scaled_sum(self, batch1.bmm(batch2).sum(0), beta, alpha)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        """Reduce ``src`` into a copy of self at ``index`` along ``dim`` with sum, prod, mean,
        amax or amin; without ``include_self`` the written positions forget self's values."""
        reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch takes these too
        if reduce not in ("sum", "prod", "mean", "amax", "amin"):
            raise RuntimeError(
                "reduce argument must be either sum, prod, mean, amax or amin, got " + str(reduce)
            )
        d = wrap_dim(dim, max(self.ndim, 1), fn="scatter_reduce")
        hi = _host(index)
        lead = np.indices(hi.shape, sparse=True)
        where = tuple(hi if k == d else lead[k] for k in range(hi.ndim))
        part = src[tuple(slice(0, s) for s in hi.shape)]
        hit = np.zeros(tuple(self.shape), dtype=np.int64)
        np.add.at(hit, where, 1)
        hit_t = _wrap_like(self, hit > 0)
        keep = self if include_self else _fns.where(hit_t, 0.0, self).to(self.dtype)
        if reduce in ("sum", "mean"):
            out = keep.scatter_add(d, index, part)
            if reduce == "mean":
                count = hit + (1 if include_self else 0)
                count_t = _wrap_like(self, np.maximum(count, 1).astype(self._data.dtype))
                out = out / count_t if _dtype.is_floating(self._data.dtype) else out // count_t
            return out
        hs, hp = _host(self), _host(part)
        ufunc = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
        r = hs.copy()
        if not include_self:
            r[hit > 0] = _identity(reduce, r.dtype)
        ufunc.at(r, where, hp)
        out = _wrap_like(self, r)
        if not (self.requires_grad or src.requires_grad) or not _dtype.is_floating(
            self._data.dtype
        ):
            return out
        with np.errstate(divide="ignore", invalid="ignore"):
            if reduce == "prod":
                w_self, w_src = _prod_weights(hs, hp, where, include_self | (hit == 0))
            else:
                ties = np.zeros(r.shape)
                np.add.at(ties, where, hp == r[where])
                ties += (hs == r) & include_self
                w_self = ((hs == r) & include_self) / np.maximum(ties, 1)
                w_src = (hp == r[where]) / np.maximum(ties[where], 1)
        if not include_self and reduce != "prod":
            w_self = np.where(hit > 0, 0.0, 1.0)
        w_self_t = _wrap_like(self, w_self.astype(hs.dtype))
        w_src_t = _wrap_like(self, w_src.astype(hs.dtype))
        zero_self = (self - self.detach()) * w_self_t
        zero_src = self.new_zeros(*self.shape).scatter_add(
            d, index, (part - part.detach()) * w_src_t
        )
        return out + zero_self + zero_src


def _prod_weights(hs, hp, where, self_in):
    """d out / d x for out = the product of each position's group: the product of the others,
    which for a zero x is the product of the group's non-zero members when x is its only zero
    (out / x would be 0 / 0 there)."""
    zeros = (self_in & (hs == 0)).astype(np.int64)
    np.add.at(zeros, where, hp == 0)
    nonzero = np.where(self_in & (hs != 0), hs, 1).astype(np.float64)
    np.multiply.at(nonzero, where, np.where(hp != 0, hp, 1))

    def others(v, z, nz):
        return np.where(v != 0, np.where(z == 0, nz / np.where(v != 0, v, 1), 0.0), (z == 1) * nz)

    w_self = np.where(self_in, others(hs, zeros, nonzero), 0.0)
    return w_self, others(hp, zeros[where], nonzero[where])


def _identity(reduce, dt):
    """The value that leaves ``reduce`` unchanged, in the dtype ``dt``."""
    if reduce == "prod":
        return 1
    if _dtype.is_floating(dt):
        return -np.inf if reduce == "amax" else np.inf
    if dt.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dt)
    return info.min if reduce == "amax" else info.max


def _scaled_sum(x, product, beta, alpha):
    """beta * x + alpha * product; beta = 0 ignores x (NaN in it too), as in torch."""
    prod = product if alpha == 1 else product * alpha
    if beta == 0:
        return prod + x.new_zeros(*x.shape)  # broadcast to x's shape, without its values
    return prod + (x if beta == 1 else x * beta)
