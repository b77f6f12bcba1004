"""fastnn.utils.tensorboard.SummaryWriter: event files that TensorBoard's own reader reads back
(tag, step, value, wall time), torch's folder layout for add_scalars, buffering, purge_step."""

import glob
import os

import pytest

import fastnn

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

from fastnn.utils.tensorboard import SummaryWriter


def events(folder):
    (path,) = glob.glob(os.path.join(folder, "events.out.tfevents.*"))
    return list(LegacyEventFileLoader(path).Load())


def scalars(evs):
    return [(e.step, v.tag, v.simple_value) for e in evs for v in e.summary.value]


def test_scalars_round_trip(tmp_path):
    with SummaryWriter(str(tmp_path / "run")) as w:
        assert w.get_logdir() == str(tmp_path / "run")
        for step in range(3):
            w.add_scalar("Loss/train", fastnn.tensor(1.0 / (step + 1)), step)
        w.add_scalar("lr", 0.5, global_step=10, walltime=123.0)
    evs = events(str(tmp_path / "run"))
    assert evs[0].file_version == "brain.Event:2"  # the version record comes first
    assert scalars(evs) == [
        (0, "Loss/train", 1.0),
        (1, "Loss/train", 0.5),
        (2, "Loss/train", pytest.approx(1 / 3)),
        (10, "lr", 0.5),
    ]
    assert evs[-1].wall_time == 123.0


def test_add_scalars_writes_one_run_per_tag(tmp_path):
    w = SummaryWriter(str(tmp_path))
    w.add_scalars("loss/all", {"train": 2.0, "val": fastnn.tensor([3.0])}, 7)
    w.close()
    for tag, value in (("train", 2.0), ("val", 3.0)):
        assert scalars(events(str(tmp_path / f"loss_all_{tag}"))) == [(7, "loss/all", value)]


def test_new_style_scalars_are_tensor_summaries(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("lr", 0.125, 3, new_style=True, double_precision=True)
        w.add_scalar("mom", 0.5, 4, new_style=True)
    values = [(e.step, v) for e in events(str(tmp_path)) for v in e.summary.value]
    (s1, lr), (s2, mom) = values
    assert (s1, lr.tag, list(lr.tensor.double_val)) == (3, "lr", [0.125])
    assert (s2, mom.tag, list(mom.tensor.float_val)) == (4, "mom", [0.5])
    assert lr.metadata.plugin_data.plugin_name == "scalars"


def test_events_are_written_on_flush_and_refused_after_close(tmp_path):
    w = SummaryWriter(str(tmp_path), max_queue=100, flush_secs=1000)
    w.add_scalar("a", 1.0, 1)
    w.add_scalar("a", 2.0, 2)
    w.flush()
    assert [s[2] for s in scalars(events(str(tmp_path)))] == [1.0, 2.0]
    w.close()
    with pytest.raises(RuntimeError, match="closed"):
        w.add_scalar("a", 5.0, 5)


def test_purge_step_starts_a_session_at_that_step(tmp_path):
    with SummaryWriter(str(tmp_path), purge_step=5) as w:
        w.add_scalar("a", 1.0, 5)
    evs = events(str(tmp_path))
    starts = [e.step for e in evs if e.HasField("session_log")]
    assert starts == [5]


def test_default_log_dir_and_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1", filename_suffix=".v2")
    w.close()
    assert w.get_logdir().startswith("runs" + os.sep) and w.get_logdir().endswith("_lr0.1")
    assert glob.glob(os.path.join(w.get_logdir(), "events.out.tfevents.*.v2"))


def test_a_vector_is_not_a_scalar(tmp_path):
    with SummaryWriter(str(tmp_path)) as w, pytest.raises(AssertionError, match="0D"):
        w.add_scalar("x", fastnn.tensor([1.0, 2.0]))


def test_tensorboard_charts_the_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with SummaryWriter(str(tmp_path)) as w:
        for step in range(4):
            w.add_scalar("loss", 1.0 - step / 8, step)
    ea = EventAccumulator(str(tmp_path))
    ea.Reload()
    assert [(s.step, s.value) for s in ea.Scalars("loss")] == [
        (0, 1.0),
        (1, 0.875),
        (2, 0.75),
        (3, 0.625),
    ]
