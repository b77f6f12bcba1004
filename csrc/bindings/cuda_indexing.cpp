// pybind11 glue for the CUDA indexing and creation kernels (csrc/cuda/indexing.cu, creation.cu).
// The Python backend (fastnn/_devices/cuda.py) turns a numpy-style index into an IndexView (a
// strided view plus int64 index arrays); here every view is checked to stay inside its array
// for any index value in range, so no call can touch memory outside its arrays whatever the
// caller passes. Index values themselves are checked by first_bad_index (the kernels skip bad
// ones). Validate, read every pointer, release the GIL, launch.
#include <pybind11/stl.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bindings/cuda_array.h"

namespace fastnn::cuda::bind {
namespace {

using Vec = std::vector<int64_t>;

Shape shape_of(const Vec& s, const char* fn) {
  FASTNN_CHECK(s.size() <= static_cast<size_t>(kMaxDims), fn, ": at most ", kMaxDims,
               " dimensions are supported, got ", shape_str(s));
  Shape r{};
  r.ndim = static_cast<int>(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    FASTNN_CHECK(s[i] >= 0, fn, ": invalid shape ", shape_str(s));
    r.d[i] = s[i];
  }
  return r;
}

Strides strides_of(const Vec& st, size_t ndim, const char* fn, const char* what) {
  FASTNN_CHECK(st.size() == ndim, fn, ": ", what, " ", shape_str(st), " must have ", ndim,
               " entries");
  Strides r{};
  for (size_t i = 0; i < st.size(); ++i) r.s[i] = st[i];
  return r;
}

int64_t numel_of(const Vec& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// The IndexView of (shape, strides, offset, index arrays) over `x`, checked: every element the
// view can name with in-range indices lies inside x, and every index array read stays inside
// that array. Fills `arrays` with the index arrays (for first_bad_index and device checks).
IndexView make_view(const DeviceArray& x, const Vec& shape, const Vec& strides, int64_t offset,
                    const py::list& indices, const std::vector<Vec>& index_strides,
                    const Vec& axis_sizes, const Vec& axis_strides, const char* fn) {
  IndexView v{};
  v.shape = shape_of(shape, fn);
  v.strides = strides_of(strides, shape.size(), fn, "strides");
  v.offset = offset;
  const size_t k = indices.size();
  FASTNN_CHECK(k <= static_cast<size_t>(kMaxDims), fn, ": at most ", kMaxDims,
               " index arrays, got ", k);
  FASTNN_CHECK(index_strides.size() == k && axis_sizes.size() == k && axis_strides.size() == k, fn,
               ": need index_strides, axis_sizes and axis_strides for each of the ", k,
               " index arrays");
  v.n_idx = static_cast<int>(k);
  const int64_t n = numel_of(shape);
  int64_t lo = offset, hi = offset;
  auto widen = [&](int64_t count, int64_t stride) {
    const int64_t span = (count - 1) * stride;
    if (span > 0)
      hi += span;
    else
      lo += span;
  };
  for (size_t d = 0; d < shape.size(); ++d) {
    FASTNN_CHECK(strides[d] >= -x.numel() && strides[d] <= x.numel(), fn, ": stride ", strides[d],
                 " is out of range for ", describe(x));
    if (n > 0) widen(shape[d], strides[d]);
  }
  for (size_t j = 0; j < k; ++j) {
    const DeviceArray& idx = as_device_array(indices[j], fn, "indices");
    check_dtype(idx, DType::i64, fn, "indices");
    check_same_device(x, "x", idx, "indices", fn);
    v.idx[j] = static_cast<const int64_t*>(idx.data());
    v.idx_strides[j] = strides_of(index_strides[j], shape.size(), fn, "index_strides");
    int64_t reach = 0;
    for (size_t d = 0; d < shape.size(); ++d) {
      FASTNN_CHECK(index_strides[j][d] >= 0, fn, ": index_strides must be >= 0, got ",
                   shape_str(index_strides[j]));
      if (n > 0) reach += (shape[d] - 1) * index_strides[j][d];
    }
    FASTNN_CHECK(n == 0 || reach < idx.numel(), fn, ": index array ", j, " (", describe(idx),
                 ") is read at element ", reach);
    FASTNN_CHECK(axis_sizes[j] >= 0, fn, ": axis size must be >= 0, got ", axis_sizes[j]);
    FASTNN_CHECK(axis_strides[j] >= -x.numel() && axis_strides[j] <= x.numel(), fn,
                 ": axis stride ", axis_strides[j], " is out of range for ", describe(x));
    v.axis_size[j] = axis_sizes[j];
    v.axis_stride[j] = axis_strides[j];
    if (n > 0 && axis_sizes[j] > 0) widen(axis_sizes[j], axis_strides[j]);
  }
  FASTNN_CHECK(n == 0 || (lo >= 0 && hi < x.numel()), fn, ": the view (shape ", shape_str(shape),
               ", strides ", shape_str(strides), ", offset ", offset, ") reaches elements [", lo,
               ", ", hi, "] outside ", describe(x));
  return v;
}

py::object index_gather(const py::object& x_obj, const Vec& shape, const Vec& strides,
                        int64_t offset, const py::list& indices,
                        const std::vector<Vec>& index_strides, const Vec& axis_sizes,
                        const Vec& axis_strides) {
  const char* fn = "index_gather";
  DeviceArray& x = as_device_array(x_obj, fn, "x");
  const IndexView v =
      make_view(x, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides, fn);
  DeviceGuard guard(x.device());
  DeviceArray out = empty(shape, x.dtype, x.device());
  const int64_t es = dtype_size(x.dtype);
  void* o = out.data();
  const void* src = x.data();
  {
    py::gil_scoped_release release;
    index_gather_cuda(es, o, src, v);
  }
  return py::cast(std::move(out));
}

void index_scatter(const py::object& x_obj, const py::object& value_obj, const Vec& shape,
                   const Vec& strides, int64_t offset, const py::list& indices,
                   const std::vector<Vec>& index_strides, const Vec& axis_sizes,
                   const Vec& axis_strides) {
  const char* fn = "index_scatter";
  DeviceArray& x = as_device_array(x_obj, fn, "x");
  DeviceArray& value = as_device_array(value_obj, fn, "value");
  check_writeable(x, fn, "x");
  check_same_dtype(x, "x", value, "value", fn);
  check_same_device(x, "x", value, "value", fn);
  check_no_overlap(x, "x", value, "value", fn);
  const IndexView v =
      make_view(x, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides, fn);
  // value broadcasts to shape (right-aligned, numpy's rule)
  FASTNN_CHECK(value.shape.size() <= shape.size(), fn, ": value of shape ", shape_str(value.shape),
               " cannot be broadcast to ", shape_str(shape));
  Strides vs{};
  int64_t s = 1;
  const size_t off = shape.size() - value.shape.size();
  for (size_t i = shape.size(); i-- > 0;) {
    if (i < off) continue;
    const int64_t d = value.shape[i - off];
    FASTNN_CHECK(d == shape[i] || d == 1, fn, ": value of shape ", shape_str(value.shape),
                 " cannot be broadcast to ", shape_str(shape));
    vs.s[i] = d == 1 ? 0 : s;
    s *= d;
  }
  DeviceGuard guard(x.device());
  const int64_t es = dtype_size(x.dtype);
  void* dst = x.data();
  const void* val = value.data();
  {
    py::gil_scoped_release release;
    index_scatter_cuda(es, dst, val, vs, v);
  }
}

void index_add(const py::object& x_obj, const py::object& src_obj, const Vec& shape,
               const Vec& strides, int64_t offset, const py::list& indices,
               const std::vector<Vec>& index_strides, const Vec& axis_sizes,
               const Vec& axis_strides, bool scale_by_count) {
  const char* fn = "index_add";
  DeviceArray& x = as_device_array(x_obj, fn, "x");
  DeviceArray& src = as_device_array(src_obj, fn, "src");
  check_writeable(x, fn, "x");
  FASTNN_TYPE_CHECK(is_float(x.dtype) || x.dtype == DType::i64, fn,
                    ": argument 'x' must have dtype float32, float64 or int64, got ", describe(x));
  check_same_dtype(x, "x", src, "src", fn);
  check_same_device(x, "x", src, "src", fn);
  check_shape(src, shape, fn, "src");
  check_no_overlap(x, "x", src, "src", fn);
  const IndexView v =
      make_view(x, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides, fn);
  DeviceGuard guard(x.device());
  const DType dt = x.dtype;
  const int64_t n = x.numel();
  void* dst = x.data();
  const void* s = src.data();
  {
    py::gil_scoped_release release;
    index_add_cuda(dt, dst, n, s, v, scale_by_count);
  }
}

py::object first_bad_index(const py::list& indices, const Vec& sizes, bool allow_negative) {
  const char* fn = "first_bad_index";
  const size_t k = indices.size();
  FASTNN_CHECK(k <= static_cast<size_t>(kMaxDims), fn, ": at most ", kMaxDims,
               " index arrays, got ", k);
  FASTNN_CHECK(sizes.size() == k, fn, ": need one size per index array");
  if (k == 0) return py::none();
  const int64_t* ptrs[kMaxDims];
  int64_t numel[kMaxDims];
  int device = -1;
  for (size_t j = 0; j < k; ++j) {
    const DeviceArray& idx = as_device_array(indices[j], fn, "indices");
    check_dtype(idx, DType::i64, fn, "indices");
    FASTNN_CHECK(device < 0 || idx.device() == device, fn, ": index arrays on different devices");
    device = idx.device();
    ptrs[j] = static_cast<const int64_t*>(idx.data());
    numel[j] = idx.numel();
  }
  DeviceGuard guard(device);
  BadIndex bad;
  {
    py::gil_scoped_release release;
    bad = first_bad_index_cuda(static_cast<int>(k), ptrs, numel, sizes.data(), allow_negative);
  }
  if (bad.array < 0) return py::none();
  return py::make_tuple(bad.array, bad.position, bad.value);
}

py::object nonzero(const py::object& mask_obj) {
  const char* fn = "nonzero";
  DeviceArray& mask = as_device_array(mask_obj, fn, "mask");
  check_dtype(mask, DType::b8, fn, "mask");
  DeviceGuard guard(mask.device());
  const auto* m = static_cast<const bool*>(mask.data());
  const int64_t n = mask.numel();
  const Shape sh = shape_of(mask.shape, fn);
  int64_t count;
  {
    py::gil_scoped_release release;
    count = count_nonzero_cuda(m, n);
  }
  DeviceArray coords =
      empty({count, static_cast<int64_t>(mask.shape.size())}, DType::i64, mask.device());
  auto* c = static_cast<int64_t*>(coords.data());
  {
    py::gil_scoped_release release;
    nonzero_cuda(c, m, sh, count);
  }
  return py::cast(std::move(coords));
}

py::object arange(const py::object& v0, const py::object& v1, int64_t n, const py::object& dtype,
                  int device) {
  const char* fn = "arange";
  const DType dt = dtype_from_py(dtype, fn);
  FASTNN_TYPE_CHECK(dt == DType::f32 || dt == DType::f64 || dt == DType::i64, fn,
                    ": dtype must be float32, float64 or int64, got ", dtype_name(dt));
  FASTNN_CHECK(n >= 0, fn, ": negative length ", n);
  double f0 = 0, f1 = 0;
  int64_t i0 = 0, i1 = 0;
  if (dt == DType::i64) {
    i0 = v0.cast<int64_t>();
    i1 = v1.cast<int64_t>();
  } else {
    f0 = v0.cast<double>();
    f1 = v1.cast<double>();
  }
  const int dev = resolve_device(device);
  DeviceGuard guard(dev);
  DeviceArray out = empty({n}, dt, dev);
  void* o = out.data();
  {
    py::gil_scoped_release release;
    arange_cuda(dt, o, f0, f1, i0, i1, n);
  }
  return py::cast(std::move(out));
}

py::object linspace(double start, double stop, double delta, double step, int64_t div,
                    bool step_zero, bool endpoint, int64_t n, const py::object& dtype, int device) {
  const char* fn = "linspace";
  const DType dt = dtype_from_py(dtype, fn);
  FASTNN_CHECK(n >= 0, fn, ": negative number of samples ", n);
  FASTNN_CHECK(!step_zero || div > 0, fn, ": a zero step needs a positive divisor, got ", div);
  const int dev = resolve_device(device);
  DeviceGuard guard(dev);
  DeviceArray out = empty({n}, dt, dev);
  void* o = out.data();
  {
    py::gil_scoped_release release;
    linspace_cuda(dt, o, start, stop, delta, step, div, step_zero, endpoint, n);
  }
  return py::cast(std::move(out));
}

// numpy broadcasting of two shapes (right-aligned); ValueError when incompatible.
Vec broadcast2(const Vec& a, const Vec& b, const char* fn) {
  const size_t nd = std::max(a.size(), b.size());
  Vec out(nd);
  for (size_t i = 0; i < nd; ++i) {
    const int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    const int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    FASTNN_CHECK(da == db || da == 1 || db == 1, fn, ": shapes ", shape_str(a), " and ",
                 shape_str(b), " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Strides bstrides(const Vec& in, const Vec& out) {
  Strides st{};
  int64_t s = 1;
  const size_t off = out.size() - in.size();
  for (size_t i = out.size(); i-- > 0;) {
    if (i < off) continue;
    const int64_t d = in[i - off];
    st.s[i] = d == 1 ? 0 : s;
    s *= d;
  }
  return st;
}

py::object int_pow(const py::object& a_obj, const py::object& b_obj) {
  const char* fn = "int_pow";
  DeviceArray& a = as_device_array(a_obj, fn, "a");
  DeviceArray& b = as_device_array(b_obj, fn, "b");
  check_dtype(a, DType::i64, fn, "a");
  check_dtype(b, DType::i64, fn, "b");
  check_same_device(a, "a", b, "b", fn);
  const Vec shape = broadcast2(a.shape, b.shape, fn);
  const Shape sh = shape_of(shape, fn);
  const Strides sa = bstrides(a.shape, shape), sb = bstrides(b.shape, shape);
  DeviceGuard guard(a.device());
  const int64_t* bp = static_cast<const int64_t*>(b.data());
  const int64_t bn = b.numel();
  bool negative;
  {
    py::gil_scoped_release release;
    negative = any_negative_cuda(bp, bn);
  }
  FASTNN_CHECK(!negative, "Integers to negative integer powers are not allowed.");
  DeviceArray out = empty(shape, DType::i64, a.device());
  void* o = out.data();
  const void* ap = a.data();
  {
    py::gil_scoped_release release;
    int_pow_cuda(o, ap, sa, bp, sb, sh);
  }
  return py::cast(std::move(out));
}

// op(a) @ op(b) for int64 arrays of 2 or 3 dimensions (a 2-d operand is shared by every batch).
py::object int_matmul(const py::object& a_obj, const py::object& b_obj, bool trans_a,
                      bool trans_b) {
  const char* fn = "int_matmul";
  DeviceArray& a = as_device_array(a_obj, fn, "a");
  DeviceArray& b = as_device_array(b_obj, fn, "b");
  check_dtype(a, DType::i64, fn, "a");
  check_dtype(b, DType::i64, fn, "b");
  check_same_device(a, "a", b, "b", fn);
  FASTNN_CHECK((a.ndim() == 2 || a.ndim() == 3) && (b.ndim() == 2 || b.ndim() == 3), fn,
               ": a and b must have 2 or 3 dimensions, got ", shape_str(a.shape), " and ",
               shape_str(b.shape));
  const int64_t ar = a.shape[a.ndim() - 2], ac = a.shape[a.ndim() - 1];
  const int64_t br = b.shape[b.ndim() - 2], bc = b.shape[b.ndim() - 1];
  const int64_t ba = a.ndim() == 3 ? a.shape[0] : 1, bb = b.ndim() == 3 ? b.shape[0] : 1;
  IntMatmulShape s{};
  s.M = trans_a ? ac : ar;
  s.K = trans_a ? ar : ac;
  s.N = trans_b ? br : bc;
  const int64_t kb = trans_b ? bc : br;
  FASTNN_CHECK(s.K == kb, fn, ": inner dimensions differ: op(a) is (", s.M, ", ", s.K,
               ") and op(b) is (", kb, ", ", s.N, ")");
  FASTNN_CHECK(ba == bb || ba == 1 || bb == 1, fn, ": batch sizes ", ba, " and ", bb,
               " cannot be broadcast together");
  s.batch = ba == 1 ? bb : ba;
  s.a_batch = ba == 1 ? 0 : ar * ac;
  s.b_batch = bb == 1 ? 0 : br * bc;
  s.a_row = trans_a ? 1 : ac;
  s.a_col = trans_a ? ac : 1;
  s.b_row = trans_b ? 1 : bc;
  s.b_col = trans_b ? bc : 1;
  std::vector<int64_t> shape = {s.M, s.N};
  if (a.ndim() == 3 || b.ndim() == 3) shape.insert(shape.begin(), s.batch);
  DeviceGuard guard(a.device());
  DeviceArray out = empty(shape, DType::i64, a.device());
  auto* c = static_cast<int64_t*>(out.data());
  const auto* ap = static_cast<const int64_t*>(a.data());
  const auto* bp = static_cast<const int64_t*>(b.data());
  {
    py::gil_scoped_release release;
    int_matmul_cuda(c, ap, bp, s);
  }
  return py::cast(std::move(out));
}

}  // namespace

void register_indexing(py::module_& m) {
  m.def("index_gather", &index_gather, py::arg("x"), py::arg("shape"), py::arg("strides"),
        py::arg("offset"), py::arg("indices"), py::arg("index_strides"), py::arg("axis_sizes"),
        py::arg("axis_strides"),
        "A contiguous copy of an indexed view of x: element strides plus int64 index arrays.");
  m.def("index_scatter", &index_scatter, py::arg("x"), py::arg("value"), py::arg("shape"),
        py::arg("strides"), py::arg("offset"), py::arg("indices"), py::arg("index_strides"),
        py::arg("axis_sizes"), py::arg("axis_strides"),
        "Writes value (broadcast to shape) into an indexed view of x, in place.");
  m.def("index_add", &index_add, py::arg("x"), py::arg("src"), py::arg("shape"), py::arg("strides"),
        py::arg("offset"), py::arg("indices"), py::arg("index_strides"), py::arg("axis_sizes"),
        py::arg("axis_strides"), py::arg("scale_by_count") = false,
        "Adds src into an indexed view of x in place; repeated destinations accumulate in "
        "order (deterministic).");
  m.def("first_bad_index", &first_bad_index, py::arg("indices"), py::arg("sizes"),
        py::arg("allow_negative") = true,
        "(array, position, value) of the first index outside its axis, or None (synchronizes).");
  m.def("nonzero", &nonzero, py::arg("mask"),
        "(count, ndim) int64 coordinates of the True entries of a bool array (synchronizes).");
  m.def("arange", &arange, py::arg("v0"), py::arg("v1"), py::arg("n"), py::arg("dtype"),
        py::arg("device") = -1, "numpy.arange's values from its first two, on the device.");
  m.def("linspace", &linspace, py::arg("start"), py::arg("stop"), py::arg("delta"), py::arg("step"),
        py::arg("div"), py::arg("step_zero"), py::arg("endpoint"), py::arg("n"), py::arg("dtype"),
        py::arg("device") = -1, "numpy.linspace's values, on the device.");
  m.def("int_pow", &int_pow, py::arg("a"), py::arg("b"),
        "a ** b for int64 arrays (broadcast), wrapping like numpy; negative exponents raise.");
  m.def("int_matmul", &int_matmul, py::arg("a"), py::arg("b"), py::arg("trans_a") = false,
        py::arg("trans_b") = false,
        "op(a) @ op(b) for int64 arrays of 2 or 3 dimensions, wrapping like numpy.");
}

}  // namespace fastnn::cuda::bind
