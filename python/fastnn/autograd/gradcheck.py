"""``gradcheck`` and ``gradgradcheck``: compare autograd's first and second derivatives with
central finite differences, in float64."""

import numpy as np

from .._core import dtype as _dtype
from . import forward_ad, function
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    pass


def gradcheck(
    fn,
    inputs,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
    n_probes=2,
    seed=0,
    *,
    check_forward_ad=False,
    check_backward_ad=True,
    **options,
):
    """Check d fn / d inputs. ``inputs``: a Tensor or a tuple of Tensors and other arguments;
    those that require grad must be float64 (like torch, which warns otherwise) and are checked.

    For each of ``n_probes`` random projections v of the outputs, the analytic gradient of
    sum(v * fn(x)) (one backward pass) is compared element by element with the central
    difference (f(x + eps) - f(x - eps)) / 2eps. With ``check_forward_ad``, the forward-mode
    derivative along random tangents t (``forward_ad``'s dual tensors) is compared with
    (f(x + eps t) - f(x - eps t)) / 2eps; ``check_backward_ad=False`` skips the reverse check.
    torch's other switches (nondet_tol, check_undefined_grad, check_batched_grad, fast_mode...)
    are accepted and change nothing here. On mismatch: raise GradcheckError naming the worst
    element (or return False when ``raise_exception=False``).
    """
    unknown = set(options) - _TORCH_SWITCHES
    if unknown:
        raise TypeError(f"gradcheck() got an unexpected keyword argument '{min(unknown)}'")
    Tensor = function.Tensor

    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    xs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not xs:
        raise ValueError("gradcheck: no input requires grad")
    for x in xs:
        if x.dtype not in (np.float64, np.complex128):
            raise TypeError(
                f"gradcheck: inputs that require grad must be float64 or complex128, got {x.dtype}"
            )
    rng = np.random.default_rng(seed)

    def outputs():
        out = fn(*inputs)
        return (out,) if isinstance(out, Tensor) else tuple(out)

    if check_forward_ad and not _forward_check(
        fn, inputs, xs, rng, eps, atol, rtol, raise_exception, n_probes
    ):
        return False
    for probe in range(n_probes if check_backward_ad else 0):
        outs = outputs()
        vs = [_probe(rng, o) for o in outs]
        for x in xs:
            x.grad = None
        total = None
        for o, v in zip(outs, vs):
            if o.requires_grad:
                if o.dtype.is_complex:  # a real projection: Re(o) . Re(v) + Im(o) . Im(v)
                    term = (o.real * Tensor(v.real.copy())).sum() + (
                        o.imag * Tensor(v.imag.copy())
                    ).sum()
                else:
                    term = (o * Tensor(v)).sum()
                total = term if total is None else total + term
        if total is None:
            raise GradcheckError("gradcheck: no output requires grad")
        total.backward()
        with no_grad():
            for k, x in enumerate(xs):
                analytic = np.zeros(x.shape, x._data.dtype) if x.grad is None else x.grad.numpy()
                numeric = np.zeros(x.shape, x._data.dtype)
                flat = x._data.reshape(-1)  # a view: edits reach x
                if flat.base is None and x._data.size:
                    raise ValueError("gradcheck: inputs must be contiguous")
                # a complex input is checked along both of its real directions: torch's gradient
                # is d/d(real part) + i d/d(imaginary part)
                steps = (eps, 1j * eps) if x.dtype.is_complex else (eps,)
                for i in range(flat.size):
                    orig = flat[i]
                    for step in steps:
                        flat[i] = orig + step
                        fp = _project(outputs(), vs)
                        flat[i] = orig - step
                        fm = _project(outputs(), vs)
                        flat[i] = orig
                        numeric.reshape(-1)[i] += (fp - fm) / (2 * eps) * (step / eps)
                err = np.abs(analytic - numeric)
                bad = err > atol + rtol * np.abs(numeric)
                if bad.any():
                    j = np.unravel_index(np.argmax(np.where(bad, err, -1)), x.shape)
                    msg = (
                        f"gradcheck: Jacobian mismatch for input {k} (shape {tuple(x.shape)}), "
                        f"probe {probe}: {int(bad.sum())} of {bad.size} elements off; worst "
                        f"at index {tuple(int(i) for i in j)}: analytical {analytic[j]!r} vs "
                        f"numerical {numeric[j]!r} (atol={atol}, rtol={rtol})"
                    )
                    if raise_exception:
                        raise GradcheckError(msg)
                    return False
    for x in xs:
        x.grad = None
    return True


_TORCH_SWITCHES = {
    "nondet_tol",
    "check_undefined_grad",
    "check_grad_dtypes",
    "check_batched_grad",
    "check_batched_forward_grad",
    "fast_mode",
    "masked",
}


def _forward_check(fn, inputs, xs, rng, eps, atol, rtol, raise_exception, n_probes):
    """The forward-mode half of gradcheck: J t from dual tensors against central differences
    along t, for ``n_probes`` random tangents t."""
    Tensor = function.Tensor
    for probe in range(n_probes):
        ts = [rng.standard_normal(x.shape) for x in xs]
        with forward_ad.dual_level(), enable_grad():
            duals = {id(x): forward_ad.make_dual(x, Tensor(t)) for x, t in zip(xs, ts)}
            out = fn(*[duals.get(id(a), a) if isinstance(a, Tensor) else a for a in inputs])
            outs = (out,) if isinstance(out, Tensor) else tuple(out)
            analytic = []
            for o in outs:
                tan = forward_ad.unpack_dual(o).tangent
                analytic.append(np.zeros(o.shape) if tan is None else tan.detach().numpy())
        with no_grad():
            sides = []
            for sign in (1.0, -1.0):
                for x, t in zip(xs, ts):
                    x._data += sign * eps * t
                out = fn(*inputs)
                sides.append(
                    [
                        o.numpy().astype(np.float64)
                        for o in ((out,) if isinstance(out, Tensor) else out)
                    ]
                )
                for x, t in zip(xs, ts):
                    x._data -= sign * eps * t
        for k, (a, p, m) in enumerate(zip(analytic, *sides)):
            numeric = (p - m) / (2 * eps)
            err = np.abs(a - numeric)
            bad = err > atol + rtol * np.abs(numeric)
            if bad.any():
                j = np.unravel_index(np.argmax(np.where(bad, err, -1)), numeric.shape)
                msg = (
                    f"gradcheck: forward-mode Jacobian mismatch for output {k}, probe {probe}: "
                    f"{int(bad.sum())} of {bad.size} elements off; worst at index "
                    f"{tuple(int(i) for i in j)}: analytical {a[j]!r} vs numerical "
                    f"{numeric[j]!r} (atol={atol}, rtol={rtol})"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(
    fn,
    inputs,
    grad_outputs=None,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
    n_probes=2,
    seed=0,
):
    """Check the second derivatives of ``fn``: ``gradcheck`` of the map (inputs, grad_outputs)
    -> d <fn(inputs), grad_outputs> / d inputs, computed with create_graph=True. Random
    float64 grad_outputs (which require grad, so they are checked too) unless given."""
    from .engine import grad

    Tensor = function.Tensor
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    xs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if grad_outputs is None:
        with no_grad():
            outs = fn(*inputs)
        outs = (outs,) if isinstance(outs, Tensor) else tuple(outs)
        rng = np.random.default_rng(seed + 1)
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape)).requires_grad_() for o in outs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    n = len(inputs)

    def first_derivative(*args):
        with enable_grad():  # gradcheck evaluates its finite differences under no_grad
            outs = fn(*args[:n])
            outs = (outs,) if isinstance(outs, Tensor) else tuple(outs)
            diff = [x for x in args[:n] if isinstance(x, Tensor) and x.requires_grad]
            gs = grad(outs, diff, args[n:], create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    if not xs:
        raise ValueError("gradgradcheck: no input requires grad")
    return gradcheck(
        first_derivative,
        inputs + tuple(grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        n_probes=n_probes,
        seed=seed,
    )


def _probe(rng, o):
    """A random direction for the output ``o`` (complex for a complex output)."""
    v = rng.standard_normal(o.shape)
    return v + 1j * rng.standard_normal(o.shape) if o.dtype.is_complex else v


def _project(outs, vs):
    s = 0.0
    for o, v in zip(outs, vs):
        if o.dtype.is_complex:
            a = o.detach().numpy()
            s += float(np.sum(a.real * v.real) + np.sum(a.imag * v.imag))
        elif _dtype.is_floating(o.dtype):
            s += float(np.sum(o.detach().numpy() * v))
    return s
