// matmul_avx512: SIMD unit (see [note: ISA units] in CMakeLists.txt); to be written
