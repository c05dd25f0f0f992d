#!/bin/bash
# radscribe infer end to end: prompt assembly, preprocessing of two views,
# the vision tower, prefill and greedy decoding, compared with the numpy
# reference (tests/ref) on tiny random model pairs; and bad model files.
. "$(dirname "$0")/lib.sh"

tap_plan 19
need "$RADSCRIBE"
need_pydicom
REF=$top_srcdir/tests/ref
MK=$top_srcdir/tests/tools/mkmodel.py

# Two grey views of different sizes (the engine joins them side by side).
"$PY" - "$T" <<'PYEOF'
import sys
import numpy as np
from PIL import Image
r = np.random.default_rng(3)
Image.fromarray(r.integers(0, 256, (120, 100), dtype=np.uint8)).save(sys.argv[1] + "/a.png")
Image.fromarray(r.integers(0, 256, (90, 130), dtype=np.uint8)).save(sys.argv[1] + "/b.png")
PYEOF

# expect_refusal DESCRIPTION PATTERN ARGS...: `radscribe infer ARGS` exits
# 1 with an error matching PATTERN (grep -E).
expect_refusal() {
    local what=$1 pat=$2 msg rc
    shift 2
    msg=$("$RADSCRIBE" infer "$@" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && grep -qE "$pat" <<<"$msg"; then
        tap_ok "$what ($msg)"
    else
        tap_fail "$what" "exit $rc: $msg"
    fi
}

# ref_greedy DIR ERRFILE [LORA]: the numpy reference's 12 greedy tokens for
# the pair in DIR, with the prompt ids radscribe printed (-v) in ERRFILE and
# the two views a.png and b.png preprocessed by the numpy twin.
ref_greedy() {
    local d=$1 pre post mean std
    pre=$(sed -n 's/^prompt ids (before image): //p' "$2" | tr ' ' ,)
    post=$(sed -n 's/^prompt ids (after image): //p' "$2" | tr ' ' ,)
    read -r mean std < <("$PY" -c "
import sys; sys.path.insert(0, '$top_srcdir/models/convert'); import gguf
r = gguf.GGUFReader('$d/mmproj.gguf')
print(','.join(map(str, r.get('clip.vision.image_mean'))), ','.join(map(str, r.get('clip.vision.image_std'))))")
    "$PY" "$REF/preprocess.py" --size 32 --mean "$mean" --std "$std" \
        --f32 "$d/px.f32" "$d/px.rgb" "$T/a.png" "$T/b.png"
    "$PY" "$REF/model.py" greedy "$d/llm.gguf" "$d/mmproj.gguf" \
        "$d/px.f32" "$pre" "$post" 12 ${3:+"$3"}
}

# check_greedy NAME MKMODEL-OPTIONS: C greedy tokens == numpy greedy tokens.
check_greedy() {
    local d=$T/$1
    shift
    "$PY" "$MK" "$d" "$@" || { tap_fail "mkmodel $*"; return; }
    "$RADSCRIBE" infer -v --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" \
        --prompt "Findings?" --max-tokens 12 "$T/a.png" "$T/b.png" \
        > "$d/out.txt" 2> "$d/err.txt"
    local rc=$?
    local gen want
    gen=$(sed -n 's/^generated ids: *//p' "$d/err.txt" | tr ' ' ,)
    want=$(ref_greedy "$d" "$d/err.txt")
    if [ $rc -eq 0 ] && [ -n "$gen" ] && [ "$gen" = "$want" ]; then
        tap_ok "$*: greedy tokens equal the numpy reference ($gen)"
    else
        tap_fail "$*: greedy tokens equal the numpy reference" \
            "exit $rc; C: $gen" "numpy: $want" "$(head -n 3 "$d/err.txt")"
    fi
}

check_greedy f32 --untied --seed 11 --gqa
check_greedy f16 --untied --seed 12 --type f16 --class-embd
check_greedy bf16 --untied --seed 13 --type bf16 --gelu
check_greedy bpe --untied --seed 14 --bpe --vocab-extra 40

# The BPE pair tokenises with its merges (ids above the 256 byte symbols).
pre=$(sed -n 's/^prompt ids (after image): //p' "$T/bpe/err.txt")
if [ -n "$pre" ] && printf '%s\n' $pre | awk '$1 >= 256 { f = 1 } END { exit !f }'; then
    tap_ok "BPE vocabulary: the prompt uses merged tokens ($pre)"
else
    tap_fail "BPE vocabulary: the prompt uses merged tokens" "$pre"
fi

# Prompt layout: Vicuna as llama.cpp renders it, BOS once, chunks apart.
d=$T/f32
pre=$(sed -n 's/^prompt ids (before image): //p' "$d/err.txt")
case $pre in
    "1 "*) tap_ok "the prompt starts with BOS, once ($pre)" ;;
    *) tap_fail "the prompt starts with BOS, once" "$pre" ;;
esac
n_img=$(sed -n 's/^image positions: //p' "$d/err.txt")
tap_is "the image takes its patch count of positions" "$n_img" 16

# Beam search runs and is deterministic.
a=$("$RADSCRIBE" infer --beams 2 --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" \
    --max-tokens 8 "$T/a.png" 2>&1 | od -An -tx1 | tr -d ' \n')
b=$("$RADSCRIBE" infer --beams 2 --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" \
    --max-tokens 8 "$T/a.png" 2>&1 | od -An -tx1 | tr -d ' \n')
if [ -n "$a" ] && [ "$a" = "$b" ]; then
    tap_ok "beam search (2 beams) gives the same text twice"
else
    tap_fail "beam search (2 beams) gives the same text twice" "$a" "$b"
fi

# LoRA: merged at load exactly as W + alpha/rank * B A.
d=$T/lora
"$PY" "$MK" "$d" --untied --seed 21 --lora 4 >/dev/null
"$RADSCRIBE" infer -v --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" --lora "$d/lora.gguf" \
    --prompt "Findings?" --max-tokens 12 "$T/a.png" "$T/b.png" > "$d/out.txt" 2> "$d/err.txt"
rc=$?
"$RADSCRIBE" infer -v --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" \
    --prompt "Findings?" --max-tokens 12 "$T/a.png" "$T/b.png" > "$d/base.txt" 2> "$d/base.err"
gen=$(sed -n 's/^generated ids: *//p' "$d/err.txt" | tr ' ' ,)
base=$(sed -n 's/^generated ids: *//p' "$d/base.err" | tr ' ' ,)
want=$(ref_greedy "$d" "$d/err.txt" "$d/lora.gguf")
if [ $rc -eq 0 ] && [ -n "$gen" ] && [ "$gen" = "$want" ]; then
    tap_ok "LoRA (rank 4, q, v and output): greedy tokens equal the numpy merge ($gen)"
else
    tap_fail "LoRA: greedy tokens equal the numpy merge" "exit $rc; C: $gen" "numpy: $want"
fi
if [ -n "$base" ] && [ "$base" != "$gen" ]; then
    tap_ok "the adapter changes the output (without it: $base)"
else
    tap_fail "the adapter changes the output" "with: $gen" "without: $base"
fi
expect_refusal "a model file given as adapter: exit 1" \
    "not a LoRA adapter" \
    --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" --lora "$d/llm.gguf" "$T/a.png"
"$PY" "$MK" "$T/lora64" --untied --seed 22 --lora 4 --dim 128 >/dev/null
expect_refusal "an adapter for another model size: exit 1 naming the shapes" \
    "lora_a is" \
    --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" --lora "$T/lora64/lora.gguf" "$T/a.png"

# DICOM views: the same pixels as DCMTK's dcmj2pnm renders with the same VOI
# choice (first window, else min-max), seen through identical tokens.
need dcmj2pnm dcml2pnm dcmdump
d=$T/f32
bad=
for f in cr_chest_fuji_mono1_10bit_explicit-le.dcm cr_hip_fuji_mono2_10bit_rle.dcm \
         cr-sc_chest_siim_mono2_8bit_jpeg-baseline.dcm cr_hip_fuji_mono2_10bit_jpegls-lossless.dcm; do
    copy_shared "dicom-samples/$f" "$T/dcm" || bad="$bad $f(copy)"
    src=$T/dcm/$f
    if dcmdump +P 0028,1050 "$src" | grep -q WindowCenter; then voi=+Wi; arg=1; else voi=+Wm; arg=; fi
    # dcmj2pnm has no JPEG-LS decoder; dcml2pnm is its JPEG-LS twin.
    tool=dcmj2pnm
    case $f in *jpegls*) tool=dcml2pnm ;; esac
    $tool +on $voi $arg "$src" "$T/dcm/$f.png" 2>/dev/null || bad="$bad $f($tool)"
    a=$("$RADSCRIBE" infer -v --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" --max-tokens 6 \
        "$src" 2>&1 >/dev/null | sed -n 's/^generated ids: *//p')
    b=$("$RADSCRIBE" infer -v --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" --max-tokens 6 \
        "$T/dcm/$f.png" 2>&1 >/dev/null | sed -n 's/^generated ids: *//p')
    [ -n "$a" ] && [ "$a" = "$b" ] || bad="$bad $f($a|$b)"
done
if [ -z "$bad" ]; then
    tap_ok "DICOM views (explicit LE MONOCHROME1, RLE, JPEG baseline, JPEG-LS) decode as dcmj2pnm renders them"
else
    tap_fail "DICOM views decode as dcmj2pnm renders them" "$bad"
fi
# JPEG 2000 views (OpenJPEG through the bridge): the same tokens as the
# same files decoded by GDCM (gdcmconv --raw), lossy and lossless.
need gdcmconv
bad=
for f in cr_chest_philips_mono1_15bit_j2k-lossy.dcm dx_chest_canon_mono1_12bit_j2k-lossless.dcm; do
    copy_shared "dicom-samples/$f" "$T/dcm" || bad="$bad $f(copy)"
    gdcmconv --raw "$T/dcm/$f" "$T/dcm/$f.raw.dcm" 2>/dev/null || bad="$bad $f(gdcmconv)"
    a=$("$RADSCRIBE" infer -v --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" --max-tokens 6 \
        "$T/dcm/$f" 2>&1 >/dev/null | sed -n 's/^generated ids: *//p')
    b=$("$RADSCRIBE" infer -v --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" --max-tokens 6 \
        "$T/dcm/$f.raw.dcm" 2>&1 >/dev/null | sed -n 's/^generated ids: *//p')
    [ -n "$a" ] && [ "$a" = "$b" ] || bad="$bad $f($a|$b)"
done
if [ -z "$bad" ]; then
    tap_ok "JPEG 2000 views (lossy Philips CR, lossless Canon DX) read as GDCM decodes them"
else
    tap_fail "JPEG 2000 views read as GDCM decodes them" "$bad"
fi
# A codestream cut in half: OpenJPEG's complaint, exit 1, no crash.
"$PY" - "$T/dcm/dx_chest_canon_mono1_12bit_j2k-lossless.dcm" "$T/dcm/cut.dcm" <<'PYEOF'
import sys, pydicom
from pydicom.encaps import encapsulate, generate_pixel_data_frame
ds = pydicom.dcmread(sys.argv[1])
frame = next(generate_pixel_data_frame(ds.PixelData))
ds.PixelData = encapsulate([frame[:len(frame) // 2]])
ds.save_as(sys.argv[2])
PYEOF
expect_refusal "a truncated JPEG 2000 codestream: exit 1 naming JPEG 2000" \
    "cannot decode transfer syntax JPEG 2000.*JPEG 2000: " \
    --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" "$T/dcm/cut.dcm"

# Bad model files: a clear error, exit status 1, no crash.
"$PY" "$MK" "$T/align2" --alignment 2 >/dev/null
expect_refusal "an LLM file with general.alignment 2: exit 1, not read misaligned" \
    "general.alignment 2: tensor data would be misaligned" \
    --model "$T/align2/llm.gguf" --mmproj "$T/align2/mmproj.gguf" "$T/a.png"
head -c 5000 "$d/llm.gguf" > "$T/trunc.gguf"
expect_refusal "truncated LLM file: exit 1 with a clear error" \
    "[Tt]runcated|past the end|extends" \
    --model "$T/trunc.gguf" --mmproj "$d/mmproj.gguf" "$T/a.png"
expect_refusal "files swapped: exit 1 naming the architecture" \
    "architecture" \
    --model "$d/mmproj.gguf" --mmproj "$d/llm.gguf" "$T/a.png"
msg=$("$RADSCRIBE" infer --model "$d/llm.gguf" --mmproj "$T/f16/mmproj.gguf" "$T/a.png" 2>&1)
rc=$?
if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then
    tap_ok "an mmproj from another pair is used or refused cleanly (exit $rc)"
else
    tap_fail "an mmproj from another pair is used or refused cleanly" "exit $rc: $msg"
fi
tap_done
