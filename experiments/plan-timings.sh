#!/usr/bin/env bash
# Times `placer plan` on the committed fixtures and on the full-size exports of
# `python profiles/fixtures/make_fixtures.py large DIR`, and writes
# experiments/results/plan-timings.md.   Usage: experiments/plan-timings.sh DIR
set -euo pipefail
LARGE=${1:?usage: experiments/plan-timings.sh DIR-with-the-large-exports}
cd "$(dirname "$0")/.."
npm run build >/dev/null
OUT=experiments/results/plan-timings.md
TMP=$(mktemp -d)
run() {
  echo "\$ placer plan $* --catalogue cloud --out DIR"
  /usr/bin/time -f "wall %e s, cpu %U+%S s, max RSS %M KB" node dist/bin/placer.js plan "$@" --catalogue cloud --out "$TMP/plan" 2>&1 | grep -v '^wrote'
  grep -E '^- (exact|genetic|anneal|greedy|random|reinforce):' "$TMP/plan/plan-report.md"
  node -e "const r=require('$TMP/plan/import-report.json'); console.log('parameters', r.parameters, '| notes:', r.notes.length ? r.notes.map(n => n.split(':')[0]).join('; ') : 'none')"
  echo
}
{
  echo "# placer plan: timings on real models"
  echo
  echo "Written by \`experiments/plan-timings.sh DIR\` on $(date -u +%Y-%m-%d) on the 2-core development machine (shared with other jobs, so wall > CPU)."
  echo "Default search: --time-limit 20 (exact for up to 10 s, then genetic for the rest; the better placement is kept), seed 1."
  echo "The first four models come from \`python profiles/fixtures/make_fixtures.py large DIR\` (not committed: 0.02 to 0.5 GB); the framework's own parameter counts are in its output:"
  echo "bert-base 132,361,530; resnet50 and resnet50-eval-dynamo 25,557,032; gptish-dynamo 5,431,296 (its 24 out_proj biases, zero at initialisation, are dropped by the dynamo exporter: 3,072 fewer in the file)."
  echo
  echo '```'
  run "$LARGE/bert-base.onnx" --micro-batch-size 8 --dim seq=128 --budget 20
  run "$LARGE/resnet50.onnx" --micro-batch-size 32 --budget 20
  run "$LARGE/resnet50-eval-dynamo.onnx" --micro-batch-size 32 --budget 20
  run "$LARGE/gptish-dynamo.onnx" --micro-batch-size 8 --budget 15
  run profiles/fixtures/resnet-block.onnx --micro-batch-size 32 --budget 5
  run profiles/fixtures/tiny-encoder.onnx --micro-batch-size 32 --dim seq=128 --budget 5
  run profiles/fixtures/keras-cnn/model.json --micro-batch-size 64 --budget 5
  run profiles/fixtures/keras-text/model.json --micro-batch-size 64 --budget 5
  echo '```'
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
rm -rf "$TMP"
cat "$OUT"
