"""Learning-rate schedulers with torch.optim.lr_scheduler's names, formulas and state_dicts.

The classes live by kind in ``_lr_base`` (the base), ``_lr_decay``, ``_lr_cyclic``,
``_lr_plateau`` and ``_lr_compose``; this module is the public door.
"""

from ._lr_base import LRScheduler, _LRScheduler
from ._lr_compose import ChainedScheduler, SequentialLR
from ._lr_cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from ._lr_decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from ._lr_plateau import ReduceLROnPlateau

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]

_ = _LRScheduler  # the base's old name stays importable from here, as in torch

# torch's schedulers report this module as theirs, and training loops tell a built-in scheduler
# (call .step()) from a plain callable of their own (call it) by comparing the two names
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
