#!/usr/bin/python3
"""Evaluate the trained model on the test splits and check that radscribe's
C engine generates what PyTorch generates.

usage: evaluate.py [--out DIR] [--radscribe PATH] [--tag lora|full] [--no-parity]

- clinical agreement on the held-out COVID-collection radiographs: the
  rule-based labeler (labeler.py) on the generated Findings + Impression
  against the radiograph's label (normal versus viral/bacterial pneumonia);
  sensitivity and specificity for "abnormal" (uncertain mentions count as
  positive, as CheXpert's "U-ones"), and F1 for No Finding, Lung Opacity
  and Pneumonia;
- text metrics (metrics.py, pycocoevalcap-style) on the IU test studies
  that have images, and the decoder's perplexity on every IU test report;
- baselines in the same tables: the most frequent training report, and
  the report of the nearest training radiograph by image embedding;
- parity: `radscribe infer` on the exported GGUF pair against PyTorch's
  greedy tokens on every test input.
Writes OUT/eval.json and OUT/eval.md.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
import export  # noqa: E402
import labeler  # noqa: E402
import metrics  # noqa: E402
import tok  # noqa: E402
import train  # noqa: E402
from model import LoRALinear  # noqa: E402

MAX_NEW = {"findings": 96, "impression": 48}
OBS = ["No Finding", "Lung Opacity", "Pneumonia"]


def merge_lora(llm):
    """PyTorch runs the merged weights, as the exported file holds them."""
    for blk in llm.blocks:
        for k in export.LLM_NAMES:
            m = getattr(blk, k)
            if isinstance(m, LoRALinear):
                lin = m.base
                lin.weight.data = m.merged().detach()
                setattr(blk, k, lin)


def truth(group):
    ab = group != "normal"
    return {"abnormal": ab, "No Finding": not ab, "Lung Opacity": ab, "Pneumonia": ab}


def predicted(text):
    lab = labeler.label(text)
    p = {"abnormal": labeler.abnormal(lab)}
    for o in OBS:
        p[o] = lab.get(o) in (1, -1)
    return p


def agreement(items, key):
    """Sensitivity/specificity for abnormal, F1 per observation."""
    res = {}
    for o in ["abnormal"] + OBS:
        tp = sum(1 for it in items if it["truth"][o] and it[key][o])
        fn = sum(1 for it in items if it["truth"][o] and not it[key][o])
        fp = sum(1 for it in items if not it["truth"][o] and it[key][o])
        tn = sum(1 for it in items if not it["truth"][o] and not it[key][o])
        sens = tp / (tp + fn) if tp + fn else float("nan")
        spec = tn / (tn + fp) if tn + fp else float("nan")
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        res[o] = {"tp": tp, "fn": fn, "fp": fp, "tn": tn, "sensitivity": sens,
                  "specificity": spec, "f1": f1, "support": tp + fn}
    ab = res["abnormal"]
    ab["balanced_accuracy"] = (ab["sensitivity"] + ab["specificity"]) / 2
    return res


def c_engine(exe, llm, mm, prompt, n, images):
    r = subprocess.run([exe, "infer", "-v", "--model", llm, "--mmproj", mm,
                        "--prompt", prompt, "--max-tokens", str(n), "--threads", "2"]
                       + list(images), capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"radscribe infer failed: {r.stderr.strip()}")
    for line in r.stderr.splitlines():
        if line.startswith("generated ids:"):
            return [int(v) for v in line.split(":", 1)[1].split()]
    raise SystemExit("radscribe infer -v printed no generated ids")


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--data")
    ap.add_argument("--radscribe", default=os.path.join(HERE, "..", "..", "src", "radscribe"))
    ap.add_argument("--tag", default="lora")
    ap.add_argument("--no-parity", action="store_true")
    ap.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.tiny:
        train.CFG.update(train.TINY)
    torch.set_num_threads(2)
    a.data = a.data or os.path.join(a.out, "dataset.jsonl")
    a.seed = 1
    rows = data.read_jsonl(a.data)
    if a.tiny:
        rows = train.tiny_rows(rows)
    sp = tok.load(os.path.join(a.out, "tokenizer.model"))
    vlm = train.load_tuned(a, sp, a.tag)
    merge_lora(vlm.llm)
    eos = sp.eos_id()
    llm_path = os.path.join(a.out, export.NAME + ".gguf")
    mm_path = os.path.join(a.out, "mmproj-" + export.NAME + ".gguf")
    C = train.CFG

    # Test inputs: labelled held-out radiographs, IU test studies with images.
    covid = [r for r in rows if r.get("source") == "covid" and r["split"] == "test"
             and r.get("labels", {}).get("group")]
    iu = [r for r in rows if r.get("source") == "iuxray" and r["split"] == "test" and r["images"]]
    # Baselines: most frequent training report; nearest training radiograph.
    trtext = train.text_rows(rows, "train")
    common = collections.Counter((r["findings"], r["impression"]) for r in trtext).most_common(1)[0]
    trimg = {}
    for r in train.pair_rows(rows, "train"):
        if len(r["images"]) == 1:
            trimg.setdefault(tuple(r["images"]), r)
    feats = train.image_features(vlm, list(trimg.values()) + covid + iu)

    def pooled(k):
        f = feats[k].mean(0)
        return f / f.norm()

    keys = sorted(trimg)
    bank = torch.stack([pooled(k) for k in keys])

    items, same, total, t0 = [], 0, 0, time.time()
    for r in covid + iu:
        k = tuple(r["images"])
        img = vlm.proj(feats[k][None])
        gen, gen_ids = {}, {}
        for sec in train.SECTIONS:
            pre, post = tok.prompt_ids(sp, sec)
            ids = vlm.greedy(pre, img, post, MAX_NEW[sec], eos)
            gen_ids[sec] = ids
            gen[sec] = sp.decode([t for t in ids if t != eos])
            if not a.no_parity:
                cids = c_engine(a.radscribe, llm_path, mm_path, tok.PROMPTS[sec],
                                MAX_NEW[sec], r["images"])
                total += 1
                # The engine stops at end-of-sequence without listing it.
                ok = [t for t in cids if t != eos] == [t for t in ids if t != eos]
                same += ok
                if not ok:
                    print(f"parity: {r['study']} {sec}: torch {ids} C {cids}", file=sys.stderr)
        nn = trimg[keys[int((bank @ pooled(k)).argmax())]]
        it = {"study": r["study"], "generated": gen,
              "text": gen["findings"] + " " + gen["impression"],
              "majority": common[0][0] + " " + common[0][1],
              "nearest": nn["findings"] + " " + nn["impression"]}
        if r.get("source") == "covid":
            it["truth"] = truth(r["labels"]["group"])
            it["finding"] = r.get("finding")
            for key in ("text", "majority", "nearest"):
                it["p_" + key] = predicted(it[key])
        else:
            it["reference"] = r["findings"] + " " + r["impression"]
        items.append(it)
    gen_s = time.time() - t0

    res = {"n_covid_test": len(covid), "n_iu_test_with_images": len(iu),
           "generation_seconds": gen_s}
    cl = [it for it in items if "truth" in it]
    res["clinical"] = {k: agreement(cl, "p_" + k) for k in ("text", "majority", "nearest")}
    ref = [it for it in items if "reference" in it]
    res["text_metrics"] = {}
    for k in ("text", "majority", "nearest"):
        c = [it[k] for it in ref]
        rf = [[it["reference"]] for it in ref]
        res["text_metrics"][k] = {"bleu": metrics.bleu(c, rf), "rouge_l": metrics.rouge_l(c, rf)}
    base = train.new_llm(sp)
    base.load_state_dict(torch.load(os.path.join(a.out, "lm.pt")))
    te = train.text_rows(rows, "test")
    res["perplexity"] = {"lm_stage_decoder": train.perplexity(base, sp, te),
                         "final_decoder_text_only": train.perplexity(vlm.llm, sp, te),
                         "n_reports": len(te)}
    res["parity"] = {"same": same, "total": total,
                     "fraction": same / total if total else None}
    res["distinct_reports"] = len({it["text"] for it in items})
    res["examples"] = [{"study": it["study"], "finding": it.get("finding"),
                        "generated": it["generated"]} for it in items[:6]]
    res["tag"] = a.tag
    sfx = "" if a.tag == "lora" else "-" + a.tag
    with open(os.path.join(a.out, "eval%s.json" % sfx), "w") as f:
        json.dump(res, f, indent=1)
    md = table(res)
    with open(os.path.join(a.out, "eval%s.md" % sfx), "w") as f:
        f.write(md)
    print(md)


def table(res):
    L = ["| system | abnormal sens. | abnormal spec. | balanced acc. | F1 No Finding | "
         "F1 Lung Opacity | F1 Pneumonia |", "|---|---:|---:|---:|---:|---:|---:|"]
    names = {"text": "radscribe-cxr (greedy)", "majority": "most frequent training report",
             "nearest": "nearest training radiograph"}
    for k, n in names.items():
        c = res["clinical"][k]
        ab = c["abnormal"]
        L.append(f"| {n} | {ab['sensitivity']:.3f} | {ab['specificity']:.3f} | "
                 f"{ab['balanced_accuracy']:.3f} | {c['No Finding']['f1']:.3f} | "
                 f"{c['Lung Opacity']['f1']:.3f} | {c['Pneumonia']['f1']:.3f} |")
    ab = res["clinical"]["text"]["abnormal"]
    L += ["", f"Held-out radiographs: {res['n_covid_test']} "
          f"({ab['support']} abnormal, {ab['tn'] + ab['fp']} normal).", "",
          "| system | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | ROUGE-L |", "|---|---:|---:|---:|---:|---:|"]
    for k, n in names.items():
        t = res["text_metrics"][k]
        L.append(f"| {n} | " + " | ".join(f"{b:.3f}" for b in t["bleu"]) +
                 f" | {t['rouge_l']:.3f} |")
    p = res["perplexity"]
    L += ["", f"IU test studies with images: {res['n_iu_test_with_images']}.",
          f"Perplexity on {p['n_reports']} IU test reports (answer tokens): "
          f"decoder after pretraining {p['lm_stage_decoder']:.2f}, "
          f"final decoder without an image {p['final_decoder_text_only']:.2f}.",
          f"Distinct generated reports: {res['distinct_reports']}.", ""]
    q = res["parity"]
    if q["total"]:
        L.append(f"Parity, C engine vs PyTorch greedy: {q['same']}/{q['total']} "
                 f"sections token for token ({100 * q['fraction']:.1f}%).")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main(sys.argv[1:])
