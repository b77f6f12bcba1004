"""Tensors in f-strings, str.format and print: torch's rules, compared with torch itself."""

import pytest

import fastnn


def cases(lib):
    loss = lib.tensor(2.5, requires_grad=True) * 2
    return {
        "0-d float, no spec": lambda: f"{loss}",
        "0-d float, spec": lambda: f"{loss:.3f}",
        "0-d long, width": lambda: f"{lib.tensor(7):5d}",
        "0-d bool": lambda: f"{lib.tensor(True)}",
        "str.format": lambda: "score {}".format(lib.tensor([1.0, 2.0]).sum()),  # noqa: UP032
        "vector, no spec": lambda: f"{lib.tensor([1, 2])}",
        "one-element vector, no spec": lambda: f"{lib.tensor([3.0])}",
        "percent-format": lambda: "%d %.1f" % (lib.tensor(4), lib.tensor(0.25)),  # noqa: UP031
        "str of a parameter": lambda: str(lib.nn.Parameter(lib.tensor([1.0]))),
        "0-d parameter in an f-string": lambda: f"{lib.nn.Parameter(lib.tensor(1.0))}",
    }


@pytest.mark.parametrize("name", list(cases(fastnn)))
def test_formatting_matches_torch(name):
    torch = pytest.importorskip("torch")
    assert cases(fastnn)[name]() == cases(torch)[name]()


def test_zero_d_tensor_formats_as_its_number():
    assert f"{fastnn.tensor(3.0)}" == "3.0"
    assert f"{fastnn.tensor(1.0) / 3:.4f}" == "0.3333"


@pytest.mark.parametrize("value", [[1.0], [1.0, 2.0], [[3.0]]])
def test_a_spec_on_a_dimensioned_tensor_is_refused_like_torch(value):
    with pytest.raises(TypeError, match="unsupported format string"):
        format(fastnn.tensor(value), ".2f")
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="unsupported format string"):
        format(torch.tensor(value), ".2f")


@pytest.mark.parametrize(
    "values",
    [
        7.1526e-07,  # a tiny scalar: scientific, not "0.0000"
        1e-9,
        1e10,
        1e8,
        123456.7,
        0.1,
        -2.0,
        float("nan"),
        float("-inf"),
        -0.0,
        [1.0, 2000.0],  # whole values spanning more than 1000x: scientific
        [1.0, 1000.0],  # whole values padded to the widest
        [0.0, 1e8],
        [[1.0, -10.0], [100.0, 2.0]],
        [float("nan"), 2.0],
        [-0.0, 5.0],
        [1.0, float("inf"), -3.0],
        [float(i) for i in range(20)],  # wrapped at torch's line width
        [[0.123456, -1.5] * 9] * 3,  # rows wrapped at the same width, one level deeper
        [[[0.5, -2.25] * 7] * 2] * 2,
        [float(i) for i in range(1000, 1040)],  # float64's dtype= on a line of its own
        1e-4,  # float32's nearest is just under 1e-4: scientific (float64's is not)
        [1e-4, 0.5],
        [-0.0, 0.125, 0.25],  # the width comes from the nonzero values alone
        [-0.0, 1e-4],
        [float("nan"), -float("inf")],  # no finite value: nothing padded
        [1e8, 1e6 + 0.5],  # a largest of exactly 1e8 keeps fixed notation
        [-1e-120, 5.0, 1e-110],  # three-digit exponents widen every entry
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_repr_matches_torch(values, dtype):
    torch = pytest.importorskip("torch")
    ours = repr(fastnn.tensor(values, dtype=getattr(fastnn, dtype)))
    theirs = repr(torch.tensor(values, dtype=getattr(torch, dtype)))
    assert ours == theirs.replace("torch.", "fastnn.")
