"""KL divergence between distributions: ``kl_divergence(p, q)`` looks up a closed form by the
pair of types, and ``register_kl(P, Q)`` adds one.

The lookup takes the most specific registered pair: among the pairs (P, Q) with p an instance
of P and q of Q, the one whose classes sit nearest to type(p) and type(q) in their MROs (the
sum of the two distances; ties go to the nearer P). The choice is cached per type pair and the
cache is cleared by every registration.
"""

import math

from numpy import broadcast_shapes as np_broadcast_shapes

from .._tensor.functions_more import broadcast_tensors
from .._tensor.linalg import solve
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .half_normal import HalfNormal
from .independent import Independent
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .uniform import Uniform
from .utils import softplus

__all__ = ["kl_divergence", "register_kl"]

_REGISTRY = {}
_CACHE = {}


def register_kl(type_p, type_q):
    """Decorator registering ``fn(p, q)`` as KL(p || q) for p of ``type_p``, q of ``type_q``."""
    for arg, t in (("type_p", type_p), ("type_q", type_q)):
        if not isinstance(t, type):
            raise TypeError(f"register_kl: {arg} must be a class, got {t!r}")

    def decorator(fn):
        _REGISTRY[type_p, type_q] = fn
        _CACHE.clear()
        return fn

    return decorator


def _lookup(tp, tq):
    best, best_key = None, None
    for (p_cls, q_cls), fn in _REGISTRY.items():
        if issubclass(tp, p_cls) and issubclass(tq, q_cls):
            dp, dq = tp.__mro__.index(p_cls), tq.__mro__.index(q_cls)
            key = (dp + dq, dp)
            if best_key is None or key < best_key:
                best, best_key = fn, key
    return best


def kl_divergence(p, q):
    """KL(p || q), batched over the distributions' common batch shape."""
    key = (type(p), type(q))
    if key not in _CACHE:
        _CACHE[key] = _lookup(*key)
    fn = _CACHE[key]
    if fn is None:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
            f"{type(q).__name__}"
        )
    return fn(p, q)


def _inf_where(kl, outside):
    """``kl`` with +inf where ``outside`` (p puts mass where q has none)."""
    return kl.where(~outside, math.inf)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    ratio = (p.scale / q.scale).pow(2)
    shift = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (ratio + shift - 1 - ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    terms = p.probs * (p.logits - q.logits)
    terms = terms.where(~(q.probs == 0).expand_as(terms), math.inf)
    terms = terms.where(~(p.probs == 0).expand_as(terms), 0.0)
    return terms.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    # p log(p/q) + (1-p) log((1-p)/(1-q)), with the logits: log p = -softplus(-logit)
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = t1.where(~(p.probs == 0), 0.0)
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = t2.where(~(p.probs == 1), 0.0)
    return t1 + t2


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            "KL between Independents with different reinterpreted_batch_ndims"
        )
    kl = kl_divergence(p.base_dist, q.base_dist)
    n = p.reinterpreted_batch_ndims
    return kl.sum(tuple(range(-n, 0))) if n else kl


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two Multivariate Normals with different event shapes "
            "cannot be computed"
        )
    n = p.event_shape[0]
    lp, lq = broadcast_tensors(p.scale_tril, q.scale_tril)
    # tr(Sq^-1 Sp) = ||Lq^-1 Lp||_F^2; the mean term is ||Lq^-1 (mq - mp)||^2
    trace = solve(lq, lp).pow(2).sum((-2, -1))
    diff = (q.loc - p.loc).unsqueeze(-1)
    batch = tuple(np_broadcast_shapes(tuple(diff.shape[:-2]), tuple(lq.shape[:-2])))
    maha = solve(lq.expand((*batch, n, n)), diff.expand((*batch, n, 1))).pow(2).sum((-2, -1))
    return _half_log_det(lq) - _half_log_det(lp) + 0.5 * (trace + maha - n)


def _half_log_det(tril):
    return tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def _log_beta(a, b):
    return a.lgamma() + b.lgamma() - (a + b).lgamma()


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    kl = ((q.high - q.low) / (p.high - p.low)).log()
    return _inf_where(kl, (q.low > p.low) | (q.high < p.high))


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return ratio - 1 - ratio.log()


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    ap, bp, aq, bq = p.concentration, p.rate, q.concentration, q.rate
    return (
        aq * (bp / bq).log()
        + aq.lgamma()
        - ap.lgamma()
        + (ap - aq) * ap.digamma()
        + (bq - bp) * (ap / bp)
    )


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    a1, b1, a2, b2 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    s1 = a1 + b1
    return (
        _log_beta(a2, b2)
        - _log_beta(a1, b1)
        + (a1 - a2) * a1.digamma()
        + (b1 - b2) * b1.digamma()
        + (a2 - a1 + b2 - b1) * s1.digamma()
    )


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    cp, cq = p.concentration, q.concentration
    sp, sq = cp.sum(-1), cq.sum(-1)
    return (
        sp.lgamma()
        - sq.lgamma()
        - (cp.lgamma() - cq.lgamma()).sum(-1)
        + ((cp - cq) * (cp.digamma() - sp.digamma().unsqueeze(-1))).sum(-1)
    )


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    ratio = p.scale / q.scale
    dist = (p.loc - q.loc).abs()
    return -ratio.log() + dist / q.scale + ratio * (-dist / p.scale).exp() - 1


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    ratio = (p.scale / q.scale).pow(2)
    return 0.5 * (ratio - 1 - ratio.log())
