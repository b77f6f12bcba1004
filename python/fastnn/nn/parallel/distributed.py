"""``DistributedDataParallel``: the same model on every process, each on its own share of the
batch, with gradients averaged over the processes during the backward pass.

At wrap time rank 0's parameters and buffers are copied to every rank. Each parameter gets a
post-accumulate-grad hook; when all gradients of a bucket are final, the bucket starts a
non-blocking allreduce (``_buckets``), so communication runs while the backward pass computes the
earlier layers. Buckets are started in one fixed order on every rank (MPI matches non-blocking
collectives by the order they are started). When the pass ends, a queued callback waits for
every bucket and writes the averaged gradients back into ``.grad``. With the same averaged
gradients and the same deterministic optimizer, every rank's optimizer state stays identical."""

import contextlib
import time

import numpy as np

from ... import distributed as dist
from ...autograd import post_hooks
from ...autograd.grad_mode import state as _grad_state
from ..module import Module
from . import _buckets, _fixed_order

_UNUSED = (
    "DistributedDataParallel: parameter(s) {names} received no gradient in this backward pass, "
    "so their buckets could not be reduced. Pass find_unused_parameters=True to "
    "DistributedDataParallel when some parameters do not take part in the loss, or make sure "
    "every parameter's output contributes to the loss."
)


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group.

    Args:
        module: the model (its state_dict keys appear under ``module.``, as in torch).
        bucket_cap_mb: the size cap of one gradient bucket, in MiB.
        find_unused_parameters: parameters without a gradient in a pass contribute zeros
            (else such a pass raises an error naming them).
        broadcast_buffers: copy rank 0's buffers (e.g. BatchNorm statistics) to every rank at
            each forward.
        fixed_order_reduction: average each bucket by summing the ranks' gradients in rank
            order on every rank (gathered, N times the traffic), so that the result is the same
            bits as one process accumulating the ranks' micro-batches in order (host memory).
        device_ids, output_device, dim, process_group, gradient_as_bucket_view, static_graph:
            accepted for torch programs (one process per device; the default group).
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        process_group=None,
        bucket_cap_mb=25,
        find_unused_parameters=False,
        check_reduction=False,
        gradient_as_bucket_view=False,
        static_graph=False,
        *,
        fixed_order_reduction=False,
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be a fastnn.nn.Module, got "
                f"{type(module).__name__}"
            )
        if not dist.is_initialized():
            raise RuntimeError(
                "DistributedDataParallel: default process group has not been initialized, "
                "please call fastnn.distributed.init_process_group(backend='mpi') first"
            )
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)):
            raise TypeError(f"bucket_cap_mb must be a number, got {type(bucket_cap_mb).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.find_unused_parameters = bool(find_unused_parameters)
        self.broadcast_buffers = bool(broadcast_buffers)
        self.bucket_cap_mb = bucket_cap_mb
        self.fixed_order_reduction = bool(fixed_order_reduction)
        self.world_size = dist.get_world_size()
        names = {id(p): n for n, p in module.named_parameters()}
        params = [p for p in module.parameters() if p.requires_grad]
        self._names = [names[id(p)] for p in params]
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t._data, src=0)
        # gradients become final roughly last layer first: bucket them in that order
        self._buckets = _buckets.build(list(reversed(params)), int(bucket_cap_mb * 2**20))
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        if self.fixed_order_reduction and any(
            not isinstance(b.flat, np.ndarray) for b in self._buckets
        ):
            raise ValueError(
                "DistributedDataParallel: fixed_order_reduction=True sums on the host; the "
                "model's parameters are in device memory"
            )
        self._sync = True
        self._in_pass = False
        self._next = 0
        self._handles = [p.register_post_accumulate_grad_hook(self._on_grad) for p in params]
        # seconds the backward passes spent waiting for reductions at their end: the part of
        # the communication not hidden behind the backward computation (read by the bench)
        self.comm_wait_seconds = 0.0
        self._params = params

    def forward(self, *inputs, **kwargs):
        if self._in_pass:
            raise RuntimeError(
                "DistributedDataParallel: the previous backward pass did not finish its "
                "gradient reduction"
            )
        if self.broadcast_buffers and self.world_size > 1 and _grad_state.enabled:
            for b in self.module.buffers():
                dist.broadcast(b._data, src=0)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside: backward passes only accumulate local gradients (no communication); the
        first backward pass after it averages the accumulated gradients."""
        prev = self._sync
        self._sync = False
        try:
            yield
        finally:
            self._sync = prev

    # ---- the backward pass ----------------------------------------------------------------

    def _on_grad(self, p):
        if not self._sync:
            return
        if not self._in_pass:
            self._in_pass = True
            self._next = 0
            for b in self._buckets:
                b.reset()
            post_hooks.queue_callback(self._finish)
        b = self._bucket_of[id(p)]
        b.put(p, p.grad._data)
        if not b.missing:
            self._launch_ready()
        else:  # let MPI progress the buckets already sent while the pass goes on
            for prev in self._buckets[: self._next]:
                prev.work.is_completed()

    def _launch_ready(self):
        """Start every bucket that is complete, in bucket order (the same on every rank)."""
        while self._next < len(self._buckets) and not self._buckets[self._next].missing:
            b = self._buckets[self._next]
            if self.fixed_order_reduction:
                b.work = _fixed_order.start_average(b.flat)
            else:
                b.work = dist.all_reduce(b.flat, op=dist.ReduceOp.AVG, async_op=True)
            self._next += 1

    def _finish(self):
        self._in_pass = False
        unused = [p for b in self._buckets for p in b.params if id(p) in b.missing]
        if unused and not self.find_unused_parameters:
            for b in self._buckets[: self._next]:
                b.work.wait()
            names = {id(p): n for p, n in zip(self._params, self._names)}
            raise RuntimeError(_UNUSED.format(names=", ".join(names[id(p)] for p in unused)))
        for p in unused:  # zeros, or what earlier no_sync passes accumulated
            self._bucket_of[id(p)].put(p, None if p.grad is None else p.grad._data)
        self._launch_ready()
        # every rank takes part in this collective, whether it has unused parameters or not
        used_somewhere = self._used_anywhere(unused) if self.find_unused_parameters else None
        from ..._tensor.core import Tensor

        for b in self._buckets:
            t0 = time.perf_counter()
            b.work.wait()
            self.comm_wait_seconds += time.perf_counter() - t0
            for p in b.params:
                if p.grad is not None:
                    b.get_into(p, p.grad._data)
                elif used_somewhere is None or used_somewhere.get(id(p), True):
                    p.grad = Tensor._make(b.slot_copy(p), False, None)

    def _used_anywhere(self, unused):
        """For locally unused parameters: whether any rank used them (a parameter no rank used
        keeps ``.grad`` None, as in a single process)."""
        idx = {id(p): i for i, p in enumerate(self._params)}
        flags = np.ones(len(self._params), np.uint8)
        for p in unused:
            flags[idx[id(p)]] = 0
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        return {id(p): bool(flags[idx[id(p)]]) for p in unused}
