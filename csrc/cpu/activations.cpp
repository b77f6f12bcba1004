// activations: CPU kernels (to be written)
