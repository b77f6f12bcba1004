"""fastnn.cuda streams, events and CUDA graphs without a GPU: argument validation and the
bookkeeping of the context managers (current stream and device restored, capture ended, pools
released), on a stand-in for the extension's stream functions; and a training step run on the
numpy emulation of the bindings with host copies forbidden, as they are inside a capture.
The GPU behaviour is in test_cuda_streams_gpu.py."""

import numpy as np
import pytest

import fastnn
from fastnn import cuda
from fastnn.cuda import graphs, streams
from fastnn.cuda import kernels as cuda_kernels


class FakeExt:
    """The stream/graph functions of fastnn._cuda, as plain bookkeeping (two devices)."""

    def __init__(self):
        self.device = 0
        self.current = {0: 0, 1: 0}
        self.next_handle = 0x1000
        self.pools = {}
        self.capturing = None
        self.log = []

    def _handle(self):
        self.next_handle += 0x10
        return self.next_handle

    def current_device(self):
        return self.device

    def set_device(self, d):
        self.log.append(("set_device", d))
        self.device = d

    def get_current_stream(self):
        return self.current[self.device]

    def set_current_stream(self, s):
        self.current[self.device] = s

    def stream_from_pool(self, device, priority):
        return self._handle()

    def synchronize(self, device=-1):
        if self.capturing is not None:
            raise RuntimeError("fastnn.cuda.synchronize() synchronizes with the host")
        self.log.append(("synchronize",))

    def event_create(self, timing, blocking):
        return self._handle()

    def event_record(self, e, s):
        self.log.append(("record", e, s))

    def event_destroy(self, e):
        pass

    def stream_wait_event(self, s, e):
        self.log.append(("wait", s, e))

    def pool_create(self, device):
        h = self._handle()
        self.pools[h] = 1
        return h

    def pool_retain(self, p):
        self.pools[p] += 1

    def pool_release(self, p):
        self.pools[p] -= 1

    def graph_capture_begin(self, s, pool, mode):
        if self.capturing is not None:
            raise RuntimeError("already capturing")
        self.pools[pool] += 1
        self.capturing = (s, pool, mode)

    def graph_capture_end(self, s):
        cs, pool, _ = self.capturing
        assert cs == s
        self.capturing = None
        self.pools[pool] -= 1
        return self._handle()

    def graph_launch(self, g, s):
        self.log.append(("launch", g, s))

    def graph_destroy(self, g):
        self.log.append(("destroy", g))


@pytest.fixture
def ext(monkeypatch):
    fake = FakeExt()
    monkeypatch.setattr(streams, "_ext", lambda: fake)
    monkeypatch.setattr(graphs, "_ext", lambda: fake)
    monkeypatch.setattr(graphs.graph, "default_capture_stream", None)
    return fake


# ---- validation before any CUDA call ----


def test_event_arguments_are_checked():
    with pytest.raises(TypeError, match="enable_timing must be a bool"):
        cuda.Event(enable_timing=1)
    with pytest.raises(ValueError, match="interprocess"):
        cuda.Event(interprocess=True)
    e = cuda.Event()
    assert e.query() is True and e.cuda_event == 0  # never recorded: complete, no CUDA call
    e.synchronize()
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        e.elapsed_time(cuda.Event())
    t = cuda.Event(enable_timing=True)
    with pytest.raises(RuntimeError, match="recorded"):
        t.elapsed_time(cuda.Event(enable_timing=True))
    with pytest.raises(TypeError, match="expected an Event"):
        t.elapsed_time(3)


def test_stream_arguments_are_checked():
    with pytest.raises(TypeError, match="priority must be an int"):
        cuda.Stream(priority=0.5)
    with pytest.raises(TypeError, match="priority must be an int"):
        cuda.Stream(priority=True)
    with pytest.raises(TypeError, match="stream_ptr must be an int"):
        cuda.ExternalStream("0x10")
    with pytest.raises(TypeError, match="expected a Stream or None"):
        cuda.stream(7)
    with pytest.raises(TypeError, match="expected a Stream"):
        cuda.set_stream(7)
    cuda.set_stream(None)  # torch: a no-op
    with cuda.stream(None) as s:  # torch: a no-op context
        assert s is None


def test_graph_arguments_are_checked():
    g = cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="not been captured"):
        g.replay()
    with pytest.raises(RuntimeError, match="no memory pool"):
        g.pool()
    with pytest.raises(RuntimeError, match="capture_begin was not called"):
        g.capture_end()
    with pytest.raises(ValueError, match="capture_error_mode"):
        g.capture_begin(capture_error_mode="strict")
    with pytest.raises(TypeError, match="expected a CUDAGraph"):
        cuda.graph(object())
    with pytest.raises(TypeError, match="stream must be a Stream"):
        cuda.graph(g, stream=3)
    with pytest.raises(TypeError, match="pool must be"):
        cuda.graph(g, pool=(0, 1))
    with pytest.raises(ValueError, match="capture_error_mode"):
        cuda.graph(g, capture_error_mode="loose")
    with pytest.raises(TypeError, match="keep_graph"):
        cuda.CUDAGraph(keep_graph=1)
    g.reset()  # nothing captured: a no-op


def test_make_graphed_callables_arguments_are_checked():
    lin = fastnn.nn.Linear(3, 2)
    x = fastnn.randn(4, 3)
    with pytest.raises(TypeError, match="tuple of Tensors"):
        cuda.make_graphed_callables(lin, x)
    with pytest.raises(ValueError, match="CUDA device"):
        cuda.make_graphed_callables(lin, (x,))
    with pytest.raises(ValueError, match="2 callables but 1"):
        cuda.make_graphed_callables((lin, lin), ((x,),))
    with pytest.raises(TypeError, match="not callable"):
        cuda.make_graphed_callables(3, (x,))
    with pytest.raises(ValueError, match="num_warmup_iters"):
        cuda.make_graphed_callables(lin, (x,), num_warmup_iters=-1)
    with pytest.raises(TypeError, match="must be a Tensor or a tuple"):
        cuda.make_graphed_callables(lin, (x, 3))


def test_is_current_stream_capturing_without_a_capture():
    assert cuda.is_current_stream_capturing() is False


# ---- context-manager bookkeeping (fake extension) ----


def test_stream_context_sets_and_restores(ext):
    s1, s2 = cuda.Stream(), cuda.Stream()
    assert cuda.current_stream() == cuda.default_stream()
    assert cuda.current_stream().cuda_stream == 0
    with cuda.stream(s1) as got:
        assert got is s1 and cuda.current_stream() == s1
        with cuda.stream(s2):
            assert cuda.current_stream() == s2
        assert cuda.current_stream() == s1
    assert cuda.current_stream().cuda_stream == 0


def test_stream_context_restores_after_an_exception(ext):
    s = cuda.Stream()
    with pytest.raises(KeyError), cuda.stream(s):
        raise KeyError("x")
    assert ext.current == {0: 0, 1: 0}


def test_stream_context_switches_device_and_restores_both(ext):
    ext.set_device(1)
    other = cuda.Stream()  # on cuda:1
    ext.set_device(0)
    before0 = cuda.Stream()
    cuda.set_stream(before0)
    ctx = cuda.StreamContext(other)
    with ctx:
        assert ext.device == 1 and ext.current[1] == other.cuda_stream
        assert ext.current[0] == before0.cuda_stream  # the source device's stream is untouched
        with pytest.raises(RuntimeError, match="not reentrant"):
            ctx.__enter__()
    assert ext.device == 0
    assert ext.current == {0: before0.cuda_stream, 1: 0}


def test_set_stream_switches_to_the_streams_device(ext):
    ext.set_device(1)
    s = cuda.Stream()
    ext.set_device(0)
    cuda.set_stream(s)
    assert ext.device == 1 and ext.current[1] == s.cuda_stream


def test_wait_stream_records_and_waits(ext):
    a, b = cuda.Stream(), cuda.Stream()
    a.wait_stream(b)
    kinds = [entry[0] for entry in ext.log]
    assert kinds == ["record", "wait"]
    (_, ev, rec_stream), (_, wait_stream, wait_ev) = ext.log
    assert rec_stream == b.cuda_stream and wait_stream == a.cuda_stream and ev == wait_ev
    ext.log.clear()
    a.wait_stream(a)  # a stream is ordered with itself
    assert ext.log == []


def test_stream_equality_and_repr(ext):
    s = cuda.Stream()
    assert s == cuda.ExternalStream(s.cuda_stream)
    assert hash(s) == hash(cuda.ExternalStream(s.cuda_stream))
    assert s != cuda.Stream()
    assert "cuda_stream=" in repr(s)


def test_graph_context_captures_on_a_side_stream_and_restores(ext):
    g = cuda.CUDAGraph()
    with cuda.graph(g) as ctx:
        side = ctx.capture_stream
        assert side.cuda_stream != 0 and ext.current[0] == side.cuda_stream
        s, pool, mode = ext.capturing
        assert s == side.cuda_stream and mode == 0 and ext.pools[pool] == 2
    assert ext.capturing is None and ext.current[0] == 0
    assert ("synchronize",) in ext.log  # earlier work finished before the capture stream ran
    assert ext.pools[pool] == 1  # held by the graph
    g.replay()
    assert ext.log[-1] == ("launch", g._exec, 0)
    h = g.pool()
    assert ext.pools[pool] == 2
    g.reset()
    assert ext.pools[pool] == 1
    del h
    assert ext.pools[pool] == 0


def test_graph_context_ends_the_capture_on_an_exception(ext):
    g = cuda.CUDAGraph()
    with pytest.raises(ZeroDivisionError), cuda.graph(g):
        1 / 0  # noqa: B018
    assert ext.capturing is None and ext.current[0] == 0
    assert all(n == 0 for n in ext.pools.values())  # the failed graph holds nothing
    with pytest.raises(RuntimeError, match="not been captured"):
        g.replay()


def test_graph_shares_a_pool(ext):
    handle = cuda.graph_pool_handle()
    g1, g2 = cuda.CUDAGraph(), cuda.CUDAGraph()
    with cuda.graph(g1, pool=handle):
        assert ext.capturing[1] == handle.id
    with cuda.graph(g2, pool=g1.pool()):
        assert ext.capturing[1] == handle.id
    assert ext.pools[handle.id] == 3  # the handle and the two graphs
    with pytest.raises(RuntimeError, match="already captured"):
        g1.capture_begin()


def test_capture_on_the_legacy_stream_is_refused(ext):
    with pytest.raises(RuntimeError, match="legacy default stream cannot be captured"):
        cuda.CUDAGraph().capture_begin()
    assert all(n == 0 for n in ext.pools.values())


# ---- a training step has no host round trip (emulated bindings) ----


class _KernelsOnFake:
    """fastnn.cuda.kernels' module for the emulation: the fake's kernels, and the CPU kernels
    (in place, on the fake arrays' numpy buffers) for the optimizer steps it lacks."""

    def __init__(self, fake):
        self.fake = fake

    def __getattr__(self, name):
        if hasattr(self.fake, name):
            return getattr(self.fake, name)
        cpu = getattr(fastnn.kernels, name)

        def unwrap(v):
            if isinstance(v, self.fake.DeviceArray):
                return v._a
            return [unwrap(u) for u in v] if isinstance(v, (list, tuple)) else v

        return lambda *a, **k: cpu(*unwrap(a), **{n: unwrap(v) for n, v in k.items()})


@pytest.fixture
def emulated_no_host_copies(monkeypatch):
    """tests/_fake_cuda.py as the CUDA backend, with copies between host and device raising
    after `arm()`, as they do inside a real capture."""
    import _fake_cuda
    from fastnn import _devices
    from fastnn._devices import cuda as be

    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(_devices._BY_TYPE, _fake_cuda.DeviceArray, be)
    monkeypatch.setattr(cuda_kernels, "_require", lambda: _KernelsOnFake(_fake_cuda))
    armed = [False]

    def guard(fn, what):
        def wrapped(*args, **kwargs):
            if armed[0]:
                raise AssertionError(f"host synchronization inside a captured step: {what}")
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(_fake_cuda, "from_numpy", guard(_fake_cuda.from_numpy, "from_numpy"))
    monkeypatch.setattr(
        _fake_cuda.DeviceArray, "numpy", guard(_fake_cuda.DeviceArray.numpy, ".numpy()")
    )

    def arm(on=True):
        armed[0] = on

    return be, arm


@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
def test_training_step_has_no_host_round_trip(emulated_no_host_copies, loss_name):
    """What `with fastnn.cuda.graph(g):` captures in the GPU test: forward, loss, backward,
    SGD step and zero_grad(set_to_none=True), after one eager warm-up step (the momentum
    buffers exist). Any host copy in the Python glue would make the real capture raise."""
    be, arm = emulated_no_host_copies
    from fastnn._tensor import Tensor

    rng = np.random.default_rng(0)
    model = fastnn.nn.Sequential(fastnn.nn.Linear(7, 33), fastnn.nn.ReLU(), fastnn.nn.Linear(33, 5))
    for p in model.parameters():
        p.data = Tensor._make(be.from_numpy(p.detach().numpy()))
        p.requires_grad_(True)
    opt = fastnn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = Tensor._make(be.from_numpy(rng.standard_normal((9, 7)).astype(np.float32)))
    if loss_name == "mse":
        y = Tensor._make(be.from_numpy(rng.standard_normal((9, 5)).astype(np.float32)))
        loss_fn = fastnn.nn.functional.mse_loss
    else:
        y = Tensor._make(be.from_numpy(rng.integers(0, 5, 9)))
        loss_fn = fastnn.nn.functional.cross_entropy

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step()  # warm-up: creates the momentum buffers
    arm()
    loss = step()
    with pytest.raises(AssertionError, match="host synchronization"):
        loss.item()  # the guard is live
    arm(False)
    assert np.isfinite(loss.item())
