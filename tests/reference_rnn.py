"""Float64 NumPy references for the recurrent kernels (fastnn.kernels.lstm_* / gru_* / rnn_*):
plain per-step loops with the textbook formulas, and the backward written out by the chain rule
step by step (no fusion, no shared code with the kernels)."""

import numpy as np


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _f64(*arrays):
    return [None if a is None else np.asarray(a, dtype=np.float64) for a in arrays]


def _order(s, reverse):
    return range(s - 1, -1, -1) if reverse else range(s)


def lstm_cell(gates, c_prev):
    gates, c_prev = _f64(gates, c_prev)
    i, f, g, o = np.split(gates, 4, axis=1)
    i, f, g, o = _sig(i), _sig(f), np.tanh(g), _sig(o)
    c = f * c_prev + i * g
    return o * np.tanh(c), c, np.concatenate([i, f, g, o], axis=1)


def lstm_cell_backward(dh, dc, act, c_prev, c):
    dh, dc, act, c_prev, c = _f64(dh, dc, act, c_prev, c)
    i, f, g, o = np.split(act, 4, axis=1)
    tc = np.tanh(c)
    d_c = (0.0 if dc is None else dc) + dh * o * (1 - tc**2)
    di, df, dg, do = d_c * g, d_c * c_prev, d_c * i, dh * tc
    dgates = [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)]
    return np.concatenate(dgates, axis=1), d_c * f


def gru_cell(gi, gh, h_prev):
    gi, gh, h_prev = _f64(gi, gh, h_prev)
    ir, iz, in_ = np.split(gi, 3, axis=1)
    hr, hz, hn = np.split(gh, 3, axis=1)
    r, z = _sig(ir + hr), _sig(iz + hz)
    n = np.tanh(in_ + r * hn)
    return (1 - z) * n + z * h_prev, np.concatenate([r, z, n, hn], axis=1)


def gru_cell_backward(dh, act, h_prev):
    dh, act, h_prev = _f64(dh, act, h_prev)
    r, z, n, hn = np.split(act, 4, axis=1)
    dn_pre = dh * (1 - z) * (1 - n**2)
    dz_pre = dh * (h_prev - n) * z * (1 - z)
    dr_pre = dn_pre * hn * r * (1 - r)
    dgi = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)
    dgh = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)
    return dgi, dgh, dh * z


def lstm_sequence(gates, w_hh, h0, c0, reverse=False):
    gates, w_hh, h0, c0 = _f64(gates, w_hh, h0, c0)
    s = gates.shape[0]
    hs, cs, act = np.zeros((s, *h0.shape)), np.zeros((s, *h0.shape)), np.zeros_like(gates)
    h, c = h0, c0
    for t in _order(s, reverse):
        h, c, act[t] = lstm_cell(gates[t] + h @ w_hh.T, c)
        hs[t], cs[t] = h, c
    return hs, cs, act


def lstm_sequence_backward(dhs, dc_n, act, cs, c0, w_hh, reverse=False):
    dhs, dc_n, act, cs, c0, w_hh = _f64(dhs, dc_n, act, cs, c0, w_hh)
    s = dhs.shape[0]
    order = list(_order(s, reverse))
    dgates = np.zeros_like(act)
    dh_carry, dc = np.zeros_like(c0), dc_n
    for k in range(s - 1, -1, -1):
        t = order[k]
        c_prev = cs[order[k - 1]] if k > 0 else c0
        dgates[t], dc = lstm_cell_backward(dhs[t] + dh_carry, dc, act[t], c_prev, cs[t])
        dh_carry = dgates[t] @ w_hh
    return dgates, dh_carry, dc


def gru_sequence(gi, w_hh, b_hh, h0, reverse=False):
    gi, w_hh, b_hh, h0 = _f64(gi, w_hh, b_hh, h0)
    s = gi.shape[0]
    hs = np.zeros((s, *h0.shape))
    act = np.zeros((s, h0.shape[0], 4 * h0.shape[1]))
    h = h0
    for t in _order(s, reverse):
        gh = h @ w_hh.T + (0.0 if b_hh is None else b_hh)
        h, act[t] = gru_cell(gi[t], gh, h)
        hs[t] = h
    return hs, act


def gru_sequence_backward(dhs, act, hs, h0, w_hh, reverse=False):
    dhs, act, hs, h0, w_hh = _f64(dhs, act, hs, h0, w_hh)
    s, b, h = dhs.shape
    order = list(_order(s, reverse))
    dgi, dgh = np.zeros((s, b, 3 * h)), np.zeros((s, b, 3 * h))
    dh_carry = np.zeros((b, h))
    for k in range(s - 1, -1, -1):
        t = order[k]
        h_prev = hs[order[k - 1]] if k > 0 else h0
        dgi[t], dgh[t], direct = gru_cell_backward(dhs[t] + dh_carry, act[t], h_prev)
        dh_carry = direct + dgh[t] @ w_hh
    return dgi, dgh, dh_carry


def rnn_sequence(pre, w_hh, h0, nonlinearity="tanh", reverse=False):
    pre, w_hh, h0 = _f64(pre, w_hh, h0)
    act = np.tanh if nonlinearity == "tanh" else (lambda v: np.maximum(v, 0.0))
    hs = np.zeros_like(pre)
    h = h0
    for t in _order(pre.shape[0], reverse):
        h = hs[t] = act(pre[t] + h @ w_hh.T)
    return hs


def rnn_sequence_backward(dhs, hs, w_hh, nonlinearity="tanh", reverse=False):
    dhs, hs, w_hh = _f64(dhs, hs, w_hh)
    s = dhs.shape[0]
    order = list(_order(s, reverse))
    dpre = np.zeros_like(dhs)
    dh_carry = np.zeros_like(dhs[0])
    for k in range(s - 1, -1, -1):
        t = order[k]
        dh = dhs[t] + dh_carry
        dpre[t] = dh * (1 - hs[t] ** 2) if nonlinearity == "tanh" else dh * (hs[t] > 0)
        dh_carry = dpre[t] @ w_hh
    return dpre, dh_carry
