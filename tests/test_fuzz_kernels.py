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

