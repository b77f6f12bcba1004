"""``fastnn.profiler``: torch.profiler's API on fastnn's event recorder (autograd/profiler.py
says what is recorded): ``profile`` with ``schedule`` and ``step()``, ``record_function``,
``ProfilerActivity``, ``tensorboard_trace_handler`` (chrome-trace JSON files)."""

from ..autograd.profiler import record_function
from .profile import ProfilerActivity, profile, tensorboard_trace_handler
from .schedule import ProfilerAction, schedule

__all__ = [
    "ProfilerAction",
    "ProfilerActivity",
    "profile",
    "record_function",
    "schedule",
    "tensorboard_trace_handler",
]
