// Fresh output arrays for the CPU kernels, with large buffers recycled.
//
// A training step allocates and frees the same large activations and gradients every step; the
// C library hands big blocks back to the OS on free and gets fresh ones on the next request, and
// every fresh page is a page fault that the kernel zero-fills (a fifth of a small CNN's step). So
// buffers of at least 1 MiB that fastnn's kernels return are drawn from a small cache of recently
// freed ones (at most 256 MiB and 32 buffers; the oldest is released first). Importing fastnn also
// has glibc keep freed blocks under 32 MiB (cpu/heap.h), which covers every array numpy makes;
// this cache is what keeps the bigger ones, which glibc always maps afresh, and it is the only
// reuse where the user keeps glibc's own policy.
#pragma once
#include <pybind11/numpy.h>

#include <initializer_list>
#include <vector>

namespace fastnn::bind {

// An uninitialised C-contiguous array of dtype dt and the given shape. Its memory is owned by the
// array (the base is a capsule that returns the buffer to the cache when the array dies).
pybind11::array cached_empty(const pybind11::dtype& dt,
                             const std::vector<pybind11::ssize_t>& shape);

// The output of an element-wise kernel: for out=None a fresh array like `like` (cached_empty);
// else `out`, which must match `like` in dtype and shape, be contiguous and writeable, and either
// be one of `inputs` exactly (in place) or not overlap them. Errors name `fn`.
pybind11::array output_for(pybind11::handle out_obj, const pybind11::array& like,
                           std::initializer_list<pybind11::array> inputs, const char* fn);

}  // namespace fastnn::bind
