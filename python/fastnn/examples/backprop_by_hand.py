"""Backpropagation worked by the chain rule on a small sigmoid network.

    python -m fastnn.examples.backprop_by_hand [--lr 0.5]

The network of the classic worked example:
inputs i1 = 0.05, i2 = 0.10; targets 0.01, 0.99; hidden h1, h2 and outputs o1, o2 all sigmoid,

    net_h1 = w1 i1 + w2 i2 + b1    net_h2 = w3 i1 + w4 i2 + b1         (w1..w4 = .15 .20 .25 .30)
    net_o1 = w5 out_h1 + w6 out_h2 + b2                                (w5..w8 = .40 .45 .50 .55)
    net_o2 = w7 out_h1 + w8 out_h2 + b2                                (b1 = .35, b2 = .60)
    E_total = E_o1 + E_o2 = 1/2 (target_o1 - out_o1)^2 + 1/2 (target_o2 - out_o2)^2

so dE_total/dout_o1 = -(target_o1 - out_o1), as in the worked example. For every weight the
program prints the chain-rule factors, their product, and fastnn autograd's gradient of the same
network (float64) next to it; then one gradient-descent step (``zero_grad / backward / step``
with optim.SGD) and the same step by hand.
"""

import argparse
import math

import fastnn as torch

I = (0.05, 0.10)
TARGET = (0.01, 0.99)
W_HIDDEN = ((0.15, 0.20), (0.25, 0.30))  # [[w1, w2], [w3, w4]]: row j feeds hidden unit j
W_OUT = ((0.40, 0.45), (0.50, 0.55))  # [[w5, w6], [w7, w8]]: row k feeds output unit k
B1, B2 = 0.35, 0.60


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def forward_by_hand(w_hidden, w_out):
    net_h = [w_hidden[j][0] * I[0] + w_hidden[j][1] * I[1] + B1 for j in range(2)]
    out_h = [sigmoid(v) for v in net_h]
    net_o = [w_out[k][0] * out_h[0] + w_out[k][1] * out_h[1] + B2 for k in range(2)]
    out_o = [sigmoid(v) for v in net_o]
    e = [0.5 * (TARGET[k] - out_o[k]) ** 2 for k in range(2)]
    return net_h, out_h, net_o, out_o, e


def forward_autograd(w_hidden, w_out):
    i = torch.tensor(I, dtype=torch.float64)
    target = torch.tensor(TARGET, dtype=torch.float64)
    out_h = (w_hidden @ i + B1).sigmoid()
    out_o = (w_out @ out_h + B2).sigmoid()
    return (0.5 * (target - out_o) ** 2).sum()


def main(argv=None):
    parser = argparse.ArgumentParser(description="backpropagation by the chain rule")
    parser.add_argument("--lr", type=float, default=0.5, help="gradient-descent step size")
    args = parser.parse_args(argv)

    net_h, out_h, net_o, out_o, e = forward_by_hand(W_HIDDEN, W_OUT)
    e_total = sum(e)
    print("== forward pass ==")
    for j in range(2):
        print(f"net_h{j + 1} = {net_h[j]:.9f}   out_h{j + 1} = {out_h[j]:.9f}")
    for k in range(2):
        print(
            f"net_o{k + 1} = {net_o[k]:.9f}   out_o{k + 1} = {out_o[k]:.9f}   "
            f"E_o{k + 1} = {e[k]:.9f}"
        )
    print(f"E_total = {e_total:.9f}")

    w_hidden = torch.tensor(W_HIDDEN, dtype=torch.float64, requires_grad=True)
    w_out = torch.tensor(W_OUT, dtype=torch.float64, requires_grad=True)
    e_autograd = forward_autograd(w_hidden, w_out)
    e_autograd.backward()
    assert abs(e_autograd.item() - e_total) < 1e-12, (e_autograd.item(), e_total)
    g_hidden, g_out = w_hidden.grad.tolist(), w_out.grad.tolist()

    grads, max_diff = {}, 0.0
    print("\n== output layer: dE/dw = dE/dout_o * dout_o/dnet_o * dnet_o/dw ==")
    delta_o = []
    for k in range(2):
        de_dout = -(TARGET[k] - out_o[k])
        dout_dnet = out_o[k] * (1 - out_o[k])
        delta_o.append(de_dout * dout_dnet)
        for j in range(2):
            name = f"w{5 + 2 * k + j}"
            dnet_dw = out_h[j]
            g = de_dout * dout_dnet * dnet_dw
            max_diff = max(max_diff, abs(g - g_out[k][j]))
            grads[name] = g
            print(
                f"dE/d{name} = {de_dout:.9f} * {dout_dnet:.9f} * {dnet_dw:.9f} = {g:.9f}"
                f"   autograd {g_out[k][j]:.9f}"
            )

    print(
        "\n== hidden layer: dE/dw = (sum_o dE/dnet_o * dnet_o/dout_h) * dout_h/dnet_h * "
        "dnet_h/dw =="
    )
    for j in range(2):
        de_dout_h = sum(delta_o[k] * W_OUT[k][j] for k in range(2))
        dout_dnet = out_h[j] * (1 - out_h[j])
        for i in range(2):
            name = f"w{1 + 2 * j + i}"
            dnet_dw = I[i]
            g = de_dout_h * dout_dnet * dnet_dw
            max_diff = max(max_diff, abs(g - g_hidden[j][i]))
            grads[name] = g
            print(
                f"dE/d{name} = {de_dout_h:.9f} * {dout_dnet:.9f} * {dnet_dw:.2f} = {g:.9f}"
                f"   autograd {g_hidden[j][i]:.9f}"
            )
    print(f"largest |chain rule - autograd| = {max_diff:.1e}")
    assert max_diff < 1e-12, max_diff

    print(f"\n== one step of gradient descent, lr {args.lr}: w <- w - lr * dE/dw ==")
    optimizer = torch.optim.SGD([w_hidden, w_out], lr=args.lr)
    optimizer.zero_grad()
    forward_autograd(w_hidden, w_out).backward()
    optimizer.step()
    new = {}
    for name, w_new in zip(("w1", "w2", "w3", "w4"), w_hidden.detach().reshape(-1).tolist()):
        new[name] = w_new
    for name, w_new in zip(("w5", "w6", "w7", "w8"), w_out.detach().reshape(-1).tolist()):
        new[name] = w_new
    old = [w for row in W_HIDDEN + W_OUT for w in row]
    for n, name in enumerate(sorted(new, key=lambda s: int(s[1:]))):
        by_hand = old[n] - args.lr * grads[name]
        assert abs(by_hand - new[name]) < 1e-12, (name, by_hand, new[name])
        print(f"{name}: {old[n]:.2f} -> {new[name]:.9f}   (by hand {by_hand:.9f})")
    e_after = forward_autograd(w_hidden.detach(), w_out.detach()).item()
    print(f"E_total after the step = {e_after:.9f} (before {e_total:.9f})")
    return {
        "E_total": e_total,
        "grads": grads,
        "autograd_max_diff": max_diff,
        "new_weights": new,
        "E_total_after": e_after,
    }


if __name__ == "__main__":
    main()
