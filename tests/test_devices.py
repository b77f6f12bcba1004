"""Devices without a GPU: fastnn.accelerator, fastnn.backends, the default device, device objects
and ordinals; fastnn.Generator; default_collate's dtypes."""

import collections
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.utils import data

no_gpu = pytest.mark.skipif(fastnn.cuda.is_available(), reason="checks the no-GPU answers")


@pytest.fixture
def default_device_restored():
    yield
    fastnn.set_default_device(None)


# ---- accelerator and backends ----


def test_cuda_is_bf16_supported_is_false_bfloat16_lives_on_the_host():
    # a training script picks its dtype with cuda.is_available() and cuda.is_bf16_supported():
    # fastnn.bfloat16 exists, but the GPU kernels take no bfloat16, so the answer stays False
    assert fastnn.cuda.is_bf16_supported() is False
    assert fastnn.cuda.is_bf16_supported(including_emulation=False) is False
    assert fastnn.bfloat16.is_floating_point


def precision_walk(lib):
    """What torch programs do with the float32 matmul precision, and what each step reads."""
    seen = [lib.get_float32_matmul_precision(), lib.backends.cuda.matmul.allow_tf32]
    try:
        for value in ("high", "medium", "highest"):
            lib.set_float32_matmul_precision(value)
            seen += [lib.get_float32_matmul_precision(), lib.backends.cuda.matmul.allow_tf32]
        lib.backends.cuda.matmul.allow_tf32 = True
        seen.append(lib.get_float32_matmul_precision())
        lib.backends.cuda.matmul.allow_tf32 = False
        seen.append(lib.get_float32_matmul_precision())
        with pytest.warns(UserWarning, match="not one of"):
            lib.set_float32_matmul_precision("fastest")
        seen.append(lib.get_float32_matmul_precision())
    finally:
        lib.set_float32_matmul_precision("highest")
    return seen


def test_float32_matmul_precision_follows_torch():
    ours = precision_walk(fastnn)
    assert ours[:2] == ["highest", False] and ours[-1] == "highest"
    torch = pytest.importorskip("torch")
    assert ours == precision_walk(torch)


def test_float32_matmul_precision_changes_no_result():
    x = fastnn.randn(8, 8)
    before = (x @ x).numpy()
    try:
        fastnn.set_float32_matmul_precision("medium")
        np.testing.assert_array_equal((x @ x).numpy(), before)
    finally:
        fastnn.set_float32_matmul_precision("highest")


@no_gpu
def test_accelerator_answers_without_a_gpu():
    assert fastnn.accelerator.is_available() is False
    assert fastnn.accelerator.current_accelerator() is None
    assert fastnn.accelerator.device_count() == 0
    assert fastnn.cuda.device_count() == 0
    dev = fastnn.device("cuda" if fastnn.cuda.is_available() else "cpu")
    assert fastnn.zeros(2, device=dev).device == "cpu"


def test_accelerator_follows_cuda():
    assert fastnn.accelerator.is_available() == fastnn.cuda.is_available()
    assert fastnn.accelerator.device_count() == fastnn.cuda.device_count()
    if fastnn.cuda.is_available():
        assert fastnn.accelerator.current_accelerator() == fastnn.device("cuda")


def test_backends_match_torchs_names_and_defaults():
    torch = pytest.importorskip("torch")
    b, tb = fastnn.backends, torch.backends
    assert b.mps.is_available() is False and b.mps.is_built() is False
    assert b.cudnn.is_available() is False and b.cudnn.version() is None
    for flag in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(b.cudnn, flag) == getattr(tb.cudnn, flag), flag
    assert b.cuda.matmul.allow_tf32 == tb.cuda.matmul.allow_tf32
    assert b.cuda.is_built() == fastnn.cuda.is_built()


def test_backend_flags_are_settable_no_ops():
    x = fastnn.randn(4, 4, dtype=fastnn.float64)
    before = (x @ x).numpy()
    old = (fastnn.backends.cudnn.benchmark, fastnn.backends.cuda.matmul.allow_tf32)
    try:
        fastnn.backends.cudnn.benchmark = True
        fastnn.backends.cudnn.deterministic = True
        fastnn.backends.cuda.matmul.allow_tf32 = True
        np.testing.assert_array_equal((x @ x).numpy(), before)
    finally:
        fastnn.backends.cudnn.benchmark, fastnn.backends.cuda.matmul.allow_tf32 = old
        fastnn.backends.cudnn.deterministic = False
    with pytest.raises(AttributeError):
        fastnn.backends.cuda.matmul.allow_tf33 = True  # a typo is not silently accepted


@no_gpu
def test_cuda_seeding_works_without_a_gpu():
    fastnn.cuda.manual_seed(1)
    fastnn.cuda.manual_seed_all(1)


# ---- device objects and the default device ----


def test_device_objects_and_ordinals():
    assert fastnn.device(0) == fastnn.device("cuda:0") == "cuda:0"
    assert fastnn.device("cuda", 1) == "cuda:1"
    assert fastnn.device(fastnn.device("cpu")) == "cpu"
    with pytest.raises(RuntimeError, match="negative"):
        fastnn.device(-1)
    cpu = fastnn.device("cpu")
    t = fastnn.ones(3, device=cpu)
    assert t.to(cpu) is t and t.to("cpu") is t
    assert nn.Linear(2, 2).to(cpu).weight.device == "cpu"
    assert fastnn.tensor([1.0], device=cpu).device == cpu


@no_gpu
@pytest.mark.parametrize("dev", [0, "cuda:0", "cuda", fastnn.device("cuda")])
def test_a_cuda_device_without_a_gpu_is_a_clear_runtime_error(dev):
    t = fastnn.ones(2)
    with pytest.raises(RuntimeError, match="CUDA"):
        fastnn.zeros(2, device=dev)
    with pytest.raises(RuntimeError, match="CUDA"):
        t.to(dev)
    with pytest.raises(RuntimeError, match="CUDA"):
        nn.Linear(2, 2, device=dev)
    assert t.device == "cpu"


def test_default_device_starts_at_cpu_and_resets(default_device_restored):
    assert fastnn.get_default_device() == fastnn.device("cpu")
    fastnn.set_default_device("cpu")
    assert fastnn.get_default_device() == "cpu"
    fastnn.set_default_device(None)
    assert fastnn.get_default_device() == "cpu"


@no_gpu
def test_creation_functions_use_the_default_device(default_device_restored):
    fastnn.set_default_device("cuda")
    assert fastnn.get_default_device() == "cuda:0"
    calls = [
        lambda: fastnn.zeros(2),
        lambda: fastnn.ones(2),
        lambda: fastnn.empty(2),
        lambda: fastnn.full((2,), 1.0),
        lambda: fastnn.randn(2),
        lambda: fastnn.rand(2),
        lambda: fastnn.randint(0, 3, (2,)),
        lambda: fastnn.eye(2),
        lambda: fastnn.arange(3),
        lambda: fastnn.linspace(0, 1, 3),
        lambda: fastnn.tensor([1.0]),
        lambda: nn.Linear(2, 2),
        lambda: nn.Conv2d(1, 1, 3),
    ]
    for call in calls:
        with pytest.raises(RuntimeError, match="CUDA"):
            call()
    # an explicit device wins; from_numpy shares host memory whatever the default
    assert fastnn.zeros(2, device="cpu").device == "cpu"
    assert fastnn.from_numpy(np.zeros(2)).device == "cpu"
    assert nn.Linear(2, 2, device="cpu").weight.device == "cpu"


# ---- Generator ----


def test_generator_seeding_is_reproducible_and_private():
    g = fastnn.Generator()
    assert g.manual_seed(7) is g
    assert g.initial_seed() == 7
    a = fastnn.randn(5, generator=g)
    fastnn.manual_seed(0)
    fastnn.randn(3)  # the global stream does not disturb the private one
    g.manual_seed(7)
    b = fastnn.randn(5, generator=g)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = fastnn.randn(5, generator=fastnn.Generator().manual_seed(8))
    assert not np.array_equal(a.numpy(), c.numpy())


def test_generator_default_seed_is_torchs():
    torch = pytest.importorskip("torch")
    assert fastnn.Generator().initial_seed() == torch.Generator().initial_seed()


def test_generator_seed_and_state_round_trip():
    g = fastnn.Generator()
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    g.manual_seed(3)
    fastnn.rand(3, generator=g)
    state = g.get_state()
    assert state.dtype == fastnn.uint8 and state.ndim == 1
    x = fastnn.rand(4, generator=g)
    assert g.set_state(state) is g
    np.testing.assert_array_equal(fastnn.rand(4, generator=g).numpy(), x.numpy())
    other = fastnn.Generator().set_state(state)
    np.testing.assert_array_equal(fastnn.rand(4, generator=other).numpy(), x.numpy())


def test_generator_bad_inputs():
    g = fastnn.Generator()
    with pytest.raises(TypeError, match="seed must be an int"):
        g.manual_seed(1.5)
    with pytest.raises(TypeError, match="uint8"):
        g.set_state(fastnn.zeros(45))
    with pytest.raises(RuntimeError, match="45 bytes"):
        g.set_state(fastnn.zeros(3, dtype=fastnn.uint8))
    with pytest.raises(TypeError, match="generator must be a fastnn.Generator"):
        fastnn.randn(2, generator=3)
    assert g.initial_seed() == fastnn.Generator().initial_seed()  # failed calls changed nothing


def _draws(g):
    t = fastnn.zeros(3, dtype=fastnn.float64)
    w = fastnn.zeros(2, 3)
    return [
        fastnn.randn(2, 3, generator=g),
        fastnn.rand(4, generator=g, dtype=fastnn.float64),
        fastnn.randint(0, 100, (5,), generator=g),
        fastnn.randint(10, (2,), generator=g),
        fastnn.randperm(6, generator=g),
        fastnn.normal(1.0, 2.0, (3,), generator=g),
        fastnn.normal(fastnn.zeros(3), 1.0, generator=g),
        t.clone().normal_(generator=g),
        t.clone().uniform_(-1, 1, generator=g),
        nn.init.uniform_(w.clone(), generator=g),
        nn.init.normal_(w.clone(), generator=g),
        nn.init.kaiming_uniform_(w.clone(), generator=g),
        nn.init.xavier_normal_(w.clone(), generator=g),
    ]


def test_every_random_call_takes_a_generator():
    first = _draws(fastnn.Generator().manual_seed(5))
    again = _draws(fastnn.Generator().manual_seed(5))
    other = _draws(fastnn.Generator().manual_seed(6))
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert not np.array_equal(a.numpy(), c.numpy())
    assert first[2].dtype == fastnn.int64 and first[1].dtype == fastnn.float64
    assert sorted(first[4].tolist()) == list(range(6))
    u = first[8].numpy()
    assert ((u >= -1) & (u < 1)).all()


def test_random_split_and_dataloader_take_a_generator():
    def split(seed):
        g = fastnn.Generator().manual_seed(seed)
        return [list(s.indices) for s in data.random_split(range(10), [0.5, 0.5], generator=g)]

    assert split(1) == split(1) != split(2)

    ds = data.TensorDataset(fastnn.arange(12))

    def epochs(g):
        dl = data.DataLoader(ds, batch_size=4, shuffle=True, generator=g)
        return [[b[0].tolist() for b in dl] for _ in range(2)]

    a, b = epochs(fastnn.Generator().manual_seed(0)), epochs(fastnn.Generator().manual_seed(0))
    assert a == b and a[0] != a[1]
    # a generator reseeded between epochs restarts the order, as in torch
    g = fastnn.Generator().manual_seed(0)
    dl = data.DataLoader(ds, batch_size=4, shuffle=True, generator=g)
    first = [x[0].tolist() for x in dl]
    g.manual_seed(0)
    assert [x[0].tolist() for x in dl] == first
    # numpy generators still work
    n1 = data.DataLoader(ds, batch_size=4, shuffle=True, generator=np.random.default_rng(3))
    n2 = data.DataLoader(ds, batch_size=4, shuffle=True, generator=np.random.default_rng(3))
    assert [x[0].tolist() for x in n1] == [x[0].tolist() for x in n2]
    with pytest.raises(TypeError, match="generator must be"):
        data.DataLoader(ds, shuffle=True, generator="seed")


# ---- default_collate ----

Point = collections.namedtuple("Point", ["x", "y"])


@pytest.mark.parametrize(
    "batch",
    [
        [1, 2.5, 3],
        [1.5, 2, 3],
        [True, 1],
        [True, False],
        [1, 2**40],
        [1.0, True],
        [np.float32(1), np.float32(2)],
        [np.int32(1), np.int32(2)],
        [np.float32(1), np.float64(2)],
        [np.bool_(True), np.bool_(False)],
        [np.array(1.0), np.array(2.0)],
        [np.ones(2, np.int32), np.zeros(2, np.int32)],
    ],
)
def test_default_collate_dtypes_match_torch(batch):
    pytest.importorskip("torch")
    from torch.utils.data import default_collate

    want = default_collate(batch)
    got = data.default_collate(batch)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "fastnn.")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_default_collate_nested_structures_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate

    batch = [
        {"a": {"b": 1, "c": [1.5, np.float32(2)]}, "p": Point(1, 2.0), "s": "x"},
        {"a": {"b": 2, "c": [2.5, np.float32(3)]}, "p": Point(3, 4.0), "s": "y"},
    ]
    got, want = data.default_collate(batch), default_collate(batch)

    def same(g, w):
        if isinstance(w, torch.Tensor):
            assert str(g.dtype) == str(w.dtype).replace("torch.", "fastnn.")
            np.testing.assert_array_equal(g.numpy(), w.numpy())
        elif isinstance(w, dict):
            assert type(g) is type(w) and set(g) == set(w)
            for k in w:
                same(g[k], w[k])
        elif isinstance(w, tuple):
            assert type(g) is type(w)
            for a, b in zip(g, w):
                same(a, b)
        elif isinstance(w, list) and w and isinstance(w[0], torch.Tensor):
            for a, b in zip(g, w):
                same(a, b)
        else:
            assert g == w

    same(got, want)


def test_default_collate_refuses_what_torch_refuses():
    with pytest.raises(TypeError, match="default_collate"):
        data.default_collate([object(), object()])
    with pytest.raises(TypeError, match="dtype"):
        data.default_collate([np.array(["a"]), np.array(["b"])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.default_collate([1, 2])
