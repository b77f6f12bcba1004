// Bindings for fastnn.kernels.embedding / embedding_backward / embedding_renorm_: validate the
// table, the indices (int32 or int64, any shape) and the options, then release the GIL and run
// the kernel. Index values are checked by the kernel itself, before it writes anything
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
  // A large table: numpy.zeros gets fresh zero pages from the OS (calloc over mmap), so the
  // kernel writes only the looked-up rows and the rest costs nothing until read. A small one
  // comes from the heap, where zeroing is a memset anyway: the kernel writes every row.
  const bool big = num_weights * dim * int64_t(g.itemsize()) >= (int64_t(4) << 20);
  py::array dw = big ? py::array(py::module_::import("numpy").attr("zeros")(
                           py::make_tuple(num_weights, dim), g.dtype()))
                     : py::array(g.dtype(), std::vector<py::ssize_t>{num_weights, dim});
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
  m.def("embedding_renorm_", &embedding_renorm_, py::arg("weight"), py::arg("indices"),
        py::arg("max_norm"), py::arg("norm_type") = 2.0,
        R"doc(In place: each distinct row of weight named in indices whose norm_type-norm exceeds
max_norm is scaled by max_norm / (norm + 1e-7). Returns weight.)doc");
}

}  // namespace fastnn::bind
