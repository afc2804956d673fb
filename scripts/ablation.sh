#!/usr/bin/env bash
# Compares pretraining recipes on the Fashion-MNIST caption corpus at an equal CPU-time budget per run (all threads
# of the process, data loading included), then prints a Markdown table of retrieval and zero-shot figures.
#
#   scripts/ablation.sh [CORPUS] [OUT] [CPU_MINUTES]
#
# CORPUS defaults to data/fashion (built by `brivl data fashion-captions --output data/fashion`), OUT to
# runs/ablation, CPU_MINUTES to 8. Every run uses the same schedule (3000-step cosine, 50 warm-up steps, peak lr
# 1e-3) and stops when its budget is spent, so a slower recipe sees fewer pairs: that is the point of the budget.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
brivl="${BRIVL:-$root/.build/release/brivl}"
corpus="${1:-$root/data/fashion}"
out="${2:-$root/runs/ablation}"
budget="${3:-8}"
vocabulary="${BRIVL_VOCABULARY:-$root/.cache/test-data/vocab.txt}"

common=(--train "$corpus/train" --validation "$corpus/test" --zero-shot "$corpus/zero-shot"
  --vocabulary "$vocabulary" --steps 3000 --warmup-steps 50 --lr 1e-3 --validate-every 0 --validation-pairs 2000 --checkpoint-every 1000
  --threads 2 --workers 1 --cpu-limit "$budget")
# Settings of the momentum contrast, given to the moco and brivl runs only.
momentum=(--queue-size 1024 --distillation-warmup-steps 100)

train() {
  local name="$1"
  shift
  rm -rf "${out:?}/$name"
  echo "== $name: $*" >&2
  "$brivl" train --output "$out/$name" "${common[@]}" "$@" >&2
}

train a-clip-vit --preset vit-tiny --recipe clip
train b-moco-vit --preset vit-tiny --recipe moco "${momentum[@]}"
train c-moco-mgs --preset tiny --recipe moco "${momentum[@]}"
train d-brivl-mgs --preset tiny --recipe brivl "${momentum[@]}"
train e-clip-mgs --preset tiny --recipe clip
# Why the MoCo rows trail: faster momentum towers, and the queue plus the batch's own keys as negatives.
train f-brivl-mgs-m09 --preset tiny --recipe brivl --momentum 0.9 "${momentum[@]}"
train g-moco-mgs-m09 --preset tiny --recipe moco --momentum 0.9 "${momentum[@]}"
train h-brivl-mgs-batchneg --preset tiny --recipe brivl --batch-negatives "${momentum[@]}"
train i-moco-mgs-batchneg --preset tiny --recipe moco --batch-negatives "${momentum[@]}"

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
rows = [("a-clip-vit", "(a) in-batch CLIP loss, ViT tower (the peer's recipe)"),
        ("b-moco-vit", "(b) + MoCo queues (ViT tower)"),
        ("c-moco-mgs", "(c) + MGS CNN tower (MoCo)"),
        ("d-brivl-mgs", "(d) + momentum distillation: full BriVL recipe"),
        ("e-clip-mgs", "(e) in-batch CLIP loss, MGS CNN tower"),
        ("f-brivl-mgs-m09", "(f) = (d) with momentum 0.9"),
        ("g-moco-mgs-m09", "(g) = (c) with momentum 0.9"),
        ("h-brivl-mgs-batchneg", "(h) = (d) with batch negatives (ALBEF)"),
        ("i-moco-mgs-batchneg", "(i) = (c) with batch negatives (ALBEF)")]
print("| run | steps | pairs seen | i2t R@1/5/10 | t2i R@1/5/10 | mean recall | zero-shot top-1 | last logged loss |")
print("|---|---|---|---|---|---|---|---|")
for name, label in rows:
    path = os.path.join(out, name, "metrics.jsonl")
    if not os.path.exists(path):
        continue
    validation, loss = None, None
    batch = json.load(open(os.path.join(out, name, "training.json")))["data"]["batch_size"]
    for line in open(path):
        record = json.loads(line)
        if record["kind"] == "train":
            loss = record["loss"]
        else:
            validation = record
    if validation is None:
        continue
    steps = validation["step"]
    r = lambda d: "/".join(f"{100 * d[k]:.1f}" for k in ("1", "5", "10"))
    zs = validation.get("zero_shot_top1")
    print(f"| {label} | {steps} | {steps * batch} | {r(validation['i2t_recall'])} | {r(validation['t2i_recall'])} "
          f"| {100 * validation['mean_recall']:.1f} | {'' if zs is None else f'{100 * zs:.1f}%'} | {loss:.2f} |")
PY
