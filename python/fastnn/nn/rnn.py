"""Recurrent layers: RNN (tanh / relu), LSTM, GRU and their single-step cells, with PyTorch's
signatures, defaults, parameter names and shapes (weight_ih_l{k}[_reverse] (gates*H, I or
dirs*H), weight_hh_l{k} (gates*H, H), bias_ih_l{k}, bias_hh_l{k}; gate order LSTM i, f, g, o,
GRU r, z, n), so a torch state_dict loads unchanged. Every parameter starts as
U(-1/sqrt(hidden), 1/sqrt(hidden)), as in torch. The work is in nn/functional/rnn.py
[note: rnn layer]. A PackedSequence input runs each run of steps with one batch size as one
sequence call (functional/rnn.py run_packed). Not supported: proj_size != 0.
"""

import math
import numbers
import warnings

import numpy as np

from .._core import dtype as _dtype
from .._tensor import Tensor
from .._tensor.creation import zeros
from . import init
from .functional import rnn as R
from .layers import _place_parameters
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]


def _positive(v, what, cls):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{cls}: {what} should be of type int, got: {type(v).__name__}")
    if v <= 0:
        raise ValueError(f"{what} must be greater than zero")
    return int(v)


def _param_dtype(dtype, cls):
    dt = _dtype.default() if dtype is None else np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"{cls}: dtype must be float32 or float64, got {dt}")
    return dt


def _reset(module):
    stdv = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -stdv, stdv)


def _check_input_dtype(cls, input, weight):
    if not isinstance(input, Tensor):
        raise TypeError(f"{cls}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype != weight.dtype:
        raise ValueError(
            f"{cls} input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
            f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})"
        )


def _check_hidden_dtype(cls, input, hx):
    if not isinstance(hx, Tensor):
        raise TypeError(f"{cls}: hidden states must be Tensors, got {type(hx).__name__}")
    if hx.dtype != input.dtype:
        raise RuntimeError(
            f"{cls}: input and hidden tensors are not the same dtype, found input tensor with "
            f"{input.dtype} and hidden tensor with {hx.dtype}"
        )


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrent layer; ``mode`` is 'LSTM', 'GRU',
    'RNN_TANH' or 'RNN_RELU'."""

    def __init__(
        self,
        mode,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        cls = type(self).__name__
        if mode not in R._GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, numbers.Number)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if proj_size != 0:
            if mode != "LSTM":
                raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
            raise NotImplementedError(
                f"{cls}: proj_size={proj_size} is not supported (fastnn implements proj_size=0)"
            )
        self.mode = mode
        self.input_size = _positive(input_size, "input_size", cls)
        self.hidden_size = _positive(hidden_size, "hidden_size", cls)
        self.num_layers = _positive(num_layers, "num_layers", cls)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bool(bidirectional), 0
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        dt = _param_dtype(dtype, cls)
        gates, dirs, h = R._GATES[mode], 2 if bidirectional else 1, self.hidden_size
        self._flat_weights_names = []
        for k in range(self.num_layers):
            width = self.input_size if k == 0 else h * dirs
            for d in range(dirs):
                sfx = f"_l{k}" + ("_reverse" if d == 1 else "")
                shapes = [("weight_ih", (gates * h, width)), ("weight_hh", (gates * h, h))]
                if self.bias:
                    shapes += [("bias_ih", (gates * h,)), ("bias_hh", (gates * h,))]
                for name, shape in shapes:
                    setattr(self, name + sfx, Parameter(Tensor(np.empty(shape, dt))))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()
        _place_parameters(self, device)

    def reset_parameters(self):
        _reset(self)

    def flatten_parameters(self):
        """Accepted for torch programs (cuDNN's weight packing); fastnn's kernels read the
        parameters where they are, so there is nothing to do."""

    @property
    def all_weights(self):
        """The parameters per layer and direction, each list in torch's order."""
        n = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, w) for w in names[i : i + n]] for i in range(0, len(names), n)]

    def _states(self, hx, input, batch, unbatched):
        """(h0, c0) as (layers * dirs, B, H) Tensors, checked like torch."""
        cls, lstm = type(self).__name__, self.mode == "LSTM"
        shape = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if hx is None:
            z = zeros(shape, dtype=input.dtype, device=input.device)
            return z, (zeros(shape, dtype=input.dtype, device=input.device) if lstm else None)
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{cls}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            states = list(hx)
        else:
            states = [hx]
        for s in states:
            _check_hidden_dtype(cls, input, s)
        want = 2 if unbatched else 3
        if any(s.ndim != want for s in states):
            dims = ", ".join(f"{s.ndim}-D" for s in states)
            kind = "unbatched 2-D" if unbatched else "batched 3-D"
            names = "hx and cx" if lstm else "hx"
            raise RuntimeError(
                f"For {kind} input, {names} should also be {want}-D but got "
                f"({dims}) tensor{'s' if lstm else ''}"
            )
        if unbatched:
            states = [s.unsqueeze(1) for s in states]
        for i, s in enumerate(states):
            if tuple(s.shape) != shape:
                what = f"hidden[{i}]" if lstm else "hidden"
                raise RuntimeError(
                    f"Expected {what} size {shape}, got {list(s.shape)}"
                    if not unbatched
                    else f"Expected {what} size {(shape[0], shape[2])}, got "
                    f"{list(s.shape[:1]) + list(s.shape[2:])}"
                )
        return states[0], (states[1] if lstm else None)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        cls = type(self).__name__
        weights = self.all_weights
        _check_input_dtype(cls, input, weights[0][0])
        if input.ndim not in (2, 3):
            raise ValueError(f"{cls}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else input
        if self.batch_first and not unbatched:
            x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {x.shape[-1]}"
            )
        if x.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        h0, c0 = self._states(hx, input, x.shape[1], unbatched)
        out, h_n, c_n = R.run(
            self.mode,
            x,
            h0,
            c0,
            weights,
            self.num_layers,
            self.bidirectional,
            self.dropout,
            self.training,
        )
        if unbatched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return (out, (h_n, c_n)) if self.mode == "LSTM" else (out, h_n)

    def _forward_packed(self, packed, hx):
        """A PackedSequence in, a PackedSequence out: only the steps each sequence has run. hx
        and the returned states are in the caller's batch order (sorted_indices applied)."""
        cls = type(self).__name__
        data, batch_sizes, sorted_idx, unsorted_idx = packed
        weights = self.all_weights
        _check_input_dtype(cls, data, weights[0][0])
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{data.shape[-1] if data.ndim else 0}"
            )
        sizes = [int(v) for v in batch_sizes.tolist()]
        h0, c0 = self._states(hx, data, sizes[0], False)
        if hx is not None and sorted_idx is not None:
            h0 = h0.index_select(1, sorted_idx)
            c0 = None if c0 is None else c0.index_select(1, sorted_idx)
        out, h_n, c_n = R.run_packed(
            self.mode,
            data,
            sizes,
            h0,
            c0,
            weights,
            self.num_layers,
            self.bidirectional,
            self.dropout,
            self.training,
        )
        if unsorted_idx is not None:
            h_n = h_n.index_select(1, unsorted_idx)
            c_n = None if c_n is None else c_n.index_select(1, unsorted_idx)
        output = PackedSequence(out, batch_sizes, sorted_idx, unsorted_idx)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.
    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; c' = f c + i g, h' = o tanh(c'). Returns
    (output, (h_n, c_n)). proj_size must be 0."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )


class GRU(RNNBase):
    """Gated recurrent unit: r, z, n with n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h' = (1 - z) n + z h."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )


# ---- single steps --------------------------------------------------------------------------------


class RNNCellBase(Module):
    """One step of a recurrent layer: weight_ih (chunks*H, I), weight_hh (chunks*H, H),
    bias_ih, bias_hh (chunks*H,). Runs as a one-step sequence of the layer primitive."""

    _mode = None

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        cls = type(self).__name__
        self.input_size = _positive(input_size, "input_size", cls)
        self.hidden_size = _positive(hidden_size, "hidden_size", cls)
        self.bias = bool(bias)
        dt = _param_dtype(dtype, cls)
        n = num_chunks * self.hidden_size
        self.weight_ih = Parameter(Tensor(np.empty((n, self.input_size), dt)))
        self.weight_hh = Parameter(Tensor(np.empty((n, self.hidden_size), dt)))
        if self.bias:
            self.bias_ih = Parameter(Tensor(np.empty((n,), dt)))
            self.bias_hh = Parameter(Tensor(np.empty((n,), dt)))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        _place_parameters(self, device)

    def reset_parameters(self):
        _reset(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, input, hx, lstm):
        cls = type(self).__name__
        _check_input_dtype(cls, input, self.weight_ih)
        if input.ndim not in (1, 2):
            raise ValueError(f"{cls}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {x.shape[1]} expected {self.input_size}"
            )
        batch = x.shape[0]
        if hx is None:
            shape = (batch, self.hidden_size)
            hx = [zeros(shape, dtype=input.dtype, device=input.device)] * (2 if lstm else 1)
            return self._run_step(x, hx, lstm, unbatched)
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{cls}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            hx = list(hx)
        else:
            hx = [hx]
        states = []
        for i, s in enumerate(hx):
            _check_hidden_dtype(cls, input, s)
            if s.ndim != input.ndim:
                raise RuntimeError(
                    f"{cls}: Expected hidden to be {input.ndim}D like the input, got {s.ndim}D"
                )
            s = s.unsqueeze(0) if unbatched else s
            if s.shape[0] != batch:
                raise RuntimeError(
                    f"Input batch size {batch} doesn't match hidden{i} batch size {s.shape[0]}"
                )
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{i} has inconsistent hidden_size: got {s.shape[1]}, expected "
                    f"{self.hidden_size}"
                )
            states.append(s)
        return self._run_step(x, states, lstm, unbatched)

    def _run_step(self, x, states, lstm, unbatched):
        weights = [self.weight_ih, self.weight_hh]
        if self.bias:
            weights += [self.bias_ih, self.bias_hh]
        x1 = x.unsqueeze(0)
        if lstm:
            _, h, c = R.layer("LSTM", x1, states[0], states[1], weights, False)
            return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)
        _, h, _ = R.layer(self._mode, x1, states[0], None, weights, False)
        return h.squeeze(0) if unbatched else h


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input, hx=None):
        return self._step(input, hx, False)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx, True)


class GRUCell(RNNCellBase):
    """One GRU step: returns h'."""

    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx, False)
