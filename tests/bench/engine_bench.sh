#!/bin/sh
# engine_bench.sh - the inference engine against tuned PyTorch in the same
# run (issue 3): a 33M-parameter LLaMA (dim 512, 8 layers, 8 heads, vocab
# 8000) in F32 and F16 and a ViT-S/16-shaped encoder (6 blocks, 5 run), all
# random weights, 2 threads.  Prints the figures and the ratios.
#   tests/bench/engine_bench.sh      (from a configured tree, after make check
#                                     or make tests/bench/engine_bench)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${ENGINE_BENCH:-$top/tests/bench/engine_bench}
[ -x "$bin" ] || { echo "engine_bench.sh: build $bin first (make tests/bench/engine_bench)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
PY=/usr/bin/python3
VIS=224,16,384,6,1536,6,512
echo "== radscribe engine benchmark (issue 3) =="
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:   $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(grep -o -m1 -w 'avx512f' /proc/cpuinfo || echo no-avx512)"
echo "OPENBLAS_CORETYPE in this environment: ${OPENBLAS_CORETYPE:-unset}"
for t in f32 f16; do
	"$PY" "$top/tests/tools/mkmodel.py" "$T/$t" --type "$t" --dim 512 --layers 8 \
		--heads 8 --vocab-extra 7741 --ff 1536 --untied --vision "$VIS"
done
for t in f32 f16; do
	echo "-- radscribe, $t weights"
	"$bin" "$T/$t/llm.gguf" "$T/$t/mmproj.gguf" 2 128 128 | tee "$T/$t.out"
done
echo "-- PyTorch $($PY -c 'import torch; print(torch.__version__)'), float32, tuned (OPENBLAS_CORETYPE=SkylakeX, OMP_WAIT_POLICY=PASSIVE, 2 threads)"
OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=PASSIVE THREADS=2 "$PY" \
	"$top/tests/bench/torch_bench.py" 512 8 8 1536 8000 128 128 224 16 384 6 1536 5 | tee "$T/torch.out"
"$PY" - "$T" <<'PYEOF'
import re, sys
d = sys.argv[1]
def grab(f, key):
    m = re.search(key + r"[^=\n]*?([0-9.]+) (tokens/s|tok/s|ms)", open(f).read())
    return float(m.group(1))
tp, td, te = (grab(d + "/torch.out", k) for k in ("prefill", "decode", "encoder"))
print("\n| engine | prefill tok/s | decode tok/s | encoder ms | pixels-to-text s (128 prompt, 128 new) | vs PyTorch |")
print("|---|---:|---:|---:|---:|---:|")
tt = 128 / tp + 128 / td + te / 1e3
print("| PyTorch f32 (tuned) | %.0f | %.1f | %.1f | %.2f | 1.00 |" % (tp, td, te, tt))
for t in ("f32", "f16"):
    f = "%s/%s.out" % (d, t)
    p, dd = grab(f, "prefill:   128 tokens in [0-9.]+ ms ="), grab(f, "decode:    128 tokens in [0-9.]+ ms =")
    e = grab(f, "encoder:")
    s = 128 / p + 128 / dd + e / 1e3
    print("| radscribe %s | %.0f | %.1f | %.1f | %.2f | %.2fx |" % (t, p, dd, e, s, tt / s))
print("\nFor scale (DESIGN.md, llama.cpp 2026 build, 2 threads, this machine type): "
      "190 tok/s F32 and 330 tok/s F16 decoding, 2,700 tok/s on a 128-token prompt.")
PYEOF

# BIG=1: the bandwidth and sgemm targets.  A 7B-shaped decoder (dim 4096,
# 32 heads, FFN 11008, vocab 32000) with 8 of its 32 layers (per-token
# traffic and work scale with the layer count, so the fraction of the
# bandwidth limit is the same) in Q8_0 and Q4_0, and a CLIP ViT-L/14-336
# encoder in F16 (23 of 24 blocks run).  About 4 GB of temporary files.
if [ "${BIG:-0}" = 1 ]; then
	for t in q8_0 q4_0; do
		"$PY" "$top/tests/tools/mkmodel.py" "$T/big-$t" --type "$t" --dim 4096 \
			--layers 8 --heads 32 --ff 11008 --vocab-extra 31741 --untied
		echo "-- 7B-shaped decoder, $t"
		ENGINE_BENCH_LIMITS=1 "$bin" "$T/big-$t/llm.gguf" "$T/big-$t/mmproj.gguf" 2 16 32 |
			grep -E 'decode|weights'
		rm -rf "$T/big-$t"
	done
	"$PY" "$top/tests/tools/mkmodel.py" "$T/vitl" --type f16 --dim 4096 --layers 1 \
		--heads 32 --ff 11008 --untied --vision 336,14,1024,16,4096,24,4096
	echo "-- ViT-L/14-336 encoder, F16 (OpenBLAS ${OPENBLAS_CORETYPE:-auto})"
	ENGINE_BENCH_LIMITS=1 "$bin" "$T/vitl/llm.gguf" "$T/vitl/mmproj.gguf" 2 16 4 | grep encoder
fi
