"""torch's nn.modules.<file> paths name the very classes fastnn.nn exports."""

import importlib

import pytest

import fastnn
from fastnn import nn

_EXPECTED = {
    "activation": ["ReLU", "GELU", "MultiheadAttention", "Softmax", "PReLU"],
    "batchnorm": ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"],
    "container": ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"],
    "conv": ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "ConvTranspose3d", "LazyConv3d"],
    "dropout": ["Dropout", "Dropout2d", "AlphaDropout"],
    "linear": ["Linear", "Identity", "Bilinear", "LazyLinear"],
    "loss": ["CrossEntropyLoss", "MSELoss", "NLLLoss", "CTCLoss"],
    "module": ["Module"],
    "normalization": ["LayerNorm", "GroupNorm", "LocalResponseNorm"],
    "pooling": ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"],
    "rnn": ["RNN", "LSTM", "GRU", "LSTMCell", "RNNBase"],
    "sparse": ["Embedding", "EmbeddingBag"],
    "transformer": ["Transformer", "TransformerEncoderLayer", "TransformerDecoder"],
}


@pytest.mark.parametrize("sub", sorted(_EXPECTED))
def test_submodule_names_are_fastnn_nn_classes(sub):
    mod = importlib.import_module(f"fastnn.nn.modules.{sub}")
    assert getattr(nn.modules, sub) is mod
    for name in _EXPECTED[sub]:
        assert getattr(mod, name) is getattr(nn, name), (sub, name)
        assert getattr(nn.modules, name) is getattr(nn, name)
    for name in mod.__all__:
        assert getattr(mod, name) is getattr(nn, name)


def test_paths_used_in_code_and_pickles():
    from fastnn.nn.modules.conv import Conv2d
    from fastnn.nn.modules.dropout import Dropout
    from fastnn.nn.modules.linear import Linear
    from fastnn.nn.modules.module import Module

    assert Dropout is fastnn.nn.Dropout and Linear is fastnn.nn.Linear
    assert Conv2d is fastnn.nn.Conv2d and Module is fastnn.nn.Module
    assert isinstance(Linear(2, 3), Module)


def test_only_names_that_fastnn_has_are_listed():
    # torch keeps FractionalMaxPool2d in nn.modules.pooling; fastnn has none, so the path has
    # none either
    assert not hasattr(nn, "FractionalMaxPool2d")
    assert not hasattr(nn.modules.pooling, "FractionalMaxPool2d")
