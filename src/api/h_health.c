/* GET /health: is the database reachable, and the last event id. */
#include "api/handlers.h"
#include "api/resp.h"
#include "core/event.h"

int
h_health(struct api_req *req, struct ciis_err *err)
{
	struct json_object *o = json_object_new_object();
	struct ciis_db *db = api_req_db(req, err);
	int64_t last = 0;
	int up = db != NULL && ciis_event_last_id(db, &last, err) == 0;

	json_object_object_add(o, "status", json_object_new_string(up ? "ok" : "unavailable"));
	json_object_object_add(o, "db", json_object_new_string(up ? "ok" : "down"));
	json_object_object_add(o, "lastEventId", up ? json_object_new_int64(last) : NULL);
	if (!up) {
		struct json_object *e = api_error_json(err), *inner;

		json_object_object_get_ex(e, "error", &inner);
		json_object_object_add(o, "error", json_object_get(inner));
		json_object_put(e);
	}
	api_send_json(req, up ? 200 : 503, o, up ? NULL : "Retry-After: 2\r\n");
	json_object_put(o);
	return 0;
}
