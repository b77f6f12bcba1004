"""``fastnn.utils.data.distributed``: ``DistributedSampler`` under the module path torch gives
it (``from torch.utils.data.distributed import DistributedSampler``)."""

from ..distributed_sampler import DistributedSampler

__all__ = ["DistributedSampler"]
