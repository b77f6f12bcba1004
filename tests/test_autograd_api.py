"""The user-facing autograd API: torch-style ``autograd.Function`` subclasses, ``autograd.grad``,
grad-mode decorators and ``inference_mode``, tensor hooks; each against torch where installed
and against finite differences (``gradcheck``, float64)."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import Function, gradcheck


def t64(rng, *shape):
    return fastnn.tensor(rng.standard_normal(shape), dtype=fastnn.float64, requires_grad=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---- custom Functions ----------------------------------------------------------------------------


class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class MyLinear(Function):
    """x @ w.T + b, with ``b`` optional and the gradients computed only where needed."""

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w, b)
        out = x @ w.t()
        return out if b is None else out + b

    @staticmethod
    def backward(ctx, g):
        x, w, b = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = g @ w
        if ctx.needs_input_grad[1]:
            gw = g.t() @ x
        if b is not None and ctx.needs_input_grad[2]:
            gb = g.sum(0)
        return gx, gw, gb


class SinCos(Function):
    """Two outputs; backward gets one gradient per output."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, gs, gc):
        (x,) = ctx.saved_tensors
        return gs * x.cos() - gc * x.sin()


class Scale(Function):
    """A non-tensor argument and an attribute kept on ctx."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


class SortLike(Function):
    """Values (differentiable) and an index tensor marked non-differentiable."""

    @staticmethod
    def forward(ctx, x):
        idx = x.argmax(-1)
        top = x.amax(-1)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(x, idx)
        return top, idx

    @staticmethod
    def backward(ctx, g, g_idx):
        x, idx = ctx.saved_tensors
        assert g_idx is not None and float(g_idx.abs().sum()) == 0  # materialized zeros
        onehot = (fastnn.arange(x.shape[-1]) == idx.unsqueeze(-1)).double()
        return onehot * g.unsqueeze(-1)


def test_custom_exp_matches_exp_and_gradcheck(rng):
    x = t64(rng, 3, 4)
    y = MyExp.apply(x)
    assert y.requires_grad and type(y.grad_fn).__name__ == "MyExpBackward"
    np.testing.assert_allclose(y.detach().numpy(), np.exp(x.detach().numpy()))
    assert gradcheck(MyExp.apply, (x,))


def test_custom_linear_none_grads_and_gradcheck(rng):
    x, w, b = t64(rng, 4, 3), t64(rng, 2, 3), t64(rng, 2)
    assert gradcheck(MyLinear.apply, (x, w, b))
    assert gradcheck(lambda x, w: MyLinear.apply(x, w), (x, w))
    xc = x.detach()  # no grad for x: backward skips it
    MyLinear.apply(xc, w, b).sum().backward()
    assert xc.grad is None and w.grad is not None and b.grad is not None


def test_custom_functions_match_torch(rng):
    torch = pytest.importorskip("torch")

    class TLinear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w.t() + b

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g @ w, g.t() @ x, g.sum(0)

    xs = [rng.standard_normal(s) for s in ((5, 3), (2, 3), (2,))]
    fx = [fastnn.tensor(a, requires_grad=True) for a in xs]
    tx = [torch.tensor(a, requires_grad=True) for a in xs]
    fo, to = MyLinear.apply(*fx), TLinear.apply(*tx)
    (fo * fo).sum().backward()
    (to * to).sum().backward()
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    for f, t in zip(fx, tx):
        np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_two_outputs_backward_runs_once_with_both_grads(rng):
    calls = []

    class Counted(SinCos):
        @staticmethod
        def backward(ctx, gs, gc):
            calls.append(1)
            return SinCos.backward(ctx, gs, gc)

    x = t64(rng, 5)
    s, c = Counted.apply(x)
    (s * 2 + c * 3).sum().backward()
    assert len(calls) == 1
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(xv) - 3 * np.sin(xv), rtol=1e-12)
    assert gradcheck(lambda x: SinCos.apply(x), (x,))


def test_unused_output_gets_zero_grad_and_none_without_materialize(rng):
    x = t64(rng, 4)
    s, _ = SinCos.apply(x)
    s.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.detach().numpy()), rtol=1e-12)

    seen = []

    class Raw(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            seen.append((a is None, b is None))
            return a * 2

    a, _ = Raw.apply(x)
    a.sum().backward()
    assert seen == [(False, True)]


def test_non_tensor_arguments_and_ctx_attributes(rng):
    x = t64(rng, 3)
    y = Scale.apply(x, 2.5)
    y.sum().backward()
    assert x.grad.tolist() == [2.5] * 3
    assert gradcheck(lambda x: Scale.apply(x, -1.5), (x,))


def test_non_differentiable_output(rng):
    x = t64(rng, 3, 4)
    top, idx = SortLike.apply(x)
    assert top.requires_grad and not idx.requires_grad and idx.grad_fn is None
    top.sum().backward()
    expect = np.zeros((3, 4))
    expect[np.arange(3), x.detach().numpy().argmax(-1)] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expect)


def test_needs_input_grad_and_no_graph_without_grad(rng):
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, k, b):
            seen.append(ctx.needs_input_grad)
            assert not fastnn.is_grad_enabled()  # forward records no graph
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, None, g

    a, b = t64(rng, 2), fastnn.ones(2, dtype=fastnn.float64)
    out = Probe.apply(a, 3, b)
    assert seen[-1] == (True, False, False) and out.requires_grad
    with fastnn.no_grad():
        out = Probe.apply(a, 3, b)
    assert not out.requires_grad and out.grad_fn is None


def test_returning_an_input_leaves_it_a_leaf(rng):
    class Ident(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = t64(rng, 3)
    y = Ident.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [2.0] * 3


def _dirty_program(m, x0):
    """A custom in-place ReLU (forward writes its input, ctx.mark_dirty) in the ways programs
    use one: after another op, next to consumers recorded before it, twice differentiated."""

    class InplaceRelu(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.clamp_(min=0)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * (y > 0).to(g.dtype) * y * 2  # d(y^2)/dx on the positive side

    out = []
    x = m.tensor(x0, requires_grad=True)
    h = x * 3
    before = h + 1  # recorded before the call, saves nothing of h: keeps h's old history
    r = InplaceRelu.apply(h)
    out += [r is h, h.requires_grad, h.is_leaf, h.detach().numpy().copy()]
    (r.sum() + (before * before).sum()).backward()
    out.append(x.grad.numpy().copy())
    x.grad = None
    h = x * 3
    saved_before = h * h  # saved h before it changed: backward must refuse
    InplaceRelu.apply(h)
    try:
        saved_before.sum().backward()
        out.append("no error")
    except RuntimeError as e:
        out.append("modified by an inplace operation" in str(e))
    h = (x * 1.5).sin()
    (g,) = m.autograd.grad(InplaceRelu.apply(h).sum(), x, create_graph=True)
    (gg,) = m.autograd.grad(g.sum(), x)
    out += [g.detach().numpy(), gg.numpy()]
    try:
        InplaceRelu.apply(m.tensor(x0, requires_grad=True))
        out.append("no error")
    except RuntimeError as e:
        out.append("leaf Variable that requires grad" in str(e))
    return out


def test_mark_dirty_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x0 = rng.standard_normal(7)
    ours, theirs = _dirty_program(fastnn, x0), _dirty_program(torch, x0)
    assert ours[:3] == theirs[:3] == [True, True, False]
    for a, b in zip(ours[3:], theirs[3:]):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        else:
            assert a == b and a is True


def test_mark_dirty_by_definition_and_misuse(rng):
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = fastnn.tensor(rng.standard_normal(4), requires_grad=True)
    y = x + 0
    version = y._version
    z = Double.apply(y)
    assert z is y and z._version > version and z.grad_fn is not None
    (z * z).sum().backward()  # 2 (2x) * 2
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.detach().numpy(), rtol=1e-6)

    class Forgets(Function):  # marks a tensor it does not return
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(RuntimeError, match="marked dirty"):
        Forgets.apply(x + 0)
    base = x + 0
    with pytest.raises(NotImplementedError, match="shares its storage with views"):
        Double.apply(base[:2])


def test_setup_context_form(rng):
    class Cube(Function):
        @staticmethod
        def forward(x):
            return x**3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

    x = t64(rng, 4)
    assert gradcheck(Cube.apply, (x,))


def test_gradient_broadcast_back_to_input_shape(rng):
    class Bcast(Function):
        @staticmethod
        def forward(ctx, b):
            return b * 1

        @staticmethod
        def backward(ctx, g):
            return g.expand(4, 3)  # summed back to (3,)

    b = t64(rng, 3)
    Bcast.apply(b).sum().backward()
    assert b.grad.tolist() == [4.0] * 3


def test_custom_function_bad_backward_results(rng):
    x = t64(rng, 2, 3)

    def make(result):
        class F(Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, g):
                return result(g)

        return F

    with pytest.raises(RuntimeError, match="incorrect number of gradients \\(expected 2, got 1\\)"):
        make(lambda g: g).apply(x, 2).sum().backward()
    with pytest.raises(RuntimeError, match="different than None at position 2"):
        make(lambda g: (g, g)).apply(x, 2).sum().backward()
    with pytest.raises(RuntimeError, match="invalid gradient at index 0 - got \\[3\\]"):
        make(lambda g: (g[0], None)).apply(x, 2).sum().backward()
    with pytest.raises(TypeError, match="as gradient 0"):
        make(lambda g: (1.0, None)).apply(x, 2).sum().backward()
    assert x.grad is None
    # trailing Nones beyond the inputs are accepted, as torch does
    make(lambda g: (g, None, None)).apply(x, 2).sum().backward()
    assert x.grad.shape == (2, 3)


def test_custom_function_misuse():
    with pytest.raises(TypeError, match="argument 1 is of type int"):

        class Bad(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x

        Bad.apply(fastnn.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="keyword"):
        MyExp.apply(x=fastnn.ones(2))
    with pytest.raises(RuntimeError, match="static forward"):
        MyExp()(fastnn.ones(2))


def test_saved_tensor_modified_in_place_is_caught(rng):
    x = t64(rng, 3)
    y = MyExp.apply(x * 1)
    with fastnn.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_second_backward_without_retain_graph(rng):
    x = t64(rng, 3)
    y = MyExp.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.detach().numpy()), rtol=1e-12)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_internal_form_subclass_still_works():
    class Twice(Function):  # fastnn's primitive form: instance methods on storage arrays
        def forward(self, x):
            return x * 2

        def backward(self, g):
            return g * 2

    x = fastnn.ones(3, requires_grad=True)
    Twice.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0] * 3


# ---- autograd.grad -------------------------------------------------------------------------------


def test_grad_returns_gradients_without_touching_dot_grad(rng):
    x, w = t64(rng, 3), t64(rng, 3)
    h = x * w
    (gx, gh) = fastnn.autograd.grad((h * h).sum(), (x, h))
    np.testing.assert_allclose(gx.numpy(), 2 * (x * w * w).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy(), rtol=1e-12)
    assert x.grad is None and w.grad is None


def test_grad_matches_torch(rng):
    torch = pytest.importorskip("torch")
    a, v = rng.standard_normal((3, 4)), rng.standard_normal(3)
    fx, tx = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    fy, ty = (fx.sigmoid() * fx).sum(1), (tx.sigmoid() * tx).sum(1)
    (fg,) = fastnn.autograd.grad(fy, fx, grad_outputs=fastnn.tensor(v))
    (tg,) = torch.autograd.grad(ty, tx, grad_outputs=torch.tensor(v))
    np.testing.assert_allclose(fg.numpy(), tg.numpy(), rtol=1e-12)
    # several outputs: their gradients add up
    fg2 = fastnn.autograd.grad([fx.sum(), (fx * 2).sum()], [fx])[0]
    tg2 = torch.autograd.grad([tx.sum(), (tx * 2).sum()], [tx])[0]
    np.testing.assert_array_equal(fg2.numpy(), tg2.numpy())


def test_grad_retain_graph_and_unused(rng):
    x, unused = t64(rng, 3), t64(rng, 3)
    y = (x * x).sum()
    g1 = fastnn.autograd.grad(y, x, retain_graph=True)[0]
    g2 = fastnn.autograd.grad(y, x)[0]
    np.testing.assert_array_equal(g1.numpy(), g2.numpy())
    with pytest.raises(RuntimeError, match="second time"):
        fastnn.autograd.grad(y, x)
    z = (x * 3).sum()
    with pytest.raises(RuntimeError, match="index 1 appears to not have been used"):
        fastnn.autograd.grad(z, (x, unused), retain_graph=True)
    gx, gu = fastnn.autograd.grad(z, (x, unused), allow_unused=True)
    assert gu is None and gx.tolist() == [3.0] * 3


def test_grad_bad_arguments(rng):
    x = t64(rng, 3)
    with pytest.raises(RuntimeError, match="does not require grad"):
        fastnn.autograd.grad((x * x).sum(), fastnn.ones(3))
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        fastnn.autograd.grad(x * x, x)
    with pytest.raises(RuntimeError, match="one grad_output per output"):
        fastnn.autograd.grad([x.sum(), x.sum()], x, grad_outputs=[None])
    with pytest.raises(TypeError, match="inputs\\[0\\] must be a Tensor"):
        fastnn.autograd.grad(x.sum(), [3.0])


def test_autograd_backward_takes_several_roots(rng):
    x = t64(rng, 3)
    fastnn.autograd.backward([x.sum(), (x * 2).sum()])
    assert x.grad.tolist() == [3.0] * 3
    with pytest.raises(RuntimeError, match="grad_tensors has 1"):
        fastnn.autograd.backward([x.sum(), x.sum()], [None])


# ---- grad modes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, inside, inside_no_grad",
    [
        (fastnn.no_grad, False, False),
        (fastnn.enable_grad, True, True),
        (fastnn.inference_mode, False, False),
        (lambda: fastnn.set_grad_enabled(False), False, False),
        (lambda: fastnn.inference_mode(False), True, False),  # leaves the mode as it is
    ],
)
def test_grad_modes_as_context_managers_and_decorators(mode, inside, inside_no_grad):
    x = fastnn.ones(2, requires_grad=True)

    def body():
        return (x * 2).requires_grad

    with mode():
        assert body() is inside
    assert fastnn.is_grad_enabled() and not fastnn.is_inference_mode_enabled()
    assert mode()(body)() is inside
    assert fastnn.is_grad_enabled()
    with fastnn.no_grad():  # enable_grad inside no_grad turns recording back on
        assert mode()(body)() is inside_no_grad
        assert not fastnn.is_grad_enabled()


def test_bare_decorators_and_generators():
    @fastnn.no_grad
    def f():
        return fastnn.is_grad_enabled()

    @fastnn.inference_mode
    def g():
        return fastnn.is_grad_enabled(), fastnn.is_inference_mode_enabled()

    @fastnn.no_grad()
    def gen():
        yield fastnn.is_grad_enabled()
        got = yield fastnn.is_grad_enabled()
        yield got

    assert f() is False and g() == (False, True) and fastnn.is_grad_enabled()
    it = gen()
    assert next(it) is False
    assert fastnn.is_grad_enabled()  # the caller's mode between steps
    assert next(it) is False and it.send(7) == 7
    with pytest.raises(TypeError):
        fastnn.no_grad(3)


def test_set_grad_enabled_decorator_does_not_leak():
    deco = fastnn.set_grad_enabled(False)
    assert fastnn.is_grad_enabled() is False  # immediate, like torch
    f = deco(lambda: fastnn.is_grad_enabled())
    assert fastnn.is_grad_enabled() is True  # decorating puts it back
    assert f() is False and fastnn.is_grad_enabled()
    with fastnn.set_grad_enabled(False):
        assert not fastnn.is_grad_enabled()
    assert fastnn.is_grad_enabled()


# ---- hooks ---------------------------------------------------------------------------------------


def test_hooks_on_leaf_and_non_leaf_match_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal(3)
    res = []
    for lib in (fastnn, torch):
        x = lib.tensor(a, requires_grad=True)
        seen = []
        x.register_hook(lambda g, seen=seen: seen.append(g.detach().numpy().copy()))
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        (y * y + x).sum().backward()  # two uses of x: the leaf hook sees their sum once
        res.append((x.grad.numpy().copy(), y.grad.numpy().copy(), seen))
    (fx, fy, fs), (tx, ty, ts) = res
    np.testing.assert_allclose(fx, tx, rtol=1e-12)
    np.testing.assert_allclose(fy, ty, rtol=1e-12)
    assert len(fs) == len(ts) == 1
    np.testing.assert_allclose(fs[0], ts[0], rtol=1e-12)


def test_leaf_hook_applies_in_autograd_grad_and_remove(rng):
    x = t64(rng, 3)
    h = x.register_hook(lambda g: g * 3)
    (g,) = fastnn.autograd.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.numpy(), 6 * x.detach().numpy(), rtol=1e-12)
    h.remove()
    h.remove()  # idempotent
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0] * 3


def test_hook_on_root_and_bad_hooks(rng):
    x = t64(rng, 3)
    y = x * 1
    y.register_hook(lambda g: g + 1)
    y.backward(fastnn.ones(3, dtype=fastnn.float64))
    assert x.grad.tolist() == [2.0] * 3
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        fastnn.ones(2).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)
    z = x * 1
    z.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="changed the size"):
        z.sum().backward()
    w = x * 1
    w.register_hook(lambda g: 1.0)
    with pytest.raises(TypeError, match="must return None or a Tensor"):
        w.sum().backward()


# ---- 0-d and empty tensors, and gradients that must not be NaN -----------------------------------


def _both(torch, a, dtype="float64"):
    return (
        fastnn.tensor(np.asarray(a, dtype=dtype), requires_grad=True),
        torch.tensor(np.asarray(a, dtype=dtype), requires_grad=True),
    )


def _same(f, t):
    np.testing.assert_allclose(
        np.asarray(f.detach().numpy()), t.detach().numpy(), rtol=1e-6, atol=1e-12
    )


def test_scalar_gate_backward_matches_torch():
    torch = pytest.importorskip("torch")
    fw, tw = _both(torch, 0.5)
    x = np.arange(3.0)
    (fw.sigmoid() * fastnn.tensor(x)).sum().backward()
    (tw.sigmoid() * torch.tensor(x)).sum().backward()
    assert fw.grad.shape == ()
    _same(fw.grad, tw.grad)
    assert gradcheck(
        lambda w: (w.sigmoid() * fastnn.tensor(x)).sum(), (fw.detach().requires_grad_(),)
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse", "l1", "ce", "nll", "bce", "bce_logits"])
def test_losses_on_an_empty_batch_match_torch(name, reduction):
    torch = pytest.importorskip("torch")
    res = []
    for lib, F in ((fastnn, fastnn.nn.functional), (torch, torch.nn.functional)):
        x = lib.zeros(0, 3, dtype=lib.float64, requires_grad=True)
        y, idx = lib.zeros(0, 3, dtype=lib.float64), lib.zeros(0, dtype=lib.int64)
        loss = {
            "mse": lambda: F.mse_loss(x, y, reduction=reduction),
            "l1": lambda: F.l1_loss(x, y, reduction=reduction),
            "ce": lambda: F.cross_entropy(x, idx, reduction=reduction),
            "nll": lambda: F.nll_loss(x, idx, reduction=reduction),
            "bce": lambda: F.binary_cross_entropy(x.sigmoid(), y, reduction=reduction),
            "bce_logits": lambda: F.binary_cross_entropy_with_logits(x, y, reduction=reduction),
        }[name]()
        loss.sum().backward()
        res.append((loss, x.grad))
    (fl, fg), (tl, tg) = res
    assert tuple(fl.shape) == tuple(tl.shape)
    np.testing.assert_array_equal(fl.detach().numpy(), tl.detach().numpy())  # NaN, 0 or empty
    assert tuple(fg.shape) == tuple(tg.shape) == (0, 3)


def test_pooling_on_an_empty_batch():
    F = fastnn.nn.functional
    x = fastnn.zeros(0, 2, 4, 4, requires_grad=True)
    for pool in (F.max_pool2d, F.avg_pool2d):
        out = pool(x, 2)
        assert out.shape == (0, 2, 2, 2)
        out.sum().backward()
        assert x.grad.shape == (0, 2, 4, 4)


def test_grad_of_pow_zero_and_norm_at_zero_match_torch():
    torch = pytest.importorskip("torch")
    for fn in (lambda z: (z**0).sum(), lambda z: z.norm(), lambda z: z.norm(dim=1).sum()):
        fz, tz = _both(torch, np.zeros((2, 3)))
        fn(fz).backward()
        fn(tz).backward()
        _same(fz.grad, tz.grad)
        assert not np.isnan(fz.grad.numpy()).any()
    x = fastnn.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda x: x.norm(dim=1), (x,))
    assert gradcheck(lambda x: x.norm(), (x,))


@pytest.mark.parametrize(
    "a", [[1.0, np.nan, 3.0], [1.0, np.nan, np.nan], [[1.0, np.nan, 3.0], [1.0, 5.0, 2.0]]]
)
def test_max_and_amax_with_nan_match_torch(a):
    torch = pytest.importorskip("torch")
    for op in (lambda t: t.max(), lambda t: t.min(), lambda t: t.amax(-1).sum()):
        fx, tx = _both(torch, a)
        fo, to = op(fx), op(tx)
        _same(fo, to)
        fo.backward()
        to.backward()
        np.testing.assert_array_equal(fx.grad.numpy(), tx.grad.numpy())


def test_nll_loss_ignored_rows_with_masked_classes_match_torch():
    torch = pytest.importorskip("torch")
    lp = [[0.0, -np.inf, -1.0], [-np.inf, -np.inf, 0.0]]
    for reduction in ("mean", "sum", "none"):
        fx, tx = _both(torch, lp)
        args = dict(ignore_index=1, reduction=reduction)
        fl = fastnn.nn.functional.nll_loss(fx, fastnn.tensor([0, 1]), **args)
        tl = torch.nn.functional.nll_loss(tx, torch.tensor([0, 1]), **args)
        _same(fl, tl)
        fl.sum().backward()
        tl.sum().backward()
        np.testing.assert_array_equal(fx.grad.numpy(), tx.grad.numpy())
    fx, tx = _both(torch, lp)
    fl = fastnn.nn.functional.cross_entropy(fx, fastnn.tensor([0, 1]), ignore_index=1)
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor([0, 1]), ignore_index=1)
    _same(fl, tl)
    fl.backward()
    tl.backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def _backward_inputs_program(lib, x0):
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(x0.T.copy(), requires_grad=True)
    h = x @ w
    loss = (h.tanh() ** 2).sum()
    loss.backward(inputs=[w, h], retain_graph=True)  # x.grad untouched, h (not a leaf) gets one
    first = (x.grad, w.grad.numpy().copy(), h.grad.numpy().copy())
    lib.autograd.backward([loss], grad_tensors=[lib.tensor(2.0, dtype=lib.float64)], inputs=x)
    return first, x.grad.numpy()


def test_backward_inputs_and_torch_keywords_match_torch():
    torch = pytest.importorskip("torch")
    x0 = np.random.default_rng(0).standard_normal((3, 4))
    (xg, wg, hg), xg2 = _backward_inputs_program(fastnn, x0)
    (txg, twg, thg), txg2 = _backward_inputs_program(torch, x0)
    assert xg is None and txg is None
    for a, b in ((wg, twg), (hg, thg), (xg2, txg2)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_backward_inputs_errors():
    x = fastnn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward(inputs=[fastnn.ones(3)])
    with pytest.raises(TypeError, match="inputs\\[0\\] must be a Tensor"):
        (x * 2).sum().backward(inputs=[1.0])
    assert x.grad is None  # a refused call changes nothing


def test_grad_materialize_dict_and_batched_match_torch():
    torch = pytest.importorskip("torch")
    x0 = np.random.default_rng(1).standard_normal((3, 4))
    out = []
    for lib in (fastnn, torch):
        x = lib.tensor(x0, requires_grad=True)
        u = lib.tensor([1.0, 2.0], requires_grad=True)
        zeros = lib.autograd.grad((x * x).sum(), [x, u], materialize_grads=True)[1]
        named = lib.autograd.grad((x * x).sum(), {"a": x})
        eye = lib.eye(12, dtype=lib.float64).reshape(12, 3, 4)
        jac = lib.autograd.grad(x.sin(), x, grad_outputs=eye, is_grads_batched=True)[0]
        rec = lib.autograd.grad(x.sin(), x, eye, create_graph=True, is_grads_batched=True)[0]
        (second,) = lib.autograd.grad((rec**2).sum(), x)
        with pytest.raises(ValueError, match="allow_unused"):
            lib.autograd.grad((x * x).sum(), x, allow_unused=False, materialize_grads=True)
        assert list(named) == ["a"]
        out.append([zeros.numpy(), named["a"].numpy(), jac.numpy(), second.numpy()])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-12)
