"""fastnn.optim: torch.optim-style optimizers over fused multi-tensor kernels, and lr schedulers.

Each ``step()`` is one fused C++ call per parameter group (fastnn.kernels.*_step on CPU
tensors); ``fused=False`` selects the NumPy reference loops of ``fastnn.optim._functional``.
ASGD, Rprop, LBFGS, Adafactor and Muon have no fused kernel: they are NumPy on the host.
"""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = [
    "ASGD",
    "LBFGS",
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Muon",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "lr_scheduler",
    "swa_utils",
]
