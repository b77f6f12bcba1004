// Host-side entry points to the index planning of the element-wise kernels (csrc/strided_index.h):
// the same magic-number division and offset calculators the device runs, compiled for the host, so
// the tests check them on machines without a GPU. Nothing here touches the device.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "check.h"
#include "strided_index.h"

namespace py = pybind11;

namespace fastnn::cuda::bind {
namespace {

using U32Array = py::array_t<uint32_t, py::array::c_style | py::array::forcecast>;
using I64Array = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

// q, r = divmod(n, d) elementwise through FastDivmod32.
py::tuple fast_divmod(const U32Array& divisors, const U32Array& dividends) {
  const char* fn = "fast_divmod";
  FASTNN_CHECK(divisors.ndim() == 1 && dividends.ndim() == 1 && divisors.size() == dividends.size(),
               fn, ": 'divisors' and 'dividends' must be 1-d arrays of one length, got ",
               divisors.size(), " and ", dividends.size(), " elements");
  const int64_t n = divisors.size();
  const uint32_t* d = divisors.data();
  const uint32_t* x = dividends.data();
  for (int64_t i = 0; i < n; ++i) {
    FASTNN_CHECK(d[i] >= 1 && d[i] <= (uint32_t{1} << 31), fn, ": divisors[", i, "] = ", d[i],
                 " is outside [1, 2^31]");
    FASTNN_CHECK(x[i] < (uint32_t{1} << 31), fn, ": dividends[", i, "] = ", x[i],
                 " is outside [0, 2^31)");
  }
  U32Array q(n), r(n);
  uint32_t* pq = q.mutable_data();
  uint32_t* pr = r.mutable_data();
  {
    py::gil_scoped_release release;
    for (int64_t i = 0; i < n; ++i) FastDivmod32(d[i]).divmod(x[i], pq[i], pr[i]);
  }
  return py::make_tuple(q, r);
}

template <int K>
py::tuple offsets_k(const std::vector<int64_t>& shape, const std::vector<std::vector<int64_t>>& st,
                    const I64Array& indices, bool force_64bit) {
  const int64_t* s[K];
  for (int k = 0; k < K; ++k) s[k] = st[k].data();
  const IndexPlan<K> plan = plan_index<K>(static_cast<int>(shape.size()), shape.data(), s);
  const bool use32 = plan.fits32 && !force_64bit;
  const int64_t n = indices.size();
  I64Array out(std::vector<py::ssize_t>{n, K});
  int64_t* po = out.mutable_data();
  const int64_t* pi = indices.data();
  if (use32) {
    const OffsetCalc32<K> calc(plan);
    for (int64_t i = 0; i < n; ++i) {
      int64_t off[K];
      calc.get(pi[i], off);
      for (int k = 0; k < K; ++k) po[i * K + k] = off[k];
    }
  } else {
    const OffsetCalc64<K> calc(plan);
    for (int64_t i = 0; i < n; ++i) {
      int64_t off[K];
      calc.get(pi[i], off);
      for (int k = 0; k < K; ++k) po[i * K + k] = off[k];
    }
  }
  std::vector<int64_t> sizes(plan.size, plan.size + plan.ndim);
  std::vector<std::vector<int64_t>> strides(K);
  for (int k = 0; k < K; ++k)
    for (int d = 0; d < plan.ndim; ++d) strides[k].push_back(plan.stride[d][k]);
  py::dict info;
  info["sizes"] = sizes;  // innermost first
  info["strides"] = strides;
  info["fits32"] = plan.fits32;
  info["used32"] = use32;
  info["contiguous"] = plan.contiguous();
  return py::make_tuple(out, info);
}

// The offsets of the elements `indices` of an output of `shape` in K operands read through
// `strides` (one list per operand), computed by the planned calculator the kernels use.
py::tuple index_plan_offsets(const std::vector<int64_t>& shape,
                             const std::vector<std::vector<int64_t>>& strides,
                             const I64Array& indices, bool force_64bit) {
  const char* fn = "index_plan_offsets";
  const size_t K = strides.size();
  FASTNN_CHECK(K >= 1 && K <= 3, fn, ": 1 to 3 stride lists are supported, got ", K);
  FASTNN_CHECK(shape.size() <= static_cast<size_t>(kIndexMaxDims), fn, ": at most ", kIndexMaxDims,
               " dimensions are supported, got ", shape.size());
  int64_t numel = 1;
  for (int64_t d : shape) {
    FASTNN_CHECK(d >= 1, fn, ": every dimension must be >= 1, got ", d);
    FASTNN_CHECK(numel <= INT64_MAX / d, fn, ": the shape has more than 2^63 elements");
    numel *= d;
  }
  for (size_t k = 0; k < K; ++k)
    FASTNN_CHECK(strides[k].size() == shape.size(), fn, ": strides[", k, "] has ",
                 strides[k].size(), " entries for ", shape.size(), " dimensions");
  FASTNN_CHECK(indices.ndim() == 1, fn, ": 'indices' must be 1-d");
  const int64_t* pi = indices.data();
  for (int64_t i = 0; i < indices.size(); ++i)
    FASTNN_CHECK(pi[i] >= 0 && pi[i] < numel, fn, ": indices[", i, "] = ", pi[i],
                 " is outside [0, ", numel, ")");
  if (K == 1) return offsets_k<1>(shape, strides, indices, force_64bit);
  if (K == 2) return offsets_k<2>(shape, strides, indices, force_64bit);
  return offsets_k<3>(shape, strides, indices, force_64bit);
}

}  // namespace

void register_index(py::module_& m) {
  m.def("fast_divmod", &fast_divmod, py::arg("divisors"), py::arg("dividends"),
        "(q, r): divmod of uint32 dividends (< 2^31) by divisors (1..2^31) through the "
        "multiply-high division the element-wise kernels use (host code, for tests).");
  m.def("index_plan_offsets", &index_plan_offsets, py::arg("shape"), py::arg("strides"),
        py::arg("indices"), py::arg("force_64bit") = false,
        "(offsets (len(indices), K), plan info): element offsets of K strided operands through "
        "the planned index calculator of the element-wise kernels (host code, for tests).");
}

}  // namespace fastnn::cuda::bind
