#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""llava_hf - convert a Hugging Face LLaVA-1.5-style checkpoint to the GGUF
pair radscribe runs (the layout llama.cpp's multimodal tools read; see
shared/DESIGN.md, "Model files").

usage: llava_hf.py [--vision-tower DIR] [--type f32|f16|q8_0]
                   CHECKPOINT_DIR OUT_LLM.gguf OUT_MMPROJ.gguf

CHECKPOINT_DIR holds config.json, the weights as safetensors (one
model.safetensors, or shards listed in model.safetensors.index.json) and
tokenizer.model (SentencePiece), in one of two layouts:

  transformers   LlavaForConditionalGeneration: config.json with text_config,
                 vision_config, vision_feature_layer,
                 vision_feature_select_strategy and projector_hidden_act;
                 tensors language_model.model.* / language_model.lm_head.*,
                 vision_tower.vision_model.*, multi_modal_projector.linear_1/2
                 (newer transformers: model.language_model.*,
                 model.vision_tower.*, model.multi_modal_projector.*,
                 lm_head.weight).  preprocessor_config.json is read when
                 present.
  original       the LLaVA repository's LlavaLlamaForCausalLM (Med-CXRGen and
                 other LLaVA-1.5 fine-tunes): config.json with the LLaMA keys
                 at the top plus mm_vision_tower, mm_projector_type
                 ("mlp2x_gelu"), mm_vision_select_layer and
                 mm_vision_select_feature; tensors model.*, lm_head.weight,
                 model.mm_projector.0/2.  The CLIP tower is usually not in the
                 checkpoint: --vision-tower DIR names a Hugging Face
                 CLIPVisionModel or CLIPModel directory (config.json that is
                 a CLIPVisionConfig or has vision_config; tensors
                 vision_model.*; its preprocessor_config.json is read).  When
                 the option is absent, mm_vision_tower is used if it is a
                 local directory, or tower tensors saved inside the
                 checkpoint (model.vision_tower.vision_tower.vision_model.*).

--type picks the storage of the large matrices (default f16): f32, f16 or
q8_0 (a matrix whose rows are not a multiple of 32 falls back to f16).
Norms, biases and the class embedding stay F32; the patch and position
embeddings are F16 at most, as llama.cpp's converters keep them.

What the conversion does, beyond renaming:
  * q_proj and k_proj rows are permuted as llama.cpp's convert_hf_to_gguf.py
    does, because GGUF LLaMA rotates adjacent pairs (RoPE "NORM") where
    Hugging Face rotates the two halves of each head (rotate_half).
  * The vision tower keeps its class embedding (v.class_embd).  radscribe's
    engine puts it before the patches and drops it after the tower, as
    Hugging Face CLIP and LLaVA's "patch"/"default" select strategy do.
  * clip.vision.feature_layer is the number of blocks run: Hugging Face
    hidden_states[k] is the output of k blocks (hidden_states[0] is the
    pre-LN embedding), so select layer -2 of a 24-block tower is 23.  It is
    written as an INT32 array, as llama.cpp's own LLaVA converter writes it
    (current clip.cpp refuses a scalar).  The blocks after it are never run
    and are not written; block_count says how many are there.  That is what
    llama.cpp's legacy convert_image_encoder_to_gguf.py does too (it cuts the
    encoder to max(feature_layers) and sets block_count to that), and its
    clip graph runs max(feature_layer) blocks when the key is present, so
    the file stays compatible; without the key it would run one block fewer.
  * CLIP's post_layernorm is not written: LLaVA takes a hidden state, which
    Hugging Face never passes through it.
  * The projector is Linear-GELU-Linear ("mlp" in GGUF).  Hugging Face's
    GELU is the erf form; ggml and radscribe compute the tanh
    approximation (a difference below 1e-3 per activation).
  * The tokenizer comes from tokenizer.model as llama.cpp's converter takes
    it: pieces, scores and types (normal 1, unknown 2, control 3,
    user-defined 4, unused 5, byte 6), ids beyond the SentencePiece
    vocabulary named [PADn] (unused) unless added_tokens.json or
    tokenizer_config.json's added_tokens_decoder names them; a Vicuna chat
    template (what LLaVA-1.5 was trained on).

Refused, with a message: PyTorch .bin/.pt checkpoints (reading them needs
torch; this converter is numpy only), truncated or malformed safetensors,
missing tensors, shapes that disagree with config.json, tensors of the
language model or projector that have no place in the GGUF (attention
biases, a deeper projector), projector types other than mlp2x_gelu / GELU,
select strategies that keep the class token, several feature layers,
rope_scaling, LLaVA-NeXT's anyres/spatial_unpad and image start/end tokens.
Other unused tensors (CLIP's text tower, post_layernorm, rotary inv_freq)
are ignored.

Exit status 0 on success, 1 with a message on stderr otherwise (nothing is
left at the output paths then).  Tensors are read through memory maps and
written one at a time; the peak memory is that of the largest tensor, the
token embedding: about 2 GB for a 7B model, about 6 GB with --type q8_0
(quantised in one piece).  A 7B model takes a few minutes.
"""
import argparse
import glob
import json
import os
import re
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf  # noqa: E402

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# LLaVA-1.5's conversation format (conv_vicuna_v1: system prompt, " " and
# "</s>" separators; the image goes in the user's content as "<image>\n").
# radscribe and llama.cpp recognise a Vicuna template by "USER: " and
# "ASSISTANT: " and then render their own built-in Vicuna layout.
VICUNA_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set system = messages[0]['content'] -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set system = \"A chat between a curious human and an artificial "
    "intelligence assistant. The assistant gives helpful, detailed, and polite "
    "answers to the human's questions.\" -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{{- system + ' ' -}}"
    "{%- for message in loop_messages -%}"
    "{%- if message['role'] == 'user' -%}"
    "{{- 'USER: ' + message['content'] + ' ' -}}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{- 'ASSISTANT: ' + message['content'] + '</s>' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}")

# transformers' defaults for keys a config.json may leave out.
LLAMA_DEFAULTS = dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                      num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=None, hidden_act="silu",
                      max_position_embeddings=2048, rms_norm_eps=1e-6,
                      rope_theta=10000.0, rope_scaling=None,
                      tie_word_embeddings=False, attention_bias=False,
                      mlp_bias=False)
CLIP_DEFAULTS = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                     num_attention_heads=12, num_channels=3, image_size=224,
                     patch_size=32, hidden_act="quick_gelu", layer_norm_eps=1e-5)
# LlavaConfig's vision tower when vision_config is absent (CLIP ViT-L/14-336).
LLAVA_VISION_DEFAULTS = dict(hidden_size=1024, intermediate_size=4096,
                             num_hidden_layers=24, num_attention_heads=16,
                             image_size=336, patch_size=14)


class ConvertError(Exception):
    pass


# ------------------------------------------------------------ safetensors

# dtype -> (numpy dtype or None when not convertible, bytes per element)
ST_DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2),
             "F64": (None, 8), "I64": (None, 8), "I32": (None, 4),
             "I16": (None, 2), "I8": (None, 1), "U8": (None, 1),
             "BOOL": (None, 1), "F8_E4M3": (None, 1), "F8_E5M2": (None, 1)}


class SafeTensorsFile:
    """One .safetensors file: an 8-byte little-endian header length, a JSON
    header {name: {dtype, shape, data_offsets}}, then the raw data.  The
    header is checked against the file size when opened; data is read
    through a memory map only when a tensor is asked for."""

    def __init__(self, path):
        self.path = path
        self._mm = None
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ConvertError("%s: truncated safetensors file (%d bytes, "
                                   "not even the header length)" % (path, size))
            (n,) = struct.unpack("<Q", head)
            if n > size - 8:
                raise ConvertError("%s: truncated safetensors file: the header "
                                   "says %d bytes of JSON, the file has %d "
                                   "bytes in all" % (path, n, size))
            raw = f.read(n)
        try:
            hdr = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ConvertError("%s: not a safetensors file (its header is not "
                               "JSON)" % path)
        if not isinstance(hdr, dict):
            raise ConvertError("%s: not a safetensors file (its header is not "
                               "a JSON object)" % path)
        self.base = 8 + n
        self.tensors = {}
        for name, info in hdr.items():
            if name == "__metadata__":
                continue
            try:
                dtype = info["dtype"]
                shape = tuple(int(d) for d in info["shape"])
                b, e = (int(v) for v in info["data_offsets"])
            except (KeyError, TypeError, ValueError):
                raise ConvertError("%s: tensor '%s': malformed header entry"
                                   % (path, name))
            if dtype in ST_DTYPES:
                want = ST_DTYPES[dtype][1] * int(np.prod(shape, dtype=np.int64))
                if e - b != want:
                    raise ConvertError("%s: tensor '%s': %d data bytes for a %s "
                                       "%s tensor of %d bytes" %
                                       (path, name, e - b, dtype, list(shape), want))
            if b < 0 or e < b:
                raise ConvertError("%s: tensor '%s': bad data offsets [%d, %d]"
                                   % (path, name, b, e))
            if self.base + e > size:
                raise ConvertError("%s: truncated safetensors file: tensor '%s' "
                                   "ends at byte %d, the file has %d" %
                                   (path, name, self.base + e, size))
            self.tensors[name] = (dtype, shape, b, e)

    def get(self, name):
        """The tensor as a float32 numpy array."""
        dtype, shape, b, e = self.tensors[name]
        npdt = ST_DTYPES.get(dtype, (None, 0))[0]
        if npdt is None:
            raise ConvertError("%s: tensor '%s' is %s; only F32, F16 and BF16 "
                               "are read" % (self.path, name, dtype))
        if self._mm is None:
            self._mm = np.memmap(self.path, dtype=np.uint8, mode="r")
        n = int(np.prod(shape, dtype=np.int64))
        a = np.frombuffer(self._mm, dtype=npdt, count=n, offset=self.base + b)
        if dtype == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        else:
            a = a.astype(np.float32)
        return a.reshape(shape)


def _pickles(d):
    return sorted(set(glob.glob(os.path.join(d, "*.bin")) +
                      glob.glob(os.path.join(d, "*.pt")) +
                      glob.glob(os.path.join(d, "*.pth")) +
                      glob.glob(os.path.join(d, "*.ckpt"))))


class TensorStore:
    """The tensors of a checkpoint directory, over one or more files."""

    def __init__(self, d):
        self.dir = d
        index = os.path.join(d, "model.safetensors.index.json")
        single = os.path.join(d, "model.safetensors")
        if os.path.isfile(index):
            try:
                with open(index, encoding="utf-8") as f:
                    wmap = json.load(f)["weight_map"]
            except (ValueError, KeyError, TypeError):
                raise ConvertError("%s: not a safetensors index (no weight_map)"
                                   % index)
            names = sorted(set(wmap.values()))
            for n in names:
                if not os.path.isfile(os.path.join(d, n)):
                    raise ConvertError("%s: shard '%s' listed in "
                                       "model.safetensors.index.json is missing"
                                       % (d, n))
            files = [os.path.join(d, n) for n in names]
        elif os.path.isfile(single):
            files = [single]
        else:
            files = sorted(glob.glob(os.path.join(d, "*.safetensors")))
        if not files:
            pk = _pickles(d)
            if pk:
                raise ConvertError(
                    "%s: the weights are PyTorch pickle files (%s); reading "
                    "them needs torch, which this converter does not use.  "
                    "Save the checkpoint as safetensors first (transformers: "
                    "model.save_pretrained(DIR, safe_serialization=True)) and "
                    "convert that." % (d, ", ".join(os.path.basename(p)
                                                    for p in pk[:3])))
            raise ConvertError("%s: no weights (*.safetensors) found" % d)
        self.where = {}
        for p in files:
            st = SafeTensorsFile(p)
            for name in st.tensors:
                if name in self.where:
                    raise ConvertError("%s: tensor '%s' is in both %s and %s" %
                                       (d, name, self.where[name].path, p))
                self.where[name] = st

    def has(self, name):
        return name in self.where

    def shape(self, name):
        return self.where[name].tensors[name][1]

    def get(self, name):
        return self.where[name].get(name)

    def names(self):
        return self.where.keys()


# ------------------------------------------------------------- tokenizer

def _varint(buf, i):
    v = shift = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return v, i
        shift += 7


def _proto_fields(buf):
    """(field number, wire type, value) of one protobuf message; value is
    an int (varint), bytes (length-delimited) or raw bytes (fixed)."""
    i = 0
    while i < len(buf):
        tag, i = _varint(buf, i)
        field, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = _varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        if i > len(buf):
            raise ValueError("truncated field")
        yield field, wt, v


def sp_model_info(data):
    """From a SentencePiece ModelProto: the piece types (the proto's enum:
    NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6,
    which are also llama.cpp's token types) and the normalizer settings."""
    types = []
    norm = {"name": "", "add_dummy_prefix": True,
            "remove_extra_whitespaces": True}
    for field, wt, v in _proto_fields(data):
        if field == 1 and wt == 2:          # repeated SentencePiece pieces
            t = 1
            for f2, w2, v2 in _proto_fields(v):
                if f2 == 3 and w2 == 0:
                    t = v2
            types.append(t)
        elif field == 3 and wt == 2:        # NormalizerSpec
            for f2, w2, v2 in _proto_fields(v):
                if f2 == 1 and w2 == 2:
                    norm["name"] = v2.decode("utf-8", "replace")
                elif f2 == 3 and w2 == 0:
                    norm["add_dummy_prefix"] = bool(v2)
                elif f2 == 4 and w2 == 0:
                    norm["remove_extra_whitespaces"] = bool(v2)
    return types, norm


def load_vocab(d, n_vocab, cfg_text):
    """tokens, scores, types, special ids and flags, as llama.cpp's
    convert_hf_to_gguf.py (_create_vocab_sentencepiece) builds them."""
    path = os.path.join(d, "tokenizer.model")
    if not os.path.isfile(path):
        raise ConvertError("%s: no tokenizer.model (a SentencePiece model is "
                           "needed; tokenizer.json alone is not read)" % d)
    try:
        import sentencepiece
    except ImportError:
        raise ConvertError("the sentencepiece module is needed to read "
                           "tokenizer.model (Debian: python3-sentencepiece)")
    with open(path, "rb") as f:
        data = f.read()
    try:
        sp = sentencepiece.SentencePieceProcessor(model_proto=data)
        ptypes, norm = sp_model_info(data)
    except (RuntimeError, ValueError, OSError) as e:
        raise ConvertError("%s: not a SentencePiece model (%s)" % (path, e))
    n_sp = sp.vocab_size()
    if n_sp > n_vocab:
        raise ConvertError("%s has %d pieces, more than the model's %d token "
                           "embeddings" % (path, n_sp, n_vocab))
    if norm["name"] not in ("identity", ""):
        print("llava_hf.py: warning: tokenizer.model normalises text (%s); "
              "llama.cpp and radscribe do not" % norm["name"], file=sys.stderr)
    tokens = ["[PAD%d]" % i for i in range(n_vocab)]
    scores = [-10000.0] * n_vocab
    types = [5] * n_vocab
    for i in range(n_sp):
        tokens[i] = sp.id_to_piece(i)
        scores[i] = float(sp.get_score(i))
        t = 1
        if sp.is_unknown(i):
            t = 2
        elif sp.is_control(i):
            t = 3
        elif sp.is_unused(i):
            t = 5
        elif sp.is_byte(i):
            t = 6
        elif i < len(ptypes) and ptypes[i] == 4:
            # llama.cpp's converter asks only the four questions above and
            # would call this NORMAL; USER_DEFINED makes llama.cpp match the
            # piece whole, as SentencePiece does.
            t = 4
        types[i] = t
    added = os.path.join(d, "added_tokens.json")
    if os.path.isfile(added):
        with open(added, encoding="utf-8") as f:
            for text, tid in json.load(f).items():
                if 0 <= int(tid) < n_vocab:
                    tokens[int(tid)] = text
                    scores[int(tid)] = -1000.0
                    types[int(tid)] = 4
    tcfg = {}
    tcfg_path = os.path.join(d, "tokenizer_config.json")
    if os.path.isfile(tcfg_path):
        with open(tcfg_path, encoding="utf-8") as f:
            tcfg = json.load(f)
        for tid, td in (tcfg.get("added_tokens_decoder") or {}).items():
            tid = int(tid)
            if not 0 <= tid < n_vocab:
                continue
            text = td["content"]
            # convert_hf_to_gguf.py's does_token_look_special, in short
            special = td.get("special") or text in ("<pad>", "<mask>") or \
                (text.startswith("<|") and text.endswith("|>")) or \
                (text.startswith("<unused") and text.endswith(">"))
            if special:
                types[tid] = 3
            else:
                text = text.replace("\u2581", " ")
                types[tid] = 4
            scores[tid] = -1000.0
            tokens[tid] = text
    ids = {"bos": sp.bos_id(), "eos": sp.eos_id(), "unk": sp.unk_id(),
           "pad": sp.pad_id()}
    if ids["pad"] < 0:
        p = cfg_text.get("pad_token_id")
        if isinstance(p, int) and 0 <= p < n_vocab:
            ids["pad"] = p
    flags = {}
    for k in ("add_bos_token", "add_eos_token"):
        if isinstance(tcfg.get(k), bool):
            flags[k] = tcfg[k]
    if not norm["add_dummy_prefix"]:
        flags["add_space_prefix"] = False
    return tokens, scores, types, ids, flags


# ---------------------------------------------------------------- config

def read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ConvertError("%s: no %s" % (os.path.dirname(path) or ".", what))
    except ValueError as e:
        raise ConvertError("%s: not valid JSON (%s)" % (path, e))


def with_defaults(cfg, defaults):
    out = dict(defaults)
    out.update({k: v for k, v in (cfg or {}).items() if v is not None or k not in out})
    return out


def feature_depth(select, n_layer, what):
    """Blocks to run for Hugging Face's hidden_states[select]."""
    if isinstance(select, list):
        if len(select) != 1:
            raise ConvertError("%s %r: several feature layers are not "
                               "supported (one projector input)" % (what, select))
        select = select[0]
    if not isinstance(select, int):
        raise ConvertError("%s %r is not an integer" % (what, select))
    depth = select + n_layer + 1 if select < 0 else select
    if not 1 <= depth <= n_layer:
        raise ConvertError("%s %d does not pick the output of a block of a "
                           "%d-block tower" % (what, select, n_layer))
    return depth


def _prefix_of(store, candidates, probe):
    for p in candidates:
        if store is not None and store.has(p + probe):
            return p
    return None


def plan_layout(ckpt, cfg, tower_dir):
    """Work out which layout CHECKPOINT_DIR is and where each part lives.
    Returns a dict with the LLM/vision/projector configs and prefixes."""
    store = TensorStore(ckpt)
    L = {"store": store}
    if "text_config" in cfg or "vision_config" in cfg or \
            "LlavaForConditionalGeneration" in (cfg.get("architectures") or []):
        arch = cfg.get("architectures") or []
        if arch and "LlavaForConditionalGeneration" not in arch:
            raise ConvertError("config.json: architecture %s is not supported "
                               "(LlavaForConditionalGeneration is)" % arch)
        L["layout"] = "transformers"
        L["text"] = with_defaults(cfg.get("text_config"), LLAMA_DEFAULTS)
        if "tie_word_embeddings" in cfg and "tie_word_embeddings" not in \
                (cfg.get("text_config") or {}):
            L["text"]["tie_word_embeddings"] = cfg["tie_word_embeddings"]
        vc = dict(LLAVA_VISION_DEFAULTS) if cfg.get("vision_config") is None else {}
        vc.update(cfg.get("vision_config") or {})
        L["vision"] = with_defaults(vc, CLIP_DEFAULTS)
        L["vstore"] = store
        L["llm_prefix"] = _prefix_of(store, ("language_model.model.",
                                             "model.language_model."),
                                     "embed_tokens.weight")
        if L["llm_prefix"] is None:
            raise ConvertError("%s: missing tensor language_model.model."
                               "embed_tokens.weight (or model.language_model."
                               "embed_tokens.weight)" % ckpt)
        new = L["llm_prefix"] == "model.language_model."
        L["lm_head"] = "lm_head.weight" if new else "language_model.lm_head.weight"
        L["vis_prefix"] = ("model." if new else "") + "vision_tower.vision_model."
        mp = ("model." if new else "") + "multi_modal_projector."
        L["proj"] = (mp + "linear_1", mp + "linear_2")
        act = cfg.get("projector_hidden_act", "gelu")
        if act not in ("gelu", "gelu_new", "gelu_pytorch_tanh"):
            raise ConvertError("config.json: projector_hidden_act '%s' is not "
                               "supported (the mlp projector applies GELU)" % act)
        strat = cfg.get("vision_feature_select_strategy", "default")
        if strat != "default":
            raise ConvertError("config.json: vision_feature_select_strategy "
                               "'%s' is not supported (only 'default', which "
                               "drops the class token)" % strat)
        L["select"] = (cfg.get("vision_feature_layer", -2), "vision_feature_layer")
        L["proj_bias"] = cfg.get("multimodal_projector_bias", True)
        L["prep_dirs"] = [ckpt]
    elif any(k.startswith("mm_") for k in cfg):
        L["layout"] = "original"
        L["text"] = with_defaults(cfg, LLAMA_DEFAULTS)
        ptype = cfg.get("mm_projector_type", "linear")
        m = re.fullmatch(r"mlp(\d+)x_gelu", str(ptype))
        if not m or m.group(1) != "2":
            raise ConvertError(
                "config.json: unknown or unsupported projector type "
                "mm_projector_type '%s' (the GGUF 'mlp' projector is "
                "Linear-GELU-Linear: mlp2x_gelu)" % ptype)
        feat = cfg.get("mm_vision_select_feature", "patch")
        if feat != "patch":
            raise ConvertError("config.json: mm_vision_select_feature '%s' is "
                               "not supported (only 'patch', which drops the "
                               "class token)" % feat)
        if cfg.get("mm_use_im_start_end"):
            raise ConvertError("config.json: mm_use_im_start_end is set; image "
                               "start/end tokens are not supported")
        for k, ok in (("mm_patch_merge_type", ("flat",)),
                      ("image_aspect_ratio", ("pad", "square", "resize", None))):
            if k in cfg and cfg[k] not in ok:
                raise ConvertError("config.json: %s '%s' is not supported "
                                   "(LLaVA-1.5 uses one fixed-size image)"
                                   % (k, cfg[k]))
        if "mm_vision_select_layer" not in cfg:
            raise ConvertError("config.json: no mm_vision_select_layer")
        L["select"] = (cfg["mm_vision_select_layer"], "mm_vision_select_layer")
        L["llm_prefix"] = "model."
        L["lm_head"] = "lm_head.weight"
        L["proj"] = ("model.mm_projector.0", "model.mm_projector.2")
        L["proj_bias"] = True
        inside = "model.vision_tower.vision_tower.vision_model."
        named = cfg.get("mm_vision_tower")
        if tower_dir is None and isinstance(named, str) and os.path.isdir(named):
            tower_dir = named
        if tower_dir is not None:
            tcfg = read_json(os.path.join(tower_dir, "config.json"),
                             "config.json for the vision tower")
            vc = tcfg.get("vision_config") if "vision_config" in tcfg else tcfg
            mt = (vc or {}).get("model_type", tcfg.get("model_type"))
            if mt not in (None, "clip_vision_model", "clip"):
                raise ConvertError("%s: model_type '%s' is not a CLIP vision "
                                   "tower" % (tower_dir, mt))
            L["vision"] = with_defaults(vc, CLIP_DEFAULTS)
            L["vstore"] = TensorStore(tower_dir)
            L["vis_prefix"] = "vision_model."
            L["prep_dirs"] = [tower_dir, ckpt]
        elif store.has(inside + "embeddings.patch_embedding.weight"):
            raise ConvertError("%s: the vision tower is inside the checkpoint "
                               "but its configuration is not; give the CLIP "
                               "model it was built from with --vision-tower DIR"
                               % ckpt)
        else:
            raise ConvertError(
                "%s: the checkpoint has no vision tower; its config names "
                "mm_vision_tower '%s': give that CLIP model's directory "
                "(Hugging Face layout, safetensors) with --vision-tower DIR"
                % (ckpt, named))
        if cfg.get("mm_hidden_size") not in (None, L["vision"]["hidden_size"]):
            raise ConvertError("config.json: mm_hidden_size %s differs from the "
                               "vision tower's hidden_size %d" %
                               (cfg["mm_hidden_size"], L["vision"]["hidden_size"]))
    else:
        raise ConvertError("config.json: neither a transformers LLaVA config "
                           "(text_config/vision_config) nor an original LLaVA "
                           "one (mm_* keys)")
    t = L["text"]
    if t.get("model_type") not in (None, "llama", "llava", "llava_llama"):
        raise ConvertError("config.json: language model type '%s' is not "
                           "supported (llama is)" % t["model_type"])
    if t.get("rope_scaling"):
        raise ConvertError("config.json: rope_scaling %r is not supported"
                           % (t["rope_scaling"],))
    if t.get("attention_bias") or t.get("mlp_bias"):
        raise ConvertError("config.json: attention_bias/mlp_bias are not "
                           "supported")
    if t.get("hidden_act", "silu") != "silu":
        raise ConvertError("config.json: hidden_act '%s' is not supported "
                           "(LLaMA's SwiGLU uses silu)" % t["hidden_act"])
    v = L["vision"]
    if v["hidden_act"] == "quick_gelu":
        L["use_gelu"] = False
    elif v["hidden_act"] in ("gelu", "gelu_new", "gelu_pytorch_tanh"):
        L["use_gelu"] = True
    else:
        raise ConvertError("vision tower: hidden_act '%s' is not supported "
                           "(quick_gelu or gelu)" % v["hidden_act"])
    if v.get("num_channels", 3) != 3:
        raise ConvertError("vision tower: %d channels (3 expected)"
                           % v["num_channels"])
    return L


def image_norm(dirs):
    for d in dirs:
        p = os.path.join(d, "preprocessor_config.json")
        if os.path.isfile(p):
            pc = read_json(p, "preprocessor_config.json")
            mean, std = pc.get("image_mean"), pc.get("image_std")
            if mean is None or std is None:
                continue
            if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
                raise ConvertError("%s: image_mean/image_std must be 3 values "
                                   "(std > 0)" % p)
            return [float(x) for x in mean], [float(x) for x in std], p
    return CLIP_MEAN, CLIP_STD, None


# ------------------------------------------------------------------ plan

def permute(w, n_head):
    """llama.cpp's convert_hf_to_gguf.py LlamaModel.permute: from halves
    (rotate_half) to adjacent pairs, per head."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


class Plan:
    """Tensors to write: each checked against its source's shape before
    anything is written."""

    def __init__(self, store, wtype):
        self.store = store
        self.wtype = wtype
        self.items = []     # (gguf name, shape, type, make)
        self.used = set()   # source tensor names

    def need(self, name, shape):
        if not self.store.has(name):
            raise ConvertError("%s: missing tensor '%s'" % (self.store.dir, name))
        got = tuple(self.store.shape(name))
        if got != tuple(shape):
            raise ConvertError("%s: tensor '%s' has shape %s, expected %s from "
                               "the configuration" % (self.store.dir, name,
                                                      list(got), list(shape)))

    def add(self, out, src, shape, kind, fn=None):
        """kind: 'mat' (--type), 'f32', 'f16max' (F16 unless --type f32)."""
        self.need(src, shape)
        self.used.add(src)
        shape = tuple(shape)
        if kind == "f32":
            tt = gguf.F32
        elif kind == "f16max":
            tt = gguf.F32 if self.wtype == gguf.F32 else gguf.F16
        else:
            tt = self.wtype
            if tt == gguf.Q8_0 and shape[-1] % 32:
                tt = gguf.F16
        store = self.store

        def make():
            a = store.get(src)
            if fn is not None:
                a = fn(a)
            if tt == gguf.F16 and a.size and float(np.max(np.abs(a))) > 65504.0:
                raise ConvertError("tensor '%s' exceeds the F16 range; use "
                                   "--type f32" % src)
            return a
        self.items.append((out, shape, tt, make))

    def zeros(self, out, n):
        self.items.append((out, (n,), gguf.F32,
                           lambda: np.zeros(n, np.float32)))

    def into(self, w):
        for out, shape, tt, make in self.items:
            w.add_tensor_lazy(out, shape, tt, make)


# Tensors a checkpoint may hold that LLaVA never uses.
IGNORABLE = re.compile(r"(rotary_emb\.inv_freq|position_ids|post_layernorm\.(weight|bias))$"
                       r"|^(text_model\.|visual_projection\.|text_projection\.|logit_scale$)")


def check_unused(L, used, vused, depth):
    """Refuse a checkpoint with tensors in the language model or the
    projector that the conversion would drop (attention biases, a deeper
    projector...): the converted model would silently compute something
    else.  Tensors elsewhere are reported and ignored."""
    blk = re.compile(re.escape(L["vis_prefix"]) + r"encoder\.layers\.(\d+)\.")
    lp = L["llm_prefix"]
    strict = (lp + "layers.", lp + "embed_tokens.", lp + "norm.", L["lm_head"],
              L["proj"][0].rsplit(".", 1)[0] + ".")
    ignored = []
    for store in (L["store"], L["vstore"]):
        for name in store.names():
            if name in used or name in vused or IGNORABLE.search(name):
                continue
            m = blk.match(name)
            if m and int(m.group(1)) >= depth:
                continue        # blocks after the selected layer
            if name.startswith(strict):
                raise ConvertError("%s: tensor '%s' has no place in the GGUF "
                                   "model (an unsupported variant?); refusing to "
                                   "drop it" % (store.dir, name))
            ignored.append(name)
    ignored = sorted(set(ignored))
    if ignored:
        print("llava_hf.py: warning: %d tensors ignored: %s%s" %
              (len(ignored), ", ".join(ignored[:5]),
               ", ..." if len(ignored) > 5 else ""), file=sys.stderr)


def build(ckpt, tower_dir, wtype):
    cfg = read_json(os.path.join(ckpt, "config.json"), "config.json")
    L = plan_layout(ckpt, cfg, tower_dir)
    t, v = L["text"], L["vision"]
    store, vstore = L["store"], L["vstore"]

    # ---- LLM
    dim, nl, ff = t["hidden_size"], t["num_hidden_layers"], t["intermediate_size"]
    nh = t["num_attention_heads"]
    nkv = t["num_key_value_heads"] or nh
    if dim % nh or nh % nkv or (dim // nh) % 2:
        raise ConvertError("config.json: hidden_size %d, %d heads, %d KV heads "
                           "do not fit together" % (dim, nh, nkv))
    hd = dim // nh
    if t.get("head_dim") not in (None, hd):
        raise ConvertError("config.json: head_dim %s differs from hidden_size "
                           "/ num_attention_heads" % t["head_dim"])
    lp = L["llm_prefix"]
    emb = lp + "embed_tokens.weight"
    if not store.has(emb):
        raise ConvertError("%s: missing tensor '%s'" % (ckpt, emb))
    n_vocab = store.shape(emb)[0]
    if t.get("vocab_size") not in (None, n_vocab):
        raise ConvertError("%s: tensor '%s' has %d rows, config.json's "
                           "vocab_size is %d" % (ckpt, emb, n_vocab, t["vocab_size"]))
    llm = Plan(store, wtype)
    llm.add("token_embd.weight", emb, (n_vocab, dim), "mat")
    for i in range(nl):
        s, b = "%slayers.%d." % (lp, i), "blk.%d." % i
        llm.add(b + "attn_norm.weight", s + "input_layernorm.weight", (dim,), "f32")
        llm.add(b + "attn_q.weight", s + "self_attn.q_proj.weight", (dim, dim), "mat",
                lambda a: permute(a, nh))
        llm.add(b + "attn_k.weight", s + "self_attn.k_proj.weight", (nkv * hd, dim),
                "mat", lambda a: permute(a, nkv))
        llm.add(b + "attn_v.weight", s + "self_attn.v_proj.weight", (nkv * hd, dim), "mat")
        llm.add(b + "attn_output.weight", s + "self_attn.o_proj.weight", (dim, dim), "mat")
        llm.add(b + "ffn_norm.weight", s + "post_attention_layernorm.weight", (dim,), "f32")
        llm.add(b + "ffn_gate.weight", s + "mlp.gate_proj.weight", (ff, dim), "mat")
        llm.add(b + "ffn_up.weight", s + "mlp.up_proj.weight", (ff, dim), "mat")
        llm.add(b + "ffn_down.weight", s + "mlp.down_proj.weight", (dim, ff), "mat")
    llm.add("output_norm.weight", lp + "norm.weight", (dim,), "f32")
    if store.has(L["lm_head"]) and not t["tie_word_embeddings"]:
        llm.add("output.weight", L["lm_head"], (n_vocab, dim), "mat")
    elif not t["tie_word_embeddings"]:
        raise ConvertError("%s: missing tensor '%s' (and tie_word_embeddings "
                           "is not set)" % (ckpt, L["lm_head"]))

    # ---- vision tower and projector
    D, vff, vl = v["hidden_size"], v["intermediate_size"], v["num_hidden_layers"]
    vh, S, P = v["num_attention_heads"], v["image_size"], v["patch_size"]
    if D % vh or S % P:
        raise ConvertError("vision tower: hidden_size %d / %d heads or "
                           "image_size %d / patch_size %d do not divide"
                           % (D, vh, S, P))
    depth = feature_depth(L["select"][0], vl, "config.json: " + L["select"][1])
    vp = L["vis_prefix"]
    npos = (S // P) ** 2 + 1
    mm = Plan(vstore, wtype)
    mm.add("v.patch_embd.weight", vp + "embeddings.patch_embedding.weight",
           (D, 3, P, P), "f16max")
    if vstore.has(vp + "embeddings.patch_embedding.bias"):
        mm.add("v.patch_embd.bias", vp + "embeddings.patch_embedding.bias", (D,), "f32")
    mm.add("v.class_embd", vp + "embeddings.class_embedding", (D,), "f32")
    mm.add("v.position_embd.weight", vp + "embeddings.position_embedding.weight",
           (npos, D), "f16max")
    mm.add("v.pre_ln.weight", vp + "pre_layrnorm.weight", (D,), "f32")
    mm.add("v.pre_ln.bias", vp + "pre_layrnorm.bias", (D,), "f32")
    for i in range(depth):
        s, b = "%sencoder.layers.%d." % (vp, i), "v.blk.%d." % i
        for out, src, r, c in (("attn_q", "self_attn.q_proj", D, D),
                               ("attn_k", "self_attn.k_proj", D, D),
                               ("attn_v", "self_attn.v_proj", D, D),
                               ("attn_out", "self_attn.out_proj", D, D),
                               ("ffn_up", "mlp.fc1", vff, D),
                               ("ffn_down", "mlp.fc2", D, vff)):
            mm.add(b + out + ".weight", s + src + ".weight", (r, c), "mat")
            mm.add(b + out + ".bias", s + src + ".bias", (r,), "f32")
        for out, src in (("ln1", "layer_norm1"), ("ln2", "layer_norm2")):
            mm.add(b + out + ".weight", s + src + ".weight", (D,), "f32")
            mm.add(b + out + ".bias", s + src + ".bias", (D,), "f32")
    # The projector lives in the LLaVA checkpoint, not in the tower's.
    pj = Plan(store, wtype)
    p0, p2 = L["proj"]
    if not store.has(p0 + ".weight"):
        raise ConvertError("%s: missing tensor '%s.weight'" % (ckpt, p0))
    hid = store.shape(p0 + ".weight")[0]
    pj.add("mm.0.weight", p0 + ".weight", (hid, D), "mat")
    if L["proj_bias"]:
        pj.add("mm.0.bias", p0 + ".bias", (hid,), "f32")
    else:
        pj.zeros("mm.0.bias", hid)
    pj.add("mm.2.weight", p2 + ".weight", (dim, hid), "mat")
    if L["proj_bias"]:
        pj.add("mm.2.bias", p2 + ".bias", (dim,), "f32")
    else:
        pj.zeros("mm.2.bias", dim)
    mean, std, prep = image_norm(L["prep_dirs"])
    check_unused(L, llm.used | pj.used, mm.used, depth)

    tokens, scores, types, ids, flags = load_vocab(ckpt, n_vocab, t)

    # ---- the LLM file (keys as tests/tools/mkmodel.py writes them)
    w = gguf.GGUFWriter("llama")
    name = cfg.get("_name_or_path") or os.path.basename(os.path.normpath(ckpt))
    w.add_string("general.name", str(name))
    w.add_uint32("llama.context_length", int(t["max_position_embeddings"]))
    w.add_uint32("llama.embedding_length", dim)
    w.add_uint32("llama.block_count", nl)
    w.add_uint32("llama.feed_forward_length", ff)
    w.add_uint32("llama.attention.head_count", nh)
    w.add_uint32("llama.attention.head_count_kv", nkv)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", float(t["rms_norm_eps"]))
    w.add_float32("llama.rope.freq_base", float(t["rope_theta"]))
    w.add_uint32("llama.rope.dimension_count", hd)
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", tokens, gguf.STRING)
    w.add_array("tokenizer.ggml.scores", np.array(scores, np.float32), gguf.FLOAT32)
    w.add_array("tokenizer.ggml.token_type", np.array(types, np.int32), gguf.INT32)
    for key, k in (("bos", "bos_token_id"), ("eos", "eos_token_id"),
                   ("unk", "unknown_token_id"), ("pad", "padding_token_id")):
        if 0 <= ids[key] < n_vocab:
            w.add_uint32("tokenizer.ggml." + k, int(ids[key]))
    for k, val in flags.items():
        w.add_bool("tokenizer.ggml." + k, val)
    w.add_string("tokenizer.chat_template", VICUNA_TEMPLATE)
    llm.into(w)

    # ---- the mmproj file
    m = gguf.GGUFWriter("clip")
    m.add_string("general.type", "mmproj")
    m.add_bool("clip.has_vision_encoder", True)
    m.add_string("clip.projector_type", "mlp")
    m.add_bool("clip.use_gelu", L["use_gelu"])
    m.add_uint32("clip.vision.image_size", S)
    m.add_uint32("clip.vision.patch_size", P)
    m.add_uint32("clip.vision.embedding_length", D)
    m.add_uint32("clip.vision.feed_forward_length", vff)
    m.add_uint32("clip.vision.projection_dim", dim)
    m.add_uint32("clip.vision.attention.head_count", vh)
    m.add_float32("clip.vision.attention.layer_norm_epsilon", float(v["layer_norm_eps"]))
    m.add_uint32("clip.vision.block_count", depth)
    m.add_array("clip.vision.image_mean", np.array(mean, np.float32), gguf.FLOAT32)
    m.add_array("clip.vision.image_std", np.array(std, np.float32), gguf.FLOAT32)
    m.add_array("clip.vision.feature_layer", np.array([depth], np.int32), gguf.INT32)
    mm.into(m)
    pj.into(m)
    summary = ("%s layout: LLM %d layers, dim %d, %d/%d heads, vocab %d; vision "
               "%d of %d blocks, %dx%d image, patch %d" %
               (L["layout"], nl, dim, nh, nkv, n_vocab, depth, vl, S, S, P))
    if prep is None:
        summary += "; no preprocessor_config.json: CLIP's image mean/std"
    return w, m, summary


def write_atomic(writer, path):
    tmp = path + ".part"
    try:
        writer.write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv):
    ap = argparse.ArgumentParser(
        prog="llava_hf.py",
        description="Convert a Hugging Face LLaVA-1.5-style checkpoint to "
        "radscribe's GGUF pair (LLM + mmproj).")
    ap.add_argument("--vision-tower", metavar="DIR",
                    help="Hugging Face CLIP model directory (original LLaVA layout)")
    ap.add_argument("--type", default="f16", choices=["f32", "f16", "q8_0"],
                    help="storage of the large matrices (default f16)")
    ap.add_argument("checkpoint")
    ap.add_argument("out_llm")
    ap.add_argument("out_mmproj")
    a = ap.parse_args(argv)
    wtype = gguf.TYPE_BY_NAME[a.type]
    done = []
    try:
        if not os.path.isdir(a.checkpoint):
            raise ConvertError("%s: not a directory" % a.checkpoint)
        if a.vision_tower is not None and not os.path.isdir(a.vision_tower):
            raise ConvertError("%s: not a directory" % a.vision_tower)
        w, m, summary = build(a.checkpoint, a.vision_tower, wtype)
        print("llava_hf.py: " + summary, file=sys.stderr)
        write_atomic(w, a.out_llm)
        done.append(a.out_llm)
        write_atomic(m, a.out_mmproj)
        done.append(a.out_mmproj)
    except (ConvertError, OSError, ValueError, MemoryError) as e:
        for p in done:
            if os.path.exists(p):
                os.unlink(p)
        msg = str(e) if isinstance(e, ConvertError) else "%s: %s" % (type(e).__name__, e)
        print("llava_hf.py: error: " + msg, file=sys.stderr)
        return 1
    print("llava_hf.py: wrote %s and %s" % (a.out_llm, a.out_mmproj), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
