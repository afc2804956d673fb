#include "ctorch_bench.h"

#include <chrono>

#include "support.hpp"

using namespace ctorch;

namespace {

template <typename Work>
ct_status timed(double *seconds, int64_t iterations, Work work) {
  CT_TRY({
    auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iterations; ++i) work();
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  })
}

at::Tensor split_heads(const at::Tensor &x, int64_t heads) {
  return x.reshape({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

}  // namespace

extern "C" {

ct_status ctb_matmul(double *seconds, ct_tensor a, ct_tensor b, int64_t iterations) {
  return timed(seconds, iterations, [&] { at::matmul(unwrap(a), unwrap(b)); });
}

ct_status ctb_conv_forward_backward(double *seconds, ct_tensor x, ct_tensor weight, ct_tensor bias, int64_t iterations) {
  return timed(seconds, iterations, [&] {
    at::conv2d(unwrap(x), unwrap(weight), unwrap(bias), {1, 1}, {1, 1}, {1, 1}, 1).sum().backward();
    unwrap(weight).mutable_grad().reset();
    unwrap(bias).mutable_grad().reset();
  });
}

ct_status ctb_encoder_layer_forward_backward(double *seconds, ct_tensor x, const ct_tensor *weights, int64_t heads,
                                             bool norm_first, int64_t iterations) {
  std::vector<at::Tensor> w = tensor_list(weights, 16);
  const at::Tensor &input = unwrap(x);
  const int64_t dimension = input.size(-1);
  auto self_attention = [&](const at::Tensor &h) {
    at::Tensor q = split_heads(at::linear(h, w[2], w[3]), heads);
    at::Tensor k = split_heads(at::linear(h, w[4], w[5]), heads);
    at::Tensor v = split_heads(at::linear(h, w[6], w[7]), heads);
    at::Tensor attended = attention(q, k, v, at::Tensor(), 0.0, false);
    attended = attended.transpose(1, 2).reshape({h.size(0), h.size(1), dimension});
    return at::linear(attended, w[8], w[9]);
  };
  auto feed_forward = [&](const at::Tensor &h) { return at::linear(at::gelu(at::linear(h, w[12], w[13])), w[14], w[15]); };
  auto norm = [&](const at::Tensor &h, size_t index) { return at::layer_norm(h, {dimension}, w[index], w[index + 1], 1e-5); };
  return timed(seconds, iterations, [&] {
    at::Tensor y;
    if (norm_first) {
      at::Tensor attended = input + self_attention(norm(input, 0));
      y = attended + feed_forward(norm(attended, 10));
    } else {
      at::Tensor attended = norm(input + self_attention(input), 0);
      y = norm(attended + feed_forward(attended), 10);
    }
    y.sum().backward();
    for (auto &parameter : w) parameter.mutable_grad().reset();
  });
}

ct_status ctb_add(double *seconds, ct_tensor a, ct_tensor b, int64_t iterations) {
  return timed(seconds, iterations, [&] { at::add(unwrap(a), unwrap(b)); });
}

}  // extern "C"
