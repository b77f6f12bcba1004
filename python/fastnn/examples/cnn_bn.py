"""A CNN with batch normalization on Fashion-MNIST.

    python -m fastnn.examples.cnn_bn [--epochs 5] [--plot curves.png]

Two conv stages, each Conv2d(3x3, padding 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2) (1 -> 16 -> 32
channels, as in cnn_fashion_mnist), then Flatten -> Linear(32 * 7 * 7, 128) -> BatchNorm1d -> ReLU
-> Linear(128, 10). The conv layers carry no bias (the BatchNorm after them has its own).
BatchNorm normalises with batch statistics in training and with its running statistics when
fastnn.training.fit evaluates (net.eval()). Trained with Adam (lr 1e-3) by fastnn.training.fit.
"""

import argparse

import fastnn
from fastnn import nn
from fastnn.__main__ import OPTIMIZERS, make_optimizer
from fastnn.datasets import FashionMNIST
from fastnn.training import fit
from fastnn.utils import data


def cnn_bn(num_classes=10):
    def stage(c_in, c_out):
        return [
            nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]

    return nn.Sequential(
        *stage(1, 16),
        *stage(16, 32),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 128),
        nn.BatchNorm1d(128),
        nn.ReLU(),
        nn.Linear(128, num_classes),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="a CNN with BatchNorm on Fashion-MNIST")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam")
    parser.add_argument("--lr", type=float, default=None, help="default: the optimizer's own")
    parser.add_argument("--workers", type=int, default=2, help="background loading threads")
    parser.add_argument("--limit", type=int, default=None, help="first N training images")
    parser.add_argument("--eval-limit", type=int, default=None, help="first N test images")
    parser.add_argument(
        "--data-root", default=None, help="folder with fashion-mnist/ (default: $FASTNN_DATA)"
    )
    parser.add_argument("--plot", metavar="PNG", help="save the curves here (needs matplotlib)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    fastnn.manual_seed(args.seed)

    train = FashionMNIST(root=args.data_root, train=True)
    test = FashionMNIST(root=args.data_root, train=False)
    if args.limit:
        train = data.Subset(train, range(min(args.limit, len(train))))
    if args.eval_limit:
        test = data.Subset(test, range(min(args.eval_limit, len(test))))
    train_iter = data.DataLoader(
        train, args.batch_size, shuffle=True, num_workers=args.workers, seed=args.seed
    )
    test_iter = data.DataLoader(test, args.batch_size, num_workers=args.workers)

    net = cnn_bn(10)
    optimizer = make_optimizer(args.optimizer, net.parameters(), args.lr)
    print(
        f"CNN + BatchNorm on Fashion-MNIST: {sum(p.numel() for p in net.parameters())} "
        f"parameters, {type(optimizer).__name__} lr={optimizer.param_groups[0]['lr']:g}, batch "
        f"{args.batch_size}, {len(train)} training / {len(test)} test images, "
        f"{args.epochs} epochs"
    )
    history = fit(
        net,
        train_iter,
        test_iter,
        nn.CrossEntropyLoss(),
        args.epochs,
        optimizer,
        progress=not args.no_progress,
        plot=args.plot,
    )
    if args.plot:
        print(f"curves saved to {args.plot}")
    return history


if __name__ == "__main__":
    main()
