/* Rendering events for the streams and matching them against filters. */
#include "core/sse.h"

#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/ring.h"

/* issue:* type → stream type and the "change" of an update */
static const struct {
	const char *event, *type, *change;
	unsigned moved;		/* fields the event may change that filters use */
} kinds[] = {
	{ "issue:created", "created", NULL, 0 },
	{ "issue:updated", "updated", "fields", 0 },	/* moved from "changes" */
	{ "issue:resolved", "updated", "resolved", CIIS_F_STATUS },
	{ "issue:assigned", "updated", "assigned", CIIS_F_STATUS },
	{ "issue:note", "updated", "note", 0 },
	{ "issue:deleted", "deleted", NULL, 0 },
};

static int
get(struct json_object *o, const char *key, struct json_object **v)
{
	return o != NULL && json_object_object_get_ex(o, key, v) && *v != NULL;
}

static void
copy_member(struct json_object *dst, struct json_object *src, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(src, key, &v))
		json_object_object_add(dst, key, json_object_get(v));
}

/* The issue after the event: in the payload, or beside it (notes). */
static struct json_object *
issue_of(const struct ciis_event *ev)
{
	struct json_object *issue;

	return get(ev->payload, "issue", &issue) ? issue : ev->subject;
}

/* The issue's state after the event, for the filters. */
static void
issue_state(struct json_object *issue, struct ciis_entry *e)
{
	struct json_object *v;

	e->priority = e->status = -1;
	if (issue == NULL)
		return;
	if (get(issue, "priority", &v))
		e->priority = ciis_priority_parse(json_object_get_string(v));
	if (get(issue, "status", &v))
		e->status = ciis_status_parse(json_object_get_string(v));
}

static unsigned
moved_by_changes(struct json_object *payload)
{
	struct json_object *changes;
	unsigned m = 0;

	if (!get(payload, "changes", &changes))
		return 0;
	if (json_object_object_get_ex(changes, "status", NULL))
		m |= CIIS_F_STATUS;
	if (json_object_object_get_ex(changes, "priority", NULL))
		m |= CIIS_F_PRIORITY;
	return m;
}

/* The members an update carries beside its data, by change. */
static void
add_change_members(struct json_object *msg, struct json_object *payload, const char *change)
{
	struct json_object *note;

	json_object_object_add(msg, "change", json_object_new_string(change));
	if (strcmp(change, "fields") == 0) {
		copy_member(msg, payload, "changes");
	} else if (strcmp(change, "resolved") == 0) {
		copy_member(msg, payload, "resolution");
	} else if (strcmp(change, "assigned") == 0) {
		copy_member(msg, payload, "previousAssignee");
		copy_member(msg, payload, "assignee");
	} else if (strcmp(change, "note") == 0) {
		note = json_object_new_object();
		copy_member(note, payload, "notes");
		copy_member(note, payload, "authorId");
		json_object_object_add(msg, "note", note);
	}
}

static struct json_object *
message_data(const struct ciis_event *ev, const char *type)
{
	struct json_object *o;

	if (strcmp(type, "deleted") == 0) {
		o = json_object_new_object();
		copy_member(o, ev->payload, "issueId");
		return o;
	}
	return issue_of(ev) ? json_object_get(issue_of(ev)) : NULL;
}

void
ciis_sse_render_issue_event(const struct ciis_event *ev, struct ciis_entry *e)
{
	struct json_object *msg, *ts;
	struct ciis_buf b;
	size_t k;

	e->priority = e->status = -1;
	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		if (strcmp(ev->type, kinds[k].event) == 0)
			break;
	if (k == sizeof kinds / sizeof kinds[0] || ev->payload == NULL)
		return;
	issue_state(issue_of(ev), e);
	e->moved = kinds[k].moved | moved_by_changes(ev->payload);
	msg = json_object_new_object();
	json_object_object_add(msg, "type", json_object_new_string(kinds[k].type));
	if (kinds[k].change != NULL)
		add_change_members(msg, ev->payload, kinds[k].change);
	json_object_object_add(msg, "data", message_data(ev, kinds[k].type));
	json_object_object_add(msg, "eventId", json_object_new_int64(ev->id));
	if (json_object_object_get_ex(ev->payload, "timestamp", &ts))
		json_object_object_add(msg, "timestamp", json_object_get(ts));
	ciis_buf_init(&b);
	ciis_sse_message(&b, ev->id, ciis_json_text(msg));
	json_object_put(msg);
	e->sse_len = b.len;
	e->sse = ciis_buf_take(&b);
}

static int
has_id(const int64_t *v, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return 1;
	return 0;
}

static int
in_mask(unsigned mask, int v)
{
	return mask == 0 || (v >= 0 && (mask & (1u << v)));
}

int
ciis_sse_issue_match(const struct ciis_sse_filter *f, const struct ciis_entry *e)
{
	int state;

	if (e->sse == NULL || strcmp(e->org_id, f->org_id) != 0)
		return 0;
	if ((f->ncampus && !has_id(f->campus, f->ncampus, e->campus_id)) ||
	    (f->nbuilding && !has_id(f->building, f->nbuilding, e->building_id)))
		return 0;
	if (strcmp(e->type, "issue:deleted") == 0)
		return 1;
	state = in_mask(f->priorities, e->priority) && in_mask(f->statuses, e->status);
	if (state || strcmp(e->type, "issue:created") == 0)
		return state;
	/* an update that may have moved the issue out of the filter still goes
	 * out, so that the client can drop it */
	return (f->statuses && (e->moved & CIIS_F_STATUS)) ||
	    (f->priorities && (e->moved & CIIS_F_PRIORITY));
}

int
ciis_sse_heatmap_match(const char *org, int64_t campus, const int64_t *buildings,
    size_t nbuildings, const struct ciis_entry *e)
{
	return strcmp(e->type, "heatmap:updated") == 0 && strcmp(e->org_id, org) == 0 &&
	    (campus == 0 || e->campus_id == campus) &&
	    (nbuildings == 0 || has_id(buildings, nbuildings, e->building_id));
}

void
ciis_sse_message(struct ciis_buf *out, int64_t id, const char *json)
{
	if (id != CIIS_SSE_NO_ID)
		ciis_buf_printf(out, "id: %lld\n", (long long)id);
	/* our JSON is one line: json-c escapes every newline inside strings */
	ciis_buf_printf(out, "data: %s\n\n", json);
}

static struct json_object *
now_string(void)
{
	char ts[CIIS_TIME_LEN];

	ciis_time_format(ciis_now_ms(), ts);
	return json_object_new_string(ts);
}

void
ciis_sse_typed(struct ciis_buf *out, const char *type, struct json_object *data, int64_t id)
{
	struct json_object *msg = json_object_new_object();

	json_object_object_add(msg, "type", json_object_new_string(type));
	json_object_object_add(msg, "data", data ? json_object_get(data) : NULL);
	json_object_object_add(msg, "eventId", json_object_new_int64(id));
	json_object_object_add(msg, "timestamp", now_string());
	ciis_sse_message(out, id, ciis_json_text(msg));
	json_object_put(msg);
}

void
ciis_sse_bare(struct ciis_buf *out, const char *type)
{
	struct json_object *msg = json_object_new_object();

	json_object_object_add(msg, "type", json_object_new_string(type));
	json_object_object_add(msg, "timestamp", now_string());
	ciis_sse_message(out, CIIS_SSE_NO_ID, ciis_json_text(msg));
	json_object_put(msg);
}

void
ciis_sse_error(struct ciis_buf *out, const char *code, long retry_ms)
{
	struct json_object *msg = json_object_new_object();

	ciis_buf_printf(out, "retry: %ld\n\n", retry_ms);
	json_object_object_add(msg, "type", json_object_new_string("error"));
	json_object_object_add(msg, "code", json_object_new_string(code));
	json_object_object_add(msg, "retryAfter", json_object_new_int64(retry_ms));
	json_object_object_add(msg, "timestamp", now_string());
	ciis_sse_message(out, CIIS_SSE_NO_ID, ciis_json_text(msg));
	json_object_put(msg);
}
