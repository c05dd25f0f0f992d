#!/usr/bin/python3
"""Test fixture generator for the radscribe e2e tests.

Builds DICOM files at test time from the PNG radiographs in the shared data
folder (env SHARED_DATA, default <this dir>/../../../shared/data) or, when
that is absent, from the sample PNGs in tests/sample.  No binary DICOM is kept
in the repository.  Needs /usr/bin/python3 with pydicom and numpy; JPEG output
uses DCMTK's dcmcjpeg.

Sub-commands (all print the paths of the files they wrote, one per line):

  study OUTDIR [--modality DX|CR] [--mono1 frontal|lateral|none]
               [--jpeg frontal|lateral|none] [--study-uid UID]
               [--pair iuxray:ID | covid:PATIENT | sample] [--patient-id ID]
      Two-view chest study: OUTDIR/frontal.dcm (PA) and OUTDIR/lateral.dcm
      (LL), same patient, same Study Instance UID, one series per view.
      --mono1 VIEW stores that view as MONOCHROME1 (pixels inverted).
      --jpeg VIEW stores that view JPEG baseline compressed (dcmcjpeg +eb).
      UIDs are fresh on every run unless --study-uid is given (then series
      and SOP Instance UIDs are derived from it).

  images OUTDIR N [--per-study M] [--size PX] [--prefix NAME]
      N distinct small DX images img0000.dcm ... (crops of the shared PNGs,
      PX x PX, default 64, with the image number written into the pixels so
      that every file differs).  Each run of M consecutive images forms one
      study (default M = N: one study).

  bad OUTDIR
      Negative fixtures:
        no-study-uid.dcm   DX image without StudyInstanceUID (0020,000D)
        bad-study-uid.dcm  DX image whose StudyInstanceUID is not a UID
        ct.dcm             a CT Image Storage object (SOP class not accepted)
        mr.dcm             an MR Image Storage object (SOP class not accepted)
        sr.dcm             a Basic Text SR (SOP class not accepted)
        evil-sop-uid.dcm   SOP Instance UID "1.2.3/../../../../../tmp/radscribe-evil"
        long-sop-uid.dcm   SOP Instance UID of 76 characters
        good.dcm           a valid DX image (used with a forged command by
                           the raw client: SOP Instance UID mismatch)
"""
import argparse
import datetime
import os
import subprocess
import sys

import warnings

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE_DIR = os.path.join(HERE, "..", "sample")
sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, SAMPLE_DIR)
from png2raw import read_png_gray8  # noqa: E402

DX_PRES = "1.2.840.10008.5.1.4.1.1.1.1"
CR = "1.2.840.10008.5.1.4.1.1.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
IMPL_UID = "1.2.826.0.1.3680043.8.498.1"   # pydicom's root; test files only


def shared_data():
    d = os.environ.get("SHARED_DATA")
    if d:
        return d
    return os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data"))


def load_png(path):
    w, h, pix = read_png_gray8(path)
    return np.frombuffer(pix, dtype=np.uint8).reshape(h, w).copy()


def pick_pair(spec):
    """Return (patient_id, frontal_png, lateral_png)."""
    sd = shared_data()
    if spec == "sample":
        return ("RSSAMPLE-P253", os.path.join(SAMPLE_DIR, "p253_07_PA.png"),
                os.path.join(SAMPLE_DIR, "p253_08_PA.png"))
    kind, _, ident = spec.partition(":")
    if kind == "iuxray":
        base = os.path.join(sd, "iuxray", "images", ident)
        return ("IU" + ident, base + "_frontal.png", base + "_lateral.png")
    if kind == "covid":
        import glob
        imgs = sorted(glob.glob(os.path.join(sd, "covid-cxr-notes", "images",
                                             "p%s_*.png" % ident)))
        pa = [i for i in imgs if i.endswith("_PA.png")]
        lat = [i for i in imgs if i.endswith("_L.png")]
        if not pa or not lat:
            raise SystemExit("covid patient %s has no PA+L pair" % ident)
        return ("COVID" + ident, pa[0], lat[0])
    raise SystemExit("bad --pair %r" % spec)


def default_pair():
    sd = shared_data()
    if os.path.exists(os.path.join(sd, "iuxray", "images", "169_frontal.png")):
        return "iuxray:169"
    return "sample"


def code_item(value, scheme, meaning):
    it = Dataset()
    it.CodeValue = value
    it.CodingSchemeDesignator = scheme
    it.CodeMeaning = meaning
    return it


def base_dataset(sop_class, sop_uid, study_uid, series_uid, patient_id,
                 modality, series_number=1, instance_number=1):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPL_UID
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    now = datetime.datetime.now()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = now.strftime("%Y%m%d")
    ds.ContentDate = ds.StudyDate
    ds.StudyTime = now.strftime("%H%M%S")
    ds.ContentTime = ds.StudyTime
    ds.AccessionNumber = "RSE2E" + now.strftime("%H%M%S")
    ds.Modality = modality
    ds.Manufacturer = "radscribe tests"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "XR CHEST 2 VIEWS"
    ds.PatientName = "Test^" + patient_id
    ds.PatientID = patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    if study_uid is not None:
        ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = series_number
    ds.InstanceNumber = instance_number
    return ds


def add_pixels(ds, arr, mono1=False):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    if mono1:
        arr = 255 - arr
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if mono1 else "MONOCHROME2"
    ds.Rows, ds.Columns = arr.shape
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    data = arr.tobytes()
    if len(data) % 2:
        data += b"\0"
    ds.PixelData = data
    ds["PixelData"].VR = "OB"


def make_xray(sop_class, arr, view, study_uid, series_uid, sop_uid,
              patient_id, series_number, mono1=False, instance_number=1):
    modality = "CR" if sop_class == CR else "DX"
    ds = base_dataset(sop_class, sop_uid, study_uid, series_uid, patient_id,
                      modality, series_number, instance_number)
    ds.SeriesDescription = "Chest " + view
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = view
    ds.PatientOrientation = ["L", "F"] if view == "PA" else ["P", "F"]
    ds.ImageLaterality = "U"
    ds.AnatomicRegionSequence = Sequence([code_item("51185008", "SCT", "Chest")])
    add_pixels(ds, arr, mono1)
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.PresentationLUTShape = "INVERSE" if mono1 else "IDENTITY"
    if modality == "DX":
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.PositionerType = ""
        ds.DetectorType = ""
        ds.ImagerPixelSpacing = ["1.6", "1.6"]
        ds.PixelIntensityRelationship = "LIN"
        ds.PixelIntensityRelationshipSign = -1 if mono1 else 1
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = "1"
        ds.RescaleType = "US"
        ds.WindowCenter = "128"
        ds.WindowWidth = "256"
        ds.AcquisitionContextSequence = Sequence([])
        ds.ViewCodeSequence = Sequence([
            code_item("399348003", "SCT", "postero-anterior") if view == "PA"
            else code_item("260525003", "SCT", "lateral")])
    return ds


def jpeg_compress(path):
    tmp = path + ".jpg.tmp"
    subprocess.run(["dcmcjpeg", "-q", "+eb", "+un", path, tmp], check=True)
    os.replace(tmp, path)


def cmd_study(a):
    os.makedirs(a.outdir, exist_ok=True)
    patient_id, fpng, lpng = pick_pair(a.pair or default_pair())
    if a.patient_id:
        patient_id = a.patient_id
    sop_class = CR if a.modality == "CR" else DX_PRES
    study_uid = a.study_uid or generate_uid()
    out = []
    for n, (view, png, name) in enumerate(
            [("PA", fpng, "frontal"), ("LL", lpng, "lateral")], start=1):
        if a.study_uid:
            series_uid = "%s.%d" % (study_uid, n)
            sop_uid = "%s.%d.1" % (study_uid, n)
        else:
            series_uid = generate_uid()
            sop_uid = generate_uid()
        ds = make_xray(sop_class, load_png(png), view, study_uid, series_uid,
                       sop_uid, patient_id, n, mono1=(a.mono1 == name))
        path = os.path.join(a.outdir, name + ".dcm")
        ds.save_as(path, write_like_original=False)
        if a.jpeg == name:
            jpeg_compress(path)
        out.append(path)
    print("\n".join(out))


def source_pngs():
    import glob
    sd = shared_data()
    pngs = sorted(glob.glob(os.path.join(sd, "iuxray", "images", "*.png")))
    pngs += sorted(glob.glob(os.path.join(sd, "covid-cxr-notes", "images",
                                          "p1*_PA.png")))[:20]
    if not pngs:
        pngs = sorted(glob.glob(os.path.join(SAMPLE_DIR, "*.png")))
    return pngs


DIGITS = {  # 3x5 bitmap font for stamping numbers into the pixels
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001001001001", "8": "111101111101111",
    "9": "111101111001111"}


def stamp(arr, text, scale):
    x0 = 2
    for ch in text:
        bits = DIGITS[ch]
        for i, b in enumerate(bits):
            if b == "1":
                r, c = divmod(i, 3)
                arr[2 + r * scale:2 + (r + 1) * scale,
                    x0 + c * scale:x0 + (c + 1) * scale] = 255
        x0 += 4 * scale


def cmd_images(a):
    os.makedirs(a.outdir, exist_ok=True)
    pngs = source_pngs()
    cache = {}
    per = a.per_study or a.n
    out = []
    study_uid = series_uid = None
    stamp_scale = max(1, a.size // 64)
    for i in range(a.n):
        if i % per == 0:
            study_uid = generate_uid()
            series_uid = generate_uid()
            patient_id = "RSE2E%04d" % (i // per)
        png = pngs[i % len(pngs)]
        if png not in cache:
            cache[png] = load_png(png)
        img = cache[png]
        # a PX x PX window, stepped so consecutive images differ, then stamp
        h, w = img.shape
        step = i // len(pngs)
        s = min(h, w, max(a.size * 2, 64))
        y0 = (step * 7) % max(1, h - s + 1)
        x0 = (step * 13) % max(1, w - s + 1)
        crop = img[y0:y0 + s, x0:x0 + s]
        # nearest-neighbour resample to size x size
        idx = (np.arange(a.size) * s) // a.size
        arr = crop[idx][:, idx].copy()
        stamp(arr, "%d" % i, stamp_scale)
        ds = make_xray(DX_PRES, arr, "PA", study_uid, series_uid,
                       generate_uid(), patient_id, 1,
                       instance_number=(i % per) + 1)
        path = os.path.join(a.outdir, "%s%04d.dcm" % (a.prefix, i))
        ds.save_as(path, write_like_original=False)
        out.append(path)
    print("\n".join(out))


def cmd_bad(a):
    os.makedirs(a.outdir, exist_ok=True)
    out = []
    arr = np.zeros((32, 32), dtype=np.uint8)
    arr[8:24, 8:24] = 200

    def save(ds, name):
        p = os.path.join(a.outdir, name)
        ds.save_as(p, write_like_original=False)
        out.append(p)

    ds = make_xray(DX_PRES, arr, "PA", None, generate_uid(), generate_uid(),
                   "RSBAD1", 1)
    save(ds, "no-study-uid.dcm")

    ds = make_xray(DX_PRES, arr, "PA", "not a uid!", generate_uid(),
                   generate_uid(), "RSBAD2", 1)
    save(ds, "bad-study-uid.dcm")

    # SOP Instance UIDs that must be refused (0xC001): one that would walk
    # out of the spool if used as a file name, one over 64 characters
    ds = make_xray(DX_PRES, arr, "PA", generate_uid(), generate_uid(),
                   "1.2.3/../../../../../tmp/radscribe-evil", "RSBAD6", 1)
    save(ds, "evil-sop-uid.dcm")
    ds = make_xray(DX_PRES, arr, "PA", generate_uid(), generate_uid(),
                   "1.2.826.0.1.3680043.8.498." + "1234567890" * 5, "RSBAD7", 1)
    save(ds, "long-sop-uid.dcm")

    for name, cls, mod in (("ct.dcm", CT, "CT"), ("mr.dcm", MR, "MR")):
        ds = base_dataset(cls, generate_uid(), generate_uid(), generate_uid(),
                          "RSBAD3", mod)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.FrameOfReferenceUID = generate_uid()
        ds.PositionReferenceIndicator = ""
        ds.ImagePositionPatient = ["0", "0", "0"]
        ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        ds.PixelSpacing = ["1", "1"]
        ds.SliceThickness = "1"
        ds.PatientPosition = "HFS"
        if mod == "CT":
            ds.KVP = "120"
            ds.AcquisitionNumber = "1"
            ds.RescaleIntercept = "0"
            ds.RescaleSlope = "1"
        else:
            ds.ScanningSequence = "SE"
            ds.SequenceVariant = "NONE"
            ds.ScanOptions = ""
            ds.MRAcquisitionType = "2D"
            ds.EchoTime = "10"
            ds.EchoTrainLength = "1"
            ds.RepetitionTime = "500"
            ds.MagneticFieldStrength = "1.5"
        a16 = arr.astype(np.uint16)
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = a16.shape
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.PixelData = a16.astype("<u2").tobytes()
        ds["PixelData"].VR = "OW"
        save(ds, name)

    ds = base_dataset(BASIC_TEXT_SR, generate_uid(), generate_uid(),
                      generate_uid(), "RSBAD4", "SR")
    del ds.ImageType
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code_item("18748-4", "LN",
                                                     "Diagnostic Imaging Report")])
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "PARTIAL"
    ds.VerificationFlag = "UNVERIFIED"
    ds.ReferencedPerformedProcedureStepSequence = Sequence([])
    ds.PerformedProcedureCodeSequence = Sequence([])
    txt = Dataset()
    txt.RelationshipType = "CONTAINS"
    txt.ValueType = "TEXT"
    txt.ConceptNameCodeSequence = Sequence([code_item("121071", "DCM", "Finding")])
    txt.TextValue = "radscribe negative test fixture"
    ds.ContentSequence = Sequence([txt])
    save(ds, "sr.dcm")

    ds = make_xray(DX_PRES, arr, "PA", generate_uid(), generate_uid(),
                   generate_uid(), "RSBAD5", 1)
    save(ds, "good.dcm")
    print("\n".join(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("study")
    s.add_argument("outdir")
    s.add_argument("--modality", choices=["DX", "CR"], default="DX")
    s.add_argument("--mono1", choices=["frontal", "lateral", "none"], default="none")
    s.add_argument("--jpeg", choices=["frontal", "lateral", "none"], default="none")
    s.add_argument("--study-uid")
    s.add_argument("--pair")
    s.add_argument("--patient-id")
    s.set_defaults(func=cmd_study)
    s = sub.add_parser("images")
    s.add_argument("outdir")
    s.add_argument("n", type=int)
    s.add_argument("--per-study", type=int, default=0)
    s.add_argument("--size", type=int, default=64)
    s.add_argument("--prefix", default="img")
    s.set_defaults(func=cmd_images)
    s = sub.add_parser("bad")
    s.add_argument("outdir")
    s.set_defaults(func=cmd_bad)
    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
