"""``fastnn.nn.parallel``: ``DataParallel`` (a module on the devices of one process) and
``DistributedDataParallel`` (data-parallel training over MPI)."""

from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
