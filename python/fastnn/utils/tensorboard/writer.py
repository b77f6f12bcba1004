"""``SummaryWriter``: scalars, images, figures, text and histograms logged to TensorBoard event
files with torch's API. The files, their records and the protocol messages are the tensorboard
package's; this maps the calls (images are PNG-encoded by Pillow, as torch's are)."""

import io
import os
import socket
import time
from datetime import datetime

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.types_pb2 import DT_DOUBLE, DT_FLOAT, DT_STRING
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
from tensorboard.summary.writer.event_file_writer import EventFileWriter


def _numpy(value):
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _grid(images, ncols=8):
    """N images (N, C, H, W), C of 1, 3 or 4, side by side on a black canvas, up to ``ncols``
    a row (grayscale repeated to RGB)."""
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, 1)
    n, c, h, w = images.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((c, h * nrows, w * ncols), images.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * h : (y + 1) * h, x * w : (x + 1) * w] = images[i]
    return canvas


def _hwc(a, dataformats):
    """``a`` laid out as ``dataformats`` (a permutation of NCHW, CHW, HWC or HW...) as an
    (H, W, C) image: a batch becomes a grid, a single channel three."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt):
        raise AssertionError(f"You can not use the same dimension shorthand twice: {dataformats}")
    if a.ndim != len(fmt):
        raise AssertionError(
            f"size of input tensor and input format are different. tensor shape: {a.shape}, "
            f"input_format: {dataformats}"
        )
    if len(fmt) == 4:
        return _grid(a.transpose([fmt.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = a.transpose([fmt.find(c) for c in "HWC"])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    hw = a.transpose([fmt.find(c) for c in "HW"])
    return np.stack([hw] * 3, 2)


def _image(hwc):
    """An image summary: float images are read on [0, 1], uint8 ones on [0, 255]."""
    from PIL import Image

    scale = 1 if hwc.dtype == np.uint8 else 255
    pixels = (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    h, w, c = pixels.shape
    return Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=out.getvalue())


def _histogram(values, bins, max_bins):
    """The histogram proto of ``values`` over ``bins`` (np.histogram's argument), trimmed to
    the bins between the first and last non-empty one (with one empty bin on the left, since
    TensorBoard keeps only right edges), at most ``max_bins`` bins by merging neighbours."""
    values = values.reshape(-1).astype(float)
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        step = len(counts) // max_bins
        counts = np.pad(counts, (0, (-len(counts)) % step)).reshape(-1, step).sum(-1)
        limits = np.concatenate([limits[:-1:step], limits[-1:]])
    nonzero = np.flatnonzero(counts)
    start, end = int(nonzero[0]), int(nonzero[-1]) + 1
    counts = counts[start - 1 : end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start : end + 1]
    return HistogramProto(
        min=values.min(),
        max=values.max(),
        num=len(values),
        sum=values.sum(),
        sum_squares=values.dot(values),
        bucket_limit=limits.tolist(),
        bucket=counts.tolist(),
    )


def _tensorflow_bins():
    """torch's bins='tensorflow': edges growing by 10 % from 1e-12 to 1e20, mirrored, and 0."""
    edges, v = [], 1e-12
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    return [-e for e in reversed(edges)] + [0] + edges


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

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log one image, laid out as ``dataformats`` (floats on [0, 1], uint8 on [0, 255])."""
        value = Summary.Value(tag=tag, image=_image(_hwc(_numpy(img_tensor), dataformats)))
        self._add(self._file, [value], global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """Log a batch of images as one grid image."""
        self.add_image(tag, img_tensor, global_step, walltime, dataformats)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """Log a matplotlib figure (or a list of them, as a grid) as an image."""
        figures = figure if isinstance(figure, list) else [figure]
        images = np.stack([_figure_pixels(f, close) for f in figures])
        if isinstance(figure, list):
            self.add_image(tag, images, global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, images[0], global_step, walltime, dataformats="CHW")

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a string (rendered as markdown by TensorBoard) under ``<tag>/text_summary``."""
        meta = SummaryMetadata(
            plugin_data=SummaryMetadata.PluginData(
                plugin_name="text", content=TextPluginData(version=0).SerializeToString()
            )
        )
        tensor = TensorProto(
            dtype=DT_STRING,
            string_val=[text_string.encode("utf_8")],
            tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
        )
        value = Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=tensor)
        self._add(self._file, [value], global_step, walltime)

    def add_histogram(
        self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None
    ):
        """Log the distribution of ``values``; ``bins`` as np.histogram takes it, or
        "tensorflow" (torch's default: exponentially growing edges)."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = _tensorflow_bins()
        histo = _histogram(_numpy(values), bins, max_bins)
        self._add(self._file, [Summary.Value(tag=tag, histo=histo)], global_step, walltime)

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


def _figure_pixels(figure, close):
    """A matplotlib figure drawn to (C, H, W) uint8 RGB pixels."""
    figure.canvas.draw()
    rgba = np.asarray(figure.canvas.buffer_rgba())
    if close:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return rgba[:, :, :3].transpose(2, 0, 1).copy()
