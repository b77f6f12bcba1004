"""CUDA graphs in torch.cuda's form: ``CUDAGraph``, the ``graph`` context manager,
``graph_pool_handle`` and ``make_graphed_callables``.

A capture records the device work queued on the capturing stream (a side stream: the legacy
default stream cannot be captured) into a graph that ``replay()`` launches again with one call, on
the same memory. Memory allocated by the capturing thread comes from the graph's private pool,
which lives as long as the graph (and any graph sharing the pool); arrays freed during the capture
stay reserved for it too, as the captured work may use them on every replay. Host
synchronization inside a capture (``.item()``, ``.numpy()``, copies from the host, a data-
dependent check, ``synchronize()``) raises a RuntimeError naming the call.

Replays read and write the same arrays every time: copy new inputs into the static inputs
(``static_x.copy_(x)``), replay, then read the static outputs. Python-side state is not
captured: a scalar computed on the host during the capture (a learning rate, Adam's step count
and bias corrections, the Philox offset of dropout, so every replay draws the same mask) is
frozen into the graph.
"""

import contextlib
import gc

from .streams import Stream, StreamContext, _ext

_MODES = {"global": 0, "thread_local": 1, "relaxed": 2}


class _Pool:
    """A reference to a private allocator pool; the pool's memory returns to the cache once no
    graph and no handle holds it (and the arrays allocated from it are gone)."""

    def __init__(self, pool_id):
        self.id = int(pool_id)

    def __del__(self):
        pool_id, self.id = getattr(self, "id", 0), 0
        if pool_id:
            with contextlib.suppress(Exception):  # at interpreter shutdown the module may be gone
                _ext().pool_release(pool_id)

    def __repr__(self):
        return f"<fastnn.cuda graph pool {self.id}>"


def _retained(pool):
    if not isinstance(pool, _Pool) or not pool.id:
        raise TypeError(
            "pool must be the result of graph_pool_handle() or CUDAGraph.pool(), got "
            f"{type(pool).__name__}"
        )
    _ext().pool_retain(pool.id)
    return _Pool(pool.id)


def graph_pool_handle():
    """A new private memory pool that several graphs can share (``graph(g, pool=handle)``);
    their replays must then run in capture order."""
    return _Pool(_ext().pool_create(-1))


class CUDAGraph:
    """A captured CUDA graph: ``capture_begin``/``capture_end`` (or ``with fastnn.cuda.graph(g)``)
    record it, ``replay()`` launches it on the current stream, ``reset()`` frees it."""

    def __init__(self, keep_graph=False):
        if not isinstance(keep_graph, bool):
            raise TypeError(
                f"CUDAGraph: keep_graph must be a bool, got {type(keep_graph).__name__}"
            )
        self._exec = 0
        self._pool = None
        self._capture_stream = None
        self._mod = None

    def capture_begin(self, pool=None, capture_error_mode="global"):
        """Start capturing the work the calling thread queues on its current stream (a side
        stream). `pool`: share another graph's memory pool (``CUDAGraph.pool()`` or
        ``graph_pool_handle()``)."""
        if capture_error_mode not in _MODES:
            raise ValueError(
                "CUDAGraph.capture_begin: capture_error_mode must be 'global', 'thread_local' or "
                f"'relaxed', got {capture_error_mode!r}"
            )
        if self._exec or self._capture_stream is not None:
            raise RuntimeError(
                "CUDAGraph.capture_begin: this graph was already captured; call reset() first"
            )
        pool_ref = None if pool is None else _retained(pool)
        mod = _ext()
        stream = int(mod.get_current_stream())
        if stream == 0:
            raise RuntimeError(
                "CUDAGraph.capture_begin: the legacy default stream cannot be captured; capture on "
                "a side stream (`with fastnn.cuda.graph(g):` does this for you)"
            )
        if pool_ref is None:
            pool_ref = _Pool(mod.pool_create(-1))
        mod.graph_capture_begin(stream, pool_ref.id, _MODES[capture_error_mode])
        self._pool, self._capture_stream = pool_ref, stream

    def capture_end(self):
        """End the capture and instantiate the graph (RuntimeError if the capture failed)."""
        if self._capture_stream is None:
            raise RuntimeError("CUDAGraph.capture_end: capture_begin was not called")
        stream, self._capture_stream = self._capture_stream, None
        try:
            self._mod = _ext()
            self._exec = int(self._mod.graph_capture_end(stream))
        except BaseException:
            self._pool = None
            raise

    def replay(self):
        """Launch the captured work on the current stream."""
        if not self._exec:
            raise RuntimeError("CUDAGraph.replay: the graph has not been captured")
        mod = self._mod  # checked at capture: a replay costs one launch, not a device probe
        mod.graph_launch(self._exec, mod.get_current_stream())

    def reset(self):
        """Free the graph and drop its hold on the memory pool."""
        exec_, self._exec = self._exec, 0
        if exec_:
            _ext().graph_destroy(exec_)
        self._pool = None

    def pool(self):
        """A handle to this graph's memory pool, to share it with another capture."""
        if self._pool is None:
            raise RuntimeError("CUDAGraph.pool: the graph has no memory pool (not captured)")
        return _retained(self._pool)

    def __del__(self):
        if getattr(self, "_capture_stream", None) is None:
            with contextlib.suppress(Exception):  # at interpreter shutdown the module may be gone
                self.reset()


class graph:
    """``with fastnn.cuda.graph(g):`` captures the block into the CUDAGraph `g`.

    It synchronizes the device, makes `stream` (a side stream shared by all captures when None)
    current, and captures; on exit it ends the capture and restores the stream. `pool` shares a
    memory pool with other graphs. An exception inside the block ends the capture, discards it,
    and propagates.
    """

    default_capture_stream = None

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="global"):
        if not isinstance(cuda_graph, CUDAGraph):
            raise TypeError(f"graph: expected a CUDAGraph, got {type(cuda_graph).__name__}")
        if stream is not None and not isinstance(stream, Stream):
            raise TypeError(f"graph: stream must be a Stream or None, got {type(stream).__name__}")
        if pool is not None and not isinstance(pool, _Pool):
            raise TypeError(
                "graph: pool must be the result of graph_pool_handle() or CUDAGraph.pool(), got "
                f"{type(pool).__name__}"
            )
        if capture_error_mode not in _MODES:
            raise ValueError(
                "graph: capture_error_mode must be 'global', 'thread_local' or 'relaxed', got "
                f"{capture_error_mode!r}"
            )
        self.cuda_graph, self.pool, self.capture_error_mode = cuda_graph, pool, capture_error_mode
        self.capture_stream = stream
        self._ctx = None

    def __enter__(self):
        if self.capture_stream is None:
            if graph.default_capture_stream is None:
                graph.default_capture_stream = Stream()
            self.capture_stream = graph.default_capture_stream
        _ext().synchronize(-1)  # the capture stream must not overtake work queued before it
        gc.collect()  # arrays that are already garbage go back to the cache, not into the pool
        self._ctx = StreamContext(self.capture_stream)
        self._ctx.__enter__()
        try:
            self.cuda_graph.capture_begin(self.pool, self.capture_error_mode)
        except BaseException:
            self._ctx.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            try:
                self.cuda_graph.capture_end()
            except Exception:
                if exc_type is None:
                    raise
                self.cuda_graph.reset()  # the block's own error is the one to report
            else:
                if exc_type is not None:
                    self.cuda_graph.reset()
        finally:
            self._ctx.__exit__(None, None, None)
        return False
