// optim: CPU kernels (to be written)
