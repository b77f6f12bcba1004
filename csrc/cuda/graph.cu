// CUDA graph capture and replay for fastnn.cuda.CUDAGraph, through the runtime's stream-capture
// API. While a thread captures, the allocator serves it from the graph's private pool (memory.cu)
// and every host synchronization of fastnn raises (check_no_host_sync) before it reaches the
// driver, which would otherwise invalidate the capture and report it only at its end.
#include <atomic>

#include "cuda/common.cuh"

namespace fastnn::cuda {
namespace {
thread_local bool tl_capturing = false;
thread_local cudaStream_t tl_capture_stream = nullptr;
std::atomic<int> g_global_captures{0};  // captures in global mode, on any thread
thread_local bool tl_global = false;
}  // namespace

bool is_capturing() { return tl_capturing; }

void check_no_host_sync(const char* what) {
  if (!tl_capturing && g_global_captures.load() == 0) return;
  throw std::runtime_error(str_cat(
      what, " synchronizes with the host, which is not allowed while a CUDA graph is being ",
      tl_capturing ? "captured on this thread" : "captured in global mode on another thread",
      ": the captured work has not run yet. Move it out of the captured region (capture only "
      "device work; read results after replay())."));
}

void graph_capture_begin(std::uintptr_t stream, int64_t pool, int mode) {
  const auto s = reinterpret_cast<cudaStream_t>(stream);
  FASTNN_CHECK(s != nullptr && s != cudaStreamLegacy && s != cudaStreamPerThread,
               "CUDAGraph.capture_begin: the legacy default stream cannot be captured; capture on "
               "a side stream (fastnn.cuda.graph does this for you)");
  FASTNN_CHECK(!tl_capturing, "CUDAGraph.capture_begin: this thread is already capturing a graph");
  FASTNN_CHECK(mode >= 0 && mode <= 2, "CUDAGraph.capture_begin: bad capture mode ", mode);
  const cudaStreamCaptureMode m = mode == 0   ? cudaStreamCaptureModeGlobal
                                  : mode == 1 ? cudaStreamCaptureModeThreadLocal
                                              : cudaStreamCaptureModeRelaxed;
  allocator_capture_begin(pool);
  const cudaError_t err = cudaStreamBeginCapture(s, m);
  if (err != cudaSuccess) {
    allocator_capture_end();
    FASTNN_CUDA_CHECK(err);
  }
  tl_capturing = true;
  tl_capture_stream = s;
  tl_global = mode == 0;
  if (tl_global) g_global_captures++;
}

std::uintptr_t graph_capture_end(std::uintptr_t stream) {
  const auto s = reinterpret_cast<cudaStream_t>(stream);
  FASTNN_CHECK(tl_capturing, "CUDAGraph.capture_end: this thread is not capturing a graph");
  FASTNN_CHECK(s == tl_capture_stream,
               "CUDAGraph.capture_end: called on another stream than capture_begin");
  cudaGraph_t graph = nullptr;
  const cudaError_t end_err = cudaStreamEndCapture(s, &graph);
  tl_capturing = false;
  tl_capture_stream = nullptr;
  if (tl_global) g_global_captures--;
  tl_global = false;
  allocator_capture_end();
  if (end_err != cudaSuccess) {
    if (graph != nullptr) cudaGraphDestroy(graph);
    cudaGetLastError();
    throw std::runtime_error(str_cat(
        "CUDAGraph.capture_end: the capture failed (CUDA error ", cudaGetErrorName(end_err), ": ",
        cudaGetErrorString(end_err),
        "); an operation that is not allowed during capture ran inside it, e.g. work on the legacy "
        "default stream or a synchronizing call from another library"));
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t inst_err = cudaGraphInstantiate(&exec, graph, 0ULL);
  cudaGraphDestroy(graph);  // the executable graph keeps what it needs
  FASTNN_CUDA_CHECK(inst_err);
  return reinterpret_cast<std::uintptr_t>(exec);
}

void graph_launch(std::uintptr_t exec, std::uintptr_t stream) {
  FASTNN_CHECK(exec != 0, "CUDAGraph.replay: the graph has not been captured");
  FASTNN_CUDA_CHECK(cudaGraphLaunch(reinterpret_cast<cudaGraphExec_t>(exec),
                                    reinterpret_cast<cudaStream_t>(stream)));
}

void graph_destroy(std::uintptr_t exec) noexcept {
  if (exec == 0) return;
  if (cudaGraphExecDestroy(reinterpret_cast<cudaGraphExec_t>(exec)) != cudaSuccess)
    cudaGetLastError();
}

}  // namespace fastnn::cuda
