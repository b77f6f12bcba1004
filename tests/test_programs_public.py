"""The parts of public PyTorch programs (nanoGPT, minGPT, the pytorch/examples programs) that
once stopped on fastnn or gave other results than on torch, condensed to what each one needs.
Each test names the program habit it stands for."""

import importlib

import numpy as np
import pytest

import fastnn


# A language-model trainer imports ``torch.onnx`` at the top and exports only behind a flag.
def test_onnx_imports_and_export_refuses_clearly():
    onnx = importlib.import_module("fastnn.onnx")
    assert fastnn.onnx is onnx
    assert onnx.is_in_onnx_export() is False
    with pytest.raises(RuntimeError, match="no ONNX exporter"):
        onnx.export(fastnn.nn.Linear(2, 2), (fastnn.zeros(1, 2),), "model.onnx")


# The same trainer saves the whole Transformer model and loads it back under safe_globals that
# name every class by its torch path, MultiheadAttention's output projection among them.
def test_whole_transformer_round_trip_under_safe_globals(tmp_path):
    nn = fastnn.nn
    mods = nn.modules
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    model = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
    assert type(model.layers[0].self_attn.out_proj) is mods.linear.NonDynamicallyQuantizableLinear
    path = tmp_path / "model.pt"
    fastnn.save(model, path)
    allowed = [
        fastnn.nn.functional.relu,
        mods.activation.MultiheadAttention,
        mods.container.ModuleList,
        mods.dropout.Dropout,
        mods.linear.Linear,
        mods.linear.NonDynamicallyQuantizableLinear,
        mods.normalization.LayerNorm,
        mods.transformer.TransformerEncoder,
        mods.transformer.TransformerEncoderLayer,
    ]
    with fastnn.serialization.safe_globals(allowed):
        back = fastnn.load(path)
    x = fastnn.tensor(np.random.default_rng(0).standard_normal((5, 3, 8)).astype(np.float32))
    model.eval()
    back.eval()
    with fastnn.no_grad():
        np.testing.assert_array_equal(back(x).numpy(), model(x).numpy())
    # without the projection's class the weights-only loader refuses it
    fewer = [c for c in allowed if "NonDynamic" not in str(c)]
    refused = pytest.raises(Exception, match="NonDynamicallyQuantizableLinear")
    with fastnn.serialization.safe_globals(fewer), refused:
        fastnn.load(path)
