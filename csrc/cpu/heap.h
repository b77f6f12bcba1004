// How the C library's allocator treats the big blocks that hold tensors.
//
// A training step allocates and frees the same few MiB-sized activations and gradients every
// time. glibc, left to itself, hands the top of its heap back to the kernel whenever more than
// M_TRIM_THRESHOLD bytes there are free, and serves blocks above M_MMAP_THRESHOLD with a fresh
// mapping that is unmapped on free. Both thresholds move with the sizes freed so far, so a mix
// of sizes keeps crossing them: the next step's arrays are then page-faulted in and zeroed by
// the kernel again, which took a tenth of a small CNN's training CPU time. Fixing both
// thresholds keeps freed blocks up to 32 MiB in the process for reuse; the heap never grows
// past what the program once had in use at the same time.
#pragma once

namespace fastnn {

struct HeapPolicy {
  bool keeps_freed = false;  // fastnn set the thresholds below
  const char* reason = "";   // why not, when it did not
  long trim_threshold = 0;   // bytes free at the heap's top before glibc returns them
  long mmap_threshold = 0;   // blocks at least this big get their own mapping
};

// Applies the policy once per process (the first call decides) unless the user configured the
// allocator through glibc's environment (MALLOC_*_ variables or GLIBC_TUNABLES) or the C library
// is not glibc; either way it returns what holds.
const HeapPolicy& keep_freed_memory();

}  // namespace fastnn
