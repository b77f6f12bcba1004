"""``fastnn.nn.modules.activation``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.activation``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..activation import ELU, SELU, Hardtanh, LogSigmoid, Mish, PReLU, ReLU6, RReLU, SiLU, Softplus
from ..layers import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from ..layers_extra import (
    CELU,
    GLU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Softmax2d,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from ..transformer import MultiheadAttention

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "GLU",
    "SELU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "MultiheadAttention",
    "PReLU",
    "RReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmax2d",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanh",
    "Tanhshrink",
    "Threshold",
]
