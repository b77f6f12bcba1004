"""Fuzz: nn layers' constructors and forward, and the losses, against torch (fuzz_api.py's
oracle). Both libraries' parameters get the same values (drawn from each parameter's name), so
a forward that both accept must agree in values too."""

import zlib

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given
from hypothesis import strategies as st

from fuzz_api import JUNK, Arr, agree, arrays, int_args, shapes

pytestmark = pytest.mark.usefixtures("hang_guard")

LAYER_NAMES = ("shape", "size", "dtype", "input", "expected", "weight", "dimension", "channels")


def _same_parameters(lib, module):
    with lib.no_grad():
        for name, p in module.named_parameters():
            rng = np.random.default_rng(zlib.crc32(name.encode()))
            p.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))


def layer(lib, cls, args, kwargs, x, train):
    m = getattr(lib.nn, cls)(*args, **kwargs)
    _same_parameters(lib, m)
    m.train(train)
    out = m(x)
    return out if cls != "LSTM" else (out[0], out[1][0], out[1][1])


def _names(cls, *extra):
    return (cls, *LAYER_NAMES, *extra)


def _input(data, channels_last, lead=2, hostile=0.0):
    """A float input whose last dims are `channels_last` (mostly), with `lead` leading dims."""
    if data.draw(st.integers(0, 5)) == 0:
        shape = data.draw(shapes())
    else:
        shape = tuple(data.draw(shapes(lead, lead))) + tuple(channels_last)
    return data.draw(arrays(shape=shape, dtypes=["float32"] * 5 + ["float64"], hostile=hostile))


# torch reads a bool as 0 or 1 where an int goes; fastnn refuses bools there (not fuzzed)
JUNK = JUNK.filter(lambda v: not isinstance(v, bool))
SIZE = st.one_of(
    st.integers(0, 5), st.integers(1, 5), int_args(-2, 5).filter(lambda v: v is not True)
)
PAIR = st.one_of(SIZE, st.tuples(st.integers(0, 4), st.integers(0, 4)), JUNK)
BOOL = st.one_of(st.booleans(), st.booleans(), JUNK)


@given(data=st.data(), fin=SIZE, fout=SIZE, bias=BOOL, train=st.booleans())
def test_fuzz_linear(data, fin, fout, bias, train):
    x = _input(data, (fin,) if isinstance(fin, int) and 0 <= fin < 9 else (), 1)
    agree(
        layer,
        "Linear",
        (fin, fout),
        {"bias": bias},
        x,
        train,
        names=_names("Linear", "in_features", "out_features", "bias", "mat1"),
        tol=(1e-4, 1e-5),
    )


@given(
    data=st.data(),
    cin=st.integers(1, 4),
    cout=st.one_of(st.integers(1, 4), SIZE),
    kernel=PAIR,
    stride=st.one_of(st.just(1), PAIR),
    padding=st.one_of(st.just(0), PAIR, st.sampled_from(["same", "valid", "full"])),
    # not 0: torch takes dilation 0, fastnn refuses it
    dilation=st.one_of(st.just(1), PAIR).filter(lambda v: v not in (0, (0, 0))),
    groups=st.one_of(st.just(1), st.integers(0, 3)),
)
def test_fuzz_conv2d(data, cin, cout, kernel, stride, padding, dilation, groups):
    x = _input(data, (cin, data.draw(st.integers(1, 7)), data.draw(st.integers(1, 7))), 1)
    kw = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    agree(
        layer,
        "Conv2d",
        (cin, cout, kernel),
        kw,
        x,
        True,
        tol=(1e-4, 1e-4),
        names=_names(
            "Conv2d",
            "kernel_size",
            "stride",
            "padding",
            "dilation",
            "groups",
            "in_channels",
            "out_channels",
            "output size",
            "kernel",
        ),
    )


@given(
    data=st.data(),
    cls=st.sampled_from(["MaxPool2d", "AvgPool2d"]),
    kernel=PAIR,
    stride=st.one_of(st.none(), PAIR),
    padding=st.one_of(st.just(0), PAIR),
    ceil_mode=st.booleans(),
)
def test_fuzz_pool2d(data, cls, kernel, stride, padding, ceil_mode):
    x = _input(data, (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 7)), 5), 1)
    kw = {"stride": stride, "padding": padding, "ceil_mode": ceil_mode}
    agree(
        layer,
        cls,
        (kernel,),
        kw,
        x,
        True,
        names=_names(cls, "kernel_size", "stride", "padding", "pad", "ceil_mode", "output size"),
    )


@given(
    data=st.data(),
    cls=st.sampled_from(["BatchNorm1d", "BatchNorm2d"]),
    features=st.integers(1, 4),  # torch takes 0 or None features (unused); fastnn refuses them
    eps=st.one_of(st.just(1e-5), st.sampled_from([0.0, -1.0, 1.0]), JUNK),
    momentum=st.one_of(st.just(0.1), st.sampled_from([None, 0.0, 1.5]), JUNK),
    affine=st.booleans(),  # torch reads any object here as a truth value
    track=st.booleans(),
    train=st.booleans(),
)
def test_fuzz_batchnorm(data, cls, features, eps, momentum, affine, track, train):
    c = features if isinstance(features, int) and 0 <= features < 9 else 2
    rest = (c,) if cls == "BatchNorm1d" else (c, data.draw(st.integers(1, 3)), 2)
    x = _input(data, rest, 1)
    kw = {"eps": eps, "momentum": momentum, "affine": affine, "track_running_stats": track}
    agree(
        layer,
        cls,
        (features,),
        kw,
        x,
        train,
        tol=(1e-3, 1e-4),
        names=_names(
            cls,
            "num_features",
            "eps",
            "momentum",
            "affine",
            "track_running_stats",
            "values per channel",
            "batch",
        ),
    )


@given(
    data=st.data(),
    num=SIZE,
    dim=SIZE,
    padding_idx=st.one_of(st.none(), int_args(-6, 6)),
)
def test_fuzz_embedding(data, num, dim, padding_idx):
    idx = data.draw(
        st.one_of(
            arrays(dtypes=["int64"], hostile=0.0),
            arrays(dtypes=["int32", "float32", "bool"], hostile=0.0),
        )
    )
    if idx.a.dtype.kind == "i" and idx.a.size:
        rows = num if isinstance(num, int) and 0 < num < 100 else 2
        idx.a[...] = np.abs(idx.a) % (rows + 1)  # mostly in range, sometimes one past the end
    agree(
        layer,
        "Embedding",
        (num, dim),
        {"padding_idx": padding_idx},
        idx,
        True,
        names=_names(
            "Embedding",
            "num_embeddings",
            "embedding_dim",
            "padding_idx",
            "index",
            "indices",
            "Long",
            "Int",
            "range",
        ),
    )


@given(
    data=st.data(),
    hin=st.integers(1, 4),
    hidden=st.one_of(st.integers(1, 4), SIZE),
    layers=st.one_of(st.integers(1, 2), SIZE),
    # plain bools: torch checks these flags only deep in its C++ signature matching
    batch_first=st.booleans(),
    bidirectional=st.booleans(),
)
def test_fuzz_lstm(data, hin, hidden, layers, batch_first, bidirectional):
    x = _input(data, (hin,), data.draw(st.integers(1, 2)))
    kw = {"num_layers": layers, "batch_first": batch_first, "bidirectional": bidirectional}
    agree(
        layer,
        "LSTM",
        (hin, hidden),
        kw,
        x,
        True,
        tol=(1e-4, 1e-5),
        names=_names(
            "LSTM",
            "input_size",
            "hidden_size",
            "num_layers",
            "batch_first",
            "bidirectional",
            "dim",
            "RNN",
        ),
    )


@given(
    data=st.data(),
    p=st.one_of(st.sampled_from([0.0, 0.5, 1.0, -0.1, 1.1]), JUNK),
    inplace=BOOL,
    train=st.booleans(),
)
def test_fuzz_dropout(data, p, inplace, train):
    x = data.draw(arrays(dtypes=["float32", "float64"], hostile=0.0))
    deterministic = not train or p in (0.0, 1.0)
    agree(
        layer,
        "Dropout",
        (p,),
        {"inplace": inplace},
        x,
        train,
        values=deterministic,
        names=_names("Dropout", "p", "probability", "inplace"),
    )


# ---- losses -------------------------------------------------------------------------------------

REDUCTION = st.one_of(
    st.sampled_from(["mean", "sum", "none"]), st.sampled_from(["avg", "", None, 1])
)
REGRESSION = [
    "MSELoss",
    "L1Loss",
    "HuberLoss",
    "SmoothL1Loss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "KLDivLoss",
]


def loss(lib, cls, reduction, x, y):
    return getattr(lib.nn, cls)(reduction=reduction)(x, y)


@given(data=st.data(), cls=st.sampled_from(REGRESSION), reduction=REDUCTION)
def test_fuzz_regression_losses(data, cls, reduction):
    shape = data.draw(shapes(max_dims=3))
    x = data.draw(arrays(shape=shape, dtypes=["float32"] * 3 + ["float64"], hostile=0.0))
    if cls == "BCELoss" and x.a.dtype.kind == "f":
        x.a[...] = 1 / (1 + np.exp(-np.nan_to_num(x.a.astype(np.float64)).clip(-30, 30)))
    other = shape if data.draw(st.integers(0, 4)) else data.draw(shapes(max_dims=3))
    y = data.draw(arrays(shape=other, dtypes=["float32"], hostile=0.0))
    if cls == "BCELoss" and y.a.dtype.kind == "f":
        y.a[...] = (y.a > 0).astype(y.a.dtype)
    agree(
        loss,
        cls,
        reduction,
        x,
        y,
        tol=(1e-4, 1e-5),
        names=(cls, "reduction", "size", "shape", "target", "input", "dtype", "broadcast"),
    )


@given(
    data=st.data(),
    cls=st.sampled_from(["CrossEntropyLoss", "NLLLoss"]),
    reduction=REDUCTION,
    n=st.integers(0, 4),
    c=st.integers(1, 5),
)
def test_fuzz_classification_losses(data, cls, reduction, n, c):
    x = data.draw(arrays(shape=(n, c), dtypes=["float32"] * 3 + ["float64"], hostile=0.0))
    if data.draw(st.integers(0, 4)):
        y = Arr(
            np.asarray(data.draw(st.lists(st.integers(-1, c), min_size=n, max_size=n)), "int64")
        )
        if data.draw(st.booleans()):
            y.a = y.a.clip(0, c - 1)
    else:
        # not int32: fastnn takes int32 class indices, torch refuses them
        y = data.draw(arrays(dtypes=["float32", "int64"], hostile=0.0))
    agree(
        loss,
        cls,
        reduction,
        x,
        y,
        tol=(1e-4, 1e-5),
        names=(
            cls,
            "reduction",
            "size",
            "shape",
            "target",
            "input",
            "dtype",
            "class",
            "batch",
            "bounds",
            "range",
            "Long",
        ),
    )
