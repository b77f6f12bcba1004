"""``fastnn.Size``: the type of ``Tensor.shape`` and ``Tensor.size()``, a tuple of ints that
prints as ``fastnn.Size([2, 3])`` and stays a Size under slicing, ``+`` and ``*``."""

import operator


class Size(tuple):
    """A tensor's shape: a tuple of ints (equal to the plain tuple) with ``numel()``."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        try:
            return tuple.__new__(cls, [operator.index(s) for s in sizes])
        except TypeError:
            raise TypeError(
                f"fastnn.Size() takes an iterable of ints, got {type(sizes).__name__} {sizes!r}"
            ) from None

    def __repr__(self):
        return f"fastnn.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, key):
        if key.__class__ is slice:  # (slice cannot be subclassed)
            return _new(Size, tuple.__getitem__(self, key))
        return tuple.__getitem__(self, key)

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return _new(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return _new(Size, tuple.__add__(other, self))

    def __mul__(self, n):
        return _new(Size, tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))

    def numel(self):
        """The number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n


_new = tuple.__new__


def from_shape(shape):
    """A Size from a storage array's shape (already a tuple of Python ints: no checks)."""
    return _new(Size, shape)
