"""``nn.SyncBatchNorm``: batch normalization whose training statistics are those of the whole
global batch, every rank's part of it together (over fastnn.distributed's MPI group).

On one process (no group initialised, or a group of one) and in eval it is BatchNorm, the same
kernel. Across ranks the mean and the biased variance come from two all-reduces, of the
per-channel sums and element count and then of the sums of squared deviations from the global
mean (two passes rather than a sum of squares, which cancels badly when the mean is large).
Both all-reduces are differentiable: the gradient of a global sum with respect to one rank's
input is every rank's gradient summed, so their backward is an all-reduce too, and each rank's
input gradient is its slice of the whole batch's. Running statistics take the unbiased variance
of the global batch. ``convert_sync_batchnorm`` swaps the BatchNorm*d layers of a model for this
one, keeping their parameter and buffer tensors.
"""

from .._tensor.functions import cat
from ..autograd import Function, no_grad
from ..distributed import _group, collectives
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm

__all__ = ["SyncBatchNorm"]


class _AllReduceSum(Function):
    """The sum over ranks, each rank's gradient the sum of all ranks' gradients."""

    @staticmethod
    def forward(ctx, t, group):
        ctx.group = group
        out = t.detach().clone()
        collectives.all_reduce(out, group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        collectives.all_reduce(grad, group=ctx.group)
        return grad, None


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, ...) input of any rank >= 2, synchronised across processes in
    training; ``process_group`` None is the default group."""

    def __init__(
        self,
        num_features,
        eps=1e-05,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        process_group=None,
        device=None,
        dtype=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def forward(self, input):
        batch_stats = self.training or self.running_mean is None
        world = _group_size() if batch_stats else 1
        if world == 1:
            return super().forward(input)
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"SyncBatchNorm: input has {input.shape[1]} channels (shape "
                f"{tuple(input.shape)}), expected num_features={self.num_features}"
            )
        return self._synced(input)

    def _synced(self, x):
        c = self.num_features
        dims = (0, *range(2, x.ndim))
        shape = (1, c) + (1,) * (x.ndim - 2)
        count = x.new_tensor([x.numel() // c]).to(x.dtype)
        totals = _AllReduceSum.apply(cat([x.sum(dims), count]), self.process_group)
        n = totals[c]
        mean = totals[:c] / n
        centred = x - mean.reshape(shape)
        var = _AllReduceSum.apply((centred * centred).sum(dims), self.process_group) / n
        y = centred / (var + self.eps).sqrt().reshape(shape)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        if self.track_running_stats and self.running_mean is not None:
            self._update_running(mean.detach(), var.detach(), float(n.item()))
        return y

    def _update_running(self, mean, var, n):
        self.num_batches_tracked.add_(1)
        m = self.momentum
        if m is None:
            m = 1.0 / float(self.num_batches_tracked.item())
        with no_grad():
            self.running_mean.mul_(1 - m).add_(mean * m)
            self.running_var.mul_(1 - m).add_(var * (m * n / max(n - 1, 1)))

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d / 2d / 3d in it (itself included) replaced by a
        SyncBatchNorm holding the same parameter and buffer tensors and training flag."""
        out = module
        if isinstance(module, (BatchNorm1d, BatchNorm2d, BatchNorm3d)):
            out = cls(
                module.num_features, module.eps, module.momentum, module.affine,
                module.track_running_stats, process_group,
            )  # fmt: skip
            for name in ("weight", "bias"):
                out._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out._buffers[name] = module._buffers[name]
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


def _group_size():
    return _group.get_world_size() if _group.is_initialized() else 1
