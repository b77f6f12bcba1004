"""torch.profiler's ``profile``: the recorder of ``autograd.profiler.profile`` driven by a
schedule. ``step()`` ends a step; the steps the schedule records are kept, and after the last
active step of a cycle (or at exit, while recording) ``on_trace_ready(prof)`` sees them.
Without a schedule every step is recorded and ``on_trace_ready`` runs once, at exit. Only
host (CPU) activity is recorded; ``ProfilerActivity.CUDA`` is accepted and adds nothing."""

import enum
import gzip
import os
import socket
import time

from ..autograd import profiler as _recorder
from .schedule import ProfilerAction

_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1


class profile(_recorder.profile):  # torch's name
    def __init__(
        self,
        *,
        activities=None,
        schedule=None,
        on_trace_ready=None,
        record_shapes=False,
        profile_memory=False,
        with_stack=False,
        with_flops=False,
        with_modules=False,
        experimental_config=None,
        execution_trace_observer=None,
        acc_events=False,
        **kwargs,
    ):
        if activities is not None:
            for a in activities:
                if not isinstance(a, ProfilerActivity):
                    raise TypeError(f"profile: activities must be ProfilerActivity, got {a!r}")
        if schedule is not None and not callable(schedule):
            raise TypeError(f"profile: schedule must be callable, got {type(schedule).__name__}")
        if on_trace_ready is not None and not callable(on_trace_ready):
            raise TypeError("profile: on_trace_ready must be callable")
        super().__init__(
            record_shapes=record_shapes, profile_memory=profile_memory, with_stack=with_stack
        )
        self.activities = set(activities or (ProfilerActivity.CPU,))
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = ProfilerAction.RECORD

    def _action(self):
        return self.schedule(self.step_num) if self.schedule else ProfilerAction.RECORD

    def start(self):
        _recorder.profile._start(self)
        self.current_action = self._action()
        self._recording = self.current_action in _RECORDING

    def stop(self):
        recording = self.current_action in _RECORDING
        _recorder.profile._stop(self)
        if recording and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def step(self):
        """End the current step: hand the trace over after a cycle's last active step, and
        start or stop recording as the schedule says for the next one."""
        prev = self.current_action
        self.step_num += 1
        self.current_action = self._action()
        if prev == ProfilerAction.RECORD_AND_SAVE and self.on_trace_ready is not None:
            self.on_trace_ready(self)
        if prev == ProfilerAction.RECORD_AND_SAVE or (
            prev not in _RECORDING and self.current_action in _RECORDING
        ):
            self._raw = []  # a new trace begins
            self._events = None
        self._recording = self.current_action in _RECORDING


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each trace as ``<worker>.<ms>.pt.trace.json`` (gzip:
    ``.json.gz``) into ``dir_name``, the files TensorBoard's profiler plugin reads."""

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json"
        path = os.path.join(dir_name, name)
        prof.export_chrome_trace(path)
        if use_gzip:
            with open(path, "rb") as f, gzip.open(path + ".gz", "wb") as g:
                g.write(f.read())
            os.remove(path)

    return handler
