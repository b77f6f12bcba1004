// Depthwise conv2d's per-plane loops (cpu/conv_depthwise_planes.h) on 64-byte vectors of
// float, for AVX-512; cpu/conv_depthwise.cpp picks this unit at run time.
#define FASTNN_VEC_NS avx512
#include "cpu/conv_depthwise_planes.h"

namespace fastnn {
namespace avx512 {
const DepthwiseLoops kDepthwiseLoops = loops<64>();
}  // namespace avx512
}  // namespace fastnn
