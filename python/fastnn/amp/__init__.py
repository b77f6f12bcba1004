"""``fastnn.amp``: torch.amp's loss scaling (``GradScaler``).

Mixed-precision autocasting is not part of fastnn; the scaler works on any floating gradients
(float32 ones included, where its overflow checks still skip steps with inf/NaN gradients)."""

from .grad_scaler import GradScaler

__all__ = ["GradScaler"]
