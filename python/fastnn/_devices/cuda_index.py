"""numpy's advanced indexing as one strided view plus index arrays (the CUDA gather / scatter plan).

``plan(shape, index, ops)`` turns ``x[index]`` for a C-contiguous ``x`` of ``shape`` into the
IndexView the kernels in csrc/cuda/indexing.cu walk: an iteration shape, element strides and an
offset for the basic parts (ints, slices, None, Ellipsis), and int64 index arrays that add
``index * axis_stride`` each. numpy's rules, reproduced here:

- boolean arrays become the coordinates of their True entries (one index array per dimension
  they cover; a 0-d boolean adds a dimension of length 1 or 0);
- the index arrays broadcast together to one block of dimensions; when any array is present,
  integer scalars count as advanced indices too (for placement only: their offset is fixed);
- the block stands where the advanced indices are when they are adjacent in the index, else
  first.

The kernels see the block flattened to one dimension (every index array is made contiguous over
the block's shape) and no length-1 dimension except the block, so any index of an array of up
to 8 dimensions fits their 8-dimension limit.

Array work (casts, broadcasts, nonzero) goes through ``ops`` so the same plan runs with numpy
(the tests check it against numpy without a GPU) or with device arrays (fastnn._devices.cuda).
No device call is made here.
"""

import builtins
import operator

import numpy as np

_MAX_DIMS = 8


class Plan:
    """The kernel view of ``x[index]``; see the module docstring."""

    __slots__ = (
        "axes",
        "axis_sizes",
        "axis_strides",
        "from_mask",
        "has_int_array",
        "index_strides",
        "indices",
        "offset",
        "out_shape",
        "shape",
        "strides",
    )

    def view_args(self):
        """The IndexView arguments of fastnn._cuda.index_gather / index_scatter / index_add."""
        return [
            list(self.shape),
            list(self.strides),
            self.offset,
            list(self.indices),
            [list(s) for s in self.index_strides],
            list(self.axis_sizes),
            list(self.axis_strides),
        ]


def contiguous_strides(shape):
    strides, s = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = s
        s *= shape[i]
    return strides


def _classify(p, ops):
    """(kind, value) of one index part: new, ellipsis, slice, int, bool (an array) or array."""
    if p is None:
        return "new", None
    if p is Ellipsis:
        return "ellipsis", None
    if isinstance(p, slice):
        return "slice", p
    if isinstance(p, (bool, np.bool_)):
        return "bool", ops.asarray(np.asarray(bool(p)))
    if isinstance(p, (int, np.integer)):
        return "int", operator.index(p)
    if isinstance(p, (list, tuple)) and len(p) == 0:
        return "array", ops.asarray(np.zeros(0, np.int64))  # numpy: an empty list is an intp index
    a = ops.asarray(p)
    kind = np.dtype(a.dtype).kind
    if kind == "b":
        return "bool", a
    if kind in "iu":
        return "array", a
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or "
        "boolean arrays are valid indices"
    )


def is_basic(index):
    """True when ``index`` has no arrays, lists or booleans (a view in numpy)."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if p is None or p is Ellipsis or isinstance(p, slice):
            continue
        if isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)):
            continue
        return False
    return True


def plan(shape, index, ops):
    """The Plan of ``x[index]`` for a C-contiguous x of ``shape``; None when the kernel view
    would need more than 8 dimensions (the caller then takes another path)."""
    shape = tuple(int(n) for n in shape)
    parts = index if isinstance(index, tuple) else (index,)
    items = [_classify(p, ops) for p in parts]
    if builtins.sum(k == "ellipsis" for k, _ in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = 0
    for k, v in items:
        if k in ("slice", "int", "array"):
            used += 1
        elif k == "bool":
            used += len(v.shape)
    if used > len(shape):
        raise IndexError(
            f"too many indices for array: array is {len(shape)}-dimensional, but {used} were "
            "indexed"
        )
    fill = [("slice", slice(None))] * (len(shape) - used)
    at = [i for i, (k, _) in enumerate(items) if k == "ellipsis"]
    items = items[: at[0]] + fill + items[at[0] + 1 :] if at else items + fill

    any_adv = builtins.any(k in ("array", "bool") for k, _ in items)
    cstrides = contiguous_strides(shape)
    basic = []  # (size, stride) of each output dimension outside the block, in order
    offset, dim = 0, 0
    adv = []  # (array, axis): index arrays
    block_shapes = []  # shapes that broadcast to the block
    adv_pos, block_at = [], None
    for pos, (kind, v) in enumerate(items):
        if kind == "new":
            basic.append((1, 0))
        elif kind == "slice":
            n = shape[dim]
            start, stop, step = v.indices(n)
            length = len(range(start, stop, step))
            if length:
                offset += start * cstrides[dim]
            basic.append((length, step * cstrides[dim]))
            dim += 1
        elif kind == "int":
            n = shape[dim]
            if not -n <= v < n:
                raise IndexError(f"index {v} is out of bounds for axis {dim} with size {n}")
            offset += (v % n) * cstrides[dim]
            dim += 1
            if any_adv:
                adv_pos.append(pos)
                block_at = len(basic) if block_at is None else block_at
        else:
            adv_pos.append(pos)
            block_at = len(basic) if block_at is None else block_at
            if kind == "array":
                adv.append((v, dim, False))
                block_shapes.append(tuple(v.shape))
                dim += 1
                continue
            k = len(v.shape)  # a boolean mask over dims dim .. dim + k - 1
            for j, m in enumerate(v.shape):
                if m != shape[dim + j]:
                    raise IndexError(
                        f"boolean index did not match indexed array along axis {dim + j}; size "
                        f"of axis is {shape[dim + j]} but size of corresponding boolean axis "
                        f"is {m}"
                    )
            coords, count = ops.nonzero(v)
            for j in range(k):
                adv.append((coords[j], dim + j, True))
            block_shapes.append((count,))
            dim += k
    if not adv_pos:  # basic only: the block is empty and stands nowhere
        block_at = None
    elif adv_pos != list(range(adv_pos[0], adv_pos[-1] + 1)):
        block_at = 0
    try:
        bshape = tuple(np.broadcast_shapes(*block_shapes)) if block_shapes else ()
    except ValueError:
        shapes = " ".join(str(s) for s in block_shapes)
        raise IndexError(
            f"shape mismatch: indexing arrays could not be broadcast together with shapes {shapes}"
        ) from None
    p = Plan()
    p.has_int_array = builtins.any(k == "array" for k, _ in items)
    sizes = [n for n, _ in basic]
    if block_at is None:
        p.out_shape = tuple(sizes)
        kernel = [(n, s, False) for n, s in basic]
    else:
        p.out_shape = (*sizes[:block_at], *bshape, *sizes[block_at:])
        kernel = (
            [(n, s, False) for n, s in basic[:block_at]]
            + [(builtins.int(np.prod(bshape, dtype=np.int64)), 0, True)]
            + [(n, s, False) for n, s in basic[block_at:]]
        )
    kernel = [e for e in kernel if e[2] or e[0] != 1]  # length-1 dims read only element 0
    if len(kernel) > _MAX_DIMS:
        return None
    p.shape = [n for n, _, _ in kernel]
    p.strides = [s for _, s, _ in kernel]
    p.offset = offset
    marker = [1 if is_block else 0 for _, _, is_block in kernel]
    p.indices = [ops.prepare(a, bshape) for a, _, _ in adv]
    p.index_strides = [list(marker) for _ in adv]
    p.axes = [axis for _, axis, _ in adv]
    p.axis_sizes = [shape[axis] for _, axis, _ in adv]
    p.axis_strides = [cstrides[axis] for _, axis, _ in adv]
    p.from_mask = [m for _, _, m in adv]
    return p


def bad_index_error(p, bad):
    """numpy's IndexError for (array, position, value) from fastnn._cuda.first_bad_index."""
    j, _, value = bad
    return IndexError(
        f"index {value} is out of bounds for axis {p.axes[j]} with size {p.axis_sizes[j]}"
    )


class NumpyOps:
    """``ops`` for plan() with numpy arrays: the reference the tests hold the plan to."""

    @staticmethod
    def asarray(p):
        return np.asarray(p)

    @staticmethod
    def nonzero(mask):
        if mask.ndim == 0:
            return [], int(bool(mask))
        coords = np.nonzero(mask)
        return list(coords), len(coords[0])

    @staticmethod
    def prepare(a, bshape):
        return np.ascontiguousarray(np.broadcast_to(a, bshape), dtype=np.int64).reshape(-1)
