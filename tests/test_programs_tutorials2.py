"""More condensed programs of the kind PyTorch's tutorials and recipes teach, each written
against a library ``lib`` so that the same code runs on fastnn and on torch. Each one pins a
place where fastnn used to diverge from torch."""

import importlib

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _mod(lib, name):
    return importlib.import_module(f"{lib.__name__}.{name}")


def _run_both(program, *args):
    return program(fastnn, *args), program(torch, *args)


# ---- torch.func: a vmapped vjp gives the rows that autograd.grad gives, to the bit ----------


def _jacobian_two_ways(lib):
    F = _mod(lib, "nn.functional")
    func = _mod(lib, "func")
    g = np.random.default_rng(0)
    w = lib.tensor(g.standard_normal((12, 12)), dtype=lib.float32)
    b = lib.tensor(g.standard_normal(12), dtype=lib.float32)
    x = lib.tensor(g.standard_normal(12), dtype=lib.float32)
    eye = lib.eye(12)

    def f(v):
        return F.linear(v, w, b).tanh()

    _, pullback = func.vjp(f, x)
    (by_vmap,) = func.vmap(pullback)(eye)
    xr = x.clone().requires_grad_()
    by_rows = lib.stack([lib.autograd.grad(f(xr), xr, e)[0] for e in eye])
    by_jacrev = func.jacrev(f)(x)
    grad_sum = func.grad(lambda v: f(v).sum())(x)
    return by_vmap.numpy(), by_rows.numpy(), by_jacrev.numpy(), grad_sum.numpy()


def test_func_transforms_give_plain_backward_bits():
    ours, theirs = _run_both(_jacobian_two_ways)
    # a transform with nothing outside it to differentiate runs the plain backward kernels
    np.testing.assert_array_equal(ours[0], ours[1])
    np.testing.assert_array_equal(ours[2], ours[1])
    np.testing.assert_allclose(ours[3], ours[1].sum(0), rtol=1e-5, atol=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_func_nested_transforms_still_differentiate():
    func = fastnn.func
    x = fastnn.tensor([0.3, -1.2, 0.7])

    def f(v):
        return (v.sin() * v).sum()

    h = func.hessian(f)(x)
    th = torch.func.hessian(lambda v: (v.sin() * v).sum())(torch.tensor(x.numpy()))
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-5, atol=1e-6)
    # a closure over a tensor that requires grad keeps the result differentiable
    s = fastnn.tensor(2.0, requires_grad=True)
    g = func.grad(lambda v: (v * v * s).sum())(x)
    g.sum().backward()
    np.testing.assert_allclose(s.grad.item(), 2 * x.sum().item(), rtol=1e-6)


# ---- torch.utils.benchmark.Timer -------------------------------------------------------------


def _timed(lib):
    bench = _mod(lib, "utils.benchmark")
    t = bench.Timer("x * y", "x = torch.ones(8)\ny = torch.ones(1)", label="mul", sub_label="8x1")
    m = t.timeit(20)
    blocked = bench.Timer(stmt="f(v)", globals={"f": abs, "v": -1.0}).blocked_autorange(
        min_run_time=0.01
    )
    return m, blocked


def test_benchmark_timer_matches_torch():
    (m, blocked), (tm, tblocked) = _run_both(_timed)
    for ours in (m, blocked, tm, tblocked):
        assert type(ours.times) is list and len(ours.times) == len(ours.raw_times)
        assert ours.number_per_run * ours.times[0] == pytest.approx(ours.raw_times[0])
        assert ours.median > 0 and ours.iqr >= 0 and ours.mean > 0
    assert m.number_per_run == tm.number_per_run == 20
    assert m.title == tm.title == "mul: 8x1"
    assert m.label == "mul" and m.num_threads == tm.num_threads == 1
    # the printed summary: every line but the object's address and the time itself agree
    ours, theirs = repr(m).splitlines()[1:], repr(tm).splitlines()[1:]
    assert len(ours) == len(theirs)
    assert ours[:-2] == theirs[:-2] and ours[-1] == theirs[-1]
    assert ours[-2].split()[-1] in ("ns", "us", "ms", "s")
    assert blocked.number_per_run >= 1 and len(blocked.times) >= 1
    with pytest.raises(NotImplementedError):
        fastnn.utils.benchmark.Timer("pass").autorange()
    with pytest.raises(ValueError, match="global_setup"):
        fastnn.utils.benchmark.Timer("pass", global_setup="int x;")
    for ours, theirs in ((1.5e-7, 1.5e-7), (2e-3, 2e-3), (4.0, 4.0)):
        assert fastnn.utils.benchmark.select_unit(ours) == torch.utils.benchmark.select_unit(theirs)
