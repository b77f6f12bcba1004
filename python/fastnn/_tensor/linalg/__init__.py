"""torch.linalg on fastnn Tensors: norms (``norms.py``), the LU family (``lu.py``: inv, det,
slogdet, solve), the Cholesky and QR factorizations (``factor.py``), the SVD and symmetric
eigendecomposition (``spectral.py``), pseudoinverse and least squares (``lstsq.py``), products
(``products.py``), and torch's top-level names and Tensor methods (``toplevel.py``).
``fastnn.linalg`` is the public module; what the files share is in ``common.py``.
"""

from .common import LinAlgError
from .factor import cholesky, cholesky_ex, qr
from .ldl import ldl_factor, ldl_factor_ex, ldl_solve
from .lstsq import lstsq, matrix_rank, pinv
from .lu import det, inv, inv_ex, slogdet, solve
from .lu_factor import lu, lu_factor, lu_factor_ex
from .lu_solve import lu_solve, solve_ex
from .matrix_exp import matrix_exp
from .norms import cond, matrix_norm, norm, vector_norm
from .products import cross, diagonal, matmul, matrix_power, multi_dot, vander, vecdot
from .spectral import eigh, eigvalsh, svd, svdvals
from .tensor_solve import householder_product, tensorinv, tensorsolve
from .triangular import solve_triangular

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "householder_product",
    "inv",
    "inv_ex",
    "ldl_factor",
    "ldl_factor_ex",
    "ldl_solve",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "vector_norm",
]
