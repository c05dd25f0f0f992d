#!/bin/bash
# models/convert/llava_hf.py end to end: tiny random LLaVA-1.5 checkpoints
# in the Hugging Face layouts (tests/tools/mkhfllava.py) are converted and
# run by `radscribe infer`; the tokens must be those of an independent numpy
# model written in Hugging Face's conventions (tests/ref/hf_llava.py), and
# the embeddings and logits of the GGUF reference (tests/ref/model.py) must
# agree with it.  Then the tokenizer round trip and the refusals.
. "$(dirname "$0")/lib.sh"

tap_plan 28
need "$RADSCRIBE"
if ! "$PY" -c 'import numpy, sentencepiece, PIL' 2>/dev/null; then
    echo "# $PY lacks numpy/sentencepiece/PIL (Debian python3-numpy python3-sentencepiece python3-pil)"
    tap_bail_rest "numpy/sentencepiece/PIL missing"
fi
CONV=$top_srcdir/models/convert/llava_hf.py
MKHF=$top_srcdir/tests/tools/mkhfllava.py
HF=$top_srcdir/tests/ref/hf_llava.py
REF=$top_srcdir/tests/ref/model.py
PROMPT='Describe the findings in 2 views: heart size, lungs; naïve 45°?'
N=12

"$PY" - "$T" <<'PYEOF'
import sys
import numpy as np
from PIL import Image
r = np.random.default_rng(5)
Image.fromarray(r.integers(0, 256, (120, 100), dtype=np.uint8)).save(sys.argv[1] + "/a.png")
Image.fromarray(r.integers(0, 256, (90, 130), dtype=np.uint8)).save(sys.argv[1] + "/b.png")
PYEOF

# ---- checkpoints: name layout options
bad=
while read -r name opts; do
    # shellcheck disable=SC2086
    "$PY" "$MKHF" "$T/$name" $opts 2> "$T/$name.mk.err" || bad="$bad $name"
done <<'EOF'
hf --layout transformers --dtype f16 --seed 6
hfnew --layout transformers-new --dtype bf16 --seed 11
orig --layout original --dtype bf16 --shards 3 --tower clip --seed 6
tied --layout transformers-new --dtype f16 --tied --seed 4
origv --layout original --dtype f16 --shards 2 --tower vision --seed 10
EOF
if [ -z "$bad" ]; then
    tap_ok "mkhfllava: five checkpoints (transformers old and new names, original LLaVA with a CLIPModel and a CLIPVisionModel tower; F16, BF16; 3 and 2 shards)"
else
    tap_fail "mkhfllava writes the checkpoints" "failed:$bad" "$(cat "$T"/*.mk.err | tail -n 5)"
fi

# tower NAME: the --vision-tower option for an original-layout checkpoint
tower() { [ -d "$T/$1/clip" ] && echo "--vision-tower $T/$1/clip"; }

# convert_ok NAME TYPE [OUTDIR]: convert $T/NAME/ckpt into OUTDIR (default
# $T/NAME) as llm.gguf and mmproj.gguf
convert_ok() {
    local name=$1 type=$2 out=${3:-$T/$1} msg rc
    mkdir -p "$out"
    # shellcheck disable=SC2046
    msg=$("$PY" "$CONV" --type "$type" $(tower "$name") "$T/$name/ckpt" \
        "$out/llm.gguf" "$out/mmproj.gguf" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && [ -s "$out/llm.gguf" ] && [ -s "$out/mmproj.gguf" ]; then
        tap_ok "convert $name --type $type ($(head -n 1 <<<"$msg" | sed 's/^llava_hf.py: //'))"
    else
        tap_fail "convert $name --type $type" "exit $rc" "$msg"
    fi
}
convert_ok hf f32
convert_ok hfnew f16
convert_ok orig f32
convert_ok tied f32
convert_ok origv q8_0

# ---- the files' keys and tensors
out=$("$PY" - "$top_srcdir" "$T" <<'PYEOF' 2>&1
import json, sys
sys.path.insert(0, sys.argv[1] + "/models/convert")
import gguf
T = sys.argv[2]
errs = []
def check(cond, what):
    if not cond:
        errs.append(what)
for name, prep in (("hf", "hf/ckpt"), ("orig", "orig/clip")):
    m = gguf.GGUFReader("%s/%s/mmproj.gguf" % (T, name))
    l = gguf.GGUFReader("%s/%s/llm.gguf" % (T, name))
    names = {t["name"] for t in m.tensors}
    pc = json.load(open("%s/%s/preprocessor_config.json" % (T, prep)))
    check(m.get("clip.vision.block_count") == 2, name + ": block_count 2 (3 blocks, select -2)")
    fl = m.kv.get("clip.vision.feature_layer")
    check(fl is not None and fl[0] == gguf.ARRAY and fl[2] == gguf.INT32 and list(fl[1]) == [2],
          name + ": feature_layer = INT32 array [2]")
    check("v.blk.1.attn_q.weight" in names and "v.blk.2.attn_q.weight" not in names,
          name + ": blocks 0-1 written, block 2 (never run) not")
    check("v.class_embd" in names and "v.post_ln.weight" not in names,
          name + ": class embedding kept, post_layernorm left out")
    check(m.get("clip.use_gelu") is False, name + ": quick_gelu tower")
    check(m.get("clip.projector_type") == "mlp" and m.get("clip.vision.projection_dim") == 64,
          name + ": mlp projector to 64")
    check([round(float(v), 6) for v in m.get("clip.vision.image_mean")] == pc["image_mean"] and
          [round(float(v), 6) for v in m.get("clip.vision.image_std")] == pc["image_std"],
          name + ": image_mean/std from preprocessor_config.json")
    check(l.get("llama.attention.head_count_kv") == 2 and l.get("llama.rope.dimension_count") == 16,
          name + ": GQA 4/2 heads, 16 rotary dims")
    tmpl = l.get("tokenizer.chat_template") or ""
    check("USER: " in tmpl and "ASSISTANT: " in tmpl, name + ": Vicuna chat template")
    check("output.weight" in {t["name"] for t in l.tensors}, name + ": output.weight")
    for t in m.tensors + l.tensors:
        if t["name"].endswith(("norm.weight", ".bias", "ln1.weight", "ln2.weight", "pre_ln.weight")):
            check(t["type"] == gguf.F32, name + ": " + t["name"] + " F32")
tl = {t["name"] for t in gguf.GGUFReader(T + "/tied/llm.gguf").tensors}
check("output.weight" not in tl, "tied: no output.weight")
print("\n".join(errs))
PYEOF
)
if [ -z "$out" ]; then
    tap_ok "keys: 2 of 3 blocks written, feature_layer INT32 [2], class embedding, no post-LN, mean/std from the preprocessor, GQA, Vicuna template, tied embeddings"
else
    tap_fail "keys and tensors of the converted files" "$out"
fi

out=$("$PY" - "$top_srcdir" "$T" <<'PYEOF' 2>&1
import sys
sys.path.insert(0, sys.argv[1] + "/models/convert")
import gguf
import sentencepiece
T = sys.argv[2]
errs = []
for name in ("hf", "orig"):
    sp = sentencepiece.SentencePieceProcessor(model_file=T + "/%s/ckpt/tokenizer.model" % name)
    r = gguf.GGUFReader(T + "/%s/llm.gguf" % name)
    toks, scores = r.get("tokenizer.ggml.tokens"), r.get("tokenizer.ggml.scores")
    types = list(r.get("tokenizer.ggml.token_type"))
    n = sp.vocab_size()
    for i in range(n):
        want = 2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else \
            4 if sp.id_to_piece(i) == "<finding>" else 1
        score = sp.get_score(i)
        if name == "hf" and i < 3:
            # in added_tokens_decoder as special: llama.cpp's converter
            # makes them control tokens scored -1000
            want, score = 3, -1000.0
        if toks[i] != sp.id_to_piece(i) or abs(scores[i] - score) > 1e-6 or types[i] != want:
            errs.append("%s: id %d: %r %g %d, want %r %g %d" % (name, i, toks[i], scores[i], types[i],
                        sp.id_to_piece(i), score, want))
            break
    if name == "hf":
        extra = list(zip(toks[n:], types[n:]))
        want = [("<image>", 3), ("<pad>", 3)] + [("[PAD%d]" % i, 5) for i in range(n + 2, n + 8)]
        if extra != want:
            errs.append("hf: ids %d..: %r, want %r" % (n, extra, want))
    elif len(toks) != n:
        errs.append("orig: %d tokens, want %d" % (len(toks), n))
    for k, v in (("bos", 1), ("eos", 2), ("unknown", 0)):
        if r.get("tokenizer.ggml.%s_token_id" % k) != v:
            errs.append("%s: %s id %r" % (name, k, r.get("tokenizer.ggml.%s_token_id" % k)))
print("\n".join(errs))
PYEOF
)
if [ -z "$out" ]; then
    tap_ok "vocabulary: pieces, scores and types (unknown 2, control 3, user-defined 4, byte 6, [PADn] unused 5) as sentencepiece, added_tokens.json and added_tokens_decoder say"
else
    tap_fail "vocabulary as sentencepiece says" "$out"
fi

# pixels NAME: $T/NAME/px.f32, the two views preprocessed by the numpy twin
# with the checkpoint's own image_mean/std
pixels() {
    local d=$T/$1 p mean std
    p=$d/ckpt/preprocessor_config.json
    [ -d "$d/clip" ] && p=$d/clip/preprocessor_config.json
    read -r mean std < <("$PY" -c "
import json; c = json.load(open('$p'))
print(','.join(map(str, c['image_mean'])), ','.join(map(str, c['image_std'])))")
    "$PY" "$top_srcdir/tests/ref/preprocess.py" --size 32 --mean "$mean" --std "$std" \
        --f32 "$d/px.f32" "$d/px.rgb" "$T/a.png" "$T/b.png"
}

# run_c NAME [DIR]: radscribe infer on DIR's (default $T/NAME) pair; sets
# PRE, POST and GEN (comma lists) from -v
run_c() {
    local d=${2:-$T/$1}
    "$RADSCRIBE" infer -v --model "$d/llm.gguf" --mmproj "$d/mmproj.gguf" \
        --prompt "$PROMPT" --max-tokens $N "$T/a.png" "$T/b.png" > "$d/out.txt" 2> "$d/err.txt"
    RC=$?
    PRE=$(sed -n 's/^prompt ids (before image): //p' "$d/err.txt" | tr ' ' ,)
    POST=$(sed -n 's/^prompt ids (after image): //p' "$d/err.txt" | tr ' ' ,)
    GEN=$(sed -n 's/^generated ids: *//p' "$d/err.txt" | tr ' ' ,)
}

# compare A.f32 B.f32 RELTOL: max |a - b| <= RELTOL * max |b|; prints it
compare() {
    "$PY" -c "
import sys, numpy as np
a = np.fromfile('$1', np.float32).astype(float); b = np.fromfile('$2', np.float32).astype(float)
if a.size != b.size or a.size == 0:
    print('sizes %d and %d' % (a.size, b.size)); sys.exit(1)
d, m = np.abs(a - b).max(), np.abs(b).max()
print('max diff %.3g of max %.3g' % (d, m)); sys.exit(0 if d <= $3 * m else 1)"
}

for name in hf hfnew orig tied origv; do pixels "$name"; done

# ---- embeddings: the GGUF reference on the converted mmproj against the
# Hugging Face model.  With the projector's GELU in ggml's tanh form the two
# must agree to float32 rounding (tolerance 1e-5 of the largest value);
# with Hugging Face's erf GELU within 1e-3 of it.
for name in hf orig; do
    d=$T/$name
    # shellcheck disable=SC2046
    "$PY" "$HF" $(tower $name) --gelu tanh embed "$d/ckpt" "$d/px.f32" "$d/hf_tanh.f32" &&
    # shellcheck disable=SC2046
    "$PY" "$HF" $(tower $name) embed "$d/ckpt" "$d/px.f32" "$d/hf_erf.f32" &&
    "$PY" "$REF" embed "$d/mmproj.gguf" "$d/px.f32" "$d/gguf.f32"
    a=$(compare "$d/hf_tanh.f32" "$d/gguf.f32" 1e-5); ra=$?
    b=$(compare "$d/hf_erf.f32" "$d/gguf.f32" 1e-3); rb=$?
    if [ $ra -eq 0 ] && [ $rb -eq 0 ]; then
        tap_ok "$name: image embeddings equal Hugging Face's (tanh GELU: $a; erf GELU: $b)"
    else
        tap_fail "$name: image embeddings equal Hugging Face's" "tanh GELU (tol 1e-5): $a" "erf GELU (tol 1e-3): $b"
    fi
done

# ---- logits of the prompt's text tokens: RoPE permutation, GQA, tied head
for name in hf orig tied; do
    d=$T/$name
    run_c "$name"
    ids=$PRE,$POST
    "$PY" "$HF" logits "$d/ckpt" "$ids" "$d/hf_logits.f32" &&
    "$PY" "$REF" logits "$d/llm.gguf" "$ids" "$d/gguf_logits.f32"
    if [ -n "$PRE" ] && a=$(compare "$d/hf_logits.f32" "$d/gguf_logits.f32" 1e-6); then
        tap_ok "$name: logits of $(tr , '\n' <<<"$ids" | wc -l) prompt tokens equal Hugging Face's (tol 1e-6: $a)"
    else
        tap_fail "$name: logits equal Hugging Face's" "ids: $ids" "$a"
    fi
done

# ---- greedy tokens: radscribe on the converted pair == Hugging Face
for name in hf hfnew orig; do
    d=$T/$name
    run_c "$name"
    # shellcheck disable=SC2046
    want=$("$PY" "$HF" $(tower $name) greedy "$d/ckpt" "$d/px.f32" "$PRE" "$POST" $N 2> "$d/gap.txt")
    if [ $RC -eq 0 ] && [ -n "$GEN" ] && [ "$GEN" = "$want" ]; then
        tap_ok "$name: radscribe's $N greedy tokens equal Hugging Face's ($GEN; $(cat "$d/gap.txt"))"
    else
        tap_fail "$name: radscribe's greedy tokens equal Hugging Face's" "exit $RC; C: $GEN" \
            "HF: $want" "$(head -n 3 "$d/err.txt")"
    fi
done
HFGEN=$(sed -n 's/^generated ids: *//p' "$T/hf/err.txt" | tr ' ' ,)

# The comparison catches the classic mistakes: the wrong hidden state
# (select layer -1) or RoPE pairs taken adjacently from unpermuted weights.
d=$T/hf
run_c hf
for opt in "--select-layer -1" "--rope adjacent"; do
    # shellcheck disable=SC2086
    other=$("$PY" "$HF" $opt greedy "$d/ckpt" "$d/px.f32" "$PRE" "$POST" $N 2>/dev/null)
    if [ -n "$other" ] && [ -n "$HFGEN" ] && [ "$other" != "$HFGEN" ]; then
        tap_ok "negative control: Hugging Face with $opt gives other tokens ($other)"
    else
        tap_fail "negative control: Hugging Face with $opt gives other tokens" "$other" "$HFGEN"
    fi
done

# ---- q8_0: matrix types, and the engine equals the GGUF reference on them
out=$("$PY" - "$top_srcdir" "$T/origv" <<'PYEOF' 2>&1
import sys
sys.path.insert(0, sys.argv[1] + "/models/convert")
import gguf
bad = []
for f in ("llm.gguf", "mmproj.gguf"):
    for t in gguf.GGUFReader(sys.argv[2] + "/" + f).tensors:
        n, ty = t["name"], gguf.TYPE_NAMES[t["type"]]
        want = "F16" if n in ("v.patch_embd.weight", "v.position_embd.weight") else \
            "F32" if len(t["ne"]) == 1 else "Q8_0"
        if ty != want:
            bad.append("%s %s (want %s)" % (n, ty, want))
print("\n".join(bad))
PYEOF
)
if [ -z "$out" ]; then
    tap_ok "q8_0: matrices Q8_0, patch and position embeddings F16, vectors F32"
else
    tap_fail "q8_0 tensor types" "$out"
fi
d=$T/origv
run_c origv
want=$("$PY" "$REF" greedy "$d/llm.gguf" "$d/mmproj.gguf" "$d/px.f32" "$PRE" "$POST" $N)
if [ $RC -eq 0 ] && [ -n "$GEN" ] && [ "$GEN" = "$want" ]; then
    tap_ok "q8_0 (CLIPVisionModel tower): radscribe's greedy tokens equal the GGUF reference's ($GEN)"
else
    tap_fail "q8_0: radscribe's greedy tokens equal the GGUF reference's" "exit $RC; C: $GEN" "numpy: $want"
fi

# ---- tokenizer round trip: radscribe's prompt ids == sentencepiece's
# encoding of the same text (BOS + "USER: " before the image; the prompt and
# "\nASSISTANT:" after it)
bad=
for name in hf orig; do
    run_c "$name"
    want=$("$PY" -c "
import sys, sentencepiece
sp = sentencepiece.SentencePieceProcessor(model_file='$T/$name/ckpt/tokenizer.model')
print(','.join(map(str, [sp.bos_id()] + sp.encode('USER: '))))
print(','.join(map(str, sp.encode(sys.argv[1] + '\nASSISTANT:'))))" "$PROMPT")
    [ -n "$PRE" ] && [ "$PRE"$'\n'"$POST" = "$want" ] || bad="$bad $name: C $PRE | $POST; sentencepiece $(tr '\n' '|' <<<"$want")"
done
if [ -z "$bad" ]; then
    tap_ok "tokenizer round trip: prompt ids equal sentencepiece's ($(tr , ' ' <<<"$POST"))"
else
    tap_fail "tokenizer round trip: prompt ids equal sentencepiece's" "$bad"
fi

# ---- refusals: exit 1, a clear message, nothing left at the output paths
# refuse DESCRIPTION PATTERN CKPT [OPTIONS...]
refuse() {
    local what=$1 pat=$2 ck=$3 msg rc o=$T/refused
    shift 3
    rm -rf "$o"
    mkdir -p "$o"
    msg=$("$PY" "$CONV" "$@" "$ck" "$o/llm.gguf" "$o/mmproj.gguf" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && grep -qE "$pat" <<<"$msg" && [ -z "$(ls -A "$o")" ]; then
        tap_ok "$what: exit 1 ($(tail -n 1 <<<"$msg"))"
    else
        tap_fail "$what: exit 1 with a clear message and no output" "exit $rc: $msg" \
            "left: $(ls -A "$o")"
    fi
}
cp -r "$T/hf/ckpt" "$T/trunc"
st=$T/trunc/model.safetensors
head -c $(($(stat -c %s "$st") - 1000)) "$st" > "$st.cut" && mv "$st.cut" "$st"
refuse "truncated safetensors" "truncated safetensors file: tensor '.*' ends at byte" "$T/trunc"

"$PY" "$MKHF" "$T/drop" --layout transformers --drop language_model.model.layers.1.mlp.up_proj.weight
refuse "a missing tensor" "missing tensor 'language_model.model.layers.1.mlp.up_proj.weight'" "$T/drop/ckpt"

cp -r "$T/orig" "$T/proj"
sed -i 's/"mlp2x_gelu"/"qformer"/' "$T/proj/ckpt/config.json"
refuse "an unknown projector type" "unknown or unsupported projector type mm_projector_type 'qformer'" \
    "$T/proj/ckpt" --vision-tower "$T/proj/clip"

mkdir -p "$T/bin"
cp "$T/hf/ckpt/config.json" "$T/hf/ckpt/tokenizer.model" "$T/bin/"
head -c 4096 /dev/urandom > "$T/bin/pytorch_model.bin"
refuse "a PyTorch .bin checkpoint" "PyTorch pickle files \(pytorch_model.bin\); reading them needs torch" "$T/bin"

cp -r "$T/hf/ckpt" "$T/shape"
sed -i 's/"intermediate_size": 128,/"intermediate_size": 96,/' "$T/shape/config.json"
refuse "a shape mismatch (config says FFN 96, tensors have 128)" \
    "tensor 'language_model.model.layers.0.mlp.gate_proj.weight' has shape \[128, 64\], expected \[96, 64\]" "$T/shape"

"$PY" "$MKHF" "$T/extra" --layout transformers --extra language_model.model.layers.0.self_attn.q_proj.bias
refuse "a tensor the conversion would drop (a q_proj bias)" \
    "tensor 'language_model.model.layers.0.self_attn.q_proj.bias' has no place in the GGUF model" "$T/extra/ckpt"

refuse "an original LLaVA checkpoint without its vision tower" \
    "no vision tower; its config names mm_vision_tower 'openai/clip-vit-large-patch14-336'.*--vision-tower" \
    "$T/orig/ckpt"
tap_done
