"""The d2l book's autograd example and linear-regression programs on fastnn with only the
imports changed (``import fastnn as torch``)."""

import pytest

import fastnn as torch
from fastnn import nn


def synthetic_data(w, b, num_examples):
    """生成y=Xw+b+噪声 (d2l, verbatim)"""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def test_seed_000_autograd_example():
    """The d2l autograd example: y = 2 x.x for x = arange(4) gives x.grad = 4x."""
    x = torch.arange(4.0)
    x.requires_grad_(True)
    assert x.grad is None
    y = 2 * torch.dot(x, x)
    y.backward()
    assert x.grad.tolist() == [0.0, 4.0, 8.0, 12.0]
    assert (x.grad == 4 * x).tolist() == [True] * 4


def test_seed_000_linear_regression_from_scratch():
    """The same regression with a plain batch iterator, F.linear and SGD by hand."""
    torch.manual_seed(0)
    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)

    def data_iter(batch_size, features, labels):
        order = torch.randperm(len(features))
        for i in range(0, len(features), batch_size):
            j = order[i : i + batch_size]
            yield features[j], labels[j]

    w = torch.normal(0, 0.01, size=(1, 2)).requires_grad_(True)
    b = torch.zeros(1, requires_grad=True)
    lr, batch_size = 0.03, 10
    F = nn.functional
    for _epoch in range(3):
        for X, y in data_iter(batch_size, features, labels):
            l = F.mse_loss(F.linear(X, w, b), y)
            l.backward()
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
                w.grad = None
                b.grad = None
    l = F.mse_loss(F.linear(features, w, b), labels)
    print(f"loss {l:f}")
    assert l.item() < 2e-4
    assert abs(w[0, 0].item() - 2) < 0.01 and abs(w[0, 1].item() + 3.4) < 0.01
    assert abs(b.item() - 4.2) < 0.01


def test_seed_000_linear_regression_program():
    """The d2l concise linear regression, verbatim but for the imports."""
    if not (hasattr(nn, "Linear") and hasattr(torch, "optim") and hasattr(torch, "utils")):
        pytest.skip("needs fastnn.nn layers, fastnn.optim and fastnn.utils.data (other branches)")
    from fastnn.utils import data

    torch.manual_seed(0)
    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)

    def load_array(data_arrays, batch_size, is_train=True):
        """构造一个PyTorch数据迭代器"""
        dataset = data.TensorDataset(*data_arrays)
        return data.DataLoader(dataset, batch_size, shuffle=is_train)

    batch_size = 10
    data_iter = load_array((features, labels), batch_size)
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)
    num_epochs = 3
    for epoch in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)
        print(f"epoch {epoch + 1}, loss {l:f}")
    assert l.item() < 2e-4
    w, b = net[0].weight.data, net[0].bias.data
    assert abs(w[0, 0].item() - 2) < 0.01 and abs(w[0, 1].item() + 3.4) < 0.01
    assert abs(b.item() - 4.2) < 0.01
