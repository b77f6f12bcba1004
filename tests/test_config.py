"""Package-level configuration: threads, ISA selection, show_config, lazy CUDA."""

import os
import subprocess
import sys

import pytest

import fastnn
from fastnn import kernels


def test_num_threads_roundtrip():
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        assert fastnn.get_num_threads() == 1
        fastnn.set_num_threads(3)
        assert fastnn.get_num_threads() == 3
    finally:
        fastnn.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -2])
def test_num_threads_rejects_non_positive(bad):
    with pytest.raises(ValueError, match="positive"):
        fastnn.set_num_threads(bad)


def test_num_threads_rejects_non_int():
    with pytest.raises(TypeError, match="int"):
        fastnn.set_num_threads(2.5)


def test_default_threads_follow_affinity():
    code = "import fastnn; print(fastnn.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == len(os.sched_getaffinity(0))


def test_isa_paths():
    isas = kernels.supported_isas()
    assert isas[0] == "generic"
    assert kernels.detected_isa() == isas[-1]
    before = kernels.get_isa()
    try:
        for name in isas:
            kernels.set_isa(name)
            assert kernels.get_isa() == name
    finally:
        kernels.set_isa(before)
    with pytest.raises(ValueError, match="unknown ISA"):
        kernels.set_isa("sse9")


def test_isa_env_lowers_the_path():
    code = "from fastnn import kernels; print(kernels.get_isa())"
    env = dict(os.environ, FASTNN_ISA="generic")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "generic"


def test_show_config(capsys):
    fastnn.show_config()
    text = capsys.readouterr().out
    for key in ("fastnn", "compiler", "isa", "num_threads", "cuda_built", "cuda_available"):
        assert key in text
    assert fastnn.__version__ in text


def test_import_does_not_load_cuda():
    code = "import sys, fastnn; print('fastnn._cuda' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cuda_is_available_never_raises():
    assert isinstance(fastnn.cuda.is_available(), bool)
