"""Kernels called from many Python threads at once give the serial results, and release the GIL."""

import bisect
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from fastnn import kernels as K

WORKERS, ITERS = 8, 12


def _concurrent(fn, inputs):
    """fn(*inputs[i]) for every i from WORKERS threads, repeated ITERS times; results per i."""
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [[pool.submit(fn, *args) for args in inputs] for _ in range(ITERS)]
        return [[f.result() for f in round_] for round_ in futures]


def _check(fn, inputs):
    serial = [fn(*args) for args in inputs]
    for round_ in _concurrent(fn, inputs):
        for got, want in zip(round_, serial):
            for g, w in zip(
                got if isinstance(got, tuple) else (got,),
                want if isinstance(want, tuple) else (want,),
            ):
                np.testing.assert_array_equal(g, w)


def _arrays(rng, shape, n=WORKERS, dtype=np.float32):
    return [rng.standard_normal(shape).astype(dtype) for _ in range(n)]


def test_matmul_threads(rng, threads):
    a, b = _arrays(rng, (67, 45)), _arrays(rng, (45, 33))
    _check(lambda x, y: K.matmul(x, y, trans_b=False), list(zip(a, b)))


@pytest.mark.parametrize("name", ["relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax"])
def test_activations_threads(rng, threads, name):
    xs = _arrays(rng, (33, 257), dtype=np.float64)
    gs = _arrays(rng, (33, 257), dtype=np.float64)
    fwd, bwd = getattr(K, name), getattr(K, name + "_backward")
    takes_input = name in ("relu", "gelu")
    _check(lambda g, x: (fwd(x), bwd(g, x if takes_input else fwd(x))), list(zip(gs, xs)))


def test_softmax_cross_entropy_threads(rng, threads):
    z = _arrays(rng, (65, 10))
    t = [rng.integers(0, 10, 65) for _ in range(WORKERS)]
    _check(
        lambda z_, t_: K.softmax_cross_entropy(z_, t_, grad=True, label_smoothing=0.1),
        list(zip(z, t)),
    )


def test_adam_step_threads_disjoint(rng, threads):
    # Each thread steps its own parameter set; 8 threads at once must equal 8 serial runs.
    def make():
        r = np.random.default_rng(7)
        return [[r.standard_normal(n) for n in (1000, 33, 7)] for _ in range(4)]

    def run(sets, steps):
        p, g, m, v = sets
        for s in range(1, steps + 1):
            K.adam_step(p, g, m, v, lr=1e-2, weight_decay=0.01, amsgrad=False, step=s)
        return sets

    serial = run(make(), ITERS)
    sets = [make() for _ in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        done = list(pool.map(lambda s: run(s, ITERS), sets))
    for got in done:
        for lst_got, lst_want in zip(got, serial):
            for a, b in zip(lst_got, lst_want):
                np.testing.assert_array_equal(a, b)


def test_im2col_max_pool_threads(rng, threads):
    xs = _arrays(rng, (2, 3, 17, 19))
    _check(lambda x: (K.im2col(x, 3, 2, 1, 1), *K.max_pool2d(x, 3, 2, 1)), [(x,) for x in xs])


def test_matmul_releases_gil(rng):
    # A second thread records timestamps while the main thread is inside K.matmul. Had the call
    # held the GIL, no Python code could run between its start and end: timestamps falling in
    # the middle half of the call prove it released the GIL. The recorder sleeps briefly between
    # stamps (waking up needs the GIL too), so the list stays small however long a call lasts,
    # and every stamp is searched: the window is found by bisection in the sorted list.
    a = rng.standard_normal((1000, 1000))
    stamps, stop, running = [], threading.Event(), threading.Event()

    def record():
        running.set()
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(1e-4)

    t = threading.Thread(target=record)
    t.start()
    running.wait()
    inside = []
    try:
        for _ in range(3):
            t0 = time.perf_counter()
            K.matmul(a, a)
            t1 = time.perf_counter()
            q = (t1 - t0) / 4
            inside.append(bisect.bisect_left(stamps, t1 - q) - bisect.bisect_right(stamps, t0 + q))
    finally:
        stop.set()
        t.join()
    assert max(inside) > 0, inside
