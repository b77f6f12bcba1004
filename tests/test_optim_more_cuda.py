"""The CUDA twins of adadelta/adamax/nadam/radam_step against the CPU kernels (50 steps, float32
and float64, awkward sizes), their argument checks, and the optimizer classes on CUDA tensors
against the CPU. Skipped without a GPU."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import cuda, nn
from test_optim_kernels_more import BASE, CASES, OPTIMIZERS, Problem, case_id

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU"),
]

TOL = {np.float32: {"atol": 1e-5, "rtol": 1e-4}, np.float64: {"atol": 1e-12, "rtol": 1e-10}}


def gpu(name):
    from fastnn.cuda import kernels as ck

    return getattr(ck, f"{name}_step")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_cuda_matches_cpu_over_50_steps(case, dtype, rng):
    name, _ = case
    shapes = [(7,), (33, 65), (1,), (257,), (0,)]
    host = Problem(*case, shapes, dtype, rng)
    devp = Problem(*case, shapes, dtype, np.random.default_rng(0))
    devp.params = [cuda.from_numpy(a) for a in host.params]
    devp.s1 = [cuda.from_numpy(a) for a in host.s1]
    devp.s2 = [cuda.from_numpy(a) for a in host.s2]
    for step in range(1, 51):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        host.step(OPTIMIZERS[name][0], grads, step)
        devp.step(gpu(name), [cuda.from_numpy(g) for g in grads], step)
    for key in ("params", "s1", "s2"):
        for d, h in zip(getattr(devp, key), getattr(host, key)):
            assert_close(d.numpy(), h, name=f"{name} {key}", **TOL[dtype])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_cuda_validation(name):
    p = [cuda.from_numpy(np.zeros(3, np.float32))]
    other = lambda: [cuda.from_numpy(np.zeros(3, np.float32))]
    with pytest.raises(ValueError, match="Invalid learning rate"):
        gpu(name)(p, other(), other(), other(), **{**BASE[name], "lr": -1.0})
    with pytest.raises(ValueError, match="share memory"):
        gpu(name)(p, p, other(), other(), **BASE[name])
    with pytest.raises(ValueError, match="shape"):
        gpu(name)(p, [cuda.from_numpy(np.zeros(4, np.float32))], other(), other(), **BASE[name])


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam"])
def test_optimizer_classes_on_cuda_match_cpu(name, rng):
    shapes = [(7, 5), (5,), (33,)]
    values = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(6)]
    results = {}
    for device in ("cpu", "cuda"):
        params = [nn.Parameter(fastnn.tensor(v, device=device)) for v in values]
        opt = getattr(fastnn.optim, name)(params, lr=0.01, weight_decay=0.1)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = fastnn.tensor(g, device=device)
            opt.step()
        results[device] = [p.detach().cpu().numpy() for p in params]
    for c, g in zip(results["cpu"], results["cuda"]):
        assert_close(g, c, atol=1e-5, rtol=1e-4)
