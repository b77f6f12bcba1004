"""Run fastnn's benchmarks and print one markdown report: fastnn vs NumPy vs PyTorch, one run.

python bench/run.py            # everything
python bench/run.py matmul     # only bench/bench_matmul.py
python bench/run.py --quick    # fewer sizes and repeats (a smoke run)
python bench/run.py --json out.json
python bench/run.py --markdown # the README's "How fast" table (the full report goes to stderr)
python bench/run.py soak       # RSS and threads over 20,000 training steps (not in the default run)

Before the suites, the run measures its own limits (_harness.limits: one core's FMA throughput
and the copy bandwidth); every "of limit" figure is relative to them, never to an assumed clock.
"""

import argparse
import importlib
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from _harness import cpu_model, cpu_summary, limits, limits_summary, readme_markdown, write_json

SUITES = [
    "matmul",
    "activations",
    "losses",
    "autograd",
    "overhead",
    "elementwise",
    "tensor_ops",
    "optim",
    "clip_grad",
    "conv",
    "pool",
    "norm",
    "rnn",
    "attention",
    "embedding",
    "train",
    "data",
    "data_workers",
    "cuda",
    "cuda_memory",
    "cuda_step",
    "cuda_graph",
    "cuda_xent",
    "cuda_conv",
    "distributed",
    "e2e",
    "soak",
]
# Run only when named: the soak's full run trains 20,000 steps per row (about an hour with torch).
ON_REQUEST = {"soak"}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "suites",
        nargs="*",
        help=f"which benchmarks, of {SUITES} (default: all but {sorted(ON_REQUEST)})",
    )
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="print the README's summary table on stdout, the full report on stderr",
    )
    args = parser.parse_args(argv)
    unknown = set(args.suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s) {sorted(unknown)}; choose from {SUITES}")

    report = sys.stderr if args.markdown else sys.stdout
    summary = cpu_summary()
    print(f"# fastnn benchmarks\n\n{summary}\n\n{limits_summary()}\n", file=report, flush=True)
    tables = []
    for name in args.suites or [s for s in SUITES if s not in ON_REQUEST]:
        path = pathlib.Path(__file__).parent / f"bench_{name}.py"
        if not path.exists():
            continue
        module = importlib.import_module(f"bench_{name}")
        wall, cpu = time.perf_counter(), time.process_time()
        for table in module.run(quick=args.quick):
            print(table.markdown(), file=report, flush=True)
            tables.append(table)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"({name}: {wall:.1f} s wall, {cpu:.1f} s CPU)\n", file=report, flush=True)
    if args.json:
        write_json(args.json, tables)
    if args.markdown:
        print(readme_markdown(tables, _readme_header(args, summary)), flush=True)


def _readme_header(args, summary):
    lim = limits()
    command = "python bench/run.py --markdown" + " --quick" * args.quick
    command += "".join(f" {s}" for s in args.suites)
    return (
        f"Measured by `{command}` on {cpu_model()} "
        f"({summary.split('; ', 1)[1]}). Ratios are the other library's time over fastnn's "
        "(above 1: fastnn is faster), medians of repeats taken in turns in the same run. The "
        f"limits were measured in the same run: {lim['fma_gflops']:.0f} GFLOP/s float32 FMA "
        f"per core ({lim['fma_gflops_all']:.0f} for {lim['threads']} threads) and "
        f"{lim['copy_gbs']:.1f} GB/s copy (read + write)."
    )


if __name__ == "__main__":
    main()
