"""Robustness of fastnn.kernels against bad input: hypothesis-generated arguments (dtypes, shapes,
strides, companions, hyperparameters) must give a correct result or a TypeError/ValueError naming
the function, never a crash, a vague error or a silent change of the inputs."""

import numpy as np
import pytest

from fastnn import kernels as K

# ---- regressions found by the audit --------------------------------------------------------------


@pytest.mark.parametrize("fn", ["im2col", "col2im"])
def test_conv_output_size_overflow_is_value_error(fn):
    # padding 2**31-1 on a 2x2 input: Ho = Wo = 2**32, Ho*Wo wrapped to 0 and the kernel overran a
    # zero-size array (segfault).
    x = np.ones((1, 1, 2, 2), np.float32)
    with pytest.raises(ValueError, match=f"{fn}: the output size .* too large"):
        if fn == "im2col":
            K.im2col(x, 1, padding=2**31 - 1)
        else:
            K.col2im(np.ones((1, 1, 0), np.float32), (1, 1, 2, 2), 1, padding=2**31 - 1)


@pytest.mark.parametrize("value", [2**63, -(2**70), 2**200])
def test_conv_int_beyond_64_bits_is_value_error(value):
    # Was pybind11's RuntimeError "Unable to cast Python instance of type int to C++ type".
    x = np.ones((1, 1, 4, 4), np.float64)
    with pytest.raises(ValueError, match="im2col: argument 'kernel_size' = .* out of range"):
        K.im2col(x, value)
    with pytest.raises(ValueError, match="max_pool2d: argument 'padding' = .* out of range"):
        K.max_pool2d(x, 2, padding=(0, value))
    with pytest.raises(ValueError, match="col2im: argument 'input_shape' = .* out of range"):
        K.col2im(np.ones((1, 1, 16)), (1, 1, 4, value), 1)
