"""fastnn: a small, fast neural-network library with C++ (and optional CUDA) kernels.

The kernels are public in :mod:`fastnn.kernels` (they work on numpy arrays); above them sits a
PyTorch-style API: ``Tensor`` with autograd, ``nn``, ``optim`` and ``utils.data``.
"""

from . import _C, cuda, kernels
from ._config import get_num_threads, set_num_threads, show_config
from ._dlpack import from_dlpack

__version__ = _C.__version__

__all__ = [
    "__version__",
    "cuda",
    "from_dlpack",
    "get_num_threads",
    "kernels",
    "set_num_threads",
    "show_config",
]
