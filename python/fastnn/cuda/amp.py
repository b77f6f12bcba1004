"""``fastnn.cuda.amp``: the older home of the loss scaler, kept as torch keeps it (deprecated
in favour of ``fastnn.amp.GradScaler("cuda", ...)``)."""

import warnings

from ..amp.grad_scaler import GradScaler as _GradScaler

__all__ = ["GradScaler"]


class GradScaler(_GradScaler):
    """``fastnn.amp.GradScaler`` on device "cuda"; warns that this spelling is deprecated."""

    def __init__(
        self,
        init_scale=2.0**16,
        growth_factor=2.0,
        backoff_factor=0.5,
        growth_interval=2000,
        enabled=True,
    ):
        warnings.warn(
            "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
            "`torch.amp.GradScaler('cuda', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(
            "cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled
        )
