"""nn.utils.parametrizations.orthogonal against torch: every map (matrix_exp, cayley,
householder) on tall, wide, square and batched weights, with and without the trivialization,
in float32 and float64: the weight right after registration, the state-dict keys, values and
gradients after the kept tensor moves, assignment; gradcheck of the maps, the matrix
exponential against torch's, and the errors."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck
from fastnn.nn.utils import _orthogonal
from fastnn.nn.utils.parametrizations import orthogonal

torch = pytest.importorskip("torch")
torth = torch.nn.utils.parametrizations.orthogonal
TOL = {np.float32: 2e-5, np.float64: 1e-12}


class _Holder:
    """A module with one parameter ``weight`` of a given shape, in either library."""

    @staticmethod
    def make(lib, array):
        m = lib.nn.Module()
        m.weight = lib.nn.Parameter(lib.tensor(array.copy()))
        return m


def _state(tm):
    return {k: fastnn.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}


CASES = [
    ((5, 3), None, True),
    ((3, 3), None, True),
    ((3, 3), "cayley", True),
    ((3, 3), "householder", True),
    ((1, 7), "matrix_exp", True),
    ((7, 1), "householder", True),
    ((3, 5), "householder", False),
    ((4, 4), "householder", False),
    ((2, 6, 2), "cayley", True),
    ((2, 3, 4), None, True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,kind,triv", CASES)
def test_orthogonal_matches_torch(shape, kind, triv, dtype):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(shape).astype(dtype)
    fm, tm = _Holder.make(fastnn, w), _Holder.make(torch, w)
    orthogonal(fm, orthogonal_map=kind, use_trivialization=triv)
    torth(tm, orthogonal_map=kind, use_trivialization=triv)
    tol = TOL[dtype]
    assert list(fm.state_dict()) == list(tm.state_dict())
    # the weight right after registration: the orthogonal factor of w (base's random
    # completion does not reach the first columns)
    np.testing.assert_allclose(
        fm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=tol * 10, atol=tol * 10
    )
    # a step off the diagonal (the householder map truncates the diagonal to ints: a step there
    # would flip or zero a column, in both libraries)
    step = rng.standard_normal(shape) * 0.3 * (1 - np.eye(*shape[-2:]))
    with torch.no_grad():
        tm.parametrizations.weight.original.add_(torch.tensor(step.astype(dtype)))
    fm.load_state_dict(_state(tm))
    fw, tw = fm.weight, tm.weight
    np.testing.assert_allclose(fw.detach().numpy(), tw.detach().numpy(), rtol=tol, atol=tol * 10)
    g = rng.standard_normal(shape).astype(dtype)
    (fw * fastnn.tensor(g)).sum().backward()
    (tw * torch.tensor(g)).sum().backward()
    fo, to = fm.parametrizations.weight.original, tm.parametrizations.weight.original
    np.testing.assert_allclose(fo.grad.numpy(), to.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    q = fw.detach().numpy().astype(np.float64)
    if shape[-2] < shape[-1]:
        q = np.swapaxes(q, -1, -2)
    gram = np.swapaxes(q, -1, -2) @ q
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(q.shape[-1]), gram.shape), atol=1e-5)


@pytest.mark.parametrize("kind,triv", [("matrix_exp", True), ("householder", False)])
def test_assignment(kind, triv):
    rng = np.random.default_rng(1)
    fm = orthogonal(fastnn.nn.Linear(4, 6).double(), orthogonal_map=kind, use_trivialization=triv)
    q = np.linalg.qr(rng.standard_normal((6, 4)))[0]
    fm.weight = fastnn.tensor(q)
    np.testing.assert_allclose(fm.weight.detach().numpy(), q, atol=1e-12)
    with pytest.raises(ValueError, match="of shape \\(6, 4\\). Got a tensor of shape \\(4, 6\\)"):
        fm.weight = fastnn.tensor(q.T.copy())


@pytest.mark.parametrize("kind", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3), (2, 3, 3)])
def test_maps_gradcheck(kind, shape):
    x = fastnn.tensor(np.random.default_rng(2).standard_normal(shape) * 0.5, requires_grad=True)
    assert gradcheck(lambda x: _orthogonal.orthogonal_map(x, kind, None), (x,))


def test_matrix_exp_matches_torch():
    rng = np.random.default_rng(3)
    for a in (rng.standard_normal((2, 5, 5)) * 4, np.zeros((1, 1)), rng.standard_normal((7, 7))):
        ours = _orthogonal.matrix_exp(fastnn.tensor(a)).numpy()
        theirs = torch.linalg.matrix_exp(torch.tensor(a)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-11)


def test_errors():
    with pytest.raises(ValueError, match="Got a tensor of 1 dimensions"):
        orthogonal(fastnn.nn.Linear(3, 3), name="bias")
    with pytest.raises(ValueError, match='has to be one of "matrix_exp".*Got: foo'):
        orthogonal(fastnn.nn.Linear(3, 3), orthogonal_map="foo")
    with pytest.raises(ValueError, match="name 'foo'"):
        orthogonal(fastnn.nn.Linear(3, 3), name="foo")
    m = orthogonal(fastnn.nn.Linear(3, 3), orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        m.weight = fastnn.eye(3)
