// Internal helpers shared by the shim's translation units: handle conversion, dtype mapping and the
// exception barrier that every entry point goes through.
#pragma once

#include <ATen/ATen.h>

#include <exception>
#include <string>
#include <vector>

#include "ctorch.h"

struct ct_tensor_opaque {
  at::Tensor tensor;
};

struct ct_generator_opaque {
  at::Generator generator;
};

namespace ctorch {

void set_error(const char *message);

inline at::Tensor &unwrap(ct_tensor t) { return t->tensor; }

/// An absent optional tensor is an undefined at::Tensor, which every libtorch version accepts.
inline at::Tensor optional_tensor(ct_tensor t) { return t == nullptr ? at::Tensor() : t->tensor; }

inline ct_tensor wrap(at::Tensor t) { return new ct_tensor_opaque{std::move(t)}; }

inline at::IntArrayRef ints(const int64_t *values, int64_t count) {
  return at::IntArrayRef(values, static_cast<size_t>(count));
}

inline std::vector<at::Tensor> tensor_list(const ct_tensor *tensors, int64_t count) {
  std::vector<at::Tensor> list;
  list.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) list.push_back(tensors[i]->tensor);
  return list;
}

inline at::Scalar scalar(ct_scalar s) {
  return s.is_integer ? at::Scalar(s.integer) : at::Scalar(s.real);
}

at::ScalarType scalar_type(ct_dtype dtype);
ct_dtype dtype_code(at::ScalarType type);
at::Device device(ct_device_type type, int64_t index);
at::TensorOptions options(ct_dtype dtype, ct_device_type type, int64_t index);

/// Scaled dot-product attention: the fused kernel on libtorch ≥ 2, the equivalent composition on 1.x.
at::Tensor attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const at::Tensor &mask,
                     double dropout_p, bool is_causal);

}  // namespace ctorch

// The exception barrier: C++ exceptions never cross into Swift.
#define CT_TRY(...)                                        \
  try {                                                    \
    __VA_ARGS__;                                           \
    return 0;                                              \
  } catch (const c10::Error &error) {                      \
    ctorch::set_error(error.what_without_backtrace());     \
    return 1;                                              \
  } catch (const std::exception &error) {                  \
    ctorch::set_error(error.what());                       \
    return 1;                                              \
  } catch (...) {                                          \
    ctorch::set_error("unknown C++ exception in libtorch"); \
    return 1;                                              \
  }
