"""The autograd primitives: each a ``Function`` with forward and backward side by side.
Tensor methods and ``nn.functional`` compose these."""
