#!/bin/sh
# run.sh - build the GGUF reader's libFuzzer harness and run it.
#   tests/fuzz/run.sh [SECONDS [JOBS]]    (defaults: 60 seconds, 1 job)
# FUZZ_MAXLEN sets the largest input (default 8192 bytes).
# The reader needs the tensor type table (dtype.c) and what it points to.
# Builds into ${FUZZ_OUT:-/tmp/radscribe-fuzz}, seeds a work corpus from
# tests/fuzz/corpus plus freshly generated files, and leaves crashes
# (crash-*, oom-*, timeout-*) in that directory.  Needs clang (14+).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
jobs=${2:-1}
out=${FUZZ_OUT:-/tmp/radscribe-fuzz}
cc=${CLANG:-clang}
maxlen=${FUZZ_MAXLEN:-8192}
mkdir -p "$out/work" "$out/seeds"
$cc -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$top/src" $(pkg-config --cflags openblas) \
	"$top/tests/fuzz/fuzz_gguf.c" "$top/src/infer/gguf.c" \
	"$top/src/infer/dtype.c" "$top/src/infer/quant.c" \
	"$top/src/infer/tensor.c" "$top/src/infer/pool.c" \
	$(pkg-config --libs openblas) -lm -pthread -o "$out/fuzz_gguf"
py=/usr/bin/python3
mk="$top/tests/tools/mkgguf.py"
$py "$mk" tensors "$out/seeds/small.gguf" --small --no-expect --seed 1
$py "$mk" tensors "$out/seeds/small-a64.gguf" --small --no-expect \
	--seed 2 --alignment 64 --types f32,q4_k
for m in $($py "$mk" modes | cut -f1); do
	$py "$mk" bad "$out/seeds/bad-$m.gguf" --mode "$m"
done
cd "$out"
./fuzz_gguf -max_total_time="$secs" -jobs="$jobs" -workers="$jobs" \
	-max_len="$maxlen" -dict="$top/tests/fuzz/gguf.dict" -print_final_stats=1 \
	work "$top/tests/fuzz/corpus" seeds
