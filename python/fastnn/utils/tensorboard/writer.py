"""``SummaryWriter``: scalars logged to TensorBoard event files, torch's API."""

import itertools
import os
import socket
import time
from datetime import datetime

import numpy as np

from . import records

_FILE_IDS = itertools.count()


def _scalar(value, tag):
    """A Python float from a number, a one-element tensor or numpy array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    a = np.asarray(value)
    if a.size != 1:
        raise AssertionError(f"scalar should be 0D, but {tag!r} has shape {a.shape}")
    return float(a.reshape(()))


class _EventFile:
    """One event file in ``log_dir``: the version record first, then buffered events, written
    out every ``max_queue`` events, every ``flush_secs`` seconds, and on flush / close."""

    def __init__(self, log_dir, max_queue, flush_secs, filename_suffix):
        os.makedirs(log_dir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_FILE_IDS)}{filename_suffix}"
        self.log_dir = log_dir
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "wb")  # noqa: SIM115 (held until close)
        self._queue = []
        self._max_queue, self._flush_secs = max_queue, flush_secs
        self._last_flush = time.time()
        self.add(records.event(time.time(), file_version="brain.Event:2"))
        self.flush()

    def add(self, data):
        if self._file is None:
            raise RuntimeError("SummaryWriter: the writer is closed")
        self._queue.append(records.frame(data))
        if len(self._queue) >= self._max_queue or time.time() - self._last_flush > self._flush_secs:
            self.flush()

    def flush(self):
        if self._file is None:
            return
        self._file.write(b"".join(self._queue))
        self._file.flush()
        self._queue = []
        self._last_flush = time.time()

    def close(self):
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None


class SummaryWriter:
    """Writes scalars to event files under ``log_dir`` for TensorBoard.

    Args:
        log_dir: the run's folder; default ``runs/<date>_<host><comment>``.
        comment: appended to the default folder name (ignored with ``log_dir``).
        purge_step: a restarted run's first step: TensorBoard drops events at or after it.
        max_queue: events buffered before they are written out.
        flush_secs: the longest time events stay buffered (checked as events come).
        filename_suffix: appended to the event files' names.
    """

    def __init__(
        self,
        log_dir=None,
        comment="",
        purge_step=None,
        max_queue=10,
        flush_secs=120,
        filename_suffix="",
    ):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self._file = self._open(self.log_dir)
        self._scalar_files = {}  # add_scalars' per-tag runs

    def _open(self, log_dir):
        f = _EventFile(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
        if self.purge_step is not None:
            now = time.time()
            f.add(records.event(now, self.purge_step, file_version="brain.Event:2"))
            f.add(records.event(now, self.purge_step, session_start=True))
        return f

    def get_logdir(self):
        return self.log_dir

    def add_scalar(
        self,
        tag,
        scalar_value,
        global_step=None,
        walltime=None,
        new_style=False,
        double_precision=False,
    ):
        """Log ``scalar_value`` (a number or one-element tensor) under ``tag`` at
        ``global_step``; ``new_style`` writes it as a tensor summary (float64 with
        ``double_precision``)."""
        value = _scalar(scalar_value, tag)
        if new_style:
            summary = records.tensor_scalar_value(tag, value, double_precision)
        else:
            summary = records.scalar_value(tag, value)
        wall = time.time() if walltime is None else walltime
        self._file.add(records.event(wall, global_step, values=[summary]))

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several scalars in one chart: each ``tag`` goes to its own run folder,
        ``<log_dir>/<main_tag>_<tag>``, under the tag ``main_tag``."""
        wall = time.time() if walltime is None else walltime
        for tag, value in tag_scalar_dict.items():
            folder = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            f = self._scalar_files.get(folder)
            if f is None:
                f = self._scalar_files[folder] = self._open(folder)
            summary = records.scalar_value(main_tag, _scalar(value, main_tag))
            f.add(records.event(wall, global_step, values=[summary]))

    def flush(self):
        for f in (self._file, *self._scalar_files.values()):
            f.flush()

    def close(self):
        for f in (self._file, *self._scalar_files.values()):
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
