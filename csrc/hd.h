// FASTNN_HD marks the scalar functions that host and device share: `__host__ __device__`
// under nvcc, nothing in host compilers. The one definition, included by every such header.
#pragma once

#ifdef __CUDACC__
#define FASTNN_HD __host__ __device__
#else
#define FASTNN_HD
#endif
