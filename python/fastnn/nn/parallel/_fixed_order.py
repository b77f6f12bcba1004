"""An average over the ranks summed in rank order, so its bits do not depend on how the MPI
library splits and orders its reduction: every rank gathers all ranks' buffers and adds them
as ``((b0 + b1) + b2) + ...``, then divides by the number of ranks. This is exactly what one
process computes when it accumulates the same micro-batches' gradients one after another and
divides by their number, so a run on N processes can be reproduced bit for bit on one. It moves
N times the data of an allreduce: a mode for checking, not for speed."""

import numpy as np

from ...distributed import _group
from ...distributed.collectives import Work


def start_average(flat):
    """Start the gathering of host buffer ``flat``; the returned Work's ``wait()`` leaves the
    rank-ordered average in ``flat``."""
    comm = _group.state.comm
    n = comm.Get_size()
    recv = np.empty((n, *flat.shape), flat.dtype)

    def after():
        np.copyto(flat, recv[0])
        for k in range(1, n):
            np.add(flat, recv[k], out=flat)
        np.divide(flat, flat.dtype.type(n), out=flat)

    return Work(comm.Iallgather(flat, recv), after)
