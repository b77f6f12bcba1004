"""The Tensor and everything that makes or combines tensors.

``core.py`` holds the class (storage, autograd API, conversions, printing) and composes the op
methods of ``math.py``, ``shape.py`` and ``inplace.py`` (and the ``*_more.py`` groups built on
them); those call the autograd primitives of ``ops/``. ``creation.py`` (``fastnn.tensor``,
``zeros``, ``randn``...), ``functions.py`` (``fastnn.matmul``, ``cat``, ``where``...),
``functions_more.py`` and ``functions_api.py`` are the top-level functions; ``linalg/`` is
torch.linalg (public as ``fastnn.linalg``), with torch's top-level det, inverse... and the Tensor
methods of those names.
"""

from . import functions
from .core import Tensor
from .creation import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    manual_seed,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)

__all__ = [
    "BoolTensor",
    "ByteTensor",
    "CharTensor",
    "DoubleTensor",
    "FloatTensor",
    "HalfTensor",
    "IntTensor",
    "LongTensor",
    "ShortTensor",
    "Tensor",
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "functions",
    "linspace",
    "manual_seed",
    "normal",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "tensor",
    "zeros",
    "zeros_like",
]
