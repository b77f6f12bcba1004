"""``fastnn.return_types``: the classes of the named results that ops with several outputs
return (``fastnn.max(x, 1)`` is a ``return_types.max`` with ``values`` and ``indices``), as in
``torch.return_types``."""

from . import linalg  # noqa: F401 (its modules define classes on import)
from ._core.return_types import registry as _registry
from ._tensor import histogramdd  # noqa: F401 (as does this one)

globals().update(_registry)

__all__ = sorted(n for n in _registry if not n.startswith("_"))  # noqa: PLE0605 (built above)
