"""fastnn.optim: torch.optim-style optimizers over fused multi-tensor kernels, and lr schedulers.

Each ``step()`` is one fused C++ call per parameter group (fastnn.kernels.*_step on CPU
tensors); ``fused=False`` selects the NumPy reference loops of ``fastnn.optim._functional``.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
