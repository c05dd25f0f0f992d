#!/bin/bash
# radscribe model test: both section prompts of the default model on the
# shipped sample image, the same text `radscribe infer` writes; refusals.
. "$(dirname "$0")/lib.sh"

tap_plan 4
need "$RADSCRIBE"
M=$top_srcdir/models
S=$top_srcdir/tests/sample/p253_07_PA.png
out=$("$RADSCRIBE" model test 2>&1)
rc=$?
tap_is "model test with the defaults exits 0" "$rc" 0
for sec in findings impression; do
    case $sec in findings) p="Write the findings." n=128 ;; *) p="Write the impression." n=128 ;; esac
    want=$("$RADSCRIBE" infer --model "$M/radscribe-cxr.gguf" --mmproj "$M/mmproj-radscribe-cxr.gguf" \
        --prompt "$p" --max-tokens "$n" "$S" 2>/dev/null)
    got=$(sed -n "s/^$sec: //p" <<<"$out")
    if [ -n "$want" ] && [ "$got" = "$want" ] && grep -A1 "^$sec: " <<<"$out" | grep -q "tokens/s"; then
        tap_ok "model test: $sec text equals radscribe infer's on the sample, with timings"
    else
        tap_fail "model test: $sec text equals radscribe infer's on the sample, with timings" \
            "got: $got" "want: $want" "$out"
    fi
done
"$RADSCRIBE" model test --model "$T/none.gguf" --mmproj "$M/mmproj-radscribe-cxr.gguf" "$S" > /dev/null 2> "$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "none.gguf" "$T/err"; then
    tap_ok "model test with a missing model exits 1 naming it"
else
    tap_fail "model test with a missing model exits 1 naming it" "exit $rc" "$(cat "$T/err")"
fi
tap_done
