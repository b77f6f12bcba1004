"""fastnn.cuda.probe_error() and FASTNN_REQUIRE_CUDA=1 (tests/conftest.py): why no GPU is usable,
and a GPU run that cannot pass by skipping its GPU tests. Runs everywhere."""

import os
import shutil
import subprocess
import sys

import pytest

import fastnn
from fastnn import cuda

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


def test_probe_error_is_empty_exactly_when_a_gpu_is_usable():
    why = cuda.probe_error()
    assert isinstance(why, str)
    assert (why == "") == cuda.is_available()


def test_probe_error_needs_no_prior_device_count():
    code = "import fastnn.cuda as c; print(repr(c.probe_error())); print(c.is_available())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": PYTHON_DIR},
    )
    why, available = out.stdout.strip().splitlines()
    assert (why == "''") == (available == "True")


@pytest.mark.skipif(cuda.is_available(), reason="a GPU is present")
def test_probe_error_names_the_reason_here():
    why = cuda.probe_error()
    assert why
    if cuda.is_built():
        assert any(k in why for k in ("driver", "device", "CUDA", "load")), why
        with pytest.raises(RuntimeError, match="no CUDA device is available") as e:
            cuda.empty(3)
        assert why in str(e.value)


def test_probe_error_for_a_missing_module(monkeypatch):
    monkeypatch.setattr(cuda, "_load", lambda: (None, cuda._NOT_BUILT))
    assert cuda.probe_error() == cuda._NOT_BUILT


def test_probe_error_for_a_module_that_fails_to_load(monkeypatch):
    if not cuda.is_built():
        pytest.skip("fastnn built without CUDA")
    cuda._load.cache_clear()
    try:
        monkeypatch.setitem(sys.modules, "fastnn._cuda", None)  # import raises ImportError
        monkeypatch.delattr(fastnn, "_cuda", raising=False)
        why = cuda.probe_error()
        assert why.startswith("the fastnn CUDA module failed to load: "), why
        assert "fastnn._cuda" in why
        assert cuda.is_available() is False
    finally:
        monkeypatch.undo()
        cuda._load.cache_clear()
    assert cuda._module() is not None


def test_probe_error_never_raises(monkeypatch):
    class Broken:
        @staticmethod
        def device_count():
            raise RuntimeError("driver exploded")

    monkeypatch.setattr(cuda, "_load", lambda: (Broken, ""))
    assert "driver exploded" in cuda.probe_error()


@pytest.mark.parametrize(
    ("error", "driver", "runtime", "expect"),
    [
        ("cudaErrorInsufficientDriver: x", 0, 13000, "no NVIDIA driver found"),
        (
            "cudaErrorInsufficientDriver: x",
            12040,
            13000,
            "driver is too old: it supports CUDA 12.4",
        ),
        ("", 12080, 13000, "driver is too old"),
        ("cudaErrorNoDevice: no CUDA-capable device is detected", 13000, 13000, "no CUDA device"),
        ("", 13020, 13000, "no CUDA device is visible"),
        ("cudaErrorSystemNotReady: y", 13000, 13000, "CUDA initialization failed [cudaErrorSys"),
    ],
)
def test_probe_reasons(error, driver, runtime, expect):
    why = cuda._explain_probe(error, driver, runtime)
    assert expect in why
    if "driver" in expect:
        assert "CUDA 13.0 runtime" in why and "580.65.06 or newer" in why


TINY = """
import pytest
from fastnn import cuda

pytestmark = pytest.mark.cuda


@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_marked():
    pass


def test_skips_inside():
    if not cuda.is_available():
        pytest.skip("needs a CUDA GPU")


def test_plain():
    pass
"""


TINY_MODULE_SKIP = """
import pytest
from fastnn import cuda

if not cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)


def test_never_collected_without_a_gpu():
    pass
"""


def _run_tiny(tmp_path, *, require):
    shutil.copy(os.path.join(HERE, "conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_tiny.py").write_text(TINY)
    (tmp_path / "test_tiny_module.py").write_text(TINY_MODULE_SKIP)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    cuda: needs a GPU\n")
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR}
    env.pop("FASTNN_REQUIRE_CUDA", None)
    if require:
        env["FASTNN_REQUIRE_CUDA"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=env,
    )


def test_require_cuda_turns_gpu_skips_into_failures(tmp_path):
    out = _run_tiny(tmp_path, require=True)
    text = out.stdout + out.stderr
    if cuda.is_available():
        assert out.returncode == 0, text
        assert "4 passed" in text
        return
    assert out.returncode == 1, text
    assert "3 failed, 1 passed" in text, text
    assert "FAILED test_tiny_module.py::skipped_module" in text, text
    assert "FASTNN_REQUIRE_CUDA=1 but this GPU test was skipped" in text
    assert cuda.probe_error() in text  # the reason is printed
