"""End to end: whole training programs as a user runs them, torch vs fastnn, wall time.

bench/e2e_program.py is a plain PyTorch program (read Fashion-MNIST from the IDX files, train,
evaluate, print). It runs as a subprocess twice per model: as written (torch), and as a copy whose
import lines say fastnn (``import fastnn as torch``, ``from fastnn import nn``,
``from fastnn.utils import data``) and nothing else. The wall time of each process counts the
interpreter start, the imports, reading the data, training and the evaluation: what a user waits
for. The two runs take turns with a pause between them so one library's threads are asleep when
the other starts. Both final test accuracies are printed. A fastnn run that learns less than
torch's fails the benchmark: its final training loss (the mean over the last epoch, which moves
little from seed to seed) may exceed torch's by at most LOSS_SLACK. The last epoch's test accuracy
is no such measure: with SGD at lr 0.1 the MLP's swings by 0.04 from one epoch to the next on
either library (0.86 -> 0.82 -> 0.86 with one seed), so it only has to clear a floor.
"""

import compileall
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from _data_root import find_data
from _harness import Table, try_torch

HERE = pathlib.Path(__file__).resolve().parent
PROGRAM = HERE / "e2e_program.py"
# The only lines that differ between the torch program and its fastnn twin.
IMPORTS = {
    "import torch\n": "import fastnn as torch\n",
    "from torch import nn\n": "from fastnn import nn\n",
    "from torch.utils import data\n": "from fastnn.utils import data\n",
}
MODELS = ["softmax", "mlp", "cnn"]
# A fastnn run may trail torch's test accuracy by this much (different random streams: the
# initial weights and the shuffling differ). One short epoch (--quick) is still in the steep,
# seed-dependent part of the curve (20 steps), so there both runs only have to beat chance.
LOSS_SLACK = 0.1  # relative: fastnn's final training loss <= torch's * 1.1
QUICK_FLOOR = 0.2
FULL_FLOOR = 0.75  # test accuracy after the examples' epochs (all three models reach 0.82+)
# Runs of each program per library (in alternating order); one is what a user waits for.
REPEATS = 1


def fastnn_twin(directory):
    """Write the fastnn copy of the program into `directory`; return its path."""
    src = PROGRAM.read_text()
    for old, new in IMPORTS.items():
        if src.count(old) != 1:
            raise AssertionError(f"{PROGRAM.name}: expected the line {old!r} exactly once")
        src = src.replace(old, new)
    path = pathlib.Path(directory) / "e2e_program_fastnn.py"
    path.write_text(src)
    return path


def run_program(path, model, extra, env):
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(path), model, *extra],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{path.name} {model} failed:\n{proc.stdout}\n{proc.stderr}")
    last = [line for line in proc.stdout.splitlines() if line.startswith("result ")][-1]
    _, loss, train_acc, test_acc = last.split()
    return wall, float(loss), float(train_acc), float(test_acc)


def run(quick=False):
    root = find_data()
    if root is None or try_torch() is None:
        return []
    env = dict(os.environ, FASTNN_DATA=root)
    python_dir = str(HERE.parent / "python")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (python_dir, env.get("PYTHONPATH")) if p)
    # The fastnn twin imports the source tree. pip compiles an installed package's bytecode at
    # install time, as it did torch's; do the same here, or every fastnn run (where
    # PYTHONDONTWRITEBYTECODE is set, as on CI machines) compiles its ~130 modules on import.
    compileall.compile_dir(os.path.join(python_dir, "fastnn"), quiet=1)
    # --quick: one epoch on the first 5000 training and 1000 test images.
    extra = ["--epochs", "1", "--limit", "5000", "--eval-limit", "1000"] if quick else []
    repeats = REPEATS
    table = Table(
        "end to end: whole programs, import + data + train + evaluate (wall s)",
        ["program", "run", "fastnn s", "torch s", "vs torch", "fastnn test acc", "torch test acc"],
        note=(
            "bench/e2e_program.py as written (torch) and with only its imports changed (fastnn); "
            "vs torch: torch's wall time / fastnn's (the target is >= 2); one run of each"
        ),
        readme={"what": "whole programs (softmax regression, MLP, CNN)", "torch": "vs torch"},
    )
    with tempfile.TemporaryDirectory() as tmp:
        twin = fastnn_twin(tmp)
        for model in MODELS:
            walls = {"torch": [], "fastnn": []}
            accs, losses = {}, {}
            for r in range(repeats):
                order = [("torch", PROGRAM), ("fastnn", twin)]
                for lib, path in order if r % 2 == 0 else order[::-1]:
                    time.sleep(0.5)  # the previous process's threads are gone with it
                    wall, loss, _, test_acc = run_program(path, model, extra, env)
                    walls[lib].append(wall)
                    accs[lib], losses[lib] = test_acc, loss
            floor = QUICK_FLOOR if quick else FULL_FLOOR
            if min(accs.values()) < floor or (
                not quick and losses["fastnn"] > losses["torch"] * (1 + LOSS_SLACK)
            ):
                raise AssertionError(
                    f"e2e {model}: fastnn train loss {losses['fastnn']:.4f}, test accuracy "
                    f"{accs['fastnn']:.3f}; torch {losses['torch']:.4f}, {accs['torch']:.3f} "
                    f"(test accuracy >= {floor}, fastnn's loss <= torch's * {1 + LOSS_SLACK})"
                )
            t_f, t_t = (statistics.median(walls[k]) for k in ("fastnn", "torch"))
            table.add(
                **{
                    "program": model,
                    "run": "1 epoch, 5000 images" if quick else "the example's epochs, 60000",
                    "fastnn s": t_f,
                    "torch s": t_t,
                    "vs torch": t_t / t_f,
                    "fastnn test acc": accs["fastnn"],
                    "torch test acc": accs["torch"],
                }
            )
    return [table]
