"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward`` (what
``nn.MultiheadAttention`` runs), written over Tensor ops, so autograd, the batched GEMMs and the
softmax kernel come with them.

softmax(q k^T * scale + mask) v, as torch defines it on the CPU: a query whose keys are all
masked out gets zeros from ``scaled_dot_product_attention`` (torch's fused CPU kernel; softmax
alone would give NaN there), while ``multi_head_attention_forward`` with ``need_weights`` takes
the plain softmax, as torch's does, NaN included.
"""

import math
import warnings

from ..._core import dtype as _dtype
from ..._tensor import Tensor
from ..._tensor import creation as _new
from ..._tensor import functions as _fn
from ..attention import check_backend
from .activation import dropout, softmax
from .linear import linear
from .padding import pad


def _check_mask_dtype(mask, name):
    if mask is not None and mask.dtype != _dtype.bool_ and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")


def _additive(mask, like, keep_true):
    """A bool mask as 0 / -inf in ``like``'s dtype (``keep_true``: True marks the places that take
    part, as in scaled_dot_product_attention; else the places masked out, as in
    MultiheadAttention); a float mask as it is."""
    if mask is None or mask.dtype != _dtype.bool_:
        return mask
    out = _new.zeros(mask.shape, dtype=like.dtype, device=like.device)
    return out.masked_fill(mask.logical_not() if keep_true else mask, float("-inf"))


def _same_mask_types(padding, mask, padding_name, mask_name, like):
    """A key-padding mask and an attention mask of different dtypes (a bool one beside a float
    one) still work, with torch's deprecation warning: both are then made additive float masks in
    ``like``'s dtype, so the layers they are passed on to see them agreeing and warn no more."""
    if padding is None or mask is None or padding.dtype == mask.dtype:
        return padding, mask
    _check_mask_dtype(padding, padding_name)
    _check_mask_dtype(mask, mask_name)
    warnings.warn(
        f"Support for mismatched {padding_name} and {mask_name} is deprecated. Use same type "
        "for both instead.",
        UserWarning,
        stacklevel=3,
    )
    return _additive(padding, like, keep_true=False), _additive(mask, like, keep_true=False)


def _dead_rows(mask):
    """Where an additive mask hides every key of a query: (..., L, 1) bools, or None when no
    query is hidden so (the common case, checked on the mask, not on the larger scores)."""
    if mask is None:
        return None
    dead = (mask == float("-inf")).all(-1, keepdim=True)
    return dead if bool(dead.any()) else None


def _attend(q, k, v, mask, dropout_p, scale, dead=None):
    """softmax(q k^T * scale + mask) v and the weights (the dropout applied to them); the rows
    ``dead`` marks get zero weights (softmax would make them NaN)."""
    scores = (q * scale) @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores + mask
    if dead is not None:
        scores = scores.masked_fill(dead, 0.0)
    weights = softmax(scores, dim=-1)
    if dead is not None:
        weights = weights.masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ v, weights


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
):
    """softmax(query key^T * scale + mask) value over the last two dimensions: query (..., L, E),
    key (..., S, E), value (..., S, Ev) -> (..., L, Ev). ``attn_mask`` broadcasts to (..., L, S):
    bool (True: takes part) or float (added). ``is_causal``: query i sees keys 0..i. ``scale``:
    1 / sqrt(E) by default. ``enable_gqa``: key / value with fewer heads (dim -3) than query,
    each shared by a group of query heads. A query that sees no key gets zeros."""
    check_backend()
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"scaled_dot_product_attention(): argument '{name}' must be Tensor, not "
                f"{type(t).__name__}"
            )
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_dtype.name(query.dtype)} key.dtype: {_dtype.name(key.dtype)} and value.dtype: "
            f"{_dtype.name(value.dtype)} instead."
        )
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: query, key and value must have at least 2 "
            f"dimensions, got {tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}"
        )
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query {tuple(query.shape)}, key {tuple(key.shape)} "
            f"and value {tuple(value.shape)} do not match: query and key need the same last "
            "size, key and value the same sequence length"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hk == 0 or hq % hk or value.shape[-3] != hk:
            raise RuntimeError(
                f"scaled_dot_product_attention: enable_gqa needs the query heads ({hq}) to be a "
                f"multiple of the key and value heads ({hk}, {value.shape[-3]})"
            )
        key = key.repeat_interleave(hq // hk, dim=-3)
        value = value.repeat_interleave(hq // hk, dim=-3)
    L, S = query.shape[-2], key.shape[-2]
    _check_mask_dtype(attn_mask, "attn_mask")
    if is_causal:  # query i sees keys 0..i: no query sees nothing
        mask, dead = _causal_mask(L, S, query), None
    else:
        mask = _additive(attn_mask, query, keep_true=True)
        dead = _dead_rows(mask)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    out, _ = _attend(query, key, value, mask, float(dropout_p), scale, dead)
    return out


def _causal_mask(L, S, like):
    """0 where key j <= query i, -inf above: the additive causal mask of an L x S score."""
    above = _new.ones((L, S), dtype=_dtype.bool_, device=like.device).triu(1)
    return _new.zeros((L, S), dtype=like.dtype, device=like.device).masked_fill(
        above, float("-inf")
    )


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training=True,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
):
    """Multi-head attention on (L, N, E) query and (S, N, E) key / value (or unbatched (L, E),
    (S, E)): project, split into ``num_heads`` heads, attend, merge, project out. Returns
    (output (L, N, E), weights (N, L, S) averaged over heads, (N, H, L, S) without
    ``average_attn_weights``, or None without ``need_weights``). Masks: ``key_padding_mask`` (N, S)
    and ``attn_mask`` (L, S) or (N * H, L, S), bool (True: masked out) or float (added)."""
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    S = key.shape[0]
    if embed_dim_to_check != E:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}"
        )
    head_dim = E // num_heads
    if head_dim * num_heads != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(
            f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
        )
    _check_mask_dtype(key_padding_mask, "key_padding_mask")
    _check_mask_dtype(attn_mask, "attn_mask")
    key_padding_mask, attn_mask = _same_mask_types(
        key_padding_mask, attn_mask, "key_padding_mask", "attn_mask", query
    )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
            "method `generate_square_subsequent_mask` to create this mask."
        )
    # attn_mask is the causal mask itself (the hint's promise): the weights are the same either way
    is_causal = False

    q, k, v = _project(
        query, key, value, in_proj_weight, in_proj_bias, use_separate_proj_weight,
        q_proj_weight, k_proj_weight, v_proj_weight,
    )  # fmt: skip
    attn_mask = _additive(attn_mask, q, keep_true=False)
    key_padding_mask = _additive(key_padding_mask, q, keep_true=False)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (L, S):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(L, S)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (N * num_heads, L, S):
            raise RuntimeError(
                f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                f"{(N * num_heads, L, S)}."
            )
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        k = _fn.cat([k, bias_k.repeat(1, N, 1)])
        v = _fn.cat([v, bias_v.repeat(1, N, 1)])
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given or both be None")

    # (L, N, E) -> (N * H, L, head_dim): one head per batch entry of the batched products
    q = q.reshape(L, N * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, N * num_heads, head_dim, "static_k")
    v = _heads(v, static_v, N * num_heads, head_dim, "static_v")
    if add_zero_attn:
        zeros = _new.zeros((N * num_heads, 1, head_dim), dtype=q.dtype, device=q.device)
        k, v = _fn.cat([k, zeros], dim=1), _fn.cat([v, zeros], dim=1)
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
    S = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(N, S)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
        kpm = key_padding_mask.reshape(N, 1, 1, S).expand(N, num_heads, 1, S)
        kpm = kpm.reshape(N * num_heads, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    # with the weights asked for, the plain softmax (NaN where no key is seen), as torch's
    dead = None if need_weights else _dead_rows(attn_mask)
    out, weights = _attend(q, k, v, attn_mask, float(dropout_p), 1.0 / math.sqrt(head_dim), dead)
    out = out.transpose(0, 1).reshape(L * N, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(L, N, E)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(N, num_heads, L, S)
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched (3-D) or not (2-D); AssertionError for other shapes."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                f"found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.ndim}-D tensor instead"
            )
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                f"found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                    f"but found {attn_mask.ndim}-D tensor instead"
                )
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != (
                num_heads,
                query.shape[0],
                key.shape[0],
            ):
                raise AssertionError(
                    "Expected `attn_mask` shape to be "
                    f"{(num_heads, query.shape[0], key.shape[0])} but got "
                    f"{tuple(attn_mask.shape)}"
                )
        return False
    raise AssertionError(
        f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query "
        "tensor"
    )


def _project(query, key, value, w, b, separate, w_q, w_k, w_v):
    """The query, key and value projections: three GEMMs on slices of the packed weight (one
    GEMM for all three and slices of its output would cost three output-sized zero fills and two
    additions in the backward pass, where the weight slices' cost the weight's size)."""
    if not separate:
        if w is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        E = query.shape[-1]
        w_q, w_k, w_v = w[:E], w[E : 2 * E], w[2 * E :]
    elif w_q is None or w_k is None or w_v is None:
        raise AssertionError(
            "use_separate_proj_weight is True but q_proj_weight, k_proj_weight or v_proj_weight "
            "is None"
        )
    if b is None:
        b_q = b_k = b_v = None
    else:
        E = w_q.shape[0]
        b_q, b_k, b_v = b[:E], b[E : 2 * E], b[2 * E :]
    if key is query and value is query:  # self-attention: the input made contiguous once
        x = query.reshape(-1, query.shape[-1])
        return tuple(
            linear(x, w_, b_).reshape(*query.shape[:-1], w_.shape[0])
            for w_, b_ in ((w_q, b_q), (w_k, b_k), (w_v, b_v))
        )
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _heads(x, static, batch_heads, head_dim, name):
    """(S, N, E) -> (N * H, S, head_dim), or ``static`` (already in that layout) when given."""
    if static is None:
        return x.reshape(x.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads or static.shape[2] != head_dim:
        raise AssertionError(
            f"expecting {name}.size(0) of {batch_heads} and {name}.size(2) of {head_dim}, but got "
            f"{tuple(static.shape)}"
        )
    return static


__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]
