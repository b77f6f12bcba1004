"""A PyTorch training program, as a user writes it: read Fashion-MNIST, train, evaluate, print.

    python bench/e2e_program.py softmax   # the d2l softmax regression (10 epochs)
    python bench/e2e_program.py mlp       # the d2l MLP 784-256-10 (10 epochs)
    python bench/e2e_program.py cnn       # fastnn.examples.cnn_fashion_mnist's CNN (5 epochs)

bench_e2e.py runs this file as it is (torch) and a copy whose three import lines say fastnn
instead: nothing else differs, which is fastnn's promise. The models, losses, optimizers, batch
sizes and epochs are those of the example programs (python -m fastnn.examples.softmax_regression,
the MLP of fastnn.models / optimizers_mnist, python -m fastnn.examples.cnn_fashion_mnist); the
examples themselves use fastnn-only helpers (fastnn.datasets, fastnn.training), so they cannot run
on torch. The data are read from the IDX files in $FASTNN_DATA/fashion-mnist with NumPy.
The last line printed is machine-readable: "result <train loss> <train acc> <test acc>".
"""

import argparse
import gzip
import os

import numpy as np
import torch
from torch import nn
from torch.utils import data

# model -> (batch size, epochs, optimizer, learning rate)
SETTINGS = {
    "softmax": (256, 10, "sgd", 0.1),
    "mlp": (256, 10, "sgd", 0.1),
    "cnn": (128, 5, "adam", 0.001),
}


def read_idx(path):
    """The array in one gzip-compressed IDX file (magic number, big-endian dims, data)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = np.frombuffer(raw[4 : 4 + 4 * ndim], dtype=">u4").astype(np.int64)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(root, train, limit=None):
    prefix = "train" if train else "t10k"
    images = read_idx(os.path.join(root, "fashion-mnist", f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(root, "fashion-mnist", f"{prefix}-labels-idx1-ubyte.gz"))
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = torch.tensor((images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28))
    y = torch.tensor(labels.astype(np.int64))
    return data.TensorDataset(x, y)


def make_model(name):
    if name == "softmax":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
        nn.init.normal_(net[1].weight, std=0.01)
        nn.init.zeros_(net[1].bias)
        return net
    if name == "mlp":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
        for m in net:
            if type(m) is nn.Linear:
                nn.init.normal_(m.weight, std=0.01)
        return net
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 10),
    )


def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=1) == y).sum())


def train_epoch(net, loader, loss, optimizer):
    net.train()
    total_loss, correct, count = 0.0, 0.0, 0
    for x, y in loader:
        y_hat = net(x)
        l = loss(y_hat, y)
        optimizer.zero_grad()
        l.mean().backward()
        optimizer.step()
        total_loss += float(l.sum())
        correct += accuracy(y_hat, y)
        count += y.numel()
    return total_loss / count, correct / count


def evaluate(net, loader):
    net.eval()
    correct, count = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            correct += accuracy(net(x), y)
            count += y.numel()
    return correct / count


def main(argv=None):
    parser = argparse.ArgumentParser(description="train one model on Fashion-MNIST")
    parser.add_argument("model", choices=list(SETTINGS))
    parser.add_argument("--epochs", type=int, default=None, help="default: the example's")
    parser.add_argument("--limit", type=int, default=None, help="first N training images")
    parser.add_argument("--eval-limit", type=int, default=None, help="first N test images")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    batch_size, epochs, opt_name, lr = SETTINGS[args.model]
    epochs = args.epochs or epochs
    torch.manual_seed(args.seed)

    root = os.environ["FASTNN_DATA"]  # the folder holding fashion-mnist/
    train_iter = data.DataLoader(load(root, True, args.limit), batch_size, shuffle=True)
    test_iter = data.DataLoader(load(root, False, args.eval_limit), batch_size)

    net = make_model(args.model)
    loss = nn.CrossEntropyLoss(reduction="none")
    if opt_name == "sgd":
        optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    else:
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    for epoch in range(epochs):
        train_loss, train_acc = train_epoch(net, train_iter, loss, optimizer)
        test_acc = evaluate(net, test_iter)
        print(
            f"epoch {epoch + 1}: loss {train_loss:.4f}, train acc {train_acc:.4f}, "
            f"test acc {test_acc:.4f}"
        )
    print(f"result {train_loss:.6f} {train_acc:.6f} {test_acc:.6f}")


if __name__ == "__main__":
    main()
