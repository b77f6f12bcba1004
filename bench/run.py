"""Run fastnn's benchmarks and print one markdown report: fastnn vs NumPy vs PyTorch, one run.

python bench/run.py            # everything
python bench/run.py matmul     # only bench/bench_matmul.py
python bench/run.py --quick    # fewer sizes and repeats (a smoke run)
python bench/run.py --json out.json
"""

import argparse
import importlib
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from _harness import cpu_summary, write_json

SUITES = [
    "matmul",
    "activations",
    "losses",
    "autograd",
    "overhead",
    "optim",
    "clip_grad",
    "conv",
    "pool",
    "norm",
    "rnn",
    "embedding",
    "train",
    "data",
    "cuda",
    "distributed",
    "soak",
]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("suites", nargs="*", help=f"which benchmarks, of {SUITES} (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    unknown = set(args.suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s) {sorted(unknown)}; choose from {SUITES}")

    print(f"# fastnn benchmarks\n\n{cpu_summary()}\n", flush=True)
    tables = []
    for name in args.suites or SUITES:
        path = pathlib.Path(__file__).parent / f"bench_{name}.py"
        if not path.exists():
            continue
        module = importlib.import_module(f"bench_{name}")
        for table in module.run(quick=args.quick):
            print(table.markdown(), flush=True)
            tables.append(table)
    if args.json:
        write_json(args.json, tables)


if __name__ == "__main__":
    main()
