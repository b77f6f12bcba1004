"""The process group: one MPI communicator (``COMM_WORLD`` by default), its rank and size.

mpi4py is imported only here and only when a group is created, so ``import fastnn`` and
``import fastnn.distributed`` work without it and say what is missing when it is needed."""

import os
import sys
import traceback

_MISSING = (
    "fastnn.distributed needs the mpi4py package (and an MPI library): install them with "
    "`pip install 'fastnn[mpi]'` (or `pip install mpi4py mpich`), then run the program with "
    "`mpiexec -n N python program.py`"
)


class _State:
    comm = None  # the MPI communicator of the default group
    MPI = None  # the mpi4py.MPI module, once loaded
    cuda_aware = False  # device buffers go to MPI directly (else through a host copy)
    prev_excepthook = None


state = _State()


def _load_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ModuleNotFoundError(_MISSING, name="mpi4py") from e
    return MPI


def _cuda_aware(MPI) -> bool:
    """Whether this MPI takes device pointers. ``FASTNN_MPI_CUDA_AWARE=0/1`` overrides the
    library's own answer (some builds answer nothing although they are CUDA-aware)."""
    env = os.environ.get("FASTNN_MPI_CUDA_AWARE")
    if env is not None:
        return env.strip().lower() in ("1", "true", "yes", "on")
    query = getattr(MPI, "Query_cuda_support", None)
    if query is None:
        return False
    try:
        return bool(query())
    except (MPI.Exception, NotImplementedError):  # an MPI without the query extension
        return False


def _abort_on_uncaught(exc_type, exc, tb):
    """An exception escaping one rank would leave the others blocked in a collective forever:
    print it, then abort the whole job so mpiexec exits non-zero at once. The traceback goes out
    in one write: printed line by line (stderr is unbuffered under PYTHONUNBUFFERED), mpiexec's
    forwarding could pass on the first line and lose the rest when the abort kills the job."""
    sys.stderr.write("".join(traceback.format_exception(exc_type, exc, tb)))
    sys.stderr.flush()
    comm = state.comm
    if comm is not None:
        comm.Abort(1)


def is_available() -> bool:
    """True: the MPI backend is built in (mpi4py itself is checked at ``init_process_group``)."""
    return True


def is_mpi_available() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def init_process_group(
    backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1, store=None, **kwargs
):
    """Join the default process group. Rank and world size come from MPI (the launcher,
    ``mpiexec``); ``world_size``/``rank``, when given, must agree with them."""
    if state.comm is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if backend is None:
        backend = "mpi"
    if not isinstance(backend, str) or backend.lower() != "mpi":
        raise ValueError(
            f"init_process_group: backend {backend!r} is not supported; fastnn runs its "
            "collectives on MPI: backend='mpi'"
        )
    if init_method not in (None, "env://") or store is not None:
        raise ValueError(
            "init_process_group: init_method/store are not used with backend='mpi' (mpiexec "
            "starts the processes and MPI connects them)"
        )
    MPI = _load_mpi()
    comm = MPI.COMM_WORLD
    r, n = comm.Get_rank(), comm.Get_size()
    if world_size not in (-1, None) and int(world_size) != n:
        raise ValueError(f"init_process_group: world_size={world_size} but MPI has {n} processes")
    if rank not in (-1, None) and int(rank) != r:
        raise ValueError(f"init_process_group: rank={rank} but MPI gives this process rank {r}")
    state.MPI = MPI
    state.comm = comm
    state.cuda_aware = _cuda_aware(MPI)
    if n > 1:
        state.prev_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def destroy_process_group(group=None):
    """Leave the default group (MPI itself stays up until the process exits, as MPI can be
    initialised once per process)."""
    _require("destroy_process_group")
    if state.prev_excepthook is not None:
        sys.excepthook = state.prev_excepthook
        state.prev_excepthook = None
    state.comm = None


def is_initialized() -> bool:
    return state.comm is not None


def _require(what):
    if state.comm is None:
        raise ValueError(
            f"{what}: default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    return state.comm


def get_rank(group=None) -> int:
    return _require("get_rank").Get_rank()


def get_world_size(group=None) -> int:
    return _require("get_world_size").Get_size()


def get_backend(group=None) -> str:
    _require("get_backend")
    return "mpi"
