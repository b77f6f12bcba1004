"""``SummaryWriter``: scalars logged to TensorBoard event files with torch's API. The files,
their records and the protocol messages are the tensorboard package's; this maps the calls."""

import os
import socket
import time
from datetime import datetime

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.types_pb2 import DT_DOUBLE, DT_FLOAT
from tensorboard.summary.writer.event_file_writer import EventFileWriter


def _scalar(value, tag):
    """A Python float from a number, a one-element tensor or numpy array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    a = np.asarray(value)
    if a.size != 1:
        raise AssertionError(f"scalar should be 0D, but {tag!r} has shape {a.shape}")
    return float(a.reshape(()))


def _tensor_value(tag, value, double):
    """The scalar as a 0-d tensor summary of the scalars plugin (``new_style``)."""
    if double:
        tensor = TensorProto(dtype=DT_DOUBLE, double_val=[value], tensor_shape=TensorShapeProto())
    else:
        tensor = TensorProto(dtype=DT_FLOAT, float_val=[value], tensor_shape=TensorShapeProto())
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary.Value(tag=tag, tensor=tensor, metadata=meta)


class SummaryWriter:
    """Writes scalars to event files under ``log_dir`` for TensorBoard.

    Args:
        log_dir: the run's folder; default ``runs/<date>_<host><comment>``.
        comment: appended to the default folder name (ignored with ``log_dir``).
        purge_step: a restarted run's first step: TensorBoard drops events at or after it.
        max_queue: events buffered before they are written out.
        flush_secs: the longest time events stay buffered.
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
        self._closed = False

    def _open(self, log_dir):
        f = EventFileWriter(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
        if self.purge_step is not None:
            now = time.time()
            f.add_event(Event(wall_time=now, step=self.purge_step, file_version="brain.Event:2"))
            start = SessionLog(status=SessionLog.START)
            f.add_event(Event(wall_time=now, step=self.purge_step, session_log=start))
        return f

    def _add(self, f, values, global_step, walltime):
        if self._closed:
            raise RuntimeError("SummaryWriter: the writer is closed")
        event = Event(
            wall_time=time.time() if walltime is None else walltime,
            summary=Summary(value=values),
        )
        if global_step is not None:
            event.step = int(global_step)
        f.add_event(event)

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
            summary = _tensor_value(tag, value, double_precision)
        else:
            summary = Summary.Value(tag=tag, simple_value=value)
        self._add(self._file, [summary], global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several scalars in one chart: each ``tag`` goes to its own run folder,
        ``<log_dir>/<main_tag>_<tag>``, under the tag ``main_tag``."""
        wall = time.time() if walltime is None else walltime
        for tag, value in tag_scalar_dict.items():
            folder = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            f = self._scalar_files.get(folder)
            if f is None:
                f = self._scalar_files[folder] = self._open(folder)
            summary = Summary.Value(tag=main_tag, simple_value=_scalar(value, main_tag))
            self._add(f, [summary], global_step, wall)

    def flush(self):
        for f in (self._file, *self._scalar_files.values()):
            f.flush()

    def close(self):
        for f in (self._file, *self._scalar_files.values()):
            f.close()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
