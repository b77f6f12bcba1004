"""Complex tensors: dtypes and promotion, parts and views, printing, torch's gradient convention
op by op (float64, against torch), and torch's errors where an op is real-only."""

import warnings

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def _c(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def _np(t):
    t = t.detach()
    if hasattr(t, "resolve_conj"):
        t = t.resolve_conj()
    return t.numpy()


def _same(got, want, atol=1e-10):
    g, w = _np(got), _np(want)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    assert g.shape == w.shape, (g.shape, w.shape)
    np.testing.assert_allclose(g, w, atol=atol, rtol=1e-9)


# ---- dtypes ---------------------------------------------------------------------------------


def test_names_and_aliases():
    assert fastnn.cfloat is fastnn.complex64 and fastnn.cdouble is fastnn.complex128
    assert fastnn.complex64.is_complex and not fastnn.complex64.is_floating_point
    assert fastnn.complex64.itemsize == 8 and fastnn.complex128.itemsize == 16
    assert fastnn.float64.to_complex() is fastnn.complex128
    assert fastnn.complex64.to_real() is fastnn.float32
    assert fastnn.complex128.to_complex() is fastnn.complex128
    with pytest.raises(RuntimeError):
        fastnn.int64.to_complex()


def test_python_complex_follows_the_float_default():
    assert fastnn.tensor([1 + 2j]).dtype is fastnn.complex64
    assert fastnn.tensor([1, 2.5, 1j]).dtype is fastnn.complex64
    assert fastnn.tensor(np.array([1j])).dtype is fastnn.complex128  # numpy's dtype is kept
    fastnn.set_default_dtype(fastnn.float64)
    try:
        assert fastnn.tensor([1 + 2j]).dtype is fastnn.complex128
        assert fastnn.full((2,), 1j).dtype is fastnn.complex128
    finally:
        fastnn.set_default_dtype(fastnn.float32)
    assert fastnn.full((2,), 1 + 1j).dtype is fastnn.complex64
    assert fastnn.tensor([1j], dtype=fastnn.cdouble).dtype is fastnn.complex128


NAMES = ["float16", "float32", "float64", "int64", "int8", "bool", "complex64", "complex128"]


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("b", ["complex64", "complex128"])
def test_promote_types(a, b):
    got = fastnn.promote_types(getattr(fastnn, a), getattr(fastnn, b))
    want = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert str(got).split(".")[1] == str(want).split(".")[1]


@pytest.mark.parametrize(
    ("lhs", "rhs"),
    [
        (np.ones(3, np.complex64), np.ones(3, np.float64)),
        (np.ones(3, np.complex64), np.ones(3, np.int64)),
        (np.ones(3, np.float32), 1j),
        (np.ones(3, np.float64), 2 + 1j),
        (np.ones(3, np.int64), 1j),
        (np.ones(3, np.complex128), np.ones((), np.complex64)),
    ],
)
def test_arithmetic_promotion(lhs, rhs):
    def op(m, a, b):
        b = m.tensor(b) if isinstance(b, np.ndarray) else b
        return m.tensor(a) * b

    _same(op(fastnn, lhs, rhs), op(torch, lhs, rhs))


def test_queries_and_item():
    x = fastnn.tensor([1 + 2j, 3 - 1j])
    assert x.is_complex() and fastnn.is_complex(x) and not x.is_floating_point()
    assert not fastnn.ones(2).is_complex()
    assert x[0].item() == 1 + 2j and isinstance(x[1].item(), complex)
    assert complex(x[1]) == 3 - 1j
    assert x.tolist() == [1 + 2j, 3 - 1j]
    assert not x.is_conj() and x.resolve_conj() is x
    assert x.type() == "fastnn.ComplexFloatTensor"


@pytest.mark.parametrize(
    "values",
    [
        [1 + 2j, 3 - 1j],
        [1.5 + 2j, 3 - 1.25j, 100],
        [[1 + 2j], [0.001j]],
        [1.0896 - 0.2075j, -1.5406 + 0.4019j, -0.7669 - 0.9890j],
        1 + 2j,
    ],
)
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_repr_as_torch(values, dtype):
    got = repr(fastnn.tensor(values, dtype=getattr(fastnn, dtype)))
    want = repr(torch.tensor(values, dtype=getattr(torch, dtype)))
    assert got == want.replace("torch.", "fastnn.")


# ---- parts and views ------------------------------------------------------------------------


def test_real_imag_are_writable_views():
    x = fastnn.tensor([1 + 2j, 3 - 1j])
    assert x.real.dtype is fastnn.float32
    x.real.mul_(10)
    x.imag[0] = 7
    assert x.tolist() == [10 + 7j, 30 - 1j]
    x.imag = fastnn.tensor([0.5, 0.25])
    x.real = fastnn.zeros(2)
    assert x.tolist() == [0.5j, 0.25j]
    r = fastnn.tensor([1.0, 2.0])
    assert r.real is r
    with pytest.raises(RuntimeError, match="non-complex"):
        _ = r.imag


def test_view_as_real_and_complex_share_storage():
    x = fastnn.tensor([[1 + 2j, 3 - 1j], [5j, -2 + 0j]])
    v = fastnn.view_as_real(x)
    assert v.shape == (2, 2, 2) and v.dtype is fastnn.float32
    v[0, 1, 1] = 9
    assert x[0, 1].item() == 3 + 9j
    back = fastnn.view_as_complex(v)
    back[1, 0] = 4 + 4j
    assert v[1, 0].tolist() == [4.0, 4.0]
    # a view of a slice whose pairs stay adjacent is accepted, as torch accepts it
    wide = fastnn.arange(24.0).reshape(3, 8)[:, 2:4]
    _same(
        fastnn.view_as_complex(wide),
        torch.view_as_complex(torch.arange(24.0).reshape(3, 8)[:, 2:4]),
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.view_as_complex(m.ones(3)),
        lambda m: m.view_as_complex(m.ones(3, 2).t()),
        lambda m: m.view_as_complex(m.ones(2, 3)),
        lambda m: m.view_as_complex(m.ones(4, 2, dtype=m.int64)),
        lambda m: m.view_as_complex(m.ones(4, 4)[:, 1:3]),
        lambda m: m.view_as_real(m.ones(3)),
        lambda m: m.complex(m.ones(3), m.ones(3, dtype=m.float64)),
        lambda m: m.complex(m.ones(3, dtype=m.int64), m.ones(3, dtype=m.int64)),
        lambda m: m.polar(m.ones(3), m.ones(3, dtype=m.float64)),
    ],
)
def test_view_and_build_errors_as_torch(make):
    with pytest.raises(Exception) as want:
        make(torch)
    with pytest.raises(type(want.value)) as got:
        make(fastnn)
    assert str(got.value) == str(want.value)


def test_complex_and_polar_values():
    re, im = RNG.standard_normal((3, 1)), RNG.standard_normal(4)
    _same(
        fastnn.complex(fastnn.tensor(re), fastnn.tensor(im)),
        torch.complex(torch.tensor(re), torch.tensor(im)),
    )
    r, th = np.abs(RNG.standard_normal(5)), RNG.standard_normal(5)
    _same(
        fastnn.polar(fastnn.tensor(r), fastnn.tensor(th)),
        torch.polar(torch.tensor(r), torch.tensor(th)),
    )


def test_cast_to_real_drops_the_imaginary_part_with_torch_warning():
    x = fastnn.tensor([1 + 2j, -3 + 1j])
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        y = x.to(fastnn.float32)
    assert y.tolist() == [1.0, -3.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fastnn.tensor([1.5]).to(fastnn.complex64).tolist() == [1.5 + 0j]


# ---- gradients ------------------------------------------------------------------------------


def _loss(o):
    """A real loss that weighs the real and imaginary parts of a result differently."""
    if o.is_complex():
        return (o * o.conj()).real.sum() + 0.5 * o.imag.sum() + 0.3 * o.real.sum()
    return (o * o).sum() + 0.7 * o.sum()


Z, W, R = _c(3, 4), _c(3, 4), RNG.standard_normal((3, 4))

GRAD_CASES = {
    "mul": (lambda m, a, b: a * b, (Z, W)),
    "mul_real": (lambda m, a, b: a * b, (Z, R)),
    "add_real": (lambda m, a, b: a + b, (Z, R)),
    "sub": (lambda m, a, b: b - a, (Z, W)),
    "div": (lambda m, a, b: a / b, (Z, W)),
    "div_real": (lambda m, a, b: b / a, (Z, R)),
    "scalar": (lambda m, a: (1 - 2j) / a + a * (2 + 1j), (Z,)),
    "real_times_scalar": (lambda m, a: a * (2 + 1j), (R,)),
    "exp": (lambda m, a: a.exp(), (Z,)),
    "log": (lambda m, a: a.log(), (Z,)),
    "sqrt": (lambda m, a: a.sqrt(), (Z,)),
    "rsqrt": (lambda m, a: a.rsqrt(), (Z,)),
    "sin": (lambda m, a: a.sin(), (Z,)),
    "cos": (lambda m, a: a.cos(), (Z,)),
    "tan": (lambda m, a: a.tan(), (Z,)),
    "tanh": (lambda m, a: a.tanh(), (Z,)),
    "sigmoid": (lambda m, a: a.sigmoid(), (Z,)),
    "acosh": (lambda m, a: a.acosh(), (Z,)),
    "log1p": (lambda m, a: a.log1p(), (Z,)),
    "pow2": (lambda m, a: a**2, (Z,)),
    "pow5": (lambda m, a: a**5, (Z,)),
    "pow_tensor": (lambda m, a, b: a**b, (Z, W)),
    "abs": (lambda m, a: a.abs(), (Z,)),
    "angle": (lambda m, a: a.angle(), (Z,)),
    "sgn": (lambda m, a: a.sgn(), (Z,)),
    "real": (lambda m, a: a.real, (Z,)),
    "imag": (lambda m, a: a.imag, (Z,)),
    "conj": (lambda m, a: a.conj() * a.conj(), (Z,)),
    "conj_physical": (lambda m, a: a.conj_physical() * a, (Z,)),
    "view_as_real": (lambda m, a: m.view_as_real(a), (Z,)),
    "view_as_complex": (lambda m, a: m.view_as_complex(a), (RNG.standard_normal((3, 2)),)),
    "complex": (lambda m, a, b: m.complex(a, b), (R, R[0])),
    "polar": (lambda m, a, b: m.polar(a, b), (np.abs(R), R)),
    "cast": (lambda m, a: a.to(m.complex128) * (1 + 2j), (R,)),
    "matmul": (lambda m, a, b: a @ b.T, (Z, W)),
    "matmul_transposed": (lambda m, a, b: a.transpose(0, 1) @ b, (Z, W)),
    "mH": (lambda m, a: a.mH @ a, (Z,)),
    "bmm": (lambda m, a, b: a[None].bmm(b.T[None]), (Z, W)),
    "linear": (lambda m, a, b: m.nn.functional.linear(a, b, b[0, :3]), (Z, W)),
    "einsum": (lambda m, a, b: m.einsum("ij,kj->ik", a, b), (Z, W)),
    "sum": (lambda m, a: a.sum(1), (Z,)),
    "mean": (lambda m, a: a.mean(), (Z,)),
    "prod": (lambda m, a: a.prod(1), (Z,)),
    "cumprod": (lambda m, a: a.cumprod(1), (Z,)),
    "var": (lambda m, a: a.var(1), (Z,)),
    "norm": (lambda m, a: a.norm(), (Z,)),
    "vector_norm": (lambda m, a: m.linalg.vector_norm(a, dim=1), (Z,)),
    "vdot": (lambda m, a, b: m.vdot(a[0], b[1]), (Z, W)),
    "logsumexp": (lambda m, a: a.logsumexp(1), (Z,)),
    "index_cat": (lambda m, a, b: m.cat([a[1:, ::2], b[:2, 1:3]]).T, (Z, W)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_match_torch(name):
    fn, arrays = GRAD_CASES[name]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    fs = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    want, got = fn(torch, *ts), fn(fastnn, *fs)
    _same(got, want)
    _loss(want).backward()
    _loss(got).backward()
    for f, t in zip(fs, ts):
        _same(f.grad, t.grad)


def test_backward_of_a_complex_scalar_raises_torch_error():
    z = fastnn.tensor([1 + 1j, 2j], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for real scalar outputs"):
        z.sum().backward()
    z.sum().backward(fastnn.tensor(1 + 0j))  # an explicit gradient is accepted, as in torch
    assert z.grad.tolist() == [1 + 0j, 1 + 0j]


def test_complex_tensors_may_require_grad_and_ints_still_may_not():
    assert fastnn.zeros(2, dtype=fastnn.complex64).requires_grad_().requires_grad
    with pytest.raises(RuntimeError, match="floating point and complex"):
        fastnn.zeros(2, dtype=fastnn.int64).requires_grad_()


# ---- real-only ops refuse complex input, as torch does ---------------------------------------

REFUSED = {
    "max": lambda m, x: x.max(),
    "min_dim": lambda m, x: x.min(1),
    "argmax": lambda m, x: x.argmax(),
    "sort": lambda m, x: x.sort(),
    "topk": lambda m, x: x.topk(2),
    "unique": lambda m, x: x.unique(),
    "clamp": lambda m, x: x.clamp(0, 1),
    "relu": lambda m, x: m.relu(x),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x),
    "maximum": lambda m, x: m.maximum(x, x),
    "lt": lambda m, x: x < 2 * x,
    "ge_number": lambda m, x: x >= 1,
    "floor": lambda m, x: x.floor(),
    "round": lambda m, x: x.round(),
    "sign": lambda m, x: x.sign(),
    "floor_divide": lambda m, x: x // 2,
    "remainder": lambda m, x: x % 2,
    "erf": lambda m, x: x.erf(),
    "atan2": lambda m, x: m.atan2(x, x),
    "mse_loss": lambda m, x: m.nn.functional.mse_loss(x, x),
    "cummax": lambda m, x: x.cummax(0),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_real_only_ops_refuse_complex(name):
    z = np.array([[1 + 2j, -3 + 0.5j, 2j], [0.5, -1j, 4 + 4j]], np.complex64)
    x = fastnn.tensor(z)
    before = x.tolist()
    with pytest.raises(Exception) as want:
        REFUSED[name](torch, torch.tensor(z))
    with pytest.raises(type(want.value)) as got:
        REFUSED[name](fastnn, x)
    assert str(got.value).strip() == str(want.value).strip()
    assert x.tolist() == before


def test_real_tensors_keep_their_real_only_ops():
    x = fastnn.tensor([3.0, -1.0, 2.0])
    assert x.max().item() == 3.0 and x.sort().values.tolist() == [-1.0, 2.0, 3.0]
    assert (x < 2).tolist() == [False, True, False]
    assert x.clamp(0, 2).tolist() == [2.0, 0.0, 2.0]


# ---- creation and optimizers ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_random_complex_tensors_fill_both_parts(dtype):
    fastnn.manual_seed(3)
    z = fastnn.randn(20000, dtype=getattr(fastnn, dtype))
    assert z.dtype is getattr(fastnn, dtype) and z.shape == (20000,)
    # torch's complex normal: unit variance in all, half of it in each part
    assert abs(z.real.var().item() - 0.5) < 0.03 and abs(z.imag.var().item() - 0.5) < 0.03
    assert abs((z.real * z.imag).mean().item()) < 0.03
    u = fastnn.rand(2, 5000, dtype=getattr(fastnn, dtype))
    for part in (u.real, u.imag):
        assert 0 <= part.min().item() and part.max().item() < 1
        assert abs(part.mean().item() - 0.5) < 0.03


OPTIMIZERS = [
    ("Adam", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("Adagrad", {"lr": 0.1}),
    ("NAdam", {"lr": 0.05}),
    ("Rprop", {}),
]


@pytest.mark.parametrize(("name", "kw"), OPTIMIZERS)
def test_optimizers_step_complex_parameters_as_torch(name, kw):
    w0, x = _c(3, 4), _c(5, 3)
    results = []
    for m in (torch, fastnn):
        p = m.nn.Parameter(m.tensor(w0))
        opt = getattr(m.optim, name)([p], **kw)
        for _ in range(4):
            opt.zero_grad()
            loss = ((m.tensor(x) @ p).abs() ** 2).mean() + p.real.sum() - 0.5 * p.imag.mean()
            loss.backward()
            opt.step()
        results.append(p)
    assert results[1].dtype is fastnn.complex128
    _same(results[1], results[0])


def test_checkpoints_carry_complex_tensors_to_and_from_torch(tmp_path):
    z = _c(2, 3).astype(np.complex64)
    torch.save({"w": torch.tensor(z)}, tmp_path / "t.pt")
    got = fastnn.load(tmp_path / "t.pt")["w"]
    assert got.dtype is fastnn.complex64 and np.array_equal(got.numpy(), z)
    fastnn.serialization.save_torch({"w": fastnn.tensor(z).conj()}, tmp_path / "f.pt")
    back = torch.load(tmp_path / "f.pt", weights_only=True)["w"]
    assert back.dtype == torch.complex64 and np.array_equal(back.numpy(), z.conj())


# ---- in-place writes through the part views while recording --------------------------------


def _write_real(m, a, b):
    z = a * 2
    z.real.mul_(3)
    return z


def _write_imag(m, a, b):
    z = a * (1 + 1j)
    z.imag.add_(b)
    return z


def _write_real_view(m, a, b):
    z = a * a
    m.view_as_real(z).mul_(2)
    return z


def _write_complex_view(m, a, b):
    r = m.view_as_real(a) * 1.5
    m.view_as_complex(r).mul_(1j)
    return r


def _base_then_real_view(m, a, b):
    z = a * 1
    v = z.real
    z.mul_(2j)
    return v * 3


def _base_then_imag_view(m, a, b):
    z = a * 1
    v = z.imag
    z.add_(b)
    return v.exp()


INPLACE_PARTS = {
    "real": _write_real,
    "imag": _write_imag,
    "view_as_real": _write_real_view,
    "view_as_complex": _write_complex_view,
    "base_then_real_view": _base_then_real_view,
    "base_then_imag_view": _base_then_imag_view,
}


@pytest.mark.parametrize("name", sorted(INPLACE_PARTS))
def test_inplace_through_part_views_records_as_torch(name):
    a0 = np.array([[1 + 2j, 3 - 1j], [0.5j, -2 + 1j]])
    b0 = np.array([[0.3, -1.2], [2.0, 0.7]])
    results = []
    for m in (torch, fastnn):
        a, b = m.tensor(a0, requires_grad=True), m.tensor(b0, requires_grad=True)
        out = INPLACE_PARTS[name](m, a, b)
        _loss(out).backward()
        results.append((out, a.grad, b.grad))
    (ot, at, bt), (of, af, bf) = results
    _same(of, ot)
    _same(af, at)
    assert (bf is None) == (bt is None)
    if bt is not None:
        _same(bf, bt)


def test_inplace_on_a_leaf_part_or_a_nested_part_view_raises():
    a = fastnn.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        a.real.mul_(2)
    z = a * 2
    with pytest.raises(RuntimeError, match=r"z\[0\]\.real"):
        z[0].real.mul_(2)
    assert z.tolist() == [2 + 4j, 6 - 2j]  # the refused write changed nothing


def test_in_place_random_fills_reach_both_parts():
    fastnn.manual_seed(5)
    w = fastnn.empty(20000, dtype=fastnn.complex64)
    w.normal_(0, 2)  # torch's complex normal: std / sqrt(2) in each part
    assert abs(w.real.std().item() - 2**0.5) < 0.05 and abs(w.imag.std().item() - 2**0.5) < 0.05
    w.uniform_(-1, 3)
    for part in (w.real, w.imag):
        assert -1 <= part.min().item() and part.max().item() < 3
        assert abs(part.mean().item() - 1) < 0.05


def test_complex_linear_layer_as_torch():
    lt = torch.nn.Linear(4, 2, dtype=torch.cdouble)
    lf = fastnn.nn.Linear(4, 2, dtype=fastnn.cdouble)
    assert lf.weight.dtype is fastnn.complex128 and lf.weight.imag.abs().sum().item() > 0
    lf.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in lt.state_dict().items()})
    x = _c(3, 4)
    yt, yf = lt(torch.tensor(x)), lf(fastnn.tensor(x))
    _same(yf, yt)
    _loss(yt).backward()
    _loss(yf).backward()
    _same(lf.weight.grad, lt.weight.grad)
    _same(lf.bias.grad, lt.bias.grad)
    with pytest.raises(TypeError, match="floating dtype"):
        fastnn.nn.Conv1d(2, 2, 3, dtype=fastnn.cfloat)  # the conv kernels are real-only


def test_result_type_finfo_and_where_with_complex():
    for m_dtype in ("float32", "float64", "int64"):
        got = fastnn.result_type(fastnn.ones(2, dtype=getattr(fastnn, m_dtype)), 1j)
        want = torch.result_type(torch.ones(2, dtype=getattr(torch, m_dtype)), 1j)
        assert str(got).split(".")[1] == str(want).split(".")[1]
    for name in ("complex64", "complex128"):
        got, want = fastnn.finfo(getattr(fastnn, name)), torch.finfo(getattr(torch, name))
        assert (got.eps, got.max, got.tiny, got.dtype) == (
            want.eps,
            want.max,
            want.tiny,
            want.dtype,
        )
    _same(
        fastnn.where(fastnn.tensor([True, False]), fastnn.ones(2), 1j),
        torch.where(torch.tensor([True, False]), torch.ones(2), 1j),
    )
