"""The parts of public PyTorch programs (nanoGPT, minGPT, the pytorch/examples programs) that
once stopped on fastnn or gave other results than on torch, condensed to what each one needs.
Each test names the program habit it stands for."""

import importlib

import numpy as np
import pytest

import fastnn
from fastnn.vision import models, transforms


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


# Programs that need float64 (a float64 comparison of a language model, scientific fits) call
# set_default_dtype once, and every module they build afterwards must follow it, as in torch.
_MODULES = [
    ("Linear", (3, 2)),
    ("Bilinear", (2, 2, 3)),
    ("Conv2d", (1, 2, 3)),
    ("Embedding", (5, 3)),
    ("LayerNorm", (4,)),
    ("RMSNorm", (4,)),
    ("BatchNorm1d", (3,)),
    ("GroupNorm", (1, 2)),
    ("PReLU", ()),
    ("LSTM", (3, 4)),
    ("GRUCell", (3, 4)),
    ("MultiheadAttention", (4, 2)),
    ("TransformerEncoderLayer", (4, 2, 8)),
]


@pytest.mark.parametrize("name,args", _MODULES, ids=[m[0] for m in _MODULES])
def test_modules_follow_the_default_dtype(name, args):
    torch = pytest.importorskip("torch")
    for lib in (torch, fastnn):
        old = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            m = getattr(lib.nn, name)(*args)
        finally:
            lib.set_default_dtype(old)
        floats = {str(t.dtype) for t in [*m.parameters(), *m.buffers()] if t.is_floating_point()}
        assert floats == {lib.__name__ + ".float64"}, (lib.__name__, name, floats)


def test_default_dtype_reaches_bare_parameters_and_causal_masks():
    old = fastnn.get_default_dtype()
    fastnn.set_default_dtype(fastnn.float64)
    try:
        empty = fastnn.nn.Parameter()
        lazy = fastnn.nn.LazyLinear(2)
        lazy(fastnn.zeros(1, 3))
        mask = fastnn.nn.Transformer.generate_square_subsequent_mask(3)
    finally:
        fastnn.set_default_dtype(old)
    assert (empty.dtype, lazy.weight.dtype, mask.dtype) == (fastnn.float64,) * 3
    # the explicit dtype still wins, and the default is back to float32 afterwards
    assert fastnn.nn.Linear(2, 2, dtype=fastnn.float64).weight.dtype == fastnn.float64
    assert fastnn.nn.Linear(2, 2).weight.dtype == fastnn.float32


# A float64 run of word_language_model's Transformer (an nn.Transformer's encoder under a causal
# mask) trained by hand-written SGD with clipping, from torch's weights: the
# losses must agree with torch's step after step.
def test_transformer_lm_sgd_steps_match_torch_in_float64():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    steps = [(rng.integers(0, 20, (6, 2)), rng.integers(0, 20, (12,))) for _ in range(6)]

    def run(lib, state):
        nn = lib.nn
        model = nn.Transformer(8, 2, 2, 1, 16, dropout=0.0, dtype=lib.float64)
        emb, head = nn.Embedding(20, 8, dtype=lib.float64), nn.Linear(8, 20, dtype=lib.float64)
        params = nn.ModuleList([model.encoder, emb, head])
        if state is not None:
            params.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=lib.float64)
        losses = []
        for x, y in steps:
            params.zero_grad()
            h = model.encoder(emb(lib.tensor(x)) * 2.0, mask=mask)
            out = lib.nn.functional.log_softmax(head(h), dim=-1)
            loss = lib.nn.functional.nll_loss(out.view(-1, 20), lib.tensor(y))
            loss.backward()
            lib.nn.utils.clip_grad_norm_(params.parameters(), 0.25)
            for p in params.parameters():
                p.data.add_(p.grad, alpha=-5.0)
            losses.append(loss.item())
        return params, losses

    theirs, want = run(torch, None)
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    _, want = run(torch, state)  # again from the saved start (the first run moved it)
    _, got = run(fastnn, state)
    np.testing.assert_allclose(got, want, rtol=1e-9)


# fast_neural_style builds its loss network as vgg16(weights=VGG16_Weights.IMAGENET1K_V1): the
# name must exist, and the builder must refuse it clearly (fastnn has no weights to download).
def test_weight_enums_exist_and_builders_refuse_them():
    assert models.VGG16_Weights.DEFAULT is models.VGG16_Weights.IMAGENET1K_V1
    assert models.ResNet50_Weights.DEFAULT is models.ResNet50_Weights.IMAGENET1K_V2
    assert [w.name for w in models.ResNet18_Weights] == ["IMAGENET1K_V1"]
    assert models.AlexNet_Weights.verify("IMAGENET1K_V1") is models.AlexNet_Weights.IMAGENET1K_V1
    assert models.AlexNet_Weights.verify(None) is None
    with pytest.raises(TypeError, match="AlexNet_Weights"):
        models.AlexNet_Weights.verify(models.VGG16_Weights.DEFAULT)
    with pytest.raises(ValueError, match=r"weights=VGG16_Weights\.IMAGENET1K_V1"):
        models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)
    with pytest.raises(ValueError, match=r"weights=ResNet18_Weights\.IMAGENET1K_V1"):
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT)


# torchvision's ToTensor makes images in the default dtype too (a float64 program's MNIST).
def test_to_tensor_follows_the_default_dtype():
    img = np.arange(12, dtype=np.uint8).reshape(2, 3, 2) * 20
    old = fastnn.get_default_dtype()
    fastnn.set_default_dtype(fastnn.float64)
    try:
        one = transforms.ToTensor()(img)
        batch = transforms.Compose([transforms.ToTensor()]).apply_batch(img[None])
        ints = transforms.ToTensor()(img.astype(np.int32))
    finally:
        fastnn.set_default_dtype(old)
    want = img.transpose(2, 0, 1) / 255.0
    assert one.dtype == batch.dtype == ints.dtype == fastnn.float64
    np.testing.assert_array_equal(one.numpy(), want)
    np.testing.assert_array_equal(batch.numpy()[0], want)
    assert transforms.ToTensor()(img).dtype == fastnn.float32
