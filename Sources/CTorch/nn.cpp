// Neural-network functions: linear and convolution, pooling, resampling, normalisation, losses, attention.
#include <torch/version.h>

#include <cmath>
#include <limits>

#include "support.hpp"

using namespace ctorch;

namespace {
int64_t reduction_code(ct_reduction reduction) {
  switch (reduction) {
    case CT_REDUCTION_NONE: return at::Reduction::None;
    case CT_REDUCTION_MEAN: return at::Reduction::Mean;
    case CT_REDUCTION_SUM: return at::Reduction::Sum;
  }
  throw std::invalid_argument("unknown reduction");
}

// grid_sampler's integer codes, shared by every libtorch version.
int64_t interpolation_code(ct_interpolation mode) {
  switch (mode) {
    case CT_INTERP_BILINEAR: return 0;
    case CT_INTERP_NEAREST: return 1;
    case CT_INTERP_BICUBIC: return 2;
  }
  throw std::invalid_argument("unknown interpolation mode");
}
}  // namespace

namespace ctorch {

at::Tensor attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const at::Tensor &mask,
                     double dropout_p, bool is_causal) {
#if TORCH_VERSION_MAJOR >= 2
  // The fused op takes an optional mask and rejects an undefined tensor inside it.
  c10::optional<at::Tensor> optional_mask = mask.defined() ? c10::optional<at::Tensor>(mask) : c10::nullopt;
  return at::scaled_dot_product_attention(q, k, v, optional_mask, dropout_p, is_causal);
#else
  // libtorch 1.x has no fused kernel: softmax(q kᵀ / √E + mask) v, the same ATen calls the fused op falls back to.
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul_(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  const double negative_infinity = -std::numeric_limits<double>::infinity();
  if (is_causal) {
    at::Tensor keep = at::ones({q.size(-2), k.size(-2)}, q.options().dtype(at::kBool)).tril();
    scores = scores.masked_fill(keep.logical_not(), negative_infinity);
  }
  if (mask.defined()) {
    scores = mask.scalar_type() == at::kBool ? scores.masked_fill(mask.logical_not(), negative_infinity) : scores.add(mask);
  }
  at::Tensor weights = at::softmax(scores, -1);
  if (dropout_p > 0) weights = at::dropout(weights, dropout_p, true);
  return at::matmul(weights, v);
#endif
}

}  // namespace ctorch

extern "C" {

ct_status ct_linear(ct_tensor *out, ct_tensor input, ct_tensor weight, ct_tensor bias) {
  CT_TRY(*out = wrap(at::linear(unwrap(input), unwrap(weight), optional_tensor(bias))))
}

ct_status ct_conv2d(ct_tensor *out, ct_tensor input, ct_tensor weight, ct_tensor bias, const int64_t *stride,
                    const int64_t *padding, const int64_t *dilation, int64_t groups) {
  CT_TRY(*out = wrap(at::conv2d(unwrap(input), unwrap(weight), optional_tensor(bias), ints(stride, 2), ints(padding, 2),
                                ints(dilation, 2), groups)))
}

ct_status ct_max_pool2d(ct_tensor *out, ct_tensor input, const int64_t *kernel, const int64_t *stride, const int64_t *padding) {
  CT_TRY(*out = wrap(at::max_pool2d(unwrap(input), ints(kernel, 2), ints(stride, 2), ints(padding, 2))))
}

ct_status ct_avg_pool2d(ct_tensor *out, ct_tensor input, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                        bool count_include_pad) {
  CT_TRY(*out = wrap(at::avg_pool2d(unwrap(input), ints(kernel, 2), ints(stride, 2), ints(padding, 2), false,
                                    count_include_pad)))
}

ct_status ct_adaptive_avg_pool2d(ct_tensor *out, ct_tensor input, const int64_t *output_size) {
  CT_TRY(*out = wrap(at::adaptive_avg_pool2d(unwrap(input), ints(output_size, 2))))
}

ct_status ct_adaptive_max_pool2d(ct_tensor *out, ct_tensor input, const int64_t *output_size) {
  CT_TRY(*out = wrap(std::get<0>(at::adaptive_max_pool2d(unwrap(input), ints(output_size, 2)))))
}

ct_status ct_grid_sample(ct_tensor *out, ct_tensor input, ct_tensor grid, ct_interpolation mode, ct_padding_mode padding,
                         bool align_corners) {
  CT_TRY(*out = wrap(at::grid_sampler(unwrap(input), unwrap(grid), interpolation_code(mode), static_cast<int64_t>(padding),
                                      align_corners)))
}

ct_status ct_interpolate(ct_tensor *out, ct_tensor input, const int64_t *size, ct_interpolation mode, bool align_corners,
                         bool antialias) {
  CT_TRY({
    const at::Tensor &x = unwrap(input);
    at::IntArrayRef output_size = ints(size, 2);
    switch (mode) {
      case CT_INTERP_NEAREST:
        *out = wrap(at::upsample_nearest2d(x, output_size, c10::nullopt, c10::nullopt));
        break;
      case CT_INTERP_BILINEAR:
        *out = wrap(antialias ? at::_upsample_bilinear2d_aa(x, output_size, align_corners, c10::nullopt, c10::nullopt)
                              : at::upsample_bilinear2d(x, output_size, align_corners, c10::nullopt, c10::nullopt));
        break;
      case CT_INTERP_BICUBIC:
        *out = wrap(antialias ? at::_upsample_bicubic2d_aa(x, output_size, align_corners, c10::nullopt, c10::nullopt)
                              : at::upsample_bicubic2d(x, output_size, align_corners, c10::nullopt, c10::nullopt));
        break;
    }
  })
}

ct_status ct_layer_norm(ct_tensor *out, ct_tensor input, const int64_t *normalized_shape, int64_t ndim, ct_tensor weight,
                        ct_tensor bias, double eps) {
  CT_TRY(*out = wrap(at::layer_norm(unwrap(input), ints(normalized_shape, ndim), optional_tensor(weight),
                                    optional_tensor(bias), eps)))
}

ct_status ct_batch_norm(ct_tensor *out, ct_tensor input, ct_tensor weight, ct_tensor bias, ct_tensor running_mean,
                        ct_tensor running_var, bool training, double momentum, double eps) {
  CT_TRY(*out = wrap(at::batch_norm(unwrap(input), optional_tensor(weight), optional_tensor(bias),
                                    optional_tensor(running_mean), optional_tensor(running_var), training, momentum, eps,
                                    /*cudnn_enabled=*/true)))
}

ct_status ct_dropout(ct_tensor *out, ct_tensor input, double p, bool training) {
  CT_TRY(*out = wrap(at::dropout(unwrap(input), p, training)))
}

ct_status ct_embedding(ct_tensor *out, ct_tensor weight, ct_tensor indices, int64_t padding_idx) {
  CT_TRY(*out = wrap(at::embedding(unwrap(weight), unwrap(indices), padding_idx)))
}

ct_status ct_cross_entropy(ct_tensor *out, ct_tensor logits, ct_tensor target, ct_tensor weight, ct_reduction reduction,
                           int64_t ignore_index, double label_smoothing) {
  CT_TRY(*out = wrap(at::cross_entropy_loss(unwrap(logits), unwrap(target), optional_tensor(weight),
                                            reduction_code(reduction), ignore_index, label_smoothing)))
}

ct_status ct_mse_loss(ct_tensor *out, ct_tensor input, ct_tensor target, ct_reduction reduction) {
  CT_TRY(*out = wrap(at::mse_loss(unwrap(input), unwrap(target), reduction_code(reduction))))
}

ct_status ct_scaled_dot_product_attention(ct_tensor *out, ct_tensor query, ct_tensor key, ct_tensor value, ct_tensor mask,
                                          double dropout_p, bool is_causal) {
  CT_TRY(*out = wrap(attention(unwrap(query), unwrap(key), unwrap(value), optional_tensor(mask), dropout_p, is_causal)))
}

}  // extern "C"
