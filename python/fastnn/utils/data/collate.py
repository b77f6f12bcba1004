"""Turning samples into batches: default_convert and default_collate."""

from collections.abc import Mapping, Sequence

import numpy as np

from ..._core import dtype as _dtype
from ..._devices import cpu as _cpu
from ..._tensor import creation as _creation
from .dataset import _Tensor


def default_convert(data):
    """Turn numpy arrays (and numpy scalars) inside one sample into tensors, leaving everything
    else as it is, without adding a batch dimension: the conversion ``DataLoader(batch_size=None)``
    applies to each sample, as torch's default_convert does."""
    Tensor = _Tensor()
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)):
        # (strings, objects and records stay arrays; bfloat16, kind 'V' too, is a number)
        keep = data.dtype.kind in "OUSV" and not _dtype.is_floating(data.dtype)
        return data if keep else Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        converted = {key: default_convert(v) for key, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def _stack_samples(batch, Tensor):
    """Tensors or numpy arrays stacked along a new first dimension."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if not isinstance(elem._data, np.ndarray):
            from ..._tensor.functions import stack

            return stack(list(batch), 0)
        try:
            arrays = [b._data for b in batch]
        except AttributeError:
            bad = next(i for i, b in enumerate(batch) if not isinstance(b, Tensor))
            raise TypeError(
                f"expected Tensor as element {bad} in argument 0, but got "
                f"{type(batch[bad]).__name__}"
            ) from None
        return Tensor(_cpu.stack(arrays, 0))
    if elem.dtype.kind in "OUS":
        raise TypeError(
            f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
            f"lists; found numpy arrays of dtype {elem.dtype}"
        )
    return Tensor(_cpu.stack(list(batch), 0))


def _check_equal_shapes(batch):
    """torch's error for samples that cannot be stacked (a ragged batch)."""
    first = tuple(batch[0].shape)
    for i, b in enumerate(batch):
        if tuple(getattr(b, "shape", ())) != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(getattr(b, 'shape', ()))} at entry {i}"
            )


def default_collate(batch):
    """Stack a list of samples into a batch, like torch's default_collate.

    Tensors and numpy arrays are stacked along a new first dimension (keeping their dtype); numpy
    scalars become a tensor of their numpy dtype; Python numbers led by a float become a float64
    tensor, led by an int or a bool a tensor typed from the whole batch (``[1, 2.5]`` is float32,
    ``[True, 1]`` int64, ``[True, False]`` bool); mappings, namedtuples, tuples and lists are
    collated field by field; strings stay a list.
    """
    Tensor = _Tensor()
    if not batch:
        raise ValueError("default_collate: empty batch")
    elem = batch[0]
    if isinstance(elem, (Tensor, np.ndarray)):
        try:
            return _stack_samples(batch, Tensor)
        except ValueError:
            _check_equal_shapes(batch)  # a ragged batch: torch's error
            raise
    if isinstance(elem, np.generic) and elem.dtype.kind not in "OUS":
        return Tensor(np.array(batch))
    if isinstance(elem, float):
        return _creation.tensor(batch, dtype=np.float64)
    if isinstance(elem, int):  # bools too: the dtype comes from the whole batch
        return _creation.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
        f"or lists; found {type(elem).__name__}"
    )
