#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""mktokdata - test vectors for src/infer/tokenizer.c, from references
that share no code with it.

  mktokdata.py [--reports FILE] [--out DIR] all   write DIR/*.txt fixtures
  mktokdata.py ctable                             print the C Unicode tables

Fixtures (text, committed under tests/data/tokenizer/):
  spm_bpe.txt      SentencePiece BPE model (byte_fallback) trained here with
                   python3-sentencepiece; expected ids = sentencepiece's own
                   encode(), which llama.cpp's SPM tokenizer reproduces.
  spm_unigram.txt  SentencePiece unigram model.  llama.cpp runs its merge
                   algorithm on every "llama" vocabulary, so the expected
                   ids come from a Python transcription of that algorithm;
                   how often it agrees with sentencepiece's Viterbi is
                   recorded in the file header.
  bpe.txt          byte-level BPE (GPT-2 byte map) trained here; expected
                   ids from the classic GPT-2 encoder.py algorithm (apply
                   the lowest-ranked pair everywhere, repeat) after a
                   Python `re` pre-split with explicit Unicode classes.

Format: "model", "flags" and "token TYPE SCORE HEX" lines give the vocab
(as llama.cpp's converter would put it in a GGUF), "merge HEX" the BPE
merges, then "case FLAGS HEX" / "ids ..." pairs (FLAGS 1 = add_special).
"""
import argparse
import heapq
import json
import os
import re
import sys
import tempfile
import unicodedata

REPORTS = "/work/shared/data/iuxray/reports.jsonl"

# A few sentences per script so the tiny models learn some non-ASCII pieces.
MULTI = [
    "Le cœur est de taille normale, pas d'épanchement pleural.",
    "Keine Pneumonie, Herzgröße normal, Zwerchfell glatt begrenzt, Straße.",
    "Η καρδιά έχει φυσιολογικό μέγεθος. Δεν υπάρχει πλευριτική συλλογή.",
    "Сердце нормальных размеров. Плевральный выпот не определяется.",
    "心脏大小正常。未见胸腔积液。肺野清晰。",
    "Zürich, Müller, Ärzte, Öl, naïve café résumé façade über.",
]

# Runs of spaces, so the vocabularies get multi-space pieces and the
# \s+(?!\S) rule of the GPT-2 split matters.
SPACES = [
    "    four spaces before",
    "   three before and after   ",
    "  two  spaces  between  words  ",
    "ends with spaces    ",
    "the patient's heart's size; it's there's don't we're they've I'm "
    "we'll he'd",
]

# Strings every fixture is tested on (plus report sentences, below).
CURATED = [
    "",
    " ",
    "  ",
    "   ",
    "\n",
    "\n\n",
    " \n ",
    "\t",
    "a",
    "Hello world",
    " Hello world",
    "Hello world ",
    "Hello  world",
    "Hello   world   ",
    "  leading and trailing  ",
    "No acute cardiopulmonary abnormality.",
    "The heart is normal in size. The mediastinum is unremarkable.",
    "Heart size normal. Lungs are clear. XXXX are normal. No pneumonia, "
    "effusions, edema, pneumothorax, adenopathy, nodules or masses.",
    "Stable XXXX sternotomy wires. Calcified granuloma in the right upper "
    "lobe.",
    "There are no XXXX of a pleural effusion.",
    "XXXX XXXX XXXX",
    "x-XXXX",
    "Findings:\nThe lungs are clear.\nImpression:\nNormal chest.",
    "line one\nline two\n\nline four\n",
    "1. No acute disease. 2. Stable cardiomegaly.",
    "T8 vertebral body, 12 mm nodule, 3.5 cm, 2014-03-07, 100%",
    "1234567890 0 00 007 3.14159 -42 +7 1e10",
    "Punctuation: ,.;:!?()[]{}<>\"'`~@#$%^&*-_=+\\|/",
    "it's we're they've I'm we'll he'd don't",
    "IT'S WE'RE 'S 'll ''",
    "USER: <image>\nDescribe the findings.\nASSISTANT:",
    "café résumé naïve",
    "Zürich Müller Straße groß ß",
    "Ελληνικά: η καρδιά",
    "русский текст, сердце",
    "中文测试 心脏大小正常",
    "emoji 🙂 and 🫁 lungs 👍🏽",
    "mixed é\u0301 combining",
    "\u00a0non-breaking\u00a0space",
    "tab\tseparated\tvalues",
    "a\u2028b\u3000c",
    "▁already escaped▁marker",
    "<s> literal </s> tags <unk>",
    "trailing newline\n",
    "    indented",
    "ﬁ ligature Ⅻ roman ² superscript ½",
    # equal scores/ranks: the left-most pair must merge first
    "aaaa", "aaa", "lll", "llll", "XXX", "XXXXX", "ooooo", "eee",
    "sss", "mmmm", "1111", "....", "----", "  ", "x   ", "x    y",
    "  \n  ", "a \n b", "\n   \n",
]


def hexs(b):
    return b.hex() if b else "-"


# ------------------------------------------------------------ corpus

def load_reports(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            for k in ("findings", "impression", "indication"):
                v = r.get(k)
                if v:
                    out.append(v.strip())
    return out


def corpus_and_tests(path):
    sents = load_reports(path)
    # train on the first part, test on sentences from the held-out tail
    n = len(sents)
    train = sents[: int(n * 0.8)] + MULTI * 20 + SPACES * 50
    tail = sents[int(n * 0.8):]
    tests = list(CURATED)
    seen = set(tests)
    for s in tail[::max(1, len(tail) // 120)]:
        if s not in seen:
            seen.add(s)
            tests.append(s)
    tests += MULTI
    return train, tests


# ------------------------------------------------------- SentencePiece

def train_spm(train, model_type, vocab_size, tmp):
    import sentencepiece as spm
    inp = os.path.join(tmp, "corpus.txt")
    with open(inp, "w", encoding="utf-8") as f:
        for s in train:
            f.write(s.replace("\n", " ") + "\n")
    prefix = os.path.join(tmp, model_type)
    spm.SentencePieceTrainer.train(
        input=inp, model_prefix=prefix, model_type=model_type,
        vocab_size=vocab_size, byte_fallback=True,
        character_coverage=0.9995, normalization_rule_name="identity",
        add_dummy_prefix=True, remove_extra_whitespaces=False,
        split_digits=True, allow_whitespace_only_pieces=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1,
        minloglevel=2)
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


def spm_vocab(sp):
    """Pieces, scores and types as llama.cpp's converter writes them."""
    toks = []
    for i in range(sp.get_piece_size()):
        if sp.is_unknown(i):
            ty = 2
        elif sp.is_control(i):
            ty = 3
        elif sp.is_unused(i):
            ty = 5
        elif sp.is_byte(i):
            ty = 6
        else:
            ty = 1
        toks.append((sp.id_to_piece(i).encode("utf-8"), sp.get_score(i), ty))
    return toks


def llama_spm_encode(toks, text):
    """llama.cpp llm_tokenizer_spm, transcribed: bigram merging by score,
    left-most first on ties, byte fallback.  Used for unigram vocabs."""
    ids = {t: i for i, (t, _, _) in enumerate(toks)}
    b = (" " + text).replace(" ", "\u2581").encode("utf-8") if text else b""
    if not b:
        return []
    syms = []          # [start, n, prev, next]
    off = 0
    lens = [1] * 12 + [2, 2, 3, 4]
    while off < len(b):
        n = min(lens[b[off] >> 4], len(b) - off)
        syms.append([off, n, len(syms) - 1, -1 if off + n == len(b)
                     else len(syms) + 1])
        off += n
    heap = []

    def add(l, r):
        if l == -1 or r == -1:
            return
        s = b[syms[l][0]: syms[l][0] + syms[l][1] + syms[r][1]]
        if s in ids:
            heapq.heappush(heap, (-toks[ids[s]][1], l, r, len(s)))

    for i in range(1, len(syms)):
        add(i - 1, i)
    while heap:
        _, l, r, size = heapq.heappop(heap)
        L, R = syms[l], syms[r]
        if L[1] == 0 or R[1] == 0 or L[1] + R[1] != size:
            continue
        L[1] += R[1]
        R[1] = 0
        L[3] = R[3]
        if R[3] >= 0:
            syms[R[3]][2] = l
        add(L[2], l)
        add(l, L[3])
    out = []
    i = 0
    while i != -1:
        s = b[syms[i][0]: syms[i][0] + syms[i][1]]
        if s in ids:
            out.append(ids[s])
        else:
            out.extend(ids[("<0x%02X>" % c).encode()] for c in s)
        i = syms[i][3]
    return out


def write_fixture(path, header, model, flags, toks, merges, cases):
    with open(path, "w", encoding="ascii") as f:
        f.write("# generated by tests/tools/mktokdata.py; do not edit\n")
        for h in header:
            f.write("# %s\n" % h)
        f.write("model %s\n" % model)
        f.write("flags %s\n" % " ".join("%s=%d" % kv for kv in flags))
        for t, score, ty in toks:
            f.write("token %d %r %s\n" % (ty, float(score), hexs(t)))
        for m in merges:
            f.write("merge %s\n" % hexs(m))
        for fl, text, ids in cases:
            f.write("case %d %s\n" % (fl, hexs(text.encode("utf-8"))))
            f.write("ids%s\n" % "".join(" %d" % i for i in ids))


SPM_FLAGS = [("bos", 1), ("eos", 2), ("unk", 0), ("add_bos", 1),
             ("add_space_prefix", 1), ("clean_spaces", 0)]


def make_spm(train, tests, outdir):
    with tempfile.TemporaryDirectory() as tmp:
        sp = train_spm(train, "bpe", 1000, tmp)
        toks = spm_vocab(sp)
        cases = []
        for s in tests:
            cases.append((0, s, sp.encode(s)))
        for s in tests[:12]:
            cases.append((1, s, [1] + sp.encode(s)))
        # the C side must equal sentencepiece exactly; so must our port
        bad = sum(llama_spm_encode(toks, s) != ids for _, s, ids in cases
                  if _ == 0)
        if bad:
            sys.exit("mktokdata: llama.cpp SPM port disagrees with "
                     "sentencepiece BPE on %d strings" % bad)
        write_fixture(os.path.join(outdir, "spm_bpe.txt"),
                      ["SentencePiece %s, model_type=bpe, vocab 1000, "
                       "byte_fallback" % sp_version(),
                       "expected ids: sentencepiece encode()"],
                      "spm", SPM_FLAGS, toks, [], cases)

        sp = train_spm(train, "unigram", 1000, tmp)
        toks = spm_vocab(sp)
        cases, agree = [], 0
        for s in tests:
            ids = llama_spm_encode(toks, s)
            agree += ids == sp.encode(s)
            cases.append((0, s, ids))
        write_fixture(os.path.join(outdir, "spm_unigram.txt"),
                      ["SentencePiece %s, model_type=unigram, vocab 1000, "
                       "byte_fallback" % sp_version(),
                       "expected ids: llama.cpp's merge algorithm (Python "
                       "port in mktokdata.py)",
                       "sentencepiece's Viterbi gives the same ids for "
                       "%d of %d strings" % (agree, len(tests))],
                      "spm", SPM_FLAGS, toks, [], cases)
        print("spm: unigram agrees with sentencepiece on %d/%d" %
              (agree, len(tests)))


def sp_version():
    import sentencepiece
    return sentencepiece.__version__


# ------------------------------------------------------------ GPT-2 BPE

def bytes_to_unicode():
    """GPT-2 encoder.py's table."""
    bs = (list(range(ord("!"), ord("~") + 1)) +
          list(range(ord("\u00a1"), ord("\u00ac") + 1)) +
          list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs))), bs


def ranges(pred):
    r, start = [], None
    for c in range(0x110000):
        ok = pred(c)
        if ok and start is None:
            start = c
        if not ok and start is not None:
            r.append((start, c - 1))
            start = None
    if start is not None:
        r.append((start, 0x10FFFF))
    return r


def letter_ranges():
    return ranges(lambda c: unicodedata.category(chr(c)).startswith("L"))


def number_ranges():
    return ranges(lambda c: unicodedata.category(chr(c)).startswith("N"))


# Unicode White_Space (what llama.cpp calls whitespace; Python's \s and
# str.isspace() also take U+001C..U+001F, so they are not used).
WS = [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0),
      (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029),
      (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)]


def cls(rs):
    return "".join("\\U%08x-\\U%08x" % r for r in rs)


def gpt2_regex():
    L, N, S = cls(letter_ranges()), cls(number_ranges()), cls(WS)
    pat = (r"'s|'t|'re|'ve|'m|'ll|'d| ?[%s]+| ?[%s]+| ?[^%s%s%s]+"
           r"|[%s]+(?![^%s])|[%s]+" % (L, N, S, L, N, S, S, S))
    return re.compile(pat)


def gpt2_bpe(word, ranks):
    """encoder.py's bpe(): merge the lowest-ranked pair everywhere."""
    word = list(word)
    while len(word) > 1:
        pairs = set(zip(word, word[1:]))
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        new, i = [], 0
        while i < len(word):
            if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                new.append(word[i] + word[i + 1])
                i += 2
            else:
                new.append(word[i])
                i += 1
        word = new
    return word


def train_bpe(train, rx, b2u, n_merges):
    from collections import Counter
    words = Counter()
    for s in train:
        for w in rx.findall(s):
            words["".join(b2u[b] for b in w.encode("utf-8"))] += 1
    vocab = {tuple(w): c for w, c in words.items()}
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        for w, c in vocab.items():
            for p in zip(w, w[1:]):
                pairs[p] += c
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        nv = {}
        for w, c in vocab.items():
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            nv[tuple(out)] = nv.get(tuple(out), 0) + c
        vocab = nv
    return merges


def make_bpe(train, tests, outdir):
    rx = gpt2_regex()
    b2u, order = bytes_to_unicode()
    merges = train_bpe(train, rx, b2u, 600)
    tokens = [b2u[b] for b in order]
    seen = set(tokens)
    for a, b in merges:
        if a + b not in seen:
            seen.add(a + b)
            tokens.append(a + b)
    tokens.append("<|endoftext|>")
    ids = {t: i for i, t in enumerate(tokens)}
    ranks = {m: i for i, m in enumerate(merges)}
    toks = [(t.encode("utf-8"), 0.0, 3 if t == "<|endoftext|>" else 1)
            for t in tokens]
    cases = []
    for s in tests:
        out = []
        for w in rx.findall(s):
            enc = "".join(b2u[b] for b in w.encode("utf-8"))
            out.extend(ids[p] for p in gpt2_bpe(enc, ranks))
        cases.append((0, s, out))
    eot = ids["<|endoftext|>"]
    write_fixture(os.path.join(outdir, "bpe.txt"),
                  ["byte-level BPE, %d merges trained on the reports" %
                   len(merges),
                   "expected ids: GPT-2 encoder.py algorithm, Python re "
                   "pre-split (Unicode %s classes)" %
                   unicodedata.unidata_version],
                  "bpe", [("bos", eot), ("eos", eot), ("unk", -1),
                          ("add_bos", 0), ("add_space_prefix", 0),
                          ("clean_spaces", 1)],
                  toks, [(a + " " + b).encode("utf-8") for a, b in merges],
                  cases)


# ------------------------------------------------------------- C table

def emit_table(name, rs):
    print("static const struct urange %s[] = {" % name)
    line = "\t"
    for a, b in rs:
        item = "{0x%x, 0x%x}," % (a, b)
        if len(line.expandtabs()) + len(item) + 1 > 78:
            print(line.rstrip())
            line = "\t"
        line += item + " "
    print(line.rstrip())
    print("};")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", default=REPORTS)
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data",
        "tokenizer"))
    ap.add_argument("what", choices=["all", "ctable"])
    a = ap.parse_args()
    if a.what == "ctable":
        emit_table("uc_letter", letter_ranges())
        emit_table("uc_number", number_ranges())
        return
    train, tests = corpus_and_tests(a.reports)
    os.makedirs(a.out, exist_ok=True)
    make_spm(train, tests, a.out)
    make_bpe(train, tests, a.out)


if __name__ == "__main__":
    main()
