"""``fastnn.nn.functional`` (F): linear, activations, softmax, dropout, one_hot, convolution and
pooling, and all losses, with PyTorch's names and signatures.

Hot ops run the fastnn kernels: ``linear`` is one GEMM with the bias fused, activations call the
element-wise kernels, ``conv2d`` the fused im2col + GEMM kernel, ``cross_entropy`` and
``binary_cross_entropy_with_logits`` one fused loss-and-gradient kernel each.
"""

from .activation import *
from .activation import __all__ as _activation_all
from .conv import avg_pool2d, conv2d, max_pool2d
from .embedding import embedding
from .linear import linear
from .loss import *
from .loss import __all__ as _loss_all

__all__ = ["avg_pool2d", "conv2d", "embedding", "linear", "max_pool2d"]
__all__.extend(_activation_all)
__all__.extend(_loss_all)
