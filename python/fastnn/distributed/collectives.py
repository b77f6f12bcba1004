"""Collectives with torch's names and signatures, on the group's MPI communicator.

Every collective works in place on the caller's memory (see ``_buffers``). ``async_op=True``
starts MPI's non-blocking form and returns a ``Work`` whose ``wait()`` completes it."""

import numpy as np

from . import _buffers, _group


class ReduceOp:
    """How ``all_reduce``/``reduce_scatter`` combine the ranks' values. ``AVG`` is a sum
    divided by the world size (floating-point tensors only)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MAX = "max"
    MIN = "min"


_OPS = ("sum", "avg", "product", "max", "min")


def _mpi_op(op, dtype, what):
    name = op if isinstance(op, str) else None
    if name not in _OPS:
        raise ValueError(f"{what}: op must be a ReduceOp (SUM, AVG, PRODUCT, MAX, MIN), got {op!r}")
    if name == "avg" and dtype.kind not in "fc":
        raise ValueError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    MPI = _group.state.MPI
    return {"sum": MPI.SUM, "avg": MPI.SUM, "product": MPI.PROD, "max": MPI.MAX, "min": MPI.MIN}[
        name
    ]


class Work:
    """A started collective. ``wait()`` blocks until it is done and the result is in place."""

    __slots__ = ("_after", "_done", "_req")

    def __init__(self, req, after):
        self._req = req
        self._after = after
        self._done = False

    def is_completed(self) -> bool:
        if not self._done and self._req.Test():
            self._finish()
        return self._done

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._req.Wait()
            self._finish()
        return True

    def _finish(self):
        self._done = True
        after, self._after = self._after, None
        if after is not None:
            after()


def _run(start, after, async_op):
    """``start()`` is the blocking call when ``async_op`` is False, else returns a request."""
    if async_op:
        return Work(start(True), after)
    start(False)
    if after is not None:
        after()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` over all ranks, in place: every rank ends with the same result."""
    comm = _group._require("all_reduce")
    mpi_op = _mpi_op(op, _buffers.dtype_of(tensor), "all_reduce")
    buf = _buffers.buffer(tensor, "all_reduce: tensor")
    IN_PLACE = _group.state.MPI.IN_PLACE
    n = comm.Get_size()

    def start(nb):
        return (comm.Iallreduce if nb else comm.Allreduce)(IN_PLACE, buf.mem, op=mpi_op)

    def after():
        if op == ReduceOp.AVG:
            if isinstance(buf.mem, np.ndarray):
                np.divide(buf.mem, n, out=buf.mem)
            else:  # device memory reduced by a CUDA-aware MPI: scale through the host
                buf.mem.copy_(buf.mem.numpy() / buf.mem.dtype.type(n))
        buf.finish()

    return _run(start, after, async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor``, in place."""
    comm = _group._require("broadcast")
    src = _check_rank(src, comm, "broadcast: src")
    buf = _buffers.buffer(tensor, "broadcast: tensor")

    def start(nb):
        return (comm.Ibcast if nb else comm.Bcast)(buf.mem, root=src)

    return _run(start, buf.finish, async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[i]`` receives rank i's ``tensor`` (same shape and dtype on every rank)."""
    comm = _group._require("all_gather")
    n = comm.Get_size()
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != n:
        raise ValueError(
            f"all_gather: tensor_list must be a list of world_size={n} tensors, got "
            f"{type(tensor_list).__name__} of length {len(tensor_list) if hasattr(tensor_list, '__len__') else '?'}"
        )
    _same(tensor_list, tensor, "all_gather", "tensor_list")
    src = _buffers.buffer(tensor, "all_gather: tensor", writable=False)
    outs = [_buffers.buffer(t, f"all_gather: tensor_list[{i}]") for i, t in enumerate(tensor_list)]
    send = _host(src.mem)
    recv = np.empty((n, *send.shape), send.dtype)

    def start(nb):
        return (comm.Iallgather if nb else comm.Allgather)(send, recv)

    def after():
        for i, b in enumerate(outs):
            _store(b, recv[i])

    return _run(start, after, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``input_list[i]`` over all ranks and leave the result in rank i's ``output``."""
    comm = _group._require("reduce_scatter")
    n = comm.Get_size()
    if not isinstance(input_list, (list, tuple)) or len(input_list) != n:
        raise ValueError(
            f"reduce_scatter: input_list must be a list of world_size={n} tensors, got "
            f"{type(input_list).__name__} of length {len(input_list) if hasattr(input_list, '__len__') else '?'}"
        )
    _same(input_list, output, "reduce_scatter", "input_list")
    mpi_op = _mpi_op(op, _buffers.dtype_of(output), "reduce_scatter")
    out = _buffers.buffer(output, "reduce_scatter: output")
    ins = [
        _buffers.buffer(t, f"reduce_scatter: input_list[{i}]", writable=False)
        for i, t in enumerate(input_list)
    ]
    send = np.stack([_host(b.mem) for b in ins])
    recv = np.empty(send.shape[1:], send.dtype)

    def start(nb):
        return (comm.Ireduce_scatter_block if nb else comm.Reduce_scatter_block)(
            send, recv, op=mpi_op
        )

    def after():
        if op == ReduceOp.AVG:
            np.divide(recv, n, out=recv)
        _store(out, recv)

    return _run(start, after, async_op)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has reached this call."""
    comm = _group._require("barrier")

    def start(nb):
        return comm.Ibarrier() if nb else comm.Barrier()

    return _run(start, None, async_op)


def _host(mem):
    return mem if isinstance(mem, np.ndarray) else mem.numpy()


def _store(buf, value):
    """Write a host result into a collective's output buffer."""
    if isinstance(buf.mem, np.ndarray):
        buf.mem[...] = value.reshape(buf.mem.shape)
    else:
        buf.mem.copy_(np.ascontiguousarray(value.reshape(buf.mem.shape)))
    buf.finish()


def _same(items, ref, what, name):
    shape, dtype = _buffers.shape_of(ref), _buffers.dtype_of(ref)
    for i, t in enumerate(items):
        if _buffers.shape_of(t) != shape or _buffers.dtype_of(t) != dtype:
            raise ValueError(
                f"{what}: {name}[{i}] has shape {_buffers.shape_of(t)} and dtype "
                f"{_buffers.dtype_of(t)}; every entry must match the single tensor's shape "
                f"{shape} and dtype {dtype}"
            )


def _check_rank(r, comm, what):
    n = comm.Get_size()
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 0 <= r < n:
        raise ValueError(f"{what} must be a rank in [0, {n}), got {r!r}")
    return int(r)
