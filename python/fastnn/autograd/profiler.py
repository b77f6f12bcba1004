"""``fastnn.autograd.profiler``: torch's legacy profiler spelling (``profile``,
``record_function``), and the event recorder that ``fastnn.profiler`` builds on.

What is recorded: every ``record_function`` range, and every primitive that runs through
``Function.apply`` (named ``fastnn::<Primitive>``, with its input shapes under
``record_shapes``). ``apply`` tests one module global (``function.op_observer``), which is None
unless a profile is running, so ops pay nothing measurable otherwise. Not recorded: the
shortcuts that skip ``apply`` (operators and simple methods on CPU tensors outside autograd,
see docs/design.md), custom Functions' own ``apply``, the backward pass's kernels and GPU time
(``use_cuda`` is accepted; its columns read zero). With ``profile_memory`` an op's memory is
the bytes of the tensors it returns (what it allocates; frees are not tracked), a range's the
sum of the ops inside it. A primitive that another one runs inside its forward is counted in
the outer one's time.
"""

import json
import os
import threading
from time import perf_counter_ns

from . import function

__all__ = [
    "EventList",
    "FunctionEvent",
    "FunctionEventAvg",
    "emit_itt",
    "emit_nvtx",
    "profile",
    "record_function",
]

_active = [None]  # the running profile (one at a time)


class Interval:
    """An event's span in microseconds from the start of its profile."""

    __slots__ = ("end", "start")

    def __init__(self, start, end):
        self.start, self.end = start, end

    def elapsed_us(self):
        return self.end - self.start


class FunctionEvent:
    """One recorded range: an op (``cpu_op``) or a ``record_function`` (``user_annotation``)."""

    def __init__(self, id, name, start, end, thread, input_shapes, kind, memory=0):
        self.id, self.name, self.thread, self.kind = id, name, thread, kind
        self.time_range = Interval(start, end)
        self.input_shapes = input_shapes
        self.cpu_children, self.cpu_parent = [], None
        self.device_type = "CPU"
        self.self_cpu_memory_usage = memory

    @property
    def cpu_memory_usage(self):
        return self.self_cpu_memory_usage + sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def key(self):
        return self.name

    @property
    def cpu_time_total(self):
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    # the devices fastnn does not record
    cuda_time_total = self_cuda_time_total = device_time_total = self_device_time_total = 0.0
    cuda_memory_usage = self_cuda_memory_usage = 0

    def __repr__(self):
        return (
            f"<FunctionEvent id={self.id} name={self.name} cpu_time_total="
            f"{self.cpu_time_total:.3f}us input_shapes={self.input_shapes}>"
        )


class FunctionEventAvg:
    """The events of one name (and, grouped so, input shapes) summed."""

    cuda_time_total = self_cuda_time_total = device_time_total = self_device_time_total = 0.0
    cuda_memory_usage = self_cuda_memory_usage = 0

    def __init__(self, key, input_shapes):
        self.key = self.name = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0

    def add(self, e):
        self.count += 1
        self.cpu_time_total += e.cpu_time_total
        self.self_cpu_time_total += e.self_cpu_time_total
        self.cpu_memory_usage += e.cpu_memory_usage
        self.self_cpu_memory_usage += e.self_cpu_memory_usage

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self):
        return self.self_cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (
            f"<FunctionEventAvg key={self.key} count={self.count} "
            f"cpu_time_total={self.cpu_time_total:.3f}us>"
        )


_SORT_KEYS = {
    "cpu_time",
    "cpu_time_total",
    "self_cpu_time",
    "self_cpu_time_total",
    "count",
    "cuda_time_total",
    "self_cuda_time_total",
    "device_time_total",
    "self_device_time_total",
    "cpu_memory_usage",
    "self_cpu_memory_usage",
    "cuda_memory_usage",
    "self_cuda_memory_usage",
}


def _us(v):
    return f"{v / 1000:.3f}ms" if v >= 1000 else f"{v:.3f}us"


def _bytes(n):
    """A byte count as torch's tables show it (b, Kb, Mb, Gb in powers of 1024)."""
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} b"


class EventList(list):
    """A list of events (or of averages) that prints as torch's summary table (with memory
    columns when the profile recorded memory)."""

    def __init__(self, items=(), profile_memory=False):
        super().__init__(items)
        self.profile_memory = profile_memory

    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, header=None, **_):
        rows = list(self)
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise ValueError(f"table: unknown sort_by {sort_by!r}; one of {sorted(_SORT_KEYS)}")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        shapes = any(getattr(e, "input_shapes", None) for e in self) and all(
            isinstance(e, FunctionEventAvg) and e.input_shapes is not None for e in self
        )
        total = sum(e.self_cpu_time_total for e in self) or 1.0
        heads = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
        if self.profile_memory:
            heads += ["CPU Mem", "Self CPU Mem"]
        heads.append("# of Calls")
        if shapes:
            heads.append("Input Shapes")
        body = []
        for e in rows:
            count = getattr(e, "count", 1)
            line = [
                e.key[:max_name_column_width],
                f"{100 * e.self_cpu_time_total / total:.2f}%",
                _us(e.self_cpu_time_total),
                f"{100 * e.cpu_time_total / total:.2f}%",
                _us(e.cpu_time_total),
                _us(e.cpu_time_total / max(count, 1)),
            ]
            if self.profile_memory:
                line += [_bytes(e.cpu_memory_usage), _bytes(e.self_cpu_memory_usage)]
            line.append(str(count))
            if shapes:
                line.append(str(e.input_shapes))
            body.append(line)
        widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(heads)]
        rule = "  ".join("-" * w for w in widths)
        fmt = "  ".join(f"{{:>{w}}}" for w in widths)
        lines = [header] if header else []
        lines += [rule, fmt.format(*heads), rule, *(fmt.format(*r) for r in body), rule]
        lines.append(f"Self CPU time total: {_us(sum(e.self_cpu_time_total for e in self))}")
        return "\n".join(lines) + "\n"

    def __str__(self):
        return self.table()

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        groups = {}
        for e in self:
            shapes = e.input_shapes if group_by_input_shape else None
            key = (e.name, str(shapes) if group_by_input_shape else None)
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(e.name, shapes)
            avg.add(e)
        return EventList(groups.values(), self.profile_memory)

    def total_average(self):
        avg = FunctionEventAvg("Total", None)
        for e in self:
            avg.add(e)
        return avg

    def export_chrome_trace(self, path):
        pid = os.getpid()
        trace = []
        for e in self:
            entry = {
                "name": e.name,
                "ph": "X",
                "cat": e.kind,
                "ts": e.time_range.start,
                "dur": e.cpu_time_total,
                "pid": pid,
                "tid": e.thread,
                "args": {},
            }
            if e.input_shapes:
                entry["args"]["Input Dims"] = e.input_shapes
            trace.append(entry)
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)


def _nest(events):
    """Set each event's cpu_parent and cpu_children from the spans, per thread."""
    by_thread = {}
    for e in events:
        by_thread.setdefault(e.thread, []).append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e.time_range.start, -e.time_range.end))
        stack = []
        for e in evs:
            while stack and stack[-1].time_range.end <= e.time_range.start:
                stack.pop()
            if stack and e.time_range.end <= stack[-1].time_range.end:
                e.cpu_parent = stack[-1]
                stack[-1].cpu_children.append(e)
            stack.append(e)


class profile:  # torch's name
    """Context manager: records ops and ``record_function`` ranges while it is entered.
    ``events()`` lists them, ``key_averages()`` sums them by name, ``table()`` prints the
    summary, ``export_chrome_trace(path)`` writes a chrome://tracing JSON file."""

    def __init__(
        self,
        enabled=True,
        *,
        use_cuda=False,
        use_device=None,
        record_shapes=False,
        with_flops=False,
        profile_memory=False,
        with_stack=False,
        with_modules=False,
        use_kineto=False,
        use_cpu=True,
        **_,
    ):
        self.enabled = bool(enabled)
        self.record_shapes = bool(record_shapes)
        self.profile_memory, self.with_stack = profile_memory, with_stack
        self._raw = []  # (name, start ns, end ns, thread, shapes, kind, bytes returned)
        self._events = None
        self._t0 = 0
        self._recording = False

    # ---- start / stop ----
    def _start(self):
        if _active[0] is not None:
            raise RuntimeError("Profiler is already enabled: only one profile may run at a time")
        self._t0 = perf_counter_ns()
        self._recording = True
        _active[0] = self
        function.op_observer = _observe

    def _stop(self):
        if _active[0] is self:
            _active[0] = None
            function.op_observer = None
        self._recording = False
        self._events = None

    def __enter__(self):
        if self.enabled:
            self._start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self._stop()
        return False

    def _add(self, name, start, end, shapes, kind, memory=0):
        self._raw.append((name, start, end, threading.get_ident(), shapes, kind, memory))
        self._events = None

    # ---- results ----
    def events(self):
        if self._events is None:
            t0 = self._t0
            evs = EventList(
                (
                    FunctionEvent(i, n, (s - t0) / 1000, (e - t0) / 1000, th, sh, k, m)
                    for i, (n, s, e, th, sh, k, m) in enumerate(self._raw)
                ),
                bool(self.profile_memory),
            )
            _nest(evs)
            self._events = evs
        return self._events

    @property
    def function_events(self):
        return self.events()

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, **_):
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, sort_by=None, row_limit=100, **kwargs):
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def total_average(self):
        return self.events().total_average()

    def export_chrome_trace(self, path):
        self.events().export_chrome_trace(path)

    def __str__(self):
        return self.table()


def _observe(cls, tensors, kwargs):
    """``Function.apply`` while a profile runs: the op timed as one event. Ops it runs
    inside (a primitive calling another) are part of its time, not events of their own."""
    prof = _active[0]
    function.op_observer = None
    start = perf_counter_ns()
    out = None
    try:
        out = cls.apply(*tensors, **kwargs)
        return out
    finally:
        end = perf_counter_ns()
        function.op_observer = _observe
        if prof is not None and prof._recording:
            shapes = None
            if prof.record_shapes:
                shapes = [list(getattr(t, "shape", ())) for t in tensors]
            memory = _returned_bytes(out) if prof.profile_memory else 0
            prof._add(f"fastnn::{cls.__name__}", start, end, shapes, "cpu_op", memory)


def _returned_bytes(out):
    """The bytes of the tensors an op returned (a tensor or a tuple of them)."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return sum(int(getattr(getattr(t, "_data", None), "nbytes", 0)) for t in outs)


class record_function:  # torch's name
    """A named range in the running profile (nothing without one): a context manager, or a
    decorator that records each call of the function."""

    def __init__(self, name, args=None):
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {type(name).__name__}")
        self.name = name
        self.args = args
        self._start = None

    def __enter__(self):
        prof = _active[0]
        if prof is not None and prof._recording:
            self._prof, self._start = prof, perf_counter_ns()
        return self

    def __exit__(self, *exc):
        if self._start is not None:
            end = perf_counter_ns()
            prof, start, self._start = self._prof, self._start, None
            self._prof = None
            if prof._recording:
                prof._add(
                    self.name, start, end, [] if prof.record_shapes else None, "user_annotation"
                )
        return False

    def __call__(self, fn):
        name = self.name

        def wrapper(*args, **kwargs):
            with record_function(name):
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = getattr(fn, "__doc__", None)
        wrapper.__wrapped__ = fn
        return wrapper


class emit_nvtx:  # torch's name
    """torch's context that marks each op as an NVTX range for NVIDIA's profilers (``emit_itt``:
    ITT ranges for Intel's VTune). fastnn emits neither, so inside one ops run unmarked; the
    context is accepted so that programs which switch it on or off run unchanged."""

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled, self.record_shapes = enabled, record_shapes
        self.entered = False

    def __enter__(self):
        if self.entered:
            raise RuntimeError("NVTX annotation context manager is not reentrant")
        self.entered = True
        return self

    def __exit__(self, *exc):
        self.entered = False
        return False


class emit_itt(emit_nvtx):  # torch's name
    __doc__ = emit_nvtx.__doc__

    def __enter__(self):
        if self.entered:
            raise RuntimeError("ITT annotation context manager is not reentrant")
        self.entered = True
        return self
