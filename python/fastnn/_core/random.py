"""fastnn's random state: the global numpy Generator (reseeded by ``fastnn.manual_seed``) and
``fastnn.Generator``, a private stream a program can pass as ``generator=`` to a random call."""

import secrets
import threading

import numpy as np

from .device import device as _device

_MASK = 0xFFFF_FFFF_FFFF_FFFF
# Started from a recorded random seed (not straight from the OS), so initial_seed() can say it.
_initial_seed = secrets.randbits(63)
_generator = np.random.default_rng(_initial_seed)


# A DataLoader worker thread's own stream: worker threads share the process, so giving each its
# own generator is what keeps their random draws reproducible (and the main stream untouched).
class _ThreadStream(threading.local):
    rng = None  # a class default: reading it in a thread that never set one raises nothing


_thread = _ThreadStream()


def _check_seed(seed, fn):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{fn}: seed must be an int, got {type(seed).__name__}")
    return int(seed) & _MASK


def manual_seed(seed: int):
    """Seed every random draw fastnn makes (init, rand*, dropout, shuffling) for reproducible runs."""
    global _generator, _initial_seed
    seed = _check_seed(seed, "manual_seed")
    rng = np.random.default_rng(seed)
    if _thread.rng is not None:  # in a worker thread: seed only its stream
        _thread.rng = rng
        return rng
    _generator, _initial_seed = rng, seed
    return _generator


def initial_seed() -> int:
    """The seed the global stream started from (the last manual_seed's)."""
    return _initial_seed


def generator() -> np.random.Generator:
    """The global Generator, or a DataLoader worker thread's own (read it at each use:
    manual_seed replaces it)."""
    rng = _thread.rng
    return _generator if rng is None else rng


def set_thread_stream(seed):
    """Give the calling thread its own stream started from ``seed`` (None: back to the global)."""
    _thread.rng = None if seed is None else np.random.default_rng(_check_seed(seed, "seed"))


class Stream:
    """The seedable part of ``fastnn.Generator`` (which adds the tensor-valued get/set_state
    above this layer): an independent numpy stream and the seed it started from."""

    __slots__ = ("_rng", "_seed", "device")

    # a fixed default, so an unseeded Generator is reproducible
    _DEFAULT_SEED = 67280421310721

    def __init__(self, device="cpu"):
        self.device = _device(device)
        self._seed = self._DEFAULT_SEED
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        """Restart the stream from ``seed``; returns the generator (so calls can be chained)."""
        self._seed = _check_seed(seed, "Generator.manual_seed")
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        self.manual_seed(secrets.randbits(63))
        return self._seed

    def initial_seed(self):
        """The seed the stream was last started from."""
        return self._seed

    def _state_bytes(self) -> bytes:
        return state_bytes(self._seed, self._rng)

    def _load_state_bytes(self, raw: bytes):
        self._seed, self._rng = from_state_bytes(raw, "Generator.set_state")


STATE_BYTES = 8 + 16 + 16 + 4 + 1


def state_bytes(seed, rng) -> bytes:
    """The seed, then the PCG64 bit generator's 128-bit state and increment, its cached half
    word and whether that is valid (little-endian)."""
    st = rng.bit_generator.state
    return (
        seed.to_bytes(8, "little")
        + int(st["state"]["state"]).to_bytes(16, "little")
        + int(st["state"]["inc"]).to_bytes(16, "little")
        + int(st["uinteger"]).to_bytes(4, "little")
        + bytes([int(st["has_uint32"])])
    )


def from_state_bytes(raw: bytes, fn):
    """(seed, numpy Generator) at the position ``state_bytes`` recorded."""
    if len(raw) != STATE_BYTES:
        raise RuntimeError(f"{fn}: expected a state of {STATE_BYTES} bytes, got {len(raw)}")
    seed = int.from_bytes(raw[:8], "little")
    rng = np.random.default_rng(seed)
    bg = rng.bit_generator
    bg.state = {
        "bit_generator": bg.state["bit_generator"],
        "state": {
            "state": int.from_bytes(raw[8:24], "little"),
            "inc": int.from_bytes(raw[24:40], "little"),
        },
        "uinteger": int.from_bytes(raw[40:44], "little"),
        "has_uint32": raw[44],
    }
    return seed, rng


def global_state_bytes() -> bytes:
    """The state of the stream ``manual_seed`` seeds (a worker thread's own, in one)."""
    return state_bytes(_initial_seed, generator())


def load_global_state_bytes(raw: bytes):
    """Put that stream back where ``global_state_bytes`` found it."""
    global _generator, _initial_seed
    seed, rng = from_state_bytes(raw, "set_rng_state")
    if _thread.rng is not None:
        _thread.rng = rng
        return
    _generator, _initial_seed = rng, seed


def rng_of(gen, fn="generator"):
    """The numpy Generator behind a ``generator=`` argument: a fastnn.Generator's stream, a numpy
    Generator as is (fastnn accepted those before it had its own), None -> the global one."""
    if gen is None:
        return generator()
    if isinstance(gen, Stream):
        return gen._rng
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(
        f"{fn}: generator must be a fastnn.Generator (or a numpy.random.Generator), "
        f"got {type(gen).__name__}"
    )
