#!/bin/sh
# Build the shipped sample study: two frontal (PA) chest radiographs of one
# patient, as a DICOM DX (for presentation) study of two series.
#
# usage: mkstudy.sh OUTDIR
#   Writes OUTDIR/p253_07_PA.dcm and OUTDIR/p253_08_PA.dcm.  Every run makes
#   fresh Study/Series/SOP Instance UIDs unless STUDY_UID is set in the
#   environment (then the series and instance UIDs are derived from it, so a
#   rerun gives the same UIDs).
#
# Needs: dump2dcm (DCMTK) and python3 (standard library only).
# See README.md in this folder for the image sources and licences.
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
mkdir -p "$out"
PYTHON=${PYTHON:-python3}
command -v dump2dcm >/dev/null 2>&1 || { echo "$0: dump2dcm (DCMTK) not found" >&2; exit 1; }
command -v "$PYTHON" >/dev/null 2>&1 || { echo "$0: $PYTHON not found" >&2; exit 1; }

newuid() { "$PYTHON" -c 'import uuid; print("2.25.%d" % uuid.uuid4().int)'; }

study_uid=${STUDY_UID:-$(newuid)}
date=$(date +%Y%m%d)
time=$(date +%H%M%S)
work=$(mktemp -d "${TMPDIR:-/tmp}/rs-sample.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

n=0
for img in p253_07_PA p253_08_PA; do
    n=$((n + 1))
    if [ -n "${STUDY_UID:-}" ]; then
        series_uid=$study_uid.$n
        sop_uid=$study_uid.$n.1
    else
        series_uid=$(newuid)
        sop_uid=$(newuid)
    fi
    set -- $("$PYTHON" "$here/png2raw.py" "$here/$img.png" "$work/$img.raw")
    cols=$1 rows=$2
    sed -e "s|@SOP_UID@|$sop_uid|" \
        -e "s|@STUDY_UID@|$study_uid|" \
        -e "s|@SERIES_UID@|$series_uid|" \
        -e "s|@SERIES_NUMBER@|$n|" \
        -e "s|@SERIES_DESC@|Chest PA ($img)|" \
        -e "s|@DERIVATION@|Sample image $img, COVID-19 image data collection, resized to 256 px; see tests/sample/README.md|" \
        -e "s|@DATE@|$date|g" \
        -e "s|@TIME@|$time|g" \
        -e "s|@ACCESSION@|RS$n$time|" \
        -e "s|@VIEW@|PA|" \
        -e "s|@ORIENTATION@|L\\\\F|" \
        -e "s|@SPACING@|1.68|g" \
        -e "s|@ROWS@|$rows|" \
        -e "s|@COLUMNS@|$cols|" \
        -e "s|@PIXELS@|$work/$img.raw|" \
        "$here/dx-template.dump" > "$work/$img.dump"
    # accession is per study: the same for both images
    sed -i -e "s|RS$n$time|RS$time|" "$work/$img.dump"
    dump2dcm -q "$work/$img.dump" "$out/$img.dcm"
    echo "$out/$img.dcm"
done
