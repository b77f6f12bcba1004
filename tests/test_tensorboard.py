"""fastnn.utils.tensorboard.SummaryWriter: event files TensorBoard reads. The files are checked
by decoding them here (TFRecord framing with CRC-32C, protobuf wire format), and with
TensorBoard's own reader where the tensorboard package is installed."""

import glob
import os
import pathlib
import struct

import pytest

import fastnn
from fastnn.utils.tensorboard import SummaryWriter, records


def test_crc32c_known_answers():
    # the published check value of CRC-32C, and its value for 32 zero bytes
    assert records.crc32c(b"123456789") == 0xE3069283
    assert records.crc32c(bytes(32)) == 0x8A9136AA


def decode(message: bytes) -> dict:
    """{field number: [values]} of a protobuf message (varints, fixed 32/64, byte strings)."""
    fields, i = {}, 0
    while i < len(message):
        key, i = varint(message, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(message, i)
        elif wire == 1:
            value, i = message[i : i + 8], i + 8
        elif wire == 5:
            value, i = message[i : i + 4], i + 4
        else:
            n, i = varint(message, i)
            value, i = message[i : i + n], i + n
        fields.setdefault(field, []).append(value)
    return fields


def varint(data, i):
    shift = result = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def read_events(path):
    """The Event messages of a file, each record's two CRCs checked."""
    data, i, events = pathlib.Path(path).read_bytes(), 0, []
    while i < len(data):
        header = data[i : i + 8]
        (n,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[i + 8 : i + 12])[0] == records.masked_crc(header)
        body = data[i + 12 : i + 12 + n]
        assert struct.unpack("<I", data[i + 12 + n : i + 16 + n])[0] == records.masked_crc(body)
        events.append(decode(body))
        i += 16 + n
    return events


def scalars(events):
    """[(step, tag, value)] of the events' classic scalar summaries."""
    out = []
    for e in events:
        for summary in e.get(5, []):
            for value in decode(summary)[1]:
                v = decode(value)
                out.append((e.get(2, [0])[0], v[1][0].decode(), struct.unpack("<f", v[2][0])[0]))
    return out


def test_scalars_round_trip(tmp_path):
    with SummaryWriter(str(tmp_path / "run")) as w:
        assert w.get_logdir() == str(tmp_path / "run")
        for step in range(3):
            w.add_scalar("Loss/train", fastnn.tensor(1.0 / (step + 1)), step)
        w.add_scalar("lr", 0.5, global_step=10, walltime=123.0)
    (path,) = glob.glob(str(tmp_path / "run" / "events.out.tfevents.*"))
    events = read_events(path)
    assert events[0][3] == [b"brain.Event:2"]  # the version record comes first
    assert scalars(events) == [
        (0, "Loss/train", 1.0),
        (1, "Loss/train", 0.5),
        (2, "Loss/train", pytest.approx(1 / 3)),
        (10, "lr", 0.5),
    ]
    assert struct.unpack("<d", events[-1][1][0])[0] == 123.0


def test_add_scalars_writes_one_run_per_tag(tmp_path):
    w = SummaryWriter(str(tmp_path))
    w.add_scalars("loss/all", {"train": 2.0, "val": fastnn.tensor([3.0])}, 7)
    w.close()
    for tag, value in (("train", 2.0), ("val", 3.0)):
        (path,) = glob.glob(str(tmp_path / f"loss_all_{tag}" / "events.out.tfevents.*"))
        assert scalars(read_events(path)) == [(7, "loss/all", value)]


def test_events_reach_the_file_on_flush_and_by_queue(tmp_path):
    w = SummaryWriter(str(tmp_path), max_queue=3)
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    w.add_scalar("a", 1.0, 1)
    assert len(read_events(path)) == 1  # buffered
    w.add_scalar("a", 2.0, 2)
    w.add_scalar("a", 3.0, 3)  # the third fills the queue
    assert len(read_events(path)) == 4
    w.add_scalar("a", 4.0, 4)
    w.flush()
    assert [s[2] for s in scalars(read_events(path))] == [1.0, 2.0, 3.0, 4.0]
    w.close()
    with pytest.raises(RuntimeError, match="closed"):
        w.add_scalar("a", 5.0, 5)


def test_default_log_dir_and_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1", filename_suffix=".v2")
    w.close()
    assert w.get_logdir().startswith("runs" + os.sep) and w.get_logdir().endswith("_lr0.1")
    assert glob.glob(os.path.join(w.get_logdir(), "events.out.tfevents.*.v2"))


def test_a_vector_is_not_a_scalar(tmp_path):
    with SummaryWriter(str(tmp_path)) as w, pytest.raises(AssertionError, match="0D"):
        w.add_scalar("x", fastnn.tensor([1.0, 2.0]))


def test_tensorboard_reads_the_files(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    with SummaryWriter(str(tmp_path), purge_step=0) as w:
        for step in range(4):
            w.add_scalar("loss", 1.0 - step / 8, step)
        w.add_scalar("lr", 0.125, 3, new_style=True, double_precision=True)
    ea = accumulator.EventAccumulator(str(tmp_path))
    ea.Reload()
    assert [(s.step, s.value) for s in ea.Scalars("loss")] == [
        (0, 1.0),
        (1, 0.875),
        (2, 0.75),
        (3, 0.625),
    ]
    assert "lr" in ea.Tags()["tensors"]
