#!/usr/bin/env bash
# Every `brivl eval` evaluation on a run trained on the Fashion-MNIST caption corpus, plus the THUCNews headlines,
# merged into one report page. Usage: scripts/evaluate-demo.sh [run folder] [output folder]
# (defaults: runs/demo, docs/evaluation). Needs `make demo` (corpus, run) and `make test-data` (headlines) first.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/demo}
OUT=${2:-docs/evaluation}
DATA=${DATA:-data/fashion}
VQA=${VQA:-data/fashion-vqa}
HEADLINES=${HEADLINES:-.cache/test-data/thucnews_train_1w.txt}
BRIVL=${BRIVL:-.build/release/brivl}

mkdir -p "$OUT"
[ -f "$VQA/vqa.json" ] || $BRIVL data fashion-vqa --output "$VQA"
$BRIVL eval zero-shot --checkpoint "$RUN" --images "$DATA/zero-shot" --output "$OUT"
$BRIVL eval seen-unseen --checkpoint "$RUN" --images "$DATA/zero-shot" --ratios 10/0,3/7,5/5 --splits 5 --output "$OUT"
$BRIVL eval retrieval --checkpoint "$RUN" --shards "$DATA/test" --limit 1000 --output "$OUT"
$BRIVL eval linear-probe --checkpoint "$RUN" --images "$DATA/zero-shot" --shots 1,5,16,all --output "$OUT"
$BRIVL eval text-classification --checkpoint "$RUN" --texts "$HEADLINES" --baseline initial --output "$OUT"
for variant in "all:" "freeze-bn:--freeze-bn" "last-stage:--trainable-image-blocks 1 --trainable-text-layers 1" \
  "last-stage-freeze-bn:--trainable-image-blocks 1 --trainable-text-layers 1 --freeze-bn" \
  "heads:--trainable-image-blocks 0 --trainable-text-layers 0"; do
  name=${variant%%:*}
  # shellcheck disable=SC2086  # the options are meant to split
  $BRIVL eval vqa --checkpoint "$RUN" --train "$VQA/train/questions.jsonl" --test "$VQA/test/questions.jsonl" \
    --steps 300 --output "$OUT" --name "vqa-$name" ${variant#*:}
done
$BRIVL eval report "$OUT" --title "Evaluation of $RUN" --output "$OUT/report.md"
