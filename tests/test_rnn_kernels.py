"""The recurrent kernels (fastnn.kernels.lstm_cell ... rnn_sequence_backward) against the float64
NumPy references of tests/reference_rnn.py: awkward sizes, both dtypes, every SIMD path, one and
two threads, both directions; then the argument checks."""

import numpy as np
import pytest

import reference_rnn as ref
from fastnn import kernels

# (seq, batch, hidden): 1, primes, one SIMD width +- 1, a non-multiple of 16 big enough to thread
SIZES = [(1, 1, 1), (2, 7, 33), (3, 1, 17), (5, 3, 15), (2, 33, 257)]
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def _close(got, want, dtype, name):
    assert got.dtype == dtype, name
    np.testing.assert_allclose(got, want, err_msg=name, **TOL[dtype])


def _r(rng, dtype, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cells(size, dtype, isa, rng):
    _, b, h = size
    gates, c_prev, dh, dc = (
        _r(rng, dtype, b, 4 * h, scale=2),
        *(_r(rng, dtype, b, h) for _ in "123"),
    )
    got = kernels.lstm_cell(gates, c_prev)
    for name, g, w in zip(("h", "c", "act"), got, ref.lstm_cell(gates, c_prev)):
        _close(g, w, dtype, f"lstm_cell {name}")
    act, c = got[2], got[1]
    for dc_arg in (dc, None):
        got_b = kernels.lstm_cell_backward(dh, dc_arg, act, c_prev, c)
        want_b = ref.lstm_cell_backward(dh, dc_arg, act, c_prev, c)
        for name, g, w in zip(("dgates", "dc_prev"), got_b, want_b):
            _close(g, w, dtype, f"lstm_cell_backward {name}")
    gi, gh = _r(rng, dtype, b, 3 * h, scale=2), _r(rng, dtype, b, 3 * h, scale=2)
    got = kernels.gru_cell(gi, gh, c_prev)
    for name, g, w in zip(("h", "act"), got, ref.gru_cell(gi, gh, c_prev)):
        _close(g, w, dtype, f"gru_cell {name}")
    got_b = kernels.gru_cell_backward(dh, got[1], c_prev)
    for name, g, w in zip(
        ("dgi", "dgh", "dh_prev"), got_b, ref.gru_cell_backward(dh, got[1], c_prev)
    ):
        _close(g, w, dtype, f"gru_cell_backward {name}")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reverse", [False, True])
def test_sequences(size, dtype, reverse, threads, rng):
    s, b, h = size
    w_scale = 1 / np.sqrt(h)
    h0, c0, dc_n = (_r(rng, dtype, b, h) for _ in "123")
    dhs = _r(rng, dtype, s, b, h)
    # LSTM
    gates, w = _r(rng, dtype, s, b, 4 * h), _r(rng, dtype, 4 * h, h, scale=w_scale)
    want = ref.lstm_sequence(gates, w, h0, c0, reverse)
    hs, cs = kernels.lstm_sequence(gates, w, h0, c0, reverse)  # gates becomes act
    for name, g, ww in zip(("hs", "cs", "act"), (hs, cs, gates), want):
        _close(g, ww, dtype, f"lstm_sequence {name}")
    for dcn in (dc_n, None):
        got = kernels.lstm_sequence_backward(dhs, dcn, gates, cs, c0, w, reverse)
        want_b = ref.lstm_sequence_backward(dhs, dcn, gates, cs, c0, w, reverse)
        for name, g, ww in zip(("dgates", "dh0", "dc0"), got, want_b):
            _close(g, ww, dtype, f"lstm_sequence_backward {name}")
    # GRU, with and without b_hh
    gi, w = _r(rng, dtype, s, b, 3 * h), _r(rng, dtype, 3 * h, h, scale=w_scale)
    for b_hh in (_r(rng, dtype, 3 * h), None):
        hs, act = kernels.gru_sequence(gi, w, b_hh, h0, reverse)
        for name, g, ww in zip(
            ("hs", "act"), (hs, act), ref.gru_sequence(gi, w, b_hh, h0, reverse)
        ):
            _close(g, ww, dtype, f"gru_sequence {name}")
    got = kernels.gru_sequence_backward(dhs, act, hs, h0, w, reverse)
    want_b = ref.gru_sequence_backward(dhs, act, hs, h0, w, reverse)
    for name, g, ww in zip(("dgi", "dgh", "dh0"), got, want_b):
        _close(g, ww, dtype, f"gru_sequence_backward {name}")
    # Elman RNN, both nonlinearities
    w = _r(rng, dtype, h, h, scale=w_scale)
    for nl in ("tanh", "relu"):
        pre = _r(rng, dtype, s, b, h)
        want = ref.rnn_sequence(pre, w, h0, nl, reverse)
        hs = kernels.rnn_sequence(pre, w, h0, nl, reverse)
        assert hs is pre or np.shares_memory(hs, pre)  # documented: written in place
        _close(hs, want, dtype, f"rnn_sequence {nl}")
        got = kernels.rnn_sequence_backward(dhs, hs, w, nl, reverse)
        for name, g, ww in zip(
            ("dpre", "dh0"), got, ref.rnn_sequence_backward(dhs, hs, w, nl, reverse)
        ):
            _close(g, ww, dtype, f"rnn_sequence_backward {nl} {name}")


def test_saturated_gates_stay_finite(isa):
    """Pre-activations of +-1e4 saturate every gate without NaN (sigmoid via exp(-|x|))."""
    gates = np.array([[1e4, -1e4, 1e4, -1e4, -1e4, 1e4, -1e4, 1e4]], np.float32)
    h, c, act = kernels.lstm_cell(gates, np.ones((1, 2), np.float32))
    assert np.isfinite(h).all() and np.isfinite(c).all() and np.isfinite(act).all()
    np.testing.assert_allclose(act[0], [1, 0, 1, 0, -1, 1, 0, 1], atol=1e-6)


# ---- argument checks: a clear error, and nothing written ------------------------------------------


def _seq_args(dtype=np.float32):
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((3, 2, 8)).astype(dtype),
        rng.standard_normal((8, 2)).astype(dtype),
        np.zeros((2, 2), dtype),
        np.zeros((2, 2), dtype),
    )


@pytest.mark.parametrize(
    "change, exc, match",
    [
        (lambda a: (a[0], a[1], a[2][:1], a[3]), ValueError, "'h0' must have shape \\(2, 2\\)"),
        (lambda a: (a[0], a[1][:4], a[2], a[3]), ValueError, "'w_hh' must have shape"),
        (lambda a: (a[0][..., :4].copy(), a[1], a[2], a[3]), ValueError, "'gates' must have shape"),
        (
            lambda a: (a[0], a[1].astype(np.float64), a[2], a[3]),
            TypeError,
            "'w_hh' must have dtype",
        ),
        (lambda a: (a[0].astype(np.int64), a[1], a[2], a[3]), TypeError, "float32 or float64"),
        (lambda a: (a[0], a[1], a[2], a[3][None]), ValueError, "'c0' must have 2 dim"),
        (lambda a: (a[0], a[1].T, a[2], a[3]), ValueError, "C-contiguous"),
        (lambda a: (a[0].tolist(), a[1], a[2], a[3]), TypeError, "numpy.ndarray"),
    ],
)
def test_lstm_sequence_bad_arguments(change, exc, match):
    args = change(_seq_args())
    before = [np.array(a, copy=True) for a in args if isinstance(a, np.ndarray)]
    with pytest.raises(exc, match=match):
        kernels.lstm_sequence(*args)
    after = [a for a in args if isinstance(a, np.ndarray)]
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_inplace_argument_must_be_writeable_and_unshared():
    gates, w, h0, c0 = _seq_args()
    gates.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kernels.lstm_sequence(gates, w, h0, c0)
    pre = np.zeros((2, 2, 2), np.float32)
    with pytest.raises(ValueError, match="must not share memory"):
        kernels.rnn_sequence(pre, pre[0], pre[1, 0:2])


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="'nonlinearity' must be 'tanh' or 'relu'"):
        kernels.rnn_sequence(np.zeros((1, 1, 2)), np.zeros((2, 2)), np.zeros((1, 2)), "sigmoid")
    with pytest.raises(ValueError, match="4 \\* hidden"):
        kernels.lstm_cell(np.zeros((2, 6), np.float32), np.zeros((2, 1), np.float32))
    with pytest.raises(ValueError, match="'gh' must have shape \\(2, 6\\)"):
        kernels.gru_cell(np.zeros((2, 6)), np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="'b_hh' must have shape \\(6,\\)"):
        kernels.gru_sequence(np.zeros((1, 2, 6)), np.zeros((6, 2)), np.zeros(3), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="'act' must have shape \\(1, 2, 8\\)"):
        kernels.gru_sequence_backward(
            np.zeros((1, 2, 2)),
            np.zeros((1, 2, 6)),
            np.zeros((1, 2, 2)),
            np.zeros((2, 2)),
            np.zeros((6, 2)),
        )
    with pytest.raises(TypeError, match="'dc' must have dtype float64"):
        kernels.lstm_cell_backward(
            np.zeros((1, 2)),
            np.zeros((1, 2), np.float32),
            np.zeros((1, 8)),
            np.zeros((1, 2)),
            np.zeros((1, 2)),
        )
