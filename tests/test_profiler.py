"""fastnn.profiler and fastnn.autograd.profiler: schedules and trace hand-over against torch's,
the events recorded (record_function ranges and nesting, primitives with their input shapes),
key_averages and its table, chrome traces, and the errors."""

import json

import pytest

import fastnn
from fastnn.autograd import function as _function
from fastnn.profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    record_function,
    schedule,
    tensorboard_trace_handler,
)

torch = pytest.importorskip("torch")

SCHEDULES = [
    {"wait": 1, "warmup": 1, "active": 2},
    {"wait": 1, "warmup": 1, "active": 2, "repeat": 2, "skip_first": 1},
    {"wait": 0, "warmup": 0, "active": 3},
    {"wait": 2, "warmup": 0, "active": 1, "repeat": 3},
    {"wait": 1, "warmup": 2, "active": 2, "repeat": 1, "skip_first": 3},
    {"wait": 2, "warmup": 1, "active": 2, "repeat": 2, "skip_first": 1, "skip_first_wait": 1},
]


@pytest.mark.parametrize("kw", SCHEDULES)
def test_schedule_matches_torch(kw):
    ours, theirs = schedule(**kw), torch.profiler.schedule(**kw)
    assert [ours(i).name for i in range(25)] == [theirs(i).name for i in range(25)]
    assert isinstance(ours(0), ProfilerAction)


def test_schedule_bad_arguments():
    with pytest.raises(ValueError, match="active"):
        schedule(wait=0, warmup=0, active=0)
    with pytest.raises(ValueError, match="wait"):
        schedule(wait=-1, warmup=0, active=1)
    with pytest.raises(ValueError, match="repeat"):
        schedule(wait=0, warmup=0, active=1, repeat=-2)


def _handovers(lib, kw, steps):
    """(step_num, the record_function names in the trace) at each on_trace_ready call."""
    calls = []

    def ready(p):
        names = sorted({e.name for e in p.events() if e.name.startswith("step")})
        calls.append((p.step_num, names))

    sched = lib.profiler.schedule(**kw) if kw is not None else None
    with lib.profiler.profile(schedule=sched, on_trace_ready=ready) as p:
        for i in range(steps):
            with lib.profiler.record_function(f"step{i}"):
                lib.ones(2) + 1
            p.step()
    return calls


@pytest.mark.parametrize("kw", [*SCHEDULES[:4], None])
def test_trace_handover_matches_torch(kw):
    assert _handovers(fastnn, kw, 9) == _handovers(torch, kw, 9)


def test_record_function_ranges_nest():
    x = fastnn.randn(3, 4, requires_grad=True)
    w = fastnn.randn(3, 4, requires_grad=True)
    with (
        profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof,
        record_function("outer"),
    ):
        with record_function("inner"):
            y = x * w
        z = y.exp()
    evs = prof.events()
    by_name = {e.name: e for e in evs}
    assert {"outer", "inner", "fastnn::Mul", "fastnn::Exp"} <= set(by_name)
    outer, inner, mul = by_name["outer"], by_name["inner"], by_name["fastnn::Mul"]
    assert inner.cpu_parent is outer and mul.cpu_parent is inner
    assert {c.name for c in outer.cpu_children} == {"inner", "fastnn::Exp"}
    assert outer.cpu_time_total >= inner.cpu_time_total >= mul.cpu_time_total > 0
    assert outer.self_cpu_time_total == pytest.approx(
        outer.cpu_time_total - sum(c.cpu_time_total for c in outer.cpu_children)
    )
    assert mul.input_shapes == [[3, 4], [3, 4]]
    assert z.requires_grad  # the ops ran as usual


def test_record_function_as_decorator_and_without_profiler():
    @record_function("work")
    def work(t):
        return t.relu()

    x = fastnn.randn(4, requires_grad=True)
    work(x)  # no profile running: nothing to record, nothing breaks
    with profile() as prof:
        for _ in range(3):
            work(x)
    avg = {a.key: a for a in prof.key_averages()}
    assert avg["work"].count == 3
    assert avg["fastnn::ReLU"].count == 3
    assert work.__name__ == "work"


def test_key_averages_group_by_input_shape():
    a = fastnn.randn(2, 3, requires_grad=True)
    b = fastnn.randn(4, 3, requires_grad=True)
    with profile(record_shapes=True) as prof:
        for t in (a, b, a):
            t.exp()
    plain = [e for e in prof.key_averages() if e.key == "fastnn::Exp"]
    assert len(plain) == 1 and plain[0].count == 3
    grouped = {
        str(e.input_shapes): e.count
        for e in prof.key_averages(group_by_input_shape=True)
        if e.key == "fastnn::Exp"
    }
    assert grouped == {"[[2, 3]]": 2, "[[4, 3]]": 1}


def test_table_sorts_and_limits():
    x = fastnn.randn(64, 64, requires_grad=True)
    with profile() as prof:
        with record_function("big"):
            for _ in range(3):
                (x @ x).tanh()
        with record_function("small"):
            x.sum()
    averages = prof.key_averages()
    table = averages.table(sort_by="cpu_time_total", row_limit=2)
    rows = [line.split()[0] for line in table.splitlines()[3:5]]
    want = sorted(averages, key=lambda e: e.cpu_time_total, reverse=True)[:2]
    assert rows == [e.key for e in want]
    assert "Self CPU time total" in table
    assert "fastnn::Sum" not in table or want[-1].key == "fastnn::Sum"
    assert "# of Calls" in prof.key_averages().table(sort_by="cuda_time_total")
    with pytest.raises(ValueError, match="sort_by"):
        averages.table(sort_by="speed")


def test_export_chrome_trace_and_tensorboard_handler(tmp_path):
    x = fastnn.randn(5, requires_grad=True)
    handler = tensorboard_trace_handler(str(tmp_path / "tb"), worker_name="w0")
    with profile(on_trace_ready=handler) as prof, record_function("block"):
        x.sigmoid()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    names = {e["name"] for e in trace}
    assert {"block", "fastnn::Sigmoid"} <= names
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in trace)
    files = list((tmp_path / "tb").iterdir())
    assert len(files) == 1 and files[0].name.startswith("w0.")
    assert files[0].name.endswith(".pt.trace.json")
    assert {e["name"] for e in json.loads(files[0].read_text())["traceEvents"]} == names


def test_autograd_profiler_spelling():
    x = fastnn.randn(3, requires_grad=True)
    legacy = fastnn.autograd.profiler
    with legacy.profile(record_shapes=True) as prof, legacy.record_function("legacy"):
        x.tanh()
    assert {"legacy", "fastnn::Tanh"} <= {e.name for e in prof.function_events}
    assert "legacy" in str(prof.key_averages())
    with fastnn.autograd.profiler.profile(enabled=False) as off:
        x.tanh()
    assert len(off.events()) == 0


def test_profiler_switches_off_after_the_block():
    with pytest.raises(KeyError), profile():
        raise KeyError
    assert _function.op_observer is None
    with profile():
        pass
    assert _function.op_observer is None


def test_one_profile_at_a_time():
    with profile(), pytest.raises(RuntimeError, match="already enabled"), profile():
        pass


def test_bad_arguments():
    with pytest.raises(TypeError, match="activities"):
        profile(activities=["cpu"])
    with pytest.raises(TypeError, match="schedule"):
        profile(schedule=3)
    with pytest.raises(TypeError, match="name must be a str"):
        record_function(3)
