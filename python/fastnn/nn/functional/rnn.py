"""Recurrent layers (Elman RNN, LSTM, GRU): one autograd primitive per layer and direction.

[note: rnn layer] Each primitive runs a whole sequence x (S, B, I) through one layer in one
direction. Forward: one GEMM for the input projection of every step, x W_ih^T + biases
(S*B rows at once), then the time loop in C++ (kernels.lstm_sequence / gru_sequence /
rnn_sequence): per step one GEMM h W_hh^T and one fused element-wise cell pass. Backward: the
C++ loop runs the fused cell backward and one GEMM for dh_{t-1} per step and returns the gate
gradients of all steps; then dx, dW_ih, dW_hh and the biases are one GEMM (or row sum) each
over all S*B rows. A reverse direction is the same loop run from t = S-1 down to 0.

An LSTM layer's output is packed as (S + 1, B, H): the hidden states of every step, then c_n,
so one node carries both (h_n is the slice of the last step run). The gradient of h_n thus
arrives folded into that step's output gradient, which is the same thing since they are the
same values.
"""

from ..._tensor.functions import cat, stack
from ...autograd.function import Function
from .activation import dropout

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class _SequenceLayer(Function):
    """The shared input projection and weight gradients of the three layer kinds."""

    save_inputs = True

    def _project(self, x, w_ih, bias):
        be = self.be
        s, b, i = x.shape
        proj = be.matmul(be.reshape(x, (s * b, i)), w_ih, trans_b=True, bias=bias)
        return be.reshape(proj, (s, b, w_ih.shape[0]))

    def _grad_w_hh(self, d_hid, hs, h0):
        """dW_hh = sum over steps of d_t^T h_{t-1}: one GEMM over the steps whose h_{t-1} is in
        hs (a contiguous slice, no copy), plus the one step that reads h0."""
        be = self.be
        s, b, h = hs.shape
        first = s - 1 if self.reverse else 0  # the step that reads h0
        d0 = be.getitem(d_hid, first)
        dw = be.matmul(d0, h0, trans_a=True)
        if s > 1:
            rest = slice(0, s - 1) if self.reverse else slice(1, s)
            prev = slice(1, s) if self.reverse else slice(0, s - 1)
            d_rest = be.reshape(be.getitem(d_hid, rest), ((s - 1) * b, d_hid.shape[2]))
            h_prev = be.reshape(be.getitem(hs, prev), ((s - 1) * b, h))
            be.iadd(dw, be.matmul(d_rest, h_prev, trans_a=True))
        return dw

    def _weight_grads(self, d_in, d_hid, dh0, hs):
        """Gradients of (x, h0, [c0,] w_ih, w_hh[, b_ih, b_hh]) from the gate gradients of the
        input side d_in and the hidden side d_hid (the same array except for GRU)."""
        be, need = self.be, self.needs_input_grad
        x, h0, w_ih = self.x, self.h0, self.w_ih
        s, b, i = x.shape
        rows = s * b
        d_in2 = be.reshape(d_in, (rows, d_in.shape[2]))
        dx = be.reshape(be.matmul(d_in2, w_ih), x.shape) if need[0] else None
        k = self.n_states
        dw_ih = be.matmul(d_in2, be.reshape(x, (rows, i)), trans_a=True) if need[k + 1] else None
        dw_hh = self._grad_w_hh(d_hid, hs, h0) if need[k + 2] else None
        grads = [dx, dh0 if need[1] else None]
        if k == 2:
            grads.append(self.dc0 if need[2] else None)
        grads += [dw_ih, dw_hh]
        if len(need) > k + 3:
            db_ih = be.sum(d_in2, axis=0) if need[k + 3] or d_hid is d_in else None
            if not need[k + 4]:
                db_hh = None
            elif d_hid is d_in:  # the same sum; a copy, since two parameters need two arrays
                db_hh = be.copy(db_ih)
            else:
                db_hh = be.sum(be.reshape(d_hid, (rows, d_hid.shape[2])), axis=0)
            grads += [db_ih if need[k + 3] else None, db_hh]
        return tuple(grads)

    # For create_graph=True each layer gives graph_forward: its time loop as Tensor ops (the
    # same gates and order as the kernels'), which autograd differentiates to any order.

    def _graph_steps(self, x, w_ih, bias):
        s = x.shape[0]
        proj = x @ w_ih.t() if bias is None else x @ w_ih.t() + bias
        return proj, range(s - 1, -1, -1) if self.reverse else range(s)


class LSTMLayer(_SequenceLayer):
    """(S + 1, B, H) = hs, c_n of one LSTM layer and direction; inputs x, h0, c0, w_ih, w_hh
    and optionally b_ih, b_hh. See [note: rnn layer]."""

    n_states = 2

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse):
        be = self.be
        bias = None if b_ih is None else be.add(b_ih, b_hh)
        hs, cs, act = be.lstm_sequence(self._project(x, w_ih, bias), w_hh, h0, c0, reverse)
        last = 0 if reverse else x.shape[0] - 1
        if self.requires_grad:
            self.x, self.h0, self.c0, self.w_ih, self.w_hh = x, h0, c0, w_ih, w_hh
            self.hs, self.cs, self.act, self.reverse = hs, cs, act, reverse
        return be.concatenate([hs, be.getitem(cs, slice(last, last + 1))], 0)

    def backward(self, g):
        be, s = self.be, self.x.shape[0]
        dgates, dh0, self.dc0 = be.lstm_sequence_backward(
            be.getitem(g, slice(0, s)),
            be.getitem(g, s),
            self.act,
            self.cs,
            self.c0,
            self.w_hh,
            self.reverse,
        )
        return self._weight_grads(dgates, dgates, dh0, self.hs)

    def graph_forward(self, x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
        proj, steps = self._graph_steps(x, w_ih, None if b_ih is None else b_ih + b_hh)
        n = w_hh.shape[1]
        hs = [None] * x.shape[0]
        for t in steps:
            gates = proj[t] + h @ w_hh.t()
            i, f = gates[:, :n].sigmoid(), gates[:, n : 2 * n].sigmoid()
            g, o = gates[:, 2 * n : 3 * n].tanh(), gates[:, 3 * n :].sigmoid()
            c = f * c + i * g
            h = hs[t] = o * c.tanh()
        return cat([stack(hs), c.unsqueeze(0)], 0)


class GRULayer(_SequenceLayer):
    """(S, B, H) hidden states of one GRU layer and direction; inputs x, h0, w_ih, w_hh and
    optionally b_ih, b_hh (b_hh stays inside the step: n = tanh(gi_n + r (W_hn h + b_hn)))."""

    n_states = 1

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse):
        be = self.be
        hs, act = be.gru_sequence(self._project(x, w_ih, b_ih), w_hh, b_hh, h0, reverse)
        if self.requires_grad:
            self.x, self.h0, self.w_ih, self.w_hh = x, h0, w_ih, w_hh
            self.hs, self.act, self.reverse = hs, act, reverse
        return hs

    def backward(self, g):
        dgi, dgh, dh0 = self.be.gru_sequence_backward(
            g, self.act, self.hs, self.h0, self.w_hh, self.reverse
        )
        return self._weight_grads(dgi, dgh, dh0, self.hs)

    def graph_forward(self, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        gi, steps = self._graph_steps(x, w_ih, b_ih)
        n = w_hh.shape[1]
        hs = [None] * x.shape[0]
        for t in steps:
            gh = h @ w_hh.t() if b_hh is None else h @ w_hh.t() + b_hh
            r = (gi[t, :, :n] + gh[:, :n]).sigmoid()
            z = (gi[t, :, n : 2 * n] + gh[:, n : 2 * n]).sigmoid()
            cand = (gi[t, :, 2 * n :] + r * gh[:, 2 * n :]).tanh()
            h = hs[t] = (1 - z) * cand + z * h
        return stack(hs)


class RNNLayer(_SequenceLayer):
    """(S, B, H) hidden states h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) of one
    Elman RNN layer and direction, act tanh or relu."""

    n_states = 1

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse, nonlinearity):
        be = self.be
        bias = None if b_ih is None else be.add(b_ih, b_hh)
        hs = be.rnn_sequence(self._project(x, w_ih, bias), w_hh, h0, nonlinearity, reverse)
        if self.requires_grad:
            self.x, self.h0, self.w_ih, self.w_hh = x, h0, w_ih, w_hh
            self.hs, self.reverse, self.nonlinearity = hs, reverse, nonlinearity
        return hs

    def backward(self, g):
        dpre, dh0 = self.be.rnn_sequence_backward(
            g, self.hs, self.w_hh, self.nonlinearity, self.reverse
        )
        return self._weight_grads(dpre, dpre, dh0, self.hs)

    def graph_forward(self, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        proj, steps = self._graph_steps(x, w_ih, None if b_ih is None else b_ih + b_hh)
        hs = [None] * x.shape[0]
        for t in steps:
            pre = proj[t] + h @ w_hh.t()
            h = hs[t] = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return stack(hs)


# ---- the stack of layers and directions (nn.RNN / nn.LSTM / nn.GRU call this) -------------------


def layer(mode, x, h0, c0, weights, reverse):
    """One layer, one direction: (hs (S, B, H), h_n, c_n or None) as Tensors."""
    s = x.shape[0]
    last = 0 if reverse else s - 1
    if mode == "LSTM":
        packed = LSTMLayer.apply(x, h0, c0, *weights, reverse=reverse)
        return packed[:s], packed[last], packed[s]
    if mode == "GRU":
        hs = GRULayer.apply(x, h0, *weights, reverse=reverse)
    else:
        nl = "tanh" if mode == "RNN_TANH" else "relu"
        hs = RNNLayer.apply(x, h0, *weights, reverse=reverse, nonlinearity=nl)
    return hs, hs[last], None


def _stack(one, x, h0, c0, num_layers, bidirectional, dropout_p, training, feature_dim):
    """num_layers layers of 1 or 2 directions, ``one(x, h0, c0, i, reverse)`` running layer and
    direction i on the layer's input; the directions' outputs joined along ``feature_dim``."""
    dirs = 2 if bidirectional else 1
    h_n, c_n = [], []
    for k in range(num_layers):
        outs = []
        for d in range(dirs):
            i = k * dirs + d
            out, h, c = one(x, h0[i], None if c0 is None else c0[i], i, d == 1)
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if dirs == 1 else cat(outs, feature_dim)
        if dropout_p > 0 and training and k < num_layers - 1:
            x = dropout(x, dropout_p, True)
    return x, stack(h_n, 0), (stack(c_n, 0) if c0 is not None else None)


def run(mode, x, h0, c0, weights, num_layers, bidirectional, dropout_p, training):
    """Run x (S, B, I) through num_layers layers of 1 or 2 directions.

    h0, c0: (layers * dirs, B, H) Tensors (c0 None unless LSTM); weights: per layer and
    direction, the list of parameters in torch's order. Returns (output (S, B, dirs * H),
    h_n, c_n)."""

    def one(x, h, c, i, reverse):
        return layer(mode, x, h, c, weights[i], reverse)

    return _stack(one, x, h0, c0, num_layers, bidirectional, dropout_p, training, 2)


# ---- packed sequences (nn.utils.rnn.PackedSequence) ---------------------------------------------


def _segments(batch_sizes):
    """(steps, batch, first row) of each run of equal batch sizes: one contiguous block of the
    packed rows, the sequences of the run all going through all of its steps."""
    segs, t0, row = [], 0, 0
    for t in range(1, len(batch_sizes) + 1):
        if t == len(batch_sizes) or batch_sizes[t] != batch_sizes[t0]:
            b = batch_sizes[t0]
            segs.append((t - t0, b, row))
            row += (t - t0) * b
            t0 = t
    return segs


def _packed_direction(mode, data, segs, h0, c0, weights, reverse):
    """One layer, one direction over packed rows: (output rows, h_n (B, H), c_n or None).

    Forwards in time the batch shrinks at each segment: the rows past the next segment's batch
    end there, and their last states are their h_n. Backwards in time it grows: the rows joining
    at a segment start from h0. Each segment is one call of the layer's sequence kernel."""
    lstm = c0 is not None
    feat = data.shape[1]
    outs = [None] * len(segs)
    order = reversed(range(len(segs))) if reverse else range(len(segs))
    h = c = None
    ended_h, ended_c = [], []
    for k in order:
        steps, b, row = segs[k]
        x = data[row : row + steps * b].reshape(steps, b, feat)
        if reverse:  # continuing rows first, then the ones that start here
            have = 0 if h is None else h.shape[0]
            h_in = h0[:b] if h is None else (cat([h, h0[have:b]], 0) if have < b else h)
            c_in = None
            if lstm:
                c_in = c0[:b] if c is None else (cat([c, c0[have:b]], 0) if have < b else c)
        else:
            h_in = h0[:b] if h is None else h
            c_in = (c0[:b] if c is None else c) if lstm else None
        hs, h_last, c_last = layer(mode, x, h_in, c_in, weights, reverse)
        outs[k] = hs.reshape(steps * b, hs.shape[2])
        if reverse:
            h, c = h_last, c_last
            continue
        nxt = segs[k + 1][1] if k + 1 < len(segs) else 0
        ended_h.append(h_last[nxt:b])
        if lstm:
            ended_c.append(c_last[nxt:b])
        h = h_last[:nxt]
        c = c_last[:nxt] if lstm else None
    if not reverse:  # rows ended in later segments have lower indices
        h = cat(ended_h[::-1], 0)
        c = cat(ended_c[::-1], 0) if lstm else None
    return cat(outs, 0), h, c


def run_packed(
    mode, data, batch_sizes, h0, c0, weights, num_layers, bidirectional, dropout_p, training
):
    """run over a PackedSequence's rows: data (N, I) and its batch_sizes (a list); h0, c0 in the
    sorted batch order. Returns (output rows (N, dirs * H), h_n, c_n)."""
    segs = _segments(batch_sizes)

    def one(x, h, c, i, reverse):
        return _packed_direction(mode, x, segs, h, c, weights[i], reverse)

    return _stack(one, data, h0, c0, num_layers, bidirectional, dropout_p, training, 1)
