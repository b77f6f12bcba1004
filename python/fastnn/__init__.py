"""fastnn: a small, fast neural-network library with C++ (and optional CUDA) kernels.

The kernels are public in :mod:`fastnn.kernels` (they work on numpy arrays); above them sits a
PyTorch-style API: ``Tensor`` with autograd, ``nn``, ``optim`` and ``utils.data``.

The package reads bottom-up (no module imports one above it):
``_core`` (dtypes, devices, the random generator, the kernel table) < ``_devices`` (the per-device
op modules and their registry) and ``kernels`` < ``autograd`` < ``_tensor`` (the Tensor, its op
methods and primitives) < ``nn``, ``optim``, ``utils.data``, ``datasets``, ``distributions``,
``serialization``.
"""

import math

from . import (
    _C,
    accelerator,
    amp,
    autograd,
    backends,
    compiler,
    cuda,
    datasets,
    distributions,
    fft,
    func,
    jit,
    kernels,
    linalg,
    multiprocessing,
    nn,
    onnx,
    optim,
    profiler,
    random,
    return_types,
    sparse,
    special,
    testing,
    utils,
)
from ._core import dtype as _dtype
from ._core.autocast import autocast, get_autocast_dtype, is_autocast_enabled
from ._core.axis_alias import alias_functions as _alias_functions
from ._core.device import device, get_default_device, set_default_device
from ._core.dtype import (
    can_cast,
    dtype,
    finfo,
    get_default_dtype,
    iinfo,
    promote_types,
    set_default_dtype,
)
from ._core.global_flags import (
    are_deterministic_algorithms_enabled,
    get_deterministic_debug_mode,
    get_num_interop_threads,
    is_deterministic_algorithms_warn_only_enabled,
    is_warn_always_enabled,
    set_default_tensor_type,
    set_deterministic_debug_mode,
    set_flush_denormal,
    set_num_interop_threads,
    set_warn_always,
    use_deterministic_algorithms,
)
from ._core.memory_format import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    layout,
    memory_format,
    preserve_format,
    sparse_coo,
    strided,
)
from ._core.size import Size
from ._devices.config import get_num_threads, set_num_threads, show_config
from ._devices.dlpack import from_dlpack
from ._functional_aliases import *  # conv2d, batch_norm, dropout, kl_div, relu_, ...
from ._functional_aliases import __all__ as _functional_aliases_all
from ._tensor import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    Tensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    manual_seed,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from ._tensor.complex import *  # view_as_real, view_as_complex, complex, polar
from ._tensor.complex import __all__ as _complex_all
from ._tensor.copies import *  # view_copy, permute_copy, narrow_copy, ...
from ._tensor.copies import __all__ as _copies_all
from ._tensor.functions import *  # matmul, cat, stack, where, exp, ...
from ._tensor.functions import __all__ as _functions_all
from ._tensor.functions_api import *  # take, quantile, cov, block_diag, ...
from ._tensor.functions_api import __all__ as _functions_api_all
from ._tensor.functions_compat import *  # atleast_1d, broadcast_shapes, typename, ...
from ._tensor.functions_compat import __all__ as _functions_compat_all
from ._tensor.functions_misc import *  # asarray, frombuffer, range, rsub, fill, ...
from ._tensor.functions_misc import __all__ as _functions_misc_all
from ._tensor.functions_more import *  # hstack, cdist, searchsorted, multinomial, ...
from ._tensor.functions_more import __all__ as _functions_more_all
from ._tensor.gradient import gradient
from ._tensor.histogramdd import histogramdd
from ._tensor.linalg.toplevel import *  # det, inverse, logdet, slogdet, pinverse, kron, ...
from ._tensor.linalg.toplevel import __all__ as _linalg_all
from ._tensor.linalg.toplevel_more import *  # cholesky_solve, svd_lowrank, geqrf, ...
from ._tensor.linalg.toplevel_more import __all__ as _linalg_more_all
from ._tensor.printing import set_printoptions
from ._tensor.random import Generator, default_generator, get_rng_state, set_rng_state
from ._tensor.sparse import sparse_coo_tensor, spmm
from ._tensor.spectral import istft, stft
from ._tensor.windows import *  # hann_window, hamming_window, kaiser_window, ...
from ._tensor.windows import __all__ as _windows_all
from .autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd.anomaly_mode import (
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)
from .backends.precision import get_float32_matmul_precision, set_float32_matmul_precision
from .compiler import compile
from .cuda import amp as _cuda_amp  # noqa: F401 (binds it in cuda)
from .cuda import graphed_callables as _graphed_callables  # noqa: F401 (binds it in cuda)
from .func import vmap
from .serialization import load, save

globals().update(_dtype.PUBLIC)  # fastnn.float32, fastnn.long, fastnn.bool, ...

__version__ = _C.__version__

# torch's constants
e = math.e
pi = math.pi
inf = math.inf
nan = math.nan
newaxis = None

# The subpackages, Tensor, creation, autograd and save/load; then the functions and dtypes.
__all__ = [
    "BoolTensor",
    "ByteTensor",
    "CharTensor",
    "DoubleTensor",
    "FloatTensor",
    "Generator",
    "HalfTensor",
    "IntTensor",
    "LongTensor",
    "ShortTensor",
    "Size",
    "Tensor",
    "__version__",
    "accelerator",
    "amp",
    "arange",
    "are_deterministic_algorithms_enabled",
    "as_tensor",
    "autocast",
    "autograd",
    "backends",
    "can_cast",
    "channels_last",
    "channels_last_3d",
    "compile",
    "compiler",
    "contiguous_format",
    "cuda",
    "datasets",
    "default_generator",
    "device",
    "distributions",
    "dtype",
    "e",
    "empty",
    "empty_like",
    "enable_grad",
    "eye",
    "fft",
    "finfo",
    "from_dlpack",
    "from_numpy",
    "full",
    "full_like",
    "func",
    "get_default_device",
    "get_default_dtype",
    "get_deterministic_debug_mode",
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "get_num_threads",
    "get_rng_state",
    "gradient",
    "histogramdd",
    "iinfo",
    "inf",
    "inference_mode",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_deterministic_algorithms_warn_only_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "is_warn_always_enabled",
    "istft",
    "jit",
    "kernels",
    "layout",
    "linalg",
    "linspace",
    "load",
    "manual_seed",
    "memory_format",
    "multiprocessing",
    "nan",
    "newaxis",
    "nn",
    "no_grad",
    "normal",
    "ones",
    "ones_like",
    "onnx",
    "optim",
    "pi",
    "preserve_format",
    "profiler",
    "promote_types",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "random",
    "randperm",
    "return_types",
    "save",
    "set_anomaly_enabled",
    "set_default_device",
    "set_default_dtype",
    "set_default_tensor_type",
    "set_deterministic_debug_mode",
    "set_float32_matmul_precision",
    "set_flush_denormal",
    "set_grad_enabled",
    "set_num_interop_threads",
    "set_num_threads",
    "set_printoptions",
    "set_rng_state",
    "set_warn_always",
    "show_config",
    "sparse",
    "sparse_coo",
    "sparse_coo_tensor",
    "special",
    "spmm",
    "stft",
    "strided",
    "tensor",
    "testing",
    "use_deterministic_algorithms",
    "utils",
    "vmap",
    "zeros",
    "zeros_like",
]
__all__ += ["get_autocast_dtype", "is_autocast_enabled"]
__all__.extend(_functions_all)
__all__.extend(_copies_all)
__all__.extend(_complex_all)
__all__.extend(_functions_misc_all)
__all__.extend(_functions_more_all)
__all__.extend(_functions_compat_all)
__all__.extend(_functions_api_all)
__all__.extend(_linalg_all)
__all__.extend(_linalg_more_all)
__all__.extend(_functional_aliases_all)
__all__.extend(_windows_all)
__all__.extend(_dtype.PUBLIC)
# torch.cat(xs, axis=1), torch.mean(x, 1, keepdims=True): torch's numpy spellings of dim/keepdim
_alias_functions(globals(), __all__)
