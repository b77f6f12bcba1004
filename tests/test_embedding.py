"""nn.Embedding / F.embedding, nn.EmbeddingBag / F.embedding_bag and the kernels under them
(fastnn.kernels.embedding, embedding_backward, embedding_renorm_, embedding_bag,
embedding_bag_backward): against a float64 NumPy reference, finite differences,
torch (values and gradients), bad input, and a save/load round trip."""

import io

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import kernels, nn
from fastnn.autograd import gradcheck
from fastnn.nn import functional as F

SIZES = [(1, 1, (1,)), (7, 3, (5,)), (33, 17, (4, 9)), (257, 33, (2, 3, 7)), (50, 1, (0,))]


def ref_backward(g, idx, num, padding_idx=None, scale=False):
    flat = idx.ravel()
    g2 = g.reshape(flat.size, g.shape[-1]).astype(np.float64)
    out = np.zeros((num, g2.shape[1]))
    np.add.at(out, flat, g2)
    if scale:
        counts = np.bincount(flat, minlength=num)
        out /= np.maximum(counts, 1)[:, None]
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


@pytest.mark.parametrize("num,dim,shape", SIZES)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("it", [np.int32, np.int64])
def test_kernels_against_numpy(num, dim, shape, dt, it, threads, rng):
    w = rng.standard_normal((num, dim)).astype(dt)
    idx = rng.integers(0, num, shape).astype(it)
    out = kernels.embedding(w, idx)
    assert out.shape == (*shape, dim) and out.dtype == dt
    np.testing.assert_array_equal(out, w[idx])
    g = rng.standard_normal((*shape, dim)).astype(dt)
    tol = 1e-5 if dt == np.float32 else 1e-12
    for pad in (None, num - 1, -1):
        for scale in (False, True):
            got = kernels.embedding_backward(g, idx, num, pad, scale)
            want = ref_backward(g, idx, num, None if pad is None else pad % num, scale)
            assert got.dtype == dt
            assert_close(got, want, atol=tol, rtol=tol)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_backward_of_a_large_table_writes_only_looked_up_rows(dt, threads, rng):
    # >= 4 MiB: the binding hands the kernel a zero-filled table (the other code path)
    num, dim = 2100, 600
    idx = rng.integers(0, 50, (7, 33))
    idx[0, :4] = num - 1
    g = rng.standard_normal((7, 33, dim)).astype(dt)
    tol = 1e-5 if dt == np.float32 else 1e-12
    for pad, scale in ((None, False), (3, True), (-1, False)):
        got = kernels.embedding_backward(g, idx, num, pad, scale)
        want = ref_backward(g, idx, num, None if pad is None else pad % num, scale)
        assert got.shape == (num, dim) and got.dtype == dt
        assert_close(got, want, atol=tol, rtol=tol)


def test_backward_is_the_same_for_any_thread_count(rng):
    idx = rng.integers(0, 40, (3000,))
    g = rng.standard_normal((3000, 64)).astype(np.float32)
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        one = kernels.embedding_backward(g, idx, 40)
        fastnn.set_num_threads(4)
        four = kernels.embedding_backward(g, idx, 40)
    finally:
        fastnn.set_num_threads(before)
    np.testing.assert_array_equal(one, four)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
def test_renorm_against_numpy(p, rng):
    w = rng.standard_normal((33, 7)) * 3
    idx = np.array([[5, 2, 5], [30, 2, 0]])
    want = w.copy()
    for r in np.unique(idx):
        n = np.linalg.norm(want[r], ord=p)
        if n > 1.5:
            want[r] *= 1.5 / (n + 1e-7)
    out = kernels.embedding_renorm_(w, idx, 1.5, p)
    assert out is w
    assert_close(w, want, atol=1e-12, rtol=1e-12)
    untouched = np.setdiff1d(np.arange(33), idx)
    np.testing.assert_array_equal(w[untouched], want[untouched])


def test_kernel_errors_change_nothing():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    keep = w.copy()
    with pytest.raises(IndexError, match=r"index 4 at position 2 .* 4 rows"):
        kernels.embedding(w, np.array([0, 1, 4, -1]))
    with pytest.raises(IndexError, match=r"index -1 at position 1"):
        kernels.embedding_renorm_(w, np.array([0, -1]), 0.1)
    np.testing.assert_array_equal(w, keep)
    with pytest.raises(IndexError, match=r"index 9"):
        kernels.embedding_backward(np.ones((2, 3), np.float32), np.array([0, 9]), 4)
    with pytest.raises(TypeError, match="'indices' must have dtype int32 or int64, got float64"):
        kernels.embedding(w, np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="'weight' must have dtype float32 or float64"):
        kernels.embedding(w.astype(np.int64), np.array([0]))
    with pytest.raises(ValueError, match="must be 2-D"):
        kernels.embedding(w.ravel(), np.array([0]))
    with pytest.raises(ValueError, match=r"'grad' must have shape indices.shape"):
        kernels.embedding_backward(np.ones((2, 3), np.float32), np.array([0, 1, 2]), 4)
    with pytest.raises(ValueError, match="padding_idx 4 must be within num_embeddings = 4"):
        kernels.embedding_backward(np.ones((2, 3), np.float32), np.array([0, 1]), 4, 4)
    with pytest.raises(ValueError, match="max_norm"):
        kernels.embedding_renorm_(w, np.array([0]), -1.0)
    with pytest.raises(ValueError, match="read-only"):
        ro = w.copy()
        ro.flags.writeable = False
        kernels.embedding_renorm_(ro, np.array([0]), 1.0)


def test_functional_gradcheck(rng):
    w = fastnn.tensor(rng.standard_normal((9, 4)), requires_grad=True)
    idx = fastnn.tensor(rng.integers(0, 9, (3, 5)))
    gradcheck(lambda w: F.embedding(idx, w), (w,))
    # padding_idx and scale_grad_by_freq change the gradient on purpose (tested against torch)


@pytest.mark.parametrize("it", ["int32", "int64"])
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"padding_idx": 3},
        {"padding_idx": -2},
        {"scale_grad_by_freq": True},
        {"max_norm": 1.0},
        {"max_norm": 2.5, "norm_type": 1.0, "padding_idx": 0},
    ],
)
def test_module_matches_torch(kw, it, rng):
    torch = pytest.importorskip("torch")
    tw = rng.standard_normal((33, 7)).astype(np.float32)
    idx = rng.integers(0, 33, (4, 9))
    idx[0, :3] = 3  # repeated rows, and the padding row for padding_idx=3
    g = rng.standard_normal((4, 9, 7)).astype(np.float32)

    te = torch.nn.Embedding(33, 7, **kw)
    fe = nn.Embedding(33, 7, **kw)
    with torch.no_grad():
        te.weight.copy_(torch.from_numpy(tw))
    fe.load_state_dict({"weight": fastnn.tensor(tw)})
    ti = torch.from_numpy(idx.astype(it))
    fi = fastnn.tensor(idx.astype(it))
    for _ in range(2):  # a second step sees the renormalised table and accumulates gradients
        to, fo = te(ti), fe(fi)
        (to * torch.from_numpy(g)).sum().backward()
        (fo * fastnn.tensor(g)).sum().backward()
        assert_close(fo.detach().numpy(), to.detach().numpy(), atol=1e-6, rtol=1e-5)
        assert_close(fe.weight.grad.numpy(), te.weight.grad.numpy(), atol=1e-5, rtol=1e-5)
        assert_close(fe.weight.detach().numpy(), te.weight.detach().numpy(), atol=1e-6, rtol=1e-5)
    assert repr(fe) == repr(te)
    assert fe.padding_idx == te.padding_idx


def test_init_and_padding_row_like_torch():
    torch = pytest.importorskip("torch")
    e = nn.Embedding(100, 8, padding_idx=-1)
    w = e.weight.detach().numpy()
    np.testing.assert_array_equal(w[99], 0)
    assert abs(w[:99].std() - 1) < 0.15 and abs(w[:99].mean()) < 0.1  # N(0, 1)
    assert list(e.state_dict()) == list(torch.nn.Embedding(100, 8).state_dict()) == ["weight"]
    assert nn.Embedding(3, 2, dtype=fastnn.float64).weight.dtype == fastnn.float64


def test_from_pretrained(rng):
    torch = pytest.importorskip("torch")
    w = rng.standard_normal((6, 3)).astype(np.float32)
    e = nn.Embedding.from_pretrained(fastnn.tensor(w))
    t = torch.nn.Embedding.from_pretrained(torch.from_numpy(w))
    assert not e.weight.requires_grad and e.weight.requires_grad == t.weight.requires_grad
    idx = np.array([[5, 0], [2, 2]])
    np.testing.assert_array_equal(e(fastnn.tensor(idx)).numpy(), t(torch.from_numpy(idx)).numpy())
    e2 = nn.Embedding.from_pretrained(fastnn.tensor(w), freeze=False, padding_idx=1)
    assert e2.weight.requires_grad and e2.padding_idx == 1
    np.testing.assert_array_equal(e2.weight.detach().numpy()[1], w[1])  # not zeroed, like torch
    with pytest.raises(ValueError, match="must be 2-D"):
        nn.Embedding.from_pretrained(fastnn.tensor(w[0]))


def test_state_dict_round_trip(tmp_path):
    e = nn.Embedding(11, 5, padding_idx=0)
    path = tmp_path / "emb.pt"
    fastnn.save(e.state_dict(), path)
    e2 = nn.Embedding(11, 5, padding_idx=0)
    e2.load_state_dict(fastnn.load(path))
    np.testing.assert_array_equal(e2.weight.detach().numpy(), e.weight.detach().numpy())
    buf = io.BytesIO()
    fastnn.save(e.state_dict(), buf)
    buf.seek(0)
    assert np.array_equal(fastnn.load(buf)["weight"].numpy(), e.weight.detach().numpy())


def test_bad_input_raises_and_changes_nothing():
    e = nn.Embedding(5, 3, max_norm=0.1)
    before = e.weight.detach().numpy().copy()
    with pytest.raises(IndexError, match="index 5 at position 1 .* 5 rows"):
        e(fastnn.tensor([0, 5]))
    np.testing.assert_array_equal(e.weight.detach().numpy(), before)  # renorm did not run
    with pytest.raises(IndexError, match="index -1"):
        e(fastnn.tensor([-1]))
    # float indices: a RuntimeError, the type torch raises (a token id made a float by mistake)
    with pytest.raises(RuntimeError, match="int32 or int64, got fastnn.float32"):
        e(fastnn.tensor([0.0, 1.0]))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.nn.Embedding(5, 3)(torch.tensor([0.0, 1.0]))
    with pytest.raises(NotImplementedError, match="sparse=True"):
        nn.Embedding(5, 3, sparse=True)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        F.embedding(fastnn.tensor([0]), e.weight, sparse=True)
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings = 5"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(ValueError, match="padding_idx must be within"):
        nn.Embedding(5, 3, padding_idx=-6)
    with pytest.raises(ValueError, match="'weight' must be 2-D"):
        F.embedding(fastnn.tensor([0]), fastnn.zeros(5))
    with pytest.raises(ValueError, match="num_embeddings must be a non-negative int"):
        nn.Embedding(-1, 3)
    with pytest.raises(ValueError, match="does not match"):
        nn.Embedding(5, 3, _weight=fastnn.zeros(4, 3))


def test_other_table_dtypes_use_the_numpy_path(rng):
    w = rng.standard_normal((7, 3)).astype(np.float16)
    idx = np.array([[1, 1], [6, 0]])
    e = nn.Embedding.from_pretrained(fastnn.tensor(w), freeze=False)
    out = e(fastnn.tensor(idx))
    np.testing.assert_array_equal(out.detach().numpy(), w[idx])
    out.sum().backward()
    assert_close(e.weight.grad.numpy(), ref_backward(np.ones((2, 2, 3)), idx, 7), atol=0, rtol=0)
    with pytest.raises(IndexError, match="index 7"):
        e(fastnn.tensor([7]))


def test_training_step_reduces_the_loss(rng):
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Embedding(20, 8), nn.Flatten(), nn.Linear(24, 2))
    opt = fastnn.optim.SGD(model.parameters(), lr=0.5)
    x = fastnn.tensor(rng.integers(0, 20, (16, 3)))
    y = fastnn.tensor(rng.integers(0, 2, (16,)))
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


BAGS = [
    # (index shape or 1-D length, offsets, include_last_offset)
    ((4, 6), None, False),
    ((13,), [0, 3, 3, 7, 12], False),
    ((13,), [0, 0, 5, 13], True),
    ((1,), [0], False),
]


@pytest.mark.parametrize("shape,offsets,last", BAGS)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("pad", [None, 3])
def test_embedding_bag_matches_torch(shape, offsets, last, mode, pad, rng):
    torch = pytest.importorskip("torch")
    w = rng.standard_normal((9, 5))
    idx = rng.integers(0, 9, shape)
    idx.flat[0] = 3  # the padding row takes part in no bag
    tw, fw = torch.tensor(w, requires_grad=True), fastnn.tensor(w, requires_grad=True)
    to = None if offsets is None else torch.tensor(offsets)
    fo = None if offsets is None else fastnn.tensor(offsets)
    kw = dict(mode=mode, include_last_offset=last, padding_idx=pad)
    ty = torch.nn.functional.embedding_bag(torch.from_numpy(idx), tw, to, **kw)
    fy = F.embedding_bag(fastnn.tensor(idx), fw, fo, **kw)
    g_shape = tuple(ty.shape)
    g = rng.standard_normal(g_shape)
    ty.backward(torch.tensor(g))
    fy.backward(fastnn.tensor(g))
    assert tuple(fy.shape) == g_shape
    assert_close(fy.detach().numpy(), ty.detach().numpy(), atol=1e-12, rtol=1e-12)
    assert_close(fw.grad.numpy(), tw.grad.numpy(), atol=1e-12, rtol=1e-12)


def test_embedding_bag_per_sample_weights_and_module(rng):
    torch = pytest.importorskip("torch")
    w = rng.standard_normal((20, 4)).astype(np.float32)
    idx = rng.integers(0, 20, (11,))
    offs = np.array([0, 4, 4, 9])
    psw = rng.standard_normal(11).astype(np.float32)
    tm = torch.nn.EmbeddingBag.from_pretrained(torch.from_numpy(w), freeze=False, mode="sum")
    fm = nn.EmbeddingBag.from_pretrained(fastnn.tensor(w), freeze=False, mode="sum")
    assert repr(fm) == repr(tm)
    tp, fp = torch.from_numpy(psw).requires_grad_(True), fastnn.tensor(psw, requires_grad=True)
    ty = tm(torch.from_numpy(idx), torch.from_numpy(offs), tp)
    fy = fm(fastnn.tensor(idx), fastnn.tensor(offs), fp)
    ty.sum().backward()
    fy.sum().backward()
    assert_close(fy.detach().numpy(), ty.detach().numpy(), atol=1e-5, rtol=1e-5)
    assert_close(fm.weight.grad.numpy(), tm.weight.grad.numpy(), atol=1e-5, rtol=1e-5)
    assert_close(fp.grad.numpy(), tp.grad.numpy(), atol=1e-5, rtol=1e-5)
    m = nn.EmbeddingBag(7, 3, mode="max", max_norm=1.0)
    assert list(m.state_dict()) == ["weight"]
    out = m(fastnn.tensor([[1, 2], [6, 6]]))
    assert tuple(out.shape) == (2, 3)
    assert np.linalg.norm(m.weight.detach().numpy()[[1, 2, 6]], axis=1).max() <= 1.0 + 1e-6


def test_embedding_bag_gradcheck(rng):
    w = fastnn.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    idx, offs = fastnn.tensor([0, 5, 2, 2, 4, 1]), fastnn.tensor([0, 2, 2])
    psw = fastnn.tensor(rng.standard_normal(6), requires_grad=True)
    for mode in ("sum", "mean", "max"):
        gradcheck(lambda w, mode=mode: F.embedding_bag(idx, w, offs, mode=mode), (w,))
    gradcheck(
        lambda w, p: F.embedding_bag(idx, w, offs, mode="sum", per_sample_weights=p), (w, psw)
    )


# (num, dim, bag sizes): dims around the bag sum's 64-byte x 16 register block (64 floats, 32
# doubles), empty bags first, inside and last
BAG_KERNEL_SIZES = [
    (1, 1, [1]),
    (7, 7, [0, 3, 1, 0]),
    (33, 33, [5, 0, 2]),
    (40, 64, [4, 4]),
    (50, 65, [9, 1, 0, 7]),
    (257, 257, [3, 30, 0]),
    (5, 3, []),
]


@pytest.mark.parametrize("num,dim,sizes", BAG_KERNEL_SIZES)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("it", [np.int32, np.int64])
def test_bag_kernels_against_numpy(num, dim, sizes, dt, it, threads, rng):
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    idx = rng.integers(0, num, bounds[-1]).astype(it)
    w = rng.standard_normal((num, dim)).astype(dt)
    out = kernels.embedding_bag(w, idx, bounds)
    assert out.shape == (len(sizes), dim) and out.dtype == dt
    want = np.array(
        [w[idx[a:b]].astype(np.float64).sum(0) for a, b in zip(bounds[:-1], bounds[1:])]
    ).reshape(len(sizes), dim)
    tol = 1e-5 if dt == np.float32 else 1e-12
    assert_close(out, want, atol=tol, rtol=tol)
    g = rng.standard_normal((len(sizes), dim)).astype(dt)
    got = kernels.embedding_bag_backward(g, idx, bounds, num)
    bag_of = np.repeat(np.arange(len(sizes)), sizes)
    assert got.dtype == dt and got.shape == (num, dim)
    assert_close(got, ref_backward(g[bag_of], idx, num), atol=tol, rtol=tol)
    # the same bits as the composed form: the lookup, then the segment sum / the scatter-add
    rows = kernels.embedding(w, idx)
    np.testing.assert_array_equal(out, kernels.embedding_backward(rows, bag_of, len(sizes)))
    np.testing.assert_array_equal(got, kernels.embedding_backward(g[bag_of], idx, num))


def test_bag_kernels_are_the_same_for_any_thread_count(rng):
    w = rng.standard_normal((300, 70)).astype(np.float32)
    bounds = np.concatenate([[0], np.cumsum(rng.integers(0, 40, 64))]).astype(np.int64)
    idx = rng.integers(0, 300, bounds[-1])
    g = rng.standard_normal((64, 70)).astype(np.float32)
    before = fastnn.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            fastnn.set_num_threads(n)
            results.append(
                (
                    kernels.embedding_bag(w, idx, bounds),
                    kernels.embedding_bag_backward(g, idx, bounds, 300),
                )
            )
    finally:
        fastnn.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_bag_kernel_errors_are_clear():
    w = np.zeros((5, 2), np.float32)
    idx = np.array([0, 1, 4], np.int64)
    with pytest.raises(ValueError, match=r"embedding_bag: 'bounds' must start at 0.*\(3\)"):
        kernels.embedding_bag(w, idx, np.array([0, 2]))
    with pytest.raises(ValueError, match="'bounds' must start at 0"):
        kernels.embedding_bag(w, idx, np.array([1, 3]))
    with pytest.raises(ValueError, match="never decrease"):
        kernels.embedding_bag(w, idx, np.array([0, 2, 1, 3]))
    with pytest.raises(TypeError, match="'bounds' must have dtype int64, got int32"):
        kernels.embedding_bag(w, idx, np.array([0, 3], np.int32))
    with pytest.raises(ValueError, match="'bounds' must be 1-D"):
        kernels.embedding_bag(w, idx, np.array([[0, 3]]))
    with pytest.raises(ValueError, match="'indices' must be 1-D"):
        kernels.embedding_bag(w, idx.reshape(1, 3), np.array([0, 3]))
    with pytest.raises(TypeError, match="'indices' must have dtype int32 or int64"):
        kernels.embedding_bag(w, idx.astype(np.float32), np.array([0, 3]))
    with pytest.raises(IndexError, match="embedding_bag: index 5 at position 2"):
        kernels.embedding_bag(w, np.array([0, 1, 5]), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"'grad' must have shape \(bags, embedding_dim\) with 2"):
        kernels.embedding_bag_backward(np.zeros((3, 2), np.float32), idx, np.array([0, 1, 3]), 5)
    with pytest.raises(IndexError, match="embedding_bag_backward: index -1 at position 0"):
        kernels.embedding_bag_backward(
            np.zeros((1, 2), np.float32), np.array([-1, 0, 1]), np.array([0, 3]), 5
        )


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_float32_matches_torch(mode, rng):
    """The bag kernels' path in float32: the forward as torch's (rows summed in order, a mean
    divided by the bag's size), the gradient within rounding of torch's."""
    torch = pytest.importorskip("torch")
    w = rng.standard_normal((1000, 48)).astype(np.float32)
    idx = rng.integers(0, 1000, 300)
    offs = np.sort(rng.integers(0, 300, 20))
    offs[0] = 0
    tw, fw = torch.tensor(w, requires_grad=True), fastnn.tensor(w, requires_grad=True)
    ty = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, torch.tensor(offs), mode=mode)
    fy = F.embedding_bag(fastnn.tensor(idx), fw, fastnn.tensor(offs), mode=mode)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    ty.backward(torch.tensor(g))
    fy.backward(fastnn.tensor(g))
    assert_close(fy.detach().numpy(), ty.detach().numpy(), atol=1e-6, rtol=1e-6)
    assert_close(fw.grad.numpy(), tw.grad.numpy(), atol=1e-5, rtol=1e-5)


def test_embedding_bag_errors():
    w = fastnn.zeros(5, 2)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(fastnn.tensor([0, 1]), w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(fastnn.tensor([[0, 1]]), w, fastnn.tensor([0]))
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0"):
        F.embedding_bag(fastnn.tensor([0, 1]), w, fastnn.tensor([1]))
    with pytest.raises(ValueError, match="the last offset must be the number of indices"):
        F.embedding_bag(
            fastnn.tensor([0, 1, 2]), w, fastnn.tensor([0, 2]), include_last_offset=True
        )
    with pytest.raises(ValueError, match="non-decreasing"):
        F.embedding_bag(fastnn.tensor([0, 1]), w, fastnn.tensor([0, 2, 1]))
    with pytest.raises(ValueError, match="mode has to be one of"):
        nn.EmbeddingBag(5, 2, mode="min")
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(fastnn.tensor([[0, 1]]), w, per_sample_weights=fastnn.ones(1, 2))
    with pytest.raises(IndexError, match="index 5"):
        F.embedding_bag(fastnn.tensor([[0, 5]]), w)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        nn.EmbeddingBag(5, 2, sparse=True)
