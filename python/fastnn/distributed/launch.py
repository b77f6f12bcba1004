"""What the command line needs to train data-parallel: whether this process was started by an
MPI launcher, and the training pieces of one rank (its shard of the data, the wrapped model)."""

import os

# set by the process managers of MPICH (Hydra), Open MPI and PMIx-based launchers
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def launched_by_mpi() -> bool:
    """True when an MPI launcher started more than one process (``mpiexec -n N``, N > 1)."""
    for var in _SIZE_VARS:
        value = os.environ.get(var)
        if value and value.isdigit() and int(value) > 1:
            return True
    return False


def local_batch_size(global_batch, world_size) -> int:
    """Each rank's share of the global batch (which must split evenly, so that the averaged
    gradient is exactly the gradient of the global batch's mean loss)."""
    if global_batch % world_size:
        raise ValueError(
            f"--batch-size {global_batch} (the global batch) must be divisible by the number of "
            f"processes, {world_size}"
        )
    return global_batch // world_size
