# The optional CUDA module fastnn._cuda, included from the top-level CMakeLists.txt once the
# CUDA language is enabled. It is a separate extension so `import fastnn` never loads libcudart.
# Kernels (csrc/cuda/*.cu, nvcc) are kept apart from the pybind11 glue (csrc/bindings/cuda_*.cpp,
# host compiler); the glue sees only the plain-C++ header csrc/cuda/fastnn_cuda.h.
find_package(CUDAToolkit REQUIRED)
set(FASTNN_CUDA_SOURCES
  csrc/cuda/runtime.cu
  csrc/cuda/memory.cu
  csrc/cuda/elementwise.cu
  csrc/cuda/activations.cu
  csrc/cuda/softmax.cu
  csrc/cuda/reduce.cu
  csrc/cuda/softmax_cross_entropy.cu
  csrc/cuda/target_error.cu
  csrc/cuda/binary_cross_entropy_with_logits.cu
  csrc/cuda/optim.cu
  csrc/cuda/matmul.cu
  csrc/cuda/random.cu
  csrc/cuda/dropout.cu
  csrc/cuda/batch_norm.cu
  csrc/cuda/layer_norm.cu
  csrc/cuda/rnn.cu
  csrc/cuda/pinned.cu
  csrc/cuda/stream.cu
  csrc/cuda/graph.cu
  csrc/cuda/indexing.cu
  csrc/cuda/creation.cu
  csrc/cuda/int_matmul.cu
  csrc/cuda/conv.cu
  csrc/cuda/pool.cu
)
set(FASTNN_CUDA_BINDING_SOURCES
  csrc/bindings/cuda_module.cpp
  csrc/bindings/cuda_array.cpp
  csrc/bindings/cuda_dlpack.cpp
  csrc/bindings/cuda_ops.cpp
  csrc/bindings/cuda_nn.cpp
  csrc/bindings/cuda_normalization.cpp
  csrc/bindings/cuda_rnn.cpp
  csrc/bindings/cuda_index.cpp
  csrc/bindings/cuda_pinned.cpp
  csrc/bindings/cuda_stream.cpp
  csrc/bindings/cuda_target_error.cpp
  csrc/bindings/cuda_indexing.cpp
  csrc/bindings/cuda_conv.cpp
)
python_add_library(_cuda MODULE ${FASTNN_CUDA_SOURCES} ${FASTNN_CUDA_BINDING_SOURCES} WITH_SOABI)
target_include_directories(_cuda PRIVATE csrc)
target_link_libraries(_cuda PRIVATE pybind11::headers CUDA::cudart_static)
set_target_properties(_cuda PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
# No --use_fast_math (IEEE exp/log/div, like the CPU kernels); -lineinfo costs nothing at run time
# and makes compute-sanitizer reports readable.
target_compile_options(_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo>
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
if(SKBUILD_PROJECT_NAME)
  install(TARGETS _cuda DESTINATION fastnn)
else()
  set_target_properties(_cuda PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_SOURCE_DIR}/python/fastnn)
endif()
