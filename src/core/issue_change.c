/* Every change to an issue: one transaction that locks the row, changes it,
 * and appends its events (and history rows) as the last statements before
 * COMMIT.  A failure anywhere rolls everything back, so a change exists iff
 * its events do. */
#include "core/issue_store.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/event.h"
#include "core/issue_store_int.h"
#include "core/json.h"
#include "core/xalloc.h"

static const char SQL_BUILDING[] =
    "SELECT campus_id FROM buildings WHERE id = ? AND org_id = ?";
static const char SQL_INSERT[] =
    "INSERT INTO issues (org_id, campus_id, building_id, title, description,"
    " category, priority, status, reporter_id, assigned_to, floor, room, lat, lng,"
    " resolution, version, created_at, updated_at, resolved_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " FROM_UNIXTIME(? / 1000), FROM_UNIXTIME(? / 1000), FROM_UNIXTIME(? / 1000))";
static const char SQL_UPDATE[] =
    "UPDATE issues SET title = ?, description = ?, category = ?, priority = ?,"
    " status = ?, assigned_to = ?, floor = ?, room = ?, lat = ?, lng = ?,"
    " resolution = ?, version = ?, updated_at = FROM_UNIXTIME(? / 1000),"
    " resolved_at = FROM_UNIXTIME(? / 1000) WHERE id = ?";
static const char SQL_DELETE[] = "DELETE FROM issues WHERE id = ?";
static const char SQL_DELETE_HISTORY[] = "DELETE FROM issue_history WHERE issue_id = ?";
static const char SQL_HISTORY_ADD[] =
    "INSERT INTO issue_history (event_id, issue_id, org_id, type, actor_id,"
    " issue_version, payload, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(? / 1000))";
static const char SQL_CHANGED_SINCE[] =
    "SELECT type, payload FROM issue_history"
    " WHERE issue_id = ? AND issue_version > ? ORDER BY event_id";

/* The events of one change: the issue:* event, then heatmap:updated. */
struct change {
	struct ciis_event ev[2];
	size_t n;
};

static void
change_cleanup(struct change *c)
{
	for (size_t i = 0; i < c->n; i++)
		ciis_event_cleanup(&c->ev[i]);
	c->n = 0;
}

/* Add an event about `is` with `payload` (taken) to c. */
static void
add_event(struct change *c, const char *type, const struct ciis_issue *is,
    const struct ciis_principal *who, struct json_object *payload)
{
	struct ciis_event *ev = &c->ev[c->n++];

	memset(ev, 0, sizeof *ev);
	snprintf(ev->type, sizeof ev->type, "%s", type);
	snprintf(ev->org_id, sizeof ev->org_id, "%s", is->org_id);
	snprintf(ev->actor_id, sizeof ev->actor_id, "%s", who->user_id);
	ev->campus_id = is->campus_id;
	ev->building_id = is->building_id;
	ev->issue_id = is->id;
	ev->issue_version = is->version;
	ev->payload = payload;
}

/* {issue, …, actorId} payload; the caller adds the action's own members. */
static struct json_object *
issue_payload(const struct ciis_issue *is, const struct ciis_principal *who)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "issue", ciis_issue_to_json(is));
	json_object_object_add(o, "actorId", json_object_new_string(who->user_id));
	return o;
}

static void
add_heatmap_event(struct change *c, const struct ciis_issue *is,
    const struct ciis_principal *who, const char *change_type)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "organizationId", json_object_new_string(is->org_id));
	json_object_object_add(o, "campusId", ciis_json_id(is->campus_id));
	json_object_object_add(o, "buildingId", ciis_json_id(is->building_id));
	json_object_object_add(o, "changeType", json_object_new_string(change_type));
	add_event(c, "heatmap:updated", is, who, o);
	c->ev[c->n - 1].issue_version = 0;
}

static int
add_history(struct ciis_db *db, const struct ciis_event *ev, struct ciis_err *err)
{
	struct ciis_param p[] = {
		CIIS_PI64(ev->id), CIIS_PI64(ev->issue_id), CIIS_PSTR(ev->org_id),
		CIIS_PSTR(ev->type), CIIS_PSTR(ev->actor_id), CIIS_PI64(ev->issue_version),
		CIIS_PSTR(ciis_json_text(ev->payload)), CIIS_PI64(ev->created_at),
	};

	return ciis_db_exec(db, SQL_HISTORY_ADD, p, sizeof p / sizeof p[0], NULL, NULL, err);
}

/* Append c's events, record the issue's own in its history (unless the issue
 * is gone), and commit. */
static int
finish(struct ciis_db *db, struct change *c, int keep_history, struct ciis_err *err)
{
	if (ciis_event_append(db, c->ev, c->n, err) != 0)
		return -1;
	for (size_t i = 0; keep_history && i < c->n; i++)
		if (strncmp(c->ev[i].type, "issue:", 6) == 0 && add_history(db, &c->ev[i], err) != 0)
			return -1;
	if (ciis_db_commit(db, err) != 0)
		return -1;
	ciis_event_committed();
	return 0;
}

static struct ciis_param
time_param(int64_t ms)
{
	return ms ? CIIS_PI64(ms) : CIIS_PNULL;
}

static struct ciis_param
coord_param(int has, double v)
{
	return has ? CIIS_PDBL(v) : CIIS_PNULL;
}

static int
insert_issue(struct ciis_db *db, struct ciis_issue *is, struct ciis_err *err)
{
	const struct ciis_location *l = &is->location;
	struct ciis_param p[] = {
		CIIS_PSTR(is->org_id), CIIS_PI64(is->campus_id), CIIS_PI64(is->building_id),
		CIIS_PSTR(is->title), CIIS_PSTR(is->description), CIIS_PSTR(is->category),
		CIIS_PSTR(ciis_priority_name(is->priority)), CIIS_PSTR(ciis_status_name(is->status)),
		CIIS_PSTR(is->reporter_id), CIIS_PSTR(is->assigned_to), CIIS_PSTR(l->floor),
		CIIS_PSTR(l->room), coord_param(l->has_lat, l->lat), coord_param(l->has_lng, l->lng),
		CIIS_PSTR(is->resolution), CIIS_PI64(is->version), CIIS_PI64(is->created_at),
		CIIS_PI64(is->updated_at), time_param(is->resolved_at),
	};
	uint64_t id = 0;

	if (ciis_db_exec(db, SQL_INSERT, p, sizeof p / sizeof p[0], NULL, &id, err) != 0)
		return -1;
	is->id = (int64_t)id;
	return 0;
}

static int
save_issue(struct ciis_db *db, const struct ciis_issue *is, struct ciis_err *err)
{
	const struct ciis_location *l = &is->location;
	struct ciis_param p[] = {
		CIIS_PSTR(is->title), CIIS_PSTR(is->description), CIIS_PSTR(is->category),
		CIIS_PSTR(ciis_priority_name(is->priority)), CIIS_PSTR(ciis_status_name(is->status)),
		CIIS_PSTR(is->assigned_to), CIIS_PSTR(l->floor), CIIS_PSTR(l->room),
		coord_param(l->has_lat, l->lat), coord_param(l->has_lng, l->lng),
		CIIS_PSTR(is->resolution), CIIS_PI64(is->version), CIIS_PI64(is->updated_at),
		time_param(is->resolved_at), CIIS_PI64(is->id),
	};

	return ciis_db_exec(db, SQL_UPDATE, p, sizeof p / sizeof p[0], NULL, NULL, err);
}

/* The building's campus, if the building is of org; 400 buildingId if not. */
static int
building_campus(struct ciis_db *db, const char *org, int64_t building, int64_t *campus,
    struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PI64(building), CIIS_PSTR(org) };
	struct ciis_rows rows;
	int rc = 0;

	if (ciis_db_query(db, SQL_BUILDING, p, 2, &rows, err) != 0)
		return -1;
	if (rows.nrows == 0)
		rc = CIIS_ERR(err, CIIS_E_BAD_REQUEST, "buildingId", "buildingId: no such building");
	else
		*campus = ciis_rows_i64(&rows, 0, 0);
	ciis_rows_free(&rows);
	return rc;
}

int
ciis_issue_create(struct ciis_db *db, const struct ciis_principal *who,
    struct ciis_issue *is, struct ciis_err *err)
{
	struct change c = { .n = 0 };
	int64_t campus = 0;
	int rc = -1;

	if (building_campus(db, who->org_id, is->building_id, &campus, err) != 0)
		return -1;
	if (is->campus_id != 0 && is->campus_id != campus)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "campusId",
		    "campusId: the building is not on that campus");
	snprintf(is->org_id, sizeof is->org_id, "%s", who->org_id);
	snprintf(is->reporter_id, sizeof is->reporter_id, "%s", who->user_id);
	is->campus_id = campus;
	is->status = CIIS_ST_OPEN;
	is->version = 1;
	is->created_at = is->updated_at = ciis_now_ms();
	is->resolved_at = 0;
	if (ciis_db_begin(db, err) != 0)
		return -1;
	if (insert_issue(db, is, err) == 0) {
		add_event(&c, "issue:created", is, who, issue_payload(is, who));
		add_heatmap_event(&c, is, who, "created");
		rc = finish(db, &c, 1, err);
	}
	ciis_db_rollback(db);		/* no-op after a commit */
	change_cleanup(&c);
	return rc;
}

/* Begin a transaction holding the issue's row lock; cur gets the row. */
static int
begin_locked(struct ciis_db *db, const char *org, int64_t id, struct ciis_issue *cur,
    struct ciis_err *err)
{
	if (ciis_db_begin(db, err) != 0)
		return -1;
	if (ciis_issue_load(db, ciis_sql_issue_lock, org, id, cur, err) != 0) {
		ciis_db_rollback(db);
		return -1;
	}
	return 0;
}

/* Bump the version, save, and commit with c's events; out gets the issue. */
static int
save_and_finish(struct ciis_db *db, struct ciis_issue *is, struct change *c,
    struct ciis_issue *out, struct ciis_err *err)
{
	if (save_issue(db, is, err) != 0 || finish(db, c, 1, err) != 0)
		return -1;
	ciis_issue_copy(out, is);
	return 0;
}

/* Names of the fields of p that changed after `since` (from the history). */
static struct json_object *
conflicted_fields(struct ciis_db *db, int64_t id, int64_t since,
    const struct ciis_issue_patch *p, struct ciis_err *err)
{
	static const unsigned bits[] = { CIIS_F_TITLE, CIIS_F_DESCRIPTION, CIIS_F_CATEGORY,
		CIIS_F_PRIORITY, CIIS_F_STATUS, CIIS_F_LOCATION };
	struct ciis_param q[] = { CIIS_PI64(id), CIIS_PI64(since) };
	struct json_object *out = json_object_new_array();
	struct ciis_rows rows;
	unsigned changed = 0;

	if (ciis_db_query(db, SQL_CHANGED_SINCE, q, 2, &rows, err) != 0)
		return out;
	for (size_t r = 0; r < rows.nrows; r++) {
		const char *type = ciis_rows_get(&rows, r, 0);
		struct json_object *pl = json_tokener_parse(ciis_rows_get(&rows, r, 1));
		struct json_object *changes;

		if (strcmp(type, "issue:updated") == 0 && pl &&
		    json_object_object_get_ex(pl, "changes", &changes)) {
			for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
				if (json_object_object_get_ex(changes, ciis_issue_field_name(bits[i]), NULL))
					changed |= bits[i];
		} else if (strcmp(type, "issue:resolved") == 0 || strcmp(type, "issue:assigned") == 0) {
			changed |= CIIS_F_STATUS;
		}
		json_object_put(pl);
	}
	ciis_rows_free(&rows);
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (p->fields & changed & bits[i])
			json_object_array_add(out, json_object_new_string(ciis_issue_field_name(bits[i])));
	return out;
}

static int
stale(struct ciis_db *db, const struct ciis_issue *cur, const struct ciis_issue_patch *p,
    int64_t version, struct ciis_conflict *conflict, struct ciis_err *err)
{
	conflict->current_version = cur->version;
	conflict->your_version = version;
	conflict->fields = conflicted_fields(db, cur->id, version, p, err);
	conflict->current = ciis_issue_to_json(cur);
	return CIIS_ERR(err, CIIS_E_CONFLICT, "version",
	    "version %lld is stale: the issue is at version %lld",
	    (long long)version, (long long)cur->version);
}

int
ciis_issue_update(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    const struct ciis_issue_patch *p, int64_t version, struct ciis_issue *out,
    struct ciis_conflict *conflict, struct ciis_err *err)
{
	struct ciis_issue cur;
	struct json_object *changes = NULL;
	struct change c = { .n = 0 };
	int64_t now = ciis_now_ms();
	int rc = -1;

	if (begin_locked(db, who->org_id, id, &cur, err) != 0)
		return -1;
	if (cur.version != version) {
		rc = stale(db, &cur, p, version, conflict, err);
	} else if (ciis_issue_apply_patch(&cur, p, now, &changes, err) == 0) {
		if (json_object_object_length(changes) == 0) {
			ciis_issue_copy(out, &cur);	/* nothing changed: no event */
			rc = 0;
		} else {
			cur.version++;
			cur.updated_at = now;
			add_event(&c, "issue:updated", &cur, who, issue_payload(&cur, who));
			json_object_object_add(c.ev[0].payload, "changes", json_object_get(changes));
			add_heatmap_event(&c, &cur, who, "updated");
			rc = save_and_finish(db, &cur, &c, out, err);
		}
	}
	ciis_db_rollback(db);
	json_object_put(changes);
	change_cleanup(&c);
	ciis_issue_cleanup(&cur);
	return rc;
}

int
ciis_issue_resolve(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    const char *resolution, struct ciis_issue *out, struct ciis_err *err)
{
	struct ciis_issue cur;
	struct change c = { .n = 0 };
	struct json_object *payload;
	int rc = -1;

	if (begin_locked(db, who->org_id, id, &cur, err) != 0)
		return -1;
	if (!ciis_status_is_open(cur.status)) {
		rc = CIIS_ERR(err, CIIS_E_BAD_REQUEST, "status", "status: the issue is already %s",
		    ciis_status_name(cur.status));
	} else {
		cur.status = CIIS_ST_RESOLVED;
		free(cur.resolution);
		cur.resolution = ciis_xstrdup(resolution);
		cur.version++;
		cur.updated_at = cur.resolved_at = ciis_now_ms();
		payload = issue_payload(&cur, who);
		json_object_object_add(payload, "resolution", json_object_new_string(resolution));
		add_event(&c, "issue:resolved", &cur, who, payload);
		add_heatmap_event(&c, &cur, who, "resolved");
		rc = save_and_finish(db, &cur, &c, out, err);
	}
	ciis_db_rollback(db);
	change_cleanup(&c);
	ciis_issue_cleanup(&cur);
	return rc;
}

/* Assignment moves open ↔ assigned; other statuses keep theirs. */
static void
assign_to(struct ciis_issue *is, const char *assignee)
{
	free(is->assigned_to);
	is->assigned_to = assignee ? ciis_xstrdup(assignee) : NULL;
	if (assignee && is->status == CIIS_ST_OPEN)
		is->status = CIIS_ST_ASSIGNED;
	else if (!assignee && is->status == CIIS_ST_ASSIGNED)
		is->status = CIIS_ST_OPEN;
}

int
ciis_issue_assign(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    const char *assignee, struct ciis_issue *out, struct ciis_err *err)
{
	struct ciis_issue cur;
	struct change c = { .n = 0 };
	struct json_object *payload;
	int rc = 0;

	if (begin_locked(db, who->org_id, id, &cur, err) != 0)
		return -1;
	if ((assignee == NULL && cur.assigned_to == NULL) ||
	    (assignee && cur.assigned_to && strcmp(assignee, cur.assigned_to) == 0)) {
		ciis_issue_copy(out, &cur);	/* already so: no event */
	} else {
		payload = json_object_new_object();
		json_object_object_add(payload, "previousAssignee", ciis_json_str_or_null(cur.assigned_to));
		json_object_object_add(payload, "assignee", ciis_json_str_or_null(assignee));
		assign_to(&cur, assignee);
		cur.version++;
		cur.updated_at = ciis_now_ms();
		json_object_object_add(payload, "issue", ciis_issue_to_json(&cur));
		json_object_object_add(payload, "actorId", json_object_new_string(who->user_id));
		add_event(&c, "issue:assigned", &cur, who, payload);
		add_heatmap_event(&c, &cur, who, "assigned");
		rc = save_and_finish(db, &cur, &c, out, err);
	}
	ciis_db_rollback(db);
	change_cleanup(&c);
	ciis_issue_cleanup(&cur);
	return rc;
}

int
ciis_issue_add_note(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    const char *notes, struct json_object **payload, struct ciis_err *err)
{
	struct ciis_issue cur;
	struct change c = { .n = 0 };
	struct json_object *o;
	int rc;

	if (begin_locked(db, who->org_id, id, &cur, err) != 0)
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, "issueId", ciis_json_id(cur.id));
	json_object_object_add(o, "notes", json_object_new_string(notes));
	json_object_object_add(o, "authorId", json_object_new_string(who->user_id));
	add_event(&c, "issue:note", &cur, who, o);
	/* streams deliver a note as an update of the issue, which the SPEC §6
	 * payload does not carry */
	c.ev[0].subject = ciis_issue_to_json(&cur);
	if ((rc = finish(db, &c, 1, err)) == 0)
		*payload = json_object_get(o);
	ciis_db_rollback(db);
	change_cleanup(&c);
	ciis_issue_cleanup(&cur);
	return rc;
}

int
ciis_issue_delete(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PI64(id) };
	struct ciis_issue cur;
	struct change c = { .n = 0 };
	struct json_object *o;
	int rc = -1;

	if (begin_locked(db, who->org_id, id, &cur, err) != 0)
		return -1;
	if (ciis_db_exec(db, SQL_DELETE_HISTORY, p, 1, NULL, NULL, err) == 0 &&
	    ciis_db_exec(db, SQL_DELETE, p, 1, NULL, NULL, err) == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "issueId", ciis_json_id(cur.id));
		json_object_object_add(o, "organizationId", json_object_new_string(cur.org_id));
		json_object_object_add(o, "campusId", ciis_json_id(cur.campus_id));
		json_object_object_add(o, "buildingId", ciis_json_id(cur.building_id));
		json_object_object_add(o, "actorId", json_object_new_string(who->user_id));
		add_event(&c, "issue:deleted", &cur, who, o);
		add_heatmap_event(&c, &cur, who, "deleted");
		rc = finish(db, &c, 0, err);
	}
	ciis_db_rollback(db);
	change_cleanup(&c);
	ciis_issue_cleanup(&cur);
	return rc;
}
