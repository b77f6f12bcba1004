// Device discovery for fastnn._cuda. Never throws for a missing driver or GPU: is_available()
// answers false, so `fastnn.cuda.is_available()` is safe on any machine.
#include <cuda_runtime.h>

#include "cuda/fastnn_cuda.h"

namespace fastnn::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" / "no device" error
    return 0;
  }
  return n;
}

}  // namespace fastnn::cuda
