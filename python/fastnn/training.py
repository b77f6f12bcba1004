"""Training tools of the d2l kind: accuracy, Accumulator, evaluate_accuracy, train_epoch, fit.

`fit` runs epochs with a progress bar (tqdm when installed, plain text otherwise), prints one line
per epoch (train loss, train acc, test acc, seconds, samples/s) and can save a PNG of the curves
(matplotlib when installed), like d2l's Animator but written once at the end of each epoch.
"""

import sys
import time
from dataclasses import dataclass, field

from .autograd import no_grad


def accuracy(y_hat, y) -> float:
    """Number of correct predictions: argmax over classes (or the values themselves) vs y."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return float((y_hat.type(y.dtype) == y).sum().item())


class Accumulator:
    """Sums n running quantities (d2l's Accumulator)."""

    def __init__(self, n: int):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def _model_device(net):
    """The device of net's first parameter (None for a plain function or a parameterless net)."""
    params = getattr(net, "parameters", None)
    if params is None:
        return None
    for p in params():
        return p.device
    return None


def _to(X, y, device):
    """Move a batch to the model's device (a no-op when it is already there)."""
    if device is None or X.device == device:
        return X, y
    return X.to(device), y.to(device)


def evaluate_accuracy(net, data_iter) -> float:
    """Accuracy of `net` over every batch of `data_iter` (eval mode, no autograd); batches are
    moved to the model's device."""
    was_training = getattr(net, "training", False)
    if hasattr(net, "eval"):
        net.eval()
    device = _model_device(net)
    metric = Accumulator(2)
    with no_grad():
        for X, y in data_iter:
            X, y = _to(X, y, device)
            metric.add(accuracy(net(X), y), y.numel())
    if was_training:
        net.train()
    return metric[0] / max(metric[1], 1)


def _progress(iterable, desc, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, leave=False, file=sys.stderr)


def train_epoch(net, train_iter, loss, optimizer, *, progress=False, desc="train"):
    """One pass over train_iter. Returns (mean loss, accuracy, samples).

    `loss` may reduce (mean) or not (reduction='none', as in the d2l programs); the gradient is
    always that of the batch mean, and the reported loss is the per-sample mean over the epoch.
    Batches are moved to the model's device.
    """
    if hasattr(net, "train"):
        net.train()
    device = _model_device(net)
    metric = Accumulator(3)
    for X, y in _progress(train_iter, desc, progress):
        X, y = _to(X, y, device)
        y_hat = net(X)
        l = loss(y_hat, y)
        optimizer.zero_grad()
        (l.mean() if l.dim() > 0 else l).backward()
        optimizer.step()
        n = y.shape[0]
        batch_loss = float(l.sum().item()) if l.dim() > 0 else float(l.item()) * n
        metric.add(batch_loss, accuracy(y_hat, y), n)
    return metric[0] / metric[2], metric[1] / metric[2], int(metric[2])


@dataclass
class History:
    """Per-epoch figures of a fit() run."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    samples_per_s: list = field(default_factory=list)

    def append(self, **row):
        for key, value in row.items():
            getattr(self, key).append(value)


def fit(
    net,
    train_iter,
    test_iter,
    loss,
    num_epochs,
    optimizer,
    *,
    scheduler=None,
    progress=True,
    plot=None,
    log=print,
    world_size=1,
):
    """Train for num_epochs, evaluating on test_iter after each; returns a History.

    plot: a PNG path; the curves (train loss, train acc, test acc per epoch) are redrawn there
    after every epoch. log: where the one-line-per-epoch summary goes (None for silence).
    world_size: processes training the same model data-parallel, each on its own equal share
    (samples/s then counts the whole job). A sampler with ``set_epoch`` gets each epoch's number.
    """
    history = History()
    set_epoch = getattr(getattr(train_iter, "sampler", None), "set_epoch", None)
    for epoch in range(1, num_epochs + 1):
        if set_epoch is not None:
            set_epoch(epoch - 1)
        start = time.perf_counter()
        train_loss, train_acc, n = train_epoch(
            net, train_iter, loss, optimizer, progress=progress, desc=f"epoch {epoch}/{num_epochs}"
        )
        seconds = time.perf_counter() - start
        n *= world_size
        test_acc = evaluate_accuracy(net, test_iter) if test_iter is not None else float("nan")
        if scheduler is not None:
            scheduler.step()
        history.append(
            epoch=epoch,
            train_loss=train_loss,
            train_acc=train_acc,
            test_acc=test_acc,
            seconds=seconds,
            samples_per_s=n / seconds,
        )
        if log is not None:
            log(
                f"epoch {epoch:3d}  train loss {train_loss:.4f}  train acc {train_acc:.4f}  "
                f"test acc {test_acc:.4f}  {seconds:6.2f} s  {n / seconds:9.0f} samples/s"
            )
        if plot:
            plot_history(history, plot)
    return history


def plot_history(history, path, title=None):
    """Save the d2l-style curves (train loss, train acc, test acc vs epoch) as a PNG."""
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("plotting needs matplotlib: pip install 'fastnn[plot]'") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(history.epoch, history.train_loss, "-", label="train loss")
    ax.plot(history.epoch, history.train_acc, "m--", label="train acc")
    ax.plot(history.epoch, history.test_acc, "g-.", label="test acc")
    ax.set_xlabel("epoch")
    ax.set_xlim(1, max(history.epoch[-1], 2))
    ax.grid(True)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
