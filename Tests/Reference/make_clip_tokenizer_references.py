"""Writes the reference ids of OpenCLIP's BPE tokenizer for the CLIP tokenizer's parity test.

    python3 make_clip_tokenizer_references.py DIR   (needs the `regex` module: Debian python3-regex, or pip)

Reads from DIR/downloads (fetched by scripts/fetch-test-data.sh): open_clip_torch-2.24.0's wheel (its
tokenizer.py and bpe_simple_vocab_16e6.txt.gz), ftfy 6.3.1's and wcwidth 0.2.13's wheels (imported from the
wheel files), and DIR/thucnews_train_1w.txt. Writes DIR/clip-tokenizer/:
    bpe_simple_vocab_16e6.txt.gz   the merges, as OpenCLIP ships them
    references.jsonl               one {"source", "index", "text", "ids", "ids77", "mojibake"} per line: the
                                   10,000 headlines, the BERT tokenizer's edge cases and the CLIP ones below;
                                   "ids" are SimpleTokenizer.encode's (no start/end), "ids77" the 77 of
                                   tokenize(), "mojibake" whether ftfy's badness heuristic flags the text
    references.meta.json           counts, versions, Python's Unicode version

torch is imported by tokenizer.py for its tensors only; without PyTorch a stand-in takes its place (the ids of a
row are built here exactly as tokenize() builds them).
"""

import importlib.util
import json
import os
import sys
import types
import unicodedata
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OPEN_CLIP = "open_clip_torch-2.24.0-py3-none-any.whl"
FTFY = "ftfy-6.3.1-py3-none-any.whl"
WCWIDTH = "wcwidth-0.2.13-py2.py3-none-any.whl"
CONTEXT_LENGTH = 77

# What CLIP's cleaning does beyond BERT's: HTML entities (named, numeric, all-caps, without ";", doubly
# escaped), curly quotes, ligatures, fullwidth forms, C1 controls, terminal escapes, contractions, the special
# tokens written out, truncation at 77.
CLIP_EDGE_CASES = [
    "Tom &amp; Jerry &lt;3 &gt; &quot;quoted&quot; &apos;single&apos; &nbsp;space",
    "caf&eacute; P&EACUTE;REZ na&iuml;ve &Ntilde; &NTILDE; &nTILDE; &copy; &COPY; &reg; &trade; &euro;",
    "&#65;&#x42;&#X43; &#8364; &#x1F600; &#0; &#128; &#150; &#x9d; &#55296; &#1114112; &#1; &#12a; &#xZZ;",
    "&amp &lt &gt &copy &eacute;s &ampfoo; &ltx &notit; &notin; &unknown; & alone &; &#;",
    "&amp;amp; &amp;amp;amp;lt; &amp;lt;b&amp;gt; <b>bold &amp; tag</b> &amp;amp;",
    "line one &amp; more\n<p>second &amp; line</p>\nthird &amp;amp; line",
    "\u201cDouble\u201d \u2018single\u2019 \u201alow\u201b \u201ehigh\u201f it\u02bcs \u2033prime\u2033",
    "\ufb01nance \ufb02ow \ufb00 \ufb03 \ufb04 \ufb05 \ufb06 \u0132sselmeer \u0133 \u0149 \u01c4 \u01c5 \u01c6 \u01c9",
    "\uff28\uff45\uff4c\uff4c\uff4f\u3000\uff37\uff4f\uff52\uff4c\uff44\uff01 \uff76\uff9e\uff8a\uff9f \uffe5100 \uff5f\uff60",
    "c1 \u0080 \u0091quoted\u0092 \u0093dq\u0094 \u0096 dash \u0081 \u008d \u009f end",
    "colour \x1b[31mred\x1b[0m and \x1b[1;32mgreen\x1b[m \x1b[ no",
    "It's you're we've I'm they'll he'd don't IT'S YOU'RE 'S 's '''s '' 'x ' s",
    "<start_of_text> inside <end_of_text> text <START_OF_TEXT> a<end_of_text>b .<end_of_text>",
    "A photo of a cat. A PHOTO OF A DOG! a photo of the 3 birds, 2024-12-07 at 10:30pm (UTC+8).",
    "hello\u00a0world\u2009thin\u202fnarrow \u205fmath\u180emongolian",
    "numbers \u00bd \u2154 \u2460 \u2169 \u0663\u0664 \u4e00\u4e8c\u4e09 \u3007 \U0001d7d8 12.5 1,000,000",
    "a red dress on the left and a pair of blue sneakers on the right, photographed on a white background " * 3,
    "\u4e00\u53cc\u8fd0\u52a8\u978b \u7ea2\u8272\u7684\u8fde\u8863\u88d9\u5728\u5de6\u8fb9 a photo of a bag \u548c\u4e00\u4ef6\u5916\u5957",
    "\U0001f600 \U0001f1e8\U0001f1f3 \u2764\ufe0f #\ufe0f\u20e3 \U0001f44d\U0001f3fd",
    "tab\tsep\x0bvt\x0cff\x1cfs\x1dgs\x1ers\x1fus\x7fdel\u206aiss\ufeffbom\ufff9ann end",
    "e\u0301 vs \u00e9, A\u030a vs \u00c5 vs \u212b, \u1e9b\u0323",
    "\u0130stanbul DI\u0307YARBAKIR \u1e9e \u01c5 \u1f88",
]


def load_modules(directory):
    downloads = os.path.join(directory, "downloads")
    # Pure-Python wheels import straight from their zip files.
    for wheel in (FTFY, WCWIDTH):
        sys.path.insert(0, os.path.join(downloads, wheel))
    try:
        import torch  # noqa: F401
    except ImportError:
        stand_in = types.ModuleType("torch")
        stand_in.LongTensor = stand_in.Tensor = object
        sys.modules["torch"] = stand_in
    out = os.path.join(directory, "clip-tokenizer")
    os.makedirs(out, exist_ok=True)
    with zipfile.ZipFile(os.path.join(downloads, OPEN_CLIP)) as archive:
        source = archive.read("open_clip/tokenizer.py")
        merges = archive.read("open_clip/bpe_simple_vocab_16e6.txt.gz")
    with open(os.path.join(out, "bpe_simple_vocab_16e6.txt.gz"), "wb") as handle:
        handle.write(merges)
    with open(os.path.join(out, "open_clip_tokenizer.py"), "wb") as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("open_clip_tokenizer", os.path.join(out, "open_clip_tokenizer.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import ftfy
    import ftfy.badness

    tokenizer = module.SimpleTokenizer(bpe_path=os.path.join(out, "bpe_simple_vocab_16e6.txt.gz"))
    return tokenizer, ftfy, out


def row(tokenizer, ids):
    # tokenize(): start, ids, end; past the context the first 77 with end in the last place; zeros after.
    tokens = [tokenizer.sot_token_id] + ids + [tokenizer.eot_token_id]
    if len(tokens) > CONTEXT_LENGTH:
        tokens = tokens[:CONTEXT_LENGTH]
        tokens[-1] = tokenizer.eot_token_id
    return tokens + [0] * (CONTEXT_LENGTH - len(tokens))


def main():
    directory = sys.argv[1]
    tokenizer, ftfy, out = load_modules(directory)
    sys.path.insert(0, HERE)
    import make_tokenizer_references as bert_references

    sources = [("thucnews", text) for text in bert_references.headlines(directory)]
    sources += [("edge", text) for text in bert_references.EDGE_CASES]
    sources += [("clip-edge", text) for text in CLIP_EDGE_CASES]
    counters = {}
    with open(os.path.join(out, "references.jsonl"), "w", encoding="utf-8") as handle:
        for source, text in sources:
            index = counters.get(source, 0)
            counters[source] = index + 1
            ids = tokenizer.encode(text)
            record = {
                "source": source,
                "index": index,
                "text": text,
                "ids": ids,
                "ids77": row(tokenizer, ids),
                "mojibake": bool(ftfy.badness.is_bad(text)),
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    meta = {
        "strings": len(sources),
        "by_source": counters,
        "vocabulary_size": tokenizer.vocab_size,
        "open_clip": OPEN_CLIP,
        "ftfy": ftfy.__version__,
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
    }
    with open(os.path.join(out, "references.meta.json"), "w") as handle:
        json.dump(meta, handle, indent=2)
    print(f"CLIP tokenizer references written to {out}: {len(sources)} strings")


if __name__ == "__main__":
    main()
