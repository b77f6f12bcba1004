"""Shared test fixtures: seeded RNG, ISA paths, thread counts, comparison helpers."""

import faulthandler
import os
import zlib

import numpy as np
import pytest

import fastnn
from fastnn import kernels

ISAS = kernels.supported_isas()

# Hypothesis profiles. "ci" (the default, and what CI=true selects): a fixed, derandomized set of
# examples, so a red build always means a code change and the fuzz suites stay within ~40 s.
# "explore" (HYPOTHESIS_PROFILE=explore): many fresh random examples, for a local search.
try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci",
        max_examples=25,
        derandomize=True,
        database=None,
        deadline=30000,  # generous: the machines running the suite are shared and loaded
        suppress_health_check=list(HealthCheck),
    )
    settings.register_profile(
        "explore",
        max_examples=int(os.environ.get("FASTNN_FUZZ_EXAMPLES", "2000")),
        derandomize=False,
        deadline=30000,  # generous: the machines running the suite are shared and loaded
        suppress_health_check=list(HealthCheck),
    )
    _profile = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    settings.load_profile("ci" if os.environ.get("CI") == "true" else _profile)
except ImportError:  # hypothesis is in the test extra; the fuzz files skip without it
    pass


_REAL_STDERR = []


@pytest.fixture
def hang_guard(pytestconfig):
    """Dump every thread's stack and exit if the test runs past its budget: a hang becomes a
    failed run with a traceback instead of a stuck job (the hypothesis deadline only judges
    examples that finish). The dump goes to the real stderr, not pytest's capture of it, which
    dies with the process unread."""
    if not _REAL_STDERR:
        capman = pytestconfig.pluginmanager.getplugin("capturemanager")
        if capman is None:
            _REAL_STDERR.append(os.dup(2))
        else:
            with capman.global_and_fixture_disabled():
                _REAL_STDERR.append(os.dup(2))
    default = "3600" if os.environ.get("HYPOTHESIS_PROFILE") == "explore" else "120"
    budget = int(os.environ.get("FASTNN_HANG_BUDGET", default))  # seconds per test
    faulthandler.dump_traceback_later(budget, exit=True, file=_REAL_STDERR[0])
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def rng(request):
    """A numpy Generator seeded from the test's name: reproducible, different per test."""
    seed = zlib.crc32(request.node.nodeid.encode())
    return np.random.default_rng(seed)


@pytest.fixture(params=ISAS)
def isa(request):
    """Run the test once on every SIMD path this CPU has (generic, avx2, avx512)."""
    before = kernels.get_isa()
    kernels.set_isa(request.param)
    yield request.param
    kernels.set_isa(before)


@pytest.fixture(params=[1, 2])
def threads(request):
    """Run the test with 1 and with 2 kernel threads."""
    before = fastnn.get_num_threads()
    fastnn.set_num_threads(request.param)
    yield request.param
    fastnn.set_num_threads(before)


def assert_close(actual, expected, *, atol, rtol, name="result"):
    """abs(a - e) <= atol + rtol * abs(e), elementwise; on failure report the worst element."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    if actual.size == 0:
        return
    assert not np.isnan(actual).any() or np.isnan(expected).any(), f"{name}: NaN in result"
    err = np.abs(actual - expected)
    bad = ~(err <= atol + rtol * np.abs(expected))
    bad &= ~(np.isnan(actual) & np.isnan(expected))
    bad &= ~(np.isinf(actual) & (actual == expected))
    if bad.any():
        idx = np.unravel_index(np.argmax(bad), bad.shape)
        rel = err / np.maximum(np.abs(expected), 1e-300)
        pytest.fail(
            f"{name}: {int(bad.sum())} of {bad.size} elements off; max abs err {np.nanmax(err):.3g}, "
            f"max rel err {np.nanmax(rel):.3g}; first bad index {idx}: "
            f"{actual[idx]!r} vs expected {expected[idx]!r} (atol={atol}, rtol={rtol})"
        )


def data_root():
    """The folder with mnist/ and fashion-mnist/, or None."""
    root = os.environ.get("FASTNN_DATA")
    if root and os.path.isdir(os.path.join(root, "mnist")):
        return root
    here = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
    return here if os.path.isdir(os.path.join(here, "mnist")) else None


@pytest.fixture
def data_dir():
    """The real-data folder; skips without it, but fails where FASTNN_REQUIRE_DATA=1 (CI)."""
    root = data_root()
    if root is None:
        if os.environ.get("FASTNN_REQUIRE_DATA") == "1":
            pytest.fail(
                "FASTNN_REQUIRE_DATA=1 but no data found: set FASTNN_DATA to ../shared/data"
            )
        pytest.skip("no MNIST/Fashion-MNIST data (set FASTNN_DATA)")
    return root


# ---- FASTNN_REQUIRE_CUDA=1: a GPU run must not pass by skipping ----
# Every GPU test skips when fastnn.cuda.is_available() is False, which is also what a module that
# failed to load or a too-old driver gives. Under FASTNN_REQUIRE_CUDA=1 (set it where a GPU is
# expected) such a skip fails the test, with fastnn.cuda.probe_error() saying why.

# Skip reasons that mean "no usable GPU" (the skipif marks and in-test skips of the GPU tests).
_NO_GPU_REASONS = ("needs a CUDA GPU", "fastnn._cuda is not built", "fastnn built without CUDA")


def _require_cuda() -> bool:
    return os.environ.get("FASTNN_REQUIRE_CUDA") == "1"


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _no_gpu_message(reason: str, gpu_test: bool):
    """The failure text for a skip that FASTNN_REQUIRE_CUDA=1 forbids, or None to keep the skip."""
    if not (gpu_test or any(r in reason for r in _NO_GPU_REASONS)):
        return None
    if fastnn.cuda.is_available():
        return None  # skipped for another reason (no torch, not enough memory...) on a working GPU
    return (
        f"FASTNN_REQUIRE_CUDA=1 but this GPU test was skipped ({reason}): "
        f"fastnn.cuda.is_available() is False because {fastnn.cuda.probe_error()}"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (_require_cuda() and report.skipped) or hasattr(report, "wasxfail"):
        return
    gpu_test = item.get_closest_marker("cuda") is not None
    message = _no_gpu_message(_skip_reason(report), gpu_test)
    if message is not None:
        report.outcome = "failed"
        report.when = "call"  # shown as a failed test, not as an error in a fixture
        report.longrepr = message


class _SkippedGpuModule(pytest.Item):
    """Stands for a GPU test module skipped at import, so the run reports one failed test there
    (a failed collection would interrupt the whole run)."""

    def __init__(self, *, message, **kwargs):
        super().__init__(**kwargs)
        self.message = message

    def runtest(self):
        pytest.fail(self.message, pytrace=False)

    def reportinfo(self):
        return self.path, None, self.name


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A whole GPU test module skipped at import (pytest.skip(allow_module_level=True))."""
    outcome = yield
    report = outcome.get_result()
    if not (_require_cuda() and report.skipped and isinstance(collector, pytest.Module)):
        return
    message = _no_gpu_message(_skip_reason(report), gpu_test=False)
    if message is not None:
        item = _SkippedGpuModule.from_parent(collector, name="skipped_module", message=message)
        report.outcome, report.longrepr, report.result = "passed", None, [item]


def pytest_report_header(config):
    if _require_cuda():
        why = fastnn.cuda.probe_error()
        return "FASTNN_REQUIRE_CUDA=1: " + (
            "a GPU is usable" if not why else f"NO usable GPU, GPU tests will fail: {why}"
        )
    return None


def pytest_terminal_summary(terminalreporter):
    if _require_cuda() and not fastnn.cuda.is_available():
        terminalreporter.write_line(
            f"FASTNN_REQUIRE_CUDA=1: fastnn.cuda.is_available() is False because "
            f"{fastnn.cuda.probe_error()}"
        )
    _probe_summary(terminalreporter)


def _probe_summary(terminalreporter):
    """The torch API probe's coverage line (tests/test_torch_api_probe.py records its results as
    user properties: probe_presence = (present, total), probe_api = the API a case checks)."""
    presence, outcomes = None, {}
    for outcome in ("passed", "failed", "xfailed", "xpassed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            props = dict(getattr(report, "user_properties", ()))
            if "probe_presence" in props:
                presence = props["probe_presence"]
            api = props.get("probe_api")
            if api is not None and getattr(report, "when", "call") == "call":
                outcomes.setdefault(api, []).append(outcome)
    if presence is None and not outcomes:
        return
    parts = []
    if presence is not None:
        parts.append(f"{presence[0]} of {presence[1]} names present")
    checked = {api: [o for o in got if o != "skipped"] for api, got in outcomes.items()}
    checked = {api: got for api, got in checked.items() if got}
    if checked:
        equal = sum(all(o == "passed" for o in got) for got in checked.values())
        parts.append(f"{equal} of {len(checked)} checked semantically equal")
    elif outcomes:
        parts.append("semantic checks skipped (torch not installed)")
    terminalreporter.write_line("torch API probe: " + ", ".join(parts))
