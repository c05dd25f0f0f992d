#!/usr/bin/python3
"""BLEU-1..4 and ROUGE-L as the report-generation literature computes them.

Why: papers on IU X-Ray / MIMIC-CXR report generation quote the numbers of
pycocoevalcap (the MS COCO caption evaluation code).  It needs Java for its
tokenizer and is not installed here, so this file reimplements the parts we
use with the standard library, keeping its arithmetic so that our numbers
can be put next to published ones.

Tokenisation (tokenize): pycocoevalcap runs Stanford CoreNLP's PTBTokenizer
(-lowerCase -preserveLines) and then drops the tokens
    ''  '  ``  `  -LRB-  -RRB-  -LCB-  -RCB-  .  ?  !  ,  :  -  --  ...  ;
We approximate the PTB tokenizer with regular expressions, in this order:
  1. lower-case; line breaks become spaces;
  2. "..." (three or more dots) becomes a token of its own;
  3. each of  " ; ? ! ( ) [ ] { } < > @ # $ %  becomes a token of its own;
  4. "," and ":" become tokens of their own unless they sit between two
     digits ("1,000", "10:30" stay whole);
  5. "--" becomes a token of its own; a hyphen inside a word stays
     ("x-xxxx", "well-expanded" are one token, as in PTB);
  6. clitics are split off as PTB does: "n't", "'s", "'re", "'ve", "'ll",
     "'d", "'m"; any other leading or trailing apostrophe is its own token;
  7. after splitting on whitespace, a token that ends in "." loses it to a
     separate "." token, unless the token is dots only or an abbreviation
     made of single letters and dots ("e.g.", "i.e."); a "." inside a token
     ("1.5", "t.11") stays;
  8. the tokens of pycocoevalcap's list above are removed, and so are
     " ( ) [ ] { } (PTB writes brackets as -LRB- and so on, quotes as `` and
     '', which the list removes; we treat the square brackets, -LSB- and
     -RSB- in PTB, the same way).
Known differences from CoreNLP: no special cases for other abbreviations
("dr.", "vs." lose their dot), "/" and "&" stay inside tokens as PTB mostly
does, and "<" ">" are split off.

BLEU (bleu): pycocoevalcap's BleuScorer with option "closest": for each
candidate, n-gram counts clipped by the maximum count in any one reference;
clipped counts and candidate n-gram totals summed over the corpus;
BLEU-n = (prod_{k<=n} (correct_k + 1e-15) / (guess_k + 1e-9)) ** (1/n);
the reference length of each candidate is that of the reference closest in
length (the shorter one on a tie), summed over the corpus, and when
ratio = (testlen + 1e-15) / (reflen + 1e-9) < 1 every BLEU-n is multiplied
by exp(1 - 1/ratio).

ROUGE-L (rouge_l): pycocoevalcap's Rouge: for each candidate, the LCS of
tokens with each reference; precision = LCS/len(candidate) and recall =
LCS/len(reference) are each maximised over the references separately, then
F = (1 + b^2) P R / (R + b^2 P) with b = 1.2 (0 when P or R is 0); the mean
over candidates.  An empty text counts as one empty token, as in
pycocoevalcap's split(" ").
"""

import json
import math
import re
import sys
from collections import Counter

PUNCTUATIONS = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
                ".", "?", "!", ",", ":", "-", "--", "...", ";"}
# PTB escapes that we never produce, lower-cased, plus the raw characters
# PTB would have escaped into the list above.
_DROP = PUNCTUATIONS | {p.lower() for p in PUNCTUATIONS} | {'"', "(", ")", "[", "]", "{", "}"}
_ABBREV = re.compile(r"^(?:[a-z]\.){2,}$")


def tokenize(text):
    """PTB-style tokens of text, lower case, pycocoevalcap's punctuation
    removed (see the module docstring for the exact rules)."""
    s = (text or "").lower().replace("\r", " ").replace("\n", " ")
    s = re.sub(r"\.{3,}", " ... ", s)
    s = re.sub(r'([";?!()\[\]{}<>@#$%])', r" \1 ", s)
    s = re.sub(r"(?<!\d)[,:]|[,:](?!\d)", lambda m: " " + m.group(0) + " ", s)
    s = s.replace("--", " -- ")
    s = re.sub(r"([a-z])(n't)\b", r"\1 \2", s)
    s = re.sub(r"(?<=\w)('s|'re|'ve|'ll|'d|'m)\b", r" \1", s)
    s = re.sub(r"(^|\s)'(?!(?:s|re|ve|ll|d|m)\b)(?=\S)", r"\1' ", s)
    s = re.sub(r"(?<=[^\s'])'(\s|$)", r" '\1", s)
    out = []
    for t in s.split():
        if len(t) > 1 and t.endswith(".") and not _ABBREV.match(t) and t.strip("."):
            out.extend((t[:-1], "."))
        else:
            out.append(t)
    return [t for t in out if t not in _DROP]


def _ngrams(tokens, n):
    c = Counter()
    for k in range(1, n + 1):
        for i in range(len(tokens) - k + 1):
            c[tuple(tokens[i:i + k])] += 1
    return c


def bleu(cands, refs, n=4):
    """Corpus BLEU-1..n, pycocoevalcap's arithmetic (see module docstring).
    cands: list of texts; refs: one list of reference texts per candidate."""
    if len(cands) != len(refs):
        raise ValueError("one list of references per candidate")
    small, tiny = 1e-9, 1e-15
    correct, guess = [0] * n, [0] * n
    testlen = reflen = 0
    for cand, rs in zip(cands, refs):
        if not rs:
            raise ValueError("every candidate needs a reference")
        toks = tokenize(cand)
        rtoks = [tokenize(r) for r in rs]
        maxref = Counter()
        for rt in rtoks:
            for g, c in _ngrams(rt, n).items():
                maxref[g] = max(maxref[g], c)
        for g, c in _ngrams(toks, n).items():
            correct[len(g) - 1] += min(maxref.get(g, 0), c)
        for k in range(1, n + 1):
            guess[k - 1] += max(0, len(toks) - k + 1)
        testlen += len(toks)
        reflen += min((abs(len(rt) - len(toks)), len(rt)) for rt in rtoks)[1]
    scores = []
    ratio = (testlen + tiny) / (reflen + small)
    for nn in range(1, n + 1):
        b = 1.0
        for k in range(nn):
            b *= (correct[k] + tiny) / (guess[k] + small)
        b **= 1.0 / nn
        if ratio < 1:
            b *= math.exp(1 - 1 / ratio)
        scores.append(b)
    return scores


def _lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l_one(cand, refs, beta=1.2):
    """ROUGE-L F of one candidate against its references."""
    c = tokenize(cand) or [""]
    prec, rec = [], []
    for r in refs:
        rt = tokenize(r) or [""]
        l = _lcs(rt, c)
        prec.append(l / len(c))
        rec.append(l / len(rt))
    p, r = max(prec), max(rec)
    if p == 0 or r == 0:
        return 0.0
    return (1 + beta ** 2) * p * r / (r + beta ** 2 * p)


def rouge_l(cands, refs):
    """Mean ROUGE-L over candidates (pycocoevalcap's Rouge)."""
    if len(cands) != len(refs) or not cands:
        raise ValueError("one list of references per candidate, at least one")
    return sum(rouge_l_one(c, r) for c, r in zip(cands, refs)) / len(cands)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(
        description='BLEU-1..4 and ROUGE-L of a JSONL file of {"candidate": ..., "references": [...]}.')
    ap.add_argument("jsonl", help='file ("-" for stdin)')
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args(argv)
    f = sys.stdin if a.jsonl == "-" else open(a.jsonl, encoding="utf-8")
    cands, refs = [], []
    with f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                refs.append(rec["references"] if isinstance(rec["references"], list) else [rec["references"]])
                cands.append(rec["candidate"])
    b = bleu(cands, refs)
    r = rouge_l(cands, refs)
    res = {"n": len(cands), "bleu1": b[0], "bleu2": b[1], "bleu3": b[2], "bleu4": b[3], "rouge_l": r}
    if a.json:
        print(json.dumps(res))
    else:
        print(f"n={len(cands)} BLEU-1={b[0]:.4f} BLEU-2={b[1]:.4f} BLEU-3={b[2]:.4f} "
              f"BLEU-4={b[3]:.4f} ROUGE-L={r:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
