// Depthwise conv2d's per-plane loops (cpu/conv_depthwise_planes.h) on 32-byte vectors of float, for
// AVX2; cpu/conv_depthwise.cpp picks this unit at run time.
#define FASTNN_VEC_NS avx2
#include "cpu/conv_depthwise_planes.h"

namespace fastnn {
namespace avx2 {
const DepthwiseLoops kDepthwiseLoops = loops<32>();
}  // namespace avx2
}  // namespace fastnn
