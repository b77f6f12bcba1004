"""Autograd: grad mode, the ``Function`` bases, the backward engine, ``grad``, ``gradcheck``
and ``gradgradcheck``, and ``functional`` (jacobian, hessian and their products).

``Function`` here is the user-facing base (torch's ``forward(ctx, ...)`` form, see ``custom``);
fastnn's own primitives derive from ``function.Function``.
"""

from . import forward_ad, functional, graph, profiler
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .custom import Function
from .engine import backward, grad
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .variable import Variable

__all__ = [
    "Function",
    "GradcheckError",
    "Variable",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "forward_ad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "profiler",
    "set_detect_anomaly",
    "set_grad_enabled",
]
