"""Named results of ops that return several tensors (torch.return_types): tuples with field
names, printed the way torch prints them, one field a line under the op's qualified name."""

import collections


def _repr(self):
    fields = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
    return f"fastnn.return_types.{type(self).__name__}(\n{fields})"


# every class made here, by name: ``fastnn.return_types`` publishes them (and pickle finds them
# there, as it finds torch's under torch.return_types)
registry = {}


def return_type(name, fields):
    """A namedtuple class ``name`` with ``fields`` and torch's printed form."""
    cls = collections.namedtuple(name, fields)
    cls.__repr__ = _repr
    cls.__module__ = "fastnn.return_types"
    registry[name] = cls
    return cls
