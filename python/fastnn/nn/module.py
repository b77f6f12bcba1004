"""``nn.Module`` and the containers ``Sequential`` and ``ModuleList`` (PyTorch's semantics).

A Module keeps its parameters, buffers and child modules in three ordered dicts, filled by
``__setattr__``; everything else (walks, state_dict, device/dtype moves, repr) is built on them.
"""

import operator
from collections import OrderedDict

import numpy as np

from .._core import dtype as _dtype
from .._core import memory_format as _formats
from .._core.device import device as device_cls
from .._tensor import Tensor
from ..autograd import no_grad
from .module_backward_hooks import BackwardHooks
from .module_hooks import ForwardHooks
from .module_state import StateDict
from .parameter import Buffer, Parameter


def _addindent(s: str, n: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


_DTYPE_ALIASES = {"half": "float16", "float": "float32", "double": "float64"}


def _as_dtype(d):
    if isinstance(d, str):
        name = d.rsplit(".", 1)[-1]
        return _dtype.to_dtype(_DTYPE_ALIASES.get(name, name))
    return _dtype.to_dtype(d)


def _is_dtype_name(a) -> bool:
    return isinstance(a, str) and a.rsplit(".", 1)[-1] in (
        "float16",
        "float32",
        "float64",
        "half",
        "float",
        "double",
        "bfloat16",
    )


def _parse_to(args, kwargs):
    """(device or None, dtype or None) from ``to``'s torch-style arguments."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    fmt = kwargs.pop("memory_format", None)  # a layout hint: checked, storage stays row-major
    if fmt is not None:
        _formats.check(fmt, None, "to")
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (str, device_cls)) and not _is_dtype_name(a):
            device = a
        elif isinstance(a, int) and not isinstance(a, bool):
            device = f"cuda:{a}"
        elif a is not None:
            dtype = a
    if dtype is not None:
        dtype = _as_dtype(dtype)
        if not _dtype.is_floating(dtype) and dtype.kind != "c":
            raise TypeError(
                f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}"
            )
    return device, dtype


class Module(ForwardHooks, BackwardHooks, StateDict):
    """Base class of every layer and model.

    Assigning a Parameter, a Module or (through ``register_buffer``) a buffer tensor to an
    attribute registers it; ``parameters()``, ``state_dict()``, ``to()``, ``train()``... walk the
    registered children recursively.
    """

    training: bool
    dump_patches = False  # torch's flags, for code that reads them
    call_super_init = False

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        self._init_hooks()
        self._init_backward_hooks()

    def __setstate__(self, state):
        self.__dict__.update(state)
        # a module pickled before the backward-hook registries existed gets empty ones
        if "_backward_hooks" not in self.__dict__:
            self._init_backward_hooks()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        if (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
        ):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ---- registration ----

    def _check_ready(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")

    def register_parameter(self, name: str, param) -> None:
        self._check_ready("parameter")
        _check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                f"(nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        self._check_ready("buffer")
        _check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                f"(Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module) -> None:
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, "module", allow_dot=False)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)  # a replaced parameter keeps its place
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    f"(nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    f"(nn.Module or None expected)"
                )
            self._modules[name] = None
        elif isinstance(value, Buffer):
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self.register_buffer(name, value, value.persistent)
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    f"(Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        self.__dict__.pop(name, None)
        for d in (self._parameters, self._buffers, self._modules):
            if d is not keep:
                d.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            reg = self.__dict__.get(key)
            if reg is not None and name in reg:
                del reg[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )

    # ---- walks ----

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for mprefix, module in mods:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mprefix}.{name}" if mprefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str):
        """The submodule at the dotted path ``target`` ("" is the module itself)."""
        module = self
        if not target:
            return module
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(  # noqa: TRY004 (torch's exception type)
                    f"`{item}` is not an nn.Module"
                )
        return module

    def set_submodule(self, target: str, module, strict: bool = False):
        """Put ``module`` at the dotted path ``target`` (its parent must exist; with
        ``strict``, the name too); what it replaces must be a module."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(  # noqa: TRY004 (torch's exception type)
                f"`module` is not an nn.Module, found {type(module)}"
            )
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str):
        mod_path, _, name = target.rpartition(".")
        module = self.get_submodule(mod_path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target: str):
        """The buffer at the dotted path ``target``."""
        mod_path, _, name = target.rpartition(".")
        module = self.get_submodule(mod_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ----

    def train(self, mode: bool = True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")  # noqa: TRY004 (torch's)
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                with no_grad():
                    p.grad.zero_()

    # ---- device / dtype ----

    def _apply(self, fn, recurse: bool = True):
        """Replace every parameter's and buffer's storage by ``fn(tensor)``, in place (this
        module's own only, without ``recurse``).

        Parameters stay the same objects (optimizers keep their references); their grads move too.
        """
        for module in self.modules() if recurse else (self,):
            for p in module._parameters.values():
                if p is None:
                    continue
                with no_grad():
                    new = fn(p.detach())
                    if new._data is not p._data:
                        p.data = new
                    if p.grad is not None:
                        p.grad = fn(p.grad)
            for name, b in module._buffers.items():
                if b is not None:
                    with no_grad():
                        module._buffers[name] = fn(b)
        return self

    def share_memory(self):
        """Move every parameter, buffer and gradient into shared memory
        (``Tensor.share_memory_``), in place, for processes that train one model together;
        returns self."""
        for module in self.modules():
            for p in module._parameters.values():
                if p is not None:
                    p.share_memory_()
                    if p.grad is not None:
                        p.grad.share_memory_()
            for b in module._buffers.values():
                if b is not None:
                    b.share_memory_()
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``; in place."""
        device, dtype = _parse_to(args, dict(kwargs))

        def convert(t):
            if dtype is not None and t.dtype.kind in "fc":
                t = t.to(dtype)
            if device is not None:
                t = t.to(device)
            return t

        return self._apply(convert)

    def float(self):
        return self._apply(
            lambda t: t.to(np.dtype(np.float32)) if _dtype.is_floating(t.dtype) else t
        )

    def double(self):
        return self._apply(
            lambda t: t.to(np.dtype(np.float64)) if _dtype.is_floating(t.dtype) else t
        )

    def bfloat16(self):
        """Floating parameters and buffers to bfloat16 storage (needs ml_dtypes); ops compute
        on them in float32 and round their results back, as torch's CPU ops do."""
        bf16 = _dtype.to_dtype(_dtype.PUBLIC["bfloat16"])
        return self._apply(lambda t: t.to(bf16) if _dtype.is_floating(t.dtype) else t)

    def half(self):
        """Floating parameters and buffers to float16 storage. Ops with a float16 path run on
        them; the C++ kernels (float32/float64 only) refuse them with a TypeError naming the
        dtype."""
        return self._apply(
            lambda t: t.to(np.dtype(np.float16)) if _dtype.is_floating(t.dtype) else t
        )

    def type(self, dst_type):
        """Every parameter and buffer cast to ``dst_type`` (``Tensor.type``); in place."""
        return self._apply(lambda t: t.type(dst_type))

    def to_empty(self, *, device=None, recurse: bool = True):
        """Parameters and buffers on ``device`` with their shapes and dtypes but uninitialized
        storage (to fill by an init or a load); the same Parameter objects. ``recurse=False``
        leaves the submodules alone."""

        def empty(t):
            return (
                t.new_empty(tuple(t.shape))
                if device is None
                else t.new_empty(tuple(t.shape), device=device)
            )

        if recurse:
            return self._apply(empty)
        return self._apply(empty, recurse=False)

    def cpu(self):
        return self.to("cpu")

    def xpu(self, device=None):
        """torch's move to an XPU: fastnn has none (a module with tensors raises)."""
        return self._to_missing_device("XPU")

    def ipu(self, device=None):
        """torch's move to an IPU: fastnn has none (a module with tensors raises)."""
        return self._to_missing_device("IPU")

    def mtia(self, device=None):
        """torch's move to an MTIA: fastnn has none (a module with tensors raises)."""
        return self._to_missing_device("MTIA")

    def _to_missing_device(self, kind):
        if any(True for _ in self.parameters()) or any(True for _ in self.buffers()):
            raise RuntimeError(f"fastnn has no {kind} devices: the module's tensors stay put")
        return self

    def cuda(self, device=None):
        return self.to(
            "cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device)
        )

    def compile(self, *args, **kwargs):
        """torch's in-place ``module.compile(...)``: the arguments are checked as
        ``fastnn.compile`` checks them, and the module keeps running eagerly."""
        from ..compiler import compile

        compile(self, *args, **kwargs)

    # ---- repr ----

    def extra_repr(self) -> str:
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _check_name(name, what, allow_dot=False):
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string. Got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{what} name cannot be empty string ""')
    if "." in name and not allow_dot:
        raise KeyError(f'{what} name cannot contain ".", got: {name}')


def _renumber(modules, items):
    """Refill a Sequential's or ModuleList's ``_modules`` with ``items``, keyed "0" .. "n-1"."""
    modules.clear()
    for i, m in enumerate(items):
        modules[str(i)] = m


class Sequential(Module):
    """Modules applied in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Also built from an OrderedDict of named modules. Supports indexing (negative, slices),
    ``len``, iteration, ``append``, item assignment and deletion. A ReLU directly followed by a
    MaxPool2d runs after it, on the pooled data (see ``_pool_first``).
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _index(self, idx) -> str:
        size = len(self)
        idx = operator.index(idx)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        return list(self._modules)[idx % size]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._index(idx)]

    def __setitem__(self, idx, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[self._index(idx)] = module

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for key in list(self._modules)[idx]:
                del self._modules[key]
        else:
            del self._modules[self._index(idx)]
        # keep the numbering 0..n-1, as torch does
        _renumber(self._modules, list(self._modules.values()))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def pop(self, key):
        """Remove and return the module at ``key`` (an index or a slice)."""
        v = self[key]
        del self[key]
        return v

    # The arithmetic of torch's Sequential: the same module objects, concatenated or repeated.
    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(  # noqa: TRY004 (torch's exception type)
                "add operator supports only objects of Sequential class, but "
                f"{type(other)} is given."
            )
        return Sequential(*self, *other)

    def __iadd__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(  # noqa: TRY004 (torch's exception type)
                "add operator supports only objects of Sequential class, but "
                f"{type(other)} is given."
            )
        return self.extend(list(other))

    def __mul__(self, other):
        return Sequential(*(list(self) * _repeats(other)))

    __rmul__ = __mul__

    def __imul__(self, other):
        items = list(self) * _repeats(other)
        _renumber(self._modules, items)
        return self

    def insert(self, index: int, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        items = list(self._modules.values())
        items.insert(index, module)
        _renumber(self._modules, items)
        return self

    def forward(self, input):
        modules = tuple(self._modules.values())
        i, n = 0, len(modules)
        while i < n:
            if i + 1 < n and _pool_first(modules[i], modules[i + 1]):
                # max_pool(relu(x)) == relu(max_pool(x)), with the ReLU on a quarter of the data.
                input = modules[i](modules[i + 1](input))
                i += 2
            else:
                input = modules[i](input)
                i += 1
        return input


def _repeats(other):
    """A Sequential's repeat count, checked as torch checks it."""
    if not isinstance(other, int):
        raise TypeError(f"unsupported operand type(s) for *: {Sequential} and {type(other)}")
    if other <= 0:
        raise ValueError(f"Non-positive multiplication factor {other} for {Sequential}")
    return other


def _pool_first(a, b) -> bool:
    """Whether a Sequential may run the pair ``a, b`` as ``b, a``: a plain ReLU followed by a plain
    MaxPool2d without indices, neither with hooks (nothing can see the ReLU's full-size output),
    and the ReLU not in place (its input, which the module before may have handed out, is then
    to change).

    A window's max commutes with any non-decreasing map; with ReLU the gradient does too: where
    a window's maximum is positive it sits at the same (first) place before and after the ReLU,
    and the ReLU passes its gradient; where it is not, the ReLU's gradient is 0 whichever element
    holds it. So values and gradients are those of the modules in their order, except that a zero
    may differ in sign (ReLU keeps -0.0, and max takes 0.0 and -0.0 as equal). The ReLU then reads
    and writes a quarter of the bytes (2x2 pooling), forward and backward.
    """
    # The flags sit in the classes themselves (ReLU, MaxPool2d), not in subclasses, which may
    # change what forward does.
    return (
        type(a).__dict__.get("_commutes_with_max", False)
        and type(b).__dict__.get("_takes_window_max", False)
        and not b.return_indices
        and not a.inplace
        and not _hooked(a)
        and not _hooked(b)
    )


def _hooked(m):
    return bool(
        m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or m._backward_pre_hooks
    )


class ModuleList(Module):
    """A list of modules, registered (their parameters are the list's parameters)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, idx) -> str:
        size = len(self)
        idx = operator.index(idx)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        return str(idx % size)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[self._index(idx)]

    def __setitem__(self, idx, module):
        self.add_module(self._index(idx), module)

    def __delitem__(self, idx):
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._index(idx)]
        for k in keys:
            del self._modules[k]
        _renumber(self._modules, list(self._modules.values()))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        """A new ModuleList of the same module objects, these then ``other``'s."""
        return ModuleList([*self, *other])

    def pop(self, key):
        """Remove and return the module at ``key`` (an index or a slice)."""
        v = self[key]
        del self[key]
        return v

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __repr__(self):
        # a run of neighbours that print the same shows once, as "(i-j): n x <module>"
        runs = []  # [first index, last index, repr]
        for i, text in enumerate(repr(m) for m in self):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        if not runs:
            return self._get_name() + "()"
        lines = [
            _addindent(f"({a}): {t}" if a == b else f"({a}-{b}): {b - a + 1} x {t}", 2)
            for a, b, t in runs
        ]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def insert(self, index: int, module):
        if module is not None and not isinstance(module, Module):  # before anything changes
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        items = list(self._modules.values())
        items.insert(index, module)
        _renumber(self._modules, items)
