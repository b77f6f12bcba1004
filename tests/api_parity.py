"""The parity harness of tests/test_api_more*.py: run a recipe ``fn(L, *tensors)`` with
L = fastnn and L = torch on the same numpy inputs, then compare every tensor output (dtype name,
shape, values) and the gradients of the float inputs that require grad."""

import numpy as np

import fastnn
from conftest import assert_close


def leaves(L, out):
    if isinstance(out, L.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in leaves(L, o)]
    return [out]


def run(L, fn, arrays, grad):
    xs = [
        L.tensor(a.copy(), requires_grad=bool(grad and a.dtype.kind == "f" and k in grad))
        for k, a in enumerate(arrays)
    ]
    outs = leaves(L, fn(L, *xs))
    if grad:
        rng = np.random.default_rng(7)
        loss = None
        for o in outs:
            if isinstance(o, L.Tensor) and o.requires_grad:
                w = L.tensor(
                    rng.standard_normal(tuple(o.shape)).astype(str(o.dtype).split(".")[-1])
                )
                term = (o * w).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
    grads = [_grad(x.grad) for x in xs if x.requires_grad]
    return outs, grads


def _grad(g):
    if g is None:
        return None
    if getattr(g, "_is_zerotensor", lambda: False)():  # torch's sgn backward: no storage
        return np.zeros(tuple(g.shape))
    return g.numpy()


def check(fn, *arrays, grad=(0,), atol=1e-5, rtol=1e-4, torch=None):
    """fastnn and torch agree on ``fn``'s outputs and on the gradients of inputs ``grad``."""
    fo, fg = run(fastnn, fn, arrays, grad)
    to, tg = run(torch, fn, arrays, grad)
    assert len(fo) == len(to)
    for k, (a, b) in enumerate(zip(fo, to)):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, fastnn.Tensor), f"output {k}: {type(a).__name__}"
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (
                f"output {k}: {a.dtype} vs {b.dtype}"
            )
            assert tuple(a.shape) == tuple(b.shape), f"output {k}: {a.shape} vs {b.shape}"
            an, bn = a.detach().numpy(), b.detach().numpy()
            if bn.dtype.kind == "f":
                assert_close(an, bn, atol=atol, rtol=rtol, name=f"output {k}")
            else:
                np.testing.assert_array_equal(an, bn, err_msg=f"output {k}")
        else:
            assert a == b, f"output {k}: {a!r} vs {b!r}"
    assert len(fg) == len(tg)
    for k, (a, b) in enumerate(zip(fg, tg)):
        if a is None or b is None:  # no gradient: torch may give zeros instead
            assert not np.any(a) and not np.any(b), f"gradient {k}: {a} vs {b}"
        else:
            assert_close(a, b, atol=atol * 10, rtol=rtol * 10, name=f"gradient {k}")
