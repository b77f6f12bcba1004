// softmax_xent: CPU kernels (to be written)
