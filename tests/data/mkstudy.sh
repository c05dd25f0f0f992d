#!/bin/sh
# Two-view chest study fixture (frontal PA + lateral, same patient and study).
# usage: mkstudy.sh OUTDIR [--modality DX|CR] [--mono1 frontal|lateral]
#                          [--jpeg frontal|lateral] [--study-uid UID]
#                          [--pair iuxray:ID|covid:PATIENT|sample]
# Images come from $SHARED_DATA (default ../shared/data next to the source
# tree), or from tests/sample when that is absent.  See mkdicom.py.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
exec "${PYDICOM_PYTHON:-/usr/bin/python3}" "$here/mkdicom.py" study "$@"
