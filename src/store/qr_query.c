/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr_query - PS3.4 C.2.2.2 matching as SQL over qr_index.  Each key the
 * level supports becomes a condition (universal, single value, wildcard,
 * list of UIDs, date or time range) with its value bound, never spliced
 * into the text; the statement groups rows by the unique key of the
 * query level.  Called on association threads with their own connection.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_sql.h"
#include "core/log.h"
#include "store/qr_query.h"
#include "store/qr_schema.h"
#include "core/xmem.h"

struct sql {
	char	*s;
	size_t	 len, cap;
	char	**bind;		/* values bound in order, owned */
	size_t	 nbind;
};

static void
add(struct sql *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			panic("qr query: vsnprintf");
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n;
		b->s = xrealloc(b->s, b->cap);
	}
	b->len += (size_t)n;
}

/* bind - "?" in the text, s (first len bytes) as its value. */
static void
bind(struct sql *b, const char *s, size_t len)
{
	char *v = xmalloc(len + 1);

	memcpy(v, s, len);
	v[len] = '\0';
	b->bind = xrealloc(b->bind, (b->nbind + 1) * sizeof(*b->bind));
	b->bind[b->nbind++] = v;
	add(b, "?");
}

static void
sql_fini(struct sql *b)
{
	for (size_t i = 0; i < b->nbind; i++)
		free(b->bind[i]);
	free(b->bind);
	free(b->s);
}

static const char *const level_key[] = {	/* unique key of each level */
	"PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"
};

/* The rows a query sees: the reports, or everything (query_images). */
static const char *
source(int images)
{
	/* a simple subquery: SQLite flattens it and keeps the indexes */
	return images ? "qr_index" :
	    "(SELECT * FROM qr_index WHERE report_id IS NOT NULL)";
}

/* glob - a DICOM wildcard value as a GLOB pattern: only '[' is special. */
static void
bind_glob(struct sql *b, const char *v)
{
	size_t n = strlen(v), k = 0;
	char *p = xmalloc(3 * n + 1);

	for (size_t i = 0; i < n; i++) {
		if (v[i] == '[') {
			memcpy(p + k, "[[]", 3);
			k += 3;
		} else
			p[k++] = v[i];
	}
	bind(b, p, k);
	free(p);
}

static int
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* date - YYYYMMDD (PS3.5 6.2 DA). */
static int
date_ok(const char *s, size_t n)
{
	return n == 8 && all_digits(s, n);
}

/*
 * time_bound - a TM as the lowest (upper == 0) or highest time it names,
 * as HHMMSS.FFFFFF text: "10" is 100000 to 105959.999999.  -1 if not a
 * time.
 */
static int
time_bound(const char *s, size_t n, int upper, char *out, size_t outsz)
{
	char t[32];
	size_t k = 0, ip;
	const char *dot;

	for (size_t i = 0; i < n && k + 1 < sizeof(t); i++)
		if (s[i] != ':')
			t[k++] = s[i];
	t[k] = '\0';
	dot = strchr(t, '.');
	ip = dot ? (size_t)(dot - t) : k;
	if ((ip != 2 && ip != 4 && ip != 6) || !all_digits(t, ip) ||
	    (dot && (ip != 6 || k - ip - 1 < 1 || k - ip - 1 > 6 ||
	    !all_digits(dot + 1, k - ip - 1))))
		return -1;
	if (!upper) {
		snprintf(out, outsz, "%.*s%s%s", (int)ip, t, &"000000"[ip],
		    dot ? dot : "");
		return 0;
	}
	snprintf(out, outsz, "%.*s%s.%s%s", (int)ip, t, &"595959"[ip],
	    dot ? dot + 1 : "", &"999999"[dot ? k - ip - 1 : 0]);
	return 0;
}

/* range - split "A-B" (either side may be empty); 0 if no '-'. */
static int
range(const char *v, const char **a, size_t *na, const char **b, size_t *nb)
{
	const char *dash = strchr(v, '-');

	if (dash == NULL)
		return 0;
	*a = v;
	*na = (size_t)(dash - v);
	*b = dash + 1;
	*nb = strlen(dash + 1);
	return 1;
}

/*
 * condition - " AND ..." for one key, into w; 0, or -1 with why set when
 * the value is not valid for the attribute's VR (0xC000).
 */
static int
condition(struct sql *w, const struct qr_attr *a, const char *v, int images,
    char *why, size_t whysz)
{
	const char *col = a->column, *x, *y, *p;
	size_t nx, ny;
	char lo[40], hi[40];

	if (*v == '\0' || strcmp(v, "*") == 0)
		return 0;	/* universal matching, C.2.2.2.3 */
	switch (a->kind) {
	case QR_TEXT:
	case QR_PN:
		if (a->kind == QR_PN)
			add(w, " AND upper(q.%s) %s upper(", col,
			    strpbrk(v, "*?") ? "GLOB" : "=");
		else
			add(w, " AND q.%s %s (", col, strpbrk(v, "*?") ? "GLOB" : "=");
		if (strpbrk(v, "*?"))
			bind_glob(w, v);	/* wildcard matching, C.2.2.2.4 */
		else
			bind(w, v, strlen(v));	/* single value matching, C.2.2.2.1 */
		add(w, ")");
		return 0;
	case QR_UI:
		/* list of UID matching, C.2.2.2.2 */
		add(w, " AND q.%s IN (", col);
		for (p = v;;) {
			const char *e = strchr(p, '\\');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			while (n > 0 && p[n - 1] == ' ')
				n--;
			while (n > 0 && *p == ' ') {
				p++;
				n--;
			}
			bind(w, p, n);
			if (e == NULL)
				break;
			add(w, ", ");
			p = e + 1;
		}
		add(w, ")");
		return 0;
	case QR_DA:
		/* range matching, C.2.2.2.5 */
		if (!range(v, &x, &nx, &y, &ny)) {
			if (!date_ok(v, strlen(v)))
				goto bad;
			add(w, " AND q.%s = ", col);
			bind(w, v, strlen(v));
			return 0;
		}
		if ((nx == 0 && ny == 0) || (nx && !date_ok(x, nx)) ||
		    (ny && !date_ok(y, ny)))
			goto bad;
		if (nx) {
			add(w, " AND q.%s >= ", col);
			bind(w, x, nx);
		}
		if (ny) {
			add(w, " AND q.%s <= ", col);
			bind(w, y, ny);
		}
		return 0;
	case QR_TM:
		if (!range(v, &x, &nx, &y, &ny)) {
			x = y = v;
			nx = ny = strlen(v);
		} else if (nx == 0 && ny == 0)
			goto bad;
		if (nx) {
			if (time_bound(x, nx, 0, lo, sizeof(lo)) == -1)
				goto bad;
			add(w, " AND q.%s >= ", col);
			bind(w, lo, strlen(lo));
		}
		if (ny) {
			if (time_bound(y, ny, 1, hi, sizeof(hi)) == -1)
				goto bad;
			add(w, " AND q.%s <= ", col);
			bind(w, hi, strlen(hi));
		}
		return 0;
	case QR_IS:
		p = v + (*v == '+' || *v == '-');
		if (*p == '\0' || !all_digits(p, strlen(p)) || strlen(p) > 10)
			goto bad;
		add(w, " AND CAST(q.%s AS INTEGER) = CAST(", col);
		bind(w, v, strlen(v));
		add(w, " AS INTEGER)");
		return 0;
	case QR_INSTUDY:
		/* the study has one (or more) of the values */
		add(w, " AND q.StudyInstanceUID IN (SELECT StudyInstanceUID FROM "
		    "%s WHERE 0", source(images));
		for (p = v;;) {
			const char *e = strchr(p, '\\');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			char *one = xmalloc(n + 1);

			memcpy(one, p, n);
			one[n] = '\0';
			add(w, " OR %s %s ", col, strpbrk(one, "*?") ? "GLOB" : "=");
			if (strpbrk(one, "*?"))
				bind_glob(w, one);
			else
				bind(w, one, n);
			free(one);
			if (e == NULL)
				break;
			p = e + 1;
		}
		add(w, ")");
		return 0;
	case QR_COUNT:
		break;
	}
	return 0;
bad:
	/* the value itself may be patient data (a birth date): not in why */
	snprintf(why, whysz, "%s: not a valid %s", a->column,
	    a->kind == QR_DA ? "date or date range" : a->kind == QR_TM ?
	    "time or time range" : "integer");
	return -1;
}

/* supported - the attribute is matched and returned at this level. */
static int
supported(const struct qr_attr *a, enum dcm_qr_level level)
{
	if (a == NULL)
		return 0;
	if (a->kind == QR_COUNT || a->kind == QR_INSTUDY)
		return a->level == level;
	return a->level <= level;
}

/* column - the SELECT expression of a's value for a row or a group. */
static void
column(struct sql *s, const struct qr_attr *a, enum dcm_qr_level level,
    int images)
{
	if (a->kind == QR_COUNT)
		add(s, "%s", a->expr);
	else if (a->kind == QR_INSTUDY)
		add(s, "(SELECT group_concat(v, '\\') FROM (SELECT DISTINCT "
		    "i.%s AS v FROM %s i WHERE i.StudyInstanceUID = "
		    "q.StudyInstanceUID ORDER BY v))", a->column, source(images));
	else if (level == DCM_QR_IMAGE)
		add(s, "q.%s", a->column);
	else
		add(s, "max(q.%s)", a->column);
}

static enum dcm_qr_rc
prepare(struct db *db, struct sql *s, sqlite3_stmt **st, char *why, size_t whysz)
{
	if (sqlite3_prepare_v2(db_sqlite(db), s->s, -1, st, NULL) != SQLITE_OK) {
		snprintf(why, whysz, "database: %s", db_errmsg(db));
		return DCM_QR_NO_RESOURCES;
	}
	for (size_t i = 0; i < s->nbind; i++)
		sqlite3_bind_text(*st, (int)i + 1, s->bind[i], -1, SQLITE_STATIC);
	return DCM_QR_OK;
}

/* qr_query_find - C-FIND matches of q, one SQL statement */
enum dcm_qr_rc
qr_query_find(struct db *db, const struct dcm_qr_query *q, int images,
    size_t max,
    struct dcm_qr_matches *m, char *why, size_t whysz)
{
	struct sql s = { xmalloc(1024), 0, 1024, NULL, 0 };
	struct sql w = { xmalloc(1024), 0, 1024, NULL, 0 };
	sqlite3_stmt *st = NULL;
	enum dcm_qr_rc rc = DCM_QR_OK;
	size_t cap = 0;
	int step;

	memset(m, 0, sizeof(*m));
	s.s[0] = w.s[0] = '\0';
	add(&s, "SELECT ");
	for (size_t k = 0; k < q->nkeys; k++) {
		const struct qr_attr *a = qr_schema_find(q->keys[k].tag);

		if (k > 0)
			add(&s, ", ");
		if (q->keys[k].sequence || !supported(a, q->level)) {
			add(&s, "NULL");
			m->unsupported = 1;
			continue;
		}
		column(&s, a, q->level, images);
		if (a->kind == QR_COUNT && q->keys[k].value[0] != '\0')
			m->unsupported = 1;	/* returned, not matched */
		else if (condition(&w, a, q->keys[k].value, images, why,
		    whysz) == -1) {
			rc = DCM_QR_CANNOT_PROCESS;
			goto out;
		}
	}
	if (q->nkeys == 0)
		add(&s, "NULL");
	add(&s, " FROM %s q WHERE 1%s", source(images), w.s);
	if (q->level == DCM_QR_IMAGE)
		add(&s, " ORDER BY q.id");
	else
		add(&s, " GROUP BY q.%s ORDER BY min(q.id)", level_key[q->level]);
	/* one more than allowed, to tell that there were more */
	if (max > 0)
		add(&s, " LIMIT %zu", max + 1);
	/* the WHERE's values follow the SELECT's (which has none) */
	s.bind = w.bind;
	s.nbind = w.nbind;
	w.bind = NULL;
	w.nbind = 0;
	if ((rc = prepare(db, &s, &st, why, whysz)) != DCM_QR_OK)
		goto out;
	while ((step = db_step(db, st)) == SQLITE_ROW) {
		if (m->n == cap) {
			cap = cap ? 2 * cap : 16;
			m->v = xrealloc(m->v, cap * (q->nkeys ? q->nkeys : 1) *
			    sizeof(*m->v));
		}
		for (size_t k = 0; k < q->nkeys; k++) {
			const unsigned char *t = sqlite3_column_text(st, (int)k);

			m->v[m->n * q->nkeys + k] = t && *t ?
			    xstrdup((const char *)t) : NULL;
		}
		m->n++;
	}
	if (step == SQLITE_DONE && max > 0 && m->n > max) {
		m->n--;
		for (size_t k = 0; k < q->nkeys; k++)
			free(m->v[m->n * q->nkeys + k]);
		m->truncated = 1;
	}
	if (step != SQLITE_DONE) {
		snprintf(why, whysz, "database: %s", db_errmsg(db));
		qr_query_matches_free(m, q->nkeys);
		rc = DCM_QR_NO_RESOURCES;
	}
out:
	if (rc != DCM_QR_OK)
		memset(m, 0, sizeof(*m));
	sqlite3_finalize(st);
	sql_fini(&s);
	sql_fini(&w);
	return rc;
}

/* qr_query_retrieve - the files the unique keys of q select */
enum dcm_qr_rc
qr_query_retrieve(struct db *db, const struct dcm_qr_query *q, int images,
    struct dcm_qr_file **files, size_t *n, char *why, size_t whysz)
{
	struct sql s = { xmalloc(1024), 0, 1024, NULL, 0 };
	sqlite3_stmt *st = NULL;
	enum dcm_qr_rc rc = DCM_QR_OK;
	size_t cap = 0;
	int step, nkeys = 0;

	*files = NULL;
	*n = 0;
	s.s[0] = '\0';
	add(&s, "SELECT q.path, q.SOPClassUID, q.SOPInstanceUID, "
	    "q.transfer_syntax FROM %s q WHERE 1", source(images));
	for (size_t k = 0; k < q->nkeys; k++) {
		const struct qr_attr *a = qr_schema_find(q->keys[k].tag);
		int unique = 0;

		for (int l = 0; l <= (int)q->level && a != NULL; l++)
			if (strcmp(a->column, level_key[l]) == 0 && (int)a->level == l)
				unique = 1;
		if (!unique || q->keys[k].value[0] == '\0')
			continue;
		if (condition(&s, a, q->keys[k].value, images, why, whysz) == -1) {
			rc = DCM_QR_CANNOT_PROCESS;
			goto out;
		}
		nkeys++;
	}
	if (nkeys == 0) {
		snprintf(why, whysz, "no unique key to retrieve by");
		rc = DCM_QR_BAD_IDENTIFIER;
		goto out;
	}
	add(&s, " ORDER BY q.id");
	if ((rc = prepare(db, &s, &st, why, whysz)) != DCM_QR_OK)
		goto out;
	while ((step = db_step(db, st)) == SQLITE_ROW) {
		struct dcm_qr_file *f;

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*files = xrealloc(*files, cap * sizeof(**files));
		}
		f = &(*files)[(*n)++];
		memset(f, 0, sizeof(*f));
		f->path = xstrdup((const char *)sqlite3_column_text(st, 0));
		snprintf(f->sop_class_uid, sizeof(f->sop_class_uid), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		snprintf(f->sop_instance_uid, sizeof(f->sop_instance_uid), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		snprintf(f->transfer_syntax, sizeof(f->transfer_syntax), "%s",
		    (const char *)sqlite3_column_text(st, 3));
	}
	if (step != SQLITE_DONE) {
		snprintf(why, whysz, "database: %s", db_errmsg(db));
		rc = DCM_QR_NO_RESOURCES;
	}
out:
	if (rc != DCM_QR_OK) {
		qr_query_files_free(*files, *n);
		*files = NULL;
		*n = 0;
	}
	sqlite3_finalize(st);
	sql_fini(&s);
	return rc;
}

/* qr_query_matches_free - what qr_query_find filled */
void
qr_query_matches_free(struct dcm_qr_matches *m, size_t nkeys)
{
	if (m == NULL || m->v == NULL)
		return;
	for (size_t i = 0; i < m->n * nkeys; i++)
		free(m->v[i]);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* qr_query_files_free - what qr_query_retrieve returned */
void
qr_query_files_free(struct dcm_qr_file *files, size_t n)
{
	if (files == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}
