// The DLPack C ABI (the array-exchange standard), versions 0.8 and 1.0:
// just the structs and constants fastnn needs, written from the public specification.
// Capsule protocol: a producer returns a PyCapsule named "dltensor" (DLManagedTensor) or, for
// max_version >= (1, 0), "dltensor_versioned" (DLManagedTensorVersioned). A consumer that takes
// ownership renames it to "used_dltensor" / "used_dltensor_versioned" and later calls the
// deleter; the capsule's destructor calls the deleter only if the capsule was never consumed.
#pragma once
#include <cstdint>

extern "C" {

enum DLDeviceType : int32_t {
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,
  kDLOpenCL = 4,
  kDLVulkan = 7,
  kDLMetal = 8,
  kDLVPI = 9,
  kDLROCM = 10,
  kDLROCMHost = 11,
  kDLExtDev = 12,
  kDLCUDAManaged = 13,
  kDLOneAPI = 14,
};

struct DLDevice {
  DLDeviceType device_type;
  int32_t device_id;
};

enum DLDataTypeCode : uint8_t {
  kDLInt = 0,
  kDLUInt = 1,
  kDLFloat = 2,
  kDLOpaqueHandle = 3,
  kDLBfloat = 4,
  kDLComplex = 5,
  kDLBool = 6,
};

struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};

struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; NULL means compact row-major
  uint64_t byte_offset;
};

struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};

struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};

constexpr uint64_t DLPACK_FLAG_BITMASK_READ_ONLY = 1ULL << 0;
constexpr uint64_t DLPACK_FLAG_BITMASK_IS_COPIED = 1ULL << 1;

struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};

}  // extern "C"

constexpr uint32_t kDLPackMajor = 1;
constexpr uint32_t kDLPackMinor = 0;
