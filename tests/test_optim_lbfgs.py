"""fastnn.optim.LBFGS against torch.optim.LBFGS: the same iterates (and closure evaluations) on
the Rosenbrock function and a least-squares problem, with and without the strong-Wolfe line
search; history limits, tolerances, state_dict, and its errors."""

import copy

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import optim


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def least_squares(A, b):
    return lambda w: ((A @ w - b) ** 2).sum()


def _pair(lib_opt, torch, x0, loss_fn, torch_loss_fn, **kw):
    x = fastnn.nn.Parameter(fastnn.tensor(x0.copy()))
    tx = torch.nn.Parameter(torch.tensor(x0.copy()))
    opt = lib_opt([x], **kw)
    topt = torch.optim.LBFGS([tx], **kw)

    def closure():
        opt.zero_grad()
        loss = loss_fn(x)
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = torch_loss_fn(tx)
        loss.backward()
        return loss

    return x, tx, opt, topt, closure, tclosure


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_rosenbrock_iterates_match_torch(line_search_fn, dtype):
    torch = pytest.importorskip("torch")
    # Rosenbrock's curved valley amplifies rounding differences: a fixed step over fewer steps
    # than the line search, which converges; float32 (whose last-bit differences from torch's
    # loss and dot products grow after ~15 iterations) over short steps.
    steps = 4 if line_search_fn else 2
    lr = 1 if line_search_fn else 0.1
    max_iter = 20
    if dtype == np.float32:
        steps, max_iter = 3, 5
    x, tx, opt, topt, closure, tclosure = _pair(
        optim.LBFGS,
        torch,
        np.array([-1.5, 2.0], dtype),
        rosenbrock,
        rosenbrock,
        lr=lr,
        max_iter=max_iter,
        history_size=5,
        line_search_fn=line_search_fn,
    )
    tol = {"atol": 1e-9, "rtol": 1e-9} if dtype == np.float64 else {"atol": 5e-5, "rtol": 5e-5}
    for _ in range(steps):
        loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert float(loss) == pytest.approx(float(tloss.detach()), rel=tol["rtol"], abs=tol["atol"])
        assert_close(x.detach().numpy(), tx.detach().numpy(), name="x", **tol)
        if dtype == np.float64:
            assert opt.state[x]["func_evals"] == topt.state[tx]["func_evals"]
            assert opt.state[x]["n_iter"] == topt.state[tx]["n_iter"]
    assert x.detach().numpy().dtype == dtype
    if line_search_fn and dtype == np.float64:  # converged to the minimum (1, 1)
        assert_close(x.detach().numpy(), np.ones(2), atol=1e-3, rtol=0, name="minimum")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_least_squares_iterates_match_torch(line_search_fn, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 7)).astype(dtype)
    b = rng.standard_normal(20).astype(dtype)
    x, tx, opt, topt, closure, tclosure = _pair(
        optim.LBFGS,
        torch,
        np.zeros(7, dtype),
        least_squares(fastnn.tensor(A), fastnn.tensor(b)),
        least_squares(torch.tensor(A), torch.tensor(b)),
        lr=0.5 if line_search_fn is None else 1,
        max_iter=4,
        history_size=3,
        line_search_fn=line_search_fn,
    )
    tol = {"atol": 1e-10, "rtol": 1e-9} if dtype == np.float64 else {"atol": 1e-4, "rtol": 1e-4}
    for _ in range(6):
        opt.step(closure)
        topt.step(tclosure)
        assert_close(x.detach().numpy(), tx.detach().numpy(), name="w", **tol)
    solution = np.linalg.lstsq(A.astype(np.float64), b.astype(np.float64), rcond=None)[0]
    if line_search_fn:
        assert_close(x.detach().numpy(), solution, atol=1e-3, rtol=1e-3, name="solution")


def test_several_parameters_and_a_missing_grad_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    A = rng.standard_normal((12, 5))
    b = rng.standard_normal(12)
    w0, c0, unused0 = rng.standard_normal((5, 1)), rng.standard_normal(1), rng.standard_normal(3)
    lib = [fastnn.nn.Parameter(fastnn.tensor(v.copy())) for v in (w0, c0, unused0)]
    tl = [torch.nn.Parameter(torch.tensor(v.copy())) for v in (w0, c0, unused0)]
    opt = optim.LBFGS(lib, line_search_fn="strong_wolfe", max_iter=10)
    topt = torch.optim.LBFGS(tl, line_search_fn="strong_wolfe", max_iter=10)
    At, bt = fastnn.tensor(A), fastnn.tensor(b.reshape(12, 1))
    Ato, bto = torch.tensor(A), torch.tensor(b.reshape(12, 1))

    def closure():
        opt.zero_grad()
        loss = ((At @ lib[0] + lib[1] - bt) ** 2).mean()
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = ((Ato @ tl[0] + tl[1] - bto) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(2):
        opt.step(closure)
        topt.step(tclosure)
    for p, tp in zip(lib, tl):
        assert_close(p.detach().numpy(), tp.detach().numpy(), atol=1e-10, rtol=1e-9, name="p")
    np.testing.assert_array_equal(lib[2].detach().numpy(), unused0)


def test_stops_at_tolerance_grad_without_moving():
    x = fastnn.nn.Parameter(fastnn.tensor(np.ones(2)))
    opt = optim.LBFGS([x], tolerance_grad=1e-5)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = rosenbrock(x)  # the minimum: zero gradient
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    assert calls == [1] and opt.state[x]["func_evals"] == 1
    np.testing.assert_array_equal(x.detach().numpy(), np.ones(2))


def test_state_dict_round_trip():
    def run(opt, x, steps):
        def closure():
            opt.zero_grad()
            loss = rosenbrock(x)
            loss.backward()
            return loss

        for _ in range(steps):
            opt.step(closure)

    x = fastnn.nn.Parameter(fastnn.tensor(np.array([-1.2, 1.0])))
    opt = optim.LBFGS([x], max_iter=3, history_size=4)
    run(opt, x, 2)
    saved = copy.deepcopy(opt.state_dict())
    saved_x = x.detach().numpy().copy()
    run(opt, x, 3)
    x2 = fastnn.nn.Parameter(fastnn.tensor(saved_x))
    opt2 = optim.LBFGS([x2], max_iter=3, history_size=4)
    opt2.load_state_dict(saved)
    run(opt2, x2, 3)
    np.testing.assert_array_equal(x.detach().numpy(), x2.detach().numpy())


def test_errors():
    x = fastnn.nn.Parameter(fastnn.tensor(np.ones(2)))
    y = fastnn.nn.Parameter(fastnn.tensor(np.ones(2)))
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.LBFGS([x], lr=-1)
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [x]}, {"params": [y]}])
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([x]).add_param_group({"params": [y]})
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([x]).step()
