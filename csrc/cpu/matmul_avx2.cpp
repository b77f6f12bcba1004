// matmul_avx2: SIMD unit (see [note: ISA units] in CMakeLists.txt); to be written
