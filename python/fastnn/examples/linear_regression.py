"""The d2l book's linear regression, verbatim but for the imports (``import fastnn as torch``).

    python -m fastnn.examples.linear_regression
    epoch 1, loss 0.000226
    ...
    error in estimating w: tensor([...])
    error in estimating b: tensor([...])

Only the book's concise version (nn.Linear + optim.SGD) is reproduced here.
"""

import argparse

import fastnn as torch
from fastnn import nn
from fastnn.utils import data


def synthetic_data(w, b, num_examples):
    """生成y=Xw+b+噪声"""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def load_array(data_arrays, batch_size, is_train=True):
    """构造一个PyTorch数据迭代器"""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def main(argv=None):
    parser = argparse.ArgumentParser(description="d2l linear regression with nn.Linear")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)

    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)

    batch_size = 10
    data_iter = load_array((features, labels), batch_size)
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)

    num_epochs = args.epochs
    for epoch in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)
        print(f"epoch {epoch + 1}, loss {l:f}")

    w = net[0].weight.data
    print("error in estimating w:", true_w - w.reshape(true_w.shape))
    b = net[0].bias.data
    print("error in estimating b:", true_b - b)
    return {"loss": l.item(), "w": w.reshape(-1).tolist(), "b": b.item()}


if __name__ == "__main__":
    main()
