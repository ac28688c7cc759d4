/* Every endpoint handler.  A handler parses, calls the core and renders; it
 * returns 0 once it has sent an answer, or -1 with err set, which the router
 * sends.  Authentication, the role check and the JSON body are done before it
 * runs (router.c). */
#ifndef CIIS_API_HANDLERS_H
#define CIIS_API_HANDLERS_H

#include "api/req.h"
#include "core/err.h"

typedef int api_handler(struct api_req *req, struct ciis_err *err);

api_handler h_health;
api_handler h_campus_list, h_campus_create;
api_handler h_building_list, h_building_create;
api_handler h_issue_create, h_issue_list, h_issue_get, h_issue_patch, h_issue_delete;
api_handler h_issue_resolve, h_issue_assign, h_issue_notes, h_issue_history;
api_handler h_heatmap;
api_handler h_stream_issues, h_stream_heatmap;
api_handler h_realtime_stats, h_users_online, h_metrics;

/* Shared by the list handlers: limit (default 50, clamped to 200) and the
 * decoded cursor id (0 when absent); 400 naming the parameter. */
int api_page_params(struct api_req *req, int *limit, int64_t *cursor, struct ciis_err *err);
/* The heatmap filter parameters (organizationId, campusId, buildingIds,
 * categories) of the snapshot and of the stream. */
struct ciis_heatmap_filter;
int api_heatmap_filter(struct api_req *req, struct ciis_heatmap_filter *f, struct ciis_err *err);
/* Route capture i as an id; 404 when it is not one. */
int api_seg_id(struct api_req *req, size_t i, int64_t *id, struct ciis_err *err);

#endif
