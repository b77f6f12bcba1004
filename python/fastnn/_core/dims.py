"""The one place where a ``dim`` argument is checked and wrapped to a non-negative axis.

Every op that takes a dimension goes through here, so they all accept the same values (Python
and numpy ints, negatives counted from the end, 0 and -1 on a 0-d tensor) and fail the same way:
IndexError for a dim out of range, TypeError for a dim that is not an int, RuntimeError for a dim
repeated in a tuple.
"""

import numpy as np


def _check_int(dim, arg, fn):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        where = f"{fn}(): " if fn else ""
        raise TypeError(f"{where}argument '{arg}' must be int, not {type(dim).__name__}")
    return int(dim)


def wrap_dim(dim, ndim, *, arg="dim", fn=None, scalar_ok=True):
    """``dim`` as an axis in [0, ndim), for a tensor of ``ndim`` dimensions.

    A 0-d tensor is treated as having one dimension, so 0 and -1 name it (the result is 0); pass
    ``ndim + 1`` where the op inserts a dimension (unsqueeze, stack). ``scalar_ok=False`` is for
    ops that index the dimension's size (size(dim), unbind, split), which a 0-d tensor lacks.
    """
    if dim.__class__ is int and -ndim <= dim < ndim:  # a valid int (most calls): one test
        return dim + ndim if dim < 0 else dim
    dim = _check_int(dim, arg, fn)
    if ndim == 0 and not scalar_ok:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim


def wrap_dims(dims, ndim, *, arg="dim", fn=None):
    """A dim, a tuple or list of dims, or None -> a tuple of distinct axes, or None for "all".

    An empty tuple also means every dimension, as in torch's reductions; so does any valid dim of
    a 0-d tensor (reducing its one element over "all" is the same thing).
    """
    if dims is None:
        return None
    if dims.__class__ is int and -ndim <= dims < ndim:  # one valid int dim (most calls)
        return (dims + ndim if dims < 0 else dims,)
    if isinstance(dims, (tuple, list)):
        if not dims:
            return None
        out = []
        for d in dims:
            w = wrap_dim(d, ndim, arg=arg, fn=fn)
            if w in out:
                raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
            out.append(w)
        return None if ndim == 0 else tuple(out)
    if isinstance(dims, bool) or not isinstance(dims, (int, np.integer)):
        where = f"{fn}(): " if fn else ""
        raise TypeError(
            f"{where}argument '{arg}' must be int or tuple of ints, not {type(dims).__name__}"
        )
    w = wrap_dim(dims, ndim, arg=arg, fn=fn)
    return None if ndim == 0 else (w,)
