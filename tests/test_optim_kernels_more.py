"""fastnn.kernels.{adadelta,adamax,nadam,radam}_step against the float64 NumPy reference path of
fastnn.optim._functional (fused=False) over 50 steps, every option, both dtypes, every ISA
path, 1 and 2 threads; the ISA paths agree bit for bit; every bad input raises and changes
nothing. (Torch parity of the optimizer classes is in test_optim_more.py.)"""

import numpy as np
import pytest

from conftest import assert_close
from fastnn import kernels
from fastnn.optim import _functional as F

STEPS = 50
SHAPES = [(1,), (7,), (33,), (257,), (3, 5), (0,), (2, 3, 4)]
TOL = {np.float32: {"atol": 2e-5, "rtol": 2e-4}, np.float64: {"atol": 1e-11, "rtol": 1e-10}}

# name -> (kernel, reference, the two state lists' names)
OPTIMIZERS = {
    "adadelta": (kernels.adadelta_step, F.adadelta),
    "adamax": (kernels.adamax_step, F.adamax),
    "nadam": (kernels.nadam_step, F.nadam),
    "radam": (kernels.radam_step, F.radam),
}

CASES = [
    ("adadelta", {}),
    ("adadelta", {"lr": 0.5, "rho": 0.3, "eps": 1e-4, "weight_decay": 0.1}),
    ("adadelta", {"lr": 2.0, "rho": 0.95, "maximize": True}),
    ("adamax", {"lr": 0.01}),
    ("adamax", {"lr": 0.02, "beta1": 0.3, "beta2": 0.5, "weight_decay": 0.1, "eps": 1e-3}),
    ("adamax", {"lr": 0.01, "maximize": True, "weight_decay": 0.01}),
    ("nadam", {"lr": 0.01}),
    ("nadam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.02}),
    ("nadam", {"lr": 0.01, "weight_decay": 0.1, "decoupled": True, "maximize": True}),
    ("nadam", {"lr": 0.02, "beta1": 0.3, "beta2": 0.5, "eps": 1e-6}),
    ("radam", {"lr": 0.01}),
    ("radam", {"lr": 0.01, "weight_decay": 0.1}),
    ("radam", {"lr": 0.01, "weight_decay": 0.1, "decoupled": True, "maximize": True}),
    # beta2 = 0.9: the rectified branch starts at step 6 (rho_t > 5), inside the 50 steps
    ("radam", {"lr": 0.02, "beta1": 0.3, "beta2": 0.9, "eps": 1e-6}),
]


def case_id(case):
    name, opts = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in opts.items())


class Problem:
    """Params and the two state lists of one optimizer, and its step-dependent arguments."""

    def __init__(self, name, opts, shapes, dtype, rng):
        self.name, self.opts = name, dict(opts)
        self.params = [rng.standard_normal(s).astype(dtype) for s in shapes]
        self.s1 = [np.zeros(s, dtype) for s in shapes]
        self.s2 = [np.zeros(s, dtype) for s in shapes]
        self.mu_product = 1.0

    def astype(self, dtype):
        other = object.__new__(Problem)
        other.name, other.opts, other.mu_product = self.name, dict(self.opts), self.mu_product
        other.params = [a.astype(dtype) for a in self.params]
        other.s1 = [a.astype(dtype) for a in self.s1]
        other.s2 = [a.astype(dtype) for a in self.s2]
        return other

    def arrays(self):
        return {"params": self.params, "state1": self.s1, "state2": self.s2}

    def step(self, fn, grads, step, **extra):
        kw = dict(self.opts, **extra)
        if self.name != "adadelta":
            kw["step"] = step
        if self.name == "nadam":
            self.mu_product *= F.nadam_mu(
                kw.get("beta1", 0.9), kw.get("momentum_decay", 4e-3), step
            )
            kw["mu_product"] = self.mu_product
        fn(self.params, grads, self.s1, self.s2, **kw)


def run_parity(name, opts, shapes, dtype, rng, steps=STEPS):
    kernel, reference = OPTIMIZERS[name]
    mine = Problem(name, opts, shapes, dtype, rng)
    oracle = mine.astype(np.float64)
    for step in range(1, steps + 1):
        grads = [rng.standard_normal(p.shape).astype(dtype) for p in mine.params]
        mine.step(kernel, grads, step)
        oracle.step(reference, [g.astype(np.float64) for g in grads], step, fused=False)
    got, want = mine.arrays(), oracle.arrays()
    for key in want:
        for i, (a, e) in enumerate(zip(got[key], want[key])):
            assert a.dtype == dtype
            assert_close(a, e, name=f"{name} {key}[{i}]", **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_reference(case, dtype, isa, rng):
    run_parity(*case, SHAPES, dtype, rng)


@pytest.mark.parametrize("case", [CASES[1], CASES[4], CASES[8], CASES[12]], ids=case_id)
def test_many_tensors_and_threads(case, threads, rng):
    shapes = [(int(n),) for n in np.random.default_rng(7).integers(0, 300, size=30)]
    run_parity(*case, shapes, np.float32, rng, steps=8)
    run_parity(*case, [(40001,), (5,), (30000,), (1,)], np.float32, rng, steps=4)


def test_isa_paths_agree_exactly(rng):
    shapes = [(1000,), (37,)]
    g = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = {}
    before = kernels.get_isa()
    try:
        for isa in kernels.supported_isas():
            kernels.set_isa(isa)
            for case in CASES:
                prob = Problem(*case, shapes, np.float32, np.random.default_rng(3))
                for step in range(1, 8):
                    prob.step(OPTIMIZERS[case[0]][0], g, step)
                results.setdefault(case_id(case), []).append((isa, prob.params))
    finally:
        kernels.set_isa(before)
    for cid, runs in results.items():
        first = runs[0][1]
        for isa, params in runs[1:]:
            for a, b in zip(params, first):
                np.testing.assert_array_equal(a, b, err_msg=f"{cid} on {isa}")


def test_radam_unrectified_steps_are_plain_momentum(rng):
    # beta2 = 0.999: rho_t <= 5 for the first steps, so p -= lr * m / (1 - beta1^t) exactly.
    p = rng.standard_normal(9)
    g = rng.standard_normal(9)
    m, v = np.zeros(9), np.zeros(9)
    expect = p - 0.1 * ((0.1 * g) / 0.1)
    kernels.radam_step([p], [g], [m], [v], lr=0.1, step=1)
    assert_close(p, expect, atol=1e-15, rtol=1e-15)
    assert F.radam_rectification(0.999, 5) is None and F.radam_rectification(0.999, 6) is not None


def test_adamax_nan_propagates_like_torch_maximum():
    p = np.zeros(3, np.float32)
    g = np.array([np.nan, 1.0, -2.0], np.float32)
    m, u = np.zeros(3, np.float32), np.array([0.0, np.nan, 1.0], np.float32)
    kernels.adamax_step([p], [g], [m], [u], lr=0.1, step=1)
    assert np.isnan(u[0]) and np.isnan(u[1]) and u[2] == np.float32(2.0 + 1e-8)
    assert np.isnan(p[0]) and np.isnan(p[1]) and np.isfinite(p[2])


def test_empty_lists_are_a_no_op():
    kernels.adadelta_step([], [], [], [])
    kernels.adamax_step([], [], [], [], lr=0.1, step=1)
    kernels.nadam_step((), (), (), (), lr=0.1, step=1, mu_product=0.5)
    kernels.radam_step([], [], [], [], lr=0.1, step=3)


# ---- bad input ----------------------------------------------------------------------------------


def _args(rng, dtype=np.float32):
    shapes = [(4,), (2, 3)]
    mk = lambda: [rng.standard_normal(s).astype(dtype) for s in shapes]
    return mk(), mk(), [np.abs(a) for a in mk()], [np.abs(a) for a in mk()]


def _swap(lst, i, new):
    out = list(lst)
    out[i] = new
    return out


BASE = {
    "adadelta": {},
    "adamax": {"lr": 0.1, "step": 1},
    "nadam": {"lr": 0.1, "step": 1, "mu_product": 0.45},
    "radam": {"lr": 0.1, "step": 1},
}
STATE_NAMES = {
    "adadelta": ("square_avgs", "acc_deltas"),
    "adamax": ("exp_avgs", "exp_infs"),
    "nadam": ("exp_avgs", "exp_avg_sqs"),
    "radam": ("exp_avgs", "exp_avg_sqs"),
}
BAD_OPTIONS = [
    ("adadelta", {"lr": -1.0}, "Invalid learning rate: -1.0"),
    ("adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
    ("adadelta", {"rho": float("nan")}, "Invalid rho value: nan"),
    ("adadelta", {"eps": -1e-6}, "Invalid epsilon value"),
    ("adadelta", {"weight_decay": -0.1}, "Invalid weight_decay value"),
    ("adamax", {"beta1": 1.0}, "Invalid beta parameter at index 0: 1.0"),
    ("adamax", {"beta2": -0.1}, "Invalid beta parameter at index 1"),
    ("adamax", {"step": 0}, "Invalid step"),
    ("nadam", {"momentum_decay": -1.0}, "Invalid momentum_decay value"),
    ("nadam", {"mu_product": 1.0}, "Invalid mu_product value"),
    ("nadam", {"lr": float("nan")}, "Invalid learning rate"),
    ("radam", {"eps": -1.0}, "Invalid epsilon value"),
    ("radam", {"weight_decay": -1.0}, "Invalid weight_decay value"),
    ("radam", {"step": -3}, "Invalid step"),
]


@pytest.mark.parametrize("bad", BAD_OPTIONS, ids=lambda b: f"{b[0]}-{sorted(b[1])}")
def test_bad_options_change_nothing(bad, rng):
    name, opts, message = bad
    p, g, a, b = _args(rng)
    before = [[x.copy() for x in lst] for lst in (p, g, a, b)]
    with pytest.raises(ValueError) as info:
        OPTIMIZERS[name][0](p, g, a, b, **{**BASE[name], **opts})
    assert message in str(info.value) and f"{name}_step" in str(info.value)
    for old, new in zip(before, (p, g, a, b)):
        for x, y in zip(old, new):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_bad_lists_change_nothing(name, rng):
    kernel = OPTIMIZERS[name][0]
    s1, s2 = STATE_NAMES[name]
    p, g, a, b = _args(rng)
    before = [[x.copy() for x in lst] for lst in (p, g, a, b)]
    cases = [
        ((p, g, a[:1], b), ValueError, f"'{s1}' has 1 arrays"),
        ((p, g, a, _swap(b, 1, b[1].astype(np.float64))), TypeError, f"{s2}[1]"),
        ((p, g, a, _swap(b, 0, b[0][:3])), ValueError, "shape"),
        ((p, g, a, _swap(b, 1, a[1])), ValueError, "share memory"),
        ((p, _swap(g, 0, p[0]), a, b), ValueError, "share memory"),
        ((p, g, None, b), TypeError, s1),
        ((p[0], g, a, b), TypeError, "list or tuple"),
        ((p, _swap(g, 1, np.ones((2, 6), np.float32)[:, ::2]), a, b), ValueError, "contiguous"),
        (
            (p, g, _swap(a, 0, np.frombuffer(a[0].tobytes(), np.float32)), b),
            ValueError,
            "read-only",
        ),
        ((_swap(p, 0, p[0].astype(np.int32)), g, a, b), TypeError, "float32 or float64"),
    ]
    for args, exc, fragment in cases:
        with pytest.raises(exc) as info:
            kernel(*args, **BASE[name])
        assert fragment in str(info.value), (fragment, str(info.value))
    with pytest.raises(TypeError):
        kernel(p, g, a, b, **{**BASE[name], "lr": "0.1"})
    if name != "adadelta":
        with pytest.raises(TypeError):  # step is required
            kernel(p, g, a, b, lr=0.1)
    for old, new in zip(before, (p, g, a, b)):
        for x, y in zip(old, new):
            np.testing.assert_array_equal(x, y)
