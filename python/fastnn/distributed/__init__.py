"""``fastnn.distributed``: data-parallel training over MPI, with torch's names.

Start the processes with ``mpiexec -n N python program.py``; each calls
``init_process_group(backend="mpi")`` and takes its rank and the world size from MPI. The
collectives work in place on Tensors and numpy arrays (no copy for host memory)."""

from ._group import (
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)
from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    reduce_scatter,
)

__all__ = [
    "ReduceOp",
    "Work",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "reduce_scatter",
]
