#!/usr/bin/python3
"""CheXpert-style rule-based labeler for English chest X-ray reports.

Why: the report generator is judged on clinical content, not only on n-gram
overlap, and the CheXpert labeler (Irvin et al. 2019, built on NegBio) is
how the field turns a report into 14 observation labels.  The original
needs a dependency parser and Java; this is a regex approximation of its
three stages, kept to the standard library:

  1. mention extraction: phrase lists per observation, plus "attribute"
     phrases such as "heart size is normal" that are negative by themselves;
  2. classification of each mention within its clause: uncertainty cues that
     contain a negation word ("cannot be excluded") first, then negation
     (forward cues such as "no", "without", "free of"; backward cues such as
     "is not seen", "has resolved"), then the other uncertainty cues;
  3. aggregation over the report: positive > uncertain > negative, and
     "No Finding" = 1 when no pathology is positive or uncertain.

The IU X-Ray texts carry "XXXX" de-identification tokens; they are ordinary
unknown words here (they match no phrase and no cue).

API (stable, imported by other tools):
    OBSERVATIONS            the CheXpert 14, in CheXpert's order
    label(text) -> dict     {observation: 1 | 0 | -1}; unmentioned ones absent
    abnormal(labels) -> bool
"""

import json
import re
import sys

OBSERVATIONS = [
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Lesion",
    "Lung Opacity", "Edema", "Consolidation", "Pneumonia", "Atelectasis",
    "Pneumothorax", "Pleural Effusion", "Pleural Other", "Fracture",
    "Support Devices",
]
PATHOLOGIES = [o for o in OBSERVATIONS if o not in ("No Finding", "Support Devices")]

POS, NEG, UNC = 1, 0, -1

# ------------------------------------------------------------ mentions ----
# Each entry: observation -> list of regexes (on the normalised sentence:
# lower case, hyphens as spaces, single spaces).  A match is a mention whose
# polarity the cues decide.
_HEART = (r"(?:heart(?: size)?|cardiac (?:silhouette|shadow|size|contours?|outline)|"
          r"cardiomediastinal (?:silhouette|contours?|shadow|outline)|cardiac)")
_MEDIASTINUM = (r"(?:mediastinum|mediastinal (?:silhouette|contours?|width|shadow)|"
                r"cardiomediastinal (?:silhouette|contours?|shadow|outline))")
_ENLARGED = r"(?:enlarged|enlargement|large|increased|prominent|widened|widening)"
_MOD = r"(?:(?:mildly|moderately|markedly|severely|slightly|minimally|significantly|again|still|now|also|persistently|stably|somewhat|borderline) )*"

MENTIONS = {
    "Cardiomegaly": [
        r"cardiomegaly",
        r"cardiac enlargement",
        r"enlarge(?:d|ment of)(?: the)? (?:heart|cardiac (?:silhouette|shadow))",
        rf"{_MOD}(?:enlarged|large|prominent|increased) (?:heart|cardiac (?:silhouette|shadow|size|contours?)|heart size)",
        # "heart size is mildly enlarged", "the heart is not enlarged"
        rf"(?<!cardiomediastinal ){_HEART}(?: \w+){{0,3}}? (?:is |are |appears |remains )?(?:not )?{_MOD}{_ENLARGED}",
    ],
    "Enlarged Cardiomediastinum": [
        r"(?:widened|widening of the|enlarged|prominent) (?:upper |superior )?(?:mediastinum|mediastinal|cardiomediastinal)",
        r"prominence of the (?:upper |superior )?(?:mediastinum|mediastinal \w+)", r"paratracheal prominence",
        r"mediastinal (?:widening|enlargement)",
        rf"{_MEDIASTINUM}(?: \w+){{0,3}}? (?:not )?{_MOD}(?:widened|enlarged|prominent|widening)",
    ],
    "Lung Lesion": [
        r"nodules?", r"nodularity", r"\w*nodular (?:\w+ )?(?:opacity|opacities|density|densities|infiltrates?|scarring|thickening|prominence)",
        r"mass ?like", r"(?:round|rounded|circular) (?:\w+ )?(?:opacity|opacities|density|densities)",
        r"nodular (?:density|densities|opacity|opacities)",
        r"mass(?:es)?", r"(?:cavitary )?lesions?", r"neoplasms?", r"tumou?rs?",
        r"carcinoma", r"malignancy", r"metasta\w+",
    ],
    "Lung Opacity": [
        r"opacit(?:y|ies)", r"opacification", r"opacified",
        r"air ?space (?:disease|opacit(?:y|ies)|process)",
        r"infiltrates?", r"infiltration", r"infiltrative",
        r"(?:increased|hazy|patchy|focal|streaky|lung|pulmonary|parenchymal|airspace) densit(?:y|ies)",
        r"densit(?:y|ies) (?:in|at|within|of) the (?:right|left|lungs?|bilateral|lower|upper|base|bases|lingula|retrocardiac)",
        r"interstitial (?:lung )?(?:markings?|pattern|opacities|prominence|process|disease|changes?)",
        r"(?:prominen\w+|thickening|thickened) (?:of )?(?:the )?(?:pulmonary )?interstitium",
        r"reticular (?:pattern|markings?|opacities)", r"reticulation",
        r"(?:parenchymal )?scarring", r"scar",
        r"peribronchial (?:thickening|cuffing)",
        r"decreased translucency",
    ],
    "Edema": [
        r"edema", r"heart failure", r"\bchf\b",
        r"vascular congestion", r"pulmonary congestion", r"congestive",
        r"vascular (?:prominence|engorgement)",
        r"(?:prominent|increased|indistinct) (?:central )?(?:pulmonary |lung )?(?:vasculature|vascularity|vascular markings)",
        r"prominence of the (?:central )?(?:pulmonary |lung )?(?:vasculature|vascularity|vessels)",
        r"(?:vascular )?(?:cephalization|redistribution)", r"\bcongestion", r"engorged",
    ],
    "Consolidation": [r"consolidat\w*"],
    "Pneumonia": [r"pneumonias?", r"bronchopneumonia", r"(?<!granulomatous )(?<!histoplasmosis )infection", r"infectious (?:process|etiology)"],
    "Atelectasis": [r"atelecta\w+", r"collapsed?", r"volume loss"],
    "Pneumothorax": [r"pneumothora(?:x|ces|ax)", r"pneumothoraces", r"pleural air(?: collection)?"],
    "Pleural Effusion": [
        r"(?<!pericardial )effusions?", r"pleural fluid", r"hydrothorax",
        r"fluid in the (?:right |left )?(?:pleural|fissure)",
    ],
    "Pleural Other": [
        r"pleural (?:thickening|scarring|plaques?|calcifications?)",
        r"fibrothorax", r"apical (?:pleural )?(?:cap|capping|thickening)",
        r"pleural parenchymal scar\w*",
    ],
    "Fracture": [r"(?<!catheter )fractures?", r"fractured"],
    "Support Devices": [
        r"pacemakers?", r"pacer", r"\baicd\b", r"\bicd\b", r"defibrillator",
        r"catheters?", r"\bpicc\b", r"(?:central|venous|arterial|swan ganz|jugular|subclavian|midline|port) (?:lines?|catheters?)",
        r"(?:endotracheal|tracheostomy|nasogastric|feeding|chest|et|ng|og|enteric|gastric) tubes?",
        r"tubes?", r"port a cath", r"portacath", r"\bport\b",
        r"sternotomy", r"sternal wires?", r"cabg", r"(?:surgical )?clips",
        r"stents?", r"prosthe\w+", r"valve replacement", r"replaced valve",
        r"hardware", r"(?:fixation|fusion) (?:hardware|device|rods?|plates?|screws?)",
        r"screws", r"\bleads?\b", r"\bwires\b", r"devices?", r"generator",
        r"drains?", r"\bcoils?\b", r"\bfilter\b",
    ],
}

# Phrases that are negative statements by themselves ("heart size normal").
NEG_MENTIONS = {
    "Cardiomegaly": [
        rf"(?:normal|unremarkable) (?:\w+ )?(?:heart|cardiac|cardiomediastinal)(?: (?:size|silhouette|contours?|shadow|outline))?",
        rf"(?:heart|cardiac) (?:is )?(?:of )?normal (?:in )?size",
        rf"{_HEART}(?: \w+){{0,4}}? (?:is |are |appears |remains )?(?:\w+ )?(?:normal|within normal limits|unremarkable|stable and normal|not enlarged)",
        rf"{_HEART}(?: \w+){{0,5}}? (?:upper limits? of normal|upper normal|top normal|top of normal|high normal|upper range of normal)",
        r"(?:upper normal|top normal|high normal) (?:\w+ )?(?:heart|cardiac)",
    ],
    "Enlarged Cardiomediastinum": [
        rf"(?:normal|unremarkable) (?:\w+ )?(?:mediastin\w+|cardiomediastinal)(?: (?:silhouette|contours?|shadow|outline|width))?",
        rf"{_MEDIASTINUM}(?: \w+){{0,4}}? (?:is |are |appears |remains )?(?:\w+ )?(?:normal|within normal limits|unremarkable)",
        rf"{_MEDIASTINUM}(?: \w+){{0,5}}? (?:upper limits? of normal|upper normal|top normal)",
    ],
    "Lung Opacity": [
        r"(?:lungs?|lung fields?|lung parenchyma)(?: \w+){0,3}? (?:is |are |appear |remain )?(?:\w+ )?clear",
        r"clear lungs?",
    ],
    "Pleural Effusion": [
        r"costophrenic (?:angles?|sulci|recesses) (?:are |is )?(?:\w+ )?(?:sharp|clear)",
    ],
}

# Phrases that are uncertain by themselves ("borderline heart size").  A
# heart "at the upper limits of normal" is normal (0): the IU indexers tag
# "Cardiomegaly/borderline" for "borderline" but not for "upper limits of
# normal" (checked on train+val).
UNC_MENTIONS = {
    "Cardiomegaly": [
        rf"{_HEART}(?: \w+){{0,5}}? borderline(?: (?:enlarged|in size|size|enlargement))?",
        rf"borderline (?:\w+ )?(?:heart|cardiac|cardiomegaly|enlarged heart|enlargement of the heart)",
    ],
    "Enlarged Cardiomediastinum": [
        rf"{_MEDIASTINUM}(?: \w+){{0,5}}? borderline",
    ],
}

# --------------------------------------------------------------- cues -----
# Uncertainty cues that contain a negation word: checked before negation.
UNC_PRENEG = [
    r"can ?not be (?:excluded|ruled out|entirely excluded|completely excluded)",
    r"cannot (?:exclude|rule out)", r"could not be (?:excluded|ruled out)",
    r"not (?:be )?(?:entirely |completely )?(?:excluded|ruled out)",
    r"no (?:definite|convincing|clear) (?:change|evidence) (?:to )?suggest",
    r"not (?:entirely )?certain",
    r"not (?:definitely|clearly) (?:seen|identified)",
]
# Words that look like negation but are not.
PSEUDO_NEG = [
    r"no (?:significant |interval |definite |substantial )?(?:change|increase|decrease|worsening|improvement)",
    r"not (?:significantly )?(?:changed|increased|decreased)",
    r"without (?:significant |interval )?change", r"not only", r"gram negative",
    r"no longer (?:see|seen)(?=.*(?:but|however))",
]
NEG_FWD = [
    r"\bno\b", r"\bnot\b", r"without", r"negative for", r"free of", r"clear of",
    r"absence of", r"absent", r"resolution of", r"resolved", r"removal of",
    r"no evidence of", r"no signs? of", r"\bnor\b", r"\bneither\b", r"\bnone\b",
    r"rather than", r"instead of", r"\bdeny\b", r"\bdenies\b",
]
NEG_BWD = [
    r"(?:is|are|was|were|has been|have been) not\b",
    r"not (?:\w+ )?(?:seen|identified|present|visualized|visible|evident|demonstrated|appreciated|noted|detected|apparent|definitely seen)",
    r"(?:is|are|has|have|was|were)? ?(?:\w+ )?(?:resolved|absent|removed|cleared)",
    r"no longer", r"(?:has|have) (?:since )?resolved",
    r"within (?:the )?(?:normal )?limits(?: of normal)?", r"(?:is|are|appears?) normal\b",
    r"may not be (?:demonstrated|seen|visible|detected|apparent)",
]
UNC_CUES = [
    r"\bmay\b", r"\bmight\b", r"possible", r"possibly", r"probable", r"probably",
    r"\blikely\b", r"suggest\w*", r"question of", r"questionabl[ey]", r"questioned",
    r"versus", r"\bvs\b", r"\bcould\b", r"concern(?:ing)? for", r"concern",
    r"suspicious", r"suspicion", r"suspect\w*", r"borderline", r"equivocal",
    r"differential", r"consider\w*", r"uncertain", r"indeterminate",
    r"presum\w+", r"perhaps", r"favou?r\w*", r"\bcan be\b",
    r"represents?", r"worrisome", r"\bpotential\w*", r"atypical",
    r"\bif\b", r"\bwhether\b", r"correlat\w+", r"\bdd?x\b", r"compatible with",
    r"consistent with", r"may represent", r"\bthought to\b",
]
# Uncertainty cues that end a forward negation's scope.
UNC_STOP = [
    r"\bmay\b", r"\bmight\b", r"\bpossibly\b", r"\bprobably\b", r"\blikely\b",
    r"suggest\w*", r"\bcould\b", r"\bcan be\b", r"represents?", r"consistent with",
    r"compatible with", r"versus", r"\bvs\b", r"presumably", r"\bperhaps\b",
]
# End of a cue's scope inside a sentence.
BREAKERS = [
    r"\bbut\b", r"\bhowever\b", r"\balthough\b", r"\bthough\b", r"\bexcept\b",
    r"aside from", r"apart from", r"\bwhich\b", r"\bwhereas\b", r"\bwhile\b",
    r"\byet\b", r"there (?:is|are|has been|have been)", r"\bwith\b",
    r"\bdue to\b", r"\bsecondary to\b", r"\bbecause\b",
    r", (?:the|and the|there|this|these|which|likely|possibly|probably|with|again|now)\b",
    r"\band (?:the|there|again|now)\b",
    r":",
]

_c = lambda pats: [re.compile(p) for p in pats]
_MENTION_RE = {o: _c(p) for o, p in MENTIONS.items()}
_NEG_MENTION_RE = {o: _c(p) for o, p in NEG_MENTIONS.items()}
_UNC_MENTION_RE = {o: _c(p) for o, p in UNC_MENTIONS.items()}
_UNC_PRENEG_RE = _c(UNC_PRENEG)
_PSEUDO_RE = _c(PSEUDO_NEG)
_NEG_FWD_RE = _c(NEG_FWD)
_NEG_BWD_RE = _c(NEG_BWD)
_UNC_RE = _c(UNC_CUES)
_BREAK_RE = _c(BREAKERS)
_UNC_STOP_RE = _c(UNC_STOP)


def _normalise(text):
    """Lower case, hyphens/slashes as spaces, one space between words."""
    t = text.lower()
    t = re.sub(r"[-/]", " ", t)
    t = re.sub(r"[()\[\]\"]", " ", t)
    t = re.sub(r"\s*,\s*", ", ", t)
    return re.sub(r"\s+", " ", t).strip()


def sentences(text):
    """Split on . ; ? ! followed by space or end (not "1.5 cm"), and lines."""
    out = []
    for line in re.split(r"\n+", text or ""):
        for s in re.split(r"(?<=[.;?!])\s+|[.;?!]+$", line):
            s = _normalise(s.strip(" .;?!"))
            if s:
                out.append(s)
    return out


def _spans(regexes, s):
    return [(m.start(), m.end()) for r in regexes for m in r.finditer(s)]


def _overlaps(a, spans):
    return any(a[0] < b[1] and b[0] < a[1] for b in spans)


def _word_bounded(s, a, b):
    """A regex hit must start and end on word boundaries ("mass" not in
    "massive", "tube" not in "tuberculosis")."""
    return (a == 0 or not s[a - 1].isalnum()) and (b == len(s) or not s[b].isalnum())


def _sentence_labels(s):
    """Label the mentions of one normalised sentence: {obs: [values]}."""
    breaks = sorted(a for a, _ in _spans(_BREAK_RE, s))
    unc_pre = _spans(_UNC_PRENEG_RE, s)
    pseudo = _spans(_PSEUDO_RE, s)
    # "no pleural line to suggest pneumothorax": the "no" carries on
    skip = unc_pre + pseudo + [(m.start(), m.end()) for m in re.finditer(r"\bto (?:suggest|indicate)\b", s)
                               if re.search(r"\bno\b", s[:m.start()])]
    neg_fwd = [c for c in _spans(_NEG_FWD_RE, s)
               if _word_bounded(s, *c) and not _overlaps(c, skip)]
    neg_bwd = [c for c in _spans(_NEG_BWD_RE, s)
               if _word_bounded(s, *c) and not _overlaps(c, skip)]
    unc = [c for c in _spans(_UNC_RE, s) if _word_bounded(s, *c) and not _overlaps(c, skip)]
    # asserting uncertainty cues also end a forward negation ("no X,
    # possibly Y"); adjectives such as "suspicious" inside a negated list
    # ("no suspicious opacity or effusion") do not
    fwd_stops = sorted(set(breaks + [c[0] for c in _spans(_UNC_STOP_RE, s) if not _overlaps(c, skip)]))

    def clause(pos):
        lo = max([b for b in breaks if b <= pos] or [0])
        hi = min([b for b in breaks if b > pos] or [len(s)])
        return lo, hi

    def classify(a, b):
        lo, hi = clause(a)
        if any(lo <= c0 < hi for c0, _ in unc_pre):
            return UNC
        for c0, c1 in neg_fwd:
            if c0 < b and c0 >= lo and not any(c0 < x < a for x in fwd_stops if x != c0):
                if c1 <= a or c0 >= a:      # before the mention or inside it
                    return NEG
        for c0, _ in neg_bwd:
            if a < c0 < hi:
                return NEG
        if any(lo <= c0 < hi for c0, _ in unc):
            return UNC
        return POS

    found = {}
    taken = []
    for obs, regs in _UNC_MENTION_RE.items():
        for a, b in _spans(regs, s):
            if _word_bounded(s, a, b):
                v = classify(a, b)
                found.setdefault(obs, []).append(NEG if v == NEG else UNC)
                taken.append((obs, a, b))
    for obs, regs in _NEG_MENTION_RE.items():
        for a, b in _spans(regs, s):
            if _word_bounded(s, a, b) and not any(o == obs and _overlaps((a, b), [(x, y)]) for o, x, y in taken):
                found.setdefault(obs, []).append(NEG)
                taken.append((obs, a, b))
    for obs, regs in _MENTION_RE.items():
        for a, b in _spans(regs, s):
            if not _word_bounded(s, a, b):
                continue
            if any(o == obs and _overlaps((a, b), [(x, y)]) for o, x, y in taken):
                continue
            found.setdefault(obs, []).append(classify(a, b))
    return found


def _aggregate(values):
    """CheXpert: positive > uncertain > negative."""
    if POS in values:
        return POS
    if UNC in values:
        return UNC
    return NEG


def label(text):
    """Labels of one report: {observation: 1 | 0 | -1}, in OBSERVATIONS order."""
    seen = {}
    for s in sentences(text):
        for obs, vals in _sentence_labels(s).items():
            seen.setdefault(obs, []).extend(vals)
    out = {}
    if not any(_aggregate(seen[o]) in (POS, UNC) for o in PATHOLOGIES if o in seen):
        out["No Finding"] = POS
    for o in OBSERVATIONS[1:]:
        if o in seen:
            out[o] = _aggregate(seen[o])
    return out


def abnormal(labels):
    """True when any pathology (not No Finding, not Support Devices) is
    positive or uncertain."""
    return any(labels.get(o) in (POS, UNC) for o in PATHOLOGIES)


# ------------------------------------------------------ MeSH agreement ----
# Observation -> MeSH tags it is checked against (regexes): a tag matches
# when an entry matches it whole or up to a "/" ("Cardiac Shadow/enlarged"
# matches "Cardiac Shadow/enlarged/mild").  "Lung Opacity" also counts the
# opacity-like headings.
MESH_MAP = {
    "Cardiomegaly": ["Cardiomegaly", "Cardiac Shadow/enlarged", "Cardiac Shadow/borderline"],
    "Pleural Effusion": ["Pleural Effusion"],
    "Pneumothorax": ["Pneumothorax"],
    "Atelectasis": ["Pulmonary Atelectasis"],
    # CheXpert's Lung Opacity includes scarring and interstitial markings,
    # which the indexers file under Cicatrix and Markings
    "Lung Opacity": ["Opacity", "Infiltrate", "Airspace Disease", "Cicatrix/lung", "Markings/lung/interstitial", "Lung/interstitial"],
    "Lung Opacity (narrow)": ["Opacity", "Infiltrate", "Airspace Disease"],
    "Consolidation": ["Consolidation"],
    "Pneumonia": ["Pneumonia"],
    "Edema": ["Pulmonary Edema", "Edema", "Pulmonary Congestion"],
    "Fracture": ["Fractures, Bone"],
    # a round opacity or density is what CheXpert calls a nodule
    "Lung Lesion": ["Nodule", "Mass", r"(?:Opacity|Density)/(?:.*/)?round"],
    "Enlarged Cardiomediastinum": [r"Mediastinum/(?:.*/)?(?:prominent|enlarged|widened)"],
    "Support Devices": ["Catheters, Indwelling", "Surgical Instruments", "Implanted Medical Device",
                        "Medical Device", "Tube, Inserted", "Stents", "Sutures"],
}


def _mesh_has(tags, wanted):
    """A tag matches an entry (a regex) that covers it up to a "/" or its end."""
    return any(re.fullmatch(w + r"(?:/.*)?", t) for t in tags for w in wanted)


def report_text(rec):
    """The Findings and Impression sections joined, as the labeler reads them."""
    return " ".join(t for t in (rec.get("findings", ""), rec.get("impression", "")) if t)


def _prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def mesh_agreement(records):
    """{name: {precision, recall, f1, support, tp, fp, fn, f1_pos}}: labeler
    positive (1 or -1) against "MeSH tag present", per mapped observation,
    plus No Finding (1) vs MeSH "normal" and abnormal() vs MeSH not "normal".
    f1_pos counts only 1 as positive: the indexers rarely tag hedged
    findings, so the gap between f1 and f1_pos is the uncertain mentions."""
    names = list(MESH_MAP) + ["No Finding", "abnormal"]
    cnt = {n: [0, 0, 0, 0, 0] for n in names}      # tp, fp, fn, tp1, fp1
    for rec in records:
        tags = [m.strip() for m in rec.get("mesh", [])]
        normal = {t.split("/")[0] for t in tags} == {"normal"}
        lab = label(report_text(rec))
        for n in names:
            if n == "abnormal":
                truth, pred, pred1 = not normal, abnormal(lab), any(lab.get(o) == POS for o in PATHOLOGIES)
            elif n == "No Finding":
                truth, pred = normal, lab.get(n) == POS
                pred1 = pred
            else:
                truth = _mesh_has(tags, MESH_MAP[n])
                v = lab.get(n.split(" (")[0])
                pred, pred1 = v in (POS, UNC), v == POS
            c = cnt[n]
            c[0] += pred and truth
            c[1] += pred and not truth
            c[2] += truth and not pred
            c[3] += pred1 and truth
            c[4] += pred1 and not truth
    out = {}
    for n in names:
        tp, fp, fn, tp1, fp1 = cnt[n]
        p, r, f = _prf(tp, fp, fn)
        out[n] = {"precision": p, "recall": r, "f1": f, "support": tp + fn,
                  "tp": tp, "fp": fp, "fn": fn, "f1_pos": _prf(tp1, fp1, tp + fn - tp1)[2]}
    return out


def _read_jsonl(path, splits):
    with open(path, encoding="utf-8") as f:
        recs = [json.loads(l) for l in f if l.strip()]
    return [r for r in recs if r.get("split") in splits and report_text(r)]


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("text", nargs="*", help="report text(s) to label")
    ap.add_argument("--mesh-agreement", metavar="REPORTS_JSONL",
                    help="measure against the IU X-Ray MeSH tags")
    ap.add_argument("--split", default="test",
                    help="comma-separated splits for --mesh-agreement (default test)")
    ap.add_argument("--json", action="store_true", help="agreement table as JSON")
    a = ap.parse_args(argv)
    if a.mesh_agreement:
        recs = _read_jsonl(a.mesh_agreement, set(a.split.split(",")))
        rows = mesh_agreement(recs)
        if a.json:
            print(json.dumps(rows, indent=1))
            return 0
        print(f"# {len(recs)} studies with Findings or Impression, split {a.split}")
        print("| observation | precision | recall | F1 | support | F1 (1 only) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for n, m in rows.items():
            print(f"| {n} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} "
                  f"| {m['support']} | {m['f1_pos']:.3f} |")
        return 0
    if not a.text:
        ap.error("give TEXT or --mesh-agreement")
    for t in a.text:
        print(json.dumps(label(t)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
