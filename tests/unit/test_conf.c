/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_conf - radscribed.conf parsing: good files, each kind of bad line, docs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/conf.h"

static char path[512];

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(path, sizeof(path), "%s/rs-conf-XXXXXX", t ? t : "/tmp");
	return mkstemp(path) == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void
write_conf(const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* expect_error - loading text fails with "path:line: ..." containing what. */
static void
expect_error(const char *text, int line, const char *what)
{
	struct conf c;
	char err[512], prefix[600];

	write_conf(text);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), -1);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, what) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, prefix, what);
}

static void
test_good(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	write_conf("# a comment\n"
	    "ae_title = RS1   # trailing comment\n"
	    "\n"
	    "listen = 127.0.0.1:4242\n"
	    "spool_dir = /tmp/spool\n"
	    "database=/tmp/x.db\n"
	    "settle_time = 0\n"
	    "max_associations = 256\n"
	    "allow = MODALITY1\n"
	    "allow = PACS 127.0.0.1\n"
	    "accept_sop_class = 1.2.840.10008.5.1.4.1.1.1\n"
	    "log_level = debug\n");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.ae_title, "RS1");
	assert_string_equal(c.listen_addr, "127.0.0.1");
	assert_int_equal(c.listen_port, 4242);
	assert_string_equal(c.spool_dir, "/tmp/spool");
	assert_string_equal(c.database, "/tmp/x.db");
	assert_int_equal(c.settle_time, 0);
	assert_int_equal(c.max_associations, 256);
	assert_int_equal(c.nallow, 2);
	assert_string_equal(c.allow[0].ae, "MODALITY1");
	assert_null(c.allow[0].host);
	assert_string_equal(c.allow[1].host, "127.0.0.1");
	assert_int_equal(c.allow[1].line, 10);
	assert_int_equal(c.nsop_classes, 1);
	assert_int_equal(c.log_level, LOG_LV_DEBUG);
	assert_int_equal(c.dimse_timeout, 60);	/* default kept */
	conf_fini(&c);
}

static void
test_defaults(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	write_conf("");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.ae_title, "RADSCRIBE");
	assert_int_equal(c.listen_port, 11112);
	assert_int_equal(c.settle_time, 30);
	assert_int_equal(c.max_associations, 8);
	assert_int_equal(c.nallow, 0);
	assert_int_equal(c.log_level, LOG_LV_INFO);
	conf_fini(&c);
}

/*
 * reprint - print c, check the text holds want (if not NULL), and load
 * that text as a file into *d (OUT): a printed configuration must itself
 * be valid.
 */
static void
reprint(const struct conf *c, const char *want, struct conf *d)
{
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *fp;

	assert_non_null(fp = open_memstream(&buf, &len));
	conf_print(c, fp);
	assert_int_equal(fclose(fp), 0);
	if (want != NULL && strstr(buf, want) == NULL)
		fail_msg("printed configuration lacks \"%s\"", want);
	write_conf(buf);
	if (conf_load(path, d, err, sizeof(err)) == -1)
		fail_msg("printed configuration does not load: %s", err);
	free(buf);
}

static void
test_print_roundtrip(void **state)
{
	struct conf c, d;
	char err[512];

	(void)state;
	write_conf("ae_title = X\nallow = A 127.0.0.1\nsettle_time = 7\n");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	reprint(&c, NULL, &d);
	assert_string_equal(d.ae_title, "X");
	assert_int_equal(d.settle_time, 7);
	assert_int_equal(d.nallow, 1);
	assert_string_equal(d.allow[0].host, "127.0.0.1");
	conf_fini(&c);
	conf_fini(&d);
}

static void
test_bad(void **state)
{
	(void)state;
	expect_error("ae_title = A\nbogus = 1\n", 2, "unknown key \"bogus\"");
	expect_error("settle_time = abc\n", 1, "not a number");
	expect_error("settle_time = 12x\n", 1, "not a number");
	expect_error("\n\nsettle_time = 86401\n", 3, "out of range");
	expect_error("max_associations = 0\n", 1, "out of range");
	expect_error("max_pdu = 99999999999999999999\n", 1, "not a number");
	expect_error("ae_title = THIS_IS_LONGER_THAN_16\n", 1, "not an AE title");
	expect_error("ae_title = A\\B\n", 1, "not an AE title");
	expect_error("ae_title =\n", 1, "not an AE title");
	expect_error("listen = 127.0.0.1\n", 1, "ADDRESS:PORT");
	expect_error("listen = 127.0.0.1:0\n", 1, "bad port");
	expect_error("listen = 127.0.0.1:65536\n", 1, "bad port");
	expect_error("log_level = loud\n", 1, "unknown level");
	expect_error("just some words\n", 1, "name = value");
	expect_error("ae_title = A\nae_title = B\n", 2, "set twice");
	expect_error("allow = A host extra\n", 1, "CALLING_AE [HOST]");
	expect_error("allow = AAAAAAAAAAAAAAAAAAAAA\n", 1, "not an AE title");
	expect_error("spool_dir =\n", 1, "empty value");
	expect_error("accept_sop_class = 1.2 3.4\n", 1, "one UID or name");
	expect_error("findings_prompt = a\\tb\n", 1, "a backslash is");
	expect_error("prompt_layout = USER: {prompt} ASSISTANT:\n", 1,
	    "has no <image>");
}

/* Prompts: \n is a newline, \\ a backslash; printed back escaped. */
static void
test_text_escapes(void **state)
{
	struct conf c, d;
	char err[512];

	(void)state;
	write_conf("prompt_layout = USER: <image>\\n{prompt} ASSISTANT:\n"
	    "impression_prompt = one\\\\two\n"
	    "control_socket = /run/x\\n.sock\n");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.prompt_layout, "USER: <image>\n{prompt} ASSISTANT:");
	assert_string_equal(c.impression.prompt, "one\\two");
	assert_null(c.findings.prompt);
	/* other strings are taken as written */
	assert_string_equal(c.control_socket, "/run/x\\n.sock");
	reprint(&c, "prompt_layout = USER: <image>\\n{prompt} ASSISTANT:\n", &d);
	assert_string_equal(d.prompt_layout, c.prompt_layout);
	assert_string_equal(d.impression.prompt, c.impression.prompt);
	conf_fini(&c);
	conf_fini(&d);
}

static void
test_missing_file(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	assert_int_equal(conf_load("/nonexistent/radscribed.conf", &c, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

/* Every key of the table is documented in radscribed.conf(5). */
static void
test_documented(void **state)
{
	char man[1024], item[128], *text;
	const char *top = getenv("top_srcdir");
	FILE *fp;
	long n;

	(void)state;
	snprintf(man, sizeof(man), "%s/man/radscribed.conf.5", top ? top : ".");
	fp = fopen(man, "r");
	if (fp == NULL)
		fail_msg("cannot open %s (set top_srcdir)", man);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = malloc((size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	text[n] = '\0';
	fclose(fp);
	assert_true(conf_key_count() > 10);
	for (size_t i = 0; i < conf_key_count(); i++) {
		char *at, *end, save;

		snprintf(item, sizeof(item), ".It Cm %s Ns", conf_key_name(i));
		if ((at = strstr(text, item)) == NULL)
			fail_msg("%s does not document key %s", man, conf_key_name(i));
		/* Its entry: up to the next item with text of its own (keys
		 * documented together share one), or the list's end. */
		end = at;
		do {
			end = strchr(end + 1, '\n');
		} while (end != NULL && strncmp(end + 1, ".It Cm ", 7) == 0);
		while (end != NULL && strncmp(end + 1, ".It ", 4) != 0 &&
		    strncmp(end + 1, ".El", 3) != 0)
			end = strchr(end + 1, '\n');
		if (end == NULL)
			fail_msg("%s: the entry of %s does not end", man, conf_key_name(i));
		save = *end;
		*end = '\0';
		if (strstr(at, "default") == NULL && strstr(at, "Default") == NULL)
			fail_msg("%s: key %s has no default stated", man, conf_key_name(i));
		if (strstr(at, ".Dl ") == NULL && strstr(at, ".Bd ") == NULL)
			fail_msg("%s: key %s has no example", man, conf_key_name(i));
		*end = save;
	}
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_escapes, setup, teardown),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_documented),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
