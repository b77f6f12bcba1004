"""Tensor repr in torch's layout, and ``set_printoptions`` (precision, threshold, edgeitems,
linewidth, profile, sci_mode), whose settings it follows."""

import math

import numpy as np

from .._core import dtype as _dtype

# torch's profiles: precision, threshold, edgeitems, linewidth
_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}
OPTIONS = dict(zip(("precision", "threshold", "edgeitems", "linewidth"), _PROFILES["default"]))
OPTIONS["sci_mode"] = None


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
):
    """How tensors print, as torch's: ``precision`` digits after the point, more than
    ``threshold`` elements summarized to ``edgeitems`` at each end of every dimension, lines of at
    most ``linewidth`` characters; ``profile`` ("default", "short", "full") sets those four
    first. ``sci_mode`` True or False forces scientific notation on or off, None (the default,
    and what any call without it restores) lets the values decide."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(
                f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}"
            )
        OPTIONS.update(
            zip(("precision", "threshold", "edgeitems", "linewidth"), _PROFILES[profile])
        )
    for key, value in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise TypeError(
                    f"set_printoptions: {key} must be a non-negative number, got {value!r}"
                )
            OPTIONS[key] = value
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise TypeError(f"set_printoptions: sci_mode must be None, True or False, got {sci_mode!r}")
    OPTIONS["sci_mode"] = sci_mode


INDENT = len("tensor(")


def tensor_repr(t):
    a = t._backend().to_numpy(t._data)
    suffixes = []
    default = a.dtype in (_dtype.default(), _dtype.int64, _dtype.bool_, _dtype.default_complex())
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype != _dtype.default():  # nothing else tells an empty tensor's dtype
            suffixes.append(f"dtype={_dtype.name(a.dtype)}")
    else:
        if not OPTIONS["edgeitems"]:
            suffixes.append(f"size={tuple(a.shape)}")
        if not default:
            suffixes.append(f"dtype={_dtype.name(a.dtype)}")
        summarize = a.size > OPTIONS["threshold"]
        shown = _summarized(a) if summarize else a
        fmt = _ComplexFormatter(shown) if a.dtype.kind == "c" else _Formatter(shown)
        body = _block(a, INDENT, summarize, fmt)
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if t._ctx is not None:
        suffixes.append(f"grad_fn=<{t._ctx.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes("tensor(" + body, suffixes) + ")"


class _Formatter:
    """One width and one notation for every element, decided on the elements shown (torch's
    rules): integers and bools as written; floats whose nonzero finite values are all whole
    print as "3." ("integer mode") unless the largest tops 1e8 or they span more than 1000x;
    other floats with ``precision`` decimals unless the largest tops 1e8, they span more than
    1000x or the smallest is under 1e-4. Where neither holds, scientific notation. The
    magnitudes are compared in float64 (float32's nearest to 1e-4 is just under it). A set
    ``sci_mode`` overrides the choice."""

    def __init__(self, a):
        self.floating = _dtype.is_floating(a.dtype)
        self.whole, self.sci, self.width = True, False, 1
        self.precision = int(OPTIONS["precision"])
        if not self.floating:
            self.width = max((len(str(v)) for v in a.reshape(-1).tolist()), default=1)
            return
        flat = a.reshape(-1)
        nz = flat[np.isfinite(flat) & (flat != 0)]
        if not nz.size:
            return
        mags = np.abs(nz).astype(np.float64)
        hi, lo = float(mags.max()), float(mags.min())
        self.whole = bool(np.all(nz == np.ceil(nz)))
        self.sci = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        if OPTIONS["sci_mode"] is not None:
            self.sci = OPTIONS["sci_mode"]
        values = np.unique(nz) if nz.size <= 4096 else _widest_candidates(nz)
        p = self.precision
        if self.sci:
            self.width = max(len(f"{float(v):.{p}e}") for v in values)
        elif self.whole:
            self.width = max(len(f"{float(v):.0f}") + 1 for v in values)
        else:
            self.width = max(len(f"{float(v):.{p}f}") for v in values)

    def format(self, v):
        if not self.floating:
            s = str(v)
        elif self.sci:
            s = f"{v:.{self.precision}e}"
        elif self.whole:
            s = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            s = f"{v:.{self.precision}f}"
        return s.rjust(self.width)


class _ComplexFormatter:
    """torch's complex layout: the real parts formatted as one real tensor (one width), the
    imaginary parts as another, written after their own sign with a "j" and no padding."""

    def __init__(self, a):
        self.re = _Formatter(np.ascontiguousarray(a.real))
        self.im = _Formatter(np.ascontiguousarray(a.imag))
        self.width = self.re.width + self.im.width + 1

    def format(self, v):
        re = self.re.format(v.real)
        im = self.im.format(v.imag).lstrip() + "j"
        return re + (im if im[0] in "+-" else "+" + im)


def _widest_candidates(nz):
    """Among many nonzero finite values, those that can print widest: a string's length varies
    only with the sign and the magnitude's digits (integer digits, or exponent digits), so the
    smallest and the largest magnitude of each sign."""
    out = []
    for part in (nz[nz < 0], nz[nz > 0]):
        if part.size:
            mags = np.abs(part)
            out += [part[np.argmin(mags)], part[np.argmax(mags)]]
    return np.array(out)


def _summarized(a):
    """The elements a summarized print shows: ``edgeitems`` at each end of every dimension."""
    e = int(OPTIONS["edgeitems"])
    if a.ndim == 0:
        return a
    if not e:
        return a[(slice(0, 0),) * a.ndim]
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    rows = range(a.shape[0])
    if a.shape[0] > 2 * e:
        rows = [*range(e), *range(a.shape[0] - e, a.shape[0])]
    return np.stack([_summarized(a[i]) for i in rows])


def _block(a, indent, summarize, fmt):
    """The nested brackets of ``a`` (torch's layout): a vector wrapped at a fixed count of
    elements per line; higher dimensions one sub-block per line, a blank line per level."""
    if a.ndim == 0:
        return fmt.format(a.item())
    e = int(OPTIONS["edgeitems"])
    cut = summarize and a.shape[0] > 2 * e
    if a.ndim == 1:
        if summarize and not e:
            items = ["..."]
        elif cut:
            items = [fmt.format(v) for v in a[:e].tolist()]
            items += [" ..."] + [fmt.format(v) for v in a[-e:].tolist()]
        else:
            items = [fmt.format(v) for v in a.tolist()]
        per_line = max(1, math.floor((OPTIONS["linewidth"] - indent) / (fmt.width + 2)))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if cut:
        n = a.shape[0]
        parts = [_block(a[i], indent + 1, summarize, fmt) for i in range(e)]
        parts += ["..."] + [_block(a[i], indent + 1, summarize, fmt) for i in range(n - e, n)]
    else:
        parts = [_block(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _with_suffixes(text, suffixes):
    """ ", dtype=...", ", grad_fn=..." after the values, on the last line while it fits in the
    line width, else on a line of their own (torch's rule and counts, on torch's names, so that
    fastnn's output is torch's with its names)."""
    last = len(text) - text.rfind("\n") + 1
    out = [text]
    for suffix in suffixes:
        n = len(suffix.replace("fastnn.", "torch."))
        if last + n + 2 > OPTIONS["linewidth"]:
            out.append(",\n" + " " * INDENT + suffix)
            last = INDENT + n
        else:
            out.append(", " + suffix)
            last += n + 2
    return "".join(out)
