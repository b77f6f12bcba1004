"""``fastnn.linalg``: torch.linalg's functions, with torch's names, arguments and results.

Norms (``vector_norm``, ``matrix_norm``, ``norm``), inverses and solves (``inv``, ``inv_ex``,
``solve``, ``det``, ``slogdet``), factorizations (``cholesky``, ``cholesky_ex``, ``qr``, ``svd``,
``svdvals``, ``eigh``, ``eigvalsh``), pseudoinverse and least squares (``pinv``, ``lstsq``,
``matrix_rank``) and products (``multi_dot``, ``cross``, ``diagonal``, ``vecdot``, ``matmul``,
``matrix_power``). Inputs are float32 or float64 and results keep the dtype; the matrix
functions take batches (*, m, n) wherever torch does; everything torch can differentiate has a
gradient. A singular matrix where an inverse or a solve is needed, or one that is not
positive-definite for ``cholesky``, raises ``LinAlgError`` (a RuntimeError), as in torch.

Devices: the factorizations and solves are numpy.linalg (LAPACK) on the CPU. A CUDA tensor is
not refused: its matrices are copied to the host, computed there, and the results copied back
to its device (the backward passes too), so a torch program on a GPU runs unchanged, with a
copy and a synchronization per call. The norms and products are Tensor ops on the device itself.
"""

from ._tensor import linalg as _impl
from ._tensor.linalg import *  # the public names, listed once in _tensor/linalg

__all__ = list(_impl.__all__)
