"""Connectionist Temporal Classification loss (Graves et al. 2006), forward-backward in log
space, batched over samples with numpy. torch.nn.functional.ctc_loss semantics.

The gradient is the exact d loss / d log_probs, -exp(log(alpha*beta) - log_probs + nll) at the
emitting positions. (torch returns exp(log_probs) plus that, which equals the exact gradient
once it flows through the log_softmax that produces log_probs; both give the same logit grads.)
"""

import numpy as np

from ...autograd.function import Function

_NEG_INF = -np.inf


def _lse3(a, b, c):
    m = np.maximum(np.maximum(a, b), c)
    m_safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(a - m_safe) + np.exp(b - m_safe) + np.exp(c - m_safe)) + m_safe


def _shift(x, k):
    out = np.full_like(x, _NEG_INF)
    out[:, k:] = x[:, :-k] if k else x
    return out


def _unshift(x, k):
    out = np.full_like(x, _NEG_INF)
    out[:, :-k] = x[:, k:]
    return out


def ctc_forward_backward(lp, ext, ext_len, in_len, skip, want_grad):
    """lp (T, N, C) float64 log-probs; ext (N, L) extended labels (blank, l1, blank, ...);
    ext_len (N,) = 2 S + 1; in_len (N,); skip (N, L) where the s-2 transition is allowed.
    Returns nll (N,) and, if wanted, d nll / d lp (T, N, C)."""
    T, N, C = lp.shape
    L = ext.shape[1]
    emit = lp[:, np.arange(N)[:, None], ext]  # (T, N, L)
    pos = np.arange(L)[None, :]
    valid = pos < ext_len[:, None]
    emit = np.where(valid[None], emit, _NEG_INF)
    alpha = np.full((T, N, L), _NEG_INF)
    a = np.where(pos < 2, emit[0], _NEG_INF)
    alpha[0] = a
    for t in range(1, T):
        nxt = _lse3(a, _shift(a, 1), np.where(skip, _shift(a, 2), _NEG_INF)) + emit[t]
        a = np.where((t < in_len)[:, None], nxt, a)
        alpha[t] = a
    last = ext_len - 1
    rows = np.arange(N)
    end = alpha[in_len - 1, rows]  # (N, L)
    ll = np.logaddexp(
        end[rows, last], np.where(last > 0, end[rows, np.maximum(last - 1, 0)], _NEG_INF)
    )
    nll = -ll
    if not want_grad:
        return nll, None
    beta = np.full((T, N, L), _NEG_INF)
    b = np.full((N, L), _NEG_INF)
    skip_next = np.zeros_like(skip)
    skip_next[:, :-2] = skip[:, 2:]
    init_mask = (pos == last[:, None]) | (pos == last[:, None] - 1)
    for t in range(T - 1, -1, -1):
        rec = _lse3(b, _unshift(b, 1), np.where(skip_next, _unshift(b, 2), _NEG_INF)) + emit[t]
        init = np.where(init_mask, emit[t], _NEG_INF)
        is_last = (t == in_len - 1)[:, None]
        inside = (t < in_len - 1)[:, None]
        b = np.where(is_last, init, np.where(inside, rec, _NEG_INF))
        beta[t] = b
    with np.errstate(invalid="ignore"):
        lcab = alpha + beta - emit  # log(alpha_t(s) beta_t(s) / y_t(s))
        contrib = -np.exp(lcab + nll[None, :, None])
    contrib = np.where(np.isfinite(contrib), contrib, 0.0)
    grad = np.zeros((T, N, C))
    t_idx = np.arange(T)[:, None, None]
    n_idx = rows[None, :, None]
    np.add.at(
        grad,
        (
            np.broadcast_to(t_idx, contrib.shape),
            np.broadcast_to(n_idx, contrib.shape),
            np.broadcast_to(ext[None], contrib.shape),
        ),
        contrib,
    )
    return nll, grad


class CTCLoss(Function):
    def forward(
        self,
        log_probs,
        ext=None,
        ext_len=None,
        in_len=None,
        skip=None,
        tgt_len=None,
        reduction="mean",
        zero_infinity=False,
    ):
        lp = self.be.to_numpy(log_probs).astype(np.float64)  # a numpy algorithm on any device
        nll, grad = ctc_forward_backward(lp, ext, ext_len, in_len, skip, self.requires_grad)
        if zero_infinity:
            bad = ~np.isfinite(nll)
            nll = np.where(bad, 0.0, nll)
            if grad is not None:
                grad[:, bad] = 0.0
        self.grad, self.reduction, self.dtype = grad, reduction, log_probs.dtype
        if reduction == "mean":  # each loss divided by its target length, then averaged
            self.scale = 1.0 / (np.maximum(tgt_len, 1) * len(nll))
            out = np.sum(nll * self.scale)
        elif reduction == "sum":
            self.scale = np.ones(len(nll))
            out = nll.sum()
        else:
            self.scale = None
            out = nll
        return self.be.from_numpy(np.asarray(out, dtype=log_probs.dtype))

    def backward(self, g):
        g = self.be.to_numpy(g)
        w = g * self.scale if self.scale is not None else g  # (N,)
        return self.be.from_numpy((self.grad * w[None, :, None]).astype(self.dtype))
