#!/usr/bin/env python3
"""Reference values for the TorchNN layer, optimizer and schedule tests, computed with NumPy only (no torch).

Rerun from the package root after changing anything here:

    python3 Tests/Reference/make_layer_references.py

It writes Tests/TorchNNTests/Resources/layer_references.json, which ReferenceTests.swift reads. Every input and
weight comes from np.random.default_rng(seed) in float64, so the file is the same on every run.

JSON layout: each case has
    "config":  numbers describing the layer (sizes, eps, ...)
    "inputs":  named input tensors
    "state":   the layer's weights and buffers by checkpoint key (as `load(stateDict:)` expects them)
    "outputs": named expected results
and every tensor is {"shape": [...], "data": [row-major values]}. Integer and boolean tensors (indices, masks,
counters) are stored as numbers too; the Swift side converts them.

The formulas follow PyTorch's definitions, and for the composite layers (attention, encoder layers, MLP) the exact
structure of Sources/TorchNN (Attention.swift, Transformer.swift, Activation.swift).
"""

import json
import math
import os

import numpy as np

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "TorchNNTests", "Resources",
                      "layer_references.json")


def tensor(array):
    array = np.asarray(array, dtype=np.float64)
    return {"shape": list(array.shape), "data": [float(v) for v in array.reshape(-1)]}


def uniform(rng, shape, bound=1.0):
    return rng.uniform(-bound, bound, size=shape)


# ---------------------------------------------------------------------------------------------------------------
# Layer formulas


def linear(x, weight, bias=None):
    y = x @ weight.T
    return y if bias is None else y + bias


def conv2d(x, weight, bias, stride, padding, groups):
    n, c, h, w = x.shape
    out_channels, group_in, kh, kw = weight.shape
    assert c == group_in * groups
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    padded[:, :, padding:padding + h, padding:padding + w] = x
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    group_out = out_channels // groups
    y = np.zeros((n, out_channels, oh, ow))
    for o in range(out_channels):
        g = o // group_out
        channels = slice(g * group_in, (g + 1) * group_in)
        for i in range(oh):
            for j in range(ow):
                patch = padded[:, channels, i * stride:i * stride + kh, j * stride:j * stride + kw]
                y[:, o, i, j] = np.sum(patch * weight[o], axis=(1, 2, 3)) + bias[o]
    return y


def layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)  # biased, as PyTorch normalises
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def batch_norm_train(x, weight, bias, running_mean, running_var, momentum, eps):
    axes = (0, 2, 3)
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)  # biased: used to normalise
    shape = (1, -1, 1, 1)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * weight.reshape(shape) + bias.reshape(shape)
    unbiased = var * count / (count - 1)  # PyTorch updates the running variance with the unbiased estimate
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * unbiased
    return y, new_mean, new_var


def batch_norm_eval(x, weight, bias, running_mean, running_var, eps):
    shape = (1, -1, 1, 1)
    return ((x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps) * weight.reshape(shape)
            + bias.reshape(shape))


def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def attention(x, p, prefix, heads, key_padding_mask):
    """Self-attention as MultiHeadAttention does it: separate q/k/v projections, heads split from the last
    dimension, softmax(q·kᵀ/√d + mask)·v, heads merged, output projection. Mask: True = padding."""
    b, length, dim = x.shape
    d = dim // heads

    def project(name):
        y = linear(x, p[f"{prefix}{name}.weight"], p[f"{prefix}{name}.bias"])
        return y.reshape(b, length, heads, d).transpose(0, 2, 1, 3)  # [b, heads, length, d]

    q, k, v = project("query"), project("key"), project("value")
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
    if key_padding_mask is not None:
        scores = np.where(key_padding_mask[:, None, None, :], -np.inf, scores)
    merged = (softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(b, length, dim)
    return linear(merged, p[f"{prefix}output.weight"], p[f"{prefix}output.bias"])


def encoder_layer(x, p, prefix, heads, norm_first, key_padding_mask, eps=1e-5):
    """TransformerEncoderLayer with GELU and no dropout.
    pre-norm:  a = x + attn(norm1(x));  out = a + ffn(norm2(a))
    post-norm: a = norm1(x + attn(x));  out = norm2(a + ffn(a))
    ffn(h) = linear2(gelu(linear1(h)))"""

    def norm(name, h):
        return layer_norm(h, p[f"{prefix}{name}.weight"], p[f"{prefix}{name}.bias"], eps)

    def ffn(h):
        hidden = gelu(linear(h, p[f"{prefix}linear1.weight"], p[f"{prefix}linear1.bias"]))
        return linear(hidden, p[f"{prefix}linear2.weight"], p[f"{prefix}linear2.bias"])

    attn = lambda h: attention(h, p, f"{prefix}self_attention.", heads, key_padding_mask)
    if norm_first:
        a = x + attn(norm("norm1", x))
        return a + ffn(norm("norm2", a))
    a = norm("norm1", x + attn(x))
    return norm("norm2", a + ffn(a))


def encoder_layer_state(rng, prefix, dim, ffn_dim):
    p = {}
    for name in ["query", "key", "value", "output"]:
        p[f"{prefix}self_attention.{name}.weight"] = uniform(rng, (dim, dim), 0.6)
        p[f"{prefix}self_attention.{name}.bias"] = uniform(rng, (dim,), 0.3)
    for name in ["norm1", "norm2"]:
        p[f"{prefix}{name}.weight"] = 1 + uniform(rng, (dim,), 0.3)
        p[f"{prefix}{name}.bias"] = uniform(rng, (dim,), 0.3)
    p[f"{prefix}linear1.weight"] = uniform(rng, (ffn_dim, dim), 0.6)
    p[f"{prefix}linear1.bias"] = uniform(rng, (ffn_dim,), 0.3)
    p[f"{prefix}linear2.weight"] = uniform(rng, (dim, ffn_dim), 0.5)
    p[f"{prefix}linear2.bias"] = uniform(rng, (dim,), 0.3)
    return p


# ---------------------------------------------------------------------------------------------------------------
# Cases


def case(config, inputs, state, outputs):
    return {
        "config": config,
        "inputs": {k: tensor(v) for k, v in inputs.items()},
        "state": {k: tensor(v) for k, v in state.items()},
        "outputs": {k: tensor(v) for k, v in outputs.items()},
    }


def make_linear():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 2, 3))
    w, b = uniform(rng, (4, 3)), uniform(rng, (4,))
    return case({"input_size": 3, "output_size": 4}, {"x": x}, {"weight": w, "bias": b},
                {"y": linear(x, w, b)})


def make_conv2d():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 5, 5))
    w, b = uniform(rng, (6, 2, 3, 3), 0.4), uniform(rng, (6,), 0.4)
    y = conv2d(x, w, b, stride=2, padding=1, groups=2)
    return case({"in_channels": 4, "out_channels": 6, "kernel": 3, "stride": 2, "padding": 1, "groups": 2},
                {"x": x}, {"weight": w, "bias": b}, {"y": y})


def make_layer_norm():
    rng = np.random.default_rng(3)
    x = rng.normal(loc=0.5, scale=2.0, size=(2, 3, 5))
    w, b = 1 + uniform(rng, (5,), 0.5), uniform(rng, (5,), 0.5)
    eps = 1e-5
    return case({"size": 5, "eps": eps}, {"x": x}, {"weight": w, "bias": b}, {"y": layer_norm(x, w, b, eps)})


def make_batch_norm():
    rng = np.random.default_rng(4)
    x = rng.normal(loc=1.0, scale=1.5, size=(4, 3, 2, 2))
    x_eval = rng.normal(size=(2, 3, 2, 2))
    w, b = 1 + uniform(rng, (3,), 0.5), uniform(rng, (3,), 0.5)
    running_mean, running_var = uniform(rng, (3,), 0.5), 1 + uniform(rng, (3,), 0.5)
    momentum, eps = 0.1, 1e-5
    y, new_mean, new_var = batch_norm_train(x, w, b, running_mean, running_var, momentum, eps)
    y_eval = batch_norm_eval(x_eval, w, b, new_mean, new_var, eps)
    state = {"weight": w, "bias": b, "running_mean": running_mean, "running_var": running_var,
             "num_batches_tracked": np.array(0.0)}
    return case({"channels": 3, "momentum": momentum, "eps": eps}, {"x": x, "x_eval": x_eval}, state,
                {"y_train": y, "running_mean": new_mean, "running_var": new_var, "num_batches_tracked": np.array(1.0),
                 "y_eval": y_eval})


def make_embedding():
    rng = np.random.default_rng(5)
    weight = rng.normal(size=(6, 4))
    weight[0] = 0  # the padding row, zero as PyTorch initialises it
    indices = np.array([[1, 0, 5], [3, 3, 0]])
    return case({"count": 6, "dimension": 4, "padding_index": 0}, {"indices": indices}, {"weight": weight},
                {"y": weight[indices]})


def make_gelu():
    x = np.linspace(-4, 3, 15)
    return case({}, {"x": x}, {}, {"exact": gelu(x), "tanh": gelu_tanh(x)})


def make_mha():
    rng = np.random.default_rng(6)
    dim, heads = 4, 2
    x = rng.normal(size=(2, 3, dim))
    mask = np.array([[False, False, True], [False, False, False]])
    p = {}
    for name in ["query", "key", "value", "output"]:
        p[f"{name}.weight"] = uniform(rng, (dim, dim), 0.7)
        p[f"{name}.bias"] = uniform(rng, (dim,), 0.3)
    return case({"dimension": dim, "heads": heads}, {"x": x, "key_padding_mask": mask}, p,
                {"y": attention(x, p, "", heads, mask), "y_unmasked": attention(x, p, "", heads, None)})


def make_encoder_layer(norm_first, seed):
    rng = np.random.default_rng(seed)
    dim, heads, ffn = 4, 2, 8
    x = rng.normal(size=(2, 3, dim))
    mask = np.array([[False, False, True], [False, False, False]])
    p = encoder_layer_state(rng, "", dim, ffn)
    y = encoder_layer(x, p, "", heads, norm_first, mask)
    return case({"dimension": dim, "heads": heads, "feed_forward": ffn, "eps": 1e-5},
                {"x": x, "key_padding_mask": mask}, p, {"y": y})


def make_encoder():
    """A two-layer pre-norm TransformerEncoder, which ends with final_norm."""
    rng = np.random.default_rng(9)
    dim, heads, ffn = 4, 2, 6
    x = rng.normal(size=(2, 3, dim))
    mask = np.array([[False, True, True], [False, False, False]])
    p = {}
    for layer in range(2):
        p.update(encoder_layer_state(rng, f"layers.{layer}.", dim, ffn))
    p["final_norm.weight"] = 1 + uniform(rng, (dim,), 0.3)
    p["final_norm.bias"] = uniform(rng, (dim,), 0.3)
    h = x
    for layer in range(2):
        h = encoder_layer(h, p, f"layers.{layer}.", heads, True, mask)
    y = layer_norm(h, p["final_norm.weight"], p["final_norm.bias"], 1e-5)
    return case({"layers": 2, "dimension": dim, "heads": heads, "feed_forward": ffn},
                {"x": x, "key_padding_mask": mask}, p, {"y": y})


def make_mlp():
    rng = np.random.default_rng(10)
    sizes = [4, 6, 3]
    x = rng.normal(size=(2, 4))
    p = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        p[f"layers.{i}.weight"] = uniform(rng, (n_out, n_in), 0.8)
        p[f"layers.{i}.bias"] = uniform(rng, (n_out,), 0.3)
    y = linear(gelu(linear(x, p["layers.0.weight"], p["layers.0.bias"])), p["layers.1.weight"], p["layers.1.bias"])
    return case({"sizes": sizes}, {"x": x}, p, {"y": y})


def make_adamw():
    rng = np.random.default_rng(11)
    lr, beta1, beta2, eps, wd = 1e-2, 0.9, 0.999, 1e-8, 0.1
    param = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(3)]
    p, m, v = param.copy(), np.zeros_like(param), np.zeros_like(param)
    outputs = {}
    for t, g in enumerate(grads, start=1):
        p = p * (1 - lr * wd)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
        p = p - lr / (1 - beta1 ** t) * m / denom
        outputs[f"param_after_step{t}"] = p
    inputs = {"param": param, **{f"grad{t}": g for t, g in enumerate(grads, start=1)}}
    return case({"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": wd}, inputs, {}, outputs)


def make_sgd():
    rng = np.random.default_rng(12)
    lr, momentum, wd = 0.1, 0.9, 0.01
    param = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(3)]
    p, buf = param.copy(), None
    outputs = {}
    for t, g in enumerate(grads, start=1):
        d = g + wd * p
        buf = d.copy() if buf is None else momentum * buf + d  # dampening 0
        d = d + momentum * buf  # Nesterov
        p = p - lr * d
        outputs[f"param_after_step{t}"] = p
    inputs = {"param": param, **{f"grad{t}": g for t, g in enumerate(grads, start=1)}}
    return case({"lr": lr, "momentum": momentum, "weight_decay": wd}, inputs, {}, outputs)


def make_schedule():
    """WarmupCosineSchedule: (step+1)/warmup·peak while step < warmup, then
    floor + (peak−floor)·½(1 + cos(π·min(1, (step−warmup)/(total−warmup))))."""
    peak, warmup, total, floor = 1e-3, 3, 10, 1e-5
    steps = np.arange(0, 13)
    values = []
    for s in steps:
        if s < warmup:
            values.append(peak * (s + 1) / warmup)
        else:
            progress = min(1.0, (s - warmup) / max(1, total - warmup))
            values.append(floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * progress)))
    return case({"peak": peak, "warmup": warmup, "total": total, "floor": floor}, {"steps": steps}, {},
                {"rates": np.array(values)})


def main():
    references = {
        "linear": make_linear(),
        "conv2d": make_conv2d(),
        "layer_norm": make_layer_norm(),
        "batch_norm2d": make_batch_norm(),
        "embedding": make_embedding(),
        "gelu": make_gelu(),
        "multi_head_attention": make_mha(),
        "encoder_layer_pre_norm": make_encoder_layer(norm_first=True, seed=7),
        "encoder_layer_post_norm": make_encoder_layer(norm_first=False, seed=8),
        "encoder_pre_norm_two_layers": make_encoder(),
        "mlp": make_mlp(),
        "adamw": make_adamw(),
        "sgd_nesterov": make_sgd(),
        "warmup_cosine_schedule": make_schedule(),
    }
    text = json.dumps(references, indent=1, sort_keys=True)
    with open(OUTPUT, "w") as file:
        file.write(text + "\n")
    print(f"wrote {os.path.normpath(OUTPUT)} ({len(text)} bytes, {len(references)} cases)")


if __name__ == "__main__":
    main()
