"""Sparse COO tensors against torch: construction, coalescing, products, sums, gradients,
refusals, and a small GCN trained with Adam."""

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

# (indices, values, size): duplicates, empty, a row vector, non-square
CASES = [
    ([[0, 1, 1, 0, 2], [2, 0, 0, 2, 3]], [1.0, 2.0, 3.0, 4.0, -1.5], (3, 4)),
    ([[], []], [], (2, 5)),
    ([[0, 0, 0], [6, 1, 6]], [0.5, 2.0, -1.0], (1, 7)),
    ([[4, 0, 2], [0, 1, 0]], [1.0, 1.0, 3.0], (5, 2)),
]


def pair(indices, values, size, dtype=np.float64, **kw):
    i = np.array(indices, np.int64).reshape(2, -1)
    v = np.array(values, dtype)
    a = fastnn.sparse_coo_tensor(fastnn.tensor(i), fastnn.tensor(v), size, **kw)
    b = torch.sparse_coo_tensor(torch.tensor(i), torch.tensor(v), size, **kw)
    return a, b


def close(a, b, tol=1e-12):
    a = a.to_dense() if a.is_sparse else a
    b = b.to_dense() if b.is_sparse else b
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


def same_pattern(a, b, flag=True):
    assert a.is_coalesced() == b.is_coalesced() or not flag
    np.testing.assert_array_equal(a._indices().numpy(), b._indices().numpy())
    np.testing.assert_allclose(a._values().detach().numpy(), b._values().detach().numpy())


@pytest.mark.parametrize("case", CASES)
def test_construction_coalesce_and_attributes(case):
    a, b = pair(*case)
    assert a.is_sparse and a.layout is fastnn.sparse_coo and not fastnn.ones(1).is_sparse
    assert tuple(a.shape) == tuple(b.shape) and a.size(1) == b.size(1)
    assert a.sparse_dim() == b.sparse_dim() and a.dense_dim() == b.dense_dim() == 0
    assert a._nnz() == b._nnz() and a.numel() == b.numel() and len(a) == len(b)
    assert a.type() == b.type().replace("torch.", "fastnn.")
    assert not a.data.requires_grad and a.data.is_sparse
    same_pattern(a, b)
    close(a, b)
    ca, cb = a.coalesce(), b.coalesce()
    same_pattern(ca, cb)
    np.testing.assert_array_equal(ca.indices().numpy(), cb.indices().numpy())
    assert repr(ca) == repr(cb).replace("torch.", "fastnn.")
    assert repr(a.double().float()) == repr(b.double().float()).replace("torch.", "fastnn.")


def test_uncoalesced_indices_and_inferred_size():
    a, b = pair(*CASES[0])
    for x in (a, b):
        with pytest.raises(RuntimeError, match="uncoalesced"):
            x.indices()
        with pytest.raises(RuntimeError, match="uncoalesced"):
            x.values()
    i = [[0, 3], [2, 1]]
    x = fastnn.sparse_coo_tensor(i, [1, 2])
    y = torch.sparse_coo_tensor(i, [1, 2])
    assert tuple(x.shape) == tuple(y.shape) and x.dtype == fastnn.int64
    assert repr(x) == repr(y).replace("torch.", "fastnn.")


@pytest.mark.parametrize("case", CASES)
def test_to_sparse_round_trip_and_dense_ops(case):
    a, b = pair(*case)
    da, db = a.to_dense(), b.to_dense()
    sa, sb = da.to_sparse(), db.to_sparse()
    same_pattern(sa, sb)
    same_pattern(da.to_sparse_coo(), db.to_sparse_coo())
    close(a.t(), b.t())
    close(a.transpose(0, 1), b.transpose(0, 1))
    close(a * 2.5, b * 2.5)
    close(3 * a, 3 * b)
    close(a / 4, b / 4)
    close(-a, -b)
    close(a.to(fastnn.float32), b.to(torch.float32), 1e-6)
    assert a.to(fastnn.float32).dtype == fastnn.float32
    close(fastnn.ones(a.shape, dtype=fastnn.float64) + a, torch.ones(b.shape).double() + b)
    close(fastnn.ones(a.shape, dtype=fastnn.float64) - a, torch.ones(b.shape).double() - b)
    close(a + a, b + b)
    close(a - a.t().t(), b - b.t().t())


@pytest.mark.parametrize("case", CASES)
def test_products(case):
    a, b = pair(*case)
    rng = np.random.default_rng(0)
    m, k = a.shape
    d = rng.standard_normal((k, 3))
    e = rng.standard_normal((2, m))
    close(a @ fastnn.tensor(d), b @ torch.tensor(d))
    close(fastnn.mm(a, fastnn.tensor(d)), torch.mm(b, torch.tensor(d)))
    close(fastnn.spmm(a, fastnn.tensor(d)), torch.spmm(b, torch.tensor(d)))
    close(fastnn.sparse.mm(a, fastnn.tensor(d)), torch.sparse.mm(b, torch.tensor(d)))
    close(fastnn.matmul(a, fastnn.tensor(d[:, 0])), torch.matmul(b, torch.tensor(d[:, 0])))
    close(fastnn.tensor(e) @ a, torch.tensor(e) @ b)
    close(fastnn.mm(fastnn.tensor(e), a), torch.mm(torch.tensor(e), b))
    sa, sb = a @ a.t(), b @ b.t()
    assert sa.is_sparse and sb.is_sparse
    close(sa, sb)
    close(fastnn.sparse.mm(a.t(), a), torch.sparse.mm(b.t(), b))


@pytest.mark.parametrize("case", CASES)
def test_sums(case):
    a, b = pair(*case)
    close(fastnn.sum(a), torch.sum(b))
    close(fastnn.sparse.sum(a), torch.sparse.sum(b))
    for dim in (0, 1, -1):
        ra, rb = fastnn.sum(a, dim=dim), torch.sum(b, dim=dim)
        assert ra.is_sparse and rb.is_sparse
        close(ra, rb)
        close(fastnn.sparse.sum(a, dim), torch.sparse.sum(b, dim))
    close(fastnn.sparse.sum(a, (0, 1)), torch.sparse.sum(b, (0, 1)))


def test_softmax_and_sparse_sparse_gradients():
    a, b = pair(*CASES[0])
    a.requires_grad_()
    b.requires_grad_()
    ra, rb = fastnn.sparse.softmax(a, 1), torch.sparse.softmax(b, 1)
    close(ra, rb)
    w = np.arange(12.0).reshape(3, 4)
    (ra.to_dense() * fastnn.tensor(w)).sum().backward()
    (rb.to_dense() * torch.tensor(w)).sum().backward()
    close(a.grad, b.grad)
    close(fastnn.sparse.softmax(a.detach(), 0), torch.sparse.softmax(b.detach(), 0))
    a.grad, b.grad = None, None
    c, d = pair([[0, 2, 3, 3], [1, 0, 1, 1]], [1.0, -2.0, 0.5, 4.0], (4, 2), requires_grad=True)
    fastnn.sparse.mm(a, c).to_dense().sum().backward()
    torch.sparse.mm(b, d).to_dense().sum().backward()
    close(a.grad, b.grad)
    close(c.grad, d.grad)


@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[3]])
def test_gradients(case):
    rng = np.random.default_rng(1)
    a, b = pair(*case, requires_grad=True)
    assert a.requires_grad and a.is_leaf and a.grad is None
    d = rng.standard_normal((a.shape[1], 3))
    w = rng.standard_normal((a.shape[0], 3))
    da = fastnn.tensor(d, requires_grad=True)
    db = torch.tensor(d, requires_grad=True)
    (fastnn.sparse.mm(a, da) * fastnn.tensor(w)).sum().backward()
    (torch.sparse.mm(b, db) * torch.tensor(w)).sum().backward()
    close(da.grad, db.grad)
    assert a.grad.is_sparse and b.grad.is_sparse
    same_pattern(a.grad, b.grad)
    # where torch's gradient to the sparse operand is dense, fastnn refuses to record
    for f in (lambda: a @ da, lambda: fastnn.mm(a, da), lambda: fastnn.ones(a.shape) + a):
        with pytest.raises(NotImplementedError, match="sparse.mm"):
            f()
    with fastnn.no_grad():
        close(a @ da, b @ db)
    a.grad, b.grad = None, None
    m = rng.standard_normal(tuple(a.shape))
    (a.to_dense() * fastnn.tensor(m)).sum().backward()
    (b.to_dense() * torch.tensor(m)).sum().backward()
    same_pattern(a.grad, b.grad)
    # a dense tensor through to_sparse and sparse.mm: its gradient on its nonzero pattern
    x = rng.standard_normal(tuple(a.shape)) * (rng.random(tuple(a.shape)) < 0.5)
    xa, xb = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fastnn.sparse.mm(xa.to_sparse(), fastnn.tensor(d)).sum().backward()
    torch.sparse.mm(xb.to_sparse(), torch.tensor(d)).sum().backward()
    close(xa.grad, xb.grad)


def test_bad_inputs_raise_like_torch():
    i, v = [[0, 1], [1, 0]], [1.0, 2.0]
    bad = [
        lambda m: m.sparse_coo_tensor(i, [1.0, 2.0, 3.0], (2, 2)),
        lambda m: m.sparse_coo_tensor([0, 1], v, (2, 2)),
        lambda m: m.sparse_coo_tensor(i, v, (2,)),
        lambda m: m.sparse_coo_tensor(i, [1, 2], (2, 2), requires_grad=True),
        lambda m: m.sparse_coo_tensor(i, v, (2, 2)) + m.ones(2, 2),
        lambda m: m.sparse_coo_tensor(i, v, (2, 2)).reshape(4),
        lambda m: m.sparse_coo_tensor(i, v, (2, 2)) @ m.ones(3, 2),
        lambda m: m.sparse.mm(m.sparse_coo_tensor(i, v, (2, 2)), m.ones(2, 2).double()),
    ]
    for f in bad:
        with pytest.raises(RuntimeError):
            f(torch)
        with pytest.raises(RuntimeError):
            f(fastnn)
    s = fastnn.sparse_coo_tensor(i, v, (2, 2))
    for f in (lambda: s.view(4), lambda: s.exp(), lambda: fastnn.relu(s), lambda: s[0, 0]):
        with pytest.raises(NotImplementedError, match="sparse"):
            f()
    with pytest.raises(NotImplementedError, match="sparse"):
        fastnn.cat([fastnn.ones(2, 2), s])
    with pytest.raises(TypeError, match="to_dense"):
        s.numpy()
    # bounds are always checked (torch checks them with check_invariants=True)
    with pytest.raises(RuntimeError, match="size is inconsistent"):
        fastnn.sparse_coo_tensor([[0, 5], [1, 0]], v, (2, 2))
    with pytest.raises(RuntimeError, match="negative"):
        fastnn.sparse_coo_tensor([[0, -1], [1, 0]], v, (2, 2))
    with pytest.raises(RuntimeError, match="CPU"):
        s.to("cuda")
    np.testing.assert_array_equal(s.to_dense().numpy(), [[0.0, 1.0], [2.0, 0.0]])


def _gcn_losses(lib, x, adj_dense, labels, weights):
    """Two graph convolutions (sparse adjacency @ dense), 5 Adam steps; the losses."""
    deg = adj_dense.sum(1)
    norm = lib.diag(deg.rsqrt()).to_sparse()
    adj = (norm @ adj_dense @ norm).to_sparse()
    feats = lib.tensor(x).to_sparse()
    params = [lib.nn.Parameter(lib.tensor(w)) for w in weights]
    opt = lib.optim.Adam(params, lr=0.05)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        h = lib.relu(lib.spmm(adj, lib.mm(feats, params[0])) + params[1])
        out = lib.nn.functional.log_softmax(lib.spmm(adj, lib.mm(h, params[2])) + params[3], 1)
        loss = lib.nn.functional.nll_loss(out, lib.tensor(labels))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_gcn_training_matches_torch():
    rng = np.random.default_rng(2)
    n, f, hid, c = 40, 12, 8, 3
    x = (rng.random((n, f)) < 0.3).astype(np.float32)
    edges = rng.integers(0, n, (2, 90))
    a = np.zeros((n, n), np.float32)
    a[edges[0], edges[1]] = 1
    labels = rng.integers(0, c, n)
    weights = [
        rng.standard_normal((f, hid)).astype(np.float32) * 0.3,
        np.zeros(hid, np.float32),
        rng.standard_normal((hid, c)).astype(np.float32) * 0.3,
        np.zeros(c, np.float32),
    ]
    adj_f = fastnn.eye(n) + fastnn.sparse_coo_tensor(edges, np.ones(90), (n, n), dtype=fastnn.int64)
    adj_t = torch.eye(n) + torch.sparse_coo_tensor(edges, np.ones(90), (n, n), dtype=torch.int64)
    assert not adj_f.is_sparse and adj_f.dtype == fastnn.float32
    np.testing.assert_array_equal(adj_f.numpy(), adj_t.numpy())
    lf = _gcn_losses(fastnn, x, adj_f, labels, weights)
    lt = _gcn_losses(torch, x, adj_t, labels, weights)
    np.testing.assert_allclose(lf, lt, rtol=1e-5)
    assert lf[-1] < lf[0]
