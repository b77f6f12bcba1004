"""fastnn.save under faults: a saver killed at random moments never costs the previous
checkpoint, and the next save removes the temporaries dead savers left (never a live one's)."""

import json
import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastnn

fcntl = pytest.importorskip("fcntl")  # advisory locks and fork: POSIX only

_KILLER = textwrap.dedent(
    """
    import json, os, random, signal, sys, time
    import numpy as np
    import fastnn

    path, kills = sys.argv[1], int(sys.argv[2])
    rng = random.Random(12)
    folder = os.path.dirname(path)
    n = 1 << 18  # 1 MiB of float32: a save takes a few ms, so most kills land mid-write
    fastnn.save({"gen": 0, "w": fastnn.tensor(np.zeros(n, np.float32))}, path)
    gen, stale_seen = 1, 0
    for _ in range(kills):
        pid = os.fork()
        if pid == 0:
            try:
                while True:
                    w = fastnn.tensor(np.full(n, gen, np.float32))
                    fastnn.save({"gen": gen, "w": w}, path)
                    gen += 1
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, 0.03))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        back = fastnn.load(path)  # the previous checkpoint is always whole
        assert (back["w"].numpy() == back["gen"]).all(), back["gen"]
        gen = back["gen"] + 1
        stale_seen = max(stale_seen, sum(p.endswith(".tmp") for p in os.listdir(folder)))
    print(json.dumps({"stale_seen": stale_seen, "gen": gen}))
    """
)


def _temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_killed_savers_keep_checkpoint_and_leave_no_temporary(tmp_path):
    path = tmp_path / "ckpt.fnn"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, str(path), "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["stale_seen"] >= 1  # the kills did interrupt saves
    fastnn.load(path)
    fastnn.save({"gen": -1}, path)
    assert _temporaries(tmp_path) == []
    assert fastnn.load(path) == {"gen": -1}


def test_a_locked_temporary_is_never_removed(tmp_path):
    path = tmp_path / "ckpt.fnn"
    # A pid above any pid_max: only the lock says its writer is alive.
    live = tmp_path / ".ckpt.fnn.999999999.abcd.tmp"
    dead = tmp_path / ".ckpt.fnn.999999998.efgh.tmp"
    other = tmp_path / ".other.fnn.999999998.efgh.tmp"
    for p in (live, dead, other):
        p.write_bytes(b"partial")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        fastnn.save({"a": 1}, path)
        assert _temporaries(tmp_path) == sorted([other.name, live.name])
    fastnn.save({"a": 2}, path)
    assert _temporaries(tmp_path) == [other.name]  # another target's file is not ours to take
    assert fastnn.load(path) == {"a": 2}


def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "ckpt.fnn"
    old = os.umask(0o027)
    try:
        fastnn.save({"a": 1}, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the umask's default, not 0600
    for mode in (0o644, 0o600, 0o664):
        path.chmod(mode)
        fastnn.save({"a": np.arange(3)}, path)
        assert stat.S_IMODE(path.stat().st_mode) == mode


def test_save_torch_to_a_path_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    fastnn.serialization.save_torch({"w": fastnn.ones(3)}, path)
    path.chmod(0o644)
    before = path.read_bytes()

    def failing_fsync(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="simulated"):
        fastnn.serialization.save_torch({"w": fastnn.zeros(300)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
    fastnn.serialization.save_torch({"w": fastnn.zeros(300)}, path)
    assert fastnn.load(path)["w"].tolist() == [0.0] * 300
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_save_file_is_atomic(tmp_path, monkeypatch):
    pytest.importorskip("safetensors")
    path = tmp_path / "model.safetensors"
    fastnn.serialization.save_file({"w": fastnn.ones(3)}, path)
    before = path.read_bytes()

    def failing_fsync(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="simulated"):
        fastnn.serialization.save_file({"w": fastnn.zeros(300)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
    fastnn.serialization.save_file({"w": fastnn.zeros(300)}, path)
    assert fastnn.serialization.load_file(path)["w"].tolist() == [0.0] * 300
