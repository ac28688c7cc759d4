/* Campuses of an organization and buildings of a campus. */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "api/resp.h"
#include "core/place.h"

/* The {org} of the path must be the caller's organization: 403 otherwise. */
static int
own_org(struct api_req *req, struct ciis_err *err)
{
	if (req->nseg < 1 || strcmp(req->seg[0], req->who.org_id) != 0)
		return CIIS_ERR(err, CIIS_E_FORBIDDEN, "organizationId",
		    "not the organization of this token");
	return 0;
}

static int
send_place(struct api_req *req, const struct ciis_place *pl)
{
	struct json_object *o = ciis_place_to_json(pl);

	api_send_json(req, 201, o, NULL);
	json_object_put(o);
	return 0;
}

int
h_campus_list(struct api_req *req, struct ciis_err *err)
{
	struct json_object *items;
	struct ciis_db *db;
	int64_t after, next;
	int limit;

	if (own_org(req, err) != 0 || api_page_params(req, &limit, &after, err) != 0 ||
	    (db = api_req_db(req, err)) == NULL ||
	    ciis_campus_list(db, req->who.org_id, after, limit, &items, &next, err) != 0)
		return -1;
	api_send_list(req, items, next);
	return 0;
}

int
h_campus_create(struct api_req *req, struct ciis_err *err)
{
	struct ciis_place pl;
	struct ciis_db *db;
	int rc = -1;

	if (own_org(req, err) != 0 || ciis_place_parse(req->body, &pl, err) != 0)
		return -1;
	snprintf(pl.org_id, sizeof pl.org_id, "%s", req->who.org_id);
	if ((db = api_req_db(req, err)) != NULL && ciis_org_check(db, pl.org_id, err) == 0 &&
	    ciis_campus_create(db, &pl, err) == 0)
		rc = send_place(req, &pl);
	ciis_place_cleanup(&pl);
	return rc;
}

/* The campus of the path, which must be of the caller's organization (404). */
static int
path_campus(struct api_req *req, struct ciis_db **db, struct ciis_place *campus,
    struct ciis_err *err)
{
	int64_t id;

	if (api_seg_id(req, 0, &id, err) != 0 || (*db = api_req_db(req, err)) == NULL)
		return -1;
	return ciis_campus_get(*db, req->who.org_id, id, campus, err);
}

int
h_building_list(struct api_req *req, struct ciis_err *err)
{
	struct ciis_place campus;
	struct json_object *items;
	struct ciis_db *db;
	int64_t after, next;
	int limit, rc;

	if (api_page_params(req, &limit, &after, err) != 0 || path_campus(req, &db, &campus, err) != 0)
		return -1;
	rc = ciis_building_list(db, req->who.org_id, campus.id, after, limit, &items, &next, err);
	ciis_place_cleanup(&campus);
	if (rc != 0)
		return -1;
	api_send_list(req, items, next);
	return 0;
}

int
h_building_create(struct api_req *req, struct ciis_err *err)
{
	struct ciis_place campus, pl;
	struct ciis_db *db;
	int rc = -1;

	if (path_campus(req, &db, &campus, err) != 0)
		return -1;
	if (ciis_place_parse(req->body, &pl, err) == 0) {
		snprintf(pl.org_id, sizeof pl.org_id, "%s", req->who.org_id);
		pl.campus_id = campus.id;
		if (ciis_building_create(db, &pl, err) == 0)
			rc = send_place(req, &pl);
		ciis_place_cleanup(&pl);
	}
	ciis_place_cleanup(&campus);
	return rc;
}
