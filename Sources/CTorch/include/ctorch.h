// A flat C API over libtorch (ATen + autograd).
//
// Conventions:
// - Every function that can fail returns a ct_status: 0 on success, non-zero on failure, in which case
//   ct_last_error() returns the engine's message for the calling thread. Nothing here aborts or prints.
// - Results are written through `out` pointers. Every ct_tensor written to an `out` is a new handle the caller
//   owns and must release with ct_free. Input handles are borrowed for the duration of the call only.
// - Optional tensor inputs are passed as NULL.
// - No logic lives here beyond calling ATen/torch: composition belongs to the Swift side.
#ifndef CTORCH_H
#define CTORCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_tensor_opaque *ct_tensor;
typedef struct ct_generator_opaque *ct_generator;
typedef struct ct_guard_opaque *ct_guard;
typedef int32_t ct_status;

typedef enum {
  CT_FLOAT32 = 0,
  CT_FLOAT64 = 1,
  CT_FLOAT16 = 2,
  CT_BFLOAT16 = 3,
  CT_INT64 = 4,
  CT_INT32 = 5,
  CT_INT16 = 6,
  CT_INT8 = 7,
  CT_UINT8 = 8,
  CT_BOOL = 9,
} ct_dtype;

typedef enum { CT_CPU = 0, CT_CUDA = 1 } ct_device_type;

/// A number passed to the engine: integral scalars stay integral so integer tensors keep their dtype.
typedef struct {
  double real;
  int64_t integer;
  bool is_integer;
} ct_scalar;

typedef enum { CT_REDUCTION_NONE = 0, CT_REDUCTION_MEAN = 1, CT_REDUCTION_SUM = 2 } ct_reduction;
typedef enum { CT_INTERP_NEAREST = 0, CT_INTERP_BILINEAR = 1, CT_INTERP_BICUBIC = 2 } ct_interpolation;
typedef enum { CT_PAD_ZEROS = 0, CT_PAD_BORDER = 1, CT_PAD_REFLECTION = 2 } ct_padding_mode;

// ---- errors, build, runtime ----
const char *ct_last_error(void);
/// The engine's build description (at::show_config) plus version; caller frees with ct_free_string.
ct_status ct_build_config(char **out);
void ct_free_string(char *s);
int64_t ct_version_major(void);
int64_t ct_version_minor(void);
void ct_set_num_threads(int32_t n);
int32_t ct_get_num_threads(void);
bool ct_cuda_is_available(void);
int64_t ct_cuda_device_count(void);
ct_status ct_cuda_synchronize(void);
void ct_manual_seed(uint64_t seed);

// ---- generators ----
ct_status ct_generator_new(ct_generator *out, uint64_t seed);
void ct_generator_free(ct_generator g);
ct_status ct_generator_set_seed(ct_generator g, uint64_t seed);
/// The generator's whole state (seed, position, cached normal samples) as a new uint8 CPU tensor. `g` may be NULL for
/// the global CPU generator, which dropout and random calls without a generator use.
ct_status ct_generator_get_state(ct_tensor *out, ct_generator g);
/// Puts a state from ct_generator_get_state back (NULL: the global CPU generator). The engine rejects a state that is
/// not a contiguous uint8 CPU tensor of its own state size.
ct_status ct_generator_set_state(ct_generator g, ct_tensor state);

// ---- handles and metadata (borrowing, cannot fail on a valid handle) ----
void ct_free(ct_tensor t);
ct_status ct_shallow_clone(ct_tensor *out, ct_tensor t);
bool ct_is_defined(ct_tensor t);
int64_t ct_ndim(ct_tensor t);
/// Writes ct_ndim(t) sizes into `sizes`.
void ct_sizes(ct_tensor t, int64_t *sizes);
void ct_strides(ct_tensor t, int64_t *strides);
int64_t ct_numel(ct_tensor t);
ct_dtype ct_get_dtype(ct_tensor t);
ct_device_type ct_get_device_type(ct_tensor t);
int64_t ct_get_device_index(ct_tensor t);
bool ct_is_contiguous(ct_tensor t);
bool ct_requires_grad(ct_tensor t);
bool ct_is_leaf(ct_tensor t);
void *ct_data_ptr(ct_tensor t);
ct_status ct_set_requires_grad(ct_tensor t, bool requires_grad);
ct_status ct_item_double(ct_tensor t, double *out);
ct_status ct_item_int64(ct_tensor t, int64_t *out);
/// Copies the tensor's elements (any device, any layout) into `dst` as a contiguous row-major buffer.
ct_status ct_copy_to_buffer(ct_tensor t, void *dst, size_t nbytes);

// ---- creation ----
ct_status ct_empty(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index);
ct_status ct_zeros(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index);
ct_status ct_ones(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index);
ct_status ct_full(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_scalar value, ct_dtype dtype, ct_device_type device, int64_t index);
ct_status ct_arange(ct_tensor *out, ct_scalar start, ct_scalar end, ct_scalar step, ct_dtype dtype, ct_device_type device, int64_t index);
/// Random tensors; `generator` may be NULL for the global one. Values are drawn on the CPU, so a seed gives the
/// same numbers on every device.
ct_status ct_rand(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index, ct_generator generator);
ct_status ct_randn(ct_tensor *out, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index, ct_generator generator);
ct_status ct_randint(ct_tensor *out, int64_t low, int64_t high, const int64_t *shape, int64_t ndim, ct_dtype dtype, ct_device_type device, int64_t index, ct_generator generator);
ct_status ct_randperm(ct_tensor *out, int64_t n, ct_device_type device, int64_t index, ct_generator generator);
/// Copies `data` (contiguous, row-major) into a new CPU tensor.
ct_status ct_from_data(ct_tensor *out, const void *data, const int64_t *shape, int64_t ndim, ct_dtype dtype);
/// Wraps `data` without copying. `strides` may be NULL (contiguous). `deleter(context)` runs when the last tensor
/// viewing the memory is released, on whichever thread releases it.
ct_status ct_from_blob(ct_tensor *out, void *data, const int64_t *shape, int64_t ndim, const int64_t *strides, ct_dtype dtype,
                       void (*deleter)(void *context), void *context);

// ---- conversion ----
ct_status ct_to(ct_tensor *out, ct_tensor t, ct_device_type device, int64_t index, ct_dtype dtype, bool copy);
ct_status ct_contiguous(ct_tensor *out, ct_tensor t);
ct_status ct_clone(ct_tensor *out, ct_tensor t);
ct_status ct_detach(ct_tensor *out, ct_tensor t);
/// Points `t` at `source`'s data (device and dtype may change) keeping `t`'s autograd identity, as moving a
/// module's parameters needs.
ct_status ct_set_data(ct_tensor t, ct_tensor source);

// ---- shape ----
ct_status ct_reshape(ct_tensor *out, ct_tensor t, const int64_t *shape, int64_t ndim);
ct_status ct_view(ct_tensor *out, ct_tensor t, const int64_t *shape, int64_t ndim);
ct_status ct_permute(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t ndim);
ct_status ct_transpose(ct_tensor *out, ct_tensor t, int64_t dim0, int64_t dim1);
ct_status ct_expand(ct_tensor *out, ct_tensor t, const int64_t *shape, int64_t ndim);
ct_status ct_repeat(ct_tensor *out, ct_tensor t, const int64_t *repeats, int64_t ndim);
ct_status ct_squeeze(ct_tensor *out, ct_tensor t);
ct_status ct_squeeze_dim(ct_tensor *out, ct_tensor t, int64_t dim);
ct_status ct_unsqueeze(ct_tensor *out, ct_tensor t, int64_t dim);
ct_status ct_flatten(ct_tensor *out, ct_tensor t, int64_t start_dim, int64_t end_dim);
ct_status ct_cat(ct_tensor *out, const ct_tensor *tensors, int64_t count, int64_t dim);
ct_status ct_stack(ct_tensor *out, const ct_tensor *tensors, int64_t count, int64_t dim);
/// Writes `count` pieces into `outs`.
ct_status ct_split_with_sizes(ct_tensor *outs, ct_tensor t, const int64_t *sizes, int64_t count, int64_t dim);
/// Writes at most `chunks` pieces into `outs` and their number into `count`.
ct_status ct_chunk(ct_tensor *outs, int64_t *count, ct_tensor t, int64_t chunks, int64_t dim);
ct_status ct_narrow(ct_tensor *out, ct_tensor t, int64_t dim, int64_t start, int64_t length);
ct_status ct_slice(ct_tensor *out, ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step);
ct_status ct_select(ct_tensor *out, ct_tensor t, int64_t dim, int64_t index);
ct_status ct_index_select(ct_tensor *out, ct_tensor t, int64_t dim, ct_tensor index);
ct_status ct_gather(ct_tensor *out, ct_tensor t, int64_t dim, ct_tensor index);
ct_status ct_masked_fill(ct_tensor *out, ct_tensor t, ct_tensor mask, ct_scalar value);
ct_status ct_where(ct_tensor *out, ct_tensor condition, ct_tensor a, ct_tensor b);
ct_status ct_tril(ct_tensor *out, ct_tensor t, int64_t diagonal);
ct_status ct_triu(ct_tensor *out, ct_tensor t, int64_t diagonal);
ct_status ct_one_hot(ct_tensor *out, ct_tensor t, int64_t num_classes);

// ---- arithmetic (broadcasting) ----
ct_status ct_add(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_sub(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_mul(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_div(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_pow(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_maximum(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_minimum(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_eq(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_ne(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_lt(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_le(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_gt(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_ge(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_logical_and(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_logical_or(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_add_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
ct_status ct_sub_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
/// b - a
ct_status ct_rsub_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
ct_status ct_mul_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
ct_status ct_div_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
ct_status ct_pow_scalar(ct_tensor *out, ct_tensor a, ct_scalar exponent);
ct_status ct_eq_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
ct_status ct_ne_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
ct_status ct_lt_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
ct_status ct_le_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
ct_status ct_gt_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
ct_status ct_ge_scalar(ct_tensor *out, ct_tensor a, ct_scalar b);
/// Either bound may be absent (has_min/has_max false); integral bounds keep integer tensors integral.
ct_status ct_clamp(ct_tensor *out, ct_tensor t, bool has_min, ct_scalar min, bool has_max, ct_scalar max);
ct_status ct_matmul(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_mm(ct_tensor *out, ct_tensor a, ct_tensor b);
ct_status ct_bmm(ct_tensor *out, ct_tensor a, ct_tensor b);

// ---- elementwise functions ----
ct_status ct_neg(ct_tensor *out, ct_tensor t);
ct_status ct_abs(ct_tensor *out, ct_tensor t);
ct_status ct_sign(ct_tensor *out, ct_tensor t);
ct_status ct_exp(ct_tensor *out, ct_tensor t);
ct_status ct_log(ct_tensor *out, ct_tensor t);
ct_status ct_log1p(ct_tensor *out, ct_tensor t);
ct_status ct_sqrt(ct_tensor *out, ct_tensor t);
ct_status ct_rsqrt(ct_tensor *out, ct_tensor t);
ct_status ct_reciprocal(ct_tensor *out, ct_tensor t);
ct_status ct_sin(ct_tensor *out, ct_tensor t);
ct_status ct_cos(ct_tensor *out, ct_tensor t);
ct_status ct_floor(ct_tensor *out, ct_tensor t);
ct_status ct_relu(ct_tensor *out, ct_tensor t);
ct_status ct_sigmoid(ct_tensor *out, ct_tensor t);
ct_status ct_tanh(ct_tensor *out, ct_tensor t);
ct_status ct_silu(ct_tensor *out, ct_tensor t);
ct_status ct_erf(ct_tensor *out, ct_tensor t);
ct_status ct_logical_not(ct_tensor *out, ct_tensor t);
ct_status ct_gelu(ct_tensor *out, ct_tensor t, bool tanh_approximation);
ct_status ct_softmax(ct_tensor *out, ct_tensor t, int64_t dim);
ct_status ct_log_softmax(ct_tensor *out, ct_tensor t, int64_t dim);

// ---- reductions ----
ct_status ct_sum(ct_tensor *out, ct_tensor t);
ct_status ct_sum_dims(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t count, bool keepdim);
ct_status ct_mean(ct_tensor *out, ct_tensor t);
ct_status ct_mean_dims(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t count, bool keepdim);
ct_status ct_var_dims(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t count, bool unbiased, bool keepdim);
ct_status ct_max(ct_tensor *out, ct_tensor t);
ct_status ct_min(ct_tensor *out, ct_tensor t);
ct_status ct_max_dim(ct_tensor *values, ct_tensor *indices, ct_tensor t, int64_t dim, bool keepdim);
ct_status ct_min_dim(ct_tensor *values, ct_tensor *indices, ct_tensor t, int64_t dim, bool keepdim);
ct_status ct_argmax(ct_tensor *out, ct_tensor t, int64_t dim, bool keepdim);
ct_status ct_argmin(ct_tensor *out, ct_tensor t, int64_t dim, bool keepdim);
ct_status ct_topk(ct_tensor *values, ct_tensor *indices, ct_tensor t, int64_t k, int64_t dim, bool largest, bool sorted);
ct_status ct_logsumexp(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t count, bool keepdim);
/// p-norm over `dims` (all dimensions when count == 0).
ct_status ct_norm(ct_tensor *out, ct_tensor t, double p, const int64_t *dims, int64_t count, bool keepdim);
ct_status ct_all(ct_tensor *out, ct_tensor t);
ct_status ct_any(ct_tensor *out, ct_tensor t);
ct_status ct_equal(ct_tensor a, ct_tensor b, bool *out);
ct_status ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, bool *out);

// ---- neural-network functions ----
ct_status ct_linear(ct_tensor *out, ct_tensor input, ct_tensor weight, ct_tensor bias);
ct_status ct_conv2d(ct_tensor *out, ct_tensor input, ct_tensor weight, ct_tensor bias, const int64_t *stride,
                    const int64_t *padding, const int64_t *dilation, int64_t groups);
ct_status ct_max_pool2d(ct_tensor *out, ct_tensor input, const int64_t *kernel, const int64_t *stride, const int64_t *padding);
ct_status ct_avg_pool2d(ct_tensor *out, ct_tensor input, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                        bool count_include_pad);
ct_status ct_adaptive_avg_pool2d(ct_tensor *out, ct_tensor input, const int64_t *output_size);
ct_status ct_adaptive_max_pool2d(ct_tensor *out, ct_tensor input, const int64_t *output_size);
ct_status ct_grid_sample(ct_tensor *out, ct_tensor input, ct_tensor grid, ct_interpolation mode, ct_padding_mode padding,
                         bool align_corners);
/// Resizes the last two dimensions of [N, C, H, W] to `size`. Bicubic and bilinear accept `antialias` (for shrinking).
ct_status ct_interpolate(ct_tensor *out, ct_tensor input, const int64_t *size, ct_interpolation mode, bool align_corners,
                         bool antialias);
ct_status ct_layer_norm(ct_tensor *out, ct_tensor input, const int64_t *normalized_shape, int64_t ndim, ct_tensor weight,
                        ct_tensor bias, double eps);
/// Updates running_mean/running_var in place when training.
ct_status ct_batch_norm(ct_tensor *out, ct_tensor input, ct_tensor weight, ct_tensor bias, ct_tensor running_mean,
                        ct_tensor running_var, bool training, double momentum, double eps);
/// Uses the global generator (ct_manual_seed).
ct_status ct_dropout(ct_tensor *out, ct_tensor input, double p, bool training);
ct_status ct_embedding(ct_tensor *out, ct_tensor weight, ct_tensor indices, int64_t padding_idx);
/// `target` holds class indices (int64) or class probabilities (same shape as logits).
ct_status ct_cross_entropy(ct_tensor *out, ct_tensor logits, ct_tensor target, ct_tensor weight, ct_reduction reduction,
                           int64_t ignore_index, double label_smoothing);
ct_status ct_mse_loss(ct_tensor *out, ct_tensor input, ct_tensor target, ct_reduction reduction);
/// Attention over [..., L, E] queries and [..., S, E] keys/values. `mask` (optional) is boolean (true = may attend) or
/// additive float, broadcastable to [..., L, S]. Uses the fused kernel where the engine has one.
ct_status ct_scaled_dot_product_attention(ct_tensor *out, ct_tensor query, ct_tensor key, ct_tensor value, ct_tensor mask,
                                          double dropout_p, bool is_causal);

// ---- autograd ----
bool ct_is_grad_enabled(void);
void ct_set_grad_enabled(bool enabled);
/// Enters inference mode on the calling thread until the guard is freed (on the same thread).
ct_status ct_inference_mode_enter(ct_guard *out);
void ct_guard_free(ct_guard g);
ct_status ct_backward(ct_tensor t, ct_tensor gradient, bool retain_graph, bool create_graph);
/// Writes NULL when the tensor has no gradient.
ct_status ct_grad(ct_tensor *out, ct_tensor t);
/// Sets (or with NULL clears) the accumulated gradient.
ct_status ct_set_grad(ct_tensor t, ct_tensor gradient);
/// torch::autograd::grad: writes `input_count` gradients (NULL where unused and allow_unused).
ct_status ct_autograd_grad(ct_tensor *outs, const ct_tensor *outputs, int64_t output_count, const ct_tensor *inputs,
                           int64_t input_count, const ct_tensor *grad_outputs, bool retain_graph, bool create_graph,
                           bool allow_unused);

// ---- in place (for optimizers and buffers; call with grad disabled on leaves) ----
ct_status ct_add_(ct_tensor t, ct_tensor other, ct_scalar alpha);
ct_status ct_add_scalar_(ct_tensor t, ct_scalar value);
ct_status ct_mul_(ct_tensor t, ct_tensor other);
ct_status ct_mul_scalar_(ct_tensor t, ct_scalar value);
ct_status ct_div_(ct_tensor t, ct_tensor other);
ct_status ct_addcmul_(ct_tensor t, ct_tensor a, ct_tensor b, ct_scalar value);
ct_status ct_addcdiv_(ct_tensor t, ct_tensor a, ct_tensor b, ct_scalar value);
ct_status ct_lerp_(ct_tensor t, ct_tensor end, ct_scalar weight);
ct_status ct_copy_(ct_tensor t, ct_tensor source);
ct_status ct_zero_(ct_tensor t);
ct_status ct_fill_(ct_tensor t, ct_scalar value);
ct_status ct_clamp_(ct_tensor t, bool has_min, ct_scalar min, bool has_max, ct_scalar max);
ct_status ct_uniform_(ct_tensor t, double low, double high, ct_generator generator);
ct_status ct_normal_(ct_tensor t, double mean, double std, ct_generator generator);

#ifdef __cplusplus
}
#endif

#endif
