"""Training tools of the d2l kind: accuracy, Accumulator, evaluate_accuracy, train_epoch, fit.

`fit` runs epochs with a progress bar (tqdm when installed, plain text otherwise), prints one line
per epoch (train loss, train acc, test acc, seconds, samples/s) and can save a PNG of the curves
(matplotlib when installed), like d2l's Animator but written once at the end of each epoch.

On a GPU the training loop does not wait for the device: batches go up with non-blocking copies
(pinned memory or pinned staging), and the loss sum and correct count of an epoch are added up on
the device and read once at its end. The sums are the host loop's, operation for operation (the
per-batch figures in the batch's dtype, added in float64 in batch order), so the printed figures
do not depend on where the model runs. ``fit(..., resident=True)`` keeps a copy of the datasets
on the GPU and cuts the batches from it (see ``_ResidentLoader``).
"""

import sys
import time
from dataclasses import dataclass, field

import numpy as np

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
    """Move a batch to the model's device (a no-op when it is already there). Copies to a GPU
    are queued without the host waiting (the source may be reused at once)."""
    if device is None or X.device == device:
        return X, y
    return X.to(device, non_blocking=True), y.to(device, non_blocking=True)


def _correct(y_hat, y):
    """accuracy() as a 0-d int64 tensor on y's device (no host read)."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return (y_hat.type(y.dtype) == y).sum()


class _DeviceSums:
    """Running sums kept on a device and read once: each add() is a device op, so a training
    step never waits for the GPU to report a number. Sums in float64 like Accumulator, in the
    same order, so the result is the host loop's."""

    def __init__(self):
        self.sums = None

    def add(self, *values):
        with no_grad():
            values = [v.detach().double() for v in values]
            self.sums = values if self.sums is None else [a + b for a, b in zip(self.sums, values)]

    def read(self, n):
        """The n sums as floats (one synchronization); zeros when nothing was added."""
        if self.sums is None:
            return [0.0] * n
        return [float(v.item()) for v in self.sums]


def _on_gpu(t):
    return t.device.type != "cpu"


def evaluate_accuracy(net, data_iter) -> float:
    """Accuracy of `net` over every batch of `data_iter` (eval mode, no autograd); batches are
    moved to the model's device. On a GPU the count stays there until the end."""
    was_training = getattr(net, "training", False)
    if hasattr(net, "eval"):
        net.eval()
    device = _model_device(net)
    metric = Accumulator(2)
    on_device = _DeviceSums()
    with no_grad():
        for X, y in data_iter:
            X, y = _to(X, y, device)
            if _on_gpu(y):
                on_device.add(_correct(net(X), y))
                metric.add(0.0, y.numel())
            else:
                metric.add(accuracy(net(X), y), y.numel())
    (correct,) = on_device.read(1)
    metric.add(correct, 0)
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
    on_device = _DeviceSums()
    for X, y in _progress(train_iter, desc, progress):
        X, y = _to(X, y, device)
        y_hat = net(X)
        l = loss(y_hat, y)
        optimizer.zero_grad()
        (l.mean() if l.dim() > 0 else l).backward()
        optimizer.step()
        n = y.shape[0]
        if _on_gpu(l):  # the same figures, added on the device: no wait for the GPU here
            on_device.add(l.sum() if l.dim() > 0 else l.double() * n, _correct(y_hat, y))
            metric.add(0.0, 0.0, n)
        else:
            batch_loss = float(l.sum().item()) if l.dim() > 0 else float(l.item()) * n
            metric.add(batch_loss, accuracy(y_hat, y), n)
    loss_sum, correct = on_device.read(2)
    metric.add(loss_sum, correct, 0)
    return metric[0] / metric[2], metric[1] / metric[2], int(metric[2])


class _ResidentLoader:
    """The batches of a fastnn DataLoader cut from a copy of its whole dataset on a device.

    The dataset (a TensorDataset of (X, y), or a dataset with ``get_batch`` and no transforms)
    goes to the device once. Each epoch asks the loader for its batch indices, drawn from its
    generator exactly as iterating it would draw them, so the batches are the loader's. When
    the epoch reads the samples in stored order (no shuffle) the batches are views of the
    resident copy; a shuffled epoch gathers the samples in the epoch's order on the host and
    sends that copy up with one non-blocking copy, after which every batch is again a view.
    Either way a batch costs no host work and no host-to-device copy of its own.
    """

    def __init__(self, loader, X, y, device):
        self.loader, self.device = loader, device
        self.sampler = getattr(loader, "sampler", None)
        self._host = (X.detach().cpu().numpy(), y.detach().cpu().numpy())
        self._resident = (
            X.detach().to(device, non_blocking=True),
            y.detach().to(device, non_blocking=True),
        )

    @classmethod
    def wrap(cls, loader, device):
        """A resident loader for `loader` on `device`, or None when `loader` cannot be replayed
        from its dataset (not a fastnn DataLoader, a collate_fn, no batching, transforms)."""
        from .utils.data import DataLoader, TensorDataset

        if not isinstance(loader, DataLoader) or loader.collate_fn is not None:
            return None
        if loader.batch_size is None and loader.batch_sampler is None:
            return None
        ds = loader.dataset
        if isinstance(ds, TensorDataset):
            if len(ds.tensors) != 2:
                return None
            X, y = ds.tensors
        elif hasattr(ds, "get_batch") and all(
            getattr(ds, a, None) is None for a in ("transform", "target_transform")
        ):
            X, y = ds.get_batch(np.arange(len(ds), dtype=np.int64))
        else:
            return None
        return cls(loader, X, y, device)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        from ._tensor import Tensor

        batches, _ = self.loader._plan_epoch()
        batches = list(batches)
        if not batches:
            return
        order = np.concatenate([np.asarray(b, dtype=np.int64).reshape(-1) for b in batches])
        if np.array_equal(order, np.arange(order.size)):
            X, y = self._resident
        else:
            X, y = (Tensor(a[order]).to(self.device, non_blocking=True) for a in self._host)
        start = 0
        for b in batches:
            stop = start + np.asarray(b).size
            yield X[start:stop], y[start:stop]
            start = stop


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
    resident=False,
):
    """Train for num_epochs, evaluating on test_iter after each; returns a History.

    plot: a PNG path; the curves (train loss, train acc, test acc per epoch) are redrawn there
    after every epoch. log: where the one-line-per-epoch summary goes (None for silence).
    world_size: processes training the same model data-parallel, each on its own equal share
    (samples/s then counts the whole job). A sampler with ``set_epoch`` gets each epoch's number.
    resident: on a GPU model, keep a copy of each loader's dataset on the GPU for the whole run
    and cut the batches from it (the same batches, in the same order); loaders that cannot be
    replayed that way (a collate_fn, a dataset with transforms) are used as they are. Needs
    the dataset (twice, when shuffled) to fit in GPU memory.
    """
    if resident:
        device = _model_device(net)
        if device is not None and device.type != "cpu":
            train_iter = _ResidentLoader.wrap(train_iter, device) or train_iter
            if test_iter is not None:
                test_iter = _ResidentLoader.wrap(test_iter, device) or test_iter
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
