// Conversion, shape, arithmetic, elementwise functions, reductions and in-place updates.
#include "support.hpp"

using namespace ctorch;

#define CT_UNARY(name, expression) \
  ct_status ct_##name(ct_tensor *out, ct_tensor t) { CT_TRY(*out = wrap(expression(unwrap(t)))) }

#define CT_BINARY(name, expression) \
  ct_status ct_##name(ct_tensor *out, ct_tensor a, ct_tensor b) { CT_TRY(*out = wrap(expression(unwrap(a), unwrap(b)))) }

#define CT_WITH_SCALAR(name, expression) \
  ct_status ct_##name(ct_tensor *out, ct_tensor a, ct_scalar b) { CT_TRY(*out = wrap(expression(unwrap(a), scalar(b)))) }

extern "C" {

ct_status ct_to(ct_tensor *out, ct_tensor t, ct_device_type type, int64_t index, ct_dtype dtype, bool copy) {
  CT_TRY(*out = wrap(unwrap(t).to(device(type, index), scalar_type(dtype), /*non_blocking=*/false, copy)))
}

CT_UNARY(contiguous, [](const at::Tensor &x) { return x.contiguous(); })
CT_UNARY(clone, at::clone)
CT_UNARY(detach, at::detach)

ct_status ct_set_data(ct_tensor t, ct_tensor source) { CT_TRY(unwrap(t).set_data(unwrap(source))) }

ct_status ct_reshape(ct_tensor *out, ct_tensor t, const int64_t *shape, int64_t ndim) {
  CT_TRY(*out = wrap(unwrap(t).reshape(ints(shape, ndim))))
}
ct_status ct_view(ct_tensor *out, ct_tensor t, const int64_t *shape, int64_t ndim) {
  CT_TRY(*out = wrap(unwrap(t).view(ints(shape, ndim))))
}
ct_status ct_permute(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t ndim) {
  CT_TRY(*out = wrap(unwrap(t).permute(ints(dims, ndim))))
}
ct_status ct_transpose(ct_tensor *out, ct_tensor t, int64_t dim0, int64_t dim1) {
  CT_TRY(*out = wrap(unwrap(t).transpose(dim0, dim1)))
}
ct_status ct_expand(ct_tensor *out, ct_tensor t, const int64_t *shape, int64_t ndim) {
  CT_TRY(*out = wrap(unwrap(t).expand(ints(shape, ndim))))
}
ct_status ct_repeat(ct_tensor *out, ct_tensor t, const int64_t *repeats, int64_t ndim) {
  CT_TRY(*out = wrap(unwrap(t).repeat(ints(repeats, ndim))))
}
CT_UNARY(squeeze, at::squeeze)
ct_status ct_squeeze_dim(ct_tensor *out, ct_tensor t, int64_t dim) { CT_TRY(*out = wrap(unwrap(t).squeeze(dim))) }
ct_status ct_unsqueeze(ct_tensor *out, ct_tensor t, int64_t dim) { CT_TRY(*out = wrap(unwrap(t).unsqueeze(dim))) }
ct_status ct_flatten(ct_tensor *out, ct_tensor t, int64_t start_dim, int64_t end_dim) {
  CT_TRY(*out = wrap(unwrap(t).flatten(start_dim, end_dim)))
}
ct_status ct_cat(ct_tensor *out, const ct_tensor *tensors, int64_t count, int64_t dim) {
  CT_TRY(*out = wrap(at::cat(tensor_list(tensors, count), dim)))
}
ct_status ct_stack(ct_tensor *out, const ct_tensor *tensors, int64_t count, int64_t dim) {
  CT_TRY(*out = wrap(at::stack(tensor_list(tensors, count), dim)))
}
ct_status ct_split_with_sizes(ct_tensor *outs, ct_tensor t, const int64_t *sizes, int64_t count, int64_t dim) {
  CT_TRY({
    auto pieces = unwrap(t).split_with_sizes(ints(sizes, count), dim);
    for (size_t i = 0; i < pieces.size(); ++i) outs[i] = wrap(pieces[i]);
  })
}
ct_status ct_chunk(ct_tensor *outs, int64_t *count, ct_tensor t, int64_t chunks, int64_t dim) {
  CT_TRY({
    auto pieces = unwrap(t).chunk(chunks, dim);
    for (size_t i = 0; i < pieces.size(); ++i) outs[i] = wrap(pieces[i]);
    *count = static_cast<int64_t>(pieces.size());
  })
}
ct_status ct_narrow(ct_tensor *out, ct_tensor t, int64_t dim, int64_t start, int64_t length) {
  CT_TRY(*out = wrap(unwrap(t).narrow(dim, start, length)))
}
ct_status ct_slice(ct_tensor *out, ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  CT_TRY(*out = wrap(unwrap(t).slice(dim, start, end, step)))
}
ct_status ct_select(ct_tensor *out, ct_tensor t, int64_t dim, int64_t index) {
  CT_TRY(*out = wrap(unwrap(t).select(dim, index)))
}
ct_status ct_index_select(ct_tensor *out, ct_tensor t, int64_t dim, ct_tensor index) {
  CT_TRY(*out = wrap(unwrap(t).index_select(dim, unwrap(index))))
}
ct_status ct_gather(ct_tensor *out, ct_tensor t, int64_t dim, ct_tensor index) {
  CT_TRY(*out = wrap(unwrap(t).gather(dim, unwrap(index))))
}
ct_status ct_masked_fill(ct_tensor *out, ct_tensor t, ct_tensor mask, ct_scalar value) {
  CT_TRY(*out = wrap(unwrap(t).masked_fill(unwrap(mask), scalar(value))))
}
ct_status ct_where(ct_tensor *out, ct_tensor condition, ct_tensor a, ct_tensor b) {
  CT_TRY(*out = wrap(at::where(unwrap(condition), unwrap(a), unwrap(b))))
}
ct_status ct_tril(ct_tensor *out, ct_tensor t, int64_t diagonal) { CT_TRY(*out = wrap(unwrap(t).tril(diagonal))) }
ct_status ct_triu(ct_tensor *out, ct_tensor t, int64_t diagonal) { CT_TRY(*out = wrap(unwrap(t).triu(diagonal))) }
ct_status ct_one_hot(ct_tensor *out, ct_tensor t, int64_t num_classes) {
  CT_TRY(*out = wrap(at::one_hot(unwrap(t), num_classes)))
}

CT_BINARY(add, at::add)
CT_BINARY(sub, at::sub)
CT_BINARY(mul, at::mul)
CT_BINARY(div, at::div)
CT_BINARY(pow, at::pow)
CT_BINARY(maximum, at::maximum)
CT_BINARY(minimum, at::minimum)
CT_BINARY(eq, at::eq)
CT_BINARY(ne, at::ne)
CT_BINARY(lt, at::lt)
CT_BINARY(le, at::le)
CT_BINARY(gt, at::gt)
CT_BINARY(ge, at::ge)
CT_BINARY(logical_and, at::logical_and)
CT_BINARY(logical_or, at::logical_or)
CT_BINARY(matmul, at::matmul)
CT_BINARY(mm, at::mm)
CT_BINARY(bmm, at::bmm)

CT_WITH_SCALAR(add_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::add(a, b); })
CT_WITH_SCALAR(sub_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::sub(a, b); })
CT_WITH_SCALAR(rsub_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::rsub(a, b); })
CT_WITH_SCALAR(mul_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::mul(a, b); })
CT_WITH_SCALAR(div_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::div(a, b); })
CT_WITH_SCALAR(pow_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::pow(a, b); })
CT_WITH_SCALAR(eq_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::eq(a, b); })
CT_WITH_SCALAR(ne_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::ne(a, b); })
CT_WITH_SCALAR(lt_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::lt(a, b); })
CT_WITH_SCALAR(le_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::le(a, b); })
CT_WITH_SCALAR(gt_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::gt(a, b); })
CT_WITH_SCALAR(ge_scalar, [](const at::Tensor &a, const at::Scalar &b) { return at::ge(a, b); })

ct_status ct_clamp(ct_tensor *out, ct_tensor t, bool has_min, ct_scalar min, bool has_max, ct_scalar max) {
  CT_TRY({
    c10::optional<at::Scalar> lower = has_min ? c10::optional<at::Scalar>(scalar(min)) : c10::nullopt;
    c10::optional<at::Scalar> upper = has_max ? c10::optional<at::Scalar>(scalar(max)) : c10::nullopt;
    *out = wrap(at::clamp(unwrap(t), lower, upper));
  })
}

CT_UNARY(neg, at::neg)
CT_UNARY(abs, at::abs)
CT_UNARY(sign, at::sign)
CT_UNARY(exp, at::exp)
CT_UNARY(log, at::log)
CT_UNARY(log1p, at::log1p)
CT_UNARY(sqrt, at::sqrt)
CT_UNARY(rsqrt, at::rsqrt)
CT_UNARY(reciprocal, at::reciprocal)
CT_UNARY(sin, at::sin)
CT_UNARY(cos, at::cos)
CT_UNARY(floor, at::floor)
CT_UNARY(relu, at::relu)
CT_UNARY(sigmoid, at::sigmoid)
CT_UNARY(tanh, at::tanh)
CT_UNARY(silu, at::silu)
CT_UNARY(erf, at::erf)
CT_UNARY(logical_not, at::logical_not)

ct_status ct_gelu(ct_tensor *out, ct_tensor t, bool tanh_approximation) {
  CT_TRY(*out = wrap(at::gelu(unwrap(t), tanh_approximation ? "tanh" : "none")))
}
ct_status ct_softmax(ct_tensor *out, ct_tensor t, int64_t dim) { CT_TRY(*out = wrap(at::softmax(unwrap(t), dim))) }
ct_status ct_log_softmax(ct_tensor *out, ct_tensor t, int64_t dim) { CT_TRY(*out = wrap(at::log_softmax(unwrap(t), dim))) }

CT_UNARY(sum, at::sum)
CT_UNARY(mean, at::mean)
CT_UNARY(max, at::max)
CT_UNARY(min, at::min)
CT_UNARY(all, at::all)
CT_UNARY(any, at::any)

ct_status ct_sum_dims(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t count, bool keepdim) {
  CT_TRY(*out = wrap(at::sum(unwrap(t), ints(dims, count), keepdim)))
}
ct_status ct_mean_dims(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t count, bool keepdim) {
  CT_TRY(*out = wrap(at::mean(unwrap(t), ints(dims, count), keepdim)))
}
ct_status ct_var_dims(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t count, bool unbiased, bool keepdim) {
  CT_TRY(*out = wrap(at::var(unwrap(t), ints(dims, count), unbiased, keepdim)))
}
ct_status ct_max_dim(ct_tensor *values, ct_tensor *indices, ct_tensor t, int64_t dim, bool keepdim) {
  CT_TRY({
    auto result = at::max(unwrap(t), dim, keepdim);
    *values = wrap(std::get<0>(result));
    *indices = wrap(std::get<1>(result));
  })
}
ct_status ct_min_dim(ct_tensor *values, ct_tensor *indices, ct_tensor t, int64_t dim, bool keepdim) {
  CT_TRY({
    auto result = at::min(unwrap(t), dim, keepdim);
    *values = wrap(std::get<0>(result));
    *indices = wrap(std::get<1>(result));
  })
}
ct_status ct_argmax(ct_tensor *out, ct_tensor t, int64_t dim, bool keepdim) {
  CT_TRY(*out = wrap(at::argmax(unwrap(t), dim, keepdim)))
}
ct_status ct_argmin(ct_tensor *out, ct_tensor t, int64_t dim, bool keepdim) {
  CT_TRY(*out = wrap(at::argmin(unwrap(t), dim, keepdim)))
}
ct_status ct_topk(ct_tensor *values, ct_tensor *indices, ct_tensor t, int64_t k, int64_t dim, bool largest, bool sorted) {
  CT_TRY({
    auto result = at::topk(unwrap(t), k, dim, largest, sorted);
    *values = wrap(std::get<0>(result));
    *indices = wrap(std::get<1>(result));
  })
}
ct_status ct_logsumexp(ct_tensor *out, ct_tensor t, const int64_t *dims, int64_t count, bool keepdim) {
  CT_TRY(*out = wrap(at::logsumexp(unwrap(t), ints(dims, count), keepdim)))
}
ct_status ct_norm(ct_tensor *out, ct_tensor t, double p, const int64_t *dims, int64_t count, bool keepdim) {
  CT_TRY({
    if (count == 0) {
      *out = wrap(at::norm(unwrap(t), p));
    } else {
      *out = wrap(at::norm(unwrap(t), p, ints(dims, count), keepdim));
    }
  })
}
ct_status ct_equal(ct_tensor a, ct_tensor b, bool *out) { CT_TRY(*out = at::equal(unwrap(a), unwrap(b))) }
ct_status ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, bool *out) {
  CT_TRY(*out = at::allclose(unwrap(a), unwrap(b), rtol, atol))
}

ct_status ct_add_(ct_tensor t, ct_tensor other, ct_scalar alpha) { CT_TRY(unwrap(t).add_(unwrap(other), scalar(alpha))) }
ct_status ct_add_scalar_(ct_tensor t, ct_scalar value) { CT_TRY(unwrap(t).add_(scalar(value))) }
ct_status ct_mul_(ct_tensor t, ct_tensor other) { CT_TRY(unwrap(t).mul_(unwrap(other))) }
ct_status ct_mul_scalar_(ct_tensor t, ct_scalar value) { CT_TRY(unwrap(t).mul_(scalar(value))) }
ct_status ct_div_(ct_tensor t, ct_tensor other) { CT_TRY(unwrap(t).div_(unwrap(other))) }
ct_status ct_addcmul_(ct_tensor t, ct_tensor a, ct_tensor b, ct_scalar value) {
  CT_TRY(unwrap(t).addcmul_(unwrap(a), unwrap(b), scalar(value)))
}
ct_status ct_addcdiv_(ct_tensor t, ct_tensor a, ct_tensor b, ct_scalar value) {
  CT_TRY(unwrap(t).addcdiv_(unwrap(a), unwrap(b), scalar(value)))
}
ct_status ct_lerp_(ct_tensor t, ct_tensor end, ct_scalar weight) { CT_TRY(unwrap(t).lerp_(unwrap(end), scalar(weight))) }
ct_status ct_copy_(ct_tensor t, ct_tensor source) { CT_TRY(unwrap(t).copy_(unwrap(source))) }
ct_status ct_zero_(ct_tensor t) { CT_TRY(unwrap(t).zero_()) }
ct_status ct_fill_(ct_tensor t, ct_scalar value) { CT_TRY(unwrap(t).fill_(scalar(value))) }
ct_status ct_clamp_(ct_tensor t, bool has_min, ct_scalar min, bool has_max, ct_scalar max) {
  CT_TRY({
    c10::optional<at::Scalar> lower = has_min ? c10::optional<at::Scalar>(scalar(min)) : c10::nullopt;
    c10::optional<at::Scalar> upper = has_max ? c10::optional<at::Scalar>(scalar(max)) : c10::nullopt;
    unwrap(t).clamp_(lower, upper);
  })
}
ct_status ct_uniform_(ct_tensor t, double low, double high, ct_generator generator) {
  CT_TRY({
    auto g = generator == nullptr ? c10::optional<at::Generator>() : c10::optional<at::Generator>(generator->generator);
    unwrap(t).uniform_(low, high, g);
  })
}
ct_status ct_normal_(ct_tensor t, double mean, double std, ct_generator generator) {
  CT_TRY({
    auto g = generator == nullptr ? c10::optional<at::Generator>() : c10::optional<at::Generator>(generator->generator);
    unwrap(t).normal_(mean, std, g);
  })
}

}  // extern "C"
