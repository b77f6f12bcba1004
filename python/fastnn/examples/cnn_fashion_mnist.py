"""A small CNN on Fashion-MNIST instead of the MLP.

    python -m fastnn.examples.cnn_fashion_mnist [--epochs 5] [--plot curves.png]

fastnn.models.cnn: Conv2d(1, 16, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(16, 32, 3, padding=1),
ReLU, MaxPool2d(2), Flatten, Linear(32 * 7 * 7, 10) -- convolutions are im2col + the GEMM kernel.
Trained with the same d2l loop as the softmax regression (fastnn.training.fit), Adam by default.
"""

import argparse

import fastnn
from fastnn import models, nn
from fastnn.__main__ import OPTIMIZERS, make_optimizer
from fastnn.datasets import FashionMNIST
from fastnn.training import fit
from fastnn.utils import data


def main(argv=None):
    parser = argparse.ArgumentParser(description="a small CNN on Fashion-MNIST")
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

    net = models.cnn(10)
    optimizer = make_optimizer(args.optimizer, net.parameters(), args.lr)
    print(
        f"CNN on Fashion-MNIST: {sum(p.numel() for p in net.parameters())} parameters, "
        f"{type(optimizer).__name__} lr={optimizer.param_groups[0]['lr']:g}, batch "
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
