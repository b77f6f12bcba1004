"""Classic small training programs on fastnn, each runnable as
``python -m fastnn.examples.<name>``.

    linear_regression     the d2l book's linear regression: y = Xw + b + noise, nn.Linear(2, 1),
                          MSE, SGD (3 epochs)
    softmax_regression    the d2l book's softmax regression: Flatten + Linear(784, 10) on
                          Fashion-MNIST, d2l training loop
    feedforward_by_hand   a hand-written 2-3-1 sigmoid forward pass; fitting y = 3x by finite
                          differences (numpy) and by autograd (fastnn)
    backprop_by_hand      backpropagation worked by the chain rule on a small sigmoid network,
                          checked against autograd
    optimizers_mnist      the MNIST pipeline (50000/10000/10000 split, asynchronous loading), an
                          MLP 784-256-10 with dropout, SGD vs Momentum vs AdaGrad vs RMSProp vs
                          Adam, and a learning-rate sweep
    cnn_fashion_mnist     a small CNN (Conv2d + MaxPool2d) on Fashion-MNIST instead of the MLP

Each module has ``main(argv=None)``, which parses the options (``--help`` lists them), prints what
the original program prints and returns the figures it printed, so tests can run small versions.
"""
