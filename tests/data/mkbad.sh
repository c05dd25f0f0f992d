#!/bin/sh
# Negative fixtures (missing Study UID, CT/MR/SR objects, ...): mkbad.sh OUTDIR
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
exec "${PYDICOM_PYTHON:-/usr/bin/python3}" "$here/mkdicom.py" bad "$@"
