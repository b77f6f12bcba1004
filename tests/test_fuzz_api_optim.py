"""Fuzz: optimizer constructors (hyperparameters, parameter lists and groups) and steps against
torch (fuzz_api.py's oracle): the same parameters after three steps on the same gradients, or a
clean error naming the argument."""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given
from hypothesis import strategies as st

from fuzz_api import JUNK, agree

pytestmark = pytest.mark.usefixtures("hang_guard")

HYPER = {
    "lr": st.sampled_from([0.1, 0.1, 1e-3, 0.0, -0.1, float("nan"), float("inf"), "x", None]),
    "momentum": st.sampled_from([0.0, 0.9, 0.9, -0.5, 1.5, "x", None]),
    "dampening": st.sampled_from([0.0, 0.5, -1.0, "x"]),
    "nesterov": st.sampled_from([False, True, "yes"]),
    "weight_decay": st.sampled_from([0.0, 0.01, 0.01, -1.0, float("nan"), None, "x"]),
    "betas": st.sampled_from(
        [
            (0.9, 0.999),
            (0.9, 0.999),
            (0.0, 0.5),
            (1.0, 0.9),
            (0.9, 1.5),
            (-0.1, 0.9),
            (0.9,),
            (0.9, 0.99, 0.9),
            0.9,
            "ab",
            None,
            [0.8, 0.9],
        ]
    ),
    "eps": st.sampled_from([1e-8, 1e-8, 0.0, -1.0, None, "x"]),
    "amsgrad": st.sampled_from([False, True]),
    "alpha": st.sampled_from([0.99, 0.99, 0.0, -0.5, 1.5, "x"]),
    "centered": st.sampled_from([False, True]),
    "lr_decay": st.sampled_from([0.0, 0.1, -1.0, "x"]),
    "initial_accumulator_value": st.sampled_from([0.0, 0.1, -1.0]),
}
OPTIMIZERS = {
    "SGD": ["lr", "momentum", "dampening", "nesterov", "weight_decay"],
    "Adam": ["lr", "betas", "eps", "weight_decay", "amsgrad"],
    "AdamW": ["lr", "betas", "eps", "weight_decay", "amsgrad"],
    "RMSprop": ["lr", "alpha", "eps", "weight_decay", "momentum", "centered"],
    "Adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"],
}
NAMES = (
    "lr", "learning rate", "beta", "momentum", "dampening", "weight_decay", "weight decay", "eps",
    "epsilon", "params", "parameter", "nesterov", "alpha", "group", "lr_decay",
    "initial_accumulator_value", "initial accumulator value", "float",
)  # fmt: skip


def _warm_up():
    """torch.optim's first step imports and sets up a lot (seconds); not an example's cost."""
    import torch

    for cls in OPTIMIZERS:
        p = torch.zeros(1, requires_grad=True)
        p.grad = torch.ones(1)
        getattr(torch.optim, cls)([p]).step() if cls != "SGD" else torch.optim.SGD([p], 0.1).step()


_warm_up()


def optimize(lib, cls, layout, shapes, kwargs, group_kwargs):
    """Three steps of lib.optim.<cls> on parameters of `shapes` (the same values and gradients
    in both libraries), given as `layout` says; returns the parameters after the steps."""
    rng = np.random.default_rng(0)
    params = [
        lib.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in shapes
    ]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]
    if layout == "list":
        arg = params
    elif layout == "generator":
        arg = (p for p in params)
    elif layout == "groups":
        half = len(params) // 2
        arg = [{"params": params[:half], **group_kwargs}, {"params": params[half:]}]
    elif layout == "tensor":
        arg = params[0] if params else lib.zeros(1, requires_grad=True)
    elif layout == "duplicate":
        arg = [{"params": params}, {"params": params[:1]}]
    elif layout == "no-params-key":
        arg = [{"lr": 0.1}]
    else:
        arg = layout  # junk
    opt = getattr(lib.optim, cls)(arg, **kwargs)
    for step in range(3):
        for p, g in zip(params, grads[step]):
            p.grad = None if (step == 1 and p is params[0]) else lib.tensor(g)
        opt.step()
    return [p.detach() for p in params]


@given(
    cls=st.sampled_from(sorted(OPTIMIZERS)),
    layout=st.one_of(
        st.sampled_from(["list"] * 4 + ["groups"] * 2 + ["generator", "tensor", "duplicate"]),
        st.sampled_from(["no-params-key"]),
        JUNK,
    ),
    shapes=st.lists(st.sampled_from([(), (1,), (3,), (2, 3), (0,)]), max_size=3),
    data=st.data(),
)
def test_fuzz_optimizer(cls, layout, shapes, data):
    names = OPTIMIZERS[cls]
    chosen = data.draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
    kwargs = {k: data.draw(HYPER[k]) for k in chosen}
    group = {
        k: data.draw(HYPER[k]) for k in data.draw(st.lists(st.sampled_from(names), max_size=2))
    }
    # torch takes a group's hyperparameters unchecked (a negative lr steps uphill); fastnn checks
    # them as the constructor's, so there it may refuse what torch runs
    agree(
        optimize,
        cls,
        layout,
        shapes,
        kwargs,
        group,
        names=(cls, *NAMES),
        tol=(1e-4, 1e-6),
        unsupported_ok=bool(group) and layout == "groups",
    )
