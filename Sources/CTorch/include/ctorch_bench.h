// Reference workloads written directly against ATen, to measure what the Swift binding adds on top of the same
// kernels. Each runs `iterations` times in one C++ call and reports the total wall time in seconds.
#ifndef CTORCH_BENCH_H
#define CTORCH_BENCH_H

#include "ctorch.h"

#ifdef __cplusplus
extern "C" {
#endif

/// a·b, `iterations` times.
ct_status ctb_matmul(double *seconds, ct_tensor a, ct_tensor b, int64_t iterations);

/// sum(conv2d(x, w, bias, padding 1)) then backward, clearing the parameter gradients after each iteration.
ct_status ctb_conv_forward_backward(double *seconds, ct_tensor x, ct_tensor weight, ct_tensor bias, int64_t iterations);

/// One Transformer encoder layer, forward, sum, backward, then clearing the 16 parameter gradients. `weights` in
/// the order norm1.{w,b}, query.{w,b}, key.{w,b}, value.{w,b}, output.{w,b}, norm2.{w,b}, linear1.{w,b},
/// linear2.{w,b}. Exact GELU, no dropout, layer-norm eps 1e-5: the same computation as TorchNN's
/// TransformerEncoderLayer.
ct_status ctb_encoder_layer_forward_backward(double *seconds, ct_tensor x, const ct_tensor *weights, int64_t heads,
                                             bool norm_first, int64_t iterations);

/// a + b, `iterations` times: the cost of one small op without any binding.
ct_status ctb_add(double *seconds, ct_tensor a, ct_tensor b, int64_t iterations);

#ifdef __cplusplus
}
#endif

#endif
