"""``fastnn.utils.swap_tensors``: exchange what two tensor objects hold, keeping their
identities (torch's way of changing a parameter in place when references to it are held)."""

import copyreg

from .._tensor import Tensor


def swap_tensors(t1, t2):
    """After the call t1 holds what t2 held (data, class, grad, history, attributes) and t2
    what t1 held; every reference to either object sees the swap."""
    for name, t in (("t1", t1), ("t2", t2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"swap_tensors: expected {name} to be a Tensor, got {type(t).__name__}")
    slots1 = set(copyreg._slotnames(t1.__class__)) - {"__weakref__"}
    slots2 = set(copyreg._slotnames(t2.__class__)) - {"__weakref__"}
    if slots1 != slots2:
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")
    t1.__class__, t2.__class__ = t2.__class__, t1.__class__
    if hasattr(t1, "__dict__") and hasattr(t2, "__dict__"):
        t1.__dict__, t2.__dict__ = t2.__dict__, t1.__dict__
    missing = object()
    for slot in slots1:
        a, b = getattr(t1, slot, missing), getattr(t2, slot, missing)
        for t, v in ((t1, b), (t2, a)):
            if v is missing:
                if hasattr(t, slot):
                    delattr(t, slot)
            else:
                setattr(t, slot, v)
