"""Float64 NumPy references for every kernel (the oracle role of llm.c's *_cpu functions).

Plain, obviously-correct code: no tricks, no fusion. Tests and benchmarks compare against these.
"""

import numpy as np

# ---- matmul ----------------------------------------------------------------------------------


def matmul(a, b, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, out=None, bias=None):
    """alpha * op(a) @ op(b) + beta * out + bias in float64; op transposes the last two dims.

    beta == 0 ignores out's contents (BLAS semantics: NaN there does not propagate).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if trans_a:
        a = np.swapaxes(a, -1, -2)
    if trans_b:
        b = np.swapaxes(b, -1, -2)
    c = alpha * np.matmul(a, b)
    if beta != 0:
        c = c + beta * np.asarray(out, dtype=np.float64)
    if bias is not None:
        c = c + np.asarray(bias, dtype=np.float64)
    return c


# ---- activations -----------------------------------------------------------------------------


# ---- losses: softmax cross-entropy, binary cross-entropy -------------------------------------


# ---- optimizer steps -------------------------------------------------------------------------

