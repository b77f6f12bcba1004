"""``fastnn.nn.modules.channelshuffle``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.channelshuffle``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..layers_extra import ChannelShuffle

__all__ = [
    "ChannelShuffle",
]
