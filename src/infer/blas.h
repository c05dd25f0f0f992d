/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blas - which OpenBLAS kernels the process runs.  Debian's OpenBLAS
 * 0.3.21 does not know newer CPUs and falls back to SSE3 "Prescott"
 * kernels, 5x slower; OPENBLAS_CORETYPE, read when the library loads,
 * fixes that.  Main thread, start-up only.
 */
#ifndef RS_BLAS_H
#define RS_BLAS_H

/* blas_corename - the kernel set in use (static string). */
const char *blas_corename(void);
/*
 * blas_coretype_advice - the OPENBLAS_CORETYPE this process should have
 * been started with, or NULL when it already runs kernels that use the
 * CPU's vector units or when the admin set OPENBLAS_CORETYPE (respected:
 * some OpenBLAS kernels are wrong on some CPUs).
 */
const char *blas_coretype_advice(void);
/*
 * blas_reexec - if there is advice, and this process has not re-executed
 * itself already, set OPENBLAS_CORETYPE and execv argv again (returns
 * only on failure or when nothing is to be done).  why (OUT) gets a line
 * for the log when advice exists.
 */
void	blas_reexec(char *const argv[], char *why, unsigned whysz);

#endif
