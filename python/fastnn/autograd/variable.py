"""``autograd.Variable``: the pre-0.4 wrapper that older training scripts still call.

Tensors and Variables merged long ago, so ``Variable(t, requires_grad=...)`` is a detached alias of
``t`` (same storage, no history) with the flag set, and every Tensor counts as a Variable.
``volatile`` is accepted and ignored, as torch does, so that ``volatile=True`` scripts still run.
"""

import numpy as np

from . import function


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, function.Tensor)


class Variable(metaclass=_VariableMeta):
    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if data is None:
            data = function.Tensor._make(np.empty(0, np.float32), False, None)
        if not isinstance(data, function.Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out
