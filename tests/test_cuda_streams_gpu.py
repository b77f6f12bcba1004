"""Streams, events, stream-safe allocator reuse, DLPack stream ordering and CUDA graphs on a GPU.
Ordering is checked deterministically: a "gate" (a host callback that waits until the test opens
it, fastnn._cuda.hold_stream) holds a stream, so work queued behind it is provably not done yet.
Skipped without a GPU (test_cuda_streams.py covers what runs everywhere)."""

import numpy as np
import pytest

import fastnn
from fastnn import cuda

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU"),
]

N = 3 * 2**20 // 4  # float32 elements: a 3 MiB size class nothing else in these tests uses


@pytest.fixture
def mod():
    return cuda._require()


class Gate:
    """Holds `stream` until opened (or 30 s pass, so a failing test cannot hang)."""

    def __init__(self, mod, stream):
        self.mod, self.handle = mod, mod.hold_stream(stream.cuda_stream, 30.0)

    def open(self):
        if self.handle:
            self.mod.release_stream(self.handle)
            self.handle = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.open()


def test_current_and_default_stream():
    assert cuda.current_stream().cuda_stream == 0
    assert cuda.current_stream() == cuda.default_stream()
    s = cuda.Stream()
    assert s.cuda_stream != 0 and s.device_index == cuda.current_device()
    with cuda.stream(s):
        assert cuda.current_stream() == s
        assert cuda.from_numpy(np.ones(3)).__cuda_array_interface__["stream"] == s.cuda_stream
    assert cuda.current_stream().cuda_stream == 0
    assert cuda.from_numpy(np.ones(3)).__cuda_array_interface__["stream"] == 1


def test_priorities():
    lo, hi = cuda.Stream(), cuda.Stream(priority=-1)
    assert hi.priority <= lo.priority  # CUDA: lower numbers are higher priorities


def test_work_on_a_side_stream_is_ordered_by_events(mod, rng):
    a = rng.standard_normal(1000).astype(np.float32)
    x = cuda.from_numpy(a)
    side = cuda.Stream()
    side.wait_stream(cuda.current_stream())
    with Gate(mod, side) as gate:
        with cuda.stream(side):
            y = mod.binary("mul", x, 2.0)  # queued behind the gate
            x.record_stream(side)
        done = side.record_event()
        assert not side.query() and not done.query()
        main = cuda.current_stream()
        main.wait_event(done)
        z = mod.binary("add", y, 1.0)  # on the default stream, after the side stream's work
        assert not main.query()  # it waits for the gated side stream
        gate.open()
    done.synchronize()
    assert done.query() and side.query()
    np.testing.assert_allclose(z.numpy(), a * 2 + 1, rtol=1e-6)


def test_host_copies_follow_the_current_stream(mod, rng):
    a = rng.standard_normal(257).astype(np.float32)
    side = cuda.Stream()
    with cuda.stream(side):
        x = cuda.from_numpy(a)
        y = mod.binary("mul", x, 3.0)
        got = y.numpy()  # ordered after the side stream's kernel
    np.testing.assert_allclose(got, a * 3, rtol=1e-6)


def test_event_timing(mod):
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    x = cuda.zeros((1 << 20,))
    start.record()
    for _ in range(20):
        x = mod.binary("add", x, 1.0)
    end.record()
    end.synchronize()
    ms = start.elapsed_time(end)
    assert 0 <= ms < 10_000
    assert x.numpy()[0] == 20
    side = cuda.Stream()
    late = cuda.Event(enable_timing=True)
    with Gate(mod, side):
        late.record(side)
        with pytest.raises(RuntimeError, match="NotReady|not ready"):
            start.elapsed_time(late)  # `late` has not completed
    late.synchronize()
    assert start.elapsed_time(late) >= 0


def test_a_block_used_on_a_busy_stream_is_not_reused(mod):
    side = cuda.Stream()
    dev = cuda.current_device()
    with Gate(mod, side) as gate:
        x = cuda.empty((N,))
        ptr = x.data_ptr
        with cuda.stream(side):
            x.fill_(1.0)  # still queued behind the gate when x is freed
        x.record_stream(side)
        del x
        assert mod.pending_frees(dev) >= 1
        y = cuda.empty((N,))
        assert y.data_ptr != ptr  # the side stream may still write the freed block
        gate.open()
    side.synchronize()
    z = cuda.empty((N,))
    assert z.data_ptr == ptr  # its event completed: the block is back
    del y, z


def test_blocks_are_reused_only_on_their_allocation_stream():
    side = cuda.Stream()
    with cuda.stream(side):
        a = cuda.empty((N,))
    pa = a.data_ptr
    del a
    b = cuda.empty((N,))  # default stream: must not get the side stream's block
    assert b.data_ptr != pa
    with cuda.stream(side):
        c = cuda.empty((N,))
    assert c.data_ptr == pa
    del b, c


def test_an_exported_block_waits_for_a_device_synchronization(mod):
    x = cuda.empty((N,))
    ptr = x.data_ptr
    cap = x.__dlpack__(stream=None)
    del cap, x  # the consumer may still use it on a stream fastnn cannot see
    y = cuda.empty((N,))
    assert y.data_ptr != ptr
    cuda.synchronize()
    z = cuda.empty((N,))
    assert z.data_ptr == ptr
    w = cuda.empty((N,))
    w.__cuda_array_interface__  # noqa: B018 (exporting through CAI marks it too)
    pw = w.data_ptr
    del w
    v = cuda.empty((N,))
    assert v.data_ptr not in (pw, ptr)
    del y, z, v


def test_dlpack_orders_the_consumers_stream_after_fastnns(mod):
    x = cuda.from_numpy(np.arange(10, dtype=np.float32))
    consumer = cuda.Stream()
    producer = cuda.Stream()
    with Gate(mod, producer) as gate:
        with cuda.stream(producer):
            x.fill_(5.0)  # behind the gate
            cap = x.__dlpack__(stream=consumer.cuda_stream)
        assert not consumer.query()  # the consumer's stream waits for fastnn's writes
        gate.open()
    consumer.synchronize()
    y = mod.from_dlpack_capsule(cap)
    np.testing.assert_array_equal(y.numpy(), np.full(10, 5.0, np.float32))
    with Gate(mod, producer):
        with cuda.stream(producer):
            x.__dlpack__(stream=-1)  # -1: no synchronization asked for
        assert consumer.query()
    with pytest.raises(ValueError, match="stream 0"):
        x.__dlpack__(stream=0)


def test_graph_capture_and_replay(mod, rng):
    x = cuda.from_numpy(rng.standard_normal(33).astype(np.float32))
    g = cuda.CUDAGraph()
    before = cuda.memory_stats()["num_allocs"]
    with cuda.graph(g):
        y = mod.binary("add", mod.binary("mul", x, 2.0), 1.0)
    assert cuda.memory_stats()["num_allocs"] > before
    assert cuda.current_stream().cuda_stream == 0
    for _ in range(3):
        a = rng.standard_normal(33).astype(np.float32)
        x.copy_(a)
        g.replay()
        np.testing.assert_allclose(y.numpy(), a * 2 + 1, rtol=1e-6)
    g.reset()


@pytest.mark.parametrize(
    "sync",
    [
        ("item", lambda x: fastnn.Tensor._make(x).sum().item()),
        ("numpy", lambda x: x.numpy()),
        ("from_numpy", lambda x: cuda.from_numpy(np.ones(3))),
        ("synchronize", lambda x: cuda.synchronize()),
        ("stream sync", lambda x: cuda.current_stream().synchronize()),
    ],
    ids=lambda s: s[0],
)
def test_host_sync_inside_a_capture_raises(sync):
    x = cuda.from_numpy(np.ones(8, np.float32))
    g = cuda.CUDAGraph()
    match = "not allowed while a CUDA graph is being captured"
    with pytest.raises(RuntimeError, match=match), cuda.graph(g):
        sync[1](x)
    assert not cuda.is_current_stream_capturing()
    assert cuda.current_stream().cuda_stream == 0
    with pytest.raises(RuntimeError, match="not been captured"):
        g.replay()
    np.testing.assert_array_equal(x.numpy(), np.ones(8))  # the device still works


def _mlp(seed):
    fastnn.manual_seed(seed)
    return fastnn.nn.Sequential(
        fastnn.nn.Linear(7, 33), fastnn.nn.ReLU(), fastnn.nn.Linear(33, 5)
    ).to("cuda")


def _batches(rng, n):
    return [
        (
            rng.standard_normal((9, 7)).astype(np.float32),
            rng.standard_normal((9, 5)).astype(np.float32),
        )
        for _ in range(n)
    ]


def test_graphed_training_step_matches_eager_steps(rng):
    """Forward, loss, backward and an SGD-with-momentum step captured as one graph and replayed
    over batches give the parameters of the same steps run eagerly."""
    batches = _batches(rng, 8)
    eager, graphed = _mlp(0), _mlp(0)
    opts = [fastnn.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in (eager, graphed)]

    def step(model, opt, x, y):
        opt.zero_grad(set_to_none=True)
        loss = fastnn.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for x, y in batches:
        step(eager, opts[0], fastnn.tensor(x, device="cuda"), fastnn.tensor(y, device="cuda"))

    static_x = fastnn.tensor(batches[0][0], device="cuda")
    static_y = fastnn.tensor(batches[0][1], device="cuda")
    side = cuda.Stream()
    side.wait_stream(cuda.current_stream())
    with cuda.stream(side):  # warm-up: the first 3 batches, eagerly (momentum buffers appear)
        for x, y in batches[:3]:
            static_x.copy_(fastnn.tensor(x, device="cuda"))
            static_y.copy_(fastnn.tensor(y, device="cuda"))
            step(graphed, opts[1], static_x, static_y)
    cuda.current_stream().wait_stream(side)
    g = cuda.CUDAGraph()
    with cuda.graph(g):
        static_loss = step(graphed, opts[1], static_x, static_y)
    for x, y in batches[3:]:
        static_x.copy_(fastnn.tensor(x, device="cuda"))
        static_y.copy_(fastnn.tensor(y, device="cuda"))
        g.replay()
    assert np.isfinite(static_loss.item())
    for pe, pg in zip(eager.parameters(), graphed.parameters()):
        np.testing.assert_allclose(
            pg.detach().cpu().numpy(), pe.detach().cpu().numpy(), rtol=1e-5, atol=1e-6
        )


def test_make_graphed_callables_matches_the_module(rng):
    batches = _batches(rng, 5)
    eager, graphed = _mlp(1), _mlp(1)
    sample = fastnn.tensor(batches[0][0], device="cuda").requires_grad_(True)
    graphed = cuda.make_graphed_callables(graphed, (sample,))
    first = None
    for x, y in batches:
        xs = []
        for model in (eager, graphed):
            xt = fastnn.tensor(x, device="cuda").requires_grad_(True)
            loss = fastnn.nn.functional.mse_loss(model(xt), fastnn.tensor(y, device="cuda"))
            loss.backward()
            xs.append(xt.grad.cpu().numpy())
            if model is graphed and first is None:
                first = (xt, xs[-1])
        np.testing.assert_allclose(xs[1], xs[0], rtol=1e-5, atol=1e-6)
    # a later replay leaves the gradients it handed out earlier alone
    np.testing.assert_array_equal(first[0].grad.cpu().numpy(), first[1])
    for pe, pg in zip(eager.parameters(), graphed.parameters()):
        np.testing.assert_allclose(
            pg.grad.cpu().numpy(), pe.grad.cpu().numpy(), rtol=1e-5, atol=1e-6
        )
    graphed.eval()  # another training state: the original forward runs
    out = graphed(fastnn.tensor(batches[0][0], device="cuda"))
    assert out.shape == (9, 5)


def test_graph_pool_memory_returns_after_reset(mod):
    x = cuda.from_numpy(np.ones(N, np.float32))
    g = cuda.CUDAGraph()
    with cuda.graph(g):
        y = mod.binary("mul", x, 2.0)
    py = y.data_ptr
    del y  # back to the graph's pool, not to the default cache
    a = cuda.empty((N,))
    assert a.data_ptr != py
    g.reset()
    cuda.synchronize()  # the last replay may still run until a device synchronization
    b = cuda.empty((N,))
    assert b.data_ptr == py
    del a, b
