"""One rule for ``dim`` arguments: torch's range check and message, 0-d tensors, tuple dims,
type errors naming the argument, and softmax's legacy implicit dim."""

import re
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F

X = fastnn.zeros(2, 3, 4)

OUT_OF_RANGE = [
    ("sum", lambda: X.sum(5), 5, 3),
    ("sum tuple", lambda: X.sum((0, 5)), 5, 3),
    ("mean", lambda: X.mean(-4), -4, 3),
    ("amax", lambda: X.amax(3), 3, 3),
    ("amin", lambda: X.amin((3,)), 3, 3),
    ("var", lambda: X.var(3), 3, 3),
    ("std", lambda: X.std(3), 3, 3),
    ("norm", lambda: X.norm(dim=3), 3, 3),
    ("argmax", lambda: X.argmax(3), 3, 3),
    ("argmin", lambda: X.argmin(-4), -4, 3),
    ("max", lambda: X.max(3), 3, 3),
    ("min", lambda: X.min(3), 3, 3),
    ("any", lambda: X.any(3), 3, 3),
    ("all", lambda: X.all(3), 3, 3),
    ("softmax", lambda: X.softmax(3), 3, 3),
    ("log_softmax", lambda: F.log_softmax(X, 3), 3, 3),
    ("squeeze", lambda: X.squeeze(3), 3, 3),
    ("unsqueeze", lambda: X.unsqueeze(4), 4, 4),
    ("flatten", lambda: X.flatten(0, 3), 3, 3),
    ("unflatten", lambda: X.unflatten(3, (1, 1)), 3, 3),
    ("permute", lambda: X.permute(0, 1, 3), 3, 3),
    ("transpose", lambda: X.transpose(0, 3), 3, 3),
    ("index_select", lambda: X.index_select(3, fastnn.tensor([0])), 3, 3),
    ("gather", lambda: X.gather(3, fastnn.zeros(2, 3, 4, dtype=fastnn.long)), 3, 3),
    ("size", lambda: X.size(3), 3, 3),
    ("split", lambda: X.split(1, 3), 3, 3),
    ("chunk", lambda: X.chunk(2, 3), 3, 3),
    ("unbind", lambda: X.unbind(3), 3, 3),
    ("cat", lambda: fastnn.cat([X, X], 3), 3, 3),
    ("stack", lambda: fastnn.stack([X, X], 4), 4, 4),
]


@pytest.mark.parametrize(
    ("name", "call", "dim", "n"), OUT_OF_RANGE, ids=[c[0] for c in OUT_OF_RANGE]
)
def test_out_of_range_dim_is_torchs_index_error(name, call, dim, n):
    msg = f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
    with pytest.raises(IndexError, match=re.escape(msg)):
        call()


def test_messages_match_torch():
    torch = pytest.importorskip("torch")
    tx = torch.zeros(2, 3, 4)
    calls = [
        (lambda m, x: x.sum(5)),
        (lambda m, x: x.unsqueeze(4)),
        (lambda m, x: m.stack([x, x], 4)),
        (lambda m, x: x.softmax(-4)),
        (lambda m, x: x.transpose(0, 3)),
        (lambda m, x: m.tensor(1.0).sum(1)),
    ]
    for call in calls:
        with pytest.raises(IndexError) as want:
            call(torch, tx)
        with pytest.raises(IndexError) as got:
            call(fastnn, X)
        assert str(got.value) == str(want.value)


def test_zero_d_tensors_take_dim_0_and_minus_1():
    torch = pytest.importorskip("torch")
    s, ts = fastnn.tensor(2.0), torch.tensor(2.0)
    for dim in (0, -1):
        assert s.sum(dim).item() == ts.sum(dim).item()
        assert s.mean(dim, keepdim=True).shape == tuple(ts.mean(dim, keepdim=True).shape)
        assert s.amax(dim).shape == ()
        assert s.argmax(dim).item() == 0
        assert s.softmax(dim).item() == 1.0
        assert s.squeeze(dim).shape == ()
        assert s.max(dim).values.item() == 2.0
        assert s.transpose(dim, 0).shape == ()
    assert s.unsqueeze(0).shape == (1,)
    assert s.unsqueeze(-1).shape == (1,)
    assert s.flatten(0, -1).shape == (1,)
    with pytest.raises(IndexError, match=re.escape("range of [-1, 0], but got 1")):
        s.sum(1)
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        s.size(0)
    with pytest.raises(RuntimeError, match="zero-dimensional tensor"):
        fastnn.cat([s, s])


def test_tuple_dims_reduce_like_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, tx = fastnn.tensor(a, dtype=fastnn.float64), torch.tensor(a)
    for dim in [(0, 2), (-1, 0), [1, 2], ()]:
        for name in ("sum", "mean", "amax", "amin", "std", "var"):
            got = getattr(x, name)(dim).numpy()
            want = getattr(tx, name)(dim).numpy()
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{name}{dim}")
        np.testing.assert_allclose(
            x.norm(dim=dim).numpy() if dim else x.norm().numpy(),
            tx.norm(dim=dim).numpy() if dim else tx.norm().numpy(),
            rtol=1e-12,
        )
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.sum((0, -3))


@pytest.mark.parametrize("bad", [1.5, "a", 2.0, True])
def test_wrong_dim_type_is_a_type_error_naming_dim(bad):
    for call in (
        lambda: X.sum(bad),
        lambda: X.amax(bad),
        lambda: X.unsqueeze(bad),
        lambda: X.softmax(bad),
        lambda: X.argmax(bad),
        lambda: fastnn.cat([X, X], bad),
    ):
        with pytest.raises(TypeError, match="'dim'"):
            call()


def test_negative_dims_still_wrap():
    x = fastnn.arange(24).reshape(2, 3, 4)
    assert x.sum(-1).shape == (2, 3)
    assert x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x.permute(-1, 0, 1).shape == (4, 2, 3)
    assert fastnn.stack([x, x], -1).shape == (2, 3, 4, 2)
    assert fastnn.cat([x, x], -2).shape == (2, 6, 4)
    assert x.size(-1) == 4


@pytest.mark.parametrize(("ndim", "dim"), [(0, 0), (1, 0), (2, 1), (3, 0), (4, 1)])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_implicit_softmax_dim_is_torchs_legacy_rule_with_its_warning(ndim, dim, fn):
    torch = pytest.importorskip("torch")
    shape = (2, 3, 4, 5)[:ndim]
    a = np.random.default_rng(ndim).standard_normal(shape)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {fn} has been deprecated"):
        got = getattr(F, fn)(fastnn.tensor(a, dtype=fastnn.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(torch.nn.functional, fn)(torch.tensor(a))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    explicit = getattr(F, fn)(fastnn.tensor(a, dtype=fastnn.float64), dim)
    np.testing.assert_allclose(got.numpy(), explicit.numpy(), rtol=0)


def test_softmax_modules_without_dim_warn_and_use_the_legacy_dim():
    x = fastnn.randn(2, 3, 4)
    with pytest.warns(UserWarning, match="Change the call to include dim=X"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y.sum(0).numpy(), np.ones((3, 4)), rtol=1e-6)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        z = nn.LogSoftmax()(x)
    np.testing.assert_allclose(z.exp().sum(0).numpy(), np.ones((3, 4)), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Softmax(dim=1)(x)
        F.softmax(x, dim=-1)


def test_axis_and_keepdims_are_aliases_as_in_torch():
    """torch's functions and methods take numpy's ``axis=`` / ``keepdims=`` for ``dim`` /
    ``keepdim`` (``torch.cat(xs, axis=1)`` in published attention code); the few torch writes
    in Python (split, norm, unique) refuse them, and so does fastnn."""
    torch = pytest.importorskip("torch")
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    calls = [
        lambda L, x: L.cat([x, x], axis=1),
        lambda L, x: L.stack([x, x], axis=2),
        lambda L, x: L.concat([x, x], axis=0),
        lambda L, x: x.argmax(axis=1),
        lambda L, x: x.mean(1, keepdims=True),
        lambda L, x: L.mean(x, axis=0, keepdims=True),
        lambda L, x: x.max(axis=1, keepdims=True)[0],
        lambda L, x: x.softmax(axis=1),
        lambda L, x: L.cumsum(x, axis=1),
        lambda L, x: x.unsqueeze(axis=0),
        lambda L, x: x[:, :1].squeeze(axis=1),
        lambda L, x: x.topk(2, axis=1)[1],
        lambda L, x: L.index_select(x, axis=1, index=L.tensor([2, 0])),
        lambda L, x: L.repeat_interleave(x, 2, axis=0),
    ]
    for call in calls:
        ours, theirs = call(fastnn, fastnn.tensor(a)), call(torch, torch.tensor(a))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    x = fastnn.tensor(a)
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        fastnn.cat([x, x], dim=0, axis=1)
    for refused in (lambda L, x: x.split(1, axis=1), lambda L, x: x.norm(axis=1)):
        for lib in (torch, fastnn):
            with pytest.raises(TypeError):
                refused(lib, lib.tensor(a))
