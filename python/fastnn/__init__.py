"""fastnn: a small, fast neural-network library with C++ (and optional CUDA) kernels.

The kernels are public in :mod:`fastnn.kernels` (they work on numpy arrays); above them sits a
PyTorch-style API: ``Tensor`` with autograd, ``nn``, ``optim`` and ``utils.data``.
"""

from . import _C, cuda, kernels
from . import optim
from ._config import get_num_threads, set_num_threads, show_config
from ._dlpack import from_dlpack

# ---- tensor, autograd, creation, functions, save/load ----
from . import _dtype
from ._creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    manual_seed, normal, ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm,
    tensor,
    zeros, zeros_like,
)
from ._device import device
from ._dtype import get_default_dtype, set_default_dtype
from ._functions import *  # noqa: F401,F403  (matmul, cat, stack, where, exp, ...)
from ._functions import __all__ as _functions_all
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .serialization import load, save
from .tensor import Tensor
from . import autograd
from ._creation import tensor  # noqa: F811  (importing the submodule fastnn.tensor rebound it)

globals().update(_dtype.PUBLIC)  # fastnn.float32, fastnn.long, fastnn.bool, ...
from . import nn  # noqa: E402  (after Tensor: nn builds on it)

# ---- nn, utils.data, datasets ----
from . import datasets, utils  # noqa: E402

__version__ = _C.__version__

__all__ = [
    "__version__",
    "cuda",
    "from_dlpack",
    "get_num_threads",
    "kernels",
    "optim",
    "set_num_threads",
    "show_config",
    # tensor, autograd, creation, functions, save/load
    "Tensor", "arange", "as_tensor", "autograd", "device", "empty", "empty_like",
    "enable_grad", "eye", "from_numpy", "full", "full_like", "get_default_dtype",
    "is_grad_enabled", "linspace", "load", "manual_seed", "nn", "no_grad", "normal", "ones",
    "ones_like", "rand", "rand_like", "randint", "randn", "randn_like", "randperm", "save",
    "set_default_dtype", "set_grad_enabled", "tensor", "zeros", "zeros_like",
    *_functions_all, *_dtype.PUBLIC,
    # nn, utils.data, datasets
    "datasets", "utils",
]
