/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * j2k - a DCMTK decoder (DcmCodec) for JPEG 2000 pixel data, computed by
 * OpenJPEG: DCMTK 3.6.7 has none.  Registered in DCMTK's global codec
 * list, so DcmPixelData::chooseRepresentation and DicomImage decode JPEG
 * 2000 like any other syntax.  Decoding only; never included from C.
 */
#ifndef RS_J2K_H
#define RS_J2K_H

/*
 * j2k_register - add the decoder for JPEG 2000 lossless (1.2.840.10008.
 * 1.2.4.90) and JPEG 2000 (.91) to DCMTK's codec list; threads is how
 * many threads OpenJPEG may use for one image (<= 0: one).  Main thread,
 * before any other thread exists; a second call does nothing.
 */
void	j2k_register(int threads);
/* j2k_deregister - remove it again (tests); main thread. */
void	j2k_deregister(void);

#endif
