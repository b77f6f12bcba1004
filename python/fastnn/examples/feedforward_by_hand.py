"""A hand-written 2-3-1 sigmoid network: a forward pass by hand, then fitting y = 3x by finite
differences and by autograd.

    python -m fastnn.examples.feedforward_by_hand

The numbers come from the hand-worked example this program reproduces (marked ``text:`` in the
output).

1. The example's 2-3-1 network: input (1, 1), target 0, hidden weights (0.8, 0.2), (0.4, 0.9),
   (0.3, 0.5), sigmoid hidden layer, output weights (0.3, 0.5, 0.9), no biases. The example gets
   hidden values 1, 1.3, 0.8 -> sigmoid 0.73, 0.79, 0.69 -> output 1.235 -> squared error 1.52
   (with its rounded hidden values; unrounded: 1.2332 and 1.5208). Computed with the example's numpy
   ``feed_forward`` and again with fastnn layers.
2. The example's ``update_weights``: nudge each parameter by 1e-4, measure the change of the loss,
   step by lr 0.01; 1000 epochs from w = 2.269, b = 1.01 reach w ~ 3.0, b ~ 0.0. The example prints
   [[[2.99929065]] [[0.00478785]]]; its program as printed gives 2.99933652 / 0.00445517 (its
   starting values were presumably rounded for print). Then the same fit with fastnn autograd:
   nn.Linear(1, 1), MSELoss, optim.SGD(lr=0.01), full batch, 1000 epochs.
"""

import argparse
from copy import deepcopy

import numpy as np

import fastnn as torch
from fastnn import nn


def feed_forward_2_3_1(inputs, outputs, weights):
    """The example's first feed_forward (its ``out`` is named pred_out where it is used)."""
    pre_hidden = np.dot(inputs, weights[0]) + weights[1]
    hidden = 1 / (1 + np.exp(-pre_hidden))
    pred_out = np.dot(hidden, weights[2]) + weights[3]
    squared_error = np.square(pred_out - outputs)
    return squared_error, pre_hidden, hidden, pred_out


def feed_forward(inputs, outputs, weights):
    out = np.dot(inputs, weights[0]) + weights[1]
    squared_error = np.square(out - outputs)
    return squared_error


def update_weights(inputs, outputs, weights, epochs, lr=0.01):
    for _epoch in range(epochs):
        org_loss = feed_forward(inputs, outputs, weights)
        wts_tmp = deepcopy(weights)
        wts_tmp2 = deepcopy(weights)
        for ix, _wt in enumerate(weights):
            wts_tmp[ix] += 0.0001
            loss = feed_forward(inputs, outputs, wts_tmp)
            del_loss = np.sum(org_loss - loss) / (0.0001 * len(inputs))
            wts_tmp2[ix] += del_loss * lr
            wts_tmp = deepcopy(weights)
        weights = deepcopy(wts_tmp2)
    return wts_tmp2


def forward_pass():
    print("== forward pass of the 2-3-1 network (input (1, 1), target 0) ==")
    inputs = np.array([[1.0, 1.0]])
    outputs = np.array([[0.0]])
    weights = [
        np.array(
            [
                [0.8, 0.4, 0.3],  # row i: input i -> hidden units 1, 2, 3
                [0.2, 0.9, 0.5],
            ]
        ),
        np.zeros(3),
        np.array([[0.3], [0.5], [0.9]]),
        np.zeros(1),
    ]
    err, pre_hidden, hidden, out = feed_forward_2_3_1(inputs, outputs, weights)
    print("hidden h1, h2, h3      :", np.round(pre_hidden[0], 4), "(text: 1, 1.3, 0.8)")
    print("sigmoid(hidden)        :", np.round(hidden[0], 4), "(text: 0.73, 0.78/0.79, 0.69)")
    print(f"output                 : {out[0, 0]:.4f} (text: 1.235, from the rounded values)")
    print(f"squared error          : {err[0, 0]:.4f} (text: 1.235^2 = 1.52)")

    net = nn.Sequential(nn.Linear(2, 3, bias=False), nn.Sigmoid(), nn.Linear(3, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(weights[0].T, dtype=torch.float32))
        net[2].weight.copy_(torch.tensor(weights[2].T, dtype=torch.float32))
        t_out = net(torch.tensor(inputs, dtype=torch.float32))
        t_err = nn.MSELoss()(t_out, torch.tensor(outputs, dtype=torch.float32))
    print(f"fastnn nn.Sequential   : output {t_out.item():.4f}, squared error {t_err.item():.4f}")
    return {
        "pre_hidden": pre_hidden[0].tolist(),
        "hidden": hidden[0].tolist(),
        "output": float(out[0, 0]),
        "error": float(err[0, 0]),
        "fastnn_output": t_out.item(),
        "fastnn_error": t_err.item(),
    }


def fit_y_equals_3x(epochs, lr):
    print(f"\n== fitting y = 3x from w = 2.269, b = 1.01 ({epochs} epochs, lr {lr}) ==")
    x = np.array([[1], [3], [4], [8], [10]])
    y = np.array([[3], [9], [12], [24], [30]])
    w = np.array([[[2.269]], [[1.01]]])
    weights = update_weights(x, y, w, epochs, lr)
    print("finite differences (numpy, the text's update_weights):")
    print(weights)

    net = nn.Linear(1, 1)
    net.weight.data.fill_(2.269)
    net.bias.data.fill_(1.01)
    X, Y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for _epoch in range(epochs):
        l = loss(net(X), Y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    w_ad, b_ad = net.weight.item(), net.bias.item()
    print(
        f"autograd (fastnn nn.Linear + MSELoss + SGD): w = {w_ad:.8f}, b = {b_ad:.8f}, "
        f"loss {loss(net(X), Y).item():.3g}"
    )
    return {
        "fd_w": float(weights[0].item()),
        "fd_b": float(weights[1].item()),
        "autograd_w": w_ad,
        "autograd_b": b_ad,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description="a forward pass and y = 3x by hand")
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args(argv)
    result = forward_pass()
    result.update(fit_y_equals_3x(args.epochs, args.lr))
    return result


if __name__ == "__main__":
    main()
