"""The example programs' models, built from fastnn.nn: softmax regression, the MLP and a small
CNN."""

from . import nn


def softmax_regression(num_inputs=784, num_classes=10):
    """The d2l softmax regression: Flatten + Linear(784, 10), weights drawn from normal(0, 0.01),
    zero bias."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_classes))
    nn.init.normal_(net[1].weight, std=0.01)
    nn.init.zeros_(net[1].bias)
    return net


def mlp(num_inputs=784, hidden=256, num_classes=10, dropout=0.0):
    """The MNIST MLP: 784-256-10 with ReLU (and Dropout after the hidden layer when dropout > 0)."""
    layers = [nn.Flatten(), nn.Linear(num_inputs, hidden), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, num_classes))
    return nn.Sequential(*layers)


def cnn(num_classes=10):
    """A small CNN: two 3x3 conv + 2x2 max-pool stages, then a linear classifier."""
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, num_classes),
    )


MODELS = {"softmax": softmax_regression, "mlp": mlp, "cnn": cnn}
