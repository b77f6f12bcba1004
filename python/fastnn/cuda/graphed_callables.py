"""``make_graphed_callables``: a Module's or function's forward and backward, each captured once
into a CUDA graph and replayed on every call, as torch.cuda.make_graphed_callables.

The sample arguments become the static inputs: a call copies its arguments into them (skipped when
it passes the very same tensors), replays the forward graph and returns detached copies of the
static outputs, which the autograd graph connects to the inputs and the module's parameters
through one node. Its backward copies the incoming gradients into static gradient buffers,
replays the backward graph and returns copies of the static input gradients. All graphs of one
call share one memory pool; forwards are captured in order and backwards in reverse order, so
they must run in that order (the usual forward then backward of a training step).
"""

from .. import autograd, nn
from .._tensor.core import Tensor
from .._tensor.creation import empty_like, ones_like
from . import _bind_make_graphed_callables
from .graphs import CUDAGraph, graph, graph_pool_handle
from .streams import Stream, current_stream, stream


def _tensors(value, what):
    """A Tensor or a tuple/list of Tensors -> (tuple of Tensors, was it a single Tensor)."""
    if isinstance(value, Tensor):
        return (value,), True
    if isinstance(value, (tuple, list)) and all(isinstance(v, Tensor) for v in value):
        return tuple(value), False
    raise TypeError(
        f"make_graphed_callables: {what} must be a Tensor or a tuple of Tensors, got "
        f"{type(value).__name__}"
    )


def _same_memory(a, b):
    if a._data is b._data:
        return True
    pa, pb = getattr(a._data, "data_ptr", None), getattr(b._data, "data_ptr", None)
    return pa is not None and pa == pb and a.shape == b.shape and a.dtype == b.dtype


def _grads(outputs, inputs, grad_outputs, allow_unused):
    outs = [o for o in outputs if o.requires_grad]
    ins = [i for i in inputs if i.requires_grad]
    if not outs or not ins:
        return [None] * len(inputs)
    got = iter(
        autograd.grad(
            outs,
            ins,
            grad_outputs=[g for o, g in zip(outputs, grad_outputs) if o.requires_grad],
            allow_unused=allow_unused,
        )
    )
    return [next(got) if i.requires_grad else None for i in inputs]


def _check_args(callables, sample_args):
    if len(callables) != len(sample_args):
        raise ValueError(
            f"make_graphed_callables: {len(callables)} callables but {len(sample_args)} "
            "sample argument tuples"
        )
    surfaces = []
    for i, (fn, args) in enumerate(zip(callables, sample_args)):
        if not callable(fn):
            raise TypeError(f"make_graphed_callables: callables[{i}] is not callable")
        if not isinstance(args, tuple):
            raise TypeError(
                f"make_graphed_callables: sample_args[{i}] must be a tuple of Tensors, got "
                f"{type(args).__name__}"
            )
        args, _ = _tensors(args, f"sample_args[{i}]")
        params = ()
        if isinstance(fn, nn.Module):
            params = tuple(p for p in fn.parameters() if p.requires_grad)
        for t in args + params:
            if not t.is_cuda:
                raise ValueError(
                    f"make_graphed_callables: every sample argument and parameter of callables[{i}] "
                    f"must be on a CUDA device, got a tensor on {t.device}"
                )
        surfaces.append((args, params))
    return surfaces


def make_graphed_callables(
    callables, sample_args, num_warmup_iters=3, allow_unused_input=False, pool=None
):
    """Graphed versions of `callables` (a Module or function, or a tuple of them) for the given
    `sample_args` (a tuple of Tensors per callable, the static inputs). A Module is returned with
    its forward replaced: the graphs run while ``module.training`` has the value it had here,
    the original forward otherwise. Outputs must be a Tensor or a tuple of Tensors."""
    just_one = not isinstance(callables, tuple)
    if just_one:
        callables, sample_args = (callables,), (sample_args,)
    if not isinstance(sample_args, tuple):
        raise TypeError("make_graphed_callables: sample_args must be a tuple")
    if isinstance(num_warmup_iters, bool) or not isinstance(num_warmup_iters, int):
        raise TypeError("make_graphed_callables: num_warmup_iters must be an int")
    if num_warmup_iters < 0:
        raise ValueError("make_graphed_callables: num_warmup_iters must be >= 0")
    surfaces = _check_args(callables, sample_args)
    mempool = graph_pool_handle() if pool is None else pool

    # Warm-up on a side stream, as torch does: one-time work (lazily created state, first-call
    # allocations) happens before the capture, not inside it.
    side = Stream()
    side.wait_stream(current_stream())
    with stream(side):
        for fn, (args, params) in zip(callables, surfaces):
            for _ in range(num_warmup_iters):
                outputs, _ = _tensors(fn(*args), "the callable's output")
                _grads(outputs, args + params, [ones_like(o) for o in outputs], allow_unused_input)
                del outputs
    current_stream().wait_stream(side)

    fwd_graphs = [CUDAGraph() for _ in callables]
    bwd_graphs = [CUDAGraph() for _ in callables]
    static_outputs, single_output = [], []
    for fn, (args, _), g in zip(callables, surfaces, fwd_graphs):
        with graph(g, pool=mempool):
            outputs, single = _tensors(fn(*args), "the callable's output")
        static_outputs.append(outputs)
        single_output.append(single)

    static_grad_outputs, static_grad_inputs = [None] * len(callables), [None] * len(callables)
    for i in reversed(range(len(callables))):
        args, params = surfaces[i]
        grad_outs = tuple(empty_like(o) if o.requires_grad else None for o in static_outputs[i])
        with graph(bwd_graphs[i], pool=mempool):
            grad_ins = _grads(static_outputs[i], args + params, grad_outs, allow_unused_input)
        static_grad_outputs[i], static_grad_inputs[i] = grad_outs, tuple(grad_ins)

    results = []
    for i, fn in enumerate(callables):
        graphed = _graphed_function(
            fwd_graphs[i],
            bwd_graphs[i],
            surfaces[i][0] + surfaces[i][1],
            static_outputs[i],
            static_grad_outputs[i],
            static_grad_inputs[i],
        )
        n_args, params, single = len(surfaces[i][0]), surfaces[i][1], single_output[i]

        def functionalized(*user_args, _graphed=graphed, _n=n_args, _p=params, _s=single):
            if len(user_args) != _n:
                raise TypeError(f"graphed callable: expected {_n} arguments, got {len(user_args)}")
            out = _graphed.apply(*(tuple(user_args) + _p))
            return out[0] if _s else out

        if isinstance(fn, nn.Module):
            fn.forward = _module_forward(fn, fn.training, functionalized, fn.forward)
            results.append(fn)
        else:
            results.append(functionalized)
    return results[0] if just_one else tuple(results)


def _module_forward(module, training, graphed, original):
    def forward(*args):
        return graphed(*args) if module.training == training else original(*args)

    return forward


def _graphed_function(fwd, bwd, static_inputs, static_outputs, static_grad_outputs, static_grads):
    class Graphed(autograd.Function):
        @staticmethod
        def forward(ctx, *inputs):
            for static, given in zip(static_inputs, inputs):
                if not _same_memory(static, given):
                    static.copy_(given)
            fwd.replay()
            return tuple(o.detach() for o in static_outputs)

        @staticmethod
        def backward(ctx, *grads):
            for static, given in zip(static_grad_outputs, grads):
                if static is not None and given is not None and not _same_memory(static, given):
                    static.copy_(given)
            bwd.replay()
            # Copies: the engine adopts a gradient that owns its memory as the .grad itself, and
            # the next replay would overwrite these buffers under every .grad they became.
            return tuple(None if g is None else g.detach().clone() for g in static_grads)

    return Graphed


_bind_make_graphed_callables(make_graphed_callables)
