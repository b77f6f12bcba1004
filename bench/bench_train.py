"""Epoch time of the example programs' models, fastnn vs the same program on PyTorch (CPU), one run.

Softmax regression (Flatten + Linear(784, 10), SGD lr 0.1) and the MLP 784-256-10 (ReLU, SGD)
on Fashion-MNIST-shaped data, at batch 256 and 32. Both libraries run the identical loop
(zero_grad, forward, cross-entropy, backward, step) over the same pre-shuffled batches, so the
figure is the framework's own cost: kernels, autograd and optimizer, not data loading. A second
pair of rows uses each library's DataLoader (shuffle=True), the way the examples are written.
A second table times one training step of a small CNN (two 3x3 convolutions, 32 and 64 channels)
at 1 and 2 threads.
"""

import os
import time

import numpy as np

import fastnn
from _harness import Table, compare, try_torch


def _data(n):
    """Fashion-MNIST training images when FASTNN_DATA has them, else random data of that shape."""
    try:
        from fastnn.datasets import FashionMNIST

        ds = FashionMNIST(root=os.environ.get("FASTNN_DATA"), train=True)
        x = ds.data.numpy()[:n].reshape(n, 784).astype(np.float32) / 255.0
        y = ds.targets.numpy()[:n].astype(np.int64)
        return x, y, "Fashion-MNIST"
    except (ImportError, OSError, ValueError, RuntimeError):
        rng = np.random.default_rng(0)
        return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n), "random"


def _fastnn_model(kind):
    from fastnn import nn

    if kind == "softmax":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def _torch_model(torch, kind):
    nn = torch.nn
    if kind == "softmax":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def _epoch_seconds(lib, model, batches, lr):
    """Seconds for one pass of the training loop over `batches` ((X, y) pairs: a list or a loader)."""
    loss_fn = lib.nn.CrossEntropyLoss()
    opt = lib.optim.SGD(model.parameters(), lr=lr)
    start = time.perf_counter()
    for X, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def _loader_epoch_seconds(lib, data_mod, model, x, y, batch, lr):
    """_epoch_seconds over the library's own DataLoader (shuffle=True), as in the examples."""
    loader = data_mod.DataLoader(
        data_mod.TensorDataset(lib.from_numpy(x), lib.from_numpy(y)), batch_size=batch, shuffle=True
    )
    return _epoch_seconds(lib, model, loader, lr)


def _cnn(lib):
    """The issue's small CNN: Conv2d 1->32, pool, Conv2d 32->64, pool, Linear (28x28 inputs)."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 10),
    )


def cnn_step_table(torch, quick):
    """One SGD training step of the small CNN at batch 256, at 1 and 2 threads, the two libraries
    taking turns (_harness.compare: each after a pause and an untimed step of its own, so the
    other's spinning workers have gone to sleep)."""
    table = Table(
        "CNN training step, batch 256 (ms, median of steps, the libraries in turns)",
        ["threads", "fastnn ms", "torch ms", "fastnn/torch", "target"],
        note="Conv2d(1, 32, 3, p1), ReLU, MaxPool2d(2), Conv2d(32, 64, 3, p1), ReLU, MaxPool2d(2), "
        "Flatten, Linear(3136, 10); cross-entropy, SGD lr 0.01; random 1x28x28 inputs.",
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 256)

    def stepper(lib, X, Y):
        model = _cnn(lib)
        loss_fn = lib.nn.CrossEntropyLoss()
        opt = lib.optim.SGD(model.parameters(), lr=0.01)

        def step():
            opt.zero_grad()
            loss_fn(model(X), Y).backward()
            opt.step()

        return step

    before = fastnn.get_num_threads()
    try:
        for threads in (1, 2):
            fastnn.set_num_threads(threads)
            steps = {"fastnn": stepper(fastnn, fastnn.from_numpy(x), fastnn.from_numpy(y))}
            if torch is not None:
                torch.set_num_threads(threads)
                steps["torch"] = stepper(torch, torch.from_numpy(x), torch.from_numpy(y))
            times = compare(steps, rounds=3 if quick else 15, calls=1)
            f = times["fastnn"][0]
            t = times["torch"][0] if torch is not None else None
            table.add(
                threads=threads,
                **{
                    "fastnn ms": f * 1e3,
                    "torch ms": t * 1e3 if t else None,
                    "fastnn/torch": f / t if t else None,
                    "target": "<= 0.7",
                },
            )
    finally:
        fastnn.set_num_threads(before)
        if torch is not None:
            torch.set_num_threads(before)
    return table


def accuracy_figures():
    """The target figures: test accuracy after 10 epochs (full train and test sets)."""
    from fastnn import models, nn
    from fastnn.__main__ import load_data, make_optimizer
    from fastnn.training import fit

    table = Table(
        "Test accuracy after 10 epochs (the target figures)",
        ["model", "dataset", "optimizer", "test acc", "target", "s/epoch"],
        note="batch 256, fastnn.manual_seed(0); MLP = 784-256-10 ReLU, Dropout 0.2.",
    )
    runs = [
        ("softmax", "fashion-mnist", "sgd", 0.82),
        ("mlp", "fashion-mnist", "momentum", 0.87),
        ("mlp", "mnist", "momentum", 0.97),
    ]
    for kind, dataset, opt, target in runs:
        fastnn.manual_seed(0)
        train_iter, test_iter = load_data(dataset, 256)
        net = models.softmax_regression() if kind == "softmax" else models.mlp(dropout=0.2)
        hist = fit(
            net,
            train_iter,
            test_iter,
            nn.CrossEntropyLoss(),
            10,
            make_optimizer(opt, net.parameters()),
            progress=False,
            log=None,
        )
        table.add(
            model=kind,
            dataset=dataset,
            optimizer=opt,
            target=f">= {target}",
            **{"test acc": hist.test_acc[-1], "s/epoch": float(np.median(hist.seconds))},
        )
    return table


def run(quick=False):
    torch = try_torch()
    n = 2000 if quick else 60000  # --quick: a smoke run (bench_e2e times whole programs)
    x, y, source = _data(n)
    rounds = 3 if quick else 5
    table = Table(
        "Training epoch time: fastnn vs PyTorch (CPU)",
        ["model", "batch", "loop", "fastnn s/epoch", "torch s/epoch", "fastnn/torch", "target"],
        note=f"{n} {source} samples per epoch; median of {rounds} epochs per library, in turns; "
        "'steps' = identical loop over pre-made batches, 'DataLoader' = each library's loader.",
    )
    order = np.random.default_rng(1).permutation(n)
    for kind, target in (("softmax", 0.5), ("mlp", 0.8)):
        for batch in (256, 32):
            idx = [order[i : i + batch] for i in range(0, n, batch)]
            fb = [(fastnn.from_numpy(x[i]), fastnn.from_numpy(y[i])) for i in idx]
            fm = _fastnn_model(kind)
            tb = tm = None
            if torch is not None:
                tb = [(torch.from_numpy(x[i]), torch.from_numpy(y[i])) for i in idx]
                tm = _torch_model(torch, kind)
            epochs = {"fastnn": lambda: _epoch_seconds(fastnn, fm, fb, 0.1)}
            if torch is not None:
                epochs["torch"] = lambda: _epoch_seconds(torch, tm, tb, 0.1)
            # In turns, each after a pause (the other library's workers asleep); an epoch's
            # thousands of steps are their own warm-up.
            times = compare(epochs, rounds=rounds, calls=1, warmup=0, warm_s=0.0)
            f = times["fastnn"][0]
            t = times["torch"][0] if torch is not None else None
            table.add(
                model=kind,
                batch=batch,
                loop="steps",
                **{
                    "fastnn s/epoch": f,
                    "torch s/epoch": t,
                    "fastnn/torch": f / t if t else None,
                    "target": f"<= {target}",
                },
            )
            if torch is not None and not quick:
                from torch.utils import data as tdata

                from fastnn.utils import data as fdata

                f2 = _loader_epoch_seconds(fastnn, fdata, fm, x, y, batch, 0.1)
                t2 = _loader_epoch_seconds(torch, tdata, tm, x, y, batch, 0.1)
                table.add(
                    model=kind,
                    batch=batch,
                    loop="DataLoader",
                    **{
                        "fastnn s/epoch": f2,
                        "torch s/epoch": t2,
                        "fastnn/torch": f2 / t2,
                        "target": f"<= {target}",
                    },
                )
    tables = [table, cnn_step_table(torch, quick)]
    if not quick and source == "Fashion-MNIST":
        tables.append(accuracy_figures())
    return tables
