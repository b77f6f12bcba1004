"""Device dispatch for fastnn.kernels: numpy arrays go straight to the CPU kernel (fastnn._C);
only when that raises TypeError because an argument is a CUDA array (a DeviceArray, or an object
with __cuda_array_interface__ / a CUDA __dlpack__) does the call go to fastnn.cuda.kernels.
The numpy path therefore costs one Python frame and a try block, and builds without CUDA are
left untouched (the CPU functions are exported as they are)."""

import functools

from . import is_built, is_cuda_array


def _has_cuda_array(args, kwargs) -> bool:
    for v in (*args, *kwargs.values()):
        if isinstance(v, (list, tuple)):
            if any(is_cuda_array(x) for x in v):
                return True
        elif is_cuda_array(v):
            return True
    return False


def dispatching(cpu_fn, name):
    """cpu_fn, falling back to the CUDA kernel `name` for CUDA arguments."""

    @functools.wraps(cpu_fn)
    def fn(*args, **kwargs):
        try:
            return cpu_fn(*args, **kwargs)
        except TypeError:
            if not _has_cuda_array(args, kwargs):
                raise
        from . import kernels as cuda_kernels

        return getattr(cuda_kernels, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name  # builtins carry pybind11's internal qualname
    fn.__module__ = "fastnn.kernels"
    fn.__wrapped_cpu__ = cpu_fn
    return fn


def install(namespace: dict, names, *, force=False) -> None:
    """Wrap every function in `names` that has a CUDA version (only in CUDA builds)."""
    if not (force or is_built()):
        return
    from .kernels import names as cuda_names

    for name in names:
        fn = namespace.get(name)
        if fn is not None and name in cuda_names() and not hasattr(fn, "__wrapped_cpu__"):
            namespace[name] = dispatching(fn, name)
