"""``fastnn.nn.functional`` (F): linear, activations, softmax, dropout, one_hot, convolution and
pooling, and all losses, with PyTorch's names and signatures.

Hot ops run the fastnn kernels: ``linear`` is one GEMM with the bias fused, activations call the
element-wise kernels, ``conv2d`` the fused im2col + GEMM kernel, ``cross_entropy`` and
``binary_cross_entropy_with_logits`` one fused loss-and-gradient kernel each.
"""

from .activation import *
from .activation import __all__ as _activation_all
from .activation_extra import *
from .activation_extra import __all__ as _activation_extra_all
from .activation_inplace import *
from .activation_inplace import __all__ as _activation_inplace_all
from .adaptive import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool2d
from .attention import multi_head_attention_forward, scaled_dot_product_attention
from .conv import avg_pool2d, conv2d, max_pool2d
from .conv1d import avg_pool1d, conv1d, max_pool1d
from .conv3d import conv3d, conv_transpose3d
from .conv_transpose import conv_transpose1d, conv_transpose2d
from .dropout2d import dropout2d
from .dropout_more import *
from .dropout_more import __all__ as _dropout_more_all
from .embedding import embedding
from .embedding_bag import embedding_bag
from .fold import fold, unfold
from .grid_sample import affine_grid, grid_sample
from .gumbel_pdist import gumbel_softmax, pdist
from .linear import bilinear, linear
from .loss import *
from .loss import __all__ as _loss_all
from .loss_more import *
from .loss_more import __all__ as _loss_more_all
from .lrn_lp_pool import local_response_norm, lp_pool1d, lp_pool2d, lp_pool3d
from .normalization import batch_norm, group_norm, instance_norm, layer_norm
from .padding import interpolate, pad
from .pool3d import (
    adaptive_avg_pool3d,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
    avg_pool3d,
    max_pool3d,
    max_pool3d_with_indices,
)
from .unpool import *
from .unpool import __all__ as _unpool_all

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "affine_grid",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "batch_norm",
    "bilinear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "dropout2d",
    "embedding",
    "embedding_bag",
    "fold",
    "grid_sample",
    "group_norm",
    "gumbel_softmax",
    "instance_norm",
    "interpolate",
    "layer_norm",
    "linear",
    "local_response_norm",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "max_pool3d_with_indices",
    "multi_head_attention_forward",
    "pad",
    "pdist",
    "scaled_dot_product_attention",
    "unfold",
]
__all__.extend(_activation_all)
__all__.extend(_activation_extra_all)
__all__.extend(_activation_inplace_all)
__all__.extend(_loss_all)
__all__.extend(_dropout_more_all)
__all__.extend(_loss_more_all)
__all__.extend(_unpool_all)
