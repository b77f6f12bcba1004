"""fastnn.optim.lr_scheduler against torch's: lr (and cycled momentum) sequences over many steps
for several parameter combinations on two param groups, state_dict round trips resumed in the
middle of a schedule, torch's constructor validation, and failed calls that change nothing."""

import copy
import warnings

import pytest

import fastnn
from fastnn import optim
from fastnn.optim import lr_scheduler

torch = pytest.importorskip("torch")


def _opt(L, kind):
    if L is torch:
        ps = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    else:
        ps = [fastnn.nn.Parameter(fastnn.zeros(2)), fastnn.nn.Parameter(fastnn.zeros(3))]
    groups = [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.3}]
    if kind == "adam":
        return L.optim.Adam(groups, lr=0.01, betas=(0.9, 0.99))
    if kind == "adagrad":
        return L.optim.Adagrad(groups, lr=0.01)
    return L.optim.SGD(groups, lr=0.1, momentum=0.9)


def _hyper(opt):
    """What a scheduler may change in each group: lr, and momentum or beta1."""
    out = []
    for g in opt.param_groups:
        out.append(float(g["lr"]))
        if "betas" in g:
            out.append(float(g["betas"][0]))
        elif "momentum" in g:
            out.append(float(g["momentum"]))
    return out


def _run(L, make, kind, steps, *, resume_at=None):
    """[hyperparameters after construction and after each step]; with resume_at, the optimizer
    and scheduler are rebuilt from their state_dicts after that many steps."""
    opt = _opt(L, kind)
    sched = make(L.optim.lr_scheduler, opt)
    seq = [_hyper(opt) + [float(x) for x in sched.get_last_lr()]]
    for i in range(steps):
        if i == resume_at:
            opt_state = copy.deepcopy(opt.state_dict())
            sched_state = copy.deepcopy(sched.state_dict())
            opt = _opt(L, kind)
            sched = make(L.optim.lr_scheduler, opt)
            opt.load_state_dict(opt_state)
            sched.load_state_dict(sched_state)
        opt.step()
        sched.step()
        seq.append(_hyper(opt) + [float(x) for x in sched.get_last_lr()])
    return seq


class _Scale:
    """A callable object: its state (``__dict__``) goes into a LambdaLR state_dict."""

    def __init__(self, base):
        self.base = base

    def __call__(self, epoch):
        return self.base**epoch


CASES = {
    "MultiStepLR": ("sgd", 30, lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.5)),
    "LambdaLR": ("sgd", 30, lambda s, o: s.LambdaLR(o, lambda e: 0.95**e)),
    "LambdaLR-per-group": (
        "adam",
        30,
        lambda s, o: s.LambdaLR(o, [lambda e: 1.0 / (e + 1), _Scale(0.9)]),
    ),
    "MultiplicativeLR": ("sgd", 30, lambda s, o: s.MultiplicativeLR(o, lambda e: 0.9)),
    "MultiplicativeLR-per-group": (
        "sgd",
        30,
        lambda s, o: s.MultiplicativeLR(o, [lambda e: 0.95, lambda e: 1.0 - 0.01 * e]),
    ),
    "LinearLR": ("sgd", 12, lambda s, o: s.LinearLR(o)),
    "LinearLR-down": (
        "sgd",
        12,
        lambda s, o: s.LinearLR(o, start_factor=0.5, end_factor=0.1, total_iters=4),
    ),
    "ConstantLR": ("sgd", 10, lambda s, o: s.ConstantLR(o)),
    "ConstantLR-args": ("sgd", 10, lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=3)),
    "PolynomialLR": ("sgd", 10, lambda s, o: s.PolynomialLR(o)),
    "PolynomialLR-power": ("sgd", 14, lambda s, o: s.PolynomialLR(o, total_iters=8, power=2.0)),
    "OneCycleLR": ("sgd", 30, lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=30)),
    "OneCycleLR-three-phase-adam": (
        "adam",
        30,
        lambda s, o: s.OneCycleLR(
            o,
            max_lr=[1.0, 0.5],
            epochs=3,
            steps_per_epoch=10,
            anneal_strategy="linear",
            three_phase=True,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
    ),
    "OneCycleLR-no-momentum": (
        "adagrad",
        25,
        lambda s, o: s.OneCycleLR(
            o, max_lr=0.5, total_steps=25, pct_start=0.25, cycle_momentum=False
        ),
    ),
    "OneCycleLR-momentum-lists": (
        "sgd",
        20,
        lambda s, o: s.OneCycleLR(
            o, max_lr=0.2, total_steps=20, base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.99]
        ),
    ),
    "CyclicLR": ("sgd", 40, lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4)),
    "CyclicLR-triangular2-adam": (
        "adam",
        40,
        lambda s, o: s.CyclicLR(
            o,
            base_lr=[0.001, 0.002],
            max_lr=[0.01, 0.05],
            step_size_up=3,
            step_size_down=5,
            mode="triangular2",
        ),
    ),
    "CyclicLR-exp-range": (
        "sgd",
        40,
        lambda s, o: s.CyclicLR(
            o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.9
        ),
    ),
    "CyclicLR-scale-fn": (
        "sgd",
        40,
        lambda s, o: s.CyclicLR(
            o,
            base_lr=0.01,
            max_lr=0.1,
            step_size_up=3,
            scale_fn=lambda x: 0.5**x,
            scale_mode="iterations",
            base_momentum=0.85,
            max_momentum=0.95,
        ),
    ),
    "CyclicLR-no-momentum": (
        "adagrad",
        30,
        lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, cycle_momentum=False),
    ),
    "CosineAnnealingWarmRestarts": (
        "sgd",
        40,
        lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=5),
    ),
    "CosineAnnealingWarmRestarts-mult": (
        "sgd",
        40,
        lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
    ),
    "SequentialLR": (
        "sgd",
        20,
        lambda s, o: s.SequentialLR(
            o,
            [s.ConstantLR(o, factor=0.1, total_iters=2), s.ExponentialLR(o, gamma=0.9)],
            milestones=[2],
        ),
    ),
    "SequentialLR-three": (
        "sgd",
        25,
        lambda s, o: s.SequentialLR(
            o,
            [s.LinearLR(o, 0.2, total_iters=3), s.CosineAnnealingLR(o, T_max=5), s.StepLR(o, 3)],
            milestones=[3, 8],
        ),
    ),
    "ChainedScheduler": (
        "sgd",
        20,
        lambda s, o: s.ChainedScheduler(
            [s.ConstantLR(o, factor=0.1, total_iters=2), s.ExponentialLR(o, gamma=0.9)]
        ),
    ),
    "ChainedScheduler-optimizer": (
        "adam",
        20,
        lambda s, o: s.ChainedScheduler(
            [s.MultiStepLR(o, [3, 6]), s.LinearLR(o, total_iters=4)], optimizer=o
        ),
    ),
    "StepLR": ("sgd", 20, lambda s, o: s.StepLR(o, 3, gamma=0.5)),
    "CosineAnnealingLR": ("sgd", 25, lambda s, o: s.CosineAnnealingLR(o, T_max=7, eta_min=0.001)),
}


def _flat(rows):
    return [x for row in rows for x in row]


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sequence_matches_torch(name):
    kind, steps, make = CASES[name]
    expected = _quiet(_run, torch, make, kind, steps)
    actual = _quiet(_run, fastnn, make, kind, steps)
    assert len(actual) == len(expected) == steps + 1
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert a == pytest.approx(e, rel=1e-12, abs=1e-15), f"{name}: step {i}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_round_trip_resumes_mid_schedule(name):
    kind, steps, make = CASES[name]
    expected = _quiet(_run, torch, make, kind, steps)
    resumed = _quiet(_run, fastnn, make, kind, steps, resume_at=steps // 2)
    for i, (a, e) in enumerate(zip(resumed, expected)):
        assert a == pytest.approx(e, rel=1e-12, abs=1e-15), f"{name}: step {i}"


def test_state_dict_keys_match_torch():
    for name, (kind, _, make) in CASES.items():
        ours = _quiet(make, lr_scheduler, _opt(fastnn, kind)).state_dict()
        theirs = _quiet(make, torch.optim.lr_scheduler, _opt(torch, kind)).state_dict()
        private = {"_get_lr_called_within_step", "_scale_fn_ref"}  # torch's bookkeeping
        assert set(ours) == set(theirs) - private, name


def test_lambda_state_keeps_callable_objects_only():
    def make(s, o):
        return s.LambdaLR(o, [lambda e: 0.5, _Scale(0.9)])

    ours = make(lr_scheduler, _opt(fastnn, "sgd")).state_dict()
    theirs = make(torch.optim.lr_scheduler, _opt(torch, "sgd")).state_dict()
    assert ours["lr_lambdas"] == theirs["lr_lambdas"] == [None, {"base": 0.9}]
    # Loading restores a callable object's state, so the resumed schedule follows it.
    sched = make(lr_scheduler, _opt(fastnn, "sgd"))
    state = copy.deepcopy(ours)
    state["lr_lambdas"][1] = {"base": 0.5}
    sched.load_state_dict(state)
    assert sched.lr_lambdas[1].base == 0.5
    sched.step()
    assert sched.get_last_lr()[1] == pytest.approx(0.3 * 0.5**1)
    assert "lr_lambdas" in state  # the caller's dict is left whole


def test_cyclic_scale_fn_object_state():
    scale = _Scale(0.7)
    sched = lr_scheduler.CyclicLR(_opt(fastnn, "sgd"), 0.01, 0.1, scale_fn=scale)
    state = sched.state_dict()
    assert state["_scale_fn_custom"] == {"base": 0.7}
    state["_scale_fn_custom"] = {"base": 0.2}
    sched.load_state_dict(state)
    assert scale.base == 0.2 and sched._scale_fn_custom is scale


# ---- ReduceLROnPlateau ------------------------------------------------------------------------

PLATEAU = [
    {},
    {"mode": "max", "factor": 0.5, "patience": 2},
    {"patience": 1, "threshold": 0.05, "threshold_mode": "abs", "cooldown": 2},
    {"mode": "max", "threshold_mode": "abs", "patience": 0, "min_lr": [0.02, 0.05]},
    {"factor": 0.5, "patience": 0, "min_lr": 0.01, "eps": 0.005},
]


@pytest.mark.parametrize("kw", PLATEAU, ids=lambda kw: ",".join(kw) or "defaults")
def test_plateau_matches_torch(kw):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.9, 0.89, 1.2] * 4 + [0.5] * 16
    seqs = []
    for L in (torch, fastnn):
        opt = _opt(L, "sgd")
        sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        seq = [list(sched.get_last_lr())]
        for i, m in enumerate(metrics):
            if i == 20:  # resume from state dicts
                opt_state, s_state = copy.deepcopy((opt.state_dict(), sched.state_dict()))
                opt = _opt(L, "sgd")
                sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
                opt.load_state_dict(opt_state)
                sched.load_state_dict(s_state)
            sched.step(L.tensor(m) if i % 3 == 0 else m)
            seq.append([g["lr"] for g in opt.param_groups] + list(sched.get_last_lr()))
            seq[-1] += [sched.num_bad_epochs, sched.cooldown_counter, sched.last_epoch]
        seqs.append(seq)
    assert _flat(seqs[1]) == pytest.approx(_flat(seqs[0]), rel=1e-12)
    assert set(sched.state_dict()) == set(
        torch.optim.lr_scheduler.ReduceLROnPlateau(_opt(torch, "sgd"), **kw).state_dict()
    )


def test_plateau_new_group_without_default_min_lr():
    opt = _opt(fastnn, "sgd")
    sched = lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.0, 0.0], patience=0)
    opt.add_param_group({"params": [fastnn.nn.Parameter(fastnn.zeros(1))]})
    with pytest.raises(RuntimeError, match="param groups"):
        sched.step(1.0)
    assert sched.last_epoch == 0  # refused before counting


# ---- validation --------------------------------------------------------------------------------

BAD = {
    "not-an-optimizer": ("sgd", lambda s, o: s.StepLR(object(), 2)),
    "ConstantLR-factor": ("sgd", lambda s, o: s.ConstantLR(o, factor=1.5)),
    "LinearLR-start": ("sgd", lambda s, o: s.LinearLR(o, start_factor=0.0)),
    "LinearLR-end": ("sgd", lambda s, o: s.LinearLR(o, end_factor=2.0)),
    "LambdaLR-count": ("sgd", lambda s, o: s.LambdaLR(o, [lambda e: 1.0])),
    "MultiplicativeLR-callable": ("sgd", lambda s, o: s.MultiplicativeLR(o, 0.9)),
    "OneCycleLR-no-length": ("sgd", lambda s, o: s.OneCycleLR(o, max_lr=0.1)),
    "OneCycleLR-total": ("sgd", lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=0)),
    "OneCycleLR-epochs": (
        "sgd",
        lambda s, o: s.OneCycleLR(o, max_lr=0.1, epochs=0, steps_per_epoch=3),
    ),
    "OneCycleLR-steps-per-epoch": (
        "sgd",
        lambda s, o: s.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=1.5),
    ),
    "OneCycleLR-pct": ("sgd", lambda s, o: s.OneCycleLR(o, 0.1, total_steps=5, pct_start=1.5)),
    "OneCycleLR-pct-int": ("sgd", lambda s, o: s.OneCycleLR(o, 0.1, total_steps=5, pct_start=0)),
    "OneCycleLR-anneal": (
        "sgd",
        lambda s, o: s.OneCycleLR(o, 0.1, total_steps=5, anneal_strategy="exp"),
    ),
    "OneCycleLR-max-lr-count": ("sgd", lambda s, o: s.OneCycleLR(o, [0.1], total_steps=5)),
    "OneCycleLR-no-momentum": ("adagrad", lambda s, o: s.OneCycleLR(o, 0.1, total_steps=5)),
    "OneCycleLR-momentum-count": (
        "sgd",
        lambda s, o: s.OneCycleLR(o, 0.1, total_steps=5, base_momentum=[0.8, 0.8, 0.8]),
    ),
    "CyclicLR-mode": ("sgd", lambda s, o: s.CyclicLR(o, 0.01, 0.1, mode="square")),
    "CyclicLR-base-count": ("sgd", lambda s, o: s.CyclicLR(o, [0.01], 0.1)),
    "CyclicLR-no-momentum": ("adagrad", lambda s, o: s.CyclicLR(o, 0.01, 0.1)),
    "CyclicLR-momentum-count": (
        "sgd",
        lambda s, o: s.CyclicLR(o, 0.01, 0.1, max_momentum=[0.9, 0.9, 0.9]),
    ),
    "WarmRestarts-T0": ("sgd", lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=0)),
    "WarmRestarts-T0-float": ("sgd", lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2.0)),
    "WarmRestarts-Tmult": ("sgd", lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, T_mult=0)),
    "WarmRestarts-eta": ("sgd", lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, eta_min="0")),
    "Plateau-factor": ("sgd", lambda s, o: s.ReduceLROnPlateau(o, factor=1.0)),
    "Plateau-mode": ("sgd", lambda s, o: s.ReduceLROnPlateau(o, mode="lowest")),
    "Plateau-threshold-mode": ("sgd", lambda s, o: s.ReduceLROnPlateau(o, threshold_mode="x")),
    "Plateau-min-lr-count": ("sgd", lambda s, o: s.ReduceLROnPlateau(o, min_lr=[0.1])),
    "Plateau-not-an-optimizer": ("sgd", lambda s, o: s.ReduceLROnPlateau(None)),
    "SequentialLR-empty": ("sgd", lambda s, o: s.SequentialLR(o, [], [])),
    "SequentialLR-milestones": (
        "sgd",
        lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.StepLR(o, 3)], milestones=[1, 2]),
    ),
    "SequentialLR-plateau": (
        "sgd",
        lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.ReduceLROnPlateau(o)], [2]),
    ),
    "SequentialLR-other-optimizer": (
        "sgd",
        lambda s, o: s.SequentialLR(o, [s.StepLR(_opt_like(s, o), 2)], []),
    ),
    "SequentialLR-no-optimizer-attr": ("sgd", lambda s, o: s.SequentialLR(o, [object()], [])),
    "ChainedScheduler-empty": ("sgd", lambda s, o: s.ChainedScheduler([])),
    "ChainedScheduler-plateau": ("sgd", lambda s, o: s.ChainedScheduler([s.ReduceLROnPlateau(o)])),
    "ChainedScheduler-other-optimizer": (
        "sgd",
        lambda s, o: s.ChainedScheduler([s.StepLR(o, 2), s.StepLR(_opt_like(s, o), 2)]),
    ),
}


def _opt_like(sched_module, opt):
    return _opt(torch if sched_module is torch.optim.lr_scheduler else fastnn, "sgd")


@pytest.mark.parametrize("name", sorted(BAD))
def test_validation_matches_torch(name):
    kind, make = BAD[name]
    with pytest.raises(Exception) as theirs:
        _quiet(make, torch.optim.lr_scheduler, _opt(torch, kind))
    opt = _opt(fastnn, kind)
    before = copy.deepcopy(
        [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    )
    with pytest.raises(theirs.type):
        _quiet(make, lr_scheduler, opt)
    if "Sequential" not in name and "Chained" not in name:  # their children did step
        after = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        assert after == before, "a refused constructor changed the param groups"


def test_lambda_schedulers_name_a_bad_optimizer():
    # torch fails here with an AttributeError from inside; fastnn says what is wrong.
    for cls in (lr_scheduler.LambdaLR, lr_scheduler.MultiplicativeLR):
        with pytest.raises(TypeError, match="list is not an Optimizer"):
            cls([1], lambda e: 1.0)


def test_one_cycle_refuses_steps_past_the_end_without_moving():
    opt = _opt(fastnn, "sgd")
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=4)
    for _ in range(4):
        sched.step()
    lrs = [g["lr"] for g in opt.param_groups]
    with pytest.raises(ValueError, match="total steps is 4"):
        sched.step()
    assert sched.last_epoch == 4 and [g["lr"] for g in opt.param_groups] == lrs


def test_warm_restarts_fractional_epochs_match_torch():
    epochs = [0, 0.25, 0.5, 1.75, 3.0, 4.5, 9.2, 2.0, 21.7, 0.1]
    seqs = []
    for L in (torch, fastnn):
        for T_mult in (1, 2, 3):
            opt = _opt(L, "sgd")
            sched = L.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 3, T_mult, 0.001)
            for e in epochs:
                _quiet(sched.step, e)
                seqs.append([*sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch])
    half = len(seqs) // 2
    assert _flat(seqs[half:]) == pytest.approx(_flat(seqs[:half]), rel=1e-12, abs=1e-15)
    with pytest.raises(ValueError, match="non-negative"):
        lr_scheduler.CosineAnnealingWarmRestarts(_opt(fastnn, "sgd"), 3).step(-1)


def test_closed_form_epochs_match_torch():
    makers = [
        lambda s, o: s.MultiStepLR(o, [2, 4, 4]),
        lambda s, o: s.ConstantLR(o, 0.5, 3),
        lambda s, o: s.LinearLR(o, 0.25, 0.75, 4),
        lambda s, o: s.PolynomialLR(o, 6, 1.5),
    ]
    for make in makers:
        seqs = []
        for L in (torch, fastnn):
            opt = _opt(L, "sgd")
            sched = make(L.optim.lr_scheduler, opt)
            seqs.append([])
            for e in (3, 1, 5, 0, 4, 8):
                _quiet(sched.step, e)
                seqs[-1].append(list(sched.get_last_lr()))
        assert _flat(seqs[1]) == pytest.approx(_flat(seqs[0]), rel=1e-12)


def test_base_names():
    assert issubclass(lr_scheduler._LRScheduler, lr_scheduler.LRScheduler)
    assert lr_scheduler._LRScheduler.__name__ == "_LRScheduler"
    sched = lr_scheduler.ReduceLROnPlateau(optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], 0.1))
    assert isinstance(sched, lr_scheduler.LRScheduler)


def test_state_dicts_survive_fastnn_save(tmp_path):
    """Checkpointed with fastnn.save (no pickle) and loaded back, a schedule resumes exactly."""
    path = str(tmp_path / "ckpt.pt")
    for name, (kind, steps, make) in CASES.items():
        if "Lambda" in name or "Multiplicative" in name or "scale-fn" in name:
            continue  # their callables are code, not state, in any format
        expected = _quiet(_run, fastnn, make, kind, steps)
        opt = _opt(fastnn, kind)
        sched = _quiet(make, lr_scheduler, opt)
        half = steps // 2
        for _ in range(half):
            opt.step()
            _quiet(sched.step)
        fastnn.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, path)
        ckpt = fastnn.load(path)
        opt = _opt(fastnn, kind)
        sched = _quiet(make, lr_scheduler, opt)
        opt.load_state_dict(ckpt["opt"])
        sched.load_state_dict(ckpt["sched"])
        for i in range(half, steps):
            opt.step()
            _quiet(sched.step)
            got = _hyper(opt) + [float(x) for x in sched.get_last_lr()]
            assert got == pytest.approx(expected[i + 1], rel=1e-12, abs=1e-15), (name, i)
    sched = lr_scheduler.MultiStepLR(_opt(fastnn, "sgd"), [2, 4, 4])
    fastnn.save(sched.state_dict(), path)
    sched.load_state_dict(fastnn.load(path))
    _quiet(sched.step, 5)  # the closed form needs the Counter back
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.1**3, 0.3 * 0.1**3])


def test_schedulers_report_the_public_module():
    """A training loop that takes either a built-in scheduler or its own callable checks
    ``scheduler.__module__ == lr_scheduler.__name__`` before calling ``.step()``."""
    for name in lr_scheduler.__all__:
        assert getattr(lr_scheduler, name).__module__ == lr_scheduler.__name__, name
        assert getattr(torch.optim.lr_scheduler, name).__module__ == (
            torch.optim.lr_scheduler.__name__
        )
    p = fastnn.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    seen = []
    for scheduler in (lr_scheduler.StepLR(opt, 1, gamma=0.5), lambda epoch: 0.1 * epoch):
        for epoch in range(3):
            if scheduler.__module__ == lr_scheduler.__name__:
                scheduler.step()
            else:
                for group in opt.param_groups:
                    group["lr"] = scheduler(epoch)
            seen.append(opt.param_groups[0]["lr"])
    assert seen == pytest.approx([0.5, 0.25, 0.125, 0.0, 0.1, 0.2])
