"""torch.linalg on fastnn Tensors: norms (``norms.py``), the LU family (``lu.py``: inv, det,
slogdet, solve), the Cholesky and QR factorizations (``factor.py``), the SVD and symmetric
eigendecomposition (``spectral.py``), pseudoinverse and least squares (``lstsq.py``), products
(``products.py``), and torch's top-level names and Tensor methods (``toplevel.py``).
``fastnn.linalg`` is the public module; what the files share is in ``common.py``.
"""

from .common import LinAlgError
from .factor import cholesky, cholesky_ex, qr
from .lstsq import lstsq, matrix_rank, pinv
from .lu import det, inv, inv_ex, slogdet, solve
from .norms import matrix_norm, norm, vector_norm
from .products import cross, diagonal, matmul, matrix_power, multi_dot, vecdot
from .spectral import eigh, eigvalsh, svd, svdvals

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "inv_ex",
    "lstsq",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
]
