// Bindings of the CPU backend's reductions: sum_rows (cpu/sum_rows.cpp) over the leading
// dimensions, sum_all and sum_last (cpu/sum_all.cpp) over every element and along the last
// dimension, prod_last (cpu/sum_all.cpp), max_last, min_last, amax_last and amin_last
// (cpu/max_min_last.cpp) along the last dimension, var_mean (cpu/var_mean.cpp) along one
// dimension or over all.
#include <type_traits>
#include <vector>

#include "bindings/common.h"
#include "contract.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

template <class T>
py::array sum_rows_typed(const py::array& x) {
  const int64_t rows = x.shape(0), cols = x.shape(1);
  py::array_t<T> out(cols);
  const T* xp = static_cast<const T*>(x.data());
  T* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    sum_rows_cpu(xp, rows, cols, op);
  }
  return std::move(out);
}

py::array sum_rows(const py::object& obj) {
  const char* fn = "sum_rows";
  py::array x = as_array(obj, fn, "x");
  const DType dt = float_dtype(x, fn, "x");
  check_ndim(x, {2}, fn, "x");
  check_contiguous(x, fn, "x");
  return dt == DType::f32 ? sum_rows_typed<float>(x) : sum_rows_typed<double>(x);
}

template <class T>
py::array sum_all_typed(const py::array& x) {
  const T* xp = static_cast<const T*>(x.data());
  const int64_t n = x.size();
  T total;
  {
    py::gil_scoped_release release;
    total = sum_all_cpu(xp, n);
  }
  py::array_t<T> out(std::vector<py::ssize_t>{});  // 0-d, as numpy's reduction gives
  *out.mutable_data() = total;
  return std::move(out);
}

py::array sum_all(const py::object& obj) {
  const char* fn = "sum_all";
  py::array x = as_array(obj, fn, "x");
  const DType dt = float_dtype(x, fn, "x");
  check_contiguous(x, fn, "x");
  return dt == DType::f32 ? sum_all_typed<float>(x) : sum_all_typed<double>(x);
}

template <class T>
py::array sum_last_typed(const py::array& x, int64_t rows, int64_t cols) {
  py::array_t<T> out(rows);
  const T* xp = static_cast<const T*>(x.data());
  T* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    sum_last_cpu(xp, rows, cols, op);
  }
  return std::move(out);
}

py::array sum_last(const py::object& obj) {
  const char* fn = "sum_last";
  py::array x = as_array(obj, fn, "x");
  const DType dt = float_dtype(x, fn, "x");
  check_ndim(x, {2}, fn, "x");
  check_contiguous(x, fn, "x");
  const int64_t rows = x.shape(0), cols = x.shape(1);
  return dt == DType::f32 ? sum_last_typed<float>(x, rows, cols)
                          : sum_last_typed<double>(x, rows, cols);
}

template <class T>
py::tuple extreme_last_typed(const py::array& x, std::vector<py::ssize_t> shape, int64_t rows,
                             int64_t cols, bool is_max) {
  py::array_t<T> values(shape);
  py::array_t<int64_t> indices(std::move(shape));
  const T* xp = static_cast<const T*>(x.data());
  T* vp = values.mutable_data();
  int64_t* ip = indices.mutable_data();
  {
    py::gil_scoped_release release;
    if (is_max)
      max_last_cpu(xp, rows, cols, vp, ip);
    else
      min_last_cpu(xp, rows, cols, vp, ip);
  }
  return py::make_tuple(std::move(values), std::move(indices));
}

// x as rows along its last dimension (a C-contiguous float array whose last dimension has at least
// one element), and the shape of a result per row: x's without that dimension (1 with keepdim).
struct LastRows {
  py::array x;
  DType dt;
  int64_t rows, cols;
  std::vector<py::ssize_t> shape;
};
LastRows last_rows(const py::object& obj, bool keepdim, const char* fn) {
  py::array x = as_array(obj, fn, "x");
  const DType dt = float_dtype(x, fn, "x");
  FASTNN_CHECK(x.ndim() >= 1 && x.shape(x.ndim() - 1) > 0, fn,
               ": argument 'x' needs a last dimension of at least one element, got shape ",
               shape_str(x));
  check_contiguous(x, fn, "x");
  const int64_t cols = x.shape(x.ndim() - 1), rows = x.size() / cols;
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim() - 1);
  if (keepdim) shape.push_back(1);
  return {std::move(x), dt, rows, cols, std::move(shape)};
}

py::tuple extreme_last(const py::object& obj, bool keepdim, bool is_max) {
  LastRows r = last_rows(obj, keepdim, is_max ? "max_last" : "min_last");
  return r.dt == DType::f32
             ? extreme_last_typed<float>(r.x, std::move(r.shape), r.rows, r.cols, is_max)
             : extreme_last_typed<double>(r.x, std::move(r.shape), r.rows, r.cols, is_max);
}

// amax_last / amin_last: the value alone.
py::array extreme_value_last(const py::object& obj, bool keepdim, bool is_max) {
  const LastRows r = last_rows(obj, keepdim, is_max ? "amax_last" : "amin_last");
  py::array out(r.x.dtype(), r.shape);
  const void* xp = r.x.data();
  void* op = out.mutable_data();
  auto run = [&](auto* values) {
    using T = std::remove_pointer_t<decltype(values)>;
    const T* xt = static_cast<const T*>(xp);
    py::gil_scoped_release release;
    if (is_max)
      amax_last_cpu(xt, r.rows, r.cols, values);
    else
      amin_last_cpu(xt, r.rows, r.cols, values);
  };
  if (r.dt == DType::f32)
    run(static_cast<float*>(op));
  else
    run(static_cast<double*>(op));
  return out;
}

// prod_last: the product of each row.
py::array prod_last(const py::object& obj, bool keepdim) {
  const LastRows r = last_rows(obj, keepdim, "prod_last");
  py::array out(r.x.dtype(), r.shape);
  const void* xp = r.x.data();
  void* op = out.mutable_data();
  py::gil_scoped_release release;
  if (r.dt == DType::f32)
    prod_last_cpu(static_cast<const float*>(xp), r.rows, r.cols, static_cast<float*>(op));
  else
    prod_last_cpu(static_cast<const double*>(xp), r.rows, r.cols, static_cast<double*>(op));
  return out;
}

// The columns of the k best of each row along x's last dimension: x.shape[:-1] + (k,) int64.
py::array topk_last(const py::object& obj, int64_t k, bool largest) {
  const char* fn = "topk_last";
  py::array x = as_array(obj, fn, "x");
  const DType dt = float_dtype(x, fn, "x");
  FASTNN_CHECK(x.ndim() >= 1, fn, ": argument 'x' needs at least one dimension, got shape ",
               shape_str(x));
  check_contiguous(x, fn, "x");
  const int64_t cols = x.shape(x.ndim() - 1);
  FASTNN_CHECK(0 <= k && k <= cols, fn, ": k=", k, " is out of range for a last dimension of ",
               cols);
  const int64_t rows = cols ? x.size() / cols : 0;
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim() - 1);
  shape.push_back(k);
  py::array_t<int64_t> out(shape);
  int64_t* op = out.mutable_data();
  const void* xp = x.data();
  {
    py::gil_scoped_release release;
    if (dt == DType::f32)
      topk_last_cpu(static_cast<const float*>(xp), rows, cols, k, largest, op);
    else
      topk_last_cpu(static_cast<const double*>(xp), rows, cols, k, largest, op);
  }
  return std::move(out);
}

template <class T>
py::tuple var_mean_typed(const py::array& x, std::vector<py::ssize_t> shape, AlongDim s,
                         double correction) {
  py::array_t<T> var(shape), mean(shape);
  const T* xp = static_cast<const T*>(x.data());
  T *vp = var.mutable_data(), *mp = mean.mutable_data();
  {
    py::gil_scoped_release release;
    var_mean_cpu(vp, mp, xp, s.outer, s.n, s.inner, correction);
  }
  return py::make_tuple(std::move(var), std::move(mean));
}

// dim None: over every element (the results are 0-d, or all ones with keepdim); else along dim
// (the results drop it, or keep it as 1).
py::tuple var_mean(const py::object& obj, const py::object& dim_obj, double correction,
                   bool keepdim) {
  const char* fn = "var_mean";
  py::array x = as_array(obj, fn, "x");
  const DType dt = float_dtype(x, fn, "x");
  check_contiguous(x, fn, "x");
  AlongDim s;
  std::vector<py::ssize_t> shape;
  if (dim_obj.is_none()) {
    s.n = x.size();
    if (keepdim) shape.assign(x.ndim(), 1);
  } else {
    FASTNN_TYPE_CHECK(PyIndex_Check(dim_obj.ptr()), fn,
                      ": argument 'dim' must be None or an int, got ",
                      Py_TYPE(dim_obj.ptr())->tp_name);
    const int64_t dim = py::int_(dim_obj).cast<int64_t>();
    s = along_dim(x.shape(), x.ndim(), dim, fn, "x", [&] { return shape_str(x); });
    const int64_t d = dim < 0 ? dim + x.ndim() : dim;
    for (int64_t i = 0; i < x.ndim(); ++i)
      if (i != d || keepdim) shape.push_back(i == d ? 1 : x.shape(i));
  }
  return dt == DType::f32 ? var_mean_typed<float>(x, std::move(shape), s, correction)
                          : var_mean_typed<double>(x, std::move(shape), s, correction);
}

}  // namespace

void register_reductions(py::module_& m) {
  m.def("sum_rows", &sum_rows, py::arg("x"),
        R"(The sum of the rows of x: out[c] = x[:, c].sum(), a new (cols,) array of x's dtype.

x: a 2-D C-contiguous float32 or float64 array (zero rows give zeros). Rows are added in chunks
in x's dtype, the chunk sums in double; the result does not depend on the thread count.)");
  m.def("sum_all", &sum_all, py::arg("x"),
        R"(The sum of every element of x, a new 0-d array of x's dtype (an empty x gives 0).

x: a C-contiguous float32 or float64 array of any shape. The elements are added in numpy's
pairwise order, so the result has the same bits as x.sum().)");
  m.def("sum_last", &sum_last, py::arg("x"),
        R"(The sum of each row of x: out[r] = x[r, :].sum(), a new (rows,) array of x's dtype.

x: a 2-D C-contiguous float32 or float64 array (zero columns give zeros). Each row is added in
numpy's pairwise order, so the result has the same bits as x.sum(axis=1).)");
  m.def(
      "max_last", [](const py::object& x, bool keepdim) { return extreme_last(x, keepdim, true); },
      py::arg("x"), py::arg("keepdim") = false,
      R"((values, indices): the largest value along the last dimension of x and its position, new
arrays of x's dtype and int64 shaped as x without its last dimension, or with it as 1 when
keepdim (torch's x.max(-1, keepdim)).

x: a C-contiguous float32 or float64 array whose last dimension has at least one element. Ties
give the first position; a NaN is the answer at its first position.)");
  m.def(
      "min_last", [](const py::object& x, bool keepdim) { return extreme_last(x, keepdim, false); },
      py::arg("x"), py::arg("keepdim") = false,
      R"((values, indices): the smallest value along the last dimension of x and its position
(torch's x.min(-1, keepdim)); as max_last otherwise.)");
  m.def(
      "amax_last",
      [](const py::object& x, bool keepdim) { return extreme_value_last(x, keepdim, true); },
      py::arg("x"), py::arg("keepdim") = false,
      R"(The largest value along the last dimension of x alone (torch's x.amax(-1, keepdim)), a
new array of x's dtype shaped as x without its last dimension, or with it as 1 when keepdim.

x: a C-contiguous float32 or float64 array whose last dimension has at least one element. A row
holding a NaN gives that NaN.)");
  m.def(
      "amin_last",
      [](const py::object& x, bool keepdim) { return extreme_value_last(x, keepdim, false); },
      py::arg("x"), py::arg("keepdim") = false,
      R"(The smallest value along the last dimension of x alone (torch's x.amin(-1, keepdim)); as
amax_last otherwise.)");
  m.def("prod_last", &prod_last, py::arg("x"), py::arg("keepdim") = false,
        R"(The product of each row along the last dimension of x (torch's x.prod(-1, keepdim)), a
new array of x's dtype shaped as x without its last dimension, or with it as 1 when keepdim.

x: a C-contiguous float32 or float64 array whose last dimension has at least one element. Sixteen
running products side by side, combined pairwise: within a few roundings of numpy's one chain.)");
  m.def("topk_last", &topk_last, py::arg("x"), py::arg("k"), py::arg("largest") = true,
        R"(The columns of the k largest (smallest) values along the last dimension of x, best
first: torch's x.topk(k, -1, largest).indices, a new int64 array of shape x.shape[:-1] + (k,).

x: a C-contiguous float32 or float64 array of at least one dimension; 0 <= k <= its last size.
Ties keep column order; NaN counts as larger than every number (for largest=False too, as in
torch). Each row keeps a sorted list of its k best so far: about one comparison per element on
most data, cols * k at worst (a row already in order), so meant for k much smaller than a row.)");
  m.def("var_mean", &var_mean, py::arg("x"), py::arg("dim") = py::none(),
        py::arg("correction") = 1.0, py::arg("keepdim") = false,
        R"((var, mean) of x along dim, or over every element when dim is None: torch's var_mean,
new arrays of x's dtype shaped as x without dim (0-d for None), or with it as 1 when keepdim.

x: a C-contiguous float32 or float64 array. Both passes (the mean, then the squared deviations
from it) accumulate in double; var divides by max(n - correction, 0), so a correction that leaves
no degree of freedom gives inf (NaN where every deviation is zero), as torch does.)");
}

}  // namespace fastnn::bind
