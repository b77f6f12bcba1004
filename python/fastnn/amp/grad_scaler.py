"""``GradScaler``: dynamic loss scaling, torch.amp's API and rules.

The loss is multiplied by a scale before backward, so small float16 gradients do not flush to
zero; ``unscale_`` divides the gradients back (in place) and notes whether any is inf or NaN;
``step`` runs the optimizer only when none is; ``update`` shrinks the scale after an overflow
and grows it after ``growth_interval`` clean steps in a row."""

import warnings
from collections.abc import Iterable

import numpy as np

from .. import cuda as _cuda
from .._tensor import Tensor
from ..autograd import no_grad

_READY, _UNSCALED, _STEPPED = 0, 1, 2


def _f32(x):
    # the scale is held as a float32 value, as torch keeps it in a float32 tensor
    return float(np.float32(x))


class GradScaler:
    """Loss scaling for one or more optimizers.

    Args:
        device: the device the scaled tensors live on ("cuda" falls back to disabled, with
            torch's warning, when no GPU is available).
        init_scale: the first scale.
        growth_factor: what the scale is multiplied by after ``growth_interval`` steps in a
            row without inf/NaN gradients (> 1).
        backoff_factor: what it is multiplied by after a step with inf/NaN gradients (< 1).
        growth_interval: the clean steps needed before a growth.
        enabled: False makes every method a pass-through (``step`` still steps).
    """

    def __init__(
        self,
        device="cuda",
        init_scale=2.0**16,
        growth_factor=2.0,
        backoff_factor=0.5,
        growth_interval=2000,
        enabled=True,
    ):
        self._device = str(device)
        self._enabled = bool(enabled)
        if self._enabled and self._device == "cuda" and not _cuda.is_available():
            warnings.warn(
                "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                stacklevel=2,
            )
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._scale = None  # set by the first scale() (or load_state_dict)
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker = None
        self._states = {}  # id(optimizer) -> {"stage": ..., "found_inf": bool or None}

    # ---- the training-loop calls ----

    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples/iterables of them) times the scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = _f32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker

        def apply(value):
            if isinstance(value, Tensor):
                return value * self._scale
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                scaled = map(apply, value)
                return type(value)(scaled) if isinstance(value, (list, tuple)) else scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale, in place, once per iteration, and note
        whether any of them holds inf or NaN."""
        if not self._enabled:
            return
        self._need_scale("unscale_")
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = _f32(1.0 / self._scale)
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    if g.dtype == np.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    g.mul_(inv)
                    found_inf = found_inf or not bool(g.isfinite().all())
        state["found_inf"] = found_inf
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` (its return value), skipped when the unscaled
        gradients hold inf or NaN (None then); unscales first if ``unscale_`` was not called."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._need_scale("step")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None):
        """End the iteration: set the scale to ``new_scale`` when given, otherwise back off
        after an overflow in any optimizer or grow after ``growth_interval`` clean steps."""
        if not self._enabled:
            return
        self._need_scale("update")
        if new_scale is not None:
            self._scale = self._new_scale(new_scale)
        else:
            found = [s["found_inf"] for s in self._states.values() if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale = _f32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale = _f32(self._scale * self._growth_factor)
                    self._growth_tracker = 0
        self._states = {}

    # ---- accessors ----

    def get_scale(self):
        if not self._enabled:
            return 1.0
        return _f32(self._init_scale) if self._scale is None else self._scale

    def is_enabled(self):
        return self._enabled

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def state_dict(self):
        """The scale and its rules ({} when disabled), for checkpoints."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": (
                self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker
            ),
        }

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled "
                "instance of GradScaler."
            )
        self._init_scale = state_dict["scale"]
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._scale is not None:
            self._scale = _f32(self._init_scale)
        if self._growth_tracker is not None:
            self._growth_tracker = self._init_growth_tracker

    # ---- helpers ----

    def _need_scale(self, what):
        if self._scale is None:
            raise AssertionError(
                f"Attempted {what} but _scale is None.  This may indicate your script did not "
                "use scaler.scale(loss or outputs) earlier in the iteration."
            )

    def _state(self, optimizer):
        return self._states.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    def _new_scale(self, new_scale):
        if isinstance(new_scale, float):
            return _f32(new_scale)
        reason = (
            "new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
            "torch.FloatTensor with requires_grad=False."
        )
        if not isinstance(new_scale, Tensor) or new_scale.numel() != 1:
            raise AssertionError(reason)
        if new_scale.requires_grad:
            raise AssertionError(reason)
        return _f32(new_scale.item())
