"""``fastnn.utils.tensorboard``: torch's ``SummaryWriter`` for scalars, writing TensorBoard
event files itself (no tensorboard package needed to write; TensorBoard reads them)."""

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
