"""fastnn.nn.utils against torch.nn.utils: clip_grad_norm_ (every norm type, a single tensor,
no gradients, mixed dtypes, non-finite gradients), clip_grad_value_, parameters_to_vector /
vector_to_parameters, rnn.pad_sequence (values and gradients), and their errors."""

import math

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck
from fastnn.nn import utils
from fastnn.nn.utils import rnn

torch = pytest.importorskip("torch")

SHAPES = [(1,), (7,), (33, 2), (3, 5, 4), (257,)]
NORMS = [2.0, 1.0, 3.0, 0.5, math.inf, -math.inf, 0.0]


def _pair(grads, dtype=np.float32):
    """fastnn and torch parameters holding the same gradients (None: no gradient)."""
    fp, tp = [], []
    for g in grads:
        shape = (3,) if g is None else g.shape
        f = fastnn.nn.Parameter(fastnn.zeros(*shape, dtype=dtype))
        t = torch.zeros(*shape, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        if g is not None:
            f.grad = fastnn.tensor(g.astype(dtype))
            t.grad = torch.tensor(g.astype(dtype))
        fp.append(f)
        tp.append(t)
    return fp, tp


def _assert_grads(fp, tp, rtol):
    for f, t in zip(fp, tp):
        if t.grad is None:
            assert f.grad is None
        else:
            np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, dtype, max_norm, rng):
    grads = [rng.standard_normal(s) for s in SHAPES] + [None]
    grads[2][0, 0] = 0.0
    fp, tp = _pair(grads, dtype)
    total = utils.clip_grad_norm_(fp, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert isinstance(total, fastnn.Tensor) and total.ndim == 0
    assert total.dtype == fastnn.float32 if dtype == np.float32 else total.dtype == fastnn.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=rtol)
    _assert_grads(fp, tp, rtol)


def test_clip_grad_norm_single_tensor_generator_and_no_grads(rng):
    g = rng.standard_normal((4, 3))
    (f,), (t,) = _pair([g])
    total = utils.clip_grad_norm_(f, 1.0)  # a Tensor, not a list
    assert total.item() == pytest.approx(torch.nn.utils.clip_grad_norm_(t, 1.0).item(), rel=1e-6)
    _assert_grads([f], [t], 1e-6)
    fp, tp = _pair([g, g * 2])
    utils.clip_grad_norm_((p for p in fp), 0.1)  # read once, like torch
    torch.nn.utils.clip_grad_norm_((p for p in tp), 0.1)
    _assert_grads(fp, tp, 1e-6)
    fp, _ = _pair([None, None])
    none = utils.clip_grad_norm_(fp, 1.0)
    assert none.item() == 0.0 and none.dtype == fastnn.float32
    assert utils.clip_grad_norm_([], 1.0).item() == 0.0


def test_clip_grad_norm_mixed_dtypes_promote(rng):
    f32 = fastnn.nn.Parameter(fastnn.zeros(5))
    f64 = fastnn.nn.Parameter(fastnn.zeros(3, dtype=fastnn.float64))
    t32 = torch.zeros(5, requires_grad=True)
    t64 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    g32, g64 = rng.standard_normal(5).astype(np.float32), rng.standard_normal(3)
    f32.grad, f64.grad = fastnn.tensor(g32), fastnn.tensor(g64)
    t32.grad, t64.grad = torch.tensor(g32), torch.tensor(g64)
    total = utils.clip_grad_norm_([f32, f64], 0.3)
    expected = torch.nn.utils.clip_grad_norm_([t32, t64], 0.3)
    assert total.dtype == fastnn.float64
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    _assert_grads([f32, f64], [t32, t64], 1e-6)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0])
def test_clip_grad_norm_nonfinite_like_torch(bad, norm_type, rng):
    grads = [rng.standard_normal(5), rng.standard_normal(3)]
    grads[1][1] = bad
    fp, tp = _pair(grads)
    total = utils.clip_grad_norm_(fp, 1.0, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(tp, 1.0, norm_type=norm_type)
    np.testing.assert_equal(total.item(), expected.item())
    for f, t in zip(fp, tp):
        np.testing.assert_array_equal(f.grad.numpy(), t.grad.numpy())  # NaN where torch has NaN
    fp, tp = _pair(grads)
    before = [f.grad.numpy().copy() for f in fp]
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(fp, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(tp, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    for f, b in zip(fp, before):
        np.testing.assert_array_equal(f.grad.numpy(), b)  # refused: nothing scaled


def test_clip_grad_norm_foreach_flag_and_errors(rng):
    fp, tp = _pair([rng.standard_normal(6)])
    for foreach in (None, True, False):
        fp, tp = _pair([rng.standard_normal(6)])
        total = utils.clip_grad_norm_(fp, 0.1, foreach=foreach)
        expected = torch.nn.utils.clip_grad_norm_(tp, 0.1, foreach=foreach)
        assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(TypeError, match="expected Tensors"):
        utils.clip_grad_norm_([np.zeros(3)], 1.0)
    with pytest.raises(ValueError):
        utils.clip_grad_norm_(fp, "big")


def test_total_norm_helpers_match_torch(rng):
    grads = [rng.standard_normal(s) for s in SHAPES]
    fp, tp = _pair(grads)
    for p in (2.0, math.inf, 1.5):
        ours = utils.get_total_norm([f.grad for f in fp], p)
        theirs = torch.nn.utils.get_total_norm([t.grad for t in tp], p)
        assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)
    utils.clip_grads_with_norm_(fp, 1.0, utils.get_total_norm([f.grad for f in fp]))
    torch.nn.utils.clip_grads_with_norm_(
        tp, 1.0, torch.nn.utils.get_total_norm([t.grad for t in tp])
    )
    _assert_grads(fp, tp, 1e-5)


@pytest.mark.parametrize("clip", [0.5, 2.0, -0.5])
def test_clip_grad_value_matches_torch(clip, rng):
    grads = [rng.standard_normal(s) * 2 for s in SHAPES] + [None]
    fp, tp = _pair(grads)
    assert utils.clip_grad_value_(fp, clip) is None
    torch.nn.utils.clip_grad_value_(tp, clip)
    _assert_grads(fp, tp, 0)
    f, t = _pair([np.array([3.0, -3.0, 0.1])])
    utils.clip_grad_value_(f[0], 1)
    torch.nn.utils.clip_grad_value_(t[0], 1)
    _assert_grads(f, t, 0)


def test_parameters_to_vector_and_back(rng):
    values = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    fp = [fastnn.nn.Parameter(fastnn.tensor(v)) for v in values]
    tp = [torch.tensor(v, requires_grad=True) for v in values]
    vec = utils.parameters_to_vector(fp)
    tvec = torch.nn.utils.parameters_to_vector(tp)
    np.testing.assert_array_equal(vec.detach().numpy(), tvec.detach().numpy())
    # differentiable, like torch's
    weights = rng.standard_normal(vec.shape[0]).astype(np.float32)
    (vec * fastnn.tensor(weights)).sum().backward()
    (tvec * torch.tensor(weights)).sum().backward()
    _assert_grads(fp, tp, 0)
    new = rng.standard_normal(vec.shape[0] + 4).astype(np.float32)  # extra elements are ignored
    fvec, tnew = fastnn.tensor(new), torch.tensor(new)
    utils.vector_to_parameters(fvec, fp)
    torch.nn.utils.vector_to_parameters(tnew, tp)
    for f, t in zip(fp, tp):
        np.testing.assert_array_equal(f.detach().numpy(), t.detach().numpy())
        assert tuple(f.shape) == tuple(t.shape)
    fvec[0] = 42.0  # the parameters view vec's storage afterwards, as in torch
    assert fp[0].detach().numpy()[0] == 42.0


def test_vector_to_parameters_errors_change_nothing(rng):
    fp = [fastnn.nn.Parameter(fastnn.ones(3)), fastnn.nn.Parameter(fastnn.ones(2, 2))]
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        utils.vector_to_parameters(np.zeros(7, dtype=np.float32), fp)
    with pytest.raises(ValueError, match="7 elements but vec has only 5"):
        utils.vector_to_parameters(fastnn.zeros(5), fp)
    with pytest.raises(ValueError, match="1-D"):
        utils.vector_to_parameters(fastnn.zeros(7, 1), fp)
    for p in fp:
        assert float(p.sum().item()) == p.numel()
    with pytest.raises(TypeError, match="expected Tensors"):
        utils.parameters_to_vector([np.zeros(3)])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 1)])
def test_pad_sequence_matches_torch(batch_first, side, trailing, rng):
    lengths = [4, 1, 7, 0, 7]
    values = [rng.standard_normal((n, *trailing)).astype(np.float32) for n in lengths]
    fs = [fastnn.tensor(v, requires_grad=True) for v in values]
    ts = [torch.tensor(v, requires_grad=True) for v in values]
    kw = {"batch_first": batch_first, "padding_value": -2.5, "padding_side": side}
    out = rnn.pad_sequence(fs, **kw)
    tout = torch.nn.utils.rnn.pad_sequence(ts, **kw)
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    w = rng.standard_normal(tuple(tout.shape)).astype(np.float32)
    (out * fastnn.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for f, t in zip(fs, ts):
        np.testing.assert_array_equal(f.grad.numpy(), t.grad.numpy())


def test_pad_sequence_dtypes_and_tensor_input(rng):
    a = fastnn.tensor(np.array([1, 2], dtype=np.int64))
    b = fastnn.tensor(np.array([3], dtype=np.int64))
    out = rnn.pad_sequence([a, b], padding_value=1.5)
    tout = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor([1, 2]), torch.tensor([3])], padding_value=1.5
    )
    assert out.dtype == fastnn.int64
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    out = rnn.pad_sequence(fastnn.tensor(x))  # a tensor is a sequence of its rows
    tout = torch.nn.utils.rnn.pad_sequence(torch.tensor(x))
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    mixed = rnn.pad_sequence([fastnn.ones(2), fastnn.ones(3, dtype=fastnn.float64)])
    assert mixed.dtype == fastnn.float32  # the first sequence's dtype, as in torch


def test_pad_sequence_gradcheck(rng):
    seqs = [fastnn.tensor(rng.standard_normal((n, 2)), requires_grad=True) for n in (3, 1, 2)]
    assert gradcheck(lambda *s: rnn.pad_sequence(list(s), batch_first=True), seqs)
    assert gradcheck(lambda *s: rnn.pad_sequence(list(s), padding_side="left"), seqs)


def test_pad_sequence_errors():
    with pytest.raises(ValueError, match="empty list"):
        rnn.pad_sequence([])
    with pytest.raises(ValueError, match="trailing dimensions"):
        rnn.pad_sequence([fastnn.ones(2, 3), fastnn.ones(2, 4)])
    with pytest.raises(ValueError, match="padding_side"):
        rnn.pad_sequence([fastnn.ones(2)], padding_side="middle")
    with pytest.raises(ValueError, match="0-dimensional"):
        rnn.pad_sequence([fastnn.tensor(1.0)])
    with pytest.raises(TypeError, match="Tensors"):
        rnn.pad_sequence([np.ones(2)])


# ---- the non-CPU path, on the numpy emulation of the CUDA bindings (tests/_fake_cuda.py) -------


@pytest.fixture
def emulated(monkeypatch):
    import _fake_cuda
    from fastnn import _devices

    be = _devices.cuda_module()
    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(_devices._BY_TYPE, _fake_cuda.DeviceArray, be)
    return be


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 0.0, 3.0])
def test_clip_grad_norm_device_path_matches_cpu(norm_type, rng, emulated):
    """Gradients that are not numpy arrays take the Tensor-op path (no fused kernel there)."""
    grads = [rng.standard_normal(s) for s in SHAPES]
    grads[1][0] = 0.0
    results = []
    for put in (np.asarray, emulated.from_numpy):
        params = []
        for g in grads:
            p = fastnn.nn.Parameter(fastnn.Tensor._make(put(np.zeros(g.shape, np.float32))))
            p.grad = fastnn.Tensor._make(put(g.astype(np.float32)))
            params.append(p)
        total = utils.clip_grad_norm_(params, 0.5, norm_type=norm_type)
        assert type(total._data) is type(params[0].grad._data)  # on the gradients' device
        utils.clip_grad_value_(params, 0.05)
        results.append(
            [float(total.item())] + [np.asarray(p.grad.cpu().numpy()).ravel() for p in params]
        )
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-5)
    for a, b in zip(results[1][1:], results[0][1:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
