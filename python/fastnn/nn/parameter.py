"""``nn.Parameter``: a Tensor that a Module registers as a learnable parameter; ``nn.Buffer``: a
Tensor marked to be registered as a buffer."""

import numpy as np

from .._core import dtype as _dtype
from .._tensor import Tensor
from .._tensor.shared import register as _register_for_processes


class Parameter(Tensor):
    """A Tensor sharing ``data``'s storage, ``requires_grad=True`` by default, that modules
    register automatically when assigned as an attribute (``self.weight = Parameter(...)``).

    Operations on a Parameter return plain Tensors.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            storage = np.empty((0,), dtype=_dtype.default())
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


_register_for_processes([Parameter])


class _BufferMeta(type):
    # a Buffer is a plain Tensor carrying a mark (as in torch), so the class test reads the mark
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and getattr(obj, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """``Buffer(data=None, *, persistent=True)``: ``data`` detached (its requires_grad kept),
    marked so that assigning it to a Module attribute registers a buffer, persistent (in the
    state dict) or not. The result is a plain Tensor, as torch's is."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor(np.empty((0,), dtype=np.float32))
        elif not isinstance(data, Tensor):
            raise TypeError(f"Buffer: data must be a Tensor, got {type(data).__name__}")
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = bool(persistent)
        t._is_buffer = True
        return t


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet, held by a lazy module until its first forward.

    ``materialize(shape)`` gives it storage in place and turns it into a plain ``Parameter``, so
    an optimizer built before the first forward (it holds this very object) updates it after.
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        dt = _dtype.default() if dtype is None else np.dtype(dtype)
        Parameter.__init__(self, np.empty((0,), dtype=dt), requires_grad=requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        """Allocate storage of ``shape`` (uninitialised values: the module initialises them)."""
        dt = self._data.dtype if dtype is None else np.dtype(dtype)
        self._data = np.empty(tuple(shape), dtype=dt)
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedParameter>"
