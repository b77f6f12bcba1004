"""fastnn's compute kernels on numpy arrays (float32 and float64), for use from any project.

Each call validates its arguments (TypeError / ValueError naming the argument, shapes and
dtypes), releases the GIL and runs multi-threaded C++ with the best SIMD path of this CPU.
"""

from ._C import detected_isa, get_isa, set_isa, supported_isas

# ---- matmul ----


# ---- activations ----


# ---- losses: softmax cross-entropy, binary cross-entropy ----


# ---- optimizer steps ----


__all__ = [
    "detected_isa",
    "get_isa",
    "set_isa",
    "supported_isas",
    # matmul

    # activations

    # losses

    # optimizer steps

]


# ---- CUDA dispatch (cuda helper; keep last): CUDA arrays go to fastnn.cuda.kernels ----
from .cuda._dispatch import install as _install_cuda_dispatch  # noqa: E402

_install_cuda_dispatch(globals(), __all__)
