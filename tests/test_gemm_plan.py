"""The float32 CUDA GEMM's planning and index math (csrc/cuda/gemm_plan.h), checked on the host.

tests/gemm_plan_check.cpp includes the header the kernel uses and replays the kernel's schedule
(tile map, K split, per-thread shared-memory loads, epilogue ownership, split-K reduction) against
a double-precision product, with every read bounds-checked; no GPU needed. Needs a C++ compiler.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "gemm_plan_check.cpp"
CXX = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
pytestmark = pytest.mark.skipif(
    not CXX or not (ROOT / "csrc" / "cuda" / "gemm_plan.h").exists(),
    reason="needs a C++ compiler and csrc/",
)


def test_gemm_index_math_covers_every_output_once(tmp_path):
    exe = tmp_path / "gemm_plan_check"
    flags = ["-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror"]
    build = subprocess.run(
        [CXX, *flags, "-I", str(ROOT / "csrc"), str(SOURCE), "-o", str(exe)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-4000:]
