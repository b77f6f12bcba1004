"""``fastnn.nn.utils.init``: ``skip_init``, a module built without initialising its
parameters (torch.nn.utils.init).

torch builds the module on its "meta" device (shapes, no storage, no random draws) and then
gives it empty storage. fastnn has no meta device: the module is built as usual, with the
global random state put back afterwards, so no draw is seen by the rest of the program either,
and its parameters and buffers are then replaced by uninitialised storage on ``device``, as
torch's are.
"""

import inspect

from ..._tensor import random as _random
from ..module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with uninitialised parameters and buffers (on
    ``device``, the CPU by default); the class must take a ``device`` argument."""
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")  # noqa: TRY004 (torch's type)
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    device = kwargs.pop("device", "cpu")
    state = _random.default_generator.get_state()
    try:
        module = module_cls(*args, **kwargs)
    finally:
        _random.default_generator.set_state(state)
    return module.to_empty(device=device)
