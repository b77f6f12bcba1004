"""``nn.Parameter``: a Tensor that a Module registers as a learnable parameter."""

import numpy as np

from .._tensor import Tensor


class Parameter(Tensor):
    """A Tensor sharing ``data``'s storage, ``requires_grad=True`` by default, that modules
    register automatically when assigned as an attribute (``self.weight = Parameter(...)``).

    Operations on a Parameter return plain Tensors.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            storage = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            storage = data._data
        elif isinstance(data, np.ndarray):
            storage = data
        else:
            raise TypeError(
                f"Parameter: data must be a Tensor or numpy array, got {type(data).__name__}"
            )
        Tensor.__init__(self, storage, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)
