// Deferred reporting of out-of-range class targets found on the device (plain C++: included by
// the kernels and by the bindings).
//
// [note: deferred target check] Checking cross-entropy targets on the host would read them back
// and synchronize inside every training step. Instead the kernel that validates them writes the
// first bad target (the lowest row, as the CPU check reports) into a record in page-locked host
// memory mapped into the device, and the host looks at that record -- a plain memory read, no
// CUDA call -- at the next natural synchronization:
//   - the next device-to-host copy (DeviceArray.numpy(), so Tensor.item() / .numpy() / .tolist()),
//   - fastnn.cuda.synchronize(),
//   - the start of the next softmax_cross_entropy call (before it launches anything),
// whichever comes first after the kernel has run. There it raises TargetIndexError, a subclass of
// both IndexError and ValueError, with F.cross_entropy's message on the CPU ("Target is out of
// bounds: " and the CPU kernel's: the row, the bad label, the class count), and clears the
// record. Until then the bad row counts for nothing (loss 0, gradient 0,
// left out of the 'mean' denominator). A copy that does not wait for the kernel (another stream)
// may run before the record is written; the error then comes at a later check.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace fastnn::cuda {

// Written by the device (state last, after a system-wide fence), read and cleared by the host.
struct TargetErrorRecord {
  int32_t state;  // 0: nothing to report; 1: the fields below hold a report
  int32_t pad;
  int64_t row, label, classes, ignore_index;
};

// Python: fastnn._cuda._TargetIndexError, a subclass of IndexError and ValueError.
struct target_index_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The record kernels write to, as a device pointer (the same address on the host under unified
// addressing); allocated on first use, null when page-locked mapped memory is unavailable (the
// caller then checks synchronously) or while the current stream is capturing a graph (the
// captured launch then goes unchecked: warm up once before capturing).
TargetErrorRecord* target_error_record();

// The message of the CPU check, for a report.
std::string target_error_message(int64_t row, int64_t label, int64_t classes, int64_t ignore_index);

// If `rec` holds a report: clears it and throws target_index_error. The host side of the check,
// on any record (a test passes one of its own).
void raise_if_reported(volatile TargetErrorRecord* rec);

// raise_if_reported on the process's record, if it has been allocated: the sync points call it.
void check_deferred_target_error();

}  // namespace fastnn::cuda
