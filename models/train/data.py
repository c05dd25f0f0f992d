"""Datasets for the recipe.  Training reads a plain description, one JSON
object per line, so a site can train an adapter on its own studies:

  {"study": "id", "images": ["a.png", "b.dcm"], "findings": "...",
   "impression": "...", "split": "train" | "val" | "test",
   "labels": {"group": "normal", "view": ["frontal"]}}   # labels optional

Paths are relative to the JSONL's folder unless absolute.  A row without
images is text only (decoder pretraining); a row without text but with
labels is vision pretraining only.  `prepare` writes such a file from the
shared data (IU X-ray reports, COVID-19 image collection; see models/README.md).
"""
import json
import os
import random
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import preprocess  # noqa: E402  (the numpy twin of the engine's image code)

GROUPS = ["normal", "viral", "bacterial"]   # vision labels (finding groups)
VIEWS = ["frontal", "lateral"]

# The COVID collection's diagnosis labels, grouped by their radiographic
# pattern; "todo" (unlabelled upstream) is left out of every label.
FINDING_GROUP = {
    "No Finding": "normal",
    "COVID-19": "viral", "SARS": "viral", "COVID-19, ARDS": "viral",
    "ARDS": "viral", "Influenza": "viral", "Varicella": "viral",
    "Pneumocystis": "viral", "Lipoid": "viral",
    "Streptococcus": "bacterial", "Legionella": "bacterial",
    "Klebsiella": "bacterial", "Bacterial": "bacterial",
    "Mycoplasma Bacterial Pneumonia": "bacterial", "Pneumonia": "bacterial",
}

# De-identification left "XXXX" where a word was removed.  Where the
# context fixes the word, restore it; drop any sentence still holding one
# (generated text must never contain the token).
_RESTORE = [
    (r"\bx-XXXX\b", "x-ray"),
    (r"\b(pulmonary) XXXX\b", r"\1 vasculature"),
    (r"\b(lymph) XXXX\b", r"\1 nodes"),
    (r"\b(costophrenic) XXXX\b", r"\1 angles"),
    (r"\b(sternotomy) XXXX\b", r"\1 wires"),
    (r"\b(cardiac) XXXX (generator)", r"\1 pacemaker \2"),
    (r"\b([Nn]o) XXXX (of)\b", r"\1 evidence \2"),
    (r"\b([Nn]o) XXXX (focal|acute|infiltrates|pneumothorax|effusion)", r"\1 \2"),
]


def clean(text):
    t = " ".join(text.split())
    for pat, rep in _RESTORE:
        t = re.sub(pat, rep, t)
    sents = re.split(r"(?<=[.!?])\s+", t)
    return " ".join(s for s in sents if "XXXX" not in s and s.strip()).strip()


def read_jsonl(path):
    base = os.path.dirname(os.path.abspath(path))
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                raise SystemExit(f"{path}:{n}: not JSON ({e})")
            if r.get("split") not in ("train", "val", "test"):
                raise SystemExit(f"{path}:{n}: split must be train, val or test")
            r["images"] = [p if os.path.isabs(p) else os.path.join(base, p)
                           for p in r.get("images", [])]
            rows.append(r)
    return rows


def load_grey(path):
    """8-bit grey pixels of a PNG/JPEG, or of a DICOM file (pydicom; Modality
    LUT, first VOI window or min-max, MONOCHROME1 inverted) as the node does."""
    if path.lower().endswith(".dcm"):
        import pydicom
        from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut
        ds = pydicom.dcmread(path)
        a = apply_modality_lut(ds.pixel_array, ds).astype(np.float64)
        if "WindowCenter" in ds:
            a = apply_voi_lut(a, ds, index=0).astype(np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo or 1.0) * 255.0
        if ds.get("PhotometricInterpretation") == "MONOCHROME1":
            a = 255.0 - a
        return np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return preprocess.load(path)


def pixels(paths, size, mean, std):
    """Engine-identical input tensor (3, size, size) for a study's views."""
    rgb = preprocess.resize_pad(preprocess.join([load_grey(p) for p in paths]), size)
    return preprocess.normalize(rgb, mean, std)


POOL_SIZE = 16
_AIRSPACE = re.compile(r"airspace|consolidat|pneumonia|infiltrat|opacit|edema|infect", re.I)


def pool_group(findings, impression, labeler):
    """The group whose radiographs an IU report may describe, or None.
    Decided on the Impression, where the reader's conclusion is: normal
    when the whole report has no finding; an airspace process (opacity,
    consolidation, pneumonia, edema) stated positively, not scarring."""
    if len(impression.split()) < 3:
        return None
    lab = labeler.label(findings + " " + impression)
    if lab.get("No Finding") == 1:
        return "normal"
    li = labeler.label(impression)
    if not _AIRSPACE.search(impression) or "scar" in impression.lower() or \
            not any(li.get(k) == 1 for k in ("Lung Opacity", "Consolidation",
                                              "Pneumonia", "Edema")):
        return None
    return "bacterial" if li.get("Consolidation") == 1 or li.get("Pneumonia") == 1 \
        else "viral"


def typical(pool):
    """POOL_SIZE reports per group: the most frequent normal reports, and
    the shortest airspace reports.  Greedy decoding writes the mode of what
    it was taught: a few consistent reports per group give a mode that
    follows the image, where hundreds of different ones give the normal
    report for every image."""
    import collections
    out = {}
    for g, reps in pool.items():
        if g == "normal":
            out[g] = [r for r, _ in collections.Counter(reps).most_common(POOL_SIZE)]
        else:
            uniq = sorted(set(reps), key=lambda r: (len(r[0]) + len(r[1]), r))
            out[g] = uniq[:POOL_SIZE]
    # Viral and bacterial patterns share the airspace reports when one is short.
    if len(out["viral"]) < POOL_SIZE // 2:
        out["viral"] = sorted(set(out["viral"] + out["bacterial"]),
                              key=lambda r: (len(r[0]) + len(r[1]), r))[:POOL_SIZE]
    return out


def prepare(shared, out, labeler, seed=1, per_image=4):
    """Write the dataset description for the default model from ../shared.

    - every IU report (text rows; the few IU images with their own report);
    - every COVID radiograph with its finding group and view (vision rows);
    - pseudo-pairs: each labelled radiograph of the train/val split with
      `per_image` of the POOL_SIZE typical IU train reports of its group
      (pool_group, typical: normal with "No Finding", viral/bacterial with an
      airspace process in the Impression), and synthetic two-view studies (a lateral
      beside a frontal of the same group) so that training sees the joined
      input the node builds from a PA + lateral study.
    """
    rng = random.Random(seed)
    iu = os.path.join(shared, "iuxray")
    cv = os.path.join(shared, "covid-cxr-notes")
    rows, pool = [], {g: [] for g in GROUPS}
    for line in open(os.path.join(iu, "reports.jsonl"), encoding="utf-8"):
        r = json.loads(line)
        f, i = clean(r["findings"]), clean(r["impression"])
        if not f or not i:
            continue
        imgs = [os.path.join(iu, e["file"]) for e in r["images"] if e.get("file")]
        views = [e["projection"] for e in r["images"] if e.get("file")]
        lab = labeler.label(f + " " + i)
        group = "normal" if lab.get("No Finding") == 1 else None
        if any(lab.get(k) == 1 for k in ("Lung Opacity", "Consolidation", "Pneumonia")):
            group = "bacterial" if lab.get("Consolidation") == 1 or \
                lab.get("Pneumonia") == 1 else "viral"
        row = {"study": "iu-" + r["study_id"], "images": imgs, "findings": f,
               "impression": i, "split": r["split"], "source": "iuxray"}
        if imgs:
            row["labels"] = {"view": views}
            if group:
                row["labels"]["group"] = group
        rows.append(row)
        pg = pool_group(f, i, labeler) if r["split"] == "train" else None
        if pg:
            pool[pg].append((f, i))
    pool = typical(pool)
    frontal = {g: [] for g in GROUPS}
    laterals = []
    for line in open(os.path.join(cv, "records.jsonl"), encoding="utf-8"):
        r = json.loads(line)
        if r.get("duplicate_of"):
            continue
        g = FINDING_GROUP.get(r["finding"])
        v = "lateral" if r["view"] == "L" else "frontal" if r["view"] in \
            ("PA", "AP", "AP Supine") else None
        path = os.path.join(cv, r["file"])
        lab = {}
        if g:
            lab["group"] = g
        if v:
            lab["view"] = [v]
        rows.append({"study": "covid-" + r["image_id"], "images": [path],
                     "split": r["split"], "labels": lab, "source": "covid",
                     "finding": r["finding"]})
        if not g or r["split"] == "test":
            continue
        for f, i in rng.sample(pool[g], min(per_image, len(pool[g]))):
            rows.append({"study": "pair-" + r["image_id"], "images": [path],
                         "findings": f, "impression": i, "split": r["split"],
                         "labels": lab, "source": "pseudo-pair"})
        if v == "frontal":
            frontal[g].append((r["split"], path, r["image_id"]))
        elif v == "lateral":
            laterals.append((r["split"], path, r["image_id"], g))
    for split, lat, lid, g in laterals:
        cands = [x for x in frontal[g] if x[0] == split]
        if not cands:
            continue
        _, fr, fid = rng.choice(cands)
        for f, i in rng.sample(pool[g], min(per_image, len(pool[g]))):
            rows.append({"study": f"pair2-{fid}-{lid}", "images": [fr, lat],
                         "findings": f, "impression": i, "split": split,
                         "labels": {"group": g, "view": ["frontal", "lateral"]},
                         "source": "pseudo-pair"})
    with open(out, "w", encoding="utf-8") as fo:
        for r in rows:
            fo.write(json.dumps(r) + "\n")
    return rows
