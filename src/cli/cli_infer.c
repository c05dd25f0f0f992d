/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_infer - `radscribe infer`: run the engine on image files and print
 * only the generated text on stdout; -v adds the prompt's and the
 * generated token ids and the timings on stderr.  Needs no daemon and no
 * configuration file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_infer.h"
#include "dicom/dcmbridge.h"
#include "infer/blas.h"
#include "infer/image.h"
#include "infer/pipeline.h"

#define DEFAULT_PROMPT "Provide a detailed description of the findings in the radiology image."

static int
usage(void)
{
	fprintf(stderr, "usage: radscribe infer --model LLM.gguf --mmproj "
	    "MMPROJ.gguf [--prompt TEXT] [--layout TEXT] [--max-tokens N] "
	    "[--beams N] [--threads N] [--lora ADAPTER.gguf [--lora-scale S]] [-v] "
	    "IMAGE...\n");
	return 2;
}

static int
num(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* is_dicom - a Part 10 file: "DICM" after the 128-byte preamble. */
static int
is_dicom(const char *path)
{
	char buf[132];
	FILE *fp = fopen(path, "rb");
	int yes;

	if (fp == NULL)
		return 0;
	yes = fread(buf, 1, sizeof(buf), fp) == sizeof(buf) &&
	    memcmp(buf + 128, "DICM", 4) == 0;
	fclose(fp);
	return yes;
}

struct image *
cli_read_view(const char *path, char *err, size_t errsz)
{
	unsigned char *px;
	struct image *im;
	int w, h;

	if (!is_dicom(path))
		return image_read(path, err, errsz);
	if (dcm_read_grey(path, &px, &w, &h, err, errsz) == -1)
		return NULL;
	if ((im = image_new(w, h, 1)) == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		free(px);
		return NULL;
	}
	memcpy(im->px, px, (size_t)w * h);
	free(px);
	return im;
}

int
cli_infer(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "mmproj", required_argument, NULL, 'p' },
		{ "prompt", required_argument, NULL, 't' },
		{ "layout", required_argument, NULL, 'l' },
		{ "max-tokens", required_argument, NULL, 'n' },
		{ "beams", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 'j' },
		{ "lora", required_argument, NULL, 'a' },
		{ "lora-scale", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct pipeline_config cfg = { NULL, NULL, NULL, NULL, 0.0f, 256, 1, 2, 0 };
	char *end;
	const char *prompt = NULL;
	struct image *views[16];
	struct pipeline *p = NULL;
	struct pipeline_stats st;
	char err[1024], *text = NULL;
	int ch, verbose = 0, nviews = 0, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1)
		switch (ch) {
		case 'm': cfg.model = optarg; break;
		case 'p': cfg.mmproj = optarg; break;
		case 't': prompt = optarg; break;
		case 'l': cfg.layout = optarg; break;
		case 'n':
			if (num(optarg, 1, 8192, &cfg.max_tokens) == -1)
				return usage();
			break;
		case 'b':
			if (num(optarg, 1, 8, &cfg.beams) == -1)
				return usage();
			break;
		case 'j':
			if (num(optarg, 1, 256, &cfg.threads) == -1)
				return usage();
			break;
		case 'a': cfg.lora = optarg; break;
		case 's':
			cfg.lora_scale = strtof(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || cfg.lora_scale <= 0.0f)
				return usage();
			break;
		case 'v': verbose = 1; break;
		default: return usage();
		}
	if (cfg.model == NULL || cfg.mmproj == NULL || optind == argc ||
	    argc - optind > 16)
		return usage();
	if (verbose)
		fprintf(stderr, "OpenBLAS kernels: %s\n", blas_corename());
	dcm_codecs_init(cfg.threads);
	for (int i = optind; i < argc; i++)
		if ((views[nviews++] = cli_read_view(argv[i], err, sizeof(err))) == NULL) {
			nviews--;
			fprintf(stderr, "radscribe: %s\n", err);
			goto out;
		}
	if ((p = pipeline_load(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "radscribe: %s\n", err);
		goto out;
	}
	/* The model's own Findings prompt when it has one. */
	if (prompt == NULL &&
	    (prompt = pipeline_model_str(p, "radscribe.prompt.findings")) == NULL)
		prompt = DEFAULT_PROMPT;
	if ((text = malloc((size_t)cfg.max_tokens * 64 + 1)) == NULL)
		goto out;
	if (pipeline_run(p, (const struct image *const *)views, nviews, prompt,
	    text, (size_t)cfg.max_tokens * 64 + 1, &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "radscribe: %s\n", err);
		goto out;
	}
	printf("%s\n", text);
	if (verbose) {
		fprintf(stderr, "prompt ids (before image):");
		for (int i = 0; i < st.n_pre; i++)
			fprintf(stderr, " %d", st.prompt_ids[i]);
		fprintf(stderr, "\nprompt ids (after image):");
		for (int i = 0; i < st.n_post; i++)
			fprintf(stderr, " %d", pipeline_post_ids(p)[i]);
		fprintf(stderr, "\nimage positions: %d\ngenerated ids:", st.n_image);
		for (int i = 0; i < st.n_gen; i++)
			fprintf(stderr, " %d", st.gen_ids[i]);
		fprintf(stderr, "\ntimings: preprocess %.1f ms, encode %.1f ms, "
		    "prefill+generate %.1f ms (%d tokens)\n", st.ms_preprocess,
		    st.ms_encode, st.ms_generate, st.n_gen);
	}
	rc = 0;
out:
	free(text);
	pipeline_free(p);
	for (int i = 0; i < nviews; i++)
		image_free(views[i]);
	return rc;
}
