/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_model - `radscribe model info FILE.gguf`: what a GGUF model file
 * holds (architecture, sizes, tensor types, tokenizer, chat template,
 * radscribe prompts), read through infer/gguf.h.  Touches no database.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/cli_infer.h"
#include "dicom/dcmbridge.h"
#include "infer/gguf.h"
#include "infer/image.h"
#include "infer/pipeline.h"
#include "core/paths.h"
#include "node/worker.h"

/* Hyperparameters under "ARCH."; the JSON name, then the key suffix. */
static const char *const llm_keys[][2] = {
	{ "context_length", "context_length" },
	{ "embedding_length", "embedding_length" },
	{ "block_count", "block_count" },
	{ "head_count", "attention.head_count" },
	{ "head_count_kv", "attention.head_count_kv" },
	{ "feed_forward_length", "feed_forward_length" },
	{ "rope_dimension_count", "rope.dimension_count" },
};
/* A vision projector's (general.architecture "clip"). */
static const char *const clip_keys[][2] = {
	{ "image_size", "clip.vision.image_size" },
	{ "patch_size", "clip.vision.patch_size" },
	{ "block_count", "clip.vision.block_count" },
	{ "embedding_length", "clip.vision.embedding_length" },
	{ "head_count", "clip.vision.attention.head_count" },
	{ "feed_forward_length", "clip.vision.feed_forward_length" },
	{ "projection_dim", "clip.vision.projection_dim" },
};

static void
add_int(json_object *o, const char *name, const struct gguf *g,
    const char *key)
{
	int64_t v;

	if (gguf_get_i64(g, key, &v) == GGUF_OK)
		json_object_object_add(o, name, json_object_new_int64(v));
}

static void
add_str(json_object *o, const char *name, const struct gguf *g,
    const char *key, int first_line)
{
	const char *s;
	size_t len;

	if (gguf_get_str(g, key, &s, &len) != GGUF_OK)
		return;
	if (first_line && memchr(s, '\n', len) != NULL)
		len = (size_t)((const char *)memchr(s, '\n', len) - s);
	json_object_object_add(o, name, json_object_new_string_len(s, (int)len));
}

static json_object *
info(const struct gguf *g, const char *path)
{
	json_object *o = json_object_new_object(), *sz, *tt, *pr;
	const char *arch = gguf_architecture(g);
	int64_t ntypes[64] = { 0 }, nparams = 0, k;
	char key[256];

	json_object_object_add(o, "file", json_object_new_string(path));
	json_object_object_add(o, "gguf_version",
	    json_object_new_int64(gguf_version(g)));
	json_object_object_add(o, "file_size",
	    json_object_new_int64((int64_t)gguf_file_size(g)));
	json_object_object_add(o, "architecture", json_object_new_string(arch));
	add_str(o, "name", g, "general.name", 0);
	add_str(o, "version", g, "general.version", 0);
	add_str(o, "type", g, "general.type", 0);

	sz = json_object_new_object();
	if (strcmp(arch, "clip") == 0) {
		for (size_t i = 0; i < sizeof(clip_keys) / sizeof(*clip_keys); i++)
			add_int(sz, clip_keys[i][0], g, clip_keys[i][1]);
		add_str(sz, "projector_type", g, "clip.projector_type", 0);
	} else {
		for (size_t i = 0; i < sizeof(llm_keys) / sizeof(*llm_keys); i++) {
			snprintf(key, sizeof(key), "%s.%s", arch, llm_keys[i][1]);
			add_int(sz, llm_keys[i][0], g, key);
		}
		if ((k = gguf_find_key(g, "tokenizer.ggml.tokens")) >= 0)
			json_object_object_add(sz, "vocab_size",
			    json_object_new_int64((int64_t)gguf_arr_len(g, k)));
	}
	json_object_object_add(o, "sizes", sz);

	for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor(g, i);
		int64_t n = 1;

		for (int d = 0; d < t->n_dims; d++)
			n *= t->ne[d];
		nparams += n;
		if ((int)t->type >= 0 && (int)t->type < 64)
			ntypes[t->type]++;
	}
	json_object_object_add(o, "tensors",
	    json_object_new_int64(gguf_n_tensors(g)));
	json_object_object_add(o, "parameters", json_object_new_int64(nparams));
	tt = json_object_new_object();
	for (int i = 0; i < 64; i++)
		if (ntypes[i] > 0)
			json_object_object_add(tt, gguf_dtype_name((enum dtype)i),
			    json_object_new_int64(ntypes[i]));
	json_object_object_add(o, "tensor_types", tt);

	add_str(o, "tokenizer", g, "tokenizer.ggml.model", 0);
	add_str(o, "chat_template", g, "tokenizer.chat_template", 1);
	pr = json_object_new_object();
	for (int64_t i = 0; i < gguf_n_kv(g); i++) {
		static const char pfx[] = "radscribe.prompt.";
		const char *name = gguf_key_name(g, i);

		if (strncmp(name, pfx, sizeof(pfx) - 1) == 0)
			add_str(pr, name + sizeof(pfx) - 1, g, name, 0);
	}
	json_object_object_add(o, "prompts", pr);
	return o;
}

/* print_text - "name  value" lines; nested objects indented */
static void
print_text(json_object *o, const char *indent, FILE *fp)
{
	json_object_object_foreach(o, name, v) {
		if (json_object_is_type(v, json_type_object)) {
			if (json_object_object_length(v) == 0)
				continue;
			fprintf(fp, "%s%s:\n", indent, name);
			print_text(v, "  ", fp);
		} else
			fprintf(fp, "%s%-*s %s\n", indent,
			    (int)(22 - strlen(indent)), name,
			    json_object_get_string(v));
	}
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * model_test - `model test [--model LLM --mmproj MMPROJ] [IMAGE...]`: both
 * section prompts on the images (the shipped sample by default), with the
 * text and the timings.
 */
static int
model_test(int argc, char *argv[])
{
	static const char us[] = "usage: radscribe model test [--model LLM.gguf "
	    "--mmproj MMPROJ.gguf] [IMAGE...]";
	static const char *const sec[2] = { "findings", "impression" };
	static const char *const builtin[2] = {
		"Write the findings.", "Write the impression."
	};
	struct pipeline_config pc = { 0 };
	struct image *views[8];
	struct pipeline *p = NULL;
	char dir[4096], sample[4096], err[1024], key[64], *text = NULL;
	const char *files[8];
	int nfiles = 0, nviews = 0, rc = CLI_ERROR;
	double t0;

	for (int i = 2; i < argc; i++) {
		if ((strcmp(argv[i], "--model") == 0 || strcmp(argv[i], "--mmproj") == 0) &&
		    i + 1 < argc) {
			if (argv[i][2] == 'm' && argv[i][3] == 'o')
				pc.model = argv[++i];
			else
				pc.mmproj = argv[++i];
		} else if (argv[i][0] == '-' || nfiles == 8)
			return cli_usage("%s", us);
		else
			files[nfiles++] = argv[i];
	}
	if ((pc.model == NULL) != (pc.mmproj == NULL))
		return cli_usage("%s", us);
	if (pc.model == NULL)
		worker_default_model(paths_models(dir), &pc.model, &pc.mmproj);
	if (nfiles == 0) {
		files[nfiles++] = paths_data_file(sample, "sample/p253_07_PA.png",
		    "tests/sample/p253_07_PA.png");
		if (access(files[0], R_OK) != 0)
			return cli_error("model test: no sample image at %s; give "
			    "an IMAGE", files[0]);
	}
	dcm_codecs_init(pc.threads);
	for (int i = 0; i < nfiles; i++)
		if ((views[nviews] = cli_read_view(files[i], err, sizeof(err))) == NULL) {
			cli_error("model test: %s", err);
			goto out;
		} else
			nviews++;
	pc.max_tokens = 128;
	pc.beams = 1;
	pc.threads = 2;
	t0 = now_ms();
	if ((p = pipeline_load(&pc, err, sizeof(err))) == NULL) {
		cli_error("model test: %s", err);
		goto out;
	}
	printf("model:  %s\nmmproj: %s\nloaded in %.0f ms\n", pc.model,
	    pc.mmproj, now_ms() - t0);
	text = malloc(16384);
	for (int s = 0; s < 2 && text != NULL; s++) {
		struct pipeline_stats st;
		const char *prompt;

		snprintf(key, sizeof(key), "radscribe.prompt.%s", sec[s]);
		if ((prompt = pipeline_model_str(p, key)) == NULL)
			prompt = builtin[s];
		if (pipeline_run(p, (const struct image *const *)views, nviews,
		    prompt, text, 16384, &st, err, sizeof(err)) == -1) {
			cli_error("model test: %s: %s", sec[s], err);
			goto out;
		}
		printf("%s: %s\n  %d tokens; preprocess %.1f ms, encode %.1f ms, "
		    "generate %.1f ms (%.0f tokens/s)\n", sec[s], text, st.n_gen,
		    st.ms_preprocess, st.ms_encode, st.ms_generate,
		    st.ms_generate > 0 ? st.n_gen * 1e3 / st.ms_generate : 0.0);
	}
	rc = text != NULL && fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
out:
	free(text);
	pipeline_free(p);
	for (int i = 0; i < nviews; i++)
		image_free(views[i]);
	return rc;
}

/* cli_model - `model info FILE.gguf [--json]`, `model test ...` */
int
cli_model(const char *conf_path, int argc, char *argv[])
{
	static const char us[] = "usage: radscribe model info FILE.gguf [--json]\n"
	    "       radscribe model test [--model LLM.gguf --mmproj MMPROJ.gguf] [IMAGE...]";
	const char *path = NULL;
	struct gguf *g;
	json_object *o;
	char err[512];
	int json = 0;

	(void)conf_path;
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return model_test(argc, argv);
	if (argc < 2 || strcmp(argv[1], "info") != 0)
		return cli_usage("%s", us);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] == '-' || path != NULL)
			return cli_usage("%s", us);
		else
			path = argv[i];
	}
	if (path == NULL)
		return cli_usage("%s", us);
	if ((g = gguf_open(path, err, sizeof(err))) == NULL)
		return cli_error("model: %s", err);
	o = info(g, path);
	gguf_close(g);
	if (json)
		return cli_json_print(o, stdout) == 0 ? CLI_OK : CLI_ERROR;
	print_text(o, "", stdout);
	json_object_put(o);
	return fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
}
