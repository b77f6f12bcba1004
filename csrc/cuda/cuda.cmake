# The optional CUDA module fastnn._cuda, included from the top-level CMakeLists.txt once the
# CUDA language is enabled. It is a separate extension so `import fastnn` never loads libcudart.
find_package(CUDAToolkit REQUIRED)
set(FASTNN_CUDA_SOURCES
  csrc/cuda/runtime.cu
)
set(FASTNN_CUDA_BINDING_SOURCES
  csrc/bindings/cuda_module.cpp
)
python_add_library(_cuda MODULE ${FASTNN_CUDA_SOURCES} ${FASTNN_CUDA_BINDING_SOURCES} WITH_SOABI)
target_include_directories(_cuda PRIVATE csrc)
target_link_libraries(_cuda PRIVATE pybind11::headers CUDA::cudart_static)
set_target_properties(_cuda PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
target_compile_options(_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr>)
if(SKBUILD_PROJECT_NAME)
  install(TARGETS _cuda DESTINATION fastnn)
else()
  set_target_properties(_cuda PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_SOURCE_DIR}/python/fastnn)
endif()
