"""fastnn next to torch and numpy's BLAS in one process: no crash, no extra thread pools.

fastnn uses its own small std::thread pool (no OpenMP), so it cannot clash with torch's bundled
libgomp or OpenBLAS's pthreads; these tests hold it to that.
"""

import os
import subprocess
import sys
import textwrap

import pytest


def _run(code):
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def _threads():
    return len(os.listdir("/proc/self/task"))


def test_pool_adds_exactly_num_threads_minus_one():
    out = _run("""
        import os, numpy as np, fastnn
        from fastnn import kernels
        fastnn.set_num_threads(3)
        before = len(os.listdir('/proc/self/task'))
        a = np.ones((600, 600), np.float32)
        for _ in range(3):
            kernels.matmul(a, a)
        print(len(os.listdir('/proc/self/task')) - before)
    """)
    assert int(out) == 2


@pytest.mark.parametrize("order", ["torch-first", "fastnn-first"])
def test_fastnn_torch_and_blas_in_one_process(order):
    pytest.importorskip("torch")
    imports = (
        "import torch\nimport fastnn" if order == "torch-first" else "import fastnn\nimport torch"
    )
    out = _run(
        imports
        + """
import threading
import numpy as np
from fastnn import kernels
rng = np.random.default_rng(0)
a = rng.standard_normal((300, 200)).astype(np.float32)
b = rng.standard_normal((200, 100)).astype(np.float32)
ref = a.astype(np.float64) @ b
errors = []
def work(kind):
    for _ in range(20):
        if kind == "torch":
            r = (torch.from_numpy(a) @ torch.from_numpy(b)).numpy()
        elif kind == "numpy":
            r = a @ b
        else:
            r = kernels.matmul(a, b)
        if not np.allclose(r, ref, rtol=1e-4, atol=1e-3):
            errors.append(kind)
threads = [threading.Thread(target=work, args=(k,)) for k in ("torch", "numpy", "fastnn") * 2]
for t in threads: t.start()
for t in threads: t.join()
print(len(errors), fastnn.get_num_threads(), torch.get_num_threads())
"""
    )
    n_errors, fastnn_threads, torch_threads = map(int, out.split())
    assert n_errors == 0
    assert fastnn_threads == len(os.sched_getaffinity(0))
    assert torch_threads >= 1


def test_fork_after_pool_started():
    """A child forked after the pool ran must get a working pool of its own, not hang."""
    out = _run("""
        import os, numpy as np, fastnn
        from fastnn import kernels
        fastnn.set_num_threads(2)
        a = np.ones((400, 400), np.float32)
        kernels.matmul(a, a)
        pid = os.fork()
        if pid == 0:
            r = kernels.matmul(a, a)
            os._exit(0 if r[0, 0] == 400 else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """)
    assert int(out) == 0
