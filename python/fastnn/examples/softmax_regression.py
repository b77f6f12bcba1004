"""The d2l book's softmax regression on Fashion-MNIST, as close to the book as fastnn allows.

    python -m fastnn.examples.softmax_regression [--plot curves.png]

Changed from the book: the imports (``import fastnn as torch``); ``load_data_fashion_mnist``
reads the local IDX files with ``fastnn.datasets.FashionMNIST`` instead of torchvision (already
float32 in [0, 1], the job of ``transforms.ToTensor``); d2l's live ``Animator`` becomes one
printed line per epoch and, with ``--plot``, a PNG of the same curves. The model, the loss, the
optimizer, ``accuracy``, ``Accumulator``, ``evaluate_accuracy``, ``train_epoch`` and the final
assertions are the book's.
"""

import argparse

import fastnn as torch
from fastnn import nn
from fastnn.datasets import FashionMNIST
from fastnn.training import History, plot_history
from fastnn.utils import data

batch_size = 256
_workers = 4


def get_dataloader_workers():
    """使用4个进程来读取数据 (fastnn: background threads)"""
    return _workers


def load_data_fashion_mnist(batch_size, root=None, limit=None):
    """读取Fashion-MNIST数据集 (the first `limit` training images when limit is given)"""
    mnist_train = FashionMNIST(root=root, train=True)
    mnist_test = FashionMNIST(root=root, train=False)
    if limit:
        mnist_train = data.Subset(mnist_train, range(min(limit, len(mnist_train))))
    return (
        data.DataLoader(
            mnist_train, batch_size, shuffle=True, num_workers=get_dataloader_workers()
        ),
        data.DataLoader(
            mnist_test, batch_size, shuffle=False, num_workers=get_dataloader_workers()
        ),
    )


def accuracy(y_hat, y):
    """计算预测正确的数量"""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


class Accumulator:
    """在n个变量上累加"""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def evaluate_accuracy(net, data_iter):
    """计算在指定数据集上模型的精度"""
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch(net, train_iter, loss, updater):
    """训练模型一个迭代周期(定义见第3章)"""
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def train1(net, train_iter, test_iter, loss, num_epochs, updater, plot=None, check=True):
    """训练模型(定义见第3章); the Animator's curves are printed (and saved with --plot)"""
    history = History()
    for epoch in range(num_epochs):
        train_metrics = train_epoch(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        history.append(
            epoch=epoch + 1,
            train_loss=train_metrics[0],
            train_acc=train_metrics[1],
            test_acc=test_acc,
        )
        print(
            f"epoch {epoch + 1}, train loss {train_metrics[0]:.3f}, "
            f"train acc {train_metrics[1]:.3f}, test acc {test_acc:.3f}"
        )
        if plot:
            plot_history(history, plot, title="softmax regression, Fashion-MNIST")
    train_loss, train_acc = train_metrics
    if check:
        assert train_loss < 0.5, train_loss
        assert train_acc <= 1, train_acc
        assert train_acc > 0.7, train_acc
        assert test_acc <= 1, test_acc
        assert test_acc > 0.7, test_acc
    return history


def main(argv=None):
    global _workers  # noqa: PLW0603 (the d2l get_dataloader_workers() reads it)
    parser = argparse.ArgumentParser(description="d2l softmax regression, Fashion-MNIST")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4, help="background loading threads")
    parser.add_argument("--limit", type=int, default=None, help="use the first N train images")
    parser.add_argument(
        "--data-root", default=None, help="folder with fashion-mnist/ (default: $FASTNN_DATA)"
    )
    parser.add_argument("--plot", metavar="PNG", help="save the curves here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip the book's final assertions (for short runs)",
    )
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    _workers = args.workers

    train_iter, test_iter = load_data_fashion_mnist(batch_size, args.data_root, args.limit)

    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)

    net.apply(init_weights)

    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.1)

    num_epochs = args.epochs
    history = train1(
        net,
        train_iter,
        test_iter,
        loss,
        num_epochs,
        trainer,
        plot=args.plot,
        check=not args.no_check,
    )
    if args.plot:
        print(f"curves saved to {args.plot}")
    return history


if __name__ == "__main__":
    main()
