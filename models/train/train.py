#!/usr/bin/python3
"""The default model's recipe, from data to GGUF, on CPU with fixed seeds.

usage: train.py [--shared DIR] [--data DATASET.jsonl] [--out DIR]
                [--stages prepare,tokenizer,lm,vision,align,lora,full,export]

Stages (each saves a checkpoint in --out, so a later stage can be rerun):
  prepare    dataset description (data.py) from the shared data
  tokenizer  SentencePiece BPE on the training reports
  lm         decoder pretraining on report text (Findings and Impression
             after their prompts, no image)
  vision     ViT pretraining on radiographs: finding group and view
  align      stage 1 of the paper: projector only, encoder and decoder frozen
  lora       stage 2: LoRA on the decoder (and the projector)
  full       the same budget as lora with the whole decoder trained, for
             the comparison the model card reports (not shipped)
  export     GGUF pair (LoRA merged) + adapter GGUF
Losses per epoch go to stdout and OUT/train.log.

A site's own adapter, on top of the shipped model, from its own studies
(a JSONL description as in data.py; see models/README.md):
  train.py --init-from models --data SITE.jsonl --out DIR --stages lora,export
then `lora = DIR/radscribe-cxr-lora.gguf` in radscribed.conf.
"""
import argparse
import collections
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
import export  # noqa: E402
import labeler  # noqa: E402
import tok  # noqa: E402
from model import VLM, Llama, ViT  # noqa: E402

# Sizes: the recipe must run within 2 hours on 2 CPU cores and the pair
# must stay under 50 MB.  FFN widths differ from embedding widths on purpose.
CFG = dict(
    vocab=3000,
    image=192, patch=16, vdim=192, vheads=3, vff=512, vlayers=6, depth=5,
    dim=256, heads=4, ff=688, layers=4, ctx=512,
    mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25],
    max_answer={"findings": 128, "impression": 64},
    lm_epochs=6, lm_lr=1e-3, lm_batch=16,
    vis_epochs=30, vis_lr=5e-4, vis_batch=32,
    align_epochs=4, align_lr=1e-3,
    tune_epochs=5, lora_lr=1e-3, full_lr=2e-4, lora_r=16, lora_alpha=32,
    pair_batch=8,
)
SECTIONS = ("findings", "impression")
# --tiny: the whole recipe in a minute on a sample of the data, for the
# test that checks export and parity (tests/e2e/recipe.sh); never shipped.
TINY = dict(vocab=400, image=64, patch=16, vdim=48, vheads=2, vff=80, vlayers=3,
            depth=2, dim=64, heads=2, ff=96, layers=2, lm_epochs=1, vis_epochs=1,
            align_epochs=1, tune_epochs=1, lora_r=4, lora_alpha=8)


def log(out, msg):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    with open(os.path.join(out, "train.log"), "a") as f:
        f.write(line + "\n")


def seed_all(s):
    random.seed(s)
    np.random.seed(s)
    torch.manual_seed(s)


def lr_at(step, total, peak, warm=30):
    if step < warm:
        return peak * (step + 1) / warm
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def text_rows(rows, split):
    return [r for r in rows if r["split"] == split and r.get("findings")
            and r.get("impression") and r.get("source") != "pseudo-pair"]


def pair_rows(rows, split):
    return [r for r in rows if r["split"] == split and r["images"]
            and r.get("findings") and r.get("impression")]


def sample_ids(sp, row, sec):
    pre, post = tok.prompt_ids(sp, sec)
    ans = tok.answer_ids(sp, row[sec])
    lim = CFG["max_answer"][sec]
    if len(ans) > lim:
        ans = ans[:lim - 1] + [sp.eos_id()]
    return pre, post, ans


def batch(llm, samples, imgs=None):
    """Input embeddings (b, n, d) and targets (b, n): loss on answer tokens
    only.  samples: (pre, post, ans); imgs: (b, n_img, d) or None."""
    seqs, tgts = [], []
    e = llm.embd
    for j, (pre, post, ans) in enumerate(samples):
        parts = [e(torch.tensor(pre))]
        if imgs is not None:
            parts.append(imgs[j])
        parts.append(e(torch.tensor(post + ans)))
        x = torch.cat(parts, 0)
        t = torch.full((x.shape[0],), -100, dtype=torch.long)
        a0 = x.shape[0] - len(ans)
        t[a0 - 1:x.shape[0] - 1] = torch.tensor(ans)
        seqs.append(x)
        tgts.append(t)
    n = max(s.shape[0] for s in seqs)
    X = torch.zeros(len(seqs), n, llm.d)
    T = torch.full((len(seqs), n), -100, dtype=torch.long)
    for j, (s, t) in enumerate(zip(seqs, tgts)):
        X[j, :s.shape[0]] = s
        T[j, :t.shape[0]] = t
    return X, T


def loss_of(llm, X, T):
    lg = llm(X)
    return F.cross_entropy(lg.view(-1, lg.shape[-1]), T.view(-1), ignore_index=-100,
                           reduction="sum"), int((T != -100).sum())


# ---------------------------------------------------------------- stages

def stage_tokenizer(a, rows):
    texts = [r[s] for r in text_rows(rows, "train") for s in SECTIONS]
    sp = tok.train(texts, os.path.join(a.out, "tokenizer"), CFG["vocab"], a.seed)
    lens = [len(sp.encode(t)) for t in texts]
    log(a.out, f"tokenizer: {sp.get_piece_size()} pieces, {len(texts)} training texts, "
        f"mean {np.mean(lens):.1f} tokens per section")


def new_llm(sp):
    return Llama(sp.get_piece_size(), CFG["dim"], CFG["heads"], CFG["ff"], CFG["layers"],
                 ctx=CFG["ctx"])


def text_samples(sp, rs):
    return [sample_ids(sp, r, s) for r in rs for s in SECTIONS]


@torch.no_grad()
def perplexity(llm, sp, rs, bs=32):
    llm.eval()
    smp = text_samples(sp, rs)
    tot, n = 0.0, 0
    for i in range(0, len(smp), bs):
        X, T = batch(llm, smp[i:i + bs])
        lsum, cnt = loss_of(llm, X, T)
        tot, n = tot + float(lsum), n + cnt
    llm.train()
    return math.exp(tot / n)


def stage_lm(a, rows, sp):
    seed_all(a.seed)
    llm = new_llm(sp)
    tr, va = text_samples(sp, text_rows(rows, "train")), text_rows(rows, "val")
    opt = torch.optim.AdamW(llm.parameters(), CFG["lm_lr"], weight_decay=0.01)
    bs, E = CFG["lm_batch"], CFG["lm_epochs"]
    total, step = E * math.ceil(len(tr) / bs), 0
    for ep in range(E):
        random.shuffle(tr)
        tl, tn = 0.0, 0
        for i in range(0, len(tr), bs):
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, CFG["lm_lr"])
            X, T = batch(llm, tr[i:i + bs])
            lsum, cnt = loss_of(llm, X, T)
            opt.zero_grad()
            (lsum / cnt).backward()
            torch.nn.utils.clip_grad_norm_(llm.parameters(), 1.0)
            opt.step()
            tl, tn, step = tl + float(lsum), tn + cnt, step + 1
        log(a.out, f"lm epoch {ep + 1}/{E}: train loss {tl / tn:.3f}, "
            f"val perplexity {perplexity(llm, sp, va):.2f}")
    torch.save(llm.state_dict(), os.path.join(a.out, "lm.pt"))


def augment(grey, rng):
    """Random crop (80-100% of each side), shift and contrast: on the grey
    view, before the engine's own preprocessing."""
    h, w = grey.shape
    ch, cw = int(h * rng.uniform(0.8, 1.0)), int(w * rng.uniform(0.8, 1.0))
    y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    g = grey[y:y + ch, x:x + cw].astype(np.float32)
    g = (g - 128.0) * rng.uniform(0.8, 1.2) + 128.0 + rng.uniform(-20, 20)
    return np.clip(g, 0, 255).astype(np.uint8)


def vision_targets(r):
    lab = r.get("labels", {})
    g = data.GROUPS.index(lab["group"]) if lab.get("group") in data.GROUPS else -100
    vs = lab.get("view") or []
    v = data.VIEWS.index(vs[0]) if len(vs) == 1 and vs[0] in data.VIEWS else -100
    return g, v


def new_vit():
    return ViT(CFG["image"], CFG["patch"], CFG["vdim"], CFG["vheads"], CFG["vff"],
               CFG["vlayers"], n_cls=len(data.GROUPS) + len(data.VIEWS))


def stage_vision(a, rows):
    seed_all(a.seed)
    rng = np.random.default_rng(a.seed)
    imgs = [r for r in rows if len(r["images"]) == 1 and r.get("source") != "pseudo-pair"
            and r.get("labels")]
    tr = [r for r in imgs if r["split"] == "train" and vision_targets(r) != (-100, -100)]
    va = [r for r in imgs if r["split"] == "val" and vision_targets(r)[0] != -100]
    grey = {r["images"][0]: data.load_grey(r["images"][0]) for r in tr + va}
    # Class weights: normal radiographs are rare in this collection.
    cnt = np.bincount([vision_targets(r)[0] for r in tr if vision_targets(r)[0] >= 0],
                      minlength=len(data.GROUPS)).astype(np.float64)
    gw = torch.tensor(cnt.sum() / (len(cnt) * np.maximum(cnt, 1)), dtype=torch.float32)
    vit = new_vit()
    opt = torch.optim.AdamW(vit.parameters(), CFG["vis_lr"], weight_decay=0.05)
    bs, E = CFG["vis_batch"], CFG["vis_epochs"]
    total, step = E * math.ceil(len(tr) / bs), 0
    ng = len(data.GROUPS)

    def px(g):
        return torch.from_numpy(data.preprocess.normalize(
            data.preprocess.resize_pad(g, CFG["image"]), CFG["mean"], CFG["std"]))

    for ep in range(E):
        order = rng.permutation(len(tr))
        tl, n = 0.0, 0
        for i in range(0, len(order), bs):
            rs = [tr[j] for j in order[i:i + bs]]
            x = torch.stack([px(augment(grey[r["images"][0]], rng)) for r in rs])
            tg = torch.tensor([vision_targets(r) for r in rs])
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, CFG["vis_lr"], 20)
            out = vit.classify(x)
            loss = F.cross_entropy(out[:, :ng], tg[:, 0], weight=gw, ignore_index=-100) \
                + F.cross_entropy(out[:, ng:], tg[:, 1], ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tl, n, step = tl + float(loss) * len(rs), n + len(rs), step + 1
        if (ep + 1) % 5 == 0 or ep == 0:
            vit.eval()
            with torch.no_grad():
                out = vit.classify(torch.stack([px(grey[r["images"][0]]) for r in va]))
            vit.train()
            acc = float((out[:, :ng].argmax(1) == torch.tensor(
                [vision_targets(r)[0] for r in va])).float().mean())
            log(a.out, f"vision epoch {ep + 1}/{E}: train loss {tl / n:.3f}, "
                f"val group accuracy {acc:.3f} ({len(va)} images)")
        else:
            log(a.out, f"vision epoch {ep + 1}/{E}: train loss {tl / n:.3f}")
    torch.save(vit.state_dict(), os.path.join(a.out, "vit.pt"))


def load_vlm(a, sp, llm_state="lm.pt", proj_state=None):
    vit = new_vit()
    vit.load_state_dict(torch.load(os.path.join(a.out, "vit.pt")))
    llm = new_llm(sp)
    llm.load_state_dict(torch.load(os.path.join(a.out, llm_state)))
    vlm = VLM(vit, CFG["depth"], llm)
    if proj_state:
        vlm.proj.load_state_dict(torch.load(os.path.join(a.out, proj_state)))
    return vlm


@torch.no_grad()
def image_features(vlm, rs):
    """Frozen tower: features once per distinct set of views."""
    vlm.vit.eval()
    feats = {}
    for r in rs:
        key = tuple(r["images"])
        if key not in feats:
            x = torch.from_numpy(data.pixels(r["images"], CFG["image"], CFG["mean"], CFG["std"]))
            feats[key] = vlm.vit.features(x[None], vlm.depth)[0]
    return feats


def pair_epoch(vlm, sp, rs, feats, rng, opt=None, lr=None, state=None):
    """One pass: each distinct image set once, with one of its reports
    drawn at random, both sections.  Returns mean answer-token loss."""
    by = {}
    for r in rs:
        by.setdefault(tuple(r["images"]), []).append(r)
    keys = sorted(by)
    if opt is not None:
        # Normal radiographs are ~2% of the pairs: repeat the rarer groups
        # so that each is at least a sixth of an epoch.
        grp = {}
        for k in keys:
            grp.setdefault(by[k][0].get("labels", {}).get("group"), []).append(k)
        floor = len(keys) // 6
        for g, ks in grp.items():
            if g is not None and len(ks) < floor:
                keys += ks * (floor // len(ks) - 1)
        rng.shuffle(keys)
    smp = []
    for k in keys:
        r = by[k][rng.integers(len(by[k]))] if opt is not None else by[k][0]
        smp += [(k, sample_ids(sp, r, s)) for s in SECTIONS]
    bs = CFG["pair_batch"]
    tl, tn = 0.0, 0
    for i in range(0, len(smp), bs):
        chunk = smp[i:i + bs]
        with torch.set_grad_enabled(opt is not None):
            img = vlm.proj(torch.stack([feats[k] for k, _ in chunk]))
            X, T = batch(vlm.llm, [s for _, s in chunk], img)
            lsum, cnt = loss_of(vlm.llm, X, T)
        if opt is not None:
            for g in opt.param_groups:
                g["lr"] = lr_at(state["step"], state["total"], lr)
            opt.zero_grad()
            (lsum / cnt).backward()
            torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], 1.0)
            opt.step()
            state["step"] += 1
        tl, tn = tl + float(lsum), tn + cnt
    return tl / tn


def train_pairs(a, vlm, sp, rows, params, lr, epochs, tag):
    seed_all(a.seed)
    rng = np.random.default_rng(a.seed)
    tr, va = pair_rows(rows, "train"), pair_rows(rows, "val")
    if not tr:
        raise SystemExit("no training rows with images, Findings and Impression in the data")
    feats = image_features(vlm, tr + va)
    for p in vlm.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr, weight_decay=0.0)
    nk = len({tuple(r["images"]) for r in tr})
    state = {"step": 0, "total": epochs * math.ceil(2 * nk / CFG["pair_batch"])}
    t0 = time.time()
    for ep in range(epochs):
        vlm.llm.train()
        tl = pair_epoch(vlm, sp, tr, feats, rng, opt, lr, state)
        vlm.llm.eval()
        vl = pair_epoch(vlm, sp, va, feats, np.random.default_rng(0)) if va else float("nan")
        log(a.out, f"{tag} epoch {ep + 1}/{epochs}: train loss {tl:.3f}, val loss {vl:.3f}")
    log(a.out, f"{tag}: {time.time() - t0:.0f} s, {sum(p.numel() for p in params)} "
        f"trained parameters")
    return vl


def stage_align(a, rows, sp):
    vlm = load_vlm(a, sp)
    train_pairs(a, vlm, sp, rows, list(vlm.proj.parameters()), CFG["align_lr"],
                CFG["align_epochs"], "align")
    torch.save(vlm.proj.state_dict(), os.path.join(a.out, "proj_align.pt"))


def stage_tune(a, rows, sp, full):
    vlm = load_vlm(a, sp, proj_state="proj_align.pt")
    if full:
        params = list(vlm.llm.parameters()) + list(vlm.proj.parameters())
        lr, tag = CFG["full_lr"], "full"
    else:
        seed_all(a.seed)
        vlm.llm.add_lora(CFG["lora_r"], CFG["lora_alpha"])
        params = [p for n, p in vlm.llm.named_parameters() if n.endswith((".a", ".b"))]
        params += list(vlm.proj.parameters())
        lr, tag = CFG["lora_lr"], "lora"
    vl = train_pairs(a, vlm, sp, rows, params, lr, CFG["tune_epochs"], tag)
    torch.save({"llm": vlm.llm.state_dict(), "proj": vlm.proj.state_dict(), "val_loss": vl},
               os.path.join(a.out, tag + ".pt"))


def load_tuned(a, sp, tag="lora"):
    vlm = load_vlm(a, sp)
    st = torch.load(os.path.join(a.out, tag + ".pt"))
    if tag == "lora":
        vlm.llm.add_lora(CFG["lora_r"], CFG["lora_alpha"])
    vlm.llm.load_state_dict(st["llm"])
    vlm.proj.load_state_dict(st["proj"])
    vlm.eval()
    return vlm


def init_from(a):
    """Start from a shipped GGUF pair instead of our pretraining stages:
    the sizes, the tokenizer, the decoder, the tower and the projector."""
    import shutil

    import load_gguf
    d = a.init_from
    llm = load_gguf.load_llm(os.path.join(d, export.NAME + ".gguf"))
    vit, depth, proj, mean, std = load_gguf.load_mmproj(
        os.path.join(d, "mmproj-" + export.NAME + ".gguf"))
    CFG.update(vocab=llm.vocab, dim=llm.d, heads=llm.heads, ff=llm.ff,
               layers=len(llm.blocks), ctx=llm.ctx, image=vit.image, patch=vit.patch,
               vdim=vit.d, vheads=vit.heads, vff=vit.ff, vlayers=depth, depth=depth,
               mean=mean, std=std)
    shutil.copy(os.path.join(d, export.NAME + ".tokenizer.model"),
                os.path.join(a.out, "tokenizer.model"))
    torch.save(llm.state_dict(), os.path.join(a.out, "lm.pt"))
    full = new_vit()
    full.load_state_dict(vit.state_dict(), strict=False)   # no pretraining head
    torch.save(full.state_dict(), os.path.join(a.out, "vit.pt"))
    torch.save(proj, os.path.join(a.out, "proj_align.pt"))
    log(a.out, f"init-from {d}: decoder {len(llm.blocks)} blocks, tower {depth} blocks")


def stage_export(a, rows, sp):
    vlm = load_tuned(a, sp, "lora")
    llm_path = os.path.join(a.out, export.NAME + ".gguf")
    mm_path = os.path.join(a.out, "mmproj-" + export.NAME + ".gguf")
    export.write_llm(vlm.llm, sp, llm_path, version=a.version)
    export.write_mmproj(vlm, CFG["mean"], CFG["std"], mm_path)
    export.write_lora(vlm.llm, os.path.join(a.out, export.NAME + "-lora.gguf"))
    # Shipped with the pair, so that a site can train its own adapter.
    import shutil
    tp = os.path.join(a.out, export.NAME + ".tokenizer.model")
    if not os.path.exists(tp) or not os.path.samefile(tp, os.path.join(a.out, "tokenizer.model")):
        shutil.copy(os.path.join(a.out, "tokenizer.model"), tp)
    # The base decoder too, so the adapter can be checked against the merge.
    base = new_llm(sp)
    base.load_state_dict(torch.load(os.path.join(a.out, "lm.pt")))
    export.write_llm(base, sp, os.path.join(a.out, export.NAME + "-base.gguf"), version=a.version)
    for p in (llm_path, mm_path):
        log(a.out, f"export: {p} {os.path.getsize(p) / 1e6:.1f} MB")


def tiny_rows(rows):
    """A fixed sample of every kind of row, each split."""
    out, seen = [], collections.Counter()
    for r in rows:
        if r.get("source") == "iuxray" and r["images"]:
            out.append(r)
            continue
        k = (r.get("source"), r["split"])
        if seen[k] < (150 if r.get("source") == "iuxray" else 12):
            seen[k] += 1
            out.append(r)
    return out


STAGES = ["prepare", "tokenizer", "lm", "vision", "align", "lora", "full", "export"]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "shared", "data"))
    ap.add_argument("--data", help="dataset description (JSONL); default OUT/dataset.jsonl")
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--version", default="1")
    ap.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--init-from", help="start from the GGUF pair in this folder (site adapters)")
    a = ap.parse_args(argv)
    if a.tiny:
        CFG.update(TINY)
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    a.data = a.data or os.path.join(a.out, "dataset.jsonl")
    if a.init_from:
        init_from(a)
    stages = a.stages.split(",")
    for s in stages:
        if s not in STAGES:
            raise SystemExit(f"unknown stage {s!r}; stages: {','.join(STAGES)}")
    t0 = time.time()
    log(a.out, f"recipe: stages {','.join(stages)}, seed {a.seed}, {a.threads} threads, "
        f"torch {torch.__version__}, config {json.dumps(CFG)}")
    if "prepare" in stages:
        rows = data.prepare(a.shared, a.data, labeler, a.seed)
        log(a.out, f"prepare: {len(rows)} rows in {a.data}: "
            f"{len(text_rows(rows, 'train'))} training reports, "
            f"{len(pair_rows(rows, 'train'))} training image-report rows")
    rows = data.read_jsonl(a.data)
    if a.tiny:
        rows = tiny_rows(rows)
    sp = None
    for s in stages:
        t = time.time()
        if s == "tokenizer":
            stage_tokenizer(a, rows)
        if s != "prepare" and sp is None and s != "tokenizer" or s == "tokenizer":
            sp = tok.load(os.path.join(a.out, "tokenizer.model"))
        if s == "lm":
            stage_lm(a, rows, sp)
        elif s == "vision":
            stage_vision(a, rows)
        elif s == "align":
            stage_align(a, rows, sp)
        elif s in ("lora", "full"):
            stage_tune(a, rows, sp, s == "full")
        elif s == "export":
            stage_export(a, rows, sp)
        log(a.out, f"stage {s}: {time.time() - t:.0f} s")
    log(a.out, f"recipe done in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main(sys.argv[1:])
