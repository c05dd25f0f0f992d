#!/bin/bash
# The training recipe (models/train) end to end on a sample of the data with
# tiny sizes: every stage runs, the exported GGUF pair loads in radscribe,
# the prompt ids are the recipe's, C greedy tokens equal PyTorch's, and the
# LoRA adapter GGUF applied to the base decoder gives the merged model.
. "$(dirname "$0")/lib.sh"

tap_plan 8
need "$RADSCRIBE"
if ! "$PY" -c 'import torch, sentencepiece, numpy, PIL' 2>/dev/null; then
    tap_bail_rest "$PY lacks torch/sentencepiece/numpy/PIL (tests/deps.sh installs them)"
fi
[ -d "$SHARED_DATA/iuxray" ] || tap_bail_rest "no shared data at $SHARED_DATA"
TR=$top_srcdir/models/train
O=$T/out

if "$PY" "$TR/train.py" --tiny --shared "$SHARED_DATA" --out "$O" > "$T/train.out" 2>&1 &&
   [ -s "$O/radscribe-cxr.gguf" ] && [ -s "$O/mmproj-radscribe-cxr.gguf" ]; then
    tap_ok "train.py --tiny: every stage ran, GGUF pair and adapter written"
else
    tap_fail "train.py --tiny" "$(tail -n 15 "$T/train.out")"
fi
n=$(grep -cE "^[0-9:]+ (lm|vision|align|lora|full) epoch" "$O/train.log" 2>/dev/null)
tap_is "the log has a loss line per stage and epoch" "${n:-0}" 5

IMG=$top_srcdir/tests/sample/p253_07_PA.png
"$RADSCRIBE" infer -v --model "$O/radscribe-cxr.gguf" --mmproj "$O/mmproj-radscribe-cxr.gguf" \
    --prompt "Write the findings." --max-tokens 16 "$IMG" > "$T/merged.txt" 2> "$T/merged.err"
want=$("$PY" -c "
import sys; sys.path.insert(0, '$TR'); import tok
sp = tok.load('$O/tokenizer.model'); pre, post = tok.prompt_ids(sp, 'findings')
print(' '.join(map(str, pre))); print(' '.join(map(str, post)))")
got=$(sed -n 's/^prompt ids (before image): //p; s/^prompt ids (after image): //p' "$T/merged.err")
tap_is "radscribe detects the model's template and forms the recipe's prompt ids" "$got" "$want"

if "$PY" "$TR/evaluate.py" --tiny --out "$O" --radscribe "$RADSCRIBE" > "$T/eval.out" 2>&1; then
    p=$(sed -n 's/^Parity, C engine vs PyTorch greedy: \([0-9]*\/[0-9]*\) .*/\1/p' "$T/eval.out")
    if [ -n "$p" ] && [ "${p%/*}" = "${p#*/}" ] && [ "${p%/*}" -gt 0 ]; then
        tap_ok "C greedy tokens equal PyTorch's on every test input ($p sections)"
    else
        tap_fail "C greedy tokens equal PyTorch's on every test input" "$(grep -i parity "$T/eval.out" | head -5)"
    fi
else
    tap_fail "evaluate.py --tiny" "$(tail -n 15 "$T/eval.out")"
fi
tap_check "evaluate.py writes the clinical table with both baselines" \
    grep -q "nearest training radiograph" "$O/eval.md"

"$RADSCRIBE" infer -v --model "$O/radscribe-cxr-base.gguf" --lora "$O/radscribe-cxr-lora.gguf" \
    --mmproj "$O/mmproj-radscribe-cxr.gguf" --prompt "Write the findings." --max-tokens 16 \
    "$IMG" > "$T/lora.txt" 2> "$T/lora.err"
a=$(sed -n 's/^generated ids: //p' "$T/merged.err")
b=$(sed -n 's/^generated ids: //p' "$T/lora.err")
if [ -n "$a" ] && [ "$a" = "$b" ]; then
    tap_ok "base decoder + adapter GGUF generates what the merged file does"
else
    tap_fail "base decoder + adapter GGUF generates what the merged file does" "merged: $a" "adapter: $b"
fi

# A site's own adapter on top of the shipped files (the tiny ones here),
# from its own JSONL description: PNG views, reports, a split.
mkdir -p "$T/ship" "$T/site"
cp "$O/radscribe-cxr.gguf" "$O/mmproj-radscribe-cxr.gguf" "$O/radscribe-cxr.tokenizer.model" "$T/ship/"
S=$top_srcdir/tests/sample
cat > "$T/site/site.jsonl" <<JSONL
{"study": "a", "images": ["$S/p253_07_PA.png"], "findings": "Heart size normal. Lungs clear.", "impression": "No acute disease.", "split": "train"}
{"study": "b", "images": ["$S/p253_08_PA.png", "$S/p253_07_PA.png"], "findings": "Patchy opacity in the left base.", "impression": "Left basilar pneumonia.", "split": "train"}
{"study": "c", "images": ["$S/p253_08_PA.png"], "findings": "Heart size normal.", "impression": "No acute disease.", "split": "val"}
JSONL
if "$PY" "$TR/train.py" --init-from "$T/ship" --data "$T/site/site.jsonl" --out "$T/site/out" \
    --stages lora,export > "$T/site.out" 2>&1 && [ -s "$T/site/out/radscribe-cxr-lora.gguf" ]; then
    tap_ok "a site adapter from the shipped files and a site JSONL"
else
    tap_fail "a site adapter from the shipped files and a site JSONL" "$(tail -n 15 "$T/site.out")"
fi
"$RADSCRIBE" infer -v --model "$T/ship/radscribe-cxr.gguf" --lora "$T/site/out/radscribe-cxr-lora.gguf" \
    --mmproj "$T/site/out/mmproj-radscribe-cxr.gguf" --prompt "Write the findings." --max-tokens 16 \
    "$IMG" > /dev/null 2> "$T/site-a.err"
"$RADSCRIBE" infer -v --model "$T/site/out/radscribe-cxr.gguf" \
    --mmproj "$T/site/out/mmproj-radscribe-cxr.gguf" --prompt "Write the findings." --max-tokens 16 \
    "$IMG" > /dev/null 2> "$T/site-m.err"
a=$(sed -n 's/^generated ids: //p' "$T/site-a.err")
b=$(sed -n 's/^generated ids: //p' "$T/site-m.err")
if [ -n "$a" ] && [ "$a" = "$b" ]; then
    tap_ok "shipped decoder + site adapter generates what the site's merged file does"
else
    tap_fail "shipped decoder + site adapter generates what the site's merged file does" "adapter: $a" "merged: $b"
fi
tap_done
