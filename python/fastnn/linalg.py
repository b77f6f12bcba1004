"""``fastnn.linalg``: torch.linalg's functions, with torch's names, arguments and results.

Norms (``vector_norm``, ``matrix_norm``, ``norm``, ``cond``), inverses and solves (``inv``,
``inv_ex``, ``solve``, ``solve_ex``, ``solve_triangular``, ``lu_solve``, ``ldl_solve``,
``tensorinv``, ``tensorsolve``, ``det``, ``slogdet``), factorizations (``cholesky``,
``cholesky_ex``, ``qr``, ``householder_product``, ``lu``, ``lu_factor``, ``lu_factor_ex``,
``ldl_factor``, ``ldl_factor_ex``, ``svd``, ``svdvals``, ``eigh``, ``eigvalsh``), pseudoinverse
and least squares (``pinv``, ``lstsq``, ``matrix_rank``), products (``multi_dot``, ``cross``,
``diagonal``, ``vecdot``, ``matmul``, ``matrix_power``, ``vander``) and ``matrix_exp``. There is
no complex linear algebra, so ``eig`` and ``eigvals`` are absent. Inputs are float32 or float64 and
results keep the dtype; the matrix functions take batches (*, m, n) wherever torch does;
everything torch can differentiate has a gradient. A singular matrix where an inverse or a solve
is needed, or one that is not positive-definite for ``cholesky``, raises ``LinAlgError`` (a
RuntimeError), as in torch.

Devices: the factorizations and solves are numpy.linalg (LAPACK) on the CPU, or numpy loops
where numpy.linalg lacks the routine (the triangular solve, the LU and LDL^T factors, the
exponential). A CUDA tensor is not refused: its matrices are copied to the host, computed there,
and the results copied back to its device (the backward passes too), so a torch program on a
GPU runs unchanged, with a copy and a synchronization per call. The norms and products are
Tensor ops on the device itself.
"""

from ._tensor import linalg as _impl
from ._tensor.linalg import *  # the public names, listed once in _tensor/linalg

__all__ = list(_impl.__all__)
