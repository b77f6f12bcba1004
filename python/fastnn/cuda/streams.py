"""Streams and events in torch.cuda's form: ``Stream``, ``ExternalStream``, ``Event``,
``current_stream()``, ``default_stream()``, ``set_stream()`` and the ``stream(s)`` context
manager (``StreamContext``).

Each host thread has one current stream per device (the legacy default stream, handle 0, until
another is made current); every fastnn kernel, device copy and host copy is queued on it. Streams
created here are non-blocking (not ordered with the legacy default stream) and come from a
per-device pool that is never destroyed, as in torch. A DeviceArray used on a stream other than the
one it was allocated on must be recorded there (``DeviceArray.record_stream``) before it is freed,
so that its memory is not reused while that stream may still read it (the rule is in
docs/design.md, CUDA section).
"""

import contextlib
import numbers

from .._core.device import device as _device

# The fastnn.cuda package, bound by the package when it imports this module (importing the
# package from here would be an import cycle): its _require and _device_index are used.
_package = None


def bind_package(package):
    global _package  # noqa: PLW0603 (the one binding point, see above)
    _package = package


def _ext():
    """fastnn._cuda with a GPU (RuntimeError saying what is missing otherwise)."""
    return _package._require()


def _index(device):
    """A device argument -> a device index (the current device for None)."""
    index = _package._device_index(device)
    return _ext().current_device() if index < 0 else index


def _check_priority(priority):
    if isinstance(priority, bool) or not isinstance(priority, numbers.Integral):
        raise TypeError(f"Stream: priority must be an int, got {type(priority).__name__}")
    return int(priority)


class _DeviceSwitch:
    """Makes `index` the current device for a block, and restores the previous one after it."""

    def __init__(self, index):
        self.index, self.before = index, None

    def __enter__(self):
        mod = _ext()
        self.before = mod.current_device()
        if self.before != self.index:
            mod.set_device(self.index)

    def __exit__(self, *exc):
        if self.before != self.index:
            _ext().set_device(self.before)


class Stream:
    """A CUDA stream: work queued on different streams may run concurrently.

    ``Stream(device=None, priority=0)`` takes a stream from the device's pool; a negative
    priority asks for a high-priority one. ``cuda_stream`` is the cudaStream_t as an int.
    """

    def __init__(self, device=None, priority=0):
        priority = _check_priority(priority)
        index = _index(device)
        self.device_index = index
        self.cuda_stream = int(_ext().stream_from_pool(index, priority))

    @classmethod
    def _wrap(cls, handle, index):
        s = object.__new__(cls)
        s.device_index, s.cuda_stream = int(index), int(handle)
        return s

    @property
    def device(self):
        return _device("cuda", self.device_index)

    @property
    def priority(self):
        with _DeviceSwitch(self.device_index):
            return int(_ext().stream_priority(self.cuda_stream))

    def query(self) -> bool:
        """True when all work queued on this stream has finished."""
        return bool(_ext().stream_query(self.cuda_stream))

    def synchronize(self) -> None:
        """Block the host until all work queued on this stream has finished."""
        _ext().stream_synchronize(self.cuda_stream)

    def wait_event(self, event) -> None:
        """Work queued on this stream from now on waits for `event` (no host blocking)."""
        if not isinstance(event, Event):
            raise TypeError(f"Stream.wait_event: expected an Event, got {type(event).__name__}")
        event.wait(self)

    def wait_stream(self, stream) -> None:
        """Work queued on this stream from now on waits for what is queued on `stream` now."""
        if not isinstance(stream, Stream):
            raise TypeError(f"Stream.wait_stream: expected a Stream, got {type(stream).__name__}")
        if stream.cuda_stream != self.cuda_stream or stream.device_index != self.device_index:
            self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record `event` (a new Event when None) on this stream and return it."""
        if event is None:
            event = Event()
        elif not isinstance(event, Event):
            raise TypeError(f"Stream.record_event: expected an Event, got {type(event).__name__}")
        event.record(self)
        return event

    def __eq__(self, other):
        if not isinstance(other, Stream):
            return NotImplemented
        return self.cuda_stream == other.cuda_stream and self.device_index == other.device_index

    def __hash__(self):
        return hash((self.cuda_stream, self.device_index))

    def __repr__(self):
        return f"<fastnn.cuda.Stream device=cuda:{self.device_index} cuda_stream={self.cuda_stream:#x}>"


class ExternalStream(Stream):
    """A stream created elsewhere (torch, CuPy), given as its cudaStream_t int. The caller keeps
    it alive while fastnn uses it."""

    def __init__(self, stream_ptr, device=None):
        if isinstance(stream_ptr, bool) or not isinstance(stream_ptr, numbers.Integral):
            raise TypeError(
                f"ExternalStream: stream_ptr must be an int, got {type(stream_ptr).__name__}"
            )
        if stream_ptr < 0:
            raise ValueError(f"ExternalStream: invalid stream handle {stream_ptr}")
        self.device_index = _index(device)
        self.cuda_stream = int(stream_ptr)


class Event:
    """A CUDA event: a marker in a stream, to wait for, query, or time (``enable_timing``).

    The CUDA event is created when first recorded; before that ``query()`` is True and
    ``wait``/``synchronize`` do nothing, as in torch.
    """

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        for name, value in (
            ("enable_timing", enable_timing),
            ("blocking", blocking),
            ("interprocess", interprocess),
        ):
            if not isinstance(value, bool):
                raise TypeError(f"Event: {name} must be a bool, got {type(value).__name__}")
        if interprocess:
            raise ValueError("Event: interprocess events are not supported by fastnn")
        self.enable_timing, self.blocking = enable_timing, blocking
        self._handle, self._device = 0, None

    @property
    def cuda_event(self) -> int:
        return self._handle

    @property
    def device(self):
        return None if self._device is None else _device("cuda", self._device)

    def record(self, stream=None) -> None:
        """Record the event on `stream` (the current stream when None)."""
        if stream is None:
            stream = current_stream()
        elif not isinstance(stream, Stream):
            raise TypeError(f"Event.record: expected a Stream, got {type(stream).__name__}")
        if self._device is not None and self._device != stream.device_index:
            raise ValueError(
                f"Event.record: the event belongs to cuda:{self._device} but the stream to "
                f"cuda:{stream.device_index}"
            )
        mod = _ext()
        if not self._handle:
            with _DeviceSwitch(stream.device_index):
                self._handle = int(mod.event_create(self.enable_timing, self.blocking))
            self._device = stream.device_index
        with _DeviceSwitch(stream.device_index):
            mod.event_record(self._handle, stream.cuda_stream)

    def wait(self, stream=None) -> None:
        """Work queued on `stream` (the current stream when None) from now on waits for the
        event."""
        if stream is None:
            stream = current_stream()
        elif not isinstance(stream, Stream):
            raise TypeError(f"Event.wait: expected a Stream, got {type(stream).__name__}")
        if self._handle:
            with _DeviceSwitch(stream.device_index):
                _ext().stream_wait_event(stream.cuda_stream, self._handle)

    def query(self) -> bool:
        """True when the work recorded before the event has finished (or it was never
        recorded)."""
        return True if not self._handle else bool(_ext().event_query(self._handle))

    def synchronize(self) -> None:
        """Block the host until the event has completed."""
        if self._handle:
            _ext().event_synchronize(self._handle)

    def elapsed_time(self, end_event) -> float:
        """Milliseconds between this event and `end_event` (both recorded, both with
        ``enable_timing=True``, and ``end_event`` completed)."""
        if not isinstance(end_event, Event):
            raise TypeError(
                f"Event.elapsed_time: expected an Event, got {type(end_event).__name__}"
            )
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError(
                "Event.elapsed_time: both events must be created with enable_timing=True"
            )
        if not (self._handle and end_event._handle):
            raise RuntimeError(
                "Event.elapsed_time: both events must be recorded before measuring time"
            )
        return float(_ext().event_elapsed_ms(self._handle, end_event._handle))

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", 0), 0
        if handle:
            with contextlib.suppress(Exception):  # at interpreter shutdown the module may be gone
                _ext().event_destroy(handle)

    def __repr__(self):
        state = f"cuda_event={self._handle:#x}" if self._handle else "uninitialized"
        return f"<fastnn.cuda.Event {state}>"


def current_stream(device=None) -> Stream:
    """The calling thread's current stream on `device` (the current device when None)."""
    index = _index(device)
    with _DeviceSwitch(index):
        return Stream._wrap(_ext().get_current_stream(), index)


def default_stream(device=None) -> Stream:
    """The legacy default stream of `device` (handle 0)."""
    return Stream._wrap(0, _index(device))


def set_stream(stream) -> None:
    """Make `stream` the calling thread's current stream on its device, and its device the
    current device (as torch.cuda.set_stream). None does nothing."""
    if stream is None:
        return
    if not isinstance(stream, Stream):
        raise TypeError(f"set_stream: expected a Stream, got {type(stream).__name__}")
    mod = _ext()
    if mod.current_device() != stream.device_index:
        mod.set_device(stream.device_index)
    mod.set_current_stream(stream.cuda_stream)


class StreamContext:
    """Makes `stream` current for a block and restores, on exit, the stream it replaced on its
    device, the current device, and that device's current stream. ``StreamContext(None)`` does
    nothing. Not reentrant: use a new one per ``with``."""

    def __init__(self, stream):
        if stream is not None and not isinstance(stream, Stream):
            raise TypeError(f"stream: expected a Stream or None, got {type(stream).__name__}")
        self.stream = stream
        self._saved = None

    def __enter__(self):
        s = self.stream
        if s is None:
            return None
        if self._saved is not None:
            raise RuntimeError("StreamContext is not reentrant; create a new one per `with`")
        mod = _ext()
        src = mod.current_device()
        src_prev = int(mod.get_current_stream())
        dst_prev = src_prev
        if s.device_index != src:
            mod.set_device(s.device_index)
            dst_prev = int(mod.get_current_stream())
        mod.set_current_stream(s.cuda_stream)
        self._saved = (src, src_prev, dst_prev)
        return s

    def __exit__(self, *exc):
        if self.stream is None or self._saved is None:
            return False
        src, src_prev, dst_prev = self._saved
        self._saved = None
        mod = _ext()
        if mod.current_device() != self.stream.device_index:
            mod.set_device(self.stream.device_index)
        mod.set_current_stream(dst_prev)
        if src != self.stream.device_index:
            mod.set_device(src)
            mod.set_current_stream(src_prev)
        return False


def stream(stream) -> StreamContext:
    """``with fastnn.cuda.stream(s):`` queues the block's work on `s` (None: no change)."""
    return StreamContext(stream)
