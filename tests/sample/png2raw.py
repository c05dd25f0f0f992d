#!/usr/bin/python3
"""Decode an 8-bit grayscale, non-interlaced PNG into raw pixel bytes.

Standard library only (zlib), so the sample study can be built on a machine
that has DCMTK and a plain python3 but no imaging libraries.

usage: png2raw.py IN.png OUT.raw [--invert]
Writes rows*cols bytes (row-major, one byte per pixel) to OUT.raw and prints
"COLUMNS ROWS" on stdout.  --invert writes 255-v (for MONOCHROME1).
"""
import struct
import sys
import zlib


def read_png_gray8(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG file" % path)
    pos = 8
    width = height = None
    idat = []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            width, height, depth, color, _comp, _filt, interlace = \
                struct.unpack(">IIBBBBB", body)
            if depth != 8 or color != 0 or interlace != 0:
                raise ValueError("%s: only 8-bit grayscale non-interlaced PNG "
                                 "is supported (depth %d, colour type %d, "
                                 "interlace %d)" % (path, depth, color, interlace))
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if width is None:
        raise ValueError("%s: no IHDR chunk" % path)
    raw = zlib.decompress(b"".join(idat))
    stride = width
    if len(raw) != height * (stride + 1):
        raise ValueError("%s: bad image data length" % path)
    out = bytearray(width * height)
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype == 0:
            pass
        elif ftype == 1:      # Sub
            for x in range(1, stride):
                line[x] = (line[x] + line[x - 1]) & 0xFF
        elif ftype == 2:      # Up
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 0xFF
        elif ftype == 3:      # Average
            for x in range(stride):
                left = line[x - 1] if x else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 0xFF
        elif ftype == 4:      # Paeth
            for x in range(stride):
                a = line[x - 1] if x else 0
                b = prev[x]
                c = prev[x - 1] if x else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                if pa <= pb and pa <= pc:
                    pr = a
                elif pb <= pc:
                    pr = b
                else:
                    pr = c
                line[x] = (line[x] + pr) & 0xFF
        else:
            raise ValueError("%s: bad PNG filter type %d" % (path, ftype))
        out[y * width:(y + 1) * width] = line
        prev = line
    return width, height, bytes(out)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    invert = "--invert" in argv[1:]
    if len(args) != 2:
        sys.stderr.write("usage: png2raw.py IN.png OUT.raw [--invert]\n")
        return 2
    width, height, pix = read_png_gray8(args[0])
    if invert:
        pix = bytes(255 - v for v in pix)
    if len(pix) % 2:          # DICOM values have even length
        pix += b"\0"
    with open(args[1], "wb") as f:
        f.write(pix)
    print(width, height)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
