"""CUDA graphs: one training step of a small MLP (forward, MSE loss, backward, SGD with
momentum) run eagerly vs captured once with fastnn.cuda.graph and replayed. A small model is
bound by per-launch and Python overhead, which a replay removes: the ratio is the speed-up.
Both paths are checked to give the same parameters before timing. Medians of repeats, each timed
with CUDA events over `steps` steps. Returns [] (with a note on stderr) where there is no GPU.

Run: python bench/bench_cuda_graph.py [--quick]
"""

import pathlib
import statistics
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _harness import Table, check_close
from fastnn import cuda


def _model(width, depth, seed):
    fastnn.manual_seed(seed)
    layers = []
    for _ in range(depth):
        layers += [fastnn.nn.Linear(width, width), fastnn.nn.ReLU()]
    layers.append(fastnn.nn.Linear(width, 10))
    return fastnn.nn.Sequential(*layers).to("cuda")


def _setup(batch, width, depth, seed=0):
    model = _model(width, depth, seed)
    opt = fastnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(seed)
    x = fastnn.tensor(rng.standard_normal((batch, width)).astype(np.float32), device="cuda")
    y = fastnn.tensor(rng.standard_normal((batch, 10)).astype(np.float32), device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        loss = fastnn.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def _graphed(step):
    """Warm up on a side stream, capture one step, return replay()."""
    side = cuda.Stream()
    side.wait_stream(cuda.current_stream())
    with cuda.stream(side):
        for _ in range(3):
            step()
    cuda.current_stream().wait_stream(side)
    g = cuda.CUDAGraph()
    with cuda.graph(g):
        step()
    return g


def _time_ms(fn, steps, repeats):
    """Median milliseconds per step of `steps` calls of fn, timed with CUDA events."""
    fn()
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
        start.record()
        for _ in range(steps):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / steps)
    return statistics.median(times)


def _params(model):
    return [p.detach().cpu().numpy() for p in model.parameters()]


def run(quick: bool):
    if not cuda.is_available():
        why = "fastnn built without CUDA" if not cuda.is_built() else "no CUDA GPU on this machine"
        print(f"bench_cuda_graph: skipped ({why})", file=sys.stderr)
        return []
    table = Table(
        "CUDA graphs: MLP training step (SGD momentum, MSE), eager vs replayed graph",
        ["batch", "width", "depth", "eager ms", "graph ms", "speed-up"],
        note="Per step, medians of CUDA-event timings; the graph replays the captured step.",
    )
    shapes = [(64, 128, 2), (256, 512, 3)] if quick else [(64, 128, 2), (256, 512, 3), (32, 64, 6)]
    steps, repeats = (20, 5) if quick else (50, 11)
    for batch, width, depth in shapes:
        eager_model, eager_step = _setup(batch, width, depth)
        graph_model, graph_step = _setup(batch, width, depth)
        g = _graphed(graph_step)  # 3 eager warm-up steps
        for _ in range(3):
            eager_step()
        for _ in range(5):
            eager_step()
            g.replay()
        for got, want in zip(_params(graph_model), _params(eager_model)):
            check_close("graphed MLP step", got, want, rtol=1e-4, atol=1e-5)
        eager = _time_ms(eager_step, steps, repeats)
        graphed = _time_ms(g.replay, steps, repeats)
        table.add(
            batch=batch,
            width=width,
            depth=depth,
            **{"eager ms": eager, "graph ms": graphed, "speed-up": eager / graphed},
        )
        g.reset()
    return [table]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
