"""The documents' programs on fastnn, each runnable as ``python -m fastnn.examples.<name>``.

    linear_regression     seed 000: y = Xw + b + noise, nn.Linear(2, 1), MSE, SGD (3 epochs)
    softmax_regression    seed 000: Flatten + Linear(784, 10) on Fashion-MNIST, d2l training loop
    feedforward_by_hand   seed 001: the 2-3-1 sigmoid forward pass; fitting y = 3x by finite
                          differences (numpy) and by autograd (fastnn)
    backprop_by_hand      seed 003: the worked chain-rule example, checked against autograd
    optimizers_mnist      seeds 002/004: MLP 784-256-10 on MNIST (50000/10000/10000), SGD vs
                          Momentum vs AdaGrad vs RMSProp vs Adam, and a learning-rate sweep
    cnn_fashion_mnist     seed 004's next step: a small CNN (Conv2d + MaxPool2d) on Fashion-MNIST

Each module has ``main(argv=None)``, which parses the options (``--help`` lists them), prints what
the document prints and returns the figures it printed, so tests can run small versions.
"""
