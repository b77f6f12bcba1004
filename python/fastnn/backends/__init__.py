"""``fastnn.backends``: torch's backend switches, so programs that set them run unchanged.

fastnn has no cuDNN, no MPS and no TF32 path: its kernels are its own. The flags here are plain
settable attributes that fastnn reads nowhere (setting ``cudnn.benchmark = True`` or
``cuda.matmul.allow_tf32 = True`` changes no result and no speed); the ``is_available`` /
``is_built`` questions answer truthfully (False, and no MKL, oneDNN or OpenMP either);
``cpu.get_cpu_capability()`` names the SIMD path the kernels run on.
"""

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
