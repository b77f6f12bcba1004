"""fastnn.amp.GradScaler (and fastnn.cuda.amp's deprecated spelling): loss scaling with torch's
scale schedule, skipped steps and errors, compared with torch on the CPU."""

import warnings

import numpy as np
import pytest

import fastnn


def run(lib, steps, overflow_at, scaler_kw):
    """A small regression trained with a scaler; returns the weights, the scales and the
    optimizer step results seen after each iteration."""
    w0 = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    model = lib.nn.Linear(3, 2)
    with lib.no_grad():
        model.weight.copy_(lib.from_numpy(w0.copy()))
        model.bias.zero_()
    opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", **scaler_kw)
    x = lib.from_numpy(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
    scales, results = [], []
    for i in range(steps):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        if i in overflow_at:
            loss = loss * float("inf")
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        results.append(scaler.step(opt))
        scaler.update()
        scales.append(scaler.get_scale())
    return model.weight.detach().numpy(), scales, results, scaler.state_dict()


@pytest.mark.parametrize(
    "overflow_at, kw",
    [
        ((), {"init_scale": 8.0, "growth_interval": 2}),
        ((1, 2, 5), {"init_scale": 1024.0, "growth_interval": 3, "backoff_factor": 0.25}),
        ((0,), {"enabled": False}),
    ],
)
def test_training_with_a_scaler_matches_torch(overflow_at, kw):
    torch = pytest.importorskip("torch")
    ours = run(fastnn, 7, overflow_at, kw)
    theirs = run(torch, 7, overflow_at, kw)
    if kw.get("enabled", True):  # a disabled scaler steps even on inf (torch's weights: nan)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    assert ours[1:] == theirs[1:]


def test_scale_growth_and_backoff_schedule():
    w, scales, results, state = run(fastnn, 6, (3,), {"init_scale": 4.0, "growth_interval": 2})
    # clean steps 0, 1 grow 4 -> 8; step 2 clean; step 3 overflows: 8 * 0.5 and the tracker
    # restarts; steps 4, 5 grow again
    assert scales == [4.0, 8.0, 8.0, 4.0, 4.0, 8.0]
    assert results == [None] * 6  # SGD.step returns None, skipped or not
    assert state["_growth_tracker"] == 0 and state["scale"] == 8.0
    assert np.isfinite(w).all()


def test_an_overflowing_step_leaves_the_weights():
    model = fastnn.nn.Linear(2, 1)
    opt = fastnn.optim.SGD(model.parameters(), lr=0.1)
    scaler = fastnn.amp.GradScaler("cpu")
    before = model.weight.detach().clone()
    scaler.scale(model(fastnn.ones(1, 2)).sum() * float("nan")).backward()
    scaler.step(opt)
    scaler.update()
    assert fastnn.equal(model.weight, before)
    assert scaler.get_scale() == 2.0**15


def test_scale_of_nested_outputs_keeps_containers():
    scaler = fastnn.amp.GradScaler("cpu", init_scale=3.0)
    a = fastnn.tensor([1.0, 2.0])
    out = scaler.scale([a, (a, a)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert out[1][0].tolist() == [3.0, 6.0]


def misuse_cases(lib):
    def fresh():
        model = lib.nn.Linear(2, 1)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        scaler = lib.amp.GradScaler("cpu")
        scaler.scale(model(lib.ones(1, 2)).sum()).backward()
        return scaler, opt

    def twice_unscaled():
        s, o = fresh()
        s.unscale_(o)
        s.unscale_(o)

    def unscaled_after_step():
        s, o = fresh()
        s.step(o)
        s.unscale_(o)

    def stepped_twice():
        s, o = fresh()
        s.step(o)
        s.step(o)

    def closure():
        s, o = fresh()
        s.step(o, closure=lambda: 0.0)

    def update_with_a_vector():
        s, o = fresh()
        s.step(o)
        s.update(new_scale=lib.tensor([1.0, 2.0]))

    def unscale_before_scale():
        lib.amp.GradScaler("cpu").unscale_(lib.optim.SGD(lib.nn.Linear(1, 1).parameters()))

    def update_with_nothing_checked():
        s, _ = fresh()
        s.update()

    return {
        "unscale_ twice": (twice_unscaled, RuntimeError, "already been called"),
        "unscale_ after step": (unscaled_after_step, RuntimeError, "after step"),
        "step twice": (stepped_twice, RuntimeError, "already been called"),
        "closure": (closure, RuntimeError, "Closure"),
        "new_scale vector": (update_with_a_vector, AssertionError, "new_scale"),
        "unscale_ before scale": (unscale_before_scale, AssertionError, "_scale is None"),
        "update before any step": (update_with_nothing_checked, AssertionError, "No inf checks"),
        "scale a number": (lambda: lib.amp.GradScaler("cpu").scale(3.0), ValueError, "Tensor"),
        "growth factor": (
            lambda: lib.amp.GradScaler("cpu", growth_factor=1.0),
            AssertionError,
            ">",
        ),
        "backoff": (lambda: lib.amp.GradScaler("cpu", backoff_factor=1.0), AssertionError, "<"),
        "empty state": (
            lambda: lib.amp.GradScaler("cpu").load_state_dict({}),
            RuntimeError,
            "empty",
        ),
    }


@pytest.mark.parametrize("name", list(misuse_cases(fastnn)))
def test_misuse_raises_torchs_errors(name):
    call, error, match = misuse_cases(fastnn)[name]
    with pytest.raises(error, match=match):
        call()
    torch = pytest.importorskip("torch")
    call, error, match = misuse_cases(torch)[name]
    with pytest.raises(error, match=match):
        call()


def test_state_dict_round_trip():
    a = fastnn.amp.GradScaler("cpu", init_scale=16.0, growth_interval=5)
    b = fastnn.amp.GradScaler("cpu")
    b.load_state_dict(a.state_dict())
    assert (
        b.state_dict()
        == a.state_dict()
        == {
            "scale": 16.0,
            "growth_factor": 2.0,
            "backoff_factor": 0.5,
            "growth_interval": 5,
            "_growth_tracker": 0,
        }
    )
    assert fastnn.amp.GradScaler("cpu", enabled=False).state_dict() == {}


@pytest.mark.skipif(fastnn.cuda.is_available(), reason="the fallback is for machines without CUDA")
def test_cuda_amp_spelling_warns_and_disables_without_a_gpu():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = fastnn.cuda.amp.GradScaler(enabled=True)
    kinds = {type(w.message) for w in caught}
    assert FutureWarning in kinds and UserWarning in kinds
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0
    loss = fastnn.tensor(2.0)
    assert scaler.scale(loss) is loss
    opt = fastnn.optim.SGD(fastnn.nn.Linear(1, 1).parameters(), lr=0.1)
    assert scaler.step(opt) is None
    scaler.update()
