"""fastnn.multiprocessing.spawn: one process per rank running fn(rank, *args), and the first
failure (an exception with its traceback, or an exit code) raised in the parent."""

import os
import sys

import pytest

from fastnn import multiprocessing as mp


def _write_rank(rank, folder, tag):
    with open(os.path.join(folder, f"{rank}.txt"), "w") as f:
        f.write(f"{tag}:{rank}")


def _raise_on_rank_one(rank):
    if rank == 1:
        raise ValueError("rank one refuses")


def _exit_three(rank):
    sys.exit(3 if rank == 0 else 0)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_spawn_runs_every_rank_with_its_args(tmp_path, method):
    assert mp.spawn(_write_rank, args=(str(tmp_path), "ok"), nprocs=3, start_method=method) is None
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["ok:0", "ok:1", "ok:2"]


def test_spawn_reraises_a_child_exception_with_its_traceback():
    with pytest.raises(mp.ProcessRaisedException, match="rank one refuses") as info:
        mp.start_processes(_raise_on_rank_one, nprocs=2, start_method="fork")
    assert info.value.error_index == 1 and "ValueError" in str(info.value)


def test_spawn_reports_an_exit_code_and_can_return_the_context(tmp_path):
    for _ in range(10):  # both processes may have ended before the parent first looks
        with pytest.raises(mp.ProcessExitedException, match="exit code 3") as info:
            mp.start_processes(_exit_three, nprocs=2, start_method="fork")
        assert info.value.exit_code == 3 and info.value.error_index == 0
    ctx = mp.start_processes(
        _write_rank, args=(str(tmp_path), "bg"), nprocs=2, join=False, start_method="fork"
    )
    assert len(ctx.pids()) == 2
    while not ctx.join(timeout=5):
        pass
    assert len(list(tmp_path.iterdir())) == 2


def test_stdlib_names_are_there():
    assert mp.Process is __import__("multiprocessing").Process
    assert "spawn" in mp.get_all_start_methods() and mp.cpu_count() >= 1
