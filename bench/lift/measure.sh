#!/bin/sh
# Reproduces every number in docs/bench.md: the replays, the scenarios, the ablations and the
# validation matrix (about 170 CPU-minutes, most of them the matrix's), then the document.
# JOBS=n: the matrix's worker threads (default 2, the machine's cores; the report is the same for any n).
# Usage (from the package root): npm run build && sh bench/lift/measure.sh
set -eu
OUT=${OUT:-bench/results}
# Only this script's outputs: bench/results also holds other benchmarks' (bench/dashboard).
mkdir -p "$OUT"
# matrix-targets.json (the target cells rerun with intervals an older matrix run lacked) goes too: a new matrix keeps them.
rm -f "$OUT"/replay-* "$OUT"/scenario-* "$OUT"/ablation-* "$OUT"/matrix.json "$OUT"/matrix-targets.json "$OUT"/typo-id.json
LL="nice -n 10 node bin/learnloop.js bench lift"
# The validation matrix (real tables and their subsets, synthetic families, K 2–all, 500/2,000/10,000
# steps) runs beside the rest on JOBS threads: once the rest is done it has every core to itself.
# MATRIX_FROM=FILE reuses a whole-matrix run of this same build (`bench lift --matrix --seeds 100 --json
# FILE`, read when the rest is done) instead of running it again, as it is most of the script's CPU;
# write-doc.ts shows the policy it ran and refuses a subset.
MATRIX=
if [ -z "${MATRIX_FROM:-}" ]; then
  $LL --matrix --seeds 100 --jobs "${JOBS:-2}" --json "$OUT/matrix.json" > /dev/null &
  MATRIX=$!
fi
for arms in 8 all; do
  for ctx in none repo; do
    $LL --arms $arms --steps 2000 --seeds 20 --context $ctx --json "$OUT/replay-$arms-$ctx.json" --plot "$OUT/replay-$arms-$ctx.svg" > /dev/null
  done
done
# p10 over 20 seeds is the 2nd-lowest value: the targets are measured on 100 seeds.
$LL --arms 8 --steps 2000 --seeds 100 --context none --json "$OUT/replay-8-none-100seeds.json" > /dev/null
$LL --arms all --steps 2000 --seeds 100 --context none --json "$OUT/replay-all-none-100seeds.json" > /dev/null
for f in bench/scenarios/*.json; do
  name=$(basename "$f" .json)
  $LL --scenario "$f" --json "$OUT/scenario-$name.json" --plot "$OUT/scenario-$name.svg" > /dev/null
done
# A typo'd id through the service itself (not the simulator).
nice -n 10 node dist/bench/scenarios/typo-id.js --seeds 20 --steps 300 --json "$OUT/typo-id.json" > /dev/null
# Ablations: learnloop alone with one part of the policy changed.
ab() { name=$1; shift; $LL --policies learnloop "$@" --json "$OUT/ablation-$name.json" > /dev/null; }
ab all-log-scale-100seeds --arms all --steps 2000 --seeds 100 --policy-config '{"satisficingScale":"log-candidates"}'
ab 8-plain-ts-100seeds --arms 8 --steps 2000 --seeds 100 --policy-config '{"satisficingTolerance":0}'
ab 8-repo --arms 8 --steps 2000 --seeds 100 --context repo
# null removes a field: /4's pooling fitted per context, and fixed pooling (neither learns the spread).
ab context-noise-fitted-pooling --scenario bench/scenarios/context-noise.json --policy-config '{"groupSpread":null,"classlessSpread":null}'
ab all-repo-fitted-pooling --arms all --steps 2000 --seeds 20 --context repo --policy-config '{"groupSpread":null,"classlessSpread":null}'
ab context-noise-fixed-pooling --scenario bench/scenarios/context-noise.json --policy-config '{"groupSpread":null,"classlessSpread":null,"empiricalBayesPooling":false}'
ab refined-better-inherit --scenario bench/scenarios/refined-better.json --policy-config '{"versionPrior":"inherit"}'
if [ -n "$MATRIX" ]; then wait "$MATRIX"; else cp "$MATRIX_FROM" "$OUT/matrix.json"; fi
[ "$OUT" = bench/results ] && node dist/bench/lift/write-doc.js "$OUT" docs/bench.md
