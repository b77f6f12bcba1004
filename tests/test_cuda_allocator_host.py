"""The CUDA caching allocator's stream rules on the host: csrc/cuda/memory.cu compiled with the
host compiler against a stand-in CUDA runtime (tests/cuda_mock/cuda_runtime.h) and checked by
tests/cuda_mock/allocator_checks.cpp: blocks stay with their allocation stream, blocks recorded on
a busy stream wait for its event, exported blocks wait for a device synchronization, graph
capture allocates from a private pool and records no event, the out-of-memory path synchronizes
and retries. The same rules are checked on a GPU by test_cuda_streams_gpu.py."""

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CXX = shutil.which("g++") or shutil.which("clang++") or shutil.which("c++")


@pytest.mark.skipif(CXX is None, reason="needs a host C++ compiler")
def test_allocator_stream_rules_on_a_mock_runtime(tmp_path):
    exe = tmp_path / "allocator_checks"
    build = [
        CXX,
        "-std=c++17",
        "-O0",
        "-pthread",
        "-I",
        str(ROOT / "tests" / "cuda_mock"),
        "-I",
        str(ROOT / "csrc"),
        "-x",
        "c++",
        str(ROOT / "csrc" / "cuda" / "memory.cu"),
        "-x",
        "none",
        str(ROOT / "tests" / "cuda_mock" / "allocator_checks.cpp"),
        "-o",
        str(exe),
    ]
    out = subprocess.run(build, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-4000:]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0 and run.stdout.strip() == "OK", run.stdout + run.stderr
