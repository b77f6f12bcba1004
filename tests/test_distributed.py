"""fastnn.distributed, DistributedDataParallel, DistributedSampler and SyncBatchNorm. The
collective and training checks run as real MPI jobs (``mpiexec -n 2`` and ``-n 3``, scripts in tests/mpi/);
they skip where mpi4py or mpiexec is missing."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastnn
import fastnn.distributed as dist
from fastnn.utils.data import DataLoader, DistributedSampler, TensorDataset

HERE = Path(__file__).parent / "mpi"


def _mpiexec():
    if not dist.is_mpi_available():
        pytest.skip("mpi4py is not installed (pip install 'fastnn[mpi]')")
    exe = shutil.which(
        "mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    if exe is None:
        pytest.skip("mpiexec is not on PATH")
    return exe


def _launch(n, script, *args, timeout=60):
    """Run ``script`` (a file of tests/mpi/, or ``-m module``) on ``n`` MPI processes."""
    # FASTNN_TEST_WORLD: the scripts check that they run as one job of n ranks, not as n
    # singletons (what an mpiexec of another MPI than mpi4py's starts)
    env = dict(os.environ, FASTNN_NUM_THREADS="1", FASTNN_TEST_WORLD=str(n))
    # Open MPI's mpiexec refuses to start as root (containers, CI) without both of these
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    target = [script] if script == "-m" else [str(HERE / script)]
    return subprocess.run(
        [_mpiexec(), "-n", str(n), sys.executable, *target, *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _ok(res, n):
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("OK") == n, res.stdout  # every rank finished (lines may interleave)


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_against_numpy_and_sampler_shards(n):
    _ok(_launch(n, "collectives.py"), n)


@pytest.mark.parametrize("n", [2, 3])
def test_ddp_equals_single_process_training(n, tmp_path):
    _ok(_launch(n, "ddp.py", tmp_path / "ck.pt"), n)


def test_sync_batchnorm_equals_batchnorm_on_the_whole_batch():
    _ok(_launch(3, "sync_batchnorm.py"), 3)


@pytest.mark.cuda
@pytest.mark.skipif(not fastnn.cuda.is_available(), reason="needs a CUDA GPU")
def test_ddp_on_the_gpu_equals_single_process_training():
    _ok(_launch(2, "ddp_cuda.py"), 2)


def test_a_failing_rank_ends_the_job_quickly():
    res = _launch(2, "fail.py", timeout=30)  # a hang would raise TimeoutExpired
    assert res.returncode != 0
    assert "ValueError: rank 1 gives up" in res.stderr


def test_missing_mpi4py_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    assert not dist.is_mpi_available()
    with pytest.raises(ModuleNotFoundError, match=r"mpi4py.*pip install 'fastnn\[mpi\]'"):
        dist.init_process_group(backend="mpi")
    assert not dist.is_initialized()


def test_init_and_queries_validate_before_touching_mpi():
    with pytest.raises(ValueError, match="backend 'nccl'"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(ValueError, match="init_method"):
        dist.init_process_group(backend="mpi", init_method="tcp://x:1")
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(ValueError, match="init_process_group"):
            fn()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.all_reduce(np.ones(3))
    with pytest.raises(RuntimeError, match="init_process_group"):
        fastnn.nn.parallel.DistributedDataParallel(fastnn.nn.Linear(2, 2))


@pytest.mark.parametrize("length", [1, 7, 10, 33])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_matches_torch_without_shuffle(length, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    data = list(range(length))
    for rank in range(replicas):
        kw = {"num_replicas": replicas, "rank": rank, "shuffle": False, "drop_last": drop_last}
        ours, theirs = DistributedSampler(data, **kw), TorchSampler(data, **kw)
        assert len(ours) == len(theirs)
        assert list(ours) == list(theirs)
    del torch


@pytest.mark.parametrize("length", [1, 7, 10, 257])
@pytest.mark.parametrize("replicas", [2, 3])
def test_sampler_shuffled_shards_cover_the_dataset_each_epoch(length, replicas):
    seen = []
    for epoch in (0, 1):
        shards = []
        for rank in range(replicas):
            s = DistributedSampler(range(length), num_replicas=replicas, rank=rank, seed=4)
            s.set_epoch(epoch)
            shards.append(s.indices())
        allidx = np.concatenate(shards)
        assert set(allidx.tolist()) == set(range(length))
        assert len(allidx) == -(-length // replicas) * replicas  # only the padding repeats
        seen.append(allidx)
    if length > 3:
        assert not np.array_equal(seen[0], seen[1])  # set_epoch reshuffles


def test_sampler_bad_arguments():
    with pytest.raises(
        ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"
    ):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(TypeError, match="rank must be an int"):
        DistributedSampler(range(4), num_replicas=2, rank=0.5)
    with pytest.raises(RuntimeError, match="num_replicas and rank"):
        DistributedSampler(range(4))
    s = DistributedSampler(range(4), num_replicas=2, rank=0)
    with pytest.raises(TypeError, match="epoch"):
        s.set_epoch("1")


def test_dataloader_reads_the_sampler_shard():
    x = fastnn.tensor(np.arange(11, dtype=np.float32).reshape(11, 1))
    ds = TensorDataset(x)
    s = DistributedSampler(ds, num_replicas=3, rank=1, shuffle=False)
    loader = DataLoader(ds, batch_size=2, sampler=s)
    got = np.concatenate([b[0].numpy().ravel() for b in loader])
    np.testing.assert_array_equal(got, [1.0, 4.0, 7.0, 10.0])
    assert len(loader) == 2
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=s, shuffle=True)


def test_train_command_runs_data_parallel(data_dir, tmp_path):
    ck = tmp_path / "mlp.pt"
    res = _launch(
        2, "-m", "fastnn", "train", "--model", "mlp", "--dataset", "mnist", "--epochs", "1",
        "--subset", "2048", "--batch-size", "128", "--no-progress", "--data-root", data_dir,
        "--save", ck,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert out.count("epoch   1") == 1 and out.count("model saved") == 1  # rank 0 logs alone
    assert "2 processes of batch 64" in out
    assert float(out.split("test acc")[1].split()[0]) > 0.5
    from fastnn import models

    single = models.MODELS["mlp"]()
    single.load_state_dict(fastnn.load(str(ck)))  # a distributed run's checkpoint, one process


def test_launcher_detection_and_batch_split(monkeypatch):
    from fastnn.distributed import launch

    for var in launch._SIZE_VARS:
        monkeypatch.delenv(var, raising=False)
    assert not launch.launched_by_mpi()
    monkeypatch.setenv("PMI_SIZE", "1")
    assert not launch.launched_by_mpi()
    monkeypatch.setenv("PMI_SIZE", "3")
    assert launch.launched_by_mpi()
    assert launch.local_batch_size(256, 4) == 64
    with pytest.raises(ValueError, match="--batch-size 255.*divisible.*2"):
        launch.local_batch_size(255, 2)


def test_readme_example_runs_on_two_processes(tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Distributed", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "train.py"
    script.write_text(code)
    res = subprocess.run(
        [_mpiexec(), "-n", "2", sys.executable, str(script)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # the example saves into the working directory
        # the fastnn this test imported, wherever the working directory is
        env=dict(
            os.environ,
            FASTNN_NUM_THREADS="1",
            PYTHONPATH=os.pathsep.join(
                [str(Path(fastnn.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
            ),
        ),
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "model.fnn").exists()


def test_buckets_respect_the_cap_dtype_and_order():
    from fastnn.nn.parallel import _buckets

    ps = [
        fastnn.zeros(100, requires_grad=True),  # 400 bytes
        fastnn.zeros(50, requires_grad=True),
        fastnn.zeros(300, requires_grad=True),  # larger than the cap: a bucket of its own
        fastnn.zeros(10, dtype=fastnn.float64, requires_grad=True),
        fastnn.zeros(10, requires_grad=True),
    ]
    bs = _buckets.build(ps, cap_bytes=800)
    where = {id(p): i for i, p in enumerate(ps)}  # Tensor == is element-wise
    assert [[where[id(p)] for p in b.params] for b in bs] == [[0, 1], [2], [3], [4]]
    assert [b.flat.size for b in bs] == [150, 300, 10, 10]
    assert bs[2].flat.dtype == np.float64
    b = bs[0]
    b.reset()
    b.put(ps[1], np.arange(50, dtype=np.float32))
    assert b.missing == {id(ps[0])}
    b.put(ps[0], None)
    assert not b.missing
    np.testing.assert_array_equal(b.flat, np.r_[np.zeros(100), np.arange(50)])
    g = np.empty(50, np.float32)
    b.get_into(ps[1], g)
    np.testing.assert_array_equal(g, np.arange(50))
