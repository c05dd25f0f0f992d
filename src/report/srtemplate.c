/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * srtemplate - reads an SR content template (XML), validates it against
 * the RELAX NG schema and copies it into a plain struct sr_template.
 * Called by main at start-up (a new template needs a restart).  Errors
 * are "file:line: text" in the caller's buffer, taken from libxml2's structured errors through
 * per-context handlers: nothing goes to stderr and no libxml2 global
 * (error handler, parser defaults) is changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "report/srtemplate.h"
#include "core/xmem.h"

#define TEMPLATE_MAX	(1024 * 1024)	/* a template is a few kB */
#define DISCLAIMER_MAX	4096		/* bytes of UTF-8 */
#define LO_MAX		64		/* VR LO, PS3.5 6.2 */

/* The first error of one parse or validation. */
struct xerr {
	char		*buf;
	size_t		 sz;
	const char	*file;		/* when libxml2 names none */
	int		 set;
};

#if LIBXML_VERSION >= 21200
#define XERR_CONST const
#else
#define XERR_CONST
#endif

static void
xerr_set(struct xerr *x, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
xerr_set(struct xerr *x, const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t n;

	if (x->set)
		return;
	x->set = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* libxml2's messages end in a newline */
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (line > 0)
		snprintf(x->buf, x->sz, "%s:%d: %s", file, line, msg);
	else
		snprintf(x->buf, x->sz, "%s: %s", file, msg);
}

/* on_xml_error - structured error handler: keep the first error. */
static void
on_xml_error(void *data, XERR_CONST xmlError *e)
{
	struct xerr *x = data;

	if (e == NULL || e->level < XML_ERR_ERROR)
		return;
	xerr_set(x, e->file != NULL ? e->file : x->file, e->line, "%s",
	    e->message != NULL ? e->message : "unknown libxml2 error");
}

#if LIBXML_VERSION < 21300
/* on_parse_error - the parser passes its context; ours hangs off _private. */
static void
on_parse_error(void *data, XERR_CONST xmlError *e)
{
	xmlParserCtxtPtr ctxt = data;

	on_xml_error(ctxt->_private, e);
}
#endif

/*
 * read_doc - parse path into a tree with line numbers; no network, no DTD
 * loading, no entity substitution.  NULL with x set.
 */
static xmlDocPtr
read_doc(const char *path, struct xerr *x)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xerr_set(x, path, 0, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1) {
		xerr_set(x, path, 0, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > TEMPLATE_MAX) {
		xerr_set(x, path, 0, "not a regular file of at most %d bytes",
		    TEMPLATE_MAX);
		goto out;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		r = read(fd, buf + got, (size_t)sb.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			xerr_set(x, path, 0, "%s", r == 0 ? "short read" :
			    strerror(errno));
			goto out;
		}
		got += (size_t)r;
	}
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		xerr_set(x, path, 0, "out of memory");
		goto out;
	}
#if LIBXML_VERSION >= 21300
	xmlCtxtSetErrorHandler(ctxt, on_xml_error, x);
#else
	ctxt->_private = x;
	ctxt->sax->serror = on_parse_error;	/* SAX2, initialised */
#endif
	/* without XML_PARSE_RECOVER, a document that is not well-formed
	 * comes back NULL */
	doc = xmlCtxtReadMemory(ctxt, buf, (int)got, path, NULL,
	    XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOWARNING);
	if (doc == NULL)
		xerr_set(x, path, 0, "cannot parse");
out:
	if (ctxt != NULL)
		xmlFreeParserCtxt(ctxt);
	free(buf);
	close(fd);
	return doc;
}

/*
 * validate - 0 if doc matches the schema in rng_path; -1 with x set if it
 * does not, -2 if the schema itself cannot be read or used.
 */
static int
validate(xmlDocPtr doc, const char *rng_path, struct xerr *x)
{
	xmlRelaxNGParserCtxtPtr pctxt = NULL;
	xmlRelaxNGValidCtxtPtr vctxt = NULL;
	xmlRelaxNGPtr schema = NULL;
	xmlDocPtr rdoc;
	struct xerr rx = { x->buf, x->sz, rng_path, 0 };
	int rc = -1;

	if ((rdoc = read_doc(rng_path, &rx)) == NULL) {
		x->set = 1;
		return -2;
	}
	rc = -2;
	if ((pctxt = xmlRelaxNGNewDocParserCtxt(rdoc)) == NULL) {
		xerr_set(x, rng_path, 0, "out of memory");
		goto out;
	}
	xmlRelaxNGSetParserStructuredErrors(pctxt, on_xml_error, &rx);
	if ((schema = xmlRelaxNGParse(pctxt)) == NULL) {
		xerr_set(&rx, rng_path, 0, "not a usable RELAX NG schema");
		x->set = 1;
		goto out;
	}
	if ((vctxt = xmlRelaxNGNewValidCtxt(schema)) == NULL) {
		xerr_set(x, rng_path, 0, "out of memory");
		goto out;
	}
	rc = -1;
	xmlRelaxNGSetValidStructuredErrors(vctxt, on_xml_error, x);
	if (xmlRelaxNGValidateDoc(vctxt, doc) != 0) {
		xerr_set(x, x->file, 0, "does not match the schema %s",
		    rng_path);
		goto out;
	}
	rc = 0;
out:
	if (vctxt != NULL)
		xmlRelaxNGFreeValidCtxt(vctxt);
	if (schema != NULL)
		xmlRelaxNGFree(schema);
	if (pctxt != NULL)
		xmlRelaxNGFreeParserCtxt(pctxt);
	xmlFreeDoc(rdoc);
	return rc;
}

static int
line_of(xmlNodePtr n)
{
	long l = xmlGetLineNo(n);

	return l > 0 && l < 0x7fffffff ? (int)l : 0;
}

/* child - the first element child called name, or NULL with x set. */
static xmlNodePtr
child(xmlNodePtr parent, const char *name, struct xerr *x)
{
	xmlNodePtr n;

	for (n = parent->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrcmp(n->name, (const xmlChar *)name) == 0)
			return n;
	xerr_set(x, x->file, line_of(parent), "<%s> has no <%s>",
	    (const char *)parent->name, name);
	return NULL;
}

static int
in_list(const xmlChar *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (xmlStrcmp(name, (const xmlChar *)*list) == 0)
			return 1;
	return 0;
}

/*
 * check_names - n has only the child elements and attributes listed: the
 * schema says so too, but libxml2's message for a stray name is vague.
 */
static int
check_names(xmlNodePtr n, const char *const *elems, const char *const *attrs,
    struct xerr *x)
{
	for (xmlAttrPtr a = n->properties; a != NULL; a = a->next)
		if (!in_list(a->name, attrs)) {
			xerr_set(x, x->file, line_of(n), "<%s> has an unknown "
			    "attribute %s", (const char *)n->name,
			    (const char *)a->name);
			return -1;
		}
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !in_list(c->name, elems)) {
			xerr_set(x, x->file, line_of(c), "unknown element <%s> "
			    "in <%s>", (const char *)c->name,
			    (const char *)n->name);
			return -1;
		}
	return 0;
}

/*
 * check_value - a DICOM string of VR SH or LO: 1 to max bytes, no
 * backslash, no control character, no leading or trailing space.
 */
static int
check_value(xmlNodePtr n, const char *attr, const char *v, size_t max,
    const char *what, struct xerr *x)
{
	size_t len = strlen(v);

	if (len == 0) {
		xerr_set(x, x->file, line_of(n), "<%s> %s is empty",
		    (const char *)n->name, attr);
		return -1;
	}
	if (len > max) {
		xerr_set(x, x->file, line_of(n), "<%s> %s \"%s\" is %zu bytes "
		    "long; a %s holds at most %zu", (const char *)n->name,
		    attr, v, len, what, max);
		return -1;
	}
	if (v[0] == ' ' || v[len - 1] == ' ') {
		xerr_set(x, x->file, line_of(n), "<%s> %s \"%s\" has a leading "
		    "or trailing space", (const char *)n->name, attr, v);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p == '\\' || *p < 0x20 || *p == 0x7f) {
			xerr_set(x, x->file, line_of(n), "<%s> %s \"%s\" "
			    "holds a backslash or a control character",
			    (const char *)n->name, attr, v);
			return -1;
		}
	return 0;
}

/* get_attr - copy attribute attr of n (of VR SH or LO) into out[outsz]. */
static int
get_attr(xmlNodePtr n, const char *attr, char *out, size_t outsz,
    const char *what, struct xerr *x)
{
	xmlChar *v;
	int rc;

	if ((v = xmlGetProp(n, (const xmlChar *)attr)) == NULL) {
		xerr_set(x, x->file, line_of(n), "<%s> has no %s attribute",
		    (const char *)n->name, attr);
		return -1;
	}
	rc = check_value(n, attr, (const char *)v, outsz - 1, what, x);
	if (rc == 0)
		memcpy(out, v, strlen((const char *)v) + 1);
	xmlFree(v);
	return rc;
}

static int
get_code(xmlNodePtr n, struct sr_code *c, struct xerr *x)
{
	static const char *const none[] = { NULL };
	static const char *const attrs[] = { "value", "scheme", "meaning",
		NULL };

	if (check_names(n, none, attrs, x) == -1)
		return -1;
	if (get_attr(n, "value", c->value, sizeof(c->value),
	    "Code Value (SH)", x) == -1 ||
	    get_attr(n, "scheme", c->scheme, sizeof(c->scheme),
	    "Coding Scheme Designator (SH)", x) == -1 ||
	    get_attr(n, "meaning", c->meaning, sizeof(c->meaning),
	    "Code Meaning (LO)", x) == -1)
		return -1;
	return 0;
}

/* get_child_code - the code in <parent><name .../></parent>. */
static int
get_child_code(xmlNodePtr parent, const char *name, struct sr_code *c,
    struct xerr *x)
{
	xmlNodePtr n;

	if ((n = child(parent, name, x)) == NULL)
		return -1;
	return get_code(n, c, x);
}

/* collapse - XML Schema whiteSpace "collapse", in place. */
static void
collapse(char *s)
{
	char *w = s;
	int space = 0;

	for (char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
			space = w != s;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = 0;
		*w++ = *r;
	}
	*w = '\0';
}

/* has_child - parent has an element child called name. */
static int
has_child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrcmp(n->name, (const xmlChar *)name) == 0)
			return 1;
	return 0;
}

/*
 * get_text_item - a TEXT item: the concept in n's attributes, the text
 * (whitespace collapsed, no control character) as its content; *text is
 * the caller's.  -1 with x set.
 */
static int
get_text_item(xmlNodePtr n, const char *name, struct sr_code *concept,
    char **text, struct xerr *x)
{
	xmlChar *v;
	char *s;
	size_t len;

	if (get_code(n, concept, x) == -1)
		return -1;
	if ((v = xmlNodeGetContent(n)) == NULL) {
		xerr_set(x, x->file, line_of(n), "out of memory");
		return -1;
	}
	s = xstrdup((const char *)v);
	xmlFree(v);
	collapse(s);
	len = strlen(s);
	if (len == 0 || len > DISCLAIMER_MAX) {
		xerr_set(x, x->file, line_of(n), "<%s> text is empty "
		    "or longer than %d bytes", name, DISCLAIMER_MAX);
		free(s);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			xerr_set(x, x->file, line_of(n), "<%s> text "
			    "holds a control character", name);
			free(s);
			return -1;
		}
	*text = s;
	return 0;
}

/* extract - fill t from a parsed template; -1 with x set. */
static int
extract(xmlDocPtr doc, struct sr_template *t, struct xerr *x)
{
	static const char *const top[] = { "title", "language", "findings",
		"impression", "image-purpose", "disclaimer", "body-part-note",
		"device", "equipment-purpose", NULL };
	static const char *const section[] = { "heading", "item", NULL };
	static const char *const version[] = { "version", NULL };
	static const char *const manufacturer[] = { "manufacturer", NULL };
	static const char *const none[] = { NULL };
	xmlNodePtr root, n, sec;
	xmlChar *v;

	if ((root = xmlDocGetRootElement(doc)) == NULL ||
	    xmlStrcmp(root->name, (const xmlChar *)"sr-template") != 0) {
		xerr_set(x, x->file, root ? line_of(root) : 0,
		    "the root element is not <sr-template>");
		return -1;
	}
	v = xmlGetProp(root, (const xmlChar *)"version");
	if (v == NULL || xmlStrcmp(v, (const xmlChar *)"1") != 0) {
		xerr_set(x, x->file, line_of(root), "<sr-template> version "
		    "is not 1");
		xmlFree(v);
		return -1;
	}
	xmlFree(v);
	if (check_names(root, top, version, x) == -1)
		return -1;
	if (get_child_code(root, "title", &t->title, x) == -1 ||
	    get_child_code(root, "language", &t->language, x) == -1)
		return -1;
	if ((sec = child(root, "findings", x)) == NULL ||
	    check_names(sec, section, none, x) == -1 ||
	    get_child_code(sec, "heading", &t->findings_section, x) == -1 ||
	    get_child_code(sec, "item", &t->findings_item, x) == -1)
		return -1;
	if ((sec = child(root, "impression", x)) == NULL ||
	    check_names(sec, section, none, x) == -1 ||
	    get_child_code(sec, "heading", &t->impression_section, x) == -1 ||
	    get_child_code(sec, "item", &t->impression_item, x) == -1)
		return -1;
	if (get_child_code(root, "image-purpose", &t->image_purpose, x) == -1 ||
	    get_child_code(root, "equipment-purpose", &t->equipment_purpose,
	    x) == -1)
		return -1;

	if ((n = child(root, "disclaimer", x)) == NULL ||
	    get_text_item(n, "disclaimer", &t->disclaimer_concept,
	    &t->disclaimer, x) == -1)
		return -1;
	/* optional: older templates lack it, and get the built-in text */
	if (has_child(root, "body-part-note")) {
		if ((n = child(root, "body-part-note", x)) == NULL ||
		    get_text_item(n, "body-part-note", &t->body_part_concept,
		    &t->body_part_note, x) == -1)
			return -1;
	} else {
		t->body_part_concept = t->disclaimer_concept;
		t->body_part_note = xstrdup(SR_BODY_PART_NOTE);
	}

	if ((n = child(root, "device", x)) == NULL ||
	    check_names(n, none, manufacturer, x) == -1)
		return -1;
	{
		char m[LO_MAX + 1];

		if (get_attr(n, "manufacturer", m, sizeof(m),
		    "Manufacturer (LO)", x) == -1)
			return -1;
		t->manufacturer = xstrdup(m);
	}
	return 0;
}

/* sr_template_load - parse, validate, copy; NULL with "file:line: ..." */
struct sr_template *
sr_template_load(const char *xml_path, const char *rng_path, char *err,
    size_t errsz)
{
	struct sr_template *t = NULL;
	struct xerr x = { err, errsz, xml_path, 0 };
	struct xerr detail;
	char dbuf[512];
	xmlDocPtr doc;
	int rc;

	if (errsz > 0)
		err[0] = '\0';
	xmlInitParser();	/* idempotent; main thread */
	if ((doc = read_doc(xml_path, &x)) == NULL)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	if ((rc = validate(doc, rng_path, &x)) != 0) {
		/*
		 * libxml2's RELAX NG messages can be vague ("failed to
		 * validate attributes"); our own checks name the attribute
		 * and the rule, so prefer theirs when they find something.
		 */
		detail = (struct xerr){ dbuf, sizeof(dbuf), xml_path, 0 };
		if (rc == -1 && extract(doc, t, &detail) == -1 && detail.set)
			snprintf(err, errsz, "%s", dbuf);
		goto fail;
	}
	if (extract(doc, t, &x) == -1)
		goto fail;
	t->path = xstrdup(xml_path);
	xmlFreeDoc(doc);
	return t;
fail:
	xmlFreeDoc(doc);
	sr_template_free(t);
	return NULL;
}

/* sr_template_free - NULL does nothing. */
void
sr_template_free(struct sr_template *t)
{
	if (t == NULL)
		return;
	free(t->disclaimer);
	free(t->body_part_note);
	free(t->manufacturer);
	free(t->path);
	free(t);
}
