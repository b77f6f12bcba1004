"""``fastnn.utils.benchmark``: torch.utils.benchmark's wall-clock Timer and its Measurement.

A Python statement is timed with the standard library's ``timeit`` on fastnn's thread pool,
sized to ``num_threads`` for the measurement (one thread by default, as torch's Timer does).
Programs print the Measurement and read ``times``, ``median``, ``mean`` and ``iqr``, so those
follow torch's definitions and layout. The C++ language and Callgrind counts need torch's
toolchain; asking for them raises, as torch does where they are not available.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import sys
import textwrap
import timeit
from contextlib import contextmanager

from .._devices.config import get_num_threads, set_num_threads

_IQR_WARN = 0.1
_IQR_GROSS_WARN = 0.25


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


@dataclasses.dataclass(frozen=True, repr=False)
class TaskSpec:
    """What a Timer measures and how its results are labelled."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self):
        suffix = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + suffix
        if "\n" not in self.stmt:
            return self.stmt + suffix
        shown = f" ({self.sub_label})" if self.sub_label else ""
        return f"stmt:{shown}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self):
        if self.setup in ("", "pass"):
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self):
        parts = [self.title, self.description or "", self.setup_str()]
        return "\n".join(f"{p}\n" if "\n" in p else p for p in parts if p)


_SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


def _quantile(sorted_values, q):
    """Linear interpolation between the closest ranks (torch.quantile's default)."""
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def select_unit(t):
    """(unit, scale) that shows ``t`` seconds as a number of order one."""
    power = math.floor(math.log10(t) // 3) if t > 0 else 0
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(power, "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def unit_to_english(u):
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[u]


@dataclasses.dataclass(repr=False)
class Measurement:
    """Timings of one statement: ``raw_times`` are seconds per block of ``number_per_run``
    runs; ``times`` are seconds per run."""

    number_per_run: int
    raw_times: list
    task_spec: TaskSpec
    metadata: dict | None = None

    def __getattr__(self, name):
        # the task's fields (label, stmt, num_threads...) read through, as in torch
        if name in _SPEC_FIELDS:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    def _stats(self):
        s = sorted(self.times)
        return s, _quantile(s, 0.5), sum(s) / len(s), _quantile(s, 0.25), _quantile(s, 0.75)

    @property
    def median(self):
        return self._stats()[1]

    @property
    def mean(self):
        return self._stats()[2]

    @property
    def iqr(self):
        _, _, _, p25, p75 = self._stats()
        return p75 - p25

    def meets_confidence(self, threshold=_IQR_WARN):
        return self.iqr / self.median < threshold

    @property
    def has_warnings(self):
        return bool(self._warnings())

    def _warnings(self):
        if len(self.raw_times) < 2:
            return []
        share = self.iqr / self.median * 100
        if not self.meets_confidence(_IQR_GROSS_WARN):
            why = "This suggests significant environmental influence."
        elif not self.meets_confidence(_IQR_WARN):
            why = "This could indicate system fluctuation."
        else:
            return []
        return [
            (
                f"  WARNING: Interquartile range is {share:.1f}% of the median measurement.\n"
                f"           {why}"
            )
        ]

    @property
    def significant_figures(self):
        s = sorted(self.times)
        middle = s[len(s) // 4 : math.ceil(3 * len(s) / 4)]
        mean = sum(middle) / len(middle)
        std = math.sqrt(sum((v - mean) ** 2 for v in middle) / len(middle))
        interval = max(1.645 * std / math.sqrt(len(middle)), 25e-9)
        return min(max(math.floor(math.log10(self.median / interval)), 1), 4)

    @property
    def title(self):
        return self.task_spec.title

    @property
    def env(self):
        return "Unspecified env" if self.task_spec.env is None else self.task_spec.env

    @property
    def as_row_name(self):
        return self.task_spec.sub_label or self.task_spec.stmt or "[Unknown]"

    def __repr__(self):
        s, median, _, p25, p75 = self._stats()
        n = len(s)
        unit, scale = select_unit(median)
        threads = self.task_spec.num_threads
        lines = [
            object.__repr__(self),
            self.task_spec.summarize(),
            f"  {'Median: ' if n > 1 else ''}{median / scale:.2f} {unit}",
        ]
        if n >= 4:
            lines.append(
                f"  IQR:    {(p75 - p25) / scale:.2f} {unit} ({p25 / scale:.2f} to "
                f"{p75 / scale:.2f})"
            )
        lines.append(
            f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
            f"{'per measurement,' if n > 1 else ','} {threads} thread{'s' if threads > 1 else ''}"
        )
        lines += self._warnings()
        return "\n".join(lines).strip()

    @staticmethod
    def merge(measurements):
        """Replicates of the same task as one Measurement of single runs."""
        groups = {}
        for m in measurements:
            groups.setdefault(m.task_spec, []).extend(m.times)
        return [Measurement(1, times, spec) for spec, times in groups.items()]


@contextmanager
def _threads(n):
    before = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


def _trim(code):
    code = textwrap.dedent(code)
    return code.removeprefix("\n").rstrip()


class Timer:
    """Times ``stmt`` (after ``setup``) in ``globals``; ``fastnn`` is bound as ``torch`` there
    unless given, so statements written for torch run as they are."""

    def __init__(
        self,
        stmt="pass",
        setup="pass",
        global_setup="",
        timer=timeit.default_timer,
        globals=None,
        label=None,
        sub_label=None,
        description=None,
        env=None,
        num_threads=1,
        language=Language.PYTHON,
    ):
        if not isinstance(stmt, str):
            raise ValueError(  # noqa: TRY004 (torch's exception type)
                "Currently only a `str` stmt is supported."
            )
        if language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError("fastnn's Timer times Python statements only")
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Invalid language `{language}`.")
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most likely this code can "
                "simply be moved to `setup`."
            )
        self._globals = dict(globals or {})
        # the package is looked up, not imported: nothing inside it imports it
        self._globals.setdefault("torch", sys.modules[__name__.split(".")[0]])
        stmt, setup = _trim(stmt), _trim(setup)
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(
            stmt=stmt,
            setup=setup,
            global_setup=global_setup,
            label=label,
            sub_label=sub_label,
            description=description,
            env=env,
            num_threads=num_threads,
        )

    def _timeit(self, number):
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number=1000000):
        """One block of ``number`` runs, after a warm-up of a hundredth as many."""
        with _threads(self._task_spec.num_threads):
            self._timeit(max(number // 100, 2))
            return Measurement(number, [self._timeit(number)], self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _block_size(self, min_run_time):
        """Runs per block: grown tenfold until the timer's own cost is negligible."""
        with _threads(self._task_spec.num_threads):
            overhead = sorted(self._timeit(0) for _ in range(5))[2]
            number = 1
            while True:
                took = self._timeit(number)
                if overhead / took <= 1e-4 and took >= min_run_time / 1000:
                    break
                if took > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def _loop(self, number, stop, min_run_time, max_run_time=None, callback=None):
        total, times, can_stop = 0.0, [], False
        with _threads(self._task_spec.num_threads):
            while total < min_run_time or not can_stop:
                spent = self._timeit(number)
                times.append(spent)
                total += spent
                if callback:
                    callback(number, spent)
                can_stop = stop(times)
                if max_run_time and total > max_run_time:
                    break
        return times

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of a fixed size until ``min_run_time`` seconds have been spent."""
        number = self._block_size(min_run_time)
        times = self._loop(number, lambda _: True, min_run_time, callback=callback)
        return Measurement(number, times, self._task_spec)

    def adaptive_autorange(
        self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None
    ):
        """Blocks until the spread (IQR / median) is under ``threshold`` or time runs out."""
        number = self._block_size(0.05)

        def stop(times):
            if len(times) <= 3:
                return False
            return Measurement(number, times, self._task_spec).meets_confidence(threshold)

        times = self._loop(number, stop, min_run_time, max_run_time, callback)
        return Measurement(number, times, self._task_spec)

    def collect_callgrind(
        self, number=100, *, repeats=None, collect_baseline=True, retain_out_file=False
    ):
        raise NotImplementedError("fastnn's Timer has no Callgrind collection")


__all__ = ["Language", "Measurement", "TaskSpec", "Timer", "select_unit", "unit_to_english"]
