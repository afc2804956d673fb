// Errors, runtime settings, generators, handles, creation and autograd.
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/generated/variable_factories.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "support.hpp"

struct ct_guard_opaque {
  c10::InferenceMode mode;
};

namespace ctorch {

namespace {
thread_local std::string last_error;
}

void set_error(const char *message) { last_error = message; }

at::ScalarType scalar_type(ct_dtype dtype) {
  switch (dtype) {
    case CT_FLOAT32: return at::kFloat;
    case CT_FLOAT64: return at::kDouble;
    case CT_FLOAT16: return at::kHalf;
    case CT_BFLOAT16: return at::kBFloat16;
    case CT_INT64: return at::kLong;
    case CT_INT32: return at::kInt;
    case CT_INT16: return at::kShort;
    case CT_INT8: return at::kChar;
    case CT_UINT8: return at::kByte;
    case CT_BOOL: return at::kBool;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(static_cast<int>(dtype)));
}

ct_dtype dtype_code(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return CT_FLOAT32;
    case at::kDouble: return CT_FLOAT64;
    case at::kHalf: return CT_FLOAT16;
    case at::kBFloat16: return CT_BFLOAT16;
    case at::kLong: return CT_INT64;
    case at::kInt: return CT_INT32;
    case at::kShort: return CT_INT16;
    case at::kChar: return CT_INT8;
    case at::kByte: return CT_UINT8;
    case at::kBool: return CT_BOOL;
    default: throw std::invalid_argument(std::string("unsupported dtype ") + c10::toString(type));
  }
}

at::Device device(ct_device_type type, int64_t index) {
  if (type == CT_CUDA) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  return at::Device(at::kCPU);
}

at::TensorOptions options(ct_dtype dtype, ct_device_type type, int64_t index) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device(type, index));
}

}  // namespace ctorch

using namespace ctorch;

namespace {
at::Generator generator_or_default(ct_generator g) {
  return g == nullptr ? at::detail::getDefaultCPUGenerator() : g->generator;
}

/// Draws on the CPU with `generator`, then moves to the requested device and dtype.
template <typename Draw>
ct_status random_tensor(ct_tensor *out, ct_dtype dtype, ct_device_type type, int64_t index, Draw draw) {
  CT_TRY({
    at::Tensor cpu = draw();
    *out = wrap(cpu.to(device(type, index), scalar_type(dtype)));
  })
}
}  // namespace

extern "C" {

const char *ct_last_error(void) { return last_error.c_str(); }

ct_status ct_build_config(char **out) {
  CT_TRY({
    std::ostringstream text;
    text << "libtorch " << TORCH_VERSION << "\n" << at::show_config();
    std::string s = text.str();
    char *buffer = static_cast<char *>(std::malloc(s.size() + 1));
    if (buffer == nullptr) throw std::bad_alloc();
    std::memcpy(buffer, s.c_str(), s.size() + 1);
    *out = buffer;
  })
}

void ct_free_string(char *s) { std::free(s); }
int64_t ct_version_major(void) { return TORCH_VERSION_MAJOR; }
int64_t ct_version_minor(void) { return TORCH_VERSION_MINOR; }
void ct_set_num_threads(int32_t n) { at::set_num_threads(n); }
int32_t ct_get_num_threads(void) { return at::get_num_threads(); }
bool ct_cuda_is_available(void) { return at::hasCUDA() && at::detail::getCUDAHooks().getNumGPUs() > 0; }
int64_t ct_cuda_device_count(void) { return at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0; }

ct_status ct_cuda_synchronize(void) {
  CT_TRY({
    if (at::hasCUDA()) at::detail::getCUDAHooks().deviceSynchronize(at::detail::getCUDAHooks().current_device());
  })
}

void ct_manual_seed(uint64_t seed) {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
}

ct_status ct_generator_new(ct_generator *out, uint64_t seed) {
  CT_TRY(*out = new ct_generator_opaque{at::detail::createCPUGenerator(seed)})
}

void ct_generator_free(ct_generator g) { delete g; }

ct_status ct_generator_set_seed(ct_generator g, uint64_t seed) {
  CT_TRY({
    std::lock_guard<std::mutex> lock(g->generator.mutex());
    g->generator.set_current_seed(seed);
  })
}

// Both lock the generator's mutex, as torch.get_rng_state / set_rng_state do, so that a draw on another thread
// never sees half a state.
ct_status ct_generator_get_state(ct_tensor *out, ct_generator g) {
  CT_TRY({
    at::Generator generator = generator_or_default(g);
    std::lock_guard<std::mutex> lock(generator.mutex());
    *out = wrap(generator.get_state());
  })
}

ct_status ct_generator_set_state(ct_generator g, ct_tensor state) {
  CT_TRY({
    at::Generator generator = generator_or_default(g);
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(unwrap(state));
  })
}

void ct_free(ct_tensor t) { delete t; }
ct_status ct_shallow_clone(ct_tensor *out, ct_tensor t) { CT_TRY(*out = wrap(unwrap(t))) }
bool ct_is_defined(ct_tensor t) { return t != nullptr && unwrap(t).defined(); }
int64_t ct_ndim(ct_tensor t) { return unwrap(t).dim(); }

void ct_sizes(ct_tensor t, int64_t *sizes) {
  auto s = unwrap(t).sizes();
  std::copy(s.begin(), s.end(), sizes);
}

void ct_strides(ct_tensor t, int64_t *strides) {
  auto s = unwrap(t).strides();
  std::copy(s.begin(), s.end(), strides);
}

int64_t ct_numel(ct_tensor t) { return unwrap(t).numel(); }
ct_dtype ct_get_dtype(ct_tensor t) { return dtype_code(unwrap(t).scalar_type()); }
ct_device_type ct_get_device_type(ct_tensor t) { return unwrap(t).is_cuda() ? CT_CUDA : CT_CPU; }
int64_t ct_get_device_index(ct_tensor t) { return unwrap(t).is_cuda() ? unwrap(t).get_device() : 0; }
bool ct_is_contiguous(ct_tensor t) { return unwrap(t).is_contiguous(); }
bool ct_requires_grad(ct_tensor t) { return unwrap(t).requires_grad(); }
bool ct_is_leaf(ct_tensor t) { return unwrap(t).is_leaf(); }
void *ct_data_ptr(ct_tensor t) { return unwrap(t).data_ptr(); }

ct_status ct_set_requires_grad(ct_tensor t, bool requires_grad) { CT_TRY(unwrap(t).requires_grad_(requires_grad)) }
ct_status ct_item_double(ct_tensor t, double *out) { CT_TRY(*out = unwrap(t).item<double>()) }
ct_status ct_item_int64(ct_tensor t, int64_t *out) { CT_TRY(*out = unwrap(t).item<int64_t>()) }

ct_status ct_copy_to_buffer(ct_tensor t, void *dst, size_t nbytes) {
  CT_TRY({
    at::Tensor source = unwrap(t).detach().to(at::kCPU).contiguous();
    size_t needed = static_cast<size_t>(source.numel()) * source.element_size();
    if (needed != nbytes) {
      throw std::invalid_argument("copy_to_buffer: tensor holds " + std::to_string(needed) + " bytes, buffer has " +
                                  std::to_string(nbytes));
    }
    if (needed > 0) std::memcpy(dst, source.data_ptr(), needed);
  })
}

ct_status ct_empty(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index) {
  CT_TRY(*out = wrap(at::empty(ints(shape, ndim), options(dtype, device, index))))
}

ct_status ct_zeros(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index) {
  CT_TRY(*out = wrap(at::zeros(ints(shape, ndim), options(dtype, device, index))))
}

ct_status ct_ones(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index) {
  CT_TRY(*out = wrap(at::ones(ints(shape, ndim), options(dtype, device, index))))
}

ct_status ct_full(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_scalar value, ct_dtype dtype, ct_device_type device,
                  int64_t index) {
  CT_TRY(*out = wrap(at::full(ints(shape, ndim), scalar(value), options(dtype, device, index))))
}

ct_status ct_arange(ct_tensor *out, ct_scalar start, ct_scalar end, ct_scalar step, ct_dtype dtype, ct_device_type device,
                    int64_t index) {
  CT_TRY(*out = wrap(at::arange(scalar(start), scalar(end), scalar(step), options(dtype, device, index))))
}

ct_status ct_rand(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index,
                  ct_generator generator) {
  return random_tensor(out, dtype, device, index, [&] {
    return at::rand(ints(shape, ndim), generator_or_default(generator), at::TensorOptions().dtype(at::kDouble));
  });
}

ct_status ct_randn(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index,
                   ct_generator generator) {
  return random_tensor(out, dtype, device, index, [&] {
    return at::randn(ints(shape, ndim), generator_or_default(generator), at::TensorOptions().dtype(at::kDouble));
  });
}

ct_status ct_randint(ct_tensor *out, int64_t low, int64_t high, const int64_t *shape, int64_t ndim, ct_dtype dtype,
                     ct_device_type device, int64_t index, ct_generator generator) {
  return random_tensor(out, dtype, device, index, [&] {
    return at::randint(low, high, ints(shape, ndim), generator_or_default(generator), at::TensorOptions().dtype(at::kLong));
  });
}

ct_status ct_randperm(ct_tensor *out, int64_t n, ct_device_type device, int64_t index, ct_generator generator) {
  return random_tensor(out, CT_INT64, device, index, [&] {
    return at::randperm(n, generator_or_default(generator), at::TensorOptions().dtype(at::kLong));
  });
}

ct_status ct_from_data(ct_tensor *out, const void *data, const int64_t *shape, int64_t ndim, ct_dtype dtype) {
  CT_TRY({
    at::Tensor t = at::empty(ints(shape, ndim), at::TensorOptions().dtype(scalar_type(dtype)));
    size_t nbytes = static_cast<size_t>(t.numel()) * t.element_size();
    if (nbytes > 0) std::memcpy(t.data_ptr(), data, nbytes);
    *out = wrap(std::move(t));
  })
}

ct_status ct_from_blob(ct_tensor *out, void *data, const int64_t *shape, int64_t ndim, const int64_t *strides, ct_dtype dtype,
                       void (*deleter)(void *context), void *context) {
  CT_TRY({
    auto release = [deleter, context](void *) {
      if (deleter != nullptr) deleter(context);
    };
    auto opts = at::TensorOptions().dtype(scalar_type(dtype));
    at::Tensor t = strides == nullptr ? at::from_blob(data, ints(shape, ndim), release, opts)
                                      : at::from_blob(data, ints(shape, ndim), ints(strides, ndim), release, opts);
    *out = wrap(std::move(t));
  })
}

bool ct_is_grad_enabled(void) { return at::GradMode::is_enabled(); }
void ct_set_grad_enabled(bool enabled) { at::GradMode::set_enabled(enabled); }

ct_status ct_inference_mode_enter(ct_guard *out) { CT_TRY(*out = new ct_guard_opaque{}) }
void ct_guard_free(ct_guard g) { delete g; }

ct_status ct_backward(ct_tensor t, ct_tensor gradient, bool retain_graph, bool create_graph) {
  CT_TRY(unwrap(t).backward(optional_tensor(gradient), retain_graph, create_graph))
}

ct_status ct_grad(ct_tensor *out, ct_tensor t) {
  CT_TRY({
    const at::Tensor &g = unwrap(t).grad();
    *out = g.defined() ? wrap(g) : nullptr;
  })
}

ct_status ct_set_grad(ct_tensor t, ct_tensor gradient) {
  CT_TRY({
    if (gradient == nullptr) {
      unwrap(t).mutable_grad().reset();
    } else {
      unwrap(t).mutable_grad() = unwrap(gradient);
    }
  })
}

ct_status ct_autograd_grad(ct_tensor *outs, const ct_tensor *outputs, int64_t output_count, const ct_tensor *inputs,
                           int64_t input_count, const ct_tensor *grad_outputs, bool retain_graph, bool create_graph,
                           bool allow_unused) {
  CT_TRY({
    std::vector<at::Tensor> seeds;
    if (grad_outputs != nullptr) {
      for (int64_t i = 0; i < output_count; ++i) seeds.push_back(optional_tensor(grad_outputs[i]));
    }
    auto grads = torch::autograd::grad(tensor_list(outputs, output_count), tensor_list(inputs, input_count), seeds,
                                       retain_graph, create_graph, allow_unused);
    for (size_t i = 0; i < grads.size(); ++i) outs[i] = grads[i].defined() ? wrap(grads[i]) : nullptr;
  })
}

}  // extern "C"
