"""fastnn's command line.

python -m fastnn train                 # d2l softmax regression on Fashion-MNIST
python -m fastnn train --model mlp --dataset mnist --optimizer adam --epochs 10
python -m fastnn config                # version, SIMD path, threads, CUDA
mpiexec -n 4 python -m fastnn train --model cnn --dataset mnist   # data-parallel on 4 processes
"""

import argparse
import sys

OPTIMIZERS = {  # name -> (class name, default lr, extra keyword arguments)
    "sgd": ("SGD", 0.1, {}),
    "momentum": ("SGD", 0.05, {"momentum": 0.9}),
    "adagrad": ("Adagrad", 0.05, {}),
    "rmsprop": ("RMSprop", 0.001, {}),
    "adam": ("Adam", 0.001, {}),
}
DATASETS = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}


def make_optimizer(name, params, lr=None):
    """The optimizer `name` of OPTIMIZERS, with its default learning rate unless lr is given."""
    from . import optim

    cls, default_lr, extra = OPTIMIZERS[name]
    return getattr(optim, cls)(params, lr=default_lr if lr is None else lr, **extra)


def load_data(dataset, batch_size, *, root=None, workers=0, seed=0, subset=0, shard=None):
    """(train_loader, test_loader) for 'mnist' or 'fashion-mnist'. ``subset``: only the first
    that many training samples. ``shard``: (world_size, rank) of a data-parallel job: the train
    loader reads this rank's share, ``batch_size`` samples a step."""
    from . import datasets
    from .utils import data

    cls = getattr(datasets, DATASETS[dataset])
    train, test = cls(root=root, train=True), cls(root=root, train=False)
    if subset:
        train = data.Subset(train, list(range(min(subset, len(train)))))
    if shard is None:
        train_loader = data.DataLoader(
            train, batch_size, shuffle=True, num_workers=workers, seed=seed
        )
    else:
        sampler = data.DistributedSampler(
            train, num_replicas=shard[0], rank=shard[1], shuffle=True, seed=seed, drop_last=True
        )
        train_loader = data.DataLoader(
            train, batch_size, sampler=sampler, drop_last=True, num_workers=workers
        )
    return train_loader, data.DataLoader(test, batch_size, shuffle=False, num_workers=workers)


def train(args):
    import fastnn

    from . import distributed, models, nn
    from .distributed import launch
    from .training import fit

    world, rank = 1, 0
    if args.distributed or launch.launched_by_mpi():
        distributed.init_process_group(backend="mpi")
        world, rank = distributed.get_world_size(), distributed.get_rank()
    lead = rank == 0  # logs, evaluates and saves; the others only train
    if args.threads:
        fastnn.set_num_threads(args.threads)
    fastnn.manual_seed(args.seed)
    train_iter, test_iter = load_data(
        args.dataset,
        launch.local_batch_size(args.batch_size, world) if world > 1 else args.batch_size,
        root=args.data_root,
        workers=args.workers,
        seed=args.seed,
        subset=args.subset,
        shard=(world, rank) if world > 1 else None,
    )
    kwargs = {"hidden": args.hidden, "dropout": args.dropout} if args.model == "mlp" else {}
    model = models.MODELS[args.model](**kwargs).to(args.device)
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    optimizer = make_optimizer(args.optimizer, net.parameters(), args.lr)
    if lead:
        print(
            f"{args.model} on {args.dataset}: {sum(p.numel() for p in net.parameters())} "
            f"parameters, {type(optimizer).__name__} lr={optimizer.param_groups[0]['lr']}, "
            f"batch {args.batch_size}, {args.epochs} epochs, on {args.device} "
            f"({fastnn.get_num_threads()} CPU threads"
            + (f", {world} processes of batch {args.batch_size // world})" if world > 1 else ")")
        )
    history = fit(
        net,
        train_iter,
        test_iter if lead else None,
        nn.CrossEntropyLoss(),
        args.epochs,
        optimizer,
        progress=lead and not args.no_progress,
        plot=args.plot if lead else None,
        log=print if lead else None,
        world_size=world,
    )
    if lead and args.plot:
        print(f"curves saved to {args.plot}")
    if lead and args.save:  # the bare model's state_dict: it loads in a single process too
        fastnn.save(model.state_dict(), args.save)
        print(f"model saved to {args.save}")
    return history


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m fastnn",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train a model on MNIST or Fashion-MNIST")
    p.add_argument("--model", choices=["softmax", "mlp", "cnn"], default="softmax")
    p.add_argument("--dataset", choices=list(DATASETS), default="fashion-mnist")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default="sgd")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: per optimizer)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument(
        "--batch-size", type=int, default=256, help="the global batch (split over processes)"
    )
    p.add_argument("--hidden", type=int, default=256, help="MLP hidden units")
    p.add_argument("--dropout", type=float, default=0.0, help="MLP dropout probability")
    p.add_argument("--workers", type=int, default=0, help="background batch-loading threads")
    p.add_argument("--device", default="cpu", help="cpu or cuda (batches move to the model)")
    p.add_argument("--threads", type=int, default=0, help="kernel threads (default: all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--data-root",
        default=None,
        help="folder with mnist/ and fashion-mnist/ "
        "(default: $FASTNN_DATA, else ~/.cache/fastnn/data)",
    )
    p.add_argument("--plot", metavar="PNG", help="save the training curves here")
    p.add_argument("--save", metavar="PATH", help="save the trained state_dict here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--subset", type=int, default=0, metavar="N", help="train on the first N samples only"
    )
    p.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over MPI (implied when started by mpiexec with more than 1 process)",
    )
    sub.add_parser("config", help="print the build and run-time configuration")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "config":
        import fastnn

        fastnn.show_config()
    elif args.command == "train":
        train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
