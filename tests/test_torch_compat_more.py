"""torch names older and everyday programs use that fastnn lacked: the constants, determinism
and interop switches, the global random state (get/set_rng_state, default_generator), anomaly
detection, the legacy linear algebra (svd, qr, cholesky, chain_matmul), atleast_*, broadcast
helpers, typename, and the legacy Tensor methods (new, resize_, sum_to_size, frexp...); against
torch where it is installed, and by their definitions."""

import math
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import autograd

RNG = np.random.default_rng(5)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else t


def _shapes_program(m):
    a, b, c = m.tensor(1.0), m.ones(2), m.ones(2, 3)
    out = [tuple(m.atleast_1d(a).shape), [tuple(t.shape) for t in m.atleast_2d(a, b)]]
    out.append([tuple(t.shape) for t in m.atleast_3d((a, b, c))])
    out.append(tuple(m.atleast_3d(m.ones(2, 3, 4)).shape))
    out += [tuple(m.broadcast_shapes((2, 1), (3,))), tuple(m.broadcast_shapes(2, (3, 1)))]
    out.append(tuple(m.swapdims(c, 0, 1).shape))
    out.append((m.scalar_tensor(3).item(), str(m.scalar_tensor(3).dtype).split(".")[-1]))
    x = m.arange(5)
    out.append([_np(t).tolist() for t in m.split_with_sizes(x, [2, 3])])
    out.append([_np(t).tolist() for t in m.unsafe_chunk(x, 2)])
    out.append([_np(t).tolist() for t in m.unsafe_split(x, 2)])
    out.append([_np(t).tolist() for t in x.split_with_sizes([1, 4])])
    out.append(m.get_device(m.ones(1)))
    out.append(m.typename(m.ones(2)).split(".", 1)[1])
    out.append(m.typename(m.ones(2, dtype=m.long)).split(".", 1)[1])
    out.append(m.typename(1.5))
    out.append((m.e, m.pi, m.inf, math.isnan(m.nan), m.newaxis))
    out.append((str(m.strided).split(".")[1], m.ones(1).layout == m.strided, m.is_storage(x)))
    return out


def test_shapes_and_names_match_torch():
    torch = pytest.importorskip("torch")
    assert _shapes_program(fastnn) == _shapes_program(torch)


def test_broadcast_shapes_refuses():
    with pytest.raises(RuntimeError, match="Attempting to broadcast a dimension of length 3"):
        fastnn.broadcast_shapes((2,), (3,))
    with pytest.raises(TypeError, match="expected Tensors"):
        fastnn.atleast_1d(1.0, 2.0)


def _linalg_program(m):
    a = m.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for some in (True, False):
            U, S, V = m.svd(a, some=some)
            out += [tuple(U.shape), tuple(V.shape), _np(S)]
            out.append(_np(U[:, :3] @ m.diag(S) @ V.T))
            Q, R = m.qr(a, some=some)
            out += [tuple(Q.shape), _np(Q @ R)]
        U, S, V = m.svd(a, compute_uv=False)
        out += [tuple(U.shape), float(U.abs().sum()), tuple(V.shape), _np(S)]
        spd = a.T @ a + m.eye(3, dtype=a.dtype)
        out += [_np(m.cholesky(spd)), _np(m.cholesky(spd, upper=True))]
        out.append(_np(m.chain_matmul(a, a.T, a)))
        x = a.clone().requires_grad_()
        m.svd(x)[1].sum().backward()
        out.append(_np(x.grad))
    return out


def test_legacy_linalg_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _linalg_program(fastnn), _linalg_program(torch)
    for u, v in zip(ours, theirs):
        if isinstance(u, np.ndarray):
            np.testing.assert_allclose(np.abs(u), np.abs(v), rtol=1e-10, atol=1e-12)
        else:
            assert u == v


def test_legacy_linalg_by_definition():
    a = fastnn.tensor(RNG.standard_normal((4, 4)))
    with pytest.warns(UserWarning, match="qr is deprecated"):
        Q, R = fastnn.qr(a)
    np.testing.assert_allclose(_np(Q @ R), _np(a), atol=1e-12)
    U, S, V = fastnn.svd(a)
    np.testing.assert_allclose(_np(U @ fastnn.diag(S) @ V.T), _np(a), atol=1e-12)
    np.testing.assert_allclose(_np(a.svd()[1]), _np(S))


def test_determinism_and_interop_switches():
    torch = pytest.importorskip("torch")
    results = []
    for m in (fastnn, torch):
        got = []
        for call in (
            lambda: m.use_deterministic_algorithms(True, warn_only=True),
            lambda: (
                m.are_deterministic_algorithms_enabled(),
                m.is_deterministic_algorithms_warn_only_enabled(),
                m.get_deterministic_debug_mode(),
            ),
            lambda: m.set_deterministic_debug_mode("error"),
            m.get_deterministic_debug_mode,
            lambda: m.set_deterministic_debug_mode(5),
            lambda: m.set_deterministic_debug_mode("loud"),
            lambda: m.use_deterministic_algorithms(1),
            lambda: m.set_deterministic_debug_mode(0),
            m.are_deterministic_algorithms_enabled,
            lambda: m.set_num_interop_threads(0),
            lambda: m.set_warn_always(False),
            m.is_warn_always_enabled,
        ):
            try:
                got.append(call())
            except (RuntimeError, TypeError) as e:
                got.append(type(e).__name__)
        results.append(got)
    assert results[0] == results[1]
    assert fastnn.set_flush_denormal(True) is False  # fastnn leaves the FPU modes alone


def test_default_tensor_type_and_anomaly_flags():
    before = fastnn.get_default_dtype()
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            fastnn.set_default_tensor_type(fastnn.DoubleTensor)
        assert fastnn.get_default_dtype() == fastnn.float64
        with pytest.warns(UserWarning, match="deprecated"):
            fastnn.set_default_tensor_type("torch.FloatTensor")
        assert fastnn.get_default_dtype() == fastnn.float32
        with (
            pytest.warns(UserWarning, match="deprecated"),
            pytest.raises(TypeError, match="floating-point"),
        ):
            fastnn.set_default_tensor_type(fastnn.LongTensor)
    finally:
        fastnn.set_default_dtype(before)
    assert not fastnn.is_anomaly_enabled()
    with autograd.set_detect_anomaly(True, check_nan=False):
        assert fastnn.is_anomaly_enabled() and not fastnn.is_anomaly_check_nan_enabled()
    assert not fastnn.is_anomaly_enabled()


def test_anomaly_mode_names_the_node_that_made_nan():
    torch = pytest.importorskip("torch")
    msgs = []
    for m in (fastnn, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with m.autograd.detect_anomaly():
                x = m.tensor([0.0], requires_grad=True)
                x.sqrt().sum().backward()  # inf, not NaN: no error
                z = m.tensor([-1.0, 4.0], requires_grad=True)
                try:
                    (z.sqrt() * 2).sum().backward()
                    msgs.append(None)
                except RuntimeError as e:
                    msgs.append(str(e))
        z = m.tensor([-1.0], requires_grad=True)
        z.sqrt().sum().backward()  # off again: NaN gradients pass
        msgs.append(bool(np.isnan(_np(z.grad)).all()))
    assert msgs[0] == msgs[2] == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert msgs[1] is msgs[3] is True


def test_rng_state_round_trip_and_default_generator():
    g = fastnn.manual_seed(11)
    assert g is fastnn.default_generator and g.initial_seed() == 11
    state = fastnn.get_rng_state()
    assert state.dtype == fastnn.uint8 and state.ndim == 1
    a = fastnn.randn(5)
    fastnn.set_rng_state(state)
    np.testing.assert_array_equal(_np(fastnn.randn(5)), _np(a))
    fastnn.default_generator.set_state(state)
    np.testing.assert_array_equal(_np(fastnn.randn(5)), _np(a))
    with pytest.raises(TypeError, match="uint8"):
        fastnn.set_rng_state(fastnn.zeros(3))
    with pytest.raises(RuntimeError, match="bytes"):
        fastnn.set_rng_state(fastnn.zeros(3, dtype=fastnn.uint8))


def _tensor_program(m):
    x = m.arange(6.0).reshape(2, 3)
    out = [tuple(x.new().shape), str(x.new(2, 2).dtype).split(".")[1]]
    out.append(str(x.long().new([1.5]).dtype).split(".")[1])
    out.append(tuple(x.new(m.Size([3])).shape))
    out.append(_np(x.new([1, 2])).tolist())
    y = m.arange(6.0)
    y.resize_(2, 2)
    out.append(_np(y).tolist())
    y.resize_(5)
    out += [_np(y)[:4].tolist(), tuple(y.shape)]
    z = m.ones(4)
    z.resize_as_(m.ones(2, 2))
    out.append(tuple(z.shape))
    try:
        m.ones(2, requires_grad=True).resize_(3)
    except RuntimeError as e:
        out.append(str(e))
    out += [_np(x.sum_to_size(1, 3)).tolist(), _np(x.sum_to_size(3)).tolist()]
    try:
        x.sum_to_size(2, 2)
    except RuntimeError as e:
        out.append(str(e))
    out += [x.real is x, bool(x.isreal().all())]
    try:
        _ = x.imag
    except RuntimeError as e:
        out.append(str(e))
    out.append(_np(m.tensor([-1.0, 0.0, 2.0, math.nan]).angle()).tolist()[:3])
    mant, ex = m.tensor([8.0, 0.5, -3.0]).frexp()
    out += [_np(mant).tolist(), _np(ex).tolist(), str(ex.dtype).split(".")[1]]
    nz = m.tensor([0, 3, 0, 5])
    out += [_np(nz.nonzero_static(size=3)).tolist(), _np(nz.nonzero_static(size=1)).tolist()]
    a = m.ones(3)
    a.apply_(lambda v: v * 2)
    a.map_(m.tensor([1.0, 2.0, 3.0]), lambda p, q: p + q)
    out.append(_np(a).tolist())
    out.append(_np(x.narrow_copy(1, 0, 2)).tolist())
    out.append((x.is_sparse, x.is_quantized, x.is_mkldnn, x.is_nested, x.layout == m.strided))
    out.append((x.is_set_to(x), x.is_set_to(x.clone()), x.to_dense() is x))
    return out


def test_legacy_tensor_methods_match_torch():
    torch = pytest.importorskip("torch")
    assert _tensor_program(fastnn) == _tensor_program(torch)


def test_resize_refuses_what_views_would_miss():
    w = fastnn.ones(4)
    v = w[:2]
    with pytest.raises(RuntimeError, match="shares its storage with views"):
        w.resize_(8)
    u = fastnn.ones(4)
    u.detach()  # a view that no longer exists does not hold the storage back
    u.resize_(6)
    np.testing.assert_array_equal(_np(u), [1, 1, 1, 1, 0, 0])
    w.resize_(2, 2)  # the same element count: the same storage, the view still sees it
    w.fill_(3.0)
    np.testing.assert_array_equal(_np(v), [3.0, 3.0])
