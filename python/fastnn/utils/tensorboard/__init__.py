"""``fastnn.utils.tensorboard``: torch's ``SummaryWriter`` for scalars. It writes through the
tensorboard package (``pip install fastnn[tensorboard]``), as torch's does: importing this module
without it raises ImportError."""

try:
    from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: F401
except ImportError as e:
    raise ImportError(
        "fastnn.utils.tensorboard needs the tensorboard package: pip install tensorboard"
    ) from e

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
