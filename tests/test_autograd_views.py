"""In-place ops recorded on views and on bases that have views: values and gradients as torch
gives them (the change reaches every tensor on the storage; gradients follow it), and torch's
errors for a view of a leaf and an expanded view."""

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def both(fn, *arrays):
    """fn(lib, *leaves) run on fastnn and torch from the same float64 arrays; returns, per
    library, the result's values and each leaf's gradient after backward of its sum."""
    out = []
    for lib in (fastnn, torch):
        leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        r = fn(lib, *leaves)
        r.sum().backward()
        grads = [
            np.zeros(a.shape) if t.grad is None else t.grad.numpy() for a, t in zip(arrays, leaves)
        ]
        out.append([r.detach().numpy(), *grads])
    return out


def check(fn, *arrays):
    ours, theirs = both(fn, *arrays)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
W = RNG.standard_normal((3, 2))


def test_inplace_on_a_slice_reaches_the_base_and_its_gradient():
    def prog(lib, x, w):
        y = x * 2
        v = y[:, :2]
        v.mul_(3)
        v.add_(w)
        return y * y

    check(prog, X, W)


def test_setitem_on_a_view_and_an_activation_in_place():
    def prog(lib, x, w):
        y = x * 1
        row = y[1]
        row[1:3] = w[0]
        y[:, 0].relu_()
        return y.exp()

    check(prog, X, W)


def test_a_view_sees_a_later_change_of_its_base():
    def prog(lib, x, w):
        y = x * 2
        v = y[1]
        t = y.t()
        y.mul_(5)
        y.add_(x)
        return v * 3 + t[:, 2] + y[0]

    check(prog, X, W)


def test_sibling_views_and_views_of_views_follow_a_change_through_one_of_them():
    def prog(lib, x, w):
        y = (x * 1).view(4, 3)
        a = y[1:]
        b = y.t()[0]
        c = a[:, 1:]
        c.mul_(w.reshape(3, 2))  # elements of y's rows 1-3, columns 1-2
        return a.sum(0).sum() * 2 + b + y[0, 0] * c[0, 0]

    check(prog, X, W)


def test_uses_before_the_change_keep_the_old_values_gradients():
    def prog(lib, x, w):
        y = x * 2
        v = y[0]
        early = v + 1  # saves nothing: its gradient goes to y's history before the change
        e2 = y.sum(1)
        v.mul_(10)
        return early * 2 + e2[0] + v

    check(prog, X, W)


def test_inplace_on_a_view_of_a_leaf_that_requires_grad_raises_as_torch():
    for lib in (fastnn, torch):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            x[1:].mul_(2)
        assert x.grad is None


def test_inplace_on_an_expanded_view_raises_as_torch():
    for lib in (fastnn, torch):
        y = lib.ones(3, 1, dtype=lib.float64, requires_grad=True) * 1
        e = y.expand(3, 4)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            e.add_(1)
        assert y.tolist() == [[1.0]] * 3


def test_a_saved_view_changed_through_its_base_raises_at_backward():
    for lib in (fastnn, torch):
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        y = x * 2
        z = (y[0] * y[0]).sum()  # the product saves the view
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.backward()


def test_no_grad_change_of_a_base_is_seen_by_its_recorded_views():
    def prog(lib, x, w):
        y = x * 2
        v = y[2]
        with lib.no_grad():
            y[2, :2] = 7.0
        return v * y[2]

    check(prog, X, W)


def _written_back(name, *args):
    """x.name_(*args); on torch as x.copy_(x.clone().name(*args)), which keeps no tensor of the
    family for backward: torch refuses a later change of what its own relu_ / exp_ saved, which
    fastnn (whose in-place ops save a copy) allows, and the values must still agree."""

    def change(t, w, lib):
        if lib is torch:
            return t.copy_(getattr(t.clone(), name)(*args))
        return getattr(t, name + "_")(*args)

    return change


def _set_first(t, w, lib):
    t[0] = w.sum()


VIEWS = [
    lambda t: t[1:],
    lambda t: t[:, ::2],
    lambda t: t.t(),
    lambda t: t[0],
    lambda t: t.reshape(-1)[1:5],  # a copy where t is not contiguous, as in torch
    lambda t: t.unsqueeze(0)[0],
    lambda t: t.narrow(0, 1, 2),
    lambda t: t.select(1, 0),
    lambda t: t.view(-1),  # refused where t's strides do not allow it, as in torch
    lambda t: t.transpose(0, 1)[::2],
    lambda t: t[..., 1:],
]
CHANGES = [
    lambda t, w, lib: t.mul_(1.5),
    lambda t, w, lib: t.add_(w.sum()),
    lambda t, w, lib: t.clamp_(-0.5, 0.5),
    lambda t, w, lib: t.sub_(w.mean() * 0.5),
    lambda t, w, lib: t.mul_(t.detach().abs() + 1),
    lambda t, w, lib: t.div_(w.sum() + 10),
    _set_first,
    _written_back("relu"),
    _written_back("sigmoid"),
    _written_back("pow", 2),
    _written_back("tanh"),
]
USES = [  # none saves a tensor of the family (torch would refuse any later change)
    lambda t: (t * 3).sum(),
    lambda t: t.tanh().sum(),
    lambda t: (t / 2).sum(),
    lambda t: t.sum() * 2,
]


def _random_program(lib, steps):
    x = lib.tensor(X * 0.5, dtype=lib.float64, requires_grad=True)
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    y = (x * 1).reshape(4, 3)
    live, total = [y], y.sum() * 0
    for a, b, c, d in steps:
        t = live[a % len(live)]
        if b % 3:
            try:
                v = VIEWS[b % len(VIEWS)](t)
            except (RuntimeError, IndexError):
                v = None  # both libraries refuse the same views
            if v is not None and v.dim() >= 1 and v.numel() > 0:
                live.append(v)
                t = v
        CHANGES[c % len(CHANGES)](t, w, lib)
        total = total + USES[d % len(USES)](live[d % len(live)])
    r = total + (y * y).sum()
    r.backward()
    zeros = np.zeros(W.shape)
    return [r.detach().numpy(), x.grad.numpy(), zeros if w.grad is None else w.grad.numpy()]


def _outcome(lib, steps):
    try:
        return _random_program(lib, steps)
    except RuntimeError as e:
        assert "modified by an inplace operation" in str(e)
        return "refused"


def test_random_view_and_inplace_programs_match_torch():
    """Random chains of views and recorded in-place ops on them or on the base, with uses in
    between: the values and both leaves' gradients against torch."""
    for seed in range(60):
        steps = np.random.default_rng(seed).integers(0, 1000, (7, 4))
        ours, theirs = _outcome(fastnn, steps), _outcome(torch, steps)
        if isinstance(theirs, str):  # torch refused a saved tensor changed later: so must we
            assert ours == theirs, f"seed {seed}"
            continue
        assert not isinstance(ours, str), f"seed {seed}: {ours}"
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=f"seed {seed}")


def test_view_refuses_strides_it_cannot_follow_as_torch():
    for lib in (fastnn, torch):
        t = lib.arange(12.0).reshape(4, 3).t()
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            t.view(-1)
        assert t.view(3, 2, 2).shape == (3, 2, 2)
        assert t.reshape(-1).tolist() == t.contiguous().view(-1).tolist()


def test_zero_fill_and_copy_are_recorded_as_torch_records_them():
    def prog(lib, x, w):
        y = x * 2
        y[0].zero_()
        y[1, :2].copy_(w[0] * 3)  # w's row 0 flows in, y's old elements get no gradient
        z = x * 1
        z.fill_(w[2, 1])  # a 0-d tensor that requires grad: it gets the gradient's sum
        return y * y + z * x

    check(prog, X, W)
    for lib in (fastnn, torch):
        a = lib.zeros(3, requires_grad=True) * 1
        a.copy_(lib.tensor([1, 2, 3]))  # ints into float32: cast, and still in the graph
        assert a.dtype == lib.float32 and a.requires_grad and a.tolist() == [1.0, 2.0, 3.0]
        with pytest.raises(RuntimeError):
            a.copy_(lib.ones(4))
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            lib.zeros(3, requires_grad=True).zero_()


@pytest.mark.parametrize("shape,where", [((3, 4), (0, 0, 1)), ((3, 4), (-2, 0, 1)),
                                         ((2, 3, 4), (1, 2, 0)), ((3, 4), (5, 0, 1))])  # fmt: skip
def test_diagonal_is_a_view_in_place_changes_reach_through(shape, where):
    a = np.random.default_rng(1).standard_normal(shape)

    def prog(lib, x):
        y = x * 1
        d = y.diagonal(*where)
        d.mul_(3)
        return y * y + y.diagonal(*where).sum()

    check(prog, a)
    m = fastnn.eye(3)
    m.diagonal().add_(1)  # outside autograd: the matrix itself changes, as in torch
    m.diag().add_(1)  # diag of a matrix is a copy in both
    assert m.tolist() == [[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]]


def test_as_strided_views_the_storage_as_torch():
    def prog(lib, x):
        y = x * 1
        windows = y.as_strided((3, 4), (4, 1), 1)  # overlapping reads get each share of grad
        pairs = y[1:].as_strided((2, 2), (1, 3))  # the offset defaults to the view's own
        y.as_strided((2,), (5,), 2).mul_(10)  # a write through it reaches y and the others
        return windows * 2 + pairs.sum() + y[:12].reshape(3, 4)

    check(prog, np.random.default_rng(2).standard_normal(16))
    x = fastnn.tensor(np.random.default_rng(3).standard_normal(10), requires_grad=True)
    assert fastnn.autograd.gradcheck(lambda t: t.as_strided((3, 3), (2, 1), 1), (x,))
    for lib in (fastnn, torch):
        t = lib.arange(12.0)
        assert lib.as_strided(t, (2, 3), (3, 1), 2).tolist() == [[2, 3, 4], [5, 6, 7]]
        with pytest.raises(RuntimeError, match="out of bounds"):
            t.as_strided((4, 4), (4, 1), 1)
        with pytest.raises(RuntimeError, match="Negative strides"):
            t.as_strided((2,), (-1,))
    # rows that overlap: torch writes them in an order it does not define; fastnn refuses, as
    # both refuse a write through an expanded view
    with pytest.raises(RuntimeError, match="more than one element"):
        fastnn.arange(12.0).as_strided((3, 3), (1, 1)).add_(1)


def test_a_view_write_into_an_output_its_node_reads_raises_as_torch():
    # exp keeps its output for backward; writing a slice of it changes what that node would read,
    # so backward must refuse (torch's error), not use the new values (it gave 4e for 2e)
    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    z = a.exp()
    z[0:1].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*output 0"):
        z.sum().backward()
    # a node that keeps nothing of its output is unaffected: the gradient goes through the write
    b = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = b * 2
    y[0:1].mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [6.0, 2.0])
