"""Fused loss primitives: softmax cross-entropy and BCE-with-logits (one kernel call computes
the loss and its gradient), and the element-wise MSE and BCE-on-probabilities losses."""

from ..autograd.function import Function


def _reduce(be, loss, reduction):
    if reduction == "mean":
        return be.mean(loss)
    if reduction == "sum":
        return be.sum(loss)
    return loss


class SoftmaxCrossEntropy(Function):
    """Cross-entropy of logits (N, C) against class indices (N,) -- passed as ``target`` -- or
    class probabilities (N, C) -- passed as a second tensor input, which is differentiable."""

    def forward(self, logits, probs=None, target=None, weight=None, reduction="mean",
                label_smoothing=0.0, ignore_index=-100):
        self.reduction = reduction
        tgt = probs if probs is not None else target
        try:
            out = self.be.softmax_cross_entropy(logits, tgt, reduction, label_smoothing,
                                                ignore_index, weight, self.requires_grad)
        except ValueError as e:
            if "out of range" in str(e):  # a class index outside [0, C): torch's IndexError
                raise IndexError(f"Target is out of bounds: {e}") from None
            raise
        if not self.requires_grad:
            return out
        loss, self.dlogits = out
        if probs is not None:
            self.logits, self.weight, self.eps = logits, weight, label_smoothing
        return loss

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        gl = None
        if n[0]:  # dlogits is d(loss)/d logits (row i: d loss_i for reduction='none')
            gl = be.mul(self.dlogits, be.reshape(g, (-1, 1)) if self.reduction == "none" else g)
        if len(n) == 1 or not n[1]:
            return gl if len(n) == 1 else (gl, None)
        # d loss_i / d p_ic = -(1 - eps) w_c log_softmax(x)_ic; 'mean' divides by N
        logp = be.log_softmax(self.logits)
        d = be.mul(logp, -(1.0 - self.eps))
        if self.weight is not None:
            d = be.mul(d, self.weight)
        if self.reduction == "none":
            d = be.mul(d, be.reshape(g, (-1, 1)))
        else:
            d = be.mul(d, g if self.reduction == "sum" else be.div(g, logp.shape[0]))
        return gl, d


class BCEWithLogits(Function):
    """Binary cross-entropy on logits (any shape), stable; ``weight`` and ``pos_weight`` are
    constant arrays, the target is a differentiable input."""

    save_inputs = True

    def forward(self, x, t, weight=None, pos_weight=None, reduction="mean"):
        self.reduction, self.x, self.t = reduction, x, t
        self.weight, self.pos_weight = weight, pos_weight
        out = self.be.binary_cross_entropy_with_logits(x, t, weight, pos_weight, reduction,
                                                       self.requires_grad)
        if not self.requires_grad:
            return out
        loss, self.dx = out
        return loss

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        gx = be.mul(self.dx, g) if n[0] else None
        gt = None
        if n[1]:  # d/dt [(1-t) x + (1 + (pw-1) t) softplus(-x)] = -x + (pw-1) softplus(-x)
            x = self.x
            d = be.neg(x)
            if self.pos_weight is not None:
                sp = be.logaddexp(0.0, be.neg(x))
                d = be.add(d, be.mul(be.sub(self.pos_weight, 1), sp))
            if self.weight is not None:
                d = be.mul(d, self.weight)
            if self.reduction == "mean":
                d = be.div(d, x.size)
            gt = be.mul(d, g)
        return gx, gt


class MSE(Function):
    """(x - y)^2, reduced: one op instead of three (the regression hot path)."""

    def forward(self, x, y, reduction="mean"):
        be = self.be
        self.d = d = be.sub(x, y)
        self.reduction, self.sx, self.sy = reduction, x.shape, y.shape
        return _reduce(be, be.mul(d, d), reduction)

    def backward(self, g):
        be, d, n = self.be, self.d, self.needs_input_grad
        scale = be.mul(g, 2.0 / d.size) if self.reduction == "mean" else be.mul(g, 2.0)
        gd = be.mul(d, scale)
        return (be.sum_to_shape(gd, self.sx) if n[0] else None,
                be.sum_to_shape(be.neg(gd), self.sy) if n[1] else None)


_TINY = 1e-45  # < exp(-100) in float32 too: log(max(x, _TINY)) avoids log(0) warnings


def _clamped_log(be, x):
    return be.maximum(be.log(be.maximum(x, _TINY)), -100.0)


class BCE(Function):
    """-(t log x + (1 - t) log(1 - x)) on probabilities, logs clamped at -100 (like torch)."""

    save_inputs = True

    def forward(self, x, t, weight=None, reduction="mean"):
        be = self.be
        self.x, self.t, self.weight, self.reduction = x, t, weight, reduction
        logx, log1mx = _clamped_log(be, x), _clamped_log(be, be.sub(1.0, x))
        loss = be.neg(be.add(be.mul(t, logx), be.mul(be.sub(1.0, t), log1mx)))
        if weight is not None:
            loss = be.mul(loss, weight)
        return _reduce(be, loss, reduction)

    def backward(self, g):
        be, x, t, n = self.be, self.x, self.t, self.needs_input_grad
        if self.reduction == "mean":
            g = be.div(g, x.size)
        w = g if self.weight is None else be.mul(g, self.weight)
        gx = gt = None
        if n[0]:  # (x - t) / max(x (1 - x), 1e-12), torch's clamp
            gx = be.mul(w, be.div(be.sub(x, t), be.maximum(be.mul(x, be.sub(1.0, x)), 1e-12)))
        if n[1]:  # d/dt = log(1 - x) - log(x)
            logx, log1mx = _clamped_log(be, x), _clamped_log(be, be.sub(1.0, x))
            gt = be.mul(w, be.sub(log1mx, logx))
        return gx, gt
