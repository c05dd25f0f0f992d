/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blas - OpenBLAS kernel detection and the one-time re-exec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infer/blas.h"

char	*openblas_get_corename(void);

/* Kernel sets without AVX2 that 0.3.21 may fall back to. */
static const char *const weak[] = {
	"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom",
	"Sandybridge", "Barcelona", "Bobcat", "Bulldozer", "Piledriver",
	"Steamroller", "Excavator", "Katmai", "Coppermine", "Northwood",
	"Banias", "Opteron", "Athlon", "Unknown", NULL
};

const char *
blas_corename(void)
{
	const char *n = openblas_get_corename();

	return n ? n : "?";
}

const char *
blas_coretype_advice(void)
{
	const char *cur = blas_corename();
	int is_weak = 0;

	if (getenv("OPENBLAS_CORETYPE") != NULL)
		return NULL;
	for (int i = 0; weak[i] != NULL; i++)
		if (strcasecmp(cur, weak[i]) == 0)
			is_weak = 1;
	__builtin_cpu_init();
	if (!is_weak || !__builtin_cpu_supports("avx2") ||
	    !__builtin_cpu_supports("fma"))
		return NULL;
	if (__builtin_cpu_is("intel") && __builtin_cpu_supports("avx512f"))
		return "SkylakeX";
	return __builtin_cpu_is("amd") ? "Zen" : "Haswell";
}

void
blas_reexec(char *const argv[], char *why, unsigned whysz)
{
	const char *adv = blas_coretype_advice();

	why[0] = '\0';
	if (adv == NULL)
		return;
	snprintf(why, whysz, "OpenBLAS chose %s kernels on a CPU with AVX2; "
	    "restarting with OPENBLAS_CORETYPE=%s", blas_corename(), adv);
	if (getenv("RADSCRIBE_BLAS_REEXEC") != NULL)
		return;		/* once only */
	if (setenv("OPENBLAS_CORETYPE", adv, 1) == -1 ||
	    setenv("RADSCRIBE_BLAS_REEXEC", "1", 1) == -1)
		return;
	execv("/proc/self/exe", argv);
}
