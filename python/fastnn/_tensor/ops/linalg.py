"""Matrix products on the GEMM kernel: the backward passes are GEMMs with transpose flags (the
kernel reads the operands transposed in place; no transposed copies are made)."""

from ...autograd.function import Function


class MatMul(Function):
    """a @ b for 2-D (m,k)@(k,n) or batched 3-D (B,m,k)@(B,k,n) operands."""

    save_inputs = True
    plain_op = "matmul"

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.be.matmul(a, b)

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        return (
            be.matmul(g, self.b, trans_b=True) if n[0] else None,  # dA = G B^T
            be.matmul(self.a, g, trans_a=True) if n[1] else None,
        )  # dB = A^T G
