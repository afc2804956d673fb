#!/usr/bin/env bash
# Trains and scores one recipe with three seeds (scripts/quality.sh), then prints each measure's mean ± standard
# deviation over the seeds, and last the same as one JSON line.
#
#   scripts/quality-seeds.sh CORPUS RUN-PREFIX [brivl train options…]
#
# Runs land in RUN-PREFIX-s0, -s1, -s2. SEEDS overrides the seeds ("0 1 2"); JOBS=2 trains two seeds at a time,
# each with one compute thread and one loader thread (on 2 cores that is faster than one after the other). With
# EVAL_ONLY=1 the existing runs are scored again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${1:?usage: scripts/quality-seeds.sh CORPUS RUN-PREFIX [train options…]}"
prefix="${2:?usage: scripts/quality-seeds.sh CORPUS RUN-PREFIX [train options…]}"
shift 2
seeds=(${SEEDS:-0 1 2})
jobs="${JOBS:-1}"
extra=()
[ "$jobs" -gt 1 ] && extra=(--threads 1 --workers 1)

mkdir -p "$(dirname "$prefix")"
pids=()
for seed in "${seeds[@]}"; do
  run="$prefix-s$seed"
  "$root/scripts/quality.sh" "$corpus" "$run" --seed "$seed" "${extra[@]}" "$@" > "$run.log" 2>&1 &
  pids+=("$!")
  echo "seed $seed: $run (log $run.log)" >&2
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || { echo "seed run failed: see the log above" >&2; exit 1; }
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || { echo "a seed run failed: see its log" >&2; exit 1; }; done

python3 - "$prefix" "${seeds[@]}" <<'PY'
import json, statistics, sys
prefix, seeds = sys.argv[1], sys.argv[2:]
rows = []
for seed in seeds:
    with open(f"{prefix}-s{seed}.log") as log:
        lines = [line for line in log if line.startswith("{")]
    if not lines:
        sys.exit(f"{prefix}-s{seed}.log has no result line")
    rows.append(json.loads(lines[-1]))
keys = [k for k in rows[0] if k != "run"]
print(f"{'measure':24} " + " ".join(f"{'s' + s:>6}" for s in seeds) + f" {'mean':>7} {'sd':>6}")
summary = {"runs": [row["run"] for row in rows]}
for key in keys:
    values = [row[key] for row in rows]
    scale = 1 if key == "train_seconds" else 100
    mean = statistics.mean(values) * scale
    sd = statistics.stdev(values) * scale if len(values) > 1 else 0.0
    summary[key] = {"mean": mean, "sd": sd}
    print(f"{key:24} " + " ".join(f"{v * scale:6.1f}" for v in values) + f" {mean:7.1f} {sd:6.1f}")
print(json.dumps(summary))
PY
