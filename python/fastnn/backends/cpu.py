"""``fastnn.backends.cpu``: which vector instructions the CPU kernels run on."""

from .. import _C


def get_cpu_capability() -> str:
    """The SIMD level of the kernels in use, named as torch names its own: "AVX512", "AVX2",
    or "DEFAULT" (the generic path)."""
    return {"avx512": "AVX512", "avx2": "AVX2"}.get(_C.get_isa(), "DEFAULT")


__all__ = ["get_cpu_capability"]
