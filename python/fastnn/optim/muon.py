"""torch.optim.Muon: momentum SGD for matrices whose update is the momentum orthogonalized, so a
step moves every singular direction of the weight by about the same amount.

The momentum (Nesterov's by default) is pushed towards U V^T (for M = U S V^T) by a few quintic
Newton-Schulz iterations X <- a X + (b X X^T + c (X X^T)^2) X, with torch's coefficients, which
leave singular values roughly in [0.5, 1.5] rather than exactly 1. As torch does, the iteration
runs in bfloat16: each product is summed in float32 and rounded to bfloat16 (``_bf16``), so the
updates agree with torch's to float32 rounding. The step is lr * sqrt(max(1, rows / cols))
(``adjust_lr_fn='original'``) or lr * 0.2 * sqrt(max(rows, cols)) ('match_rms_adamw', an
AdamW-sized step), after decoupled weight decay lr * weight_decay.

Only 2-D parameters are accepted (the constructor raises ValueError for others, as torch's).
Plain NumPy on the host in the parameters' dtype; the state is torch's ``momentum_buffer``.
"""

import math

import numpy as np

from . import _functional as F
from .optimizer import Optimizer, zeros_like_storage

__all__ = ["Muon"]


def _bf16(x):
    """float32 values rounded to the nearest bfloat16 (ties to even), kept as float32: the top
    16 bits of each float after adding half of the dropped part; NaN stays NaN."""
    x = np.asarray(x, np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = bits.astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x), x, out)


def orthogonalize(m, coefficients, steps, eps):
    """The Newton-Schulz iteration of torch's Muon on a 2-D array, in bfloat16 (as float32)."""
    if steps >= 100:
        raise ValueError(
            f"Muon: ns_steps must be less than 100 (it is {steps}): each step costs three "
            "matrix products"
        )
    if len(coefficients) != 3:
        raise ValueError(f"Muon: ns_coefficients must be exactly 3 values, got {coefficients}")
    a, b, c = (float(v) for v in coefficients)
    x = _bf16(m)
    tall = x.shape[0] > x.shape[1]
    if tall:  # iterate on the smaller Gram matrix
        x = x.T
    norm = _bf16(np.sqrt(np.sum(np.square(x, dtype=np.float64))))
    x = _bf16(x / max(norm, np.float32(eps)))
    for _ in range(steps):
        gram = _bf16(x @ x.T)
        poly = _bf16(b * gram + c * (gram @ gram))
        x = _bf16(a * x + poly @ x)
    return x.T if tall else x


def _lr_ratio(adjust_lr_fn, shape):
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return 1.0


class Muon(Optimizer):
    """Muon (torch.optim.Muon's algorithm, defaults and state), for 2-D parameters."""

    def __init__(
        self,
        params,
        lr=1e-3,
        weight_decay=0.1,
        momentum=0.95,
        nesterov=True,
        ns_coefficients=(3.4445, -4.775, 2.0315),
        eps=1e-7,
        ns_steps=5,
        adjust_lr_fn=None,
    ):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not momentum >= 0.0:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": ns_coefficients,
            "eps": eps,
            "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p._data.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with "
                        f"size: {tuple(p._data.shape)}; optimize the others with another "
                        "optimizer such as AdamW"
                    )

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            items = self._params_with_grad(group)
            F._check_reference_arrays([d for _, d, _ in items])
            lr, momentum = float(group["lr"]), group["momentum"]
            for p, d, g in items:
                if g.ndim != 2:
                    raise ValueError(f"Muon: the gradient must be a 2D matrix, got {g.shape}")
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = zeros_like_storage(g)
                buf = state["momentum_buffer"]
                buf[...] = F._lerp(buf, g, 1 - momentum)
                update = F._lerp(g, buf, momentum) if group["nesterov"] else buf
                ortho = orthogonalize(
                    update, group["ns_coefficients"], group["ns_steps"], group["eps"]
                )
                dt = d.dtype.type
                d *= dt(1 - lr * group["weight_decay"])
                d += dt(-lr * _lr_ratio(group["adjust_lr_fn"], d.shape)) * ortho.astype(d.dtype)
        return loss
