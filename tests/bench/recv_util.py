#!/usr/bin/python3
"""Helpers for tests/bench/recv_bench.sh (run with /usr/bin/python3: needs python3-pydicom, numpy).

  recv_util.py gen DIR N ROWS COLS SEED   write N DX For Presentation files (explicit VR LE, 16/12 bit)
  recv_util.py fsync DIR [COUNT [SIZE]]   time COUNT x (write SIZE bytes, default 4096, then fsync) in DIR;
                                          prints "mean median p99 count" of the fsync call, in ms
  recv_util.py freeport                   print a free TCP port on 127.0.0.1
  recv_util.py cputicks PID               print CPU seconds used by PID (all threads + reaped children)
"""
import os
import socket
import sys
import time


def gen(outdir, n, rows, cols, seed):
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    dx_pres = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage - For Presentation
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(seed)
    # a smooth gradient plus per-image offset and noise, 12 significant bits
    yy, xx = np.mgrid[0:rows, 0:cols]
    base = ((xx * 2048) // cols + (yy * 1536) // rows).astype(np.uint16)
    study_uid = series_uid = None
    for i in range(n):
        if i % 2 == 0:  # two images (PA + LAT) per study, one series each
            study_uid = generate_uid()
            series_uid = generate_uid()
        noise = rng.integers(0, 256, size=(rows, cols), dtype=np.uint16)
        pix = ((base + np.uint16((i * 37) % 512) + noise) & 0x0FFF).astype("<u2")

        sop_uid = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = dx_pres
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
        meta.ImplementationVersionName = "RADSCRIBE_BENCH"

        ds = Dataset()
        ds.file_meta = meta
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.SOPClassUID = dx_pres
        ds.SOPInstanceUID = sop_uid
        ds.StudyDate = "20240101"
        ds.ContentDate = "20240101"
        ds.StudyTime = "120000"
        ds.ContentTime = "120000"
        ds.AccessionNumber = "BENCH%06d" % (i // 2)
        ds.Modality = "DX"
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.Manufacturer = "radscribe-bench"
        ds.ReferringPhysicianName = ""
        ds.PatientName = "Bench^Patient%04d" % (i // 2)
        ds.PatientID = "BENCH%06d" % (i // 2)
        ds.PatientBirthDate = ""
        ds.PatientSex = "O"
        ds.BodyPartExamined = "CHEST"
        ds.ViewPosition = "PA" if i % 2 == 0 else "LL"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.StudyID = "1"
        ds.SeriesNumber = 1 + i % 2
        ds.InstanceNumber = 1
        ds.PatientOrientation = ["A", "F"] if i % 2 == 0 else ["P", "F"]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = rows
        ds.Columns = cols
        ds.PixelSpacing = [0.15, 0.15]
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.WindowCenter = 2048
        ds.WindowWidth = 4096
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.RescaleType = "US"
        ds.PixelIntensityRelationship = "LIN"
        ds.PixelIntensityRelationshipSign = 1
        ds.PresentationLUTShape = "IDENTITY"
        ds.LossyImageCompression = "00"
        ds.BurnedInAnnotation = "NO"
        ds.ImageLaterality = "U"
        ds.DetectorType = "DIRECT"
        ds.ImagerPixelSpacing = [0.15, 0.15]
        ds.PositionerType = ""
        ds.AcquisitionContextSequence = Sequence()
        region = Dataset()
        region.CodeValue = "51185008"
        region.CodingSchemeDesignator = "SCT"
        region.CodeMeaning = "Chest"
        ds.AnatomicRegionSequence = Sequence([region])
        view = Dataset()
        view.CodeValue = "R-10214" if i % 2 == 0 else "R-10236"
        view.CodingSchemeDesignator = "SRT"
        view.CodeMeaning = "postero-anterior" if i % 2 == 0 else "left lateral"
        ds.ViewCodeSequence = Sequence([view])
        ds.PixelData = pix.tobytes()
        ds["PixelData"].VR = "OW"
        ds.save_as(os.path.join(outdir, "img%05d.dcm" % i), write_like_original=False)


def fsync_cost(d, count=1000, size=4096):
    """Small sizes: rewrite blocks of one file (like a WAL/journal append).
    Large sizes: a new file per iteration (like storing one object)."""
    buf = os.urandom(size)
    times = []
    fresh = size > 65536
    path = os.path.join(d, "fsync_probe.bin")
    fd = -1
    try:
        for i in range(count):
            if fresh or fd < 0:
                if fd >= 0:
                    os.close(fd)
                    os.unlink(path)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.pwrite(fd, buf, 0 if fresh else (i % 256) * size)
            t0 = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t0)
    finally:
        if fd >= 0:
            os.close(fd)
            os.unlink(path)
    times.sort()
    mean = sum(times) / len(times) * 1e3
    med = times[len(times) // 2] * 1e3
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1e3
    print("%.3f %.3f %.3f %d" % (mean, med, p99, count))


def freeport():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cputicks(pid):
    with open("/proc/%d/stat" % int(pid)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after the ')': state=0 ... utime=11 stime=12 cutime=13 cstime=14 (0-based in this slice);
    # all threads of the process, plus reaped children (for a forking server)
    hz = os.sysconf("SC_CLK_TCK")
    print("%.2f" % (sum(int(x) for x in fields[11:15]) / hz))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "gen":
        gen(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]))
    elif cmd == "fsync":
        fsync_cost(argv[2], int(argv[3]) if len(argv) > 3 else 1000,
                   int(argv[4]) if len(argv) > 4 else 4096)
    elif cmd == "freeport":
        freeport()
    elif cmd == "cputicks":
        cputicks(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
