"""Float64 NumPy references for every kernel (the oracle role of llm.c's *_cpu functions).

Plain, obviously-correct code: no tricks, no fusion. Tests and benchmarks compare against these.
"""

import numpy as np

# ---- matmul ----------------------------------------------------------------------------------


# ---- activations -----------------------------------------------------------------------------


# ---- losses: softmax cross-entropy, binary cross-entropy -------------------------------------


# ---- optimizer steps -------------------------------------------------------------------------

