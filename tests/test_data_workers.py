"""DataLoader workers under faults: timeout, worker_init_fn / get_worker_info and per-worker
seeding, a worker's exception, process workers (multiprocessing_context), persistent workers,
Ctrl-C, and no threads or processes left behind."""

import multiprocessing as mp
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import fastnn
from fastnn.utils import data

# FASTNN_TESTS_NO_FORK: the sanitizer run (.ci/sanitize) skips the forked workers. A child forked
# while another thread of the parent held the sanitizer allocator's lock inherits it held, and
# GCC's ASan runtime takes no such lock around fork (glibc's malloc does): a worker hung there.
FORK = (
    "fork"
    if "fork" in mp.get_all_start_methods() and not os.environ.get("FASTNN_TESTS_NO_FORK")
    else None
)
needs_fork = pytest.mark.skipif(FORK is None, reason="needs the fork start method")
BACKENDS = [None, pytest.param(FORK, marks=needs_fork)]
# The fastnn this test imported (the installed one in CI, the source tree with PYTHONPATH=python).
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


def loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("fastnn-DataLoader")]


def wait_until(pred, timeout=3.0):
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        time.sleep(0.01)
    return pred()


def no_workers_left():
    return wait_until(lambda: not loader_threads() and not mp.active_children())


class Samples(data.Dataset):
    """Sample i is (i, the loading worker's id, a fastnn random draw or 0)."""

    def __init__(self, n, draw=False):
        self.n, self.draw = n, draw

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = data.get_worker_info()
        r = float(fastnn.rand(1).item()) if self.draw else 0.0
        return i, -1 if info is None else info.id, r


class Stuck(data.Dataset):
    """Sample ``at`` blocks until ``release`` is set (threads) or for a long time (processes)."""

    def __init__(self, n, at, release=None):
        self.n, self.at, self.release = n, at, release

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.at:
            if self.release is not None:
                self.release.wait(10)
            else:
                time.sleep(60)
        return i


class Failing(data.Dataset):
    def __init__(self, n, at, exc):
        self.n, self.at, self.exc = n, at, exc

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.at:
            raise self.exc
        return i


class NeedsTwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


def columns(loader):
    return [tuple(np.asarray(c.numpy()).tolist() for c in b) for b in loader]


# ---- timeout ----


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (-0.5, ValueError), ("1", TypeError)])
def test_timeout_is_checked(bad, err):
    with pytest.raises(err, match="timeout"):
        data.DataLoader(Samples(4), timeout=bad)


def test_negative_timeout_is_a_value_error_in_torch_too():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(list(range(4)), timeout=-1)


def test_timeout_names_the_stuck_batch_threads():
    release = threading.Event()
    try:
        ds = Stuck(12, at=5, release=release)
        loader = data.DataLoader(ds, batch_size=2, num_workers=2, timeout=0.3)
        got = []
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match=r"timed out after 0.3 seconds waiting for batch 2"):
            for b in loader:
                got.append(b.numpy().tolist())
        assert got == [[0, 1], [2, 3]]
        assert time.monotonic() - t0 < 0.3 + 2.0  # the stuck thread is not waited on for long
    finally:
        release.set()
    assert no_workers_left()  # the abandoned thread ends once its batch returns


@needs_fork
def test_timeout_terminates_stuck_processes():
    loader = data.DataLoader(
        Stuck(8, at=2), batch_size=2, num_workers=2, timeout=0.5, multiprocessing_context=FORK
    )
    it = iter(loader)
    assert next(it).numpy().tolist() == [0, 1]
    with pytest.raises(RuntimeError, match="batch 1"):
        next(it)
    assert mp.active_children() == []
    with pytest.raises(StopIteration):  # the epoch is over
        next(it)


def test_a_slow_batch_within_the_timeout_is_fine():
    class Slow(Samples):
        def __getitem__(self, i):
            time.sleep(0.02)
            return super().__getitem__(i)

    loader = data.DataLoader(Slow(6), batch_size=2, num_workers=2, timeout=1.0)
    assert [c[0] for c in columns(loader)] == [[0, 1], [2, 3], [4, 5]]


# ---- worker_init_fn, get_worker_info, seeding ----


def test_get_worker_info_is_none_in_the_main_program():
    assert data.get_worker_info() is None
    assert [c[1] for c in columns(data.DataLoader(Samples(4), batch_size=2))] == [[-1, -1]] * 2


@pytest.mark.parametrize("ctx", BACKENDS)
def test_worker_info_and_batch_assignment(ctx):
    ds = Samples(13)
    loader = data.DataLoader(ds, batch_size=2, num_workers=3, multiprocessing_context=ctx)
    cols = columns(loader)
    assert [c[0] for c in cols] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11], [12]]
    # batch b is loaded by worker b % num_workers, whatever the timing
    assert [c[1] for c in cols] == [[b % 3] * len(c[0]) for b, c in enumerate(cols)]
    assert no_workers_left()


def test_worker_info_fields_and_init_fn_threads():
    seen = []
    ds = Samples(10)

    def init(wid):
        info = data.get_worker_info()
        seen.append((wid, info.id, info.num_workers, info.seed, info.dataset is ds))
        with pytest.raises(RuntimeError):
            info.id = 7  # read-only, as in torch

    fastnn.manual_seed(4)
    loader = data.DataLoader(ds, batch_size=2, num_workers=3, worker_init_fn=init)
    list(loader)
    seen.sort()
    assert [s[:3] for s in seen] == [(0, 0, 3), (1, 1, 3), (2, 2, 3)]
    assert all(s[4] for s in seen)  # threads share the dataset object
    base = seen[0][3]
    assert [s[3] for s in seen] == [base, base + 1, base + 2]
    fastnn.manual_seed(4)
    list(loader)
    assert min(seen)[3] == base  # the base seed follows fastnn.manual_seed
    assert len(seen) == 6  # once per worker per epoch (the workers are not persistent)


def _record_pid(wid):
    data.get_worker_info().dataset.init_pid = os.getpid()


class WhoLoads(data.Dataset):
    init_pid = None

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return i, os.getpid(), self.init_pid or 0


@needs_fork
def test_worker_init_fn_runs_in_each_process():
    loader = data.DataLoader(
        WhoLoads(), batch_size=2, num_workers=2, worker_init_fn=_record_pid,
        multiprocessing_context=FORK,
    )  # fmt: skip
    cols = columns(loader)
    pids = [c[1][0] for c in cols]
    assert os.getpid() not in pids and len(set(pids)) == 2
    assert [c[2] for c in cols] == [c[1] for c in cols]  # init ran in the loading process
    assert WhoLoads.init_pid is None  # ... not in this one


def _draws(ctx, workers, seed=11, epochs=1, draw=True):
    fastnn.manual_seed(seed)
    loader = data.DataLoader(
        Samples(12, draw=draw), batch_size=3, num_workers=workers, multiprocessing_context=ctx
    )
    out = [np.concatenate([c[2] for c in columns(loader)]) for _ in range(epochs)]
    return out, float(fastnn.rand(1).item())


@pytest.mark.parametrize("ctx", BACKENDS)
def test_random_draws_in_workers_are_per_worker_and_reproducible(ctx):
    (a,), after_a = _draws(ctx, 2)
    (b,), after_b = _draws(ctx, 2)
    np.testing.assert_array_equal(a, b)  # reproducible given fastnn.manual_seed
    assert after_a == after_b
    (c,), _ = _draws(ctx, 2, seed=12)
    assert not np.array_equal(a, c)
    # worker 0 loads batches 0 and 2, worker 1 batches 1 and 3: their streams differ
    assert not np.array_equal(a[0:3], a[3:6])
    # ... and each continues its own stream: worker 0's batch 2 follows its batch 0
    assert not np.array_equal(a[0:3], a[6:9])
    # the workers' draws leave the main program's stream as a loader without workers does
    _, after_0 = _draws(None, 0, draw=False)
    assert after_0 == after_a
    (e1, e2), _ = _draws(ctx, 2, epochs=2)
    assert not np.array_equal(e1, e2)  # a new base seed each epoch


@needs_fork
def test_threads_and_processes_draw_the_same_numbers():
    (a,), _ = _draws(None, 2)
    (b,), _ = _draws(FORK, 2)
    np.testing.assert_array_equal(a, b)


def test_manual_seed_in_a_worker_thread_seeds_only_that_worker():
    def init(wid):
        fastnn.manual_seed(100 + wid)

    fastnn.manual_seed(0)
    loader = data.DataLoader(
        Samples(4, draw=True), batch_size=1, num_workers=2, worker_init_fn=init
    )
    draws = np.concatenate([c[2] for c in columns(loader)])
    after = float(fastnn.rand(1).item())
    fastnn.manual_seed(0)
    list(data.DataLoader(Samples(4), batch_size=1, num_workers=2))
    assert float(fastnn.rand(1).item()) == after  # the main stream was not reseeded
    fastnn.manual_seed(100)
    first = float(fastnn.rand(1).item())
    assert draws[0] == np.float32(first)  # worker 0 drew from its own seed-100 stream


def test_worker_init_fn_must_be_callable():
    with pytest.raises(TypeError, match="worker_init_fn"):
        data.DataLoader(Samples(4), num_workers=1, worker_init_fn=3)


# ---- a worker's exception ----


@pytest.mark.parametrize("ctx", BACKENDS)
def test_worker_exception_keeps_its_type_and_names_batch_and_worker(ctx):
    loader = data.DataLoader(
        Failing(20, 13, KeyError("sample 13 is broken")),
        batch_size=4,
        num_workers=2,
        multiprocessing_context=ctx,
    )
    got = []
    with pytest.raises(KeyError) as e:
        for b in loader:
            got.append(b.numpy().tolist())
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    msg = str(e.value)
    kind = "thread" if ctx is None else "process"
    assert f"worker {kind} 1 while loading batch 3" in msg
    assert "sample 13 is broken" in msg
    assert "in __getitem__" in msg  # the worker's traceback, as text
    assert no_workers_left()


def test_worker_exception_type_matches_torch():
    # torch's own loader (in-process here: its workers take ~10 s to shut down after an error)
    torch = pytest.importorskip("torch")
    ds = Failing(8, 5, ValueError("bad sample"))
    for loader in (
        torch.utils.data.DataLoader(ds, batch_size=2),
        data.DataLoader(ds, batch_size=2, num_workers=2),
    ):
        with pytest.raises(ValueError, match="bad sample"):
            list(loader)


@pytest.mark.parametrize("ctx", BACKENDS)
def test_exception_that_cannot_be_rebuilt_becomes_runtime_error(ctx):
    loader = data.DataLoader(
        Failing(4, 1, NeedsTwoArgs("x", "y")),
        batch_size=1,
        num_workers=1,
        multiprocessing_context=ctx,
    )
    with pytest.raises(RuntimeError, match=r"Caught NeedsTwoArgs .* batch 1"):
        list(loader)


@pytest.mark.parametrize("ctx", BACKENDS)
def test_worker_init_fn_error_is_raised_with_the_first_batch(ctx):
    loader = data.DataLoader(
        Samples(4),
        batch_size=1,
        num_workers=2,
        worker_init_fn=_fail_init,
        multiprocessing_context=ctx,
    )
    with pytest.raises(OSError, match="worker_init_fn before batch 0") as e:
        list(loader)
    assert "no device for worker 0" in str(e.value)
    assert no_workers_left()


def _fail_init(wid):
    raise OSError(f"no device for worker {wid}")


@needs_fork
def test_unpicklable_batch_and_killed_worker():
    loader = data.DataLoader(
        Samples(4),
        batch_size=1,
        num_workers=1,
        collate_fn=lambda s: lambda: s,  # a batch that cannot be pickled
        multiprocessing_context=FORK,
    )
    with pytest.raises(RuntimeError, match="sending batch 0"):
        list(loader)

    class Dies(Samples):
        def __getitem__(self, i):
            if i == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().__getitem__(i)

    loader = data.DataLoader(Dies(6), batch_size=2, num_workers=2, multiprocessing_context=FORK)
    with pytest.raises(RuntimeError, match=r"worker process 1 .*signal 9.* batch 1"):
        list(loader)
    assert no_workers_left()


# ---- process workers ----


@pytest.mark.parametrize(
    "ctx, err",
    [("thread", ValueError), (3, TypeError)],
)
def test_multiprocessing_context_is_checked(ctx, err):
    with pytest.raises(err, match="multiprocessing_context"):
        data.DataLoader(Samples(4), num_workers=1, multiprocessing_context=ctx)


def test_multiprocessing_context_needs_workers_as_in_torch():
    with pytest.raises(ValueError, match="num_workers"):
        data.DataLoader(Samples(4), multiprocessing_context="spawn")
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(list(range(4)), multiprocessing_context="spawn")


@needs_fork
@pytest.mark.parametrize("ctx", ["fork", "context"])
def test_process_workers_give_the_batches_of_the_main_program(ctx):
    ctx = mp.get_context("fork") if ctx == "context" else ctx
    x = np.arange(41 * 3, dtype=np.float32).reshape(41, 3)
    ds = data.TensorDataset(x, np.arange(41))
    fastnn.manual_seed(5)
    ref = [b[0].numpy() for b in data.DataLoader(ds, batch_size=4, shuffle=True)]
    fastnn.manual_seed(5)
    loader = data.DataLoader(
        ds, batch_size=4, shuffle=True, num_workers=3, multiprocessing_context=ctx
    )
    got = [b[0].numpy() for b in loader]
    assert len(got) == len(ref) == 11
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
    assert no_workers_left()


def test_spawned_workers_give_the_same_batches():
    x = np.arange(10 * 2, dtype=np.float64).reshape(10, 2)
    ds = data.TensorDataset(x)
    loader = data.DataLoader(ds, batch_size=3, num_workers=1, multiprocessing_context="spawn")
    got = np.concatenate([b[0].numpy() for b in loader])
    np.testing.assert_array_equal(got, x)
    assert got.dtype == np.float64
    assert no_workers_left()


def test_spawn_with_an_unpicklable_collate_fn_says_what_is_pickled():
    loader = data.DataLoader(
        Samples(4), num_workers=2, collate_fn=lambda s: s, multiprocessing_context="spawn"
    )
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)) as e:
        list(loader)
    assert "pickles the dataset, collate_fn" in "".join(getattr(e.value, "__notes__", []))
    assert no_workers_left()


class Counted(data.Dataset):
    def __init__(self, n, counter):
        self.n, self.counter = n, counter

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        with self.counter.get_lock():
            self.counter.value += 1
        return i


@needs_fork
def test_process_prefetch_is_bounded():
    counter = mp.get_context(FORK).Value("i", 0)
    workers, pf = 2, 3
    loader = data.DataLoader(
        Counted(100, counter), batch_size=1, num_workers=workers, prefetch_factor=pf,
        multiprocessing_context=FORK,
    )  # fmt: skip
    it = iter(loader)
    next(it)
    assert wait_until(lambda: counter.value >= workers * pf)
    time.sleep(0.2)  # the training loop is "busy": workers only run a bounded way ahead
    assert workers * pf <= counter.value <= workers * pf + 1
    del it
    assert no_workers_left()


@pytest.mark.parametrize("ctx", BACKENDS)
def test_persistent_workers_live_between_epochs(ctx):
    calls = mp.get_context(FORK).Value("i", 0) if ctx else None
    counts = []

    def init(wid):
        if calls is not None:
            with calls.get_lock():
                calls.value += 1
        else:
            counts.append(wid)

    ds = WhoLoads()
    persistent = data.DataLoader(
        ds, batch_size=2, num_workers=2, worker_init_fn=init, persistent_workers=True,
        multiprocessing_context=ctx,
    )  # fmt: skip
    e1, e2 = columns(persistent), columns(persistent)
    assert [c[0] for c in e1] == [c[0] for c in e2] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert (calls.value if ctx else len(counts)) == 2  # once per worker, not per epoch
    if ctx:
        assert [c[1] for c in e1] == [c[1] for c in e2]  # the same processes
        assert len(mp.active_children()) == 2
    else:
        assert len(loader_threads()) == 2
    # a new epoch while the last one is unfinished: the old iterator says so
    it = iter(persistent)
    next(it)
    assert columns(persistent)[0][0] == [0, 1]
    with pytest.raises(RuntimeError, match="replaced"):
        next(it)
    del persistent  # garbage collecting the loader ends its workers
    assert no_workers_left()


class DiesOnce(data.Dataset):
    """Sample 3 kills its worker process the first time it is loaded."""

    def __init__(self, flag):
        self.flag = flag

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 3 and not self.flag.value:
            self.flag.value = 1
            os.kill(os.getpid(), signal.SIGKILL)
        return i


@needs_fork
def test_persistent_process_pool_is_replaced_after_a_worker_dies():
    flag = mp.get_context(FORK).Value("i", 0)
    loader = data.DataLoader(
        DiesOnce(flag), batch_size=2, num_workers=2, persistent_workers=True,
        multiprocessing_context=FORK,
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="exited unexpectedly before sending batch 1"):
        list(loader)
    assert mp.active_children() == []  # the survivor was shut down too
    assert [b.numpy().tolist() for b in loader] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert len(mp.active_children()) == 2
    del loader
    assert no_workers_left()


def test_persistent_thread_pool_is_replaced_after_a_timeout():
    release, inits = threading.Event(), []
    try:
        loader = data.DataLoader(
            Stuck(6, at=2, release=release), batch_size=2, num_workers=2, timeout=0.2,
            persistent_workers=True, worker_init_fn=inits.append,
        )  # fmt: skip
        with pytest.raises(RuntimeError, match="timed out"):
            list(loader)
        release.set()
        loader.dataset.at = None
        assert [b.numpy().tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]
        assert sorted(inits) == [0, 0, 1, 1]  # a second pool of workers was started
    finally:
        release.set()
    del loader
    assert no_workers_left()


@pytest.mark.parametrize("ctx", BACKENDS)
def test_abandoned_epochs_leave_no_workers(ctx):
    threads_before = threading.active_count()
    ds = data.TensorDataset(np.arange(200, dtype=np.float32))
    loader = data.DataLoader(ds, batch_size=2, num_workers=3, multiprocessing_context=ctx)
    for i, _ in enumerate(loader):
        if i == 5:
            break
    assert no_workers_left()
    it = iter(loader)
    next(it)
    del it
    assert no_workers_left()
    # restarting gives the whole epoch again
    assert len(list(loader)) == 100
    assert no_workers_left()
    assert threading.active_count() <= threads_before


def test_torch_program_with_workers_gets_torchs_batches():
    torch = pytest.importorskip("torch")
    ds = Samples(11)
    ref = [[t.tolist() for t in b[:1]] for b in torch.utils.data.DataLoader(ds, batch_size=3)]
    got = [[t.numpy().tolist() for t in b[:1]] for b in data.DataLoader(ds, 3, num_workers=2)]
    assert got == ref


# ---- Ctrl-C ----

_CTRL_C_SCRIPT = """
import multiprocessing as mp, sys, time
from fastnn.utils import data

class Stuck(data.Dataset):
    def __len__(self):
        return 8
    def __getitem__(self, i):
        if i >= 2:
            time.sleep(100)  # a worker stuck for good: no thread can be stopped from outside
        return i

ctx = None if sys.argv[1] == "thread" else sys.argv[1]
if __name__ == "__main__":
    loader = data.DataLoader(Stuck(), batch_size=2, num_workers=2, multiprocessing_context=ctx)
    it = iter(loader)
    next(it)
    print(" ".join(str(p.pid) for p in mp.active_children()), flush=True)
    next(it)
"""


@pytest.mark.parametrize("kind", ["thread", pytest.param(FORK, marks=needs_fork)])
def test_one_ctrl_c_stops_a_loader_with_a_stuck_worker(kind, tmp_path):
    script = tmp_path / "stuck.py"
    script.write_text(textwrap.dedent(_CTRL_C_SCRIPT))
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, str(script), kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        time.sleep(0.2)  # now blocked waiting for batch 1
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        _, err = proc.communicate(timeout=8)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "KeyboardInterrupt" in err, err
    assert took < 4.0
    assert len(pids) == (0 if kind == "thread" else 2)
    for pid in pids:  # the worker processes are gone too
        assert wait_until(lambda pid=pid: not _exists(pid))


def _exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
