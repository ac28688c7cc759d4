/* /api/issues: parse, call the issue store, render. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/resp.h"
#include "core/issue.h"
#include "core/issue_store.h"
#include "core/json.h"

/* 200/201 with the issue and its ETag (the version). */
static int
send_issue(struct api_req *req, int status, const struct ciis_issue *is)
{
	struct json_object *o = ciis_issue_to_json(is);
	char extra[128];

	if (status == 201)
		snprintf(extra, sizeof extra, "ETag: \"%lld\"\r\nLocation: /api/issues/%lld\r\n",
		    (long long)is->version, (long long)is->id);
	else
		snprintf(extra, sizeof extra, "ETag: \"%lld\"\r\n", (long long)is->version);
	api_send_json(req, status, o, extra);
	json_object_put(o);
	return 0;
}

int
h_issue_create(struct api_req *req, struct ciis_err *err)
{
	struct ciis_issue is;
	struct ciis_db *db;
	int rc = -1;

	if (ciis_issue_parse_create(req->body, &is, err) != 0)
		return -1;
	if ((db = api_req_db(req, err)) != NULL && ciis_issue_create(db, &req->who, &is, err) == 0)
		rc = send_issue(req, 201, &is);
	ciis_issue_cleanup(&is);
	return rc;
}

static int
valid_assignee(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= CIIS_ID_MAX;
}

static int
list_filter(struct api_req *req, struct ciis_issue_filter *f, struct ciis_err *err)
{
	memset(f, 0, sizeof *f);
	if (api_query_ids(req, "campusId", f->campus, CIIS_FILTER_MAX, &f->ncampus, err) != 0 ||
	    api_query_ids(req, "buildingId", f->building, CIIS_FILTER_MAX, &f->nbuilding, err) != 0 ||
	    api_query_enums(req, "status", ciis_status_parse, f->status, CIIS_FILTER_MAX,
	    &f->nstatus, err) != 0 ||
	    api_query_enums(req, "priority", ciis_priority_parse, f->priority, CIIS_FILTER_MAX,
	    &f->npriority, err) != 0 ||
	    api_query_words(req, "category", ciis_category_valid, f->category, CIIS_FILTER_MAX,
	    &f->ncategory, err) != 0 ||
	    api_query_words(req, "assignedTo", valid_assignee, f->assigned, CIIS_FILTER_MAX,
	    &f->nassigned, err) != 0)
		return -1;
	return api_page_params(req, &f->limit, &f->before, err);
}

int
h_issue_list(struct api_req *req, struct ciis_err *err)
{
	struct ciis_issue_filter f;
	struct json_object *items;
	struct ciis_db *db;
	int64_t next;

	if (list_filter(req, &f, err) != 0 || (db = api_req_db(req, err)) == NULL ||
	    ciis_issue_list(db, req->who.org_id, &f, &items, &next, err) != 0)
		return -1;
	api_send_list(req, items, next);
	return 0;
}

int
h_issue_get(struct api_req *req, struct ciis_err *err)
{
	struct ciis_issue is;
	struct ciis_db *db;
	int64_t id;

	if (api_seg_id(req, 0, &id, err) != 0 || (db = api_req_db(req, err)) == NULL ||
	    ciis_issue_get(db, req->who.org_id, id, &is, err) != 0)
		return -1;
	send_issue(req, 200, &is);
	ciis_issue_cleanup(&is);
	return 0;
}

/* The version of If-Match: 3, "3" or W/"3". */
static int
if_match_version(const char *h, int64_t *v)
{
	char digits[24];
	size_t n;

	while (*h == ' ')
		h++;
	if (strncmp(h, "W/", 2) == 0)
		h += 2;
	if (*h == '"')
		h++;
	n = strspn(h, "0123456789");
	if (n == 0 || n >= sizeof digits)
		return -1;
	memcpy(digits, h, n);
	digits[n] = '\0';
	h += n;
	if (*h == '"')
		h++;
	while (*h == ' ')
		h++;
	return *h == '\0' ? ciis_id_parse(digits, v) : -1;
}

/* The version a PATCH is based on: If-Match or the body's "version". */
static int
patch_base(struct api_req *req, const struct ciis_issue_patch *p, int64_t *v,
    struct ciis_err *err)
{
	const char *h = api_req_env(req, "HTTP_IF_MATCH");

	if (h != NULL) {
		if (if_match_version(h, v) != 0)
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "version", "If-Match: expected a version such as \"3\"");
		if (p->has_version && p->version != *v)
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "version",
			    "version: the body and If-Match disagree");
		return 0;
	}
	if (!p->has_version)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "version",
		    "version: required, as If-Match or in the body");
	*v = p->version;
	return 0;
}

static void
send_conflict(struct api_req *req, const struct ciis_err *err, struct ciis_conflict *c)
{
	struct json_object *o = api_error_json(err), *d = json_object_new_object();

	json_object_object_add(d, "currentVersion", json_object_new_int64(c->current_version));
	json_object_object_add(d, "yourVersion", json_object_new_int64(c->your_version));
	json_object_object_add(d, "conflictedFields", json_object_get(c->fields));
	json_object_object_add(d, "current", json_object_get(c->current));
	json_object_object_add(o, "conflict", d);
	api_send_json(req, 409, o, NULL);
	json_object_put(o);
}

int
h_issue_patch(struct api_req *req, struct ciis_err *err)
{
	struct ciis_issue_patch p;
	struct ciis_conflict c = { 0 };
	struct ciis_issue out;
	struct ciis_db *db;
	int64_t id, version = 0;
	int rc = -1;

	if (api_seg_id(req, 0, &id, err) != 0 || ciis_issue_parse_patch(req->body, &p, err) != 0)
		return -1;
	ciis_issue_init(&out);
	if (patch_base(req, &p, &version, err) == 0 && (db = api_req_db(req, err)) != NULL) {
		rc = ciis_issue_update(db, &req->who, id, &p, version, &out, &c, err);
		if (rc == 0)
			send_issue(req, 200, &out);
		else if (err->code == CIIS_E_CONFLICT && c.current != NULL) {
			send_conflict(req, err, &c);
			rc = 0;
		}
	}
	ciis_conflict_cleanup(&c);
	ciis_issue_cleanup(&out);
	ciis_issue_patch_cleanup(&p);
	return rc;
}

int
h_issue_delete(struct api_req *req, struct ciis_err *err)
{
	struct ciis_db *db;
	int64_t id;

	if (api_seg_id(req, 0, &id, err) != 0 || (db = api_req_db(req, err)) == NULL ||
	    ciis_issue_delete(db, &req->who, id, err) != 0)
		return -1;
	api_send_no_content(req);
	return 0;
}

int
h_issue_resolve(struct api_req *req, struct ciis_err *err)
{
	struct ciis_issue out;
	struct ciis_db *db;
	char *resolution = NULL;
	int64_t id;
	int rc = -1;

	if (api_seg_id(req, 0, &id, err) != 0 ||
	    ciis_issue_parse_single(req->body, "resolution", 1, CIIS_TEXT_MAX, 0, &resolution, err) != 0)
		return -1;
	ciis_issue_init(&out);
	if ((db = api_req_db(req, err)) != NULL &&
	    ciis_issue_resolve(db, &req->who, id, resolution, &out, err) == 0)
		rc = send_issue(req, 200, &out);
	ciis_issue_cleanup(&out);
	free(resolution);
	return rc;
}

int
h_issue_assign(struct api_req *req, struct ciis_err *err)
{
	struct ciis_issue out;
	struct ciis_db *db;
	char *assignee = NULL;
	int64_t id;
	int rc = -1;

	if (api_seg_id(req, 0, &id, err) != 0 ||
	    ciis_issue_parse_single(req->body, "assigneeId", 1, CIIS_ID_MAX, 1, &assignee, err) != 0)
		return -1;
	ciis_issue_init(&out);
	if ((db = api_req_db(req, err)) != NULL &&
	    ciis_issue_assign(db, &req->who, id, assignee, &out, err) == 0)
		rc = send_issue(req, 200, &out);
	ciis_issue_cleanup(&out);
	free(assignee);
	return rc;
}

int
h_issue_notes(struct api_req *req, struct ciis_err *err)
{
	struct json_object *payload = NULL;
	struct ciis_db *db;
	char *notes = NULL;
	int64_t id;
	int rc = -1;

	if (api_seg_id(req, 0, &id, err) != 0 ||
	    ciis_issue_parse_single(req->body, "notes", 1, CIIS_TEXT_MAX, 0, &notes, err) != 0)
		return -1;
	if ((db = api_req_db(req, err)) != NULL &&
	    ciis_issue_add_note(db, &req->who, id, notes, &payload, err) == 0) {
		api_send_json(req, 201, payload, NULL);
		json_object_put(payload);
		rc = 0;
	}
	free(notes);
	return rc;
}

int
h_issue_history(struct api_req *req, struct ciis_err *err)
{
	struct json_object *items;
	struct ciis_db *db;
	int64_t id, after, next;
	int limit;

	if (api_seg_id(req, 0, &id, err) != 0 || api_page_params(req, &limit, &after, err) != 0 ||
	    (db = api_req_db(req, err)) == NULL ||
	    ciis_issue_history(db, req->who.org_id, id, after, limit, &items, &next, err) != 0)
		return -1;
	api_send_list(req, items, next);
	return 0;
}
