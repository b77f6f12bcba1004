"""Matrix products on the GEMM kernel: the backward passes are GEMMs with transpose flags (the
kernel reads the operands transposed in place; no transposed copies are made)."""

from ...autograd.function import Function
from .complex import conj


def _swapped(be, r):
    """r with its last two axes swapped (a view on the CPU)."""
    n = r.ndim
    return be.permute(r, (*range(n - 2), n - 1, n - 2))


class MatMul(Function):
    """a @ b for 2-D (m,k)@(k,n) or batched 3-D (B,m,k)@(B,k,n) operands."""

    double_backward = True
    save_inputs = True
    plain_op = "matmul"
    torch_name = "Mm"

    def forward(self, a, b):
        self.a, self.b = a, b
        if a.ndim == 3:
            self.torch_name = "Bmm"
        return self.be.matmul(a, b)

    def backward(self, g):
        # Where an operand is a transposed view (x @ w.T, q @ k.transpose(-2, -1)), its gradient
        # is made transposed and swapped back, so that the transpose's backward returns a
        # contiguous array where it would return a strided view, copied when it becomes a
        # leaf's .grad (160 us of a 2.5 ms attention step).
        be, n, a, b = self.be, self.needs_input_grad, self.a, self.b
        if a.dtype.kind == "c":  # dA = G B^H, dB = A^H G
            a, b = conj(a), conj(b)
        da = db = None
        if n[0]:  # dA = G B^T, dA^T = B G^T
            if be.is_transposed(a):
                da = _swapped(be, be.matmul(b, g, trans_b=True))
            else:
                da = be.matmul(g, b, trans_b=True)
        if n[1]:  # dB = A^T G, dB^T = G^T A
            if be.is_transposed(b):
                db = _swapped(be, be.matmul(g, a, trans_a=True))
            else:
                db = be.matmul(a, g, trans_a=True)
        return da, db
