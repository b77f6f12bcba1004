"""Dropout as one autograd primitive: the forward draws the mask, scales and multiplies in one
kernel pass (``be.dropout``, Philox keyed by one draw from fastnn's generator) and keeps the uint8
mask only when recording, for a backward that is one more pass (``be.dropout_backward``)."""

from ...autograd.function import Function


class Dropout(Function):
    torch_name = "Mul"  # torch's training-mode dropout records the mask product

    def forward(self, x, p):
        y, mask = self.be.dropout(x, p)
        if self.requires_grad:
            self.mask, self.p = mask, p
        return y

    def backward(self, g):
        return self.be.dropout_backward(g, self.mask, self.p)
