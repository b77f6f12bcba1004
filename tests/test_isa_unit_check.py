"""The post-link ISA-unit check (csrc/cpu/check_isa_units.cmake) on small compiled objects.

It must refuse an *_avx2.cpp.o that defines a weak function (the linker could hand that AVX2 copy
to generic code) and accept the personality-routine pointer that sanitizer builds add (data, no
instructions). Needs cmake, nm and a C++ compiler; skipped where one is missing.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "csrc" / "cpu" / "check_isa_units.cmake"
CXX = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
TOOLS = [shutil.which("cmake"), shutil.which("nm"), CXX]
pytestmark = pytest.mark.skipif(
    not all(TOOLS) or not SCRIPT.exists(), reason="needs cmake, nm, a C++ compiler and csrc/"
)

# A function with a cleanup, compiled with -fPIC: its object defines DW.ref.__gxx_personality_v0.
LANDING_PAD = "struct S { ~S(); };\nvoid g();\nvoid f() { S s; g(); }\n"
# An inline function kept out of line at -O0: a weak (W) definition of h(int).
WEAK_FUNCTION = "inline int h(int x) { return x * 2; }\nint use(int x) { return h(x); }\n"


def _object(tmp_path, name, source, opt):
    src = tmp_path / (name + ".src.cpp")
    src.write_text(source)
    obj = tmp_path / (name + ".cpp.o")
    subprocess.run([CXX, "-fPIC", opt, "-c", str(src), "-o", str(obj)], check=True)
    return obj


def _check(objects):
    arg = "-DOBJECTS=" + "|".join(str(o) for o in objects)
    cmd = ["cmake", "-DNM=" + shutil.which("nm"), arg, "-P", str(SCRIPT)]
    return subprocess.run(cmd, check=False, capture_output=True, text=True)


def test_personality_pointer_is_accepted(tmp_path):
    obj = _object(tmp_path, "eh_avx2", LANDING_PAD, "-O1")
    nm = subprocess.run(["nm", "--defined-only", str(obj)], check=True, capture_output=True)
    assert b"DW.ref.__gxx_personality_v0" in nm.stdout  # the case under test really arises
    r = _check([obj])
    assert r.returncode == 0, r.stderr


def test_weak_function_in_isa_unit_is_refused(tmp_path):
    ok = _object(tmp_path, "eh_avx512", LANDING_PAD, "-O1")
    bad = _object(tmp_path, "inline_avx2", WEAK_FUNCTION, "-O0")
    r = _check([ok, bad])
    assert r.returncode != 0
    err = " ".join(r.stderr.split())  # cmake wraps its messages
    assert "inline_avx2.cpp.o defines symbols" in err and "h(int)" in err
    assert "eh_avx512" not in err


def test_generic_units_are_not_checked(tmp_path):
    generic = _object(tmp_path, "inline", WEAK_FUNCTION, "-O0")
    r = _check([generic])
    assert r.returncode == 0, r.stderr
