#!/usr/bin/python3
"""Tests of models/train/labeler.py and models/train/metrics.py.

Run by tests/e2e/train_tools.sh one class at a time (one TAP line each);
by hand:  /usr/bin/python3 -m unittest -v tests/ref/test_train_tools.py
The expected values are written out by hand (the BLEU and ROUGE-L ones are
derived in the comments), not taken from the code under test.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

TOP = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TRAIN = os.path.join(TOP, "models", "train")
sys.path.insert(0, TRAIN)

import labeler  # noqa: E402
import metrics  # noqa: E402

# (text, expected labels).  The whole dict is compared: an extra mention
# or a missing "No Finding" fails too.
LABEL_CASES = [
    # negation, with scope over a list
    ("No pneumothorax.", {"No Finding": 1, "Pneumothorax": 0}),
    ("No XXXX pneumothorax.", {"No Finding": 1, "Pneumothorax": 0}),
    ("There is no pleural effusion or pneumothorax.",
     {"No Finding": 1, "Pleural Effusion": 0, "Pneumothorax": 0}),
    ("No focal consolidation, pleural effusion, or pneumothorax.",
     {"No Finding": 1, "Consolidation": 0, "Pleural Effusion": 0, "Pneumothorax": 0}),
    ("Negative for pneumothorax or pleural effusion.",
     {"No Finding": 1, "Pneumothorax": 0, "Pleural Effusion": 0}),
    ("No evidence of pneumonia.", {"No Finding": 1, "Pneumonia": 0}),
    ("The lungs are free of focal airspace disease.", {"No Finding": 1, "Lung Opacity": 0}),
    ("No focal consolidation, suspicious pulmonary opacity, large pleural effusion, or pneumothorax is identified.",
     {"No Finding": 1, "Consolidation": 0, "Lung Opacity": 0, "Pleural Effusion": 0, "Pneumothorax": 0}),
    # backward negation
    ("The previously seen pneumothorax has resolved.", {"No Finding": 1, "Pneumothorax": 0}),
    ("Pneumothorax is not seen.", {"No Finding": 1, "Pneumothorax": 0}),
    ("There is no pleural line to suggest pneumothorax.", {"No Finding": 1, "Pneumothorax": 0}),
    # negative phrases
    ("The heart is not enlarged.", {"No Finding": 1, "Cardiomegaly": 0}),
    ("Heart size is normal.", {"No Finding": 1, "Cardiomegaly": 0}),
    ("Normal heart size.", {"No Finding": 1, "Cardiomegaly": 0}),
    ("Heart size is upper limits of normal.", {"No Finding": 1, "Cardiomegaly": 0}),
    ("The lungs are clear.", {"No Finding": 1, "Lung Opacity": 0}),
    # positive
    ("Small right pleural effusion.", {"Pleural Effusion": 1}),
    ("Mild cardiomegaly.", {"Cardiomegaly": 1}),
    ("The heart size is mildly enlarged.", {"Cardiomegaly": 1}),
    ("Left basilar opacity.", {"Lung Opacity": 1}),
    ("Patchy airspace disease in the right lower lobe.", {"Lung Opacity": 1}),
    ("Pulmonary edema.", {"Edema": 1}),
    ("Old healed left rib fractures.", {"Fracture": 1}),
    ("2 cm nodule in the left upper lobe.", {"Lung Lesion": 1}),
    ("Widened mediastinum.", {"Enlarged Cardiomediastinum": 1}),
    ("Apical pleural thickening.", {"Pleural Other": 1}),
    ("Pericardial effusion.", {"No Finding": 1}),        # not a pleural effusion
    # uncertain
    ("Borderline cardiomegaly.", {"Cardiomegaly": -1}),
    ("Possible left lower lobe pneumonia.", {"Pneumonia": -1}),
    ("Atelectasis cannot be excluded.", {"Atelectasis": -1}),
    ("Findings may represent atelectasis.", {"Atelectasis": -1}),
    ("Left basilar atelectasis versus infiltrate.", {"Lung Opacity": -1, "Atelectasis": -1}),
    ("Questionable retrocardiac consolidation.", {"Consolidation": -1}),
    # scope ends: negation does not reach past the mention / an assertion
    ("Stable cardiomegaly without pulmonary edema.", {"Cardiomegaly": 1, "Edema": 0}),
    ("No pneumonia, possibly atelectasis.", {"Pneumonia": 0, "Atelectasis": -1}),
    # support devices do not stop "No Finding"
    ("Midline sternotomy XXXX.", {"No Finding": 1, "Support Devices": 1}),
    ("Right IJ central venous catheter with tip in the SVC.", {"No Finding": 1, "Support Devices": 1}),
    # XXXX tokens and nothing to label
    ("Normal chest x-XXXX.", {"No Finding": 1}),
    ("XXXX XXXX XXXX.", {"No Finding": 1}),
    ("No acute cardiopulmonary abnormality.", {"No Finding": 1}),
    # multi-sentence aggregation: positive > uncertain > negative
    ("No effusion. Small left effusion.", {"Pleural Effusion": 1}),
    ("Possible small effusion. No effusion on the right.", {"Pleural Effusion": -1}),
    ("Heart size normal. Lungs clear. No effusion. Mild atelectasis at the left base.",
     {"Cardiomegaly": 0, "Lung Opacity": 0, "Pleural Effusion": 0, "Atelectasis": 1}),
    ("Sternotomy wires. Normal heart size. Clear lungs.",
     {"No Finding": 1, "Cardiomegaly": 0, "Lung Opacity": 0, "Support Devices": 1}),
]


class Labeler(unittest.TestCase):
    def test_observations(self):
        self.assertEqual(len(labeler.OBSERVATIONS), 14)
        self.assertEqual(labeler.OBSERVATIONS[0], "No Finding")
        self.assertEqual(labeler.OBSERVATIONS[-1], "Support Devices")
        self.assertEqual(labeler.OBSERVATIONS[10], "Pleural Effusion")

    def test_cases(self):
        self.assertGreaterEqual(len(LABEL_CASES), 25)
        for text, want in LABEL_CASES:
            with self.subTest(text=text):
                self.assertEqual(labeler.label(text), want)

    def test_abnormal(self):
        self.assertFalse(labeler.abnormal(labeler.label("Heart size normal. Lungs clear.")))
        self.assertFalse(labeler.abnormal({"No Finding": 1, "Support Devices": 1}))
        self.assertFalse(labeler.abnormal({"Pneumothorax": 0}))
        self.assertTrue(labeler.abnormal({"Cardiomegaly": -1}))
        self.assertTrue(labeler.abnormal(labeler.label("Small left effusion.")))

    def test_no_finding_rule(self):
        # No Finding is present exactly when abnormal() is false
        for text, _ in LABEL_CASES:
            lab = labeler.label(text)
            self.assertEqual(lab.get("No Finding") == 1, not labeler.abnormal(lab), text)

    def test_cli(self):
        out = subprocess.run([sys.executable, os.path.join(TRAIN, "labeler.py"),
                              "No XXXX pneumothorax.", "Mild cardiomegaly."],
                             check=True, capture_output=True, text=True).stdout.splitlines()
        self.assertEqual([json.loads(l) for l in out],
                         [{"No Finding": 1, "Pneumothorax": 0}, {"Cardiomegaly": 1}])


class Tokenize(unittest.TestCase):
    def test_tokens(self):
        T = metrics.tokenize
        self.assertEqual(T("No XXXX pneumothorax."), ["no", "xxxx", "pneumothorax"])
        self.assertEqual(T("Normal chest x-XXXX."), ["normal", "chest", "x-xxxx"])
        self.assertEqual(T("Heart size: normal; lungs (clear)!"),
                         ["heart", "size", "normal", "lungs", "clear"])
        self.assertEqual(T("A 1.5 cm nodule, e.g. here... -- done?"),
                         ["a", "1.5", "cm", "nodule", "e.g.", "here", "done"])
        self.assertEqual(T("The heart isn't enlarged"), ["the", "heart", "is", "n't", "enlarged"])
        self.assertEqual(T("  \n "), [])


class Bleu(unittest.TestCase):
    def close(self, got, want, places=6):
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertAlmostEqual(g, w, places=places)

    def test_perfect(self):
        self.close(metrics.bleu(["The heart is normal."], [["the heart is normal"]]), [1, 1, 1, 1])

    def test_partial_no_brevity(self):
        # cand "the heart size is normal today" (6), ref "heart size is normal" (4)
        # matches: 1-grams 4/6, 2-grams 3/5, 3-grams 2/4, 4-grams 1/3; 6 > 4, no BP
        # B1 = 2/3, B2 = sqrt(2/3*3/5) = sqrt(.4), B3 = (.4*.5)^(1/3), B4 = (.2/3)^(1/4)
        self.close(metrics.bleu(["the heart size is normal today"], [["heart size is normal"]]),
                   [2 / 3, math.sqrt(0.4), 0.2 ** (1 / 3), (0.2 / 3) ** 0.25])

    def test_brevity_penalty(self):
        # cand "heart size is normal" (4), ref of 6 words containing it:
        # every precision is 1, BP = exp(1 - 6/4) = exp(-0.5) = 0.60653
        want = math.exp(-0.5)
        self.close(metrics.bleu(["heart size is normal"], [["the heart size is normal today"]]), [want] * 4)

    def test_clipping(self):
        # "the" x4 against a reference with one "the": 1-gram precision 1/4,
        # no 2-gram "the the" in the reference: B2..B4 ~ 0
        b = metrics.bleu(["the the the the"], [["the heart is normal"]])
        self.assertAlmostEqual(b[0], 0.25, places=6)
        self.assertLess(b[1], 1e-6)

    def test_zero_match(self):
        b = metrics.bleu(["no effusion"], [["heart enlarged"]])
        self.assertTrue(all(0 <= x < 1e-10 for x in b), b)

    def test_corpus_closest(self):
        # cand1 (4 words) refs of 4 and 10 words: closest 4; cand2 (3 words)
        # ref 4 words.  All n-grams match: corpus precisions 1; testlen 7,
        # reflen 8, BP = exp(1 - 8/7) = 0.86688 for every n.  (Averaging
        # sentence scores would give (1 + exp(1-4/3))/2 = 0.858; the average
        # reference length would give reflen 11.)
        want = math.exp(1 - 8 / 7)
        self.close(metrics.bleu(["heart size is normal", "lungs are clear"],
                                [["heart size is normal", "the heart size is normal and the lungs are clear"],
                                 ["the lungs are clear"]]), [want] * 4)

    def test_closest_tie_takes_shorter(self):
        # cand 5 words, refs 4 and 6 words: tie, the shorter (4) is taken, no BP
        self.close(metrics.bleu(["a b c d e"], [["a b c d", "a b c d e f"]]), [1, 1, 1, 1])

    def test_mismatch(self):
        with self.assertRaises(ValueError):
            metrics.bleu(["a"], [])


class Rouge(unittest.TestCase):
    def test_perfect(self):
        self.assertEqual(metrics.rouge_l(["Heart size is normal."], [["heart size is normal"]]), 1.0)

    def test_partial(self):
        # cand "the heart is normal" (4), ref "the heart size is normal" (5):
        # LCS 4, P = 1, R = 0.8, F = 2.44*0.8/(0.8 + 1.44) = 0.871428...
        self.assertAlmostEqual(metrics.rouge_l(["the heart is normal"], [["the heart size is normal"]]),
                               1.952 / 2.24, places=9)

    def test_max_p_and_r_separately(self):
        # cand "a b c d"; ref "a b": P .5 R 1; ref "a b c d e f g h": P 1 R .5.
        # pycocoevalcap takes max P = 1 and max R = 1 -> F = 1 (the best
        # single-reference F would be 0.709)
        self.assertAlmostEqual(metrics.rouge_l(["a b c d"], [["a b", "a b c d e f g h"]]), 1.0, places=12)

    def test_zero_and_mean(self):
        self.assertEqual(metrics.rouge_l(["no effusion"], [["heart enlarged"]]), 0.0)
        self.assertEqual(metrics.rouge_l([""], [["heart enlarged"]]), 0.0)
        # mean of 0.871428... and 0
        self.assertAlmostEqual(metrics.rouge_l(["the heart is normal", "no effusion"],
                                               [["the heart size is normal"], ["heart enlarged"]]),
                               1.952 / 2.24 / 2, places=9)

    def test_cli(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write(json.dumps({"candidate": "heart size is normal",
                                "references": ["the heart size is normal today"]}) + "\n")
        try:
            out = subprocess.run([sys.executable, os.path.join(TRAIN, "metrics.py"), "--json", f.name],
                                 check=True, capture_output=True, text=True).stdout
        finally:
            os.unlink(f.name)
        r = json.loads(out)
        self.assertEqual(r["n"], 1)
        self.assertAlmostEqual(r["bleu4"], math.exp(-0.5), places=6)
        # LCS 4, P 1, R 4/6: F = 2.44*(2/3)/(2/3 + 1.44) = 0.77215...
        self.assertAlmostEqual(r["rouge_l"], 2.44 * (2 / 3) / (2 / 3 + 1.44), places=9)


# F1 floors on the IU X-Ray test split, a little below what was measured
# (models/train/LABELER.md): labeler positive (1 or -1) vs MeSH tag.
MESH_FLOORS = {
    "Cardiomegaly": 0.93, "Pleural Effusion": 0.80, "Atelectasis": 0.80,
    "Lung Opacity": 0.92, "Edema": 0.85, "Fracture": 0.80, "Lung Lesion": 0.80,
    "Support Devices": 0.78, "No Finding": 0.68, "abnormal": 0.67,
}


class MeshAgreement(unittest.TestCase):
    def test_test_split(self):
        path = os.path.join(os.environ.get("SHARED_DATA", os.path.join(TOP, "..", "shared", "data")),
                            "iuxray", "reports.jsonl")
        if not os.path.exists(path):
            self.skipTest(f"{path} missing")
        recs = labeler._read_jsonl(path, {"test"})
        self.assertGreater(len(recs), 600)
        rows = labeler.mesh_agreement(recs)
        for name, floor in MESH_FLOORS.items():
            with self.subTest(name=name):
                self.assertGreaterEqual(rows[name]["f1"], floor, rows[name])
        # "abnormal" must be precise: a pathology the labeler finds is one
        # the indexers tagged something for
        self.assertGreaterEqual(rows["abnormal"]["precision"], 0.95)


class DataPrep(unittest.TestCase):
    """data.py: de-identification clean-up and the pseudo-pair groups."""

    def setUp(self):
        import data
        self.data = data

    def test_clean(self):
        c = self.data.clean
        self.assertEqual(c("Chest x-XXXX. Normal pulmonary XXXX."),
                         "Chest x-ray. Normal pulmonary vasculature.")
        self.assertEqual(c("No XXXX of pneumothorax. No XXXX focal consolidation."),
                         "No evidence of pneumothorax. No focal consolidation.")
        # a sentence that still holds the token is dropped, not guessed
        self.assertEqual(c("Heart size is XXXX. Lungs are clear."), "Lungs are clear.")
        self.assertEqual(c("Comparison XXXX, XXXX."), "")
        self.assertEqual(c("  Lungs   are clear.  "), "Lungs are clear.")

    def test_pool_group(self):
        g = lambda f, i: self.data.pool_group(f, i, labeler)  # noqa: E731
        self.assertEqual(g("The lungs are clear. Heart size normal.",
                           "No acute cardiopulmonary abnormality."), "normal")
        self.assertEqual(g("Focal consolidation in the right lower lobe.",
                           "Right lower lobe pneumonia."), "bacterial")
        self.assertEqual(g("Patchy opacity at the left base.",
                           "Left basilar airspace disease."), "viral")
        # negated findings make a normal report; scarring, a short
        # impression or a non-airspace finding give no pseudo-pair
        self.assertIsNone(g("Left apical scarring.", "Stable left apical scarring opacity."))
        self.assertEqual(g("Lungs are clear.", "No pneumonia or consolidation."), "normal")
        self.assertIsNone(g("Lungs are clear.", "1."))
        self.assertIsNone(g("Mild cardiomegaly.", "Cardiomegaly without acute disease."))

    def test_typical(self):
        n = ("Lungs clear.", "No acute disease.")
        pool = {"normal": [n] * 3 + [("Other.", "Normal chest.")] + [("A%d" % k, "B") for k in range(30)],
                "viral": [("F%02d" % k, "Right basilar airspace disease.") for k in range(40)],
                "bacterial": []}
        t = self.data.typical(pool)
        self.assertEqual(len(t["normal"]), self.data.POOL_SIZE)
        self.assertEqual(t["normal"][0], n)           # the most frequent first
        self.assertEqual(len(t["viral"]), self.data.POOL_SIZE)
        self.assertEqual(t["bacterial"], [])


if __name__ == "__main__":
    unittest.main()
