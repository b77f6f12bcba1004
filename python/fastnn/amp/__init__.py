"""``fastnn.amp``: torch.amp's loss scaling (``GradScaler``) and autocast regions.

``autocast`` (also ``fastnn.autocast``) runs matrix products in bfloat16 or float16 on the host
(see ``fastnn._core.autocast``); the scaler works on any floating gradients (float32 ones
included, where its overflow checks still skip steps with inf/NaN gradients)."""

from .._core.autocast import autocast, get_autocast_dtype, is_autocast_enabled
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "get_autocast_dtype", "is_autocast_enabled"]
