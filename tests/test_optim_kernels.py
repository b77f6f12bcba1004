"""fastnn.kernels.{sgd,adagrad,rmsprop,adam}_step vs the float64 transcriptions of torch.optim in
tests/reference.py (>= 50 steps, every option, both dtypes, every ISA path, 1 and 2 threads),
vs torch.optim itself (100 steps, float32), and every bad input (a failed call changes nothing).
"""

import numpy as np
import pytest

import reference as ref
from conftest import assert_close
from fastnn import kernels

STEPS = 50
# One list of tensors with awkward sizes: scalars-ish, odd lengths, 2-D, an empty one.
SHAPES = [(1,), (7,), (33,), (257,), (3, 5), (0,), (2, 3, 4)]
# Tolerances vs the float64 reference after STEPS steps.
TOL = {np.float32: {"atol": 2e-5, "rtol": 2e-4}, np.float64: {"atol": 1e-11, "rtol": 1e-10}}

# name -> (kernel, reference, state lists the call takes as keywords or positionals)
OPTIMIZERS = {
    "sgd": (kernels.sgd_step, ref.sgd_step),
    "adagrad": (kernels.adagrad_step, ref.adagrad_step),
    "rmsprop": (kernels.rmsprop_step, ref.rmsprop_step),
    "adam": (kernels.adam_step, ref.adam_step),
}

SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
    {"lr": 0.05, "momentum": 0.5, "maximize": True},
]
ADAGRAD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "weight_decay": 0.1, "lr_decay": 0.01},
    {"lr": 0.05, "eps": 1e-3, "maximize": True},
]
RMSPROP_CASES = [
    {"lr": 0.01},
    {"lr": 0.01, "weight_decay": 0.1, "alpha": 0.9},
    {"lr": 0.01, "centered": True},
    {"lr": 0.005, "momentum": 0.9},
    {"lr": 0.005, "momentum": 0.8, "centered": True, "weight_decay": 0.01, "maximize": True},
    {"lr": 0.01, "alpha": 0.3, "centered": True, "eps": 1e-4},  # lerp weight > 0.5 branch
]
ADAM_CASES = [
    {"lr": 0.01},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "weight_decay": 0.1, "decoupled": True},
    {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01},
    {"lr": 0.01, "amsgrad": True, "decoupled": True, "weight_decay": 0.1, "maximize": True},
    {"lr": 0.02, "beta1": 0.3, "beta2": 0.5, "eps": 1e-6},  # lerp weight > 0.5 branch
    {"lr": 0.01, "beta1": 0.0, "beta2": 0.0},
]
CASES = [("sgd", c) for c in SGD_CASES] + [("adagrad", c) for c in ADAGRAD_CASES]
CASES += [("rmsprop", c) for c in RMSPROP_CASES] + [("adam", c) for c in ADAM_CASES]


def case_id(case):
    name, opts = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in opts.items())


class Problem:
    """Params, state lists and the call's arguments for one optimizer, in one dtype."""

    def __init__(self, name, opts, shapes, dtype, rng):
        self.name, self.opts, self.dtype = name, dict(opts), dtype
        self.params = [rng.standard_normal(s).astype(dtype) for s in shapes]
        zeros = lambda: [np.zeros(s, dtype) for s in shapes]
        self.pos = []  # state lists passed positionally after grads
        self.kw = {}  # state lists passed by keyword
        if name == "sgd":
            self.pos = [zeros() if opts.get("momentum", 0) else None]
        elif name == "adagrad":
            self.pos = [[np.full(s, 0.1, dtype) for s in shapes]]  # initial_accumulator_value
        elif name == "rmsprop":
            self.pos = [zeros()]
            if opts.get("momentum", 0) > 0:
                self.kw["momentum_bufs"] = zeros()
            if opts.get("centered"):
                self.kw["grad_avgs"] = zeros()
        else:
            self.pos = [zeros(), zeros()]
            if opts.get("amsgrad"):
                self.kw["max_exp_avg_sqs"] = zeros()

    def astype(self, dtype):
        """A copy of the whole problem in another dtype (the float64 reference's inputs)."""
        other = object.__new__(Problem)
        other.name, other.opts, other.dtype = self.name, dict(self.opts), dtype
        conv = lambda lst: None if lst is None else [a.astype(dtype) for a in lst]
        other.params = conv(self.params)
        other.pos = [conv(lst) for lst in self.pos]
        other.kw = {k: conv(v) for k, v in self.kw.items()}
        return other

    def arrays(self):
        out = {"params": self.params}
        for i, lst in enumerate(self.pos):
            if lst is not None:
                out[f"pos{i}"] = lst
        out.update(self.kw)
        return out

    def step(self, fn, grads, step):
        kw = dict(self.opts, **self.kw)
        if self.name in ("adagrad", "adam"):
            kw["step"] = step
        if self.name == "sgd" and self.opts.get("momentum", 0):
            kw["first_step"] = step == 1
        fn(self.params, grads, *self.pos, **kw)


def run_parity(name, opts, shapes, dtype, rng, steps=STEPS):
    kernel, reference = OPTIMIZERS[name]
    mine = Problem(name, opts, shapes, dtype, rng)
    oracle = mine.astype(np.float64)
    for step in range(1, steps + 1):
        grads = [rng.standard_normal(p.shape).astype(dtype) for p in mine.params]
        mine.step(kernel, grads, step)
        oracle.step(reference, [g.astype(np.float64) for g in grads], step)
    got, want = mine.arrays(), oracle.arrays()
    for key in want:
        for i, (a, e) in enumerate(zip(got[key], want[key])):
            assert a.dtype == dtype
            assert_close(a, e, name=f"{name} {key}[{i}]", **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_reference(case, dtype, isa, rng):
    run_parity(*case, SHAPES, dtype, rng)


MANY_SHAPES = [(int(n),) for n in np.random.default_rng(7).integers(0, 300, size=40)]


@pytest.mark.parametrize(
    "case",
    [
        ("sgd", SGD_CASES[4]),
        ("adagrad", ADAGRAD_CASES[1]),
        ("rmsprop", RMSPROP_CASES[4]),
        ("adam", ADAM_CASES[4]),
    ],
    ids=case_id,
)
def test_many_tensors_and_threads(case, threads, rng):
    # 40 small tensors, then sizes whose thread split falls inside tensors (total > 2 * 32768).
    run_parity(*case, MANY_SHAPES, np.float32, rng, steps=10)
    run_parity(*case, [(40001,), (5,), (30000,), (1,)], np.float32, rng, steps=5)


def test_threads_agree_exactly(rng):
    # Element-wise math: the thread split must not change a single bit.
    import fastnn

    shapes = [(50001,), (3,), (70000,)]
    results = []
    for n in (1, 2):
        before = fastnn.get_num_threads()
        fastnn.set_num_threads(n)
        try:
            prob = Problem("adam", ADAM_CASES[4], shapes, np.float32, np.random.default_rng(1))
            g = [np.random.default_rng(2).standard_normal(s).astype(np.float32) for s in shapes]
            for step in range(1, 4):
                prob.step(kernels.adam_step, g, step)
            results.append(prob.params)
        finally:
            fastnn.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_sgd_first_step_ignores_buffer_contents(rng):
    # torch sets buf = grad (after weight decay) on a parameter's first step; whatever the
    # buffer held before (np.empty garbage) must not matter.
    p = rng.standard_normal(100)
    g = rng.standard_normal(100)
    buf = np.full(100, np.nan)
    p_ref, buf_ref = p.copy(), np.zeros(100)
    kernels.sgd_step([p], [g], [buf], lr=0.1, momentum=0.9, weight_decay=0.1, first_step=True)
    ref.sgd_step([p_ref], [g], [buf_ref], lr=0.1, momentum=0.9, weight_decay=0.1, first_step=True)
    assert_close(buf, buf_ref, atol=1e-15, rtol=1e-15)
    assert_close(p, p_ref, atol=1e-15, rtol=1e-15)


def test_sgd_without_momentum_takes_none_and_ignores_bufs(rng):
    p = rng.standard_normal(10)
    g = rng.standard_normal(10)
    expect = p - 0.1 * g
    kernels.sgd_step([p], [g], None, lr=0.1)
    assert_close(p, expect, atol=1e-15, rtol=1e-15)
    buf = np.zeros(10)
    kernels.sgd_step([p], [g], [buf], lr=0.1)  # validated but not used
    assert not buf.any()


def test_empty_lists_are_a_no_op():
    kernels.adam_step([], [], [], [], lr=0.1, step=1)
    kernels.sgd_step([], [], None, lr=0.1)
    kernels.rmsprop_step((), (), (), lr=0.1)
    kernels.adagrad_step([], [], [], lr=0.1, step=3)


def test_adam_views_of_one_arena(rng):
    # Parameters as disjoint views into one flat buffer (one arena for all parameters) are fine.
    arena = rng.standard_normal(100).astype(np.float32)
    params = [arena[:40].reshape(5, 8), arena[40:]]
    grads = [np.ones_like(p) for p in params]
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    before = arena.copy()
    kernels.adam_step(params, grads, ms, vs, lr=0.1, step=1)
    # first Adam step moves every parameter by lr * g / (|g| + eps') = ~lr
    assert_close(arena, before - 0.1, atol=1e-6, rtol=0)


# ---- torch parity -----------------------------------------------------------------------------

TORCH_CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.2, "maximize": True}),
    (
        "Adagrad",
        {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
    ),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.005}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "maximize": True, "betas": (0.8, 0.9)}),
]


def torch_step_kernel(name, opts, params, grads, state, step):
    """One fastnn kernel call with the torch class's options."""
    o = dict(opts)
    if name == "SGD":
        kernels.sgd_step(params, grads, state["buf"], first_step=step == 1, **o)
    elif name == "Adagrad":
        o.pop("initial_accumulator_value", None)
        kernels.adagrad_step(params, grads, state["sum"], step=step, **o)
    elif name == "RMSprop":
        kernels.rmsprop_step(
            params, grads, state["sq"], momentum_bufs=state["buf"], grad_avgs=state["ga"], **o
        )
    else:
        beta1, beta2 = o.pop("betas", (0.9, 0.999))
        kernels.adam_step(
            params,
            grads,
            state["m"],
            state["v"],
            beta1=beta1,
            beta2=beta2,
            max_exp_avg_sqs=state["vmax"],
            decoupled=name == "AdamW",
            step=step,
            **o,
        )


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c[0] + str(sorted(c[1])))
def test_torch_trajectory(case, rng):
    torch = pytest.importorskip("torch")
    name, opts = case
    shapes = [(64,), (9, 7), (1,)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    topt = getattr(torch.optim, name)(tparams, foreach=False, **opts)
    z = lambda: [np.zeros_like(p) for p in params]
    init = opts.get("initial_accumulator_value", 0.0)
    state = {
        "buf": z(),
        "sum": [np.full_like(p, init) for p in params],
        "sq": z(),
        "ga": z() if opts.get("centered") else None,
        "m": z(),
        "v": z(),
        "vmax": z() if opts.get("amsgrad") else None,
    }
    if name == "RMSprop" and not opts.get("momentum"):
        state["buf"] = None
    for step in range(1, 101):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        for tp, g in zip(tparams, grads):
            tp.grad = torch.from_numpy(g.copy())
        topt.step()
        torch_step_kernel(name, opts, params, grads, state, step)
    for p, tp in zip(params, tparams):
        assert_close(p, tp.detach().numpy(), atol=1e-6, rtol=1e-6, name=name)


# ---- bad input ----------------------------------------------------------------------------------


def adam_args(rng, n=3, dtype=np.float32):
    shapes = [(4,), (2, 3), (5,)][:n]
    p = [rng.standard_normal(s).astype(dtype) for s in shapes]
    g = [rng.standard_normal(s).astype(dtype) for s in shapes]
    m = [rng.standard_normal(s).astype(dtype) for s in shapes]
    v = [rng.random(s).astype(dtype) for s in shapes]
    return p, g, m, v


def snapshot(*lists):
    return [[a.copy() for a in lst] for lst in lists if lst is not None]


def assert_untouched(before, *lists):
    for old_list, new_list in zip(before, [lst for lst in lists if lst is not None]):
        for old, new in zip(old_list, new_list):
            np.testing.assert_array_equal(old, new)


def _swap(lst, i, new):
    out = list(lst)
    out[i] = new
    return out


# (description, mutate(p, g, m, v) -> (args, kwargs), exception, message fragment)
BAD_ADAM = [
    (
        "negative lr",
        lambda p, g, m, v: ((p, g, m, v), {"lr": -0.1}),
        ValueError,
        "Invalid learning rate",
    ),
    (
        "nan lr",
        lambda p, g, m, v: ((p, g, m, v), {"lr": float("nan")}),
        ValueError,
        "Invalid learning rate",
    ),
    (
        "beta1 = 1",
        lambda p, g, m, v: ((p, g, m, v), {"beta1": 1.0}),
        ValueError,
        "beta parameter at index 0",
    ),
    (
        "beta2 < 0",
        lambda p, g, m, v: ((p, g, m, v), {"beta2": -0.1}),
        ValueError,
        "beta parameter at index 1",
    ),
    ("eps < 0", lambda p, g, m, v: ((p, g, m, v), {"eps": -1e-8}), ValueError, "epsilon"),
    (
        "weight_decay < 0",
        lambda p, g, m, v: ((p, g, m, v), {"weight_decay": -1.0}),
        ValueError,
        "weight_decay",
    ),
    ("step 0", lambda p, g, m, v: ((p, g, m, v), {"step": 0}), ValueError, "step"),
    ("params an ndarray", lambda p, g, m, v: ((p[0], g, m, v), {}), TypeError, "list or tuple"),
    (
        "grads a list of lists",
        lambda p, g, m, v: ((p, [x.tolist() for x in g], m, v), {}),
        TypeError,
        "grads[0]",
    ),
    ("short list", lambda p, g, m, v: ((p, g[:2], m, v), {}), ValueError, "has 2 arrays"),
    (
        "float64 state",
        lambda p, g, m, v: ((p, g, _swap(m, 2, m[2].astype(np.float64)), v), {}),
        TypeError,
        "exp_avgs[2]",
    ),
    (
        "int params",
        lambda p, g, m, v: ((_swap(p, 0, p[0].astype(np.int32)), g, m, v), {}),
        TypeError,
        "float32 or float64",
    ),
    (
        "wrong shape",
        lambda p, g, m, v: ((p, g, m, _swap(v, 1, v[1].reshape(3, 2))), {}),
        ValueError,
        "shape",
    ),
    (
        "non-contiguous grad",
        lambda p, g, m, v: ((p, _swap(g, 1, np.ones((2, 6), np.float32)[:, ::2]), m, v), {}),
        ValueError,
        "contiguous",
    ),
    (
        "read-only state",
        lambda p, g, m, v: ((p, g, m, _swap(v, 0, np.frombuffer(v[0].tobytes(), np.float32))), {}),
        ValueError,
        "read-only",
    ),
    (
        "aliased states",
        lambda p, g, m, v: ((p, g, m, _swap(v, 1, m[1])), {}),
        ValueError,
        "share memory",
    ),
    (
        "param listed twice",
        lambda p, g, m, v: (
            (
                _swap(p, 2, p[0]),
                _swap(g, 2, g[0]),
                _swap(m, 2, m[0].copy()),
                _swap(v, 2, v[0].copy()),
            ),
            {},
        ),
        ValueError,
        "'params[0]' and 'params[2]' share memory",
    ),
    (
        "grad aliasing a param",
        lambda p, g, m, v: ((p, _swap(g, 0, p[0]), m, v), {}),
        ValueError,
        "share memory",
    ),
    (
        "amsgrad without max_exp_avg_sqs",
        lambda p, g, m, v: ((p, g, m, v), {"amsgrad": True}),
        ValueError,
        "max_exp_avg_sqs",
    ),
]


@pytest.mark.parametrize("bad", BAD_ADAM, ids=[b[0] for b in BAD_ADAM])
def test_adam_bad_input_changes_nothing(bad, rng):
    _, mutate, exc, fragment = bad
    p, g, m, v = adam_args(rng)
    args, kw = mutate(p, g, m, v)
    kw = {"lr": 0.1, "step": 1, **kw}
    before = snapshot(p, g, m, v)
    with pytest.raises(exc) as info:
        kernels.adam_step(*args, **kw)
    assert fragment in str(info.value)
    assert "adam_step" in str(info.value)
    assert_untouched(before, p, g, m, v)


def test_non_contiguous_and_overlap_details(rng):
    p, g, m, v = adam_args(rng)
    before = snapshot(p, g, m, v)
    strided = np.zeros(10, np.float32)[::2]
    with pytest.raises(ValueError, match=r"exp_avgs\[2\].*C-contiguous"):
        kernels.adam_step(p, g, _swap(m, 2, strided[:5]), v, lr=0.1, step=1)
    half = np.zeros(8, np.float32)
    with pytest.raises(ValueError, match="share memory"):  # partial overlap
        kernels.adam_step(_swap(p, 0, half[:4]), g, _swap(m, 0, half[2:6]), v, lr=0.1, step=1)
    # gradients may share memory with each other (read only)
    shared = rng.standard_normal(4).astype(np.float32)
    kernels.sgd_step([p[0], p[2][:4]], [shared, shared], None, lr=0.1)
    assert_untouched(before[1:], g, m, v)


def test_wrong_types_for_flags_and_step(rng):
    p, g, m, v = adam_args(rng)
    before = snapshot(p, g, m, v)
    with pytest.raises(TypeError):
        kernels.adam_step(p, g, m, v, lr=0.1, step=1.5)
    with pytest.raises(TypeError):
        kernels.adam_step(p, g, m, v, lr="0.1", step=1)
    with pytest.raises(TypeError):
        kernels.adam_step(p, g, m, v, lr=0.1)  # step is required
    assert_untouched(before, p, g, m, v)


def test_sgd_bad_input(rng):
    p = [rng.standard_normal(5)]
    g = [rng.standard_normal(5)]
    b = [np.zeros(5)]
    before = snapshot(p, g, b)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        kernels.sgd_step(p, g, b, lr=0.1, momentum=0.9, nesterov=True, dampening=0.1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        kernels.sgd_step(p, g, b, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="momentum_bufs' is required"):
        kernels.sgd_step(p, g, None, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        kernels.sgd_step(p, g, b, lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        kernels.sgd_step(p, g, b, lr=-1.0)
    with pytest.raises(ValueError, match="Invalid weight_decay"):
        kernels.sgd_step(p, g, b, lr=1.0, weight_decay=-1)
    ro = np.zeros(5)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[0\].*read-only"):
        kernels.sgd_step([ro], g, b, lr=0.1)
    with pytest.raises(ValueError, match=r"momentum_bufs\[0\].*read-only"):
        kernels.sgd_step(p, g, [ro], lr=0.1, momentum=0.9)
    assert_untouched(before, p, g, b)


def test_adagrad_and_rmsprop_bad_input(rng):
    p = [rng.standard_normal(5).astype(np.float32)]
    g = [rng.standard_normal(5).astype(np.float32)]
    s = [np.ones(5, np.float32)]
    before = snapshot(p, g, s)
    with pytest.raises(ValueError, match="Invalid lr_decay"):
        kernels.adagrad_step(p, g, s, lr=0.1, lr_decay=-1, step=1)
    with pytest.raises(ValueError, match="Invalid epsilon"):
        kernels.adagrad_step(p, g, s, lr=0.1, eps=-1, step=1)
    with pytest.raises(ValueError, match="Invalid step"):
        kernels.adagrad_step(p, g, s, lr=0.1, step=-2)
    with pytest.raises(TypeError, match="state_sums"):
        kernels.adagrad_step(p, g, None, lr=0.1, step=1)
    with pytest.raises(ValueError, match="Invalid alpha"):
        kernels.rmsprop_step(p, g, s, lr=0.1, alpha=-0.5)
    with pytest.raises(ValueError, match="grad_avgs' is required when centered"):
        kernels.rmsprop_step(p, g, s, lr=0.1, centered=True)
    with pytest.raises(ValueError, match="momentum_bufs' is required when momentum"):
        kernels.rmsprop_step(p, g, s, lr=0.1, momentum=0.5)
    with pytest.raises(ValueError, match="share memory"):
        kernels.rmsprop_step(p, g, s, lr=0.1, momentum=0.5, momentum_bufs=s)
    with pytest.raises(TypeError, match="dtype"):
        kernels.rmsprop_step(p, [g[0].astype(np.float64)], s, lr=0.1)
    assert_untouched(before, p, g, s)


def test_nan_and_inf_propagate_like_torch():
    # wd == 0 skips the decay term exactly (no 0 * inf = NaN); NaN grads give NaN params.
    p = np.array([np.inf, 1.0, 2.0], np.float32)
    g = np.array([1.0, np.nan, 0.0], np.float32)
    kernels.sgd_step([p], [g], None, lr=0.1)
    assert np.isinf(p[0]) and np.isnan(p[1]) and p[2] == 2.0


def test_isa_paths_agree_exactly(rng):
    # The optim units are built without fma contraction: every SIMD path rounds identically.
    shapes = [(1000,), (37,)]
    g = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    before = kernels.get_isa()
    try:
        for isa in kernels.supported_isas():
            kernels.set_isa(isa)
            for name, opts in [
                ("adam", ADAM_CASES[4]),
                ("rmsprop", RMSPROP_CASES[4]),
                ("sgd", SGD_CASES[4]),
                ("adagrad", ADAGRAD_CASES[1]),
            ]:
                prob = Problem(name, opts, shapes, np.float32, np.random.default_rng(3))
                for step in range(1, 4):
                    prob.step(OPTIMIZERS[name][0], g, step)
                results.append((isa, name, prob.params))
    finally:
        kernels.set_isa(before)
    first = {name: params for isa, name, params in results if isa == "generic"}
    for isa, name, params in results:
        for a, b in zip(params, first[name]):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} on {isa}")
