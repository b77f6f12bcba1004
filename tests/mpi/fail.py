"""Run under mpiexec: rank 1 raises while rank 0 waits in a collective; the job must end."""

import numpy as np

import fastnn.distributed as dist

dist.init_process_group(backend="mpi")
if dist.get_rank() == 1:
    raise ValueError("rank 1 gives up")
dist.all_reduce(np.ones(3))
