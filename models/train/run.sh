#!/bin/sh
# The default model's whole recipe, from ../shared/data to the GGUF pair in
# models/, with fixed seeds: training (train.py), evaluation and the C-engine
# parity check (evaluate.py, needs src/radscribe built), then the copy.
#   models/train/run.sh [OUTDIR]      (default models/train/out)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$here/out}
py=/usr/bin/python3
mkdir -p "$out"
[ -x "$top/src/radscribe" ] || { echo "run.sh: build radscribe first (make)" >&2; exit 1; }
start=$(date +%s)
"$py" "$here/train.py" --out "$out"
"$py" "$here/evaluate.py" --out "$out" --radscribe "$top/src/radscribe"
"$py" "$here/evaluate.py" --out "$out" --tag full --no-parity	# the comparison
cp "$out/radscribe-cxr.gguf" "$out/mmproj-radscribe-cxr.gguf" "$out/radscribe-cxr.tokenizer.model" "$top/models/"
echo "run.sh: recipe, evaluation and copy took $(( ($(date +%s) - start) / 60 )) min"
