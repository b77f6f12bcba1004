"""Freed tensor memory stays in the process (csrc/cpu/heap.h): the arrays of the next training
step reuse it instead of being page-faulted in and zeroed by the kernel again."""

import os
import platform
import subprocess
import sys

import pytest

import fastnn

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the policy sets glibc's malloc thresholds",
)

# A "training step" that allocates arrays of a few MiB in a mix of sizes (like a CNN's
# activations and gradients), then frees them; prints the page faults of nine more steps and the
# pages those steps touch. numpy's huge-page advice is off so that every fault is one 4 KiB page.
STEPS = """
import resource
import numpy as np
import fastnn
(getattr(np, '_core', None) or np.core).multiarray._set_madvise_hugepage(False)
sizes = [25 << 20, 3 << 20, 12 << 20, 6 << 20, 1 << 20, 25 << 20, 12 << 20]

def step():
    arrays = []
    for n in sizes:
        a = np.empty(n // 4, np.float32)
        a.fill(1.0)
        arrays.append(a)
    del arrays

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(9):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, 9 * sum(sizes) // 4096)
print(fastnn._C.heap_policy()["keeps_freed"])
"""


def run_steps(env):
    out = subprocess.run(
        [sys.executable, "-c", STEPS], capture_output=True, text=True, env=env, check=True
    )
    faults, pages = map(int, out.stdout.split()[:2])
    return faults, pages, out.stdout.split()[2] == "True"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop("GLIBC_TUNABLES", None)
    return dict(env, **extra)


def test_freed_arrays_are_reused_without_page_faults():
    faults, pages, keeps = run_steps(clean_env())
    assert keeps
    assert faults < 0.02 * pages, f"{faults} page faults in steps that touch {pages} pages"


@pytest.mark.parametrize(
    "setting", [{"GLIBC_TUNABLES": "glibc.malloc.check=0"}, {"MALLOC_TRIM_THRESHOLD_": "131072"}]
)
def test_the_users_malloc_settings_win(setting):
    faults, pages, keeps = run_steps(clean_env(**setting))
    assert not keeps
    # glibc's own thresholds map the largest arrays afresh every step.
    assert faults > 0.2 * pages, f"only {faults} page faults in steps that touch {pages} pages"


def test_show_config_says_what_happens_to_freed_memory():
    policy = fastnn._C.heap_policy()
    text = fastnn._devices.config.config()["freed_memory"]
    if policy["keeps_freed"]:
        assert f"{policy['mmap_threshold'] >> 20} MiB" in text
    else:
        assert policy["reason"] in text
