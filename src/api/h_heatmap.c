/* GET /api/heatmap: the snapshot of SPEC §5 for the caller's organization. */
#include <string.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/resp.h"
#include "core/heatmap.h"
#include "core/issue.h"

/* organizationId, when given, must be the caller's own. */
static int
check_org_param(struct api_req *req, struct ciis_err *err)
{
	const char *org = api_req_query(req, "organizationId");

	if (org != NULL && strcmp(org, req->who.org_id) != 0)
		return CIIS_ERR(err, CIIS_E_FORBIDDEN, "organizationId",
		    "organizationId: not the organization of this token");
	return 0;
}

int
api_heatmap_filter(struct api_req *req, struct ciis_heatmap_filter *f, struct ciis_err *err)
{
	int64_t campus[1];
	size_t ncampus;

	memset(f, 0, sizeof *f);
	if (check_org_param(req, err) != 0 ||
	    api_query_ids(req, "campusId", campus, 1, &ncampus, err) != 0 ||
	    api_query_ids(req, "buildingIds", f->building, CIIS_FILTER_MAX, &f->nbuilding, err) != 0 ||
	    api_query_words(req, "categories", ciis_category_valid, f->category, CIIS_FILTER_MAX,
	    &f->ncategory, err) != 0)
		return -1;
	f->campus = ncampus ? campus[0] : 0;
	return 0;
}

int
h_heatmap(struct api_req *req, struct ciis_err *err)
{
	struct ciis_heatmap_filter f;
	struct json_object *o;
	struct ciis_db *db;

	if (api_heatmap_filter(req, &f, err) != 0 || (db = api_req_db(req, err)) == NULL ||
	    ciis_heatmap_snapshot(db, req->who.org_id, &f, &o, err) != 0)
		return -1;
	api_send_json(req, 200, o, NULL);
	json_object_put(o);
	return 0;
}
