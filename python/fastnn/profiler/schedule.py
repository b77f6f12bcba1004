"""``schedule``: which profiler steps are skipped, warm up, or are recorded; a cycle of
``wait`` idle, ``warmup`` warm-up and ``active`` recorded steps, run ``repeat`` times (0: for
ever) after ``skip_first`` steps. The last active step of each cycle hands its trace over."""

import enum


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A function step -> ProfilerAction for ``profile(schedule=...)``."""
    for name, v, low in (
        ("wait", wait, 0),
        ("warmup", warmup, 0),
        ("active", active, 1),
        ("repeat", repeat, 0),
        ("skip_first", skip_first, 0),
    ):
        if not isinstance(v, int) or v < low:
            raise ValueError(f"schedule: {name} must be an int >= {low}, got {v!r}")
    cycle = wait + warmup + active

    def action(step):
        if step < 0:
            raise ValueError(f"schedule: step must be >= 0, got {step}")
        step -= skip_first
        if step < 0:
            return ProfilerAction.NONE
        if skip_first_wait:  # the first cycle starts without its wait
            step += wait
        if repeat and step // cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action
