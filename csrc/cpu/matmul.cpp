// matmul: CPU kernels (to be written)
