"""Matrix products on the GEMM kernel: the backward passes are GEMMs with transpose flags (the
kernel reads the operands transposed in place; no transposed copies are made)."""

from ..autograd.function import Function


class MatMul(Function):
    """a @ b for 2-D (m,k)@(k,n) or batched 3-D (B,m,k)@(B,k,n) operands."""

    save_inputs = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.be.matmul(a, b)

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        return (be.matmul(g, self.b, trans_b=True) if n[0] else None,  # dA = G B^T
                be.matmul(self.a, g, trans_a=True) if n[1] else None)  # dB = A^T G


class Linear(Function):
    """y = x W^T + b as ONE GEMM with the bias fused; x (N, in), W (out, in), b (out,).
    Backward: dx = G W, dW = G^T x (GEMMs with flags) and db = column sums of G."""

    save_inputs = True

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        return self.be.matmul(x, w, trans_b=True, bias=b)

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        gx = be.matmul(g, self.w) if n[0] else None
        gw = be.matmul(g, self.x, trans_a=True) if n[1] else None
        if len(n) == 2:
            return gx, gw
        return gx, gw, (be.sum(g, axis=0) if n[2] else None)
