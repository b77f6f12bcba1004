"""``fastnn.nn.modules.rnn``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.rnn``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
]
