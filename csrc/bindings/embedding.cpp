// Bindings for fastnn.kernels.embedding / embedding_backward / embedding_renorm_ and
// embedding_bag / embedding_bag_backward: validate the table, the indices (int32 or int64, any
// shape; 1-D for the bags), the bag bounds and the options, then release the GIL and run the
// kernel. Index values are checked by the kernel itself, before it writes anything
// (std::out_of_range -> IndexError).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "cpu/fastnn_cpu.h"

namespace py = pybind11;

namespace fastnn::bind {
namespace {

enum class IType { i32, i64 };

py::array float_table(const py::handle& obj, const char* fn, const char* name, DType& dt) {
  py::array a = as_array(obj, fn, name);
  dt = float_dtype(a, fn, name);
  check_contiguous(a, fn, name);
  return a;
}

py::array index_input(const py::handle& obj, const char* fn, IType& it) {
  py::array a = as_array(obj, fn, "indices");
  if (a.dtype().equal(py::dtype::of<int32_t>()))
    it = IType::i32;
  else if (a.dtype().equal(py::dtype::of<int64_t>()))
    it = IType::i64;
  else
    FASTNN_TYPE_CHECK(false, fn, ": argument 'indices' must have dtype int32 or int64, got ",
                      dtype_str(a), " with shape ", shape_str(a));
  check_contiguous(a, fn, "indices");
  return a;
}

void check_2d(const py::array& a, const char* fn, const char* name) {
  FASTNN_CHECK(a.ndim() == 2, fn, ": argument '", name,
               "' must be 2-D (num_embeddings, embedding_dim), got shape ", shape_str(a));
}

// Calls f(T*, I*) with the pointer types of the table dtype and the index dtype.
template <class F>
void dispatch(DType dt, IType it, F f) {
  if (dt == DType::f32) {
    if (it == IType::i32)
      f(static_cast<float*>(nullptr), static_cast<int32_t*>(nullptr));
    else
      f(static_cast<float*>(nullptr), static_cast<int64_t*>(nullptr));
  } else {
    if (it == IType::i32)
      f(static_cast<double*>(nullptr), static_cast<int32_t*>(nullptr));
    else
      f(static_cast<double*>(nullptr), static_cast<int64_t*>(nullptr));
  }
}

std::vector<py::ssize_t> lookup_shape(const py::array& idx, int64_t dim) {
  std::vector<py::ssize_t> s(idx.shape(), idx.shape() + idx.ndim());
  s.push_back(dim);
  return s;
}

py::array embedding(const py::object& weight_obj, const py::object& idx_obj) {
  constexpr const char* fn = "embedding";
  DType dt;
  IType it;
  py::array w = float_table(weight_obj, fn, "weight", dt);
  check_2d(w, fn, "weight");
  py::array idx = index_input(idx_obj, fn, it);
  const int64_t num = w.shape(0), dim = w.shape(1), n = idx.size();
  py::array out(w.dtype(), lookup_shape(idx, dim));
  void* op = out.mutable_data();
  const void *wp = w.data(), *ip = idx.data();
  dispatch(dt, it, [&](auto* t, auto* i) {
    using T = std::remove_pointer_t<decltype(t)>;
    using I = std::remove_pointer_t<decltype(i)>;
    py::gil_scoped_release release;
    embedding_forward_cpu(static_cast<T*>(op), static_cast<const T*>(wp), static_cast<const I*>(ip),
                          n, num, dim);
  });
  return out;
}

// A large table: numpy.zeros gets fresh zero pages from the OS (calloc over mmap), so the kernel
// writes only the looked-up rows and the rest costs nothing until read. A small one comes from
// the heap, where zeroing is a memset anyway: the kernel writes every row.
bool is_zero_table(int64_t num, int64_t dim, const py::array& like) {
  return num * dim * int64_t(like.itemsize()) >= (int64_t(4) << 20);
}
py::array zero_table(int64_t num, int64_t dim, const py::array& like) {
  if (is_zero_table(num, dim, like))
    return py::module_::import("numpy").attr("zeros")(py::make_tuple(num, dim), like.dtype());
  return py::array(like.dtype(), std::vector<py::ssize_t>{num, dim});
}

// padding_idx: None, or an int in [-num, num) (negative counts from the end, as in torch).
int64_t padding_row(const py::object& obj, int64_t num, const char* fn) {
  if (obj.is_none()) return -1;
  FASTNN_TYPE_CHECK(!py::isinstance<py::bool_>(obj) && PyIndex_Check(obj.ptr()), fn,
                    ": argument 'padding_idx' must be an int or None, got ",
                    Py_TYPE(obj.ptr())->tp_name);
  const int64_t p = obj.cast<int64_t>();
  FASTNN_CHECK(p >= -num && p < num, fn, ": padding_idx ", p,
               " must be within num_embeddings = ", num);
  return p < 0 ? p + num : p;
}

py::array embedding_backward(const py::object& grad_obj, const py::object& idx_obj,
                             int64_t num_weights, const py::object& padding_idx,
                             bool scale_grad_by_freq) {
  constexpr const char* fn = "embedding_backward";
  DType dt;
  IType it;
  py::array g = float_table(grad_obj, fn, "grad", dt);
  py::array idx = index_input(idx_obj, fn, it);
  FASTNN_CHECK(num_weights >= 0, fn, ": num_weights must be >= 0, got ", num_weights);
  bool ok = g.ndim() == idx.ndim() + 1;
  for (py::ssize_t d = 0; ok && d < idx.ndim(); ++d) ok = g.shape(d) == idx.shape(d);
  FASTNN_CHECK(ok, fn, ": 'grad' must have shape indices.shape + (embedding_dim,), got grad ",
               shape_str(g), " for indices ", shape_str(idx));
  const int64_t pad = padding_row(padding_idx, num_weights, fn);
  const int64_t dim = g.shape(g.ndim() - 1), n = idx.size();
  const bool big = is_zero_table(num_weights, dim, g);
  py::array dw = zero_table(num_weights, dim, g);
  void* dp = dw.mutable_data();
  const void *gp = g.data(), *ip = idx.data();
  dispatch(dt, it, [&](auto* t, auto* i) {
    using T = std::remove_pointer_t<decltype(t)>;
    using I = std::remove_pointer_t<decltype(i)>;
    py::gil_scoped_release release;
    embedding_backward_cpu(static_cast<T*>(dp), static_cast<const T*>(gp),
                           static_cast<const I*>(ip), n, num_weights, dim, pad, scale_grad_by_freq,
                           /*dweight_is_zero=*/big);
  });
  return dw;
}

// bounds: int64, 1-D, bounds[0] = 0, non-decreasing, bounds[-1] = the number of indices. Returns
// the number of bags.
int64_t bag_bounds(const py::array& bounds, int64_t n, const char* fn) {
  FASTNN_TYPE_CHECK(bounds.dtype().equal(py::dtype::of<int64_t>()), fn,
                    ": argument 'bounds' must have dtype int64, got ", dtype_str(bounds));
  FASTNN_CHECK(bounds.ndim() == 1 && bounds.size() >= 1, fn,
               ": argument 'bounds' must be 1-D with at least one element (bags + 1), got shape ",
               shape_str(bounds));
  check_contiguous(bounds, fn, "bounds");
  const int64_t* b = static_cast<const int64_t*>(bounds.data());
  const int64_t nbags = bounds.size() - 1;
  bool ok = b[0] == 0 && b[nbags] == n;
  for (int64_t k = 0; ok && k < nbags; ++k) ok = b[k] <= b[k + 1];
  FASTNN_CHECK(ok, fn, ": 'bounds' must start at 0, never decrease and end at the number of ",
               "indices (", n, "), got ", b[0], " ... ", b[nbags], " over ", nbags, " bags");
  return nbags;
}

void check_1d_indices(const py::array& idx, const char* fn) {
  FASTNN_CHECK(idx.ndim() == 1, fn,
               ": argument 'indices' must be 1-D (the bags one after another), ", "got shape ",
               shape_str(idx));
}

py::array embedding_bag(const py::object& weight_obj, const py::object& idx_obj,
                        const py::object& bounds_obj) {
  constexpr const char* fn = "embedding_bag";
  DType dt;
  IType it;
  py::array w = float_table(weight_obj, fn, "weight", dt);
  check_2d(w, fn, "weight");
  py::array idx = index_input(idx_obj, fn, it);
  check_1d_indices(idx, fn);
  py::array bounds = as_array(bounds_obj, fn, "bounds");
  const int64_t nbags = bag_bounds(bounds, idx.size(), fn);
  const int64_t num = w.shape(0), dim = w.shape(1);
  py::array out(w.dtype(), std::vector<py::ssize_t>{nbags, dim});
  void* op = out.mutable_data();
  const void *wp = w.data(), *ip = idx.data();
  const int64_t* bp = static_cast<const int64_t*>(bounds.data());
  dispatch(dt, it, [&](auto* t, auto* i) {
    using T = std::remove_pointer_t<decltype(t)>;
    using I = std::remove_pointer_t<decltype(i)>;
    py::gil_scoped_release release;
    embedding_bag_forward_cpu(static_cast<T*>(op), static_cast<const T*>(wp),
                              static_cast<const I*>(ip), bp, nbags, num, dim);
  });
  return out;
}

py::array embedding_bag_backward(const py::object& grad_obj, const py::object& idx_obj,
                                 const py::object& bounds_obj, int64_t num_weights) {
  constexpr const char* fn = "embedding_bag_backward";
  DType dt;
  IType it;
  py::array g = float_table(grad_obj, fn, "grad", dt);
  py::array idx = index_input(idx_obj, fn, it);
  check_1d_indices(idx, fn);
  py::array bounds = as_array(bounds_obj, fn, "bounds");
  const int64_t nbags = bag_bounds(bounds, idx.size(), fn);
  FASTNN_CHECK(num_weights >= 0, fn, ": num_weights must be >= 0, got ", num_weights);
  FASTNN_CHECK(g.ndim() == 2 && g.shape(0) == nbags, fn,
               ": 'grad' must have shape (bags, embedding_dim) with ", nbags, " bags, got ",
               shape_str(g));
  const int64_t dim = g.shape(1);
  const bool big = is_zero_table(num_weights, dim, g);  // (reads g's dtype: with the GIL held)
  py::array dw = zero_table(num_weights, dim, g);
  void* dp = dw.mutable_data();
  const void *gp = g.data(), *ip = idx.data();
  const int64_t* bp = static_cast<const int64_t*>(bounds.data());
  dispatch(dt, it, [&](auto* t, auto* i) {
    using T = std::remove_pointer_t<decltype(t)>;
    using I = std::remove_pointer_t<decltype(i)>;
    py::gil_scoped_release release;
    embedding_bag_backward_cpu(static_cast<T*>(dp), static_cast<const T*>(gp),
                               static_cast<const I*>(ip), bp, nbags, num_weights, dim,
                               /*dweight_is_zero=*/big);
  });
  return dw;
}

py::array embedding_renorm_(const py::object& weight_obj, const py::object& idx_obj,
                            double max_norm, double norm_type) {
  constexpr const char* fn = "embedding_renorm_";
  DType dt;
  IType it;
  py::array w = float_table(weight_obj, fn, "weight", dt);
  check_2d(w, fn, "weight");
  check_writeable(w, fn, "weight");
  py::array idx = index_input(idx_obj, fn, it);
  FASTNN_CHECK(!std::isnan(max_norm) && max_norm >= 0, fn,
               ": max_norm must be a non-negative number, got ", max_norm);
  FASTNN_CHECK(!std::isnan(norm_type), fn, ": norm_type must be a number, got nan");
  FASTNN_CHECK(!overlaps(w, idx), fn, ": 'weight' and 'indices' must not share memory");
  const int64_t num = w.shape(0), dim = w.shape(1), n = idx.size();
  void* wp = w.mutable_data();
  const void* ip = idx.data();
  dispatch(dt, it, [&](auto* t, auto* i) {
    using T = std::remove_pointer_t<decltype(t)>;
    using I = std::remove_pointer_t<decltype(i)>;
    py::gil_scoped_release release;
    embedding_renorm_cpu(static_cast<T*>(wp), static_cast<const I*>(ip), n, num, dim, max_norm,
                         norm_type);
  });
  return w;
}

}  // namespace

void register_embedding(py::module_& m) {
  m.def("embedding", &embedding, py::arg("weight"), py::arg("indices"),
        R"doc(Rows of weight (num, dim) at indices (int32 or int64, any shape): out has shape
indices.shape + (dim,), out[..., :] = weight[indices[...], :]. An index outside [0, num) raises
IndexError. weight float32 or float64, both C-contiguous.)doc");
  m.def("embedding_backward", &embedding_backward, py::arg("grad"), py::arg("indices"),
        py::arg("num_weights"), py::arg("padding_idx") = py::none(),
        py::arg("scale_grad_by_freq") = false,
        R"doc(The table gradient (num_weights, dim) of embedding: row r is the sum of grad[...]
over the positions where indices == r (summed in position order, the same for any thread count),
zero for padding_idx (None, or an int in [-num_weights, num_weights)); with scale_grad_by_freq
each row is divided by how often r occurs. grad has shape indices.shape + (dim,).)doc");
  m.def("embedding_bag", &embedding_bag, py::arg("weight"), py::arg("indices"), py::arg("bounds"),
        R"doc(Sums of bags of rows of weight (num, dim): indices (int32 or int64, 1-D) hold the
bags one after another, bag b being positions bounds[b] to bounds[b + 1] (bounds int64, starting
at 0, non-decreasing, ending at len(indices)); out (bags, dim), out[b] = the sum of
weight[indices[i]] over bag b in order, zero for an empty bag. An index outside [0, num) raises
IndexError.)doc");
  m.def("embedding_bag_backward", &embedding_bag_backward, py::arg("grad"), py::arg("indices"),
        py::arg("bounds"), py::arg("num_weights"),
        R"doc(The table gradient (num_weights, dim) of embedding_bag: row r is the sum of grad[b]
(grad (bags, dim)) over the positions i with indices[i] == r, b the bag of i, in position order
(the same for any thread count).)doc");
  m.def("embedding_renorm_", &embedding_renorm_, py::arg("weight"), py::arg("indices"),
        py::arg("max_norm"), py::arg("norm_type") = 2.0,
        R"doc(In place: each distinct row of weight named in indices whose norm_type-norm exceeds
max_norm is scaled by max_norm / (norm + 1e-7). Returns weight.)doc");
}

}  // namespace fastnn::bind
