"""``DataParallel``: a module run on the devices of one process.

Without CUDA, as torch's, it holds no devices and calls the wrapped module as is (programs wrap
their model whenever they like and unwrap it with ``.module``; its state_dict keys gain the
``module.`` prefix). With CUDA it runs on one device: the inputs are moved to
``device_ids[0]``, where the module's parameters must be. Splitting the batch over several
devices is not done here (a RuntimeError says so); DistributedDataParallel trains on several.
"""

from ... import cuda
from ..._core.device import device as _device
from ..._tensor import Tensor
from ..module import Module

__all__ = ["DataParallel"]


def _index(d):
    if isinstance(d, int):
        return d
    d = _device(d)
    return 0 if d.index is None else d.index


def _to(value, dev):
    if isinstance(value, Tensor):
        return value.to(dev)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_to(v, dev) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_to(v, dev) for v in value)
    if isinstance(value, dict):
        return {k: _to(v, dev) for k, v in value.items()}
    return value


class DataParallel(Module):
    """``module`` on ``device_ids`` (all CUDA devices by default; none without CUDA)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DataParallel: module must be an nn.Module, got {type(module).__name__}"
            )
        self.module = module
        self.dim = dim
        if not cuda.is_available():
            self.device_ids = []
            return
        ids = (
            list(range(cuda.device_count()))
            if device_ids is None
            else [_index(d) for d in device_ids]
        )
        if len(ids) > 1:
            raise RuntimeError(
                f"DataParallel: fastnn runs a DataParallel module on one device, got device_ids "
                f"{ids}; use DistributedDataParallel (one process per device) for several"
            )
        self.device_ids = ids
        self.output_device = _index(output_device) if output_device is not None else ids[0]
        self.src_device_obj = _device("cuda", ids[0])

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        dev = self.src_device_obj
        for t in (*self.module.parameters(), *self.module.buffers()):
            if t.device != dev:
                raise RuntimeError(
                    f"module must have its parameters and buffers on device {dev} "
                    f"(device_ids[0]) but found one of them on device: {t.device}"
                )
        out = self.module(*_to(inputs, dev), **_to(kwargs, dev))
        return _to(out, _device("cuda", self.output_device))
