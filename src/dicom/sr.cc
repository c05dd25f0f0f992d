/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sr - the draft report as a DICOM SR Document (PS3.16 TID 2000), built
 * with dcmsr: the content tree from the template and the generated texts,
 * the patient and study modules from the study's first instance, evidence
 * from all of them.  Called by the worker thread; keeps no state between
 * calls.  Never lets an exception out and never leaves a partial file.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcvrui.h"
#include "dcmtk/dcmsr/codes/dcm.h"
#include "dcmtk/dcmsr/dsrdoc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

extern "C" {
#include "core/log.h"
}
#include "dicom/bridge_priv.h"
#include "dicom/sr.h"

namespace {

/* Thrown inside this file only; sr_write turns it into err. */
struct sr_error {
	std::string msg;
};

[[noreturn]] void fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

void
fail(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	throw sr_error{buf};
}

void
ck(const OFCondition &c, const char *what)
{
	if (c.bad())
		fail("%s: %s", what, c.text());
}

/* ---------------------------------------------------------------- text */

/* utf8_len - length of the valid UTF-8 sequence at s, or 0 (RFC 3629). */
size_t
utf8_len(const unsigned char *s, size_t left)
{
	unsigned int c = s[0], cp;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
valid_utf8(const std::string &s)
{
	const unsigned char *p = (const unsigned char *)s.data();
	size_t left = s.size(), n;

	while (left > 0) {
		if ((n = utf8_len(p, left)) == 0)
			return false;
		p += n;
		left -= n;
	}
	return true;
}

/*
 * clean_text - generated text as a valid UT value in ISO_IR 192: invalid
 * UTF-8 (a beam cut inside a character) becomes U+FFFD, control
 * characters other than TAB, LF, FF and CR are dropped (PS3.5 6.1.3).
 */
std::string
clean_text(const char *in)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t left = strlen((const char *)p), n;
	std::string out;

	while (left > 0) {
		if ((n = utf8_len(p, left)) == 0) {
			out += "\xef\xbf\xbd";
			p++, left--;
			continue;
		}
		if (n > 1 || *p >= 0x20 || *p == '\t' || *p == '\n' ||
		    *p == '\f' || *p == '\r') {
			if (*p != 0x7f)
				out.append((const char *)p, n);
		}
		p += n;
		left -= n;
	}
	return out;
}

/* one_line - clean_text with every control character made a space. */
std::string
one_line(const char *in)
{
	std::string s = clean_text(in);

	for (char &c : s)
		if ((unsigned char)c < 0x20)
			c = ' ';
	return s;
}

/* lo - at most 64 bytes (VR LO), cut at a character boundary. */
std::string
lo(const std::string &s)
{
	size_t n = s.size();

	if (n <= 64)
		return s;
	n = 64;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return s.substr(0, n);
}

/* ------------------------------------------------------------- sources */

struct source {
	OFString	sop_class, sop_instance, study, series;
};

void
need_uid(const OFString &v, const char *what, const char *where)
{
	if (v.empty() || v.length() > 64 ||
	    DcmUniqueIdentifier::checkStringValue(v, "1").bad())
		fail("%s: %s \"%s\" is missing or not a valid UID", where, what,
		    v.c_str());
}

void
get_uid(DcmItem *ds, const DcmTagKey &tag, OFString &out, const char *what,
    const char *path)
{
	out.clear();
	ds->findAndGetOFString(tag, out);
	need_uid(out, what, path);
}

/* read_source - the instance's header (up to the pixels) and its UIDs. */
void
read_source(const char *path, DcmFileFormat &ff, source &s)
{
	char err[512];

	if (path == NULL || path[0] == '\0')
		fail("source file name is empty");
	if (bridge_load_header(ff, path, err, sizeof(err)) == -1)
		fail("source %s", err);
	DcmDataset *ds = ff.getDataset();
	get_uid(ds, DCM_SOPClassUID, s.sop_class, "SOP Class UID", path);
	get_uid(ds, DCM_SOPInstanceUID, s.sop_instance, "SOP Instance UID",
	    path);
	get_uid(ds, DCM_StudyInstanceUID, s.study, "Study Instance UID", path);
	get_uid(ds, DCM_SeriesInstanceUID, s.series, "Series Instance UID",
	    path);
}

/*
 * Patient and study attributes copied from the first source.  Type 2
 * ones the source lacks stay as dcmsr writes them: empty.
 */
const DcmTagKey copied[] = {
	/* Patient Module, PS3.3 C.7.1.1 */
	DCM_PatientName, DCM_PatientID, DCM_IssuerOfPatientID,
	DCM_PatientBirthDate, DCM_PatientSex,
	/* General Study Module, PS3.3 C.7.2.1 */
	DCM_StudyDate, DCM_StudyTime, DCM_ReferringPhysicianName, DCM_StudyID,
	DCM_AccessionNumber, DCM_StudyDescription,
	/* Patient Study Module, PS3.3 C.7.2.2 */
	DCM_PatientAge, DCM_PatientSize, DCM_PatientWeight,
};

bool
any_8bit(DcmItem &it)
{
	for (unsigned long i = 0; i < it.card(); i++) {
		DcmElement *e = it.getElement(i);
		OFString v;

		if (e->isAffectedBySpecificCharacterSet() &&
		    e->getOFStringArray(v).good())
			for (size_t k = 0; k < v.length(); k++)
				if ((unsigned char)v[k] >= 0x80)
					return true;
	}
	return false;
}

bool
all_utf8(DcmItem &it, OFString *bad)
{
	for (unsigned long i = 0; i < it.card(); i++) {
		DcmElement *e = it.getElement(i);
		OFString v;

		if (e->isAffectedBySpecificCharacterSet() &&
		    e->getOFStringArray(v).good() &&
		    !valid_utf8(std::string(v.c_str(), v.length()))) {
			if (bad != NULL) {
				DcmTag tag(e->getTag());
				const char *name = tag.getTagName();
				*bad = name ? name : "an attribute";
			}
			return false;
		}
	}
	return true;
}

/*
 * patient_study - the copied attributes of the first source, converted
 * to UTF-8 (the SR is written in ISO_IR 192).  A source without Specific
 * Character Set whose text has 8-bit bytes breaks PS3.5 6.1.2.2; rather
 * than refuse the study, such text is read as UTF-8 when it is valid
 * UTF-8, else as ISO_IR 100 (Latin-1 maps every byte).
 */
void
patient_study(DcmDataset *src, const char *path, DcmItem &out)
{
	OFString cs, bad;

	for (const DcmTagKey &t : copied) {
		DcmElement *e = NULL;

		if (src->findAndGetElement(t, e).good() && e != NULL)
			ck(out.insert(OFstatic_cast(DcmElement *, e->clone()),
			    OFTrue), "copy patient/study attribute");
	}
	src->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs);
	while (!cs.empty() && cs[cs.length() - 1] == ' ')
		cs.erase(cs.length() - 1);
	while (!cs.empty() && cs[0] == ' ')
		cs.erase(0, 1);
	if (cs.empty() || cs == "ISO_IR 6") {
		if (!any_8bit(out))
			return;
		cs = all_utf8(out, NULL) ? "ISO_IR 192" : "ISO_IR 100";
		log_warn("source %s: no Specific Character Set, yet 8-bit "
		    "text; read as %s", path, cs.c_str());
		if (cs == "ISO_IR 192")
			return;
	}
	if (cs != "ISO_IR 192") {
		OFCondition c = out.convertCharacterSet(cs, "ISO_IR 192", 0,
		    OFFalse);
		if (c.bad())
			fail("source %s: cannot convert its text from "
			    "Specific Character Set \"%s\" to UTF-8: %s", path,
			    cs.c_str(), c.text());
	}
	if (!all_utf8(out, &bad))
		fail("source %s: %s is not valid text in Specific Character "
		    "Set \"%s\"", path, bad.c_str(), cs.c_str());
}

/* ---------------------------------------------------------------- tree */

DSRCodedEntryValue
code(const sr_code &c)
{
	return DSRCodedEntryValue(c.value, c.scheme, c.meaning,
	    DSRTypes::CVT_Short, OFFalse);
}

/* add - a content item after the current one (or below it). */
void
add(DSRDocumentTree &tree, DSRTypes::E_RelationshipType rel,
    DSRTypes::E_ValueType vt, const DSRCodedEntryValue &concept, bool below,
    const char *what)
{
	OFCondition c;

	if (below)
		c = tree.addChildContentItem(rel, vt, concept, OFFalse);
	else
		c = tree.addContentItem(rel, vt, concept, OFFalse);
	ck(c, what);
}

void
set_text(DSRDocumentTree &tree, const std::string &v, const char *what)
{
	/* The VR check does not know the character set; v is valid UTF-8. */
	ck(tree.getCurrentContentItem().setStringValue(OFString(v.c_str(),
	    v.size()), OFFalse), what);
}

void
build_tree(const sr_request *r, const std::vector<source> &src,
    DSRDocumentTree &tree)
{
	const sr_template *t = r->tmpl;
	std::string model = one_line(r->model_name);
	std::string version = one_line(r->model_version);
	size_t section;

	/* TID 2000 row 1: the root, with its template identification */
	ck(tree.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container,
	    code(t->title), OFFalse), "document title");
	ck(tree.getCurrentContentItem().setTemplateIdentification("2000",
	    "DCMR"), "template identification");

	/* row 3: TID 1204 */
	add(tree, DSRTypes::RT_hasConceptMod, DSRTypes::VT_Code,
	    CODE_DCM_LanguageOfContentItemAndDescendants, true, "language");
	ck(tree.getCurrentContentItem().setCodeValue(code(t->language),
	    OFFalse), "language");

	/* row 5: TID 1001 > TID 1002 observer context, a device (TID 1004) */
	add(tree, DSRTypes::RT_hasObsContext, DSRTypes::VT_Code,
	    CODE_DCM_ObserverType, false, "observer type");
	ck(tree.getCurrentContentItem().setCodeValue(CODE_DCM_Device, OFFalse),
	    "observer type");
	add(tree, DSRTypes::RT_hasObsContext, DSRTypes::VT_UIDRef,
	    CODE_DCM_DeviceObserverUID, false, "device observer UID");
	set_text(tree, r->device_uid, "device observer UID");
	add(tree, DSRTypes::RT_hasObsContext, DSRTypes::VT_Text,
	    CODE_DCM_DeviceObserverName, false, "device observer name");
	set_text(tree, model, "device observer name");
	add(tree, DSRTypes::RT_hasObsContext, DSRTypes::VT_Text,
	    CODE_DCM_DeviceObserverManufacturer, false,
	    "device observer manufacturer");
	set_text(tree, one_line(t->manufacturer),
	    "device observer manufacturer");
	add(tree, DSRTypes::RT_hasObsContext, DSRTypes::VT_Text,
	    CODE_DCM_DeviceObserverModelName, false,
	    "device observer model name");
	set_text(tree, version.empty() ? model : model + " " + version,
	    "device observer model name");

	/* row 6: Findings; TID 2002 TEXT items, then TID 2001 IMAGE items */
	add(tree, DSRTypes::RT_contains, DSRTypes::VT_Container,
	    code(t->findings_section), false, "findings section");
	section = tree.getNodeID();
	add(tree, DSRTypes::RT_contains, DSRTypes::VT_Text,
	    code(t->disclaimer_concept), true, "disclaimer");
	set_text(tree, one_line(t->disclaimer), "disclaimer");
	if (r->body_part_unknown) {
		add(tree, DSRTypes::RT_contains, DSRTypes::VT_Text,
		    code(t->body_part_concept), false, "body part note");
		set_text(tree, one_line(t->body_part_note), "body part note");
	}
	add(tree, DSRTypes::RT_contains, DSRTypes::VT_Text,
	    code(t->findings_item), false, "findings");
	set_text(tree, clean_text(r->findings), "findings");
	for (size_t i = 0; i < r->nused; i++) {
		const source &s = src[r->used[i]];

		add(tree, DSRTypes::RT_contains, DSRTypes::VT_Image,
		    code(t->image_purpose), false, "image reference");
		DSRImageReferenceValue ref(s.sop_class, s.sop_instance);

		ck(tree.getCurrentContentItem().setImageReference(ref, OFTrue),
		    "image reference");
	}
	if (tree.gotoNode(section) != section)
		fail("findings section lost");

	/* row 6: Impressions */
	add(tree, DSRTypes::RT_contains, DSRTypes::VT_Container,
	    code(t->impression_section), false, "impression section");
	add(tree, DSRTypes::RT_contains, DSRTypes::VT_Text,
	    code(t->impression_item), true, "impression");
	set_text(tree, clean_text(r->impression), "impression");
}

/* ---------------------------------------------------------------- header */

struct stamp {
	char	date[9], time[7], tz[6], dt[20];
};

void
now_stamp(stamp &s)
{
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL)
		fail("localtime failed");
	strftime(s.date, sizeof(s.date), "%Y%m%d", &tm);
	strftime(s.time, sizeof(s.time), "%H%M%S", &tm);
	strftime(s.tz, sizeof(s.tz), "%z", &tm);
	snprintf(s.dt, sizeof(s.dt), "%s%s%s", s.date, s.time, s.tz);
}

void
put(DcmItem *it, const DcmTagKey &tag, const std::string &v, const char *what)
{
	ck(it->putAndInsertOFStringArray(tag, OFString(v.c_str(), v.size())),
	    what);
}

/*
 * contributing_equipment - the algorithm, as IHE AIR asks (Rev. 1.1,
 * 6.5.3.1): purpose of reference, manufacturer, model name and software
 * versions (PS3.3 C.12.1 Contributing Equipment Sequence).  AIR also
 * lists Device UID there, which the SOP Common Module does not define in
 * that sequence (dciodvfy: "not present in standard DICOM IOD"); the
 * device UID is the Device Observer UID of the content tree instead.
 */
void
contributing_equipment(const sr_request *r, const stamp &now, DcmDataset *ds)
{
	const sr_code &p = r->tmpl->equipment_purpose;
	DcmItem *eq = NULL, *pu = NULL;
	std::string sw = one_line(r->software_version);
	std::string mv = one_line(r->model_version);

	ck(ds->findOrCreateSequenceItem(DCM_ContributingEquipmentSequence, eq,
	    -2), "Contributing Equipment Sequence");
	ck(eq->findOrCreateSequenceItem(DCM_PurposeOfReferenceCodeSequence, pu,
	    -2), "Purpose of Reference Code Sequence");
	put(pu, DCM_CodeValue, p.value, "purpose code");
	put(pu, DCM_CodingSchemeDesignator, p.scheme, "purpose code");
	put(pu, DCM_CodeMeaning, p.meaning, "purpose code");
	put(eq, DCM_Manufacturer, lo(one_line(r->tmpl->manufacturer)),
	    "Manufacturer");
	put(eq, DCM_ManufacturerModelName, lo(one_line(r->model_name)),
	    "Manufacturer's Model Name");
	/* radscribe's version, then the model's (LO, VM 1-n) */
	for (char &c : sw)
		if (c == '\\')
			c = '/';
	for (char &c : mv)
		if (c == '\\')
			c = '/';
	put(eq, DCM_SoftwareVersions, mv.empty() ? lo(sw) : lo(sw) + "\\" +
	    lo(mv), "Software Versions");
	put(eq, DCM_ContributionDateTime, now.dt, "Contribution DateTime");
}

void
check_request(const sr_request *r)
{
	if (r->tmpl == NULL)
		fail("no template");
	if (r->sop_class != SR_BASIC && r->sop_class != SR_ENHANCED &&
	    r->sop_class != SR_COMPREHENSIVE)
		fail("unknown SR class %d", (int)r->sop_class);
	if (r->nsources == 0 || r->sources == NULL)
		fail("no source instances");
	if (r->nused > 0 && r->used == NULL)
		fail("no view indexes");
	for (size_t i = 0; i < r->nused; i++)
		if (r->used[i] >= r->nsources)
			fail("view index %zu out of range (%zu sources)",
			    r->used[i], r->nsources);
	need_uid(r->series_uid ? r->series_uid : "", "Series Instance UID",
	    "request");
	need_uid(r->sop_instance_uid ? r->sop_instance_uid : "",
	    "SOP Instance UID", "request");
	need_uid(r->device_uid ? r->device_uid : "", "device UID", "request");
	if (r->model_name == NULL || one_line(r->model_name).empty())
		fail("no model name");
	if (clean_text(r->findings).empty() || clean_text(r->impression).empty())
		fail("the findings or the impression text is empty");
	if (r->series_number < 0 || r->instance_number < 0)
		fail("negative series or instance number");
	int npred = (r->pred_study_uid != NULL) +
	    (r->pred_series_uid != NULL) + (r->pred_sop_class_uid != NULL) +
	    (r->pred_sop_instance_uid != NULL);
	if (npred != 0 && npred != 4)
		fail("predecessor: all four UIDs are needed, or none");
	if (r->qr != NULL && r->qr->n > DCM_QR_ATTRS_MAX)
		fail("%zu index tags asked, at most %d", r->qr->n,
		    DCM_QR_ATTRS_MAX);
	if (npred == 4) {
		need_uid(r->pred_study_uid, "Study Instance UID",
		    "predecessor");
		need_uid(r->pred_series_uid, "Series Instance UID",
		    "predecessor");
		need_uid(r->pred_sop_class_uid, "SOP Class UID", "predecessor");
		need_uid(r->pred_sop_instance_uid, "SOP Instance UID",
		    "predecessor");
	}
}

void
write_sr(const sr_request *r, const char *path)
{
	static const DSRTypes::E_DocumentType types[] = {
		DSRTypes::DT_BasicTextSR, DSRTypes::DT_EnhancedSR,
		DSRTypes::DT_ComprehensiveSR
	};
	std::vector<source> src(r->nsources);
	DcmFileFormat first;
	DcmItem ps;
	stamp now;

	check_request(r);
	for (size_t i = 0; i < r->nsources; i++) {
		if (i == 0) {
			read_source(r->sources[0], first, src[0]);
			continue;
		}
		DcmFileFormat ff;

		read_source(r->sources[i], ff, src[i]);
	}
	patient_study(first.getDataset(), r->sources[0], ps);
	now_stamp(now);

	DSRDocument doc(types[r->sop_class]);
	ck(doc.setSpecificCharacterSetType(DSRTypes::CS_UTF8),
	    "Specific Character Set");
	build_tree(r, src, doc.getTree());

	/* SR Document General Module, PS3.3 C.17.2 */
	ck(doc.createNewSeriesInStudy(src[0].study), "Study Instance UID");
	ck(doc.setPreliminaryFlag(DSRTypes::PF_Preliminary),
	    "Preliminary Flag");
	ck(doc.completeDocument(), "Completion Flag");
	ck(doc.setInstanceNumber(std::to_string(r->instance_number).c_str()),
	    "Instance Number");
	ck(doc.setContentDate(now.date), "Content Date");
	ck(doc.setContentTime(now.time), "Content Time");
	ck(doc.setTimezoneOffsetFromUTC(now.tz), "Timezone Offset From UTC");
	for (const source &s : src)
		ck(doc.getCurrentRequestedProcedureEvidence().addItem(s.study,
		    s.series, s.sop_class, s.sop_instance),
		    "Current Requested Procedure Evidence");
	if (r->pred_sop_instance_uid != NULL)
		ck(doc.getPredecessorDocuments().addItem(r->pred_study_uid,
		    r->pred_series_uid, r->pred_sop_class_uid,
		    r->pred_sop_instance_uid), "Predecessor Documents");

	/* SR Document Series Module, PS3.3 C.17.1 */
	ck(doc.setSeriesNumber(std::to_string(r->series_number).c_str()),
	    "Series Number");
	ck(doc.setSeriesDescription(lo(one_line(r->series_description)).c_str(),
	    OFFalse), "Series Description");
	ck(doc.setSeriesDate(now.date), "Series Date");
	ck(doc.setSeriesTime(now.time), "Series Time");

	/* General Equipment Module, PS3.3 C.7.5.1 */
	ck(doc.setManufacturer(lo(one_line(r->tmpl->manufacturer)).c_str(),
	    OFFalse), "Manufacturer");
	ck(doc.setSoftwareVersions(lo(one_line(r->software_version)).c_str(),
	    OFFalse), "Software Versions");

	DcmFileFormat ff;
	DcmDataset *ds = ff.getDataset();
	ck(doc.write(*ds), "cannot encode the SR document");

	/* The caller's UIDs (made under its root), not dcmsr's. */
	put(ds, DCM_SeriesInstanceUID, r->series_uid, "Series Instance UID");
	put(ds, DCM_SOPInstanceUID, r->sop_instance_uid, "SOP Instance UID");
	put(ds, DCM_InstanceCreationDate, now.date, "Instance Creation Date");
	put(ds, DCM_InstanceCreationTime, now.time, "Instance Creation Time");
	while (ps.card() > 0) {
		DcmElement *e = ps.remove(0UL);
		OFCondition c = ds->insert(e, OFTrue);

		if (c.bad())
			delete e;
		ck(c, "patient/study attribute");
	}
	contributing_equipment(r, now, ds);

	OFCondition c = ff.saveFile(path, EXS_LittleEndianExplicit,
	    EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
	    EWM_createNewMeta);
	if (c.bad()) {
		unlink(path);
		fail("%s: %s", path, c.text());
	}
	/* The index values, from the data set just written (saveFile put
	 * the Transfer Syntax UID into ff's meta information). */
	if (r->qr != NULL && r->qr->n > 0) {
		char err[512];

		if (bridge_attrs(ff, path, r->qr->tags, r->qr->n, r->qr->values,
		    err, sizeof(err)) == -1) {
			unlink(path);
			fail("index values: %s", err);
		}
	}
}

} /* namespace */

/* sr_write - build and write the report; 0, or -1 with err. */
extern "C" int
sr_write(const struct sr_request *r, const char *path, char *err,
    size_t errsz)
{
	if (errsz > 0)
		err[0] = '\0';
	try {
		if (r == NULL || path == NULL)
			fail("no request or no path");
		write_sr(r, path);
		return 0;
	} catch (const sr_error &e) {
		snprintf(err, errsz, "%s", e.msg.c_str());
	} catch (const std::exception &e) {
		snprintf(err, errsz, "unexpected C++ exception: %s", e.what());
	} catch (...) {
		snprintf(err, errsz, "unexpected C++ exception");
	}
	dcm_qr_attrs_clear(r != NULL ? r->qr : NULL);
	return -1;
}

/* sr_sop_class_uid - static UID string; NULL for an unknown class. */
extern "C" const char *
sr_sop_class_uid(enum sr_class c)
{
	switch (c) {
	case SR_BASIC:
		return UID_BasicTextSRStorage;
	case SR_ENHANCED:
		return UID_EnhancedSRStorage;
	case SR_COMPREHENSIVE:
		return UID_ComprehensiveSRStorage;
	}
	return NULL;
}
