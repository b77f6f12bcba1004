from .._functions import matmul  # noqa
