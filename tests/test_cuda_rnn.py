"""The CUDA LSTM / GRU cells against their CPU twins, and nn.LSTM / nn.GRU / nn.RNN on a GPU
against the same modules on the CPU (values and gradients). Skipped without a GPU."""

import numpy as np
import pytest

import fastnn
from fastnn import _C, cuda, nn

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU"),
]

TOL = {np.float32: {"atol": 1e-5, "rtol": 1e-4}, np.float64: {"atol": 1e-12, "rtol": 1e-10}}


def _gpu(name):
    from fastnn.cuda import kernels as ck

    return getattr(ck, name)


def _same(got, want, dtype):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("b", "h"), [(1, 1), (7, 33), (32, 257)])
def test_cells_match_cpu(dtype, b, h, rng):
    d = cuda.from_numpy

    def r(*shape):
        return (rng.standard_normal(shape) * 2).astype(dtype)

    gates, c_prev, dh, dc = r(b, 4 * h), r(b, h), r(b, h), r(b, h)
    want = _C.lstm_cell(gates, c_prev)
    _same(_gpu("lstm_cell")(d(gates), d(c_prev)), want, dtype)
    _, c, act = want
    for dcv in (dc, None):
        got = _gpu("lstm_cell_backward")(
            d(dh), None if dcv is None else d(dcv), d(act), d(c_prev), d(c)
        )
        _same(got, _C.lstm_cell_backward(dh, dcv, act, c_prev, c), dtype)
    gi, gh = r(b, 3 * h), r(b, 3 * h)
    want = _C.gru_cell(gi, gh, c_prev)
    _same(_gpu("gru_cell")(d(gi), d(gh), d(c_prev)), want, dtype)
    got = _gpu("gru_cell_backward")(d(dh), d(want[1]), d(c_prev))
    _same(got, _C.gru_cell_backward(dh, want[1], c_prev), dtype)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_modules_on_the_gpu_match_the_cpu(kind, rng):
    fastnn.manual_seed(0)
    m = getattr(nn, kind)(5, 6, num_layers=2, bidirectional=True, dtype=fastnn.float64)
    g = getattr(nn, kind)(5, 6, num_layers=2, bidirectional=True, dtype=fastnn.float64)
    g.load_state_dict(m.state_dict())
    g.to("cuda")
    x = rng.standard_normal((4, 3, 5))
    outs = []
    for mod, dev in ((m, "cpu"), (g, "cuda")):
        xt = fastnn.tensor(x, requires_grad=True, device=dev)
        out, hn = mod(xt)
        finals = hn if isinstance(hn, tuple) else (hn,)
        ((out * out).sum() + sum((f * f).sum() for f in finals)).backward()
        outs.append([out.detach().cpu().numpy(), xt.grad.cpu().numpy()])
        outs[-1] += [p.grad.cpu().numpy() for p in mod.parameters()]
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-11)
