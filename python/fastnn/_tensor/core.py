"""``Tensor``: a storage array (numpy on the CPU, a device buffer on CUDA) plus autograd state.

Operations dispatch on the storage's type to a device module (``fastnn._devices``) and record
the graph through the ``Function`` primitives in ``ops/``. This file holds the core (storage,
conversions, autograd API, printing); the op methods live in the mixins of ``math.py``,
``shape.py`` and ``inplace.py`` beside it (and ``linalg/toplevel.py``: det, inverse...).
"""

import copy
from weakref import ref as _weakref

import numpy as np

from .. import _devices
from .._core import dtype as _dtype
from .._core import memory_format as _formats
from .._core.axis_alias import alias_methods
from .._core.device import device, to_device
from .._core.dims import wrap_dim
from .._core.size import Size as _Size
from .._core.size import from_shape as _size
from ..autograd import engine, function
from ..autograd.hooks import RemovableHandle
from ..cuda import pinned as _pinned
from . import printing as _printing
from . import sparse as _sparse
from . import views as _views
from .complex import ComplexMixin, install_refusals
from .creation import _to_array
from .gamma_more import GammaMoreMixin
from .index_more import IndexMoreMixin
from .inplace import InplaceMixin
from .inplace_more import InplaceMoreMixin
from .legacy import LegacyMixin
from .linalg.toplevel import LinalgMixin
from .linalg.toplevel_more import LinalgMoreMixin
from .logic import LogicMixin
from .math import OpsMixin
from .math_more import MathMoreMixin
from .more_ops import MoreOpsMixin
from .ops.shape import Cast, PinMemory, ToDevice
from .reduce_more import ReduceMoreMixin
from .shape import ShapeMixin
from .shared import SharedMemoryMixin
from .shared import register as _register_for_processes
from .spectral import SpectralMixin
from .storage import StorageMixin


def _is_size(arg):
    return isinstance(arg, _Size) or (type(arg) is int)


def _legacy_zeros(args):
    """torch's ``Tensor()``, ``Tensor(2, 3)`` and ``Tensor(Size)``: a tensor of that shape in the
    default float dtype (zero-filled where torch leaves it uninitialized)."""
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], _Size) else args
    if not shape:
        shape = (0,)
    for n in shape:
        if type(n) is not int:
            raise TypeError(
                f"Tensor(): expected data or a shape of ints, got {type(n).__name__} in {args!r}"
            )
        if n < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {n}: {list(shape)}"
            )
    return np.zeros(shape, _dtype.default())


class Tensor(
    ComplexMixin,
    OpsMixin,
    LogicMixin,
    MoreOpsMixin,
    MathMoreMixin,
    GammaMoreMixin,
    IndexMoreMixin,
    ReduceMoreMixin,
    LinalgMixin,
    LinalgMoreMixin,
    ShapeMixin,
    InplaceMixin,
    InplaceMoreMixin,
    SharedMemoryMixin,
    SpectralMixin,
    StorageMixin,
    LegacyMixin,
    _sparse.DenseSparseMixin,
):
    """A multi-dimensional array with autograd (``requires_grad``, ``backward``, ``grad``).

    ``Tensor(data, requires_grad=False)`` stores ``data`` (a storage array) without copying it;
    create tensors from Python data with ``fastnn.tensor`` / ``fastnn.from_numpy`` / ``zeros``...
    torch's shape forms ``Tensor()``, ``Tensor(2, 3)`` and ``Tensor(Size)`` give a zero tensor of
    that shape in the default float dtype, and a list or tuple of numbers is read as that dtype.
    """

    __slots__ = (
        "__weakref__",
        "_ctx",
        "_data",
        "_hooks",
        "_retains_grad",
        "_vc",
        "_view_link",
        "grad",
        "requires_grad",
    )
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators
    __hash__ = object.__hash__  # by identity, like torch (== is element-wise)

    def __init__(self, *args, requires_grad=False):
        data = args[0] if len(args) == 1 and not _is_size(args[0]) else _legacy_zeros(args)
        if not _devices.is_array(data):
            if isinstance(data, np.ndarray):  # an ndarray subclass (memmap...)
                data = np.asarray(data)
            else:
                data = _to_array(data, _dtype.default())
                if isinstance(args[0], (list, tuple)) and data.dtype.kind in "biu":
                    data = data.astype(_dtype.default())  # torch.Tensor([1, 2]) is float
        self._data = data
        self.grad = None
        self._ctx = None
        self._vc = [0]
        self._retains_grad = False
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __getstate__(self):
        """Pickle the values and flags, not the graph: a tensor with a history comes back as a
        leaf that requires grad, as torch's does (its node holds functions and arrays of the run
        that made it)."""
        dict_state, slots = super().__getstate__()
        if slots.get("_ctx") is not None:
            slots = {**slots, "_ctx": None, "_view_link": None}
        return dict_state, slots

    def __deepcopy__(self, memo):
        if self._ctx is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors (made by the user, not by an op recorded for "
                "autograd) can be deep-copied; detach() it first. A module that holds such a "
                "tensor (nn.utils.weight_norm's weight after a forward) cannot be deep-copied "
                "either, as in torch."
            )
        new = _new(type(self))
        memo[id(self)] = new
        dict_state, slots = self.__getstate__()
        for name, value in slots.items():
            setattr(new, name, copy.deepcopy(value, memo))
        if dict_state:
            new.__dict__.update(copy.deepcopy(dict_state, memo))
        return new

    @staticmethod
    def _make(data, requires_grad=False, ctx=None):
        """Internal fast constructor: no checks (``data`` is already a storage array)."""
        t = _new(Tensor)
        t._data = data
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = ctx
        t._vc = [0]
        t._retains_grad = False
        t._hooks = None
        return t

    def _backend(self):
        return _devices.of(self._data)

    def _view_of(self, out, remake=None, arg=None):
        """``out`` shares this tensor's storage: share the version counter too (its second slot
        marks the storage shared). While recording, ``out`` also keeps ``remake``: with
        ``remake(self, arg)`` making it again, and joins the storage's views (views.py)."""
        vc = self._vc
        out._vc = vc
        if len(vc) == 1:
            vc.append(None)
        if out.requires_grad and remake is not None:
            out._view_link = (self, remake, arg)
            views = vc[1]
            if views is None:
                vc[1] = [_weakref(out)]
            else:
                views.append(_weakref(out))
                if not len(views) & 63:
                    _views.prune(views)
        return out

    # ---- attributes --------------------------------------------------------------------------

    @property
    def shape(self):
        return _size(self._data.shape)

    def size(self, dim=None):
        """The shape (a ``fastnn.Size``), or the length of dimension ``dim`` (an int)."""
        if dim is None:
            return _size(self._data.shape)
        return self._data.shape[wrap_dim(dim, self._data.ndim, fn="size", scalar_ok=False)]

    @property
    def dtype(self):
        """The element type, a ``fastnn.dtype`` (the storage keeps the numpy dtype)."""
        try:
            return _DTYPES[self._data.dtype]
        except KeyError:
            return _dtype.of(self._data.dtype)

    @property
    def device(self):
        return _devices.device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def ndimension(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.dtype.itemsize

    def is_floating_point(self):
        return _dtype.is_floating(self._data.dtype)

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def _version(self):
        return self._vc[0]

    @property
    def data(self):
        """A detached tensor on the same storage; changes through it are not tracked."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    # ---- autograd ----------------------------------------------------------------------------

    def requires_grad_(self, requires_grad=True):
        d = self._data.dtype
        if requires_grad and not (_dtype.is_floating(d) or d.kind == "c"):
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients, got "
                f"{_dtype.name(self._data.dtype)}"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you "
                "want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach()."
            )
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d self / d leaf into ``leaf.grad`` for every leaf that requires grad (or
        only into the ``inputs`` given, leaves or not). ``gradient`` is required when self is
        not a scalar; the graph's saved arrays are freed unless ``retain_graph=True``.
        ``create_graph=True`` records the backward too, so that ``.grad`` can be differentiated
        again (``retain_graph`` then defaults to True)."""
        engine.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def retain_grad(self):
        """Also keep ``.grad`` on this non-leaf tensor at the next backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None:
            self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever the gradient of this tensor is computed (on a leaf: the
        total over its uses, before it goes into ``.grad``); a Tensor it returns replaces the
        gradient. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf each time a backward pass has finished updating
        its ``.grad`` (as soon as its gradient is final, while the rest of the pass goes on).
        Returns a handle whose ``remove()`` unregisters the hook."""
        from ..autograd import post_hooks

        return post_hooks.register(self, hook)

    @property
    def retains_grad(self):
        return self._retains_grad

    def detach(self):
        return self._view_of(Tensor._make(self._data))

    def detach_(self):
        self._ctx = None
        self.requires_grad = False
        return self

    # ---- conversions -------------------------------------------------------------------------

    def numpy(self, force=False):
        """The storage array itself (zero-copy) on the CPU."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use "
                "tensor.detach().numpy() instead."
            )
        if self._data.dtype is _dtype.bfloat16:
            # torch's message: numpy has no bfloat16 of its own (ml_dtypes' would leak out)
            raise TypeError("Got unsupported ScalarType BFloat16")
        if self._data.__class__ is np.ndarray or isinstance(self._data, np.ndarray):
            return self._data
        if not force:
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use "
                "Tensor.cpu() to copy the tensor to host memory first."
            )
        return self._backend().to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self._backend().to_numpy(self._data)
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        a = self._data
        if a.__class__ is np.ndarray:  # the host array's own item(), any shape of size 1
            return a.item()
        return self._backend().to_numpy(a).reshape(()).item()

    def tolist(self):
        return self._backend().to_numpy(self._data).tolist()

    def _scalar(self):
        """The one element behind float()/int(): torch's ValueError (not item()'s RuntimeError)
        for any other size, which callers such as math.isfinite probing an array expect."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __reversed__(self):
        """``reversed(x)``: x flipped along dim 0 (a differentiable tensor, not an iterator, so
        ``x.shape`` still works on it); a 0-d tensor is its own reverse."""
        return self if self._data.ndim == 0 else self.flip(0)

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; keywords
        ``dtype=``, ``device=``, ``copy=``, ``memory_format=`` (checked; the storage stays
        row-major). Returns self when nothing changes."""
        if not kwargs and len(args) == 1 and args[0].__class__ is _dtype.dtype:
            return self._cast(args[0].dtype)  # to(fastnn.float32), most calls
        dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        non_blocking = bool(kwargs.pop("non_blocking", False))
        fmt = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        if fmt is not None:
            _formats.check(fmt, self._data.ndim, "to")
        for a in args:
            if isinstance(a, Tensor):
                dtype, dev = a.dtype, a.device
            elif isinstance(a, device) or (
                isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda")
            ):
                dev = a
            elif isinstance(a, (int, np.integer)) and not isinstance(a, bool):
                dev = a  # a CUDA ordinal, as in torch
            elif isinstance(a, str) and not _dtype.is_name(a):
                dev = a  # another device ('meta', 'mps'...): device() raises torch's error
            else:
                dtype = a
        out = self
        if dev is not None:
            dev = to_device(dev)
            if dev != self.device:
                out = ToDevice.apply(
                    out, target=_devices.for_device(dev), non_blocking=non_blocking
                )
        if dtype is not None:
            dtype = _dtype.to_dtype(dtype)
            if dtype != out._data.dtype:
                out = Cast.apply(out, dtype=dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to(
            "cuda"
            if device is None
            else to_device(device if not isinstance(device, int) else f"cuda:{device}"),
            non_blocking=non_blocking,
        )

    def pin_memory(self, device=None):
        """A copy in pinned (page-locked) host memory, whose copies to the GPU run without the
        host waiting (``to('cuda', non_blocking=True)``); self when already pinned. Like torch:
        RuntimeError without a CUDA device, and only CPU tensors can be pinned."""
        if self.device.type != "cpu":
            name = self.type().replace("fastnn.", "fastnn.cuda.")
            raise RuntimeError(f"cannot pin '{name}' only dense CPU tensors can be pinned")
        if _pinned.is_pinned(self._data) and self._data.flags.c_contiguous:
            return self
        return PinMemory.apply(self)

    def is_pinned(self, device=None):
        """Whether the data is in pinned host memory (False for GPU tensors and without CUDA)."""
        return self.device.type == "cpu" and _pinned.is_pinned(self._data)

    def type(self, dtype=None):
        """No argument: the type name ('fastnn.FloatTensor'); else a cast to ``dtype``."""
        if dtype is None:
            return f"fastnn.{_TYPE_NAMES.get(self._data.dtype, 'Tensor')}"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            dtype = {v: k for k, v in _TYPE_NAMES.items()}[dtype.rsplit(".", 1)[-1]]
        return self._cast(_dtype.to_dtype(dtype))

    def _cast(self, d):
        """``to(d)`` for a storage dtype ``d``; the tensor itself when its storage already has
        that dtype (numpy's dtypes of the built-in types are single objects), without parsing
        to()'s arguments. A host tensor outside autograd is cast directly (Cast's forward: on a
        tiny tensor the op's machinery was half of ``.float()``'s time)."""
        a = self._data
        if a.dtype is d:
            return self
        if a.__class__ is np.ndarray and not self.requires_grad and a.dtype.kind != "c":
            return Tensor._make(a.astype(d))
        return Cast.apply(self, dtype=d)

    def float(self):
        return self._cast(_dtype.float32)

    def double(self):
        return self._cast(_dtype.float64)

    def half(self):
        return self._cast(_dtype.float16)

    def bfloat16(self):
        return self._cast(_dtype.to_dtype(_dtype.PUBLIC["bfloat16"]))

    def long(self):
        return self._cast(_dtype.int64)

    def int(self):
        return self._cast(_dtype.int32)

    def bool(self):
        return self._cast(_dtype.bool_)

    # ---- printing ----------------------------------------------------------------------------

    def __repr__(self):
        return _printing.tensor_repr(self)

    def __format__(self, spec):
        # torch's rule: a 0-d tensor formats as its Python number (f"{loss}" gives 2.5, not
        # tensor(2.5000)); any other prints as str() with no spec and refuses a spec
        if self.ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)


_TYPE_NAMES = {
    _dtype.complex64: "ComplexFloatTensor",
    _dtype.complex128: "ComplexDoubleTensor",
    _dtype.float32: "FloatTensor",
    _dtype.float64: "DoubleTensor",
    _dtype.float16: "HalfTensor",
    _dtype.int64: "LongTensor",
    _dtype.int32: "IntTensor",
    _dtype.int16: "ShortTensor",
    _dtype.int8: "CharTensor",
    _dtype.uint8: "ByteTensor",
    _dtype.bool_: "BoolTensor",
}
if _dtype.bfloat16 is not None:
    _TYPE_NAMES[_dtype.bfloat16] = "BFloat16Tensor"


class SparseTensor(_sparse.SparseMethods, Tensor):
    """A sparse COO tensor (``fastnn.sparse_coo_tensor``, ``x.to_sparse()``): index array,
    values Tensor and the dense shape; its methods and ops live in ``sparse.py``."""

    __slots__ = ("_coalesced", "_idx", "_vals")


_sparse.bind(SparseTensor)  # sparse.py makes its results of this class
_new = object.__new__
_DTYPES = _dtype.OBJECTS  # numpy dtype -> fastnn.dtype, for Tensor.dtype's one lookup
install_refusals(Tensor)  # complex input to the real-only methods raises torch's errors
alias_methods(Tensor)  # x.argmax(axis=1), x.mean(1, keepdims=True): torch's numpy spellings
# programs print type(t): torch's class shows as torch.Tensor, its public name (pickle finds the
# class there too)
Tensor.__module__ = "fastnn"
function.bind_tensor_class(Tensor)  # the package's one late-binding point (see autograd.function)
_register_for_processes([Tensor])  # multiprocessing sends shared tensors by name (shared.py)
