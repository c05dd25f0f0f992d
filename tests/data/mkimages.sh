#!/bin/sh
# N distinct small DX images: mkimages.sh OUTDIR N [--per-study M] [--size PX]
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
exec "${PYDICOM_PYTHON:-/usr/bin/python3}" "$here/mkdicom.py" images "$@"
