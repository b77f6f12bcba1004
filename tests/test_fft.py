"""fastnn.fft, stft and istft against torch: values and dtypes on awkward sizes, every norm,
n / s padding and cutting, negative dims; gradients in float64 (against torch, and for the
real transforms against finite differences); torch's errors; and a Fourier-layer model trained
with Adam step by step beside torch."""

import warnings

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)
NORMS = [None, "ortho", "forward"]


def _np(t):
    t = t.detach()
    if hasattr(t, "resolve_conj"):
        t = t.resolve_conj()
    return t.numpy()


def _same(got, want, atol=1e-9, rtol=1e-7):
    g, w = _np(got), _np(want)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    assert g.shape == w.shape, (g.shape, w.shape)
    np.testing.assert_allclose(g, w, atol=atol, rtol=rtol)


def _data(shape, kind):
    if kind == "complex":
        return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    return RNG.standard_normal(shape)


def _loss(o):
    """A real loss that weighs the real and imaginary parts differently (and is not symmetric
    under conjugation), so a gradient with a wrong sign or a missing conjugate shows."""
    w = torch if isinstance(o, torch.Tensor) else fastnn
    ramp = w.arange(o.numel(), dtype=w.float64).reshape(o.shape) / o.numel()
    if o.is_complex():
        return (o.real * ramp).sum() + (o.imag * o.imag).sum() - 0.5 * (o.imag * ramp).sum()
    return (o * ramp).sum() + (o * o).sum()


def _compare(fn, x, **kw):
    t = torch.tensor(x, requires_grad=True)
    f = fastnn.tensor(x, requires_grad=True)
    want, got = getattr(torch.fft, fn)(t, **kw), getattr(fastnn.fft, fn)(f, **kw)
    _same(got, want)
    _loss(want).backward()
    _loss(got).backward()
    _same(f.grad, t.grad)


# ---- one-dimensional -----------------------------------------------------------------------

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
REAL_IN = {"rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn"}


@pytest.mark.parametrize("fn", ONE_D)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("size", [1, 8, 33])
def test_1d_values_and_gradients(fn, norm, size):
    if fn in ("irfft", "hfft") and size == 1:
        pytest.skip("the default output length 2 (1 - 1) is 0: covered by the error tests")
    kind = "real" if fn in REAL_IN else "complex"
    _compare(fn, _data((3, size), kind), norm=norm)


@pytest.mark.parametrize("fn", ONE_D)
@pytest.mark.parametrize("n", [1, 5, 6, 12])
@pytest.mark.parametrize("dim", [0, -2])
def test_1d_n_pads_or_cuts_along_dim(fn, n, dim):
    kind = "real" if fn in REAL_IN else "complex"
    _compare(fn, _data((4, 9, 3), kind), n=n, dim=dim, norm="ortho" if n % 2 else "backward")


@pytest.mark.parametrize("fn", ["fft", "ifft", "hfft"])
def test_real_input_to_a_complex_transform(fn):
    _compare(fn, _data((2, 6), "real"), n=10)


@pytest.mark.parametrize(
    ("fn", "dtype", "want"),
    [
        ("fft", np.float32, "complex64"),
        ("fft", np.float64, "complex128"),
        ("fft", np.int64, "complex64"),
        ("fft", np.bool_, "complex64"),
        ("ifft", np.complex64, "complex64"),
        ("rfft", np.float32, "complex64"),
        ("rfft", np.int32, "complex64"),
        ("irfft", np.complex64, "float32"),
        ("irfft", np.float32, "float32"),
        ("hfft", np.complex128, "float64"),
        ("ihfft", np.float32, "complex64"),
    ],
)
def test_result_dtypes(fn, dtype, want):
    x = (RNG.standard_normal((2, 6)) * 3).astype(dtype)
    got = getattr(fastnn.fft, fn)(fastnn.tensor(x))
    ref = getattr(torch.fft, fn)(torch.tensor(x))
    assert str(got.dtype) == f"fastnn.{want}" == str(ref.dtype).replace("torch", "fastnn")
    np.testing.assert_allclose(_np(got), _np(ref), rtol=1e-5, atol=1e-5)


# ---- several dimensions ---------------------------------------------------------------------

N_D = ["fft2", "ifft2", "fftn", "ifftn", "rfft2", "irfft2", "rfftn", "irfftn"]
N_D += ["hfft2", "ihfft2", "hfftn", "ihfftn"]


@pytest.mark.parametrize("fn", N_D)
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"norm": "forward", "dim": (0, -1)},
        {"s": (5, 4), "norm": "ortho"},
        {"s": (3, -1), "dim": (-1, 0)},
        {"s": (2, 7, 3), "dim": (1, 0, 2)},
    ],
)
def test_nd_values_and_gradients(fn, kw):
    if fn.endswith("2") and len(kw.get("s", ())) == 3:
        kw = {**kw, "s": kw["s"][:2], "dim": kw["dim"][:2]}
    kind = "real" if fn in REAL_IN else "complex"
    _compare(fn, _data((3, 4, 5), kind), **kw)


def test_fftn_without_dims_transforms_every_dim():
    x = _data((2, 3, 4), "complex")
    _same(fastnn.fft.fftn(fastnn.tensor(x)), torch.fft.fftn(torch.tensor(x)))
    _same(fastnn.fft.fftn(fastnn.tensor(x), s=(5, 6)), torch.fft.fftn(torch.tensor(x), s=(5, 6)))


def _finite_difference(f, x, eps=1e-6):
    """d sum(w * f(x)) / dx by central differences, for a real function of a real array."""
    w = np.linspace(0.5, 1.5, f(x).size).reshape(f(x).shape)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (np.sum(w * f(up)) - np.sum(w * f(down))) / (2 * eps)
    return w, grad


@pytest.mark.parametrize("n", [6, 7])
@pytest.mark.parametrize("m", [3, 4, 5])
def test_irfft_gradient_by_finite_differences(n, m):
    """The Hermitian bookkeeping of irfft's gradient (doubled middle bins, the ignored imaginary
    parts of bin 0 and of the Nyquist bin) checked without torch: the spectrum as a real
    (m, 2) array, differentiated numerically."""
    x = RNG.standard_normal((m, 2))

    def f(a):
        return np.fft.irfft(a[:, 0] + 1j * a[:, 1], n)

    w, want = _finite_difference(f, x)
    z = fastnn.view_as_complex(fastnn.tensor(x)).detach().requires_grad_()
    (fastnn.fft.irfft(z, n) * fastnn.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(fastnn.view_as_real(z.grad)), want, atol=1e-6)


@pytest.mark.parametrize("n", [4, 5, 9])
def test_rfft_gradient_by_finite_differences(n):
    x = RNG.standard_normal(7)

    def f(a):
        y = np.fft.rfft(a, n, norm="ortho")
        return np.concatenate([y.real, 0.3 * y.imag])

    w, want = _finite_difference(f, x)
    t = fastnn.tensor(x, requires_grad=True)
    y = fastnn.fft.rfft(t, n, norm="ortho")
    k = y.shape[0]
    loss = (y.real * fastnn.tensor(w[:k])).sum() + 0.3 * (y.imag * fastnn.tensor(w[k:])).sum()
    loss.backward()
    np.testing.assert_allclose(_np(t.grad), want, atol=1e-6)


GRADCHECK = {
    "fft_n7": (lambda x: fastnn.fft.fft(x, n=7), "complex"),
    "ifft_cut": (lambda x: fastnn.fft.ifft(x, n=3, norm="ortho"), "complex"),
    "rfft_n5": (lambda x: fastnn.fft.rfft(x, n=5), "real"),
    "irfft_n8": (lambda x: fastnn.fft.irfft(x, n=8), "complex"),
    "irfft_n9": (lambda x: fastnn.fft.irfft(x, n=9, norm="forward"), "complex"),
    "hfft": (lambda x: fastnn.fft.hfft(x), "complex"),
    "ihfft": (lambda x: fastnn.fft.ihfft(x, n=4), "real"),
    "rfft2": (lambda x: fastnn.fft.rfft2(x, s=(3, 4)), "real"),
    "irfftn": (lambda x: fastnn.fft.irfftn(x, s=(3, 6)), "complex"),
    "hfft2": (lambda x: fastnn.fft.hfft2(x, norm="ortho"), "complex"),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck_by_finite_differences(name):
    """Each transform's gradient against central differences along every real direction of
    its input (both parts of a complex one): no torch involved."""
    fn, kind = GRADCHECK[name]
    x = fastnn.tensor(_data((2, 5), kind), requires_grad=True)
    assert fastnn.autograd.gradcheck(fn, (x,))


def test_gradcheck_catches_a_wrong_complex_gradient():
    z = fastnn.tensor(_data((2, 3), "complex"), requires_grad=True)
    with pytest.raises(fastnn.autograd.GradcheckError, match="Jacobian mismatch"):
        fastnn.autograd.gradcheck(lambda t: t.real.detach() * t, (z,))


# ---- frequencies and shifts -----------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 4, 5, 8])
@pytest.mark.parametrize("d", [1.0, 0.5, 3])
def test_frequencies(n, d):
    _same(fastnn.fft.fftfreq(n, d), torch.fft.fftfreq(n, d))
    _same(fastnn.fft.rfftfreq(n, d), torch.fft.rfftfreq(n, d))
    _same(
        fastnn.fft.fftfreq(n, d, dtype=fastnn.float64), torch.fft.fftfreq(n, d, dtype=torch.float64)
    )


@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("shape", [(5,), (4, 7), (3, 1, 6)])
def test_shifts(dim, shape):
    if dim is not None and len(shape) == 1 and dim not in (0, -1):
        pytest.skip("a 1-D tensor has one dim")
    x = RNG.standard_normal(shape)
    for name in ("fftshift", "ifftshift"):
        t = torch.tensor(x, requires_grad=True)
        f = fastnn.tensor(x, requires_grad=True)
        want = getattr(torch.fft, name)(t, dim=dim)
        got = getattr(fastnn.fft, name)(f, dim=dim)
        _same(got, want)
        _loss(want).backward()
        _loss(got).backward()
        _same(f.grad, t.grad)
    y = fastnn.tensor(x)
    back = fastnn.fft.ifftshift(fastnn.fft.fftshift(y, dim=dim), dim=dim)
    assert np.array_equal(_np(back), x)


# ---- errors ---------------------------------------------------------------------------------

ERRORS = {
    "bad norm": lambda m: m.fft.fft(m.ones(4), norm="bad"),
    "bad dim": lambda m: m.fft.fft(m.ones(4), dim=3),
    "bad negative dim": lambda m: m.fft.rfft(m.ones(2, 4), dim=-3),
    "fft2 of 1-D": lambda m: m.fft.fft2(m.ones(4)),
    "n zero": lambda m: m.fft.fft(m.ones(4), n=0),
    "irfft of one bin": lambda m: m.fft.irfft(m.ones(1, dtype=m.complex64)),
    "half input": lambda m: m.fft.fft(m.ones(4, dtype=m.float16)),
    "rfft complex": lambda m: m.fft.rfft(m.ones(4, dtype=m.complex64)),
    "ihfft complex": lambda m: m.fft.ihfft(m.ones(4, dtype=m.complex128)),
    "repeated dims": lambda m: m.fft.fftn(m.ones(4, 4), dim=(0, 0)),
    "s and dim lengths": lambda m: m.fft.fftn(m.ones(4, 4), s=(3,), dim=(0, 1)),
    "s too long": lambda m: m.fft.fftn(m.ones(4, 4), s=(3, 3, 3)),
    "s zero": lambda m: m.fft.rfftn(m.ones(4, 4), s=(0, 3)),
    "0-d input": lambda m: m.fft.fft(m.tensor(2.0)),
    "rfftn of 0-d": lambda m: m.fft.rfftn(m.tensor(2.0)),
    "shift of 0-d": lambda m: m.fft.fftshift(m.tensor(2.0)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_torch(name):
    with pytest.raises(Exception) as want:
        ERRORS[name](torch)
    with pytest.raises(type(want.value)) as got:
        ERRORS[name](fastnn)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.fft.fft(m.ones(3), n=2.0),
        lambda m: m.fft.fft(m.ones(3), dim=(0,)),
        lambda m: m.fft.rfft2(m.ones(3, 3), s=(2.5, 2)),
        lambda m: m.fft.fft([1.0, 2.0]),
    ],
)
def test_argument_types_as_torch(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError, match="must be"):
        call(fastnn)


def test_nothing_to_transform_gives_a_complex_copy():
    for x in (fastnn.tensor(2.0), fastnn.ones(3)):
        y = fastnn.fft.fftn(x, dim=None if x.ndim == 0 else ())
        assert y.dtype is fastnn.complex64 and y.tolist() == x.tolist()
    z = fastnn.ones(2, dtype=fastnn.complex64)
    assert fastnn.fft.fftn(z, dim=()) is not z


def test_a_failed_call_leaves_its_input_alone():
    x = fastnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        fastnn.fft.fft(x, norm="Ortho")
    assert x.tolist() == [1.0, 2.0, 3.0] and x.grad is None


def test_out_argument():
    x = fastnn.tensor(_data((2, 5), "real"))
    out = fastnn.empty(0, dtype=fastnn.complex128)
    assert fastnn.fft.rfft(x, out=out) is out
    _same(out, torch.fft.rfft(torch.tensor(_np(x))))
    with pytest.raises(RuntimeError, match="dtype"):
        fastnn.fft.rfft(x, out=fastnn.empty(0))


# ---- stft / istft ---------------------------------------------------------------------------

STFT_CASES = [
    {"n_fft": 8},
    {"n_fft": 8, "hop_length": 3, "win_length": 6, "window": "hann"},
    {"n_fft": 7, "center": False, "window": "hamming"},
    {"n_fft": 8, "normalized": True, "onesided": False, "window": "hann"},
    {"n_fft": 8, "pad_mode": "constant", "window": "blackman"},
    {"n_fft": 6, "pad_mode": "replicate", "hop_length": 1},
    {"n_fft": 8, "pad_mode": "circular", "hop_length": 5},
    {"n_fft": 8, "win_length": 5},  # no window: a centred rectangle of win_length
]


def _window(m, kw):
    kw = dict(kw)
    name = kw.pop("window", None)
    if name is not None:
        length = kw.get("win_length", kw["n_fft"])
        kw["window"] = getattr(m, f"{name}_window")(length, dtype=m.float64)
    return kw


@pytest.mark.parametrize("kw", STFT_CASES)
@pytest.mark.parametrize("shape", [(40,), (2, 37)])
def test_stft_values_and_gradient(kw, shape):
    x = RNG.standard_normal(shape)
    t = torch.tensor(x, requires_grad=True)
    f = fastnn.tensor(x, requires_grad=True)
    want = torch.stft(t, return_complex=True, **_window(torch, kw))
    got = fastnn.stft(f, return_complex=True, **_window(fastnn, kw))
    _same(got, want)
    _loss(want).backward()
    _loss(got).backward()
    _same(f.grad, t.grad)
    method = f.detach().stft(return_complex=True, **_window(fastnn, kw))
    _same(method, want)


@pytest.mark.parametrize("kw", [c for c in STFT_CASES if "window" in c or "win_length" in c])
@pytest.mark.parametrize("length", [None, 30, 45])
def test_istft_inverts_stft_with_gradient(kw, length):
    x = RNG.standard_normal((2, 37))
    ikw = {k: v for k, v in kw.items() if k != "pad_mode"}
    spec_t = torch.stft(torch.tensor(x), return_complex=True, **_window(torch, kw))
    spec = _np(spec_t)
    t = torch.tensor(spec, requires_grad=True)
    f = fastnn.tensor(spec, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's and our warning when length exceeds the signal
        try:
            want = torch.istft(t, length=length, **_window(torch, ikw))
        except RuntimeError as e:  # the window's zeros reach into the requested length
            assert "window overlap add min" in str(e)
            with pytest.raises(RuntimeError, match="window overlap add min"):
                fastnn.istft(f, length=length, **_window(fastnn, ikw))
            return
        got = fastnn.istft(f, length=length, **_window(fastnn, ikw))
    _same(got, want)
    _loss(want).backward()
    _loss(got).backward()
    _same(f.grad, t.grad)
    if length is None and kw.get("center", True) and kw.get("hop_length", 2) <= 3:
        np.testing.assert_allclose(_np(got), x[:, : got.shape[-1]], atol=1e-9)


STFT_ERRORS = {
    "no return_complex": lambda m: m.stft(m.ones(40), 8),
    "hop zero": lambda m: m.stft(m.ones(40), 8, hop_length=0, return_complex=True),
    "win too long": lambda m: m.stft(m.ones(40), 8, win_length=9, return_complex=True),
    "window size": lambda m: m.stft(m.ones(40), 8, window=m.ones(7), return_complex=True),
    "3-D input": lambda m: m.stft(m.ones(2, 2, 10), 8, return_complex=True),
    "reflect too short": lambda m: m.stft(m.ones(40), 80, return_complex=True),
    "istft real input": lambda m: m.istft(m.ones(5, 21), 8),
    "istft onesided complex": lambda m: m.istft(
        m.ones(5, 21, dtype=m.complex64), 8, window=m.hann_window(8), return_complex=True
    ),
}


@pytest.mark.parametrize("name", sorted(STFT_ERRORS))
def test_stft_errors_as_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as want:
            STFT_ERRORS[name](torch)
        with pytest.raises(type(want.value)) as got:
            STFT_ERRORS[name](fastnn)
    assert str(got.value).split(" : ")[-1] == str(want.value).split(" : ")[-1]


def test_stft_return_complex_false_warns_and_gives_the_real_view():
    x = RNG.standard_normal(33)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        got = fastnn.stft(fastnn.tensor(x), 8, return_complex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.stft(torch.tensor(x), 8, return_complex=False)
    _same(got, want)


def test_istft_raises_where_the_window_overlap_vanishes():
    spec = fastnn.stft(fastnn.ones(40), 8, window=fastnn.hann_window(8), return_complex=True)
    with pytest.raises(RuntimeError, match="window overlap add min"):
        fastnn.istft(spec, 8, window=fastnn.zeros(8))


# ---- a program: a 1-D Fourier layer trained beside torch ------------------------------------


def _spectral_model(m, w_real, w_lin, modes):
    class SpectralConv(m.nn.Module):
        """rfft, keep the lowest modes, multiply by complex weights held as real (.., 2)
        parameters, irfft back; plus a pointwise linear path, as a Fourier neural operator."""

        def __init__(self):
            super().__init__()
            self.weight = m.nn.Parameter(m.tensor(w_real))
            self.lin = m.nn.Linear(w_lin.shape[1], w_lin.shape[0], bias=False)
            with m.no_grad():
                self.lin.weight.copy_(m.tensor(w_lin))

        def forward(self, x):  # x: (batch, channels, length)
            n = x.shape[-1]
            spec = m.fft.rfft(x, norm="ortho")
            w = m.view_as_complex(self.weight)  # (in, out, modes)
            low = m.einsum("bim,iom->bom", spec[..., :modes], w)
            rest = m.zeros((x.shape[0], w.shape[1], spec.shape[-1] - modes), dtype=low.dtype)
            y = m.fft.irfft(m.cat([low, rest], -1), n=n, norm="ortho")
            z = self.lin(x.transpose(1, 2)).transpose(1, 2)
            return m.tanh(y + z)

    return SpectralConv()


def test_fourier_layer_trains_as_torch():
    modes, cin, cout, length = 4, 3, 2, 17
    w_real = RNG.standard_normal((cin, cout, modes, 2)) * 0.5
    w_lin = RNG.standard_normal((cout, cin)) * 0.3
    xs = RNG.standard_normal((5, 2, cin, length))
    ys = RNG.standard_normal((5, 2, cout, length))
    models, opts = [], []
    for m in (torch, fastnn):
        model = _spectral_model(m, w_real, w_lin, modes).double()
        models.append(model)
        opts.append(m.optim.Adam(model.parameters(), lr=0.05))
    for x, y in zip(xs, ys):
        losses = []
        for m, model, opt in zip((torch, fastnn), models, opts):
            opt.zero_grad()
            loss = ((model(m.tensor(x)) - m.tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert abs(losses[0] - losses[1]) < 1e-10, losses
        for pt, pf in zip(models[0].parameters(), models[1].parameters()):
            np.testing.assert_allclose(_np(pf), _np(pt), atol=1e-10)


def test_device_tensors_are_refused_clearly(monkeypatch):
    """Complex storage exists on the CPU only: the transforms say so for a CUDA tensor (the
    numpy emulation of the CUDA bindings stands in for a GPU), while fftshift, a roll, runs
    on the device."""
    import _fake_cuda
    from fastnn import _devices

    be = _devices.cuda_module()
    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(_devices._BY_TYPE, _fake_cuda.DeviceArray, be)
    x = fastnn.Tensor._make(be.from_numpy(np.arange(8.0).reshape(2, 4)))
    for call in (
        lambda: fastnn.fft.fft(x),
        lambda: fastnn.fft.rfft2(x),
        lambda: fastnn.stft(x[0], 4, return_complex=True),
        lambda: fastnn.complex(x, x),
    ):
        with pytest.raises(RuntimeError, match="CPU"):
            call()
    shifted = fastnn.fft.fftshift(x, dim=1)
    assert shifted.device.type == "cuda"
    assert be.to_numpy(shifted._data).tolist() == [[2, 3, 0, 1], [6, 7, 4, 5]]


# ---- second derivatives (create_graph=True) -------------------------------------------------


def _second_order_program(m, name, x, w):
    fft = m.fft
    if name == "angle_abs":
        z = x * w
        loss = (z.angle() * x).sum() + z.abs().sum()
    elif name == "view_as_real":
        z = m.view_as_real(x * w)
        loss = (z**3).sum()
    elif name == "view_as_complex":
        z = m.view_as_complex(m.stack([x, x * x], -1)) * w
        loss = (z.real**2 + z.imag**3).sum()
    elif name == "rfft":
        z = fft.rfft(x * x, n=8, norm="ortho")
        loss = (z.abs() ** 2).sum() + z.real.sum()
    elif name == "irfft":
        loss = (fft.irfft(w * x, n=9) ** 3).sum()
    elif name == "fft2":
        y = fft.fft2(x * w, s=(4, 5))
        loss = (y * y).real.sum()
    elif name == "ifftn_real":
        loss = (fft.ifftn(x * x, norm="forward").abs() ** 3).sum()
    else:  # stft then istft
        win = m.hann_window(4, dtype=m.float64)
        spec = m.stft(x[0].repeat(4), 4, hop_length=1, window=win, return_complex=True)
        y = m.istft(spec * spec.abs(), 4, hop_length=1, window=win, length=24)
        loss = (y**2).sum()
    return loss + (w * w * x).real.sum()


@pytest.mark.parametrize(
    "name",
    ["angle_abs", "view_as_real", "view_as_complex", "rfft", "irfft", "fft2", "ifftn_real", "stft"],
)
def test_second_derivatives_as_torch(name):
    """A gradient penalty through the transforms and the complex views: the first gradient is
    recorded (create_graph) and differentiated again, in both libraries."""
    x0, w0 = _data((3, 6), "real"), _data((3, 6), "complex")
    results = []
    for m in (torch, fastnn):
        x, w = m.tensor(x0, requires_grad=True), m.tensor(w0, requires_grad=True)
        gx, gw = m.autograd.grad(_second_order_program(m, name, x, w), [x, w], create_graph=True)
        ((gx * gx).sum() + (gw * gw.conj()).real.sum()).backward()
        results.append((gx, gw, x.grad, w.grad))
    for got, want in zip(results[1], results[0]):
        _same(got, want, atol=1e-7)
