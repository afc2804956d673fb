#!/usr/bin/env bash
# Trains one model on the Fashion-MNIST caption corpus and scores it with the strict evaluation protocol
# (docs/quality.md), then prints a table of its numbers and, last, the same as one JSON line.
#
#   scripts/quality.sh CORPUS RUN [brivl train options…]
#
# Training defaults are the demo's (tiny preset, in-batch loss, 900 steps, 45 warm-up steps, peak lr 1e-3); options
# given after RUN are appended and override them (e.g. --seed 1, --steps 600 --warmup-steps 30). The evaluation:
#   zero-shot top-1 with classes.json's prompts, with prompts-held-out.txt (no caption or prompt set uses them) and
#     with bare class names;
#   retrieval mean recall on 1,000 test images with their own captions, and with test-rephrased/'s captions (a
#     phrasing family training never used);
#   linear probe (all shots) on frozen image embeddings of the zero-shot images, half of each class held out;
#   text search precision@5: each class name alone (Chinese and English) ranks the 1,000 test images;
#   the factor probe (class vs colour vs place).
# Reports land in RUN/eval. Set BRIVL to use another binary, EVAL_ONLY=1 to score an existing run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
brivl="${BRIVL:-$root/.build/release/brivl}"
corpus="${1:?usage: scripts/quality.sh CORPUS RUN [train options…]}"
run="${2:?usage: scripts/quality.sh CORPUS RUN [train options…]}"
shift 2
vocabulary="${BRIVL_VOCABULARY:-$root/.cache/test-data/vocab.txt}"
for file in corpus.json prompts-held-out.txt prompts-bare.txt; do
  [ -f "$corpus/$file" ] || { echo "quality.sh: $corpus/$file is missing (regenerate the corpus with brivl data fashion-captions)" >&2; exit 2; }
done

if [ -z "${EVAL_ONLY:-}" ]; then
  rm -rf "$run"
  start=$(date +%s)
  "$brivl" train --preset tiny --recipe clip --output "$run" \
    --train "$corpus/train" --validation "$corpus/test" --vocabulary "$vocabulary" \
    --steps 900 --warmup-steps 45 --lr 1e-3 --validate-every 0 --validation-pairs 2000 --checkpoint-every 1000 \
    "$@" >&2
  echo "$(( $(date +%s) - start ))" > "$run/train-seconds"
fi

eval_dir="$run/eval"
mkdir -p "$eval_dir"
quiet() { "$@" > /dev/null; }
quiet "$brivl" eval zero-shot --checkpoint "$run" --images "$corpus/zero-shot" --output "$eval_dir" --name zero-shot
quiet "$brivl" eval zero-shot --checkpoint "$run" --images "$corpus/zero-shot" --output "$eval_dir" \
  --name zero-shot-held-out --templates "$corpus/prompts-held-out.txt"
quiet "$brivl" eval zero-shot --checkpoint "$run" --images "$corpus/zero-shot" --output "$eval_dir" \
  --name zero-shot-bare --templates "$corpus/prompts-bare.txt"
quiet "$brivl" eval retrieval --checkpoint "$run" --shards "$corpus/test" --limit 1000 --output "$eval_dir" --name retrieval
quiet "$brivl" eval retrieval --checkpoint "$run" --shards "$corpus/test-rephrased" --limit 1000 --output "$eval_dir" \
  --name retrieval-rephrased
quiet "$brivl" eval linear-probe --checkpoint "$run" --images "$corpus/zero-shot" --shots all --trials 1 \
  --output "$eval_dir" --name linear-probe
quiet "$brivl" eval text-search --checkpoint "$run" --shards "$corpus/test" --limit 1000 --k 5 --output "$eval_dir" \
  --name text-search
quiet "$brivl" eval factors --checkpoint "$run" --images "$corpus/zero-shot" --output "$eval_dir" --name factors

python3 - "$run" <<'PY'
import json, os, sys
run = sys.argv[1]
def metric(name, key):
    with open(os.path.join(run, "eval", name + ".json")) as f:
        return json.load(f)["metrics"][key]
row = {
    "run": run,
    "zero_shot": metric("zero-shot", "top1"),
    "zero_shot_held_out": metric("zero-shot-held-out", "top1"),
    "zero_shot_bare": metric("zero-shot-bare", "top1"),
    "retrieval": metric("retrieval", "mean_recall"),
    "retrieval_rephrased": metric("retrieval-rephrased", "mean_recall"),
    "linear_probe": metric("linear-probe", "accuracy_full"),
    "text_search_p5": metric("text-search", "precision_at_k"),
    "class": metric("factors", "class_accuracy"),
    "colour": metric("factors", "colour_accuracy"),
    "place": metric("factors", "place_accuracy"),
}
seconds = os.path.join(run, "train-seconds")
if os.path.exists(seconds):
    row["train_seconds"] = int(open(seconds).read())
targets = [("zero-shot top-1, our prompts", "zero_shot", 0.60), ("zero-shot top-1, held-out prompts", "zero_shot_held_out", 0.55),
           ("zero-shot top-1, bare class names", "zero_shot_bare", 0.50), ("retrieval mean recall, own captions", "retrieval", 0.75),
           ("retrieval mean recall, rephrased captions", "retrieval_rephrased", 0.70), ("linear probe", "linear_probe", 0.85),
           ("text search precision@5 (x100)", "text_search_p5", 0.80),
           ("factor probe: class", "class", None), ("factor probe: colour", "colour", None), ("factor probe: place", "place", None)]
print(f"{'measure':45} {'value':>7} {'target':>7}")
for label, key, target in targets:
    print(f"{label:45} {100 * row[key]:7.1f} {'' if target is None else format(100 * target, '.0f'):>7}")
print(json.dumps(row))
PY
