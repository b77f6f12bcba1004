// Error reporting for the kernels: nothing in csrc exits, aborts or prints; errors are exceptions.
// FASTNN_CHECK throws std::invalid_argument for caller errors; pybind11 turns it into ValueError.
// FASTNN_TYPE_CHECK throws a TypeError (wrong dtype or Python type) via fastnn::type_error.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace fastnn {

// Carries a TypeError across the C++/Python boundary (registered in bindings/module.cpp).
struct type_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

}  // namespace fastnn

#define FASTNN_CHECK(cond, ...)                                               \
  do {                                                                        \
    if (!(cond)) throw std::invalid_argument(::fastnn::str_cat(__VA_ARGS__)); \
  } while (0)

#define FASTNN_TYPE_CHECK(cond, ...)                                         \
  do {                                                                       \
    if (!(cond)) throw ::fastnn::type_error(::fastnn::str_cat(__VA_ARGS__)); \
  } while (0)
