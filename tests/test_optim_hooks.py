"""Optimizer hooks (step pre/post, per optimizer and global; state_dict and load_state_dict
pre/post), torch's capturable/differentiable keywords, against torch and by hand."""

import importlib

import numpy as np
import pytest

import fastnn
from fastnn import nn, optim
from fastnn.optim import optimizer as optimizer_mod


def _program(m):
    log = []
    p = m.nn.Parameter(m.tensor(np.array([1.0, -2.0])))

    opt = m.optim.SGD([p], lr=0.5)
    pre = opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", a[0] is o, len(a))))
    opt.register_step_post_hook(lambda o, a, k: log.append(("post", float(p.detach()[0]))))
    module = importlib.import_module(m.__name__ + ".optim.optimizer")
    glob = module.register_optimizer_step_pre_hook(lambda o, a, k: log.append("global"))
    p.grad = m.tensor(np.array([1.0, 1.0]))
    opt.step()
    pre.remove()
    glob.remove()
    opt.step()
    opt.register_state_dict_pre_hook(lambda o: log.append("sd pre"))

    def tag(o, sd):
        sd["param_groups"][0]["tag"] = "saved"
        return sd

    opt.register_state_dict_post_hook(tag)
    sd = opt.state_dict()
    log.append(sd["param_groups"][0]["tag"])

    def untag(o, sd):
        log.append(("load pre", sd["param_groups"][0].pop("tag")))
        return sd

    other = m.optim.SGD([p], lr=0.1)
    other.register_load_state_dict_pre_hook(untag)
    other.register_load_state_dict_post_hook(
        lambda o: log.append(("load post", o.param_groups[0]["lr"]))
    )
    other.load_state_dict(sd)
    log.append(sorted(m.optim.Adam([p]).defaults))
    log.append(sorted(set(m.optim.RMSprop([p]).defaults) - {"fused"}))  # fastnn's extra key
    log.append(m.optim.AdamW([p], capturable=True).param_groups[0]["capturable"])
    return log


def test_hooks_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _program(fastnn), _program(torch)
    assert ours == theirs


def test_hooks_by_hand():
    log = _program(fastnn)
    assert log[:4] == ["global", ("pre", True, 1), ("post", 0.5), ("post", 0.0)]
    assert log[4:8] == ["sd pre", "saved", ("load pre", "saved"), ("load post", 0.5)]


def test_a_subclass_calling_super_step_runs_the_hooks_once():
    # (torch runs them twice once the parent class's step has been wrapped by an earlier
    # instance of it; fastnn runs them at the outermost step only)
    class Scaled(optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    p = nn.Parameter(fastnn.ones(1))
    p.grad = fastnn.ones(1)
    optim.SGD([nn.Parameter(fastnn.ones(1))], lr=0.1)  # the parent's step wrapped first
    opt = Scaled([p], lr=0.5)
    calls = []
    opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    opt.step()
    assert calls == ["pre", "post"]
    np.testing.assert_allclose(p.detach().numpy(), [0.5])


def test_a_pre_hook_may_replace_the_arguments_and_bad_results_raise():
    p = nn.Parameter(fastnn.ones(1))
    p.grad = fastnn.ones(1)
    opt = optim.SGD([p], lr=1.0)
    calls = []
    handle = opt.register_step_pre_hook(
        lambda o, a, k: ((o,), {"closure": lambda: calls.append(1)})
    )
    opt.step()
    assert calls == [1]
    handle.remove()
    opt.register_step_pre_hook(lambda o, a, k: 3)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()
    with pytest.raises(TypeError, match="callable"):
        optimizer_mod.register_optimizer_step_post_hook(None)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.NAdam])
def test_differentiable_steps_are_refused(cls):
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        cls([nn.Parameter(fastnn.ones(1))], differentiable=True)
