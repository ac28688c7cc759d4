/* Heatmap snapshots: two grouped queries and the last event id, all on one
 * consistent snapshot. */
#include "core/heatmap.h"

#include <string.h>

#include "core/clock.h"
#include "core/event.h"
#include "core/issue.h"
#include "core/json.h"
#include "core/sqlq.h"

static void
filter_places(struct ciis_sqlq *q, const char *campus_col, const char *building_col,
    const struct ciis_heatmap_filter *f)
{
	if (f->campus > 0) {
		ciis_sqlq_text(q, " AND ");
		ciis_sqlq_text(q, campus_col);
		ciis_sqlq_text(q, " = ?");
		ciis_sqlq_param(q, CIIS_PI64(f->campus));
	}
	ciis_sqlq_in_ids(q, building_col, f->building, f->nbuilding);
}

static int
query_buildings(struct ciis_db *db, const char *org, const struct ciis_heatmap_filter *f,
    struct ciis_rows *rows, struct ciis_err *err)
{
	struct ciis_sqlq q;
	int rc;

	ciis_sqlq_init(&q, "SELECT id, campus_id, name, lat, lng FROM buildings WHERE org_id = ?");
	ciis_sqlq_param(&q, CIIS_PSTR(org));
	filter_places(&q, "campus_id", "id", f);
	ciis_sqlq_text(&q, " ORDER BY id");
	rc = ciis_sqlq_query(db, &q, rows, err);
	ciis_sqlq_cleanup(&q);
	return rc;
}

static int
query_counts(struct ciis_db *db, const char *org, const struct ciis_heatmap_filter *f,
    struct ciis_rows *rows, struct ciis_err *err)
{
	struct ciis_sqlq q;
	int rc;

	ciis_sqlq_init(&q, "SELECT building_id, priority, category, COUNT(*) FROM issues"
	    " WHERE org_id = ? AND status NOT IN ('resolved', 'closed')");
	ciis_sqlq_param(&q, CIIS_PSTR(org));
	filter_places(&q, "campus_id", "building_id", f);
	ciis_sqlq_in_strs(&q, "category", f->category, f->ncategory);
	ciis_sqlq_text(&q, " GROUP BY building_id, priority, category ORDER BY building_id");
	rc = ciis_sqlq_query(db, &q, rows, err);
	ciis_sqlq_cleanup(&q);
	return rc;
}

static struct json_object *
building_entry(const struct ciis_rows *b, size_t r)
{
	struct json_object *o = json_object_new_object(), *prio = json_object_new_object();

	json_object_object_add(o, "buildingId", json_object_new_string(ciis_rows_get(b, r, 0)));
	json_object_object_add(o, "campusId", json_object_new_string(ciis_rows_get(b, r, 1)));
	json_object_object_add(o, "name", json_object_new_string(ciis_rows_get(b, r, 2)));
	json_object_object_add(o, "lat", ciis_rows_get(b, r, 3) ? ciis_json_double(ciis_rows_dbl(b, r, 3)) : NULL);
	json_object_object_add(o, "lng", ciis_rows_get(b, r, 4) ? ciis_json_double(ciis_rows_dbl(b, r, 4)) : NULL);
	json_object_object_add(o, "openIssues", json_object_new_int(0));
	json_object_object_add(o, "weight", json_object_new_int(0));
	for (int p = 0; p < CIIS_PRIO_COUNT; p++)
		json_object_object_add(prio, ciis_priority_name((enum ciis_priority)p), json_object_new_int(0));
	json_object_object_add(o, "byPriority", prio);
	json_object_object_add(o, "byCategory", json_object_new_object());
	return o;
}

static void
bump(struct json_object *o, const char *key, int by)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, key, &v))
		json_object_set_int(v, json_object_get_int(v) + by);
	else
		json_object_object_add(o, key, json_object_new_int(by));
}

/* Add one (building, priority, category, count) row to its entry and totals. */
static void
add_count(struct json_object *entry, struct json_object *totals, const struct ciis_rows *c, size_t r)
{
	struct json_object *prio, *cat;
	int p = ciis_priority_parse(ciis_rows_get(c, r, 1));
	int n = (int)ciis_rows_i64(c, r, 3), w = n * ciis_priority_weight((enum ciis_priority)(p < 0 ? 0 : p));

	json_object_object_get_ex(entry, "byPriority", &prio);
	json_object_object_get_ex(entry, "byCategory", &cat);
	bump(entry, "openIssues", n);
	bump(entry, "weight", w);
	bump(prio, ciis_rows_get(c, r, 1), n);
	bump(cat, ciis_rows_get(c, r, 2), n);
	bump(totals, "openIssues", n);
	bump(totals, "weight", w);
}

static struct json_object *
assemble(const char *org, const struct ciis_heatmap_filter *f, int64_t last,
    const struct ciis_rows *b, const struct ciis_rows *c)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	struct json_object *totals = json_object_new_object();
	char ts[CIIS_TIME_LEN];
	size_t j = 0;

	ciis_time_format(ciis_now_ms(), ts);
	json_object_object_add(totals, "openIssues", json_object_new_int(0));
	json_object_object_add(totals, "weight", json_object_new_int(0));
	/* both lists are ordered by building id: one merge pass */
	for (size_t r = 0; r < b->nrows; r++) {
		struct json_object *entry = building_entry(b, r);
		int64_t id = ciis_rows_i64(b, r, 0);

		while (j < c->nrows && ciis_rows_i64(c, j, 0) < id)
			j++;
		for (; j < c->nrows && ciis_rows_i64(c, j, 0) == id; j++)
			add_count(entry, totals, c, j);
		json_object_array_add(list, entry);
	}
	json_object_object_add(o, "organizationId", json_object_new_string(org));
	json_object_object_add(o, "campusId", f->campus ? ciis_json_id(f->campus) : NULL);
	json_object_object_add(o, "lastEventId", json_object_new_int64(last));
	json_object_object_add(o, "generatedAt", json_object_new_string(ts));
	json_object_object_add(o, "buildings", list);
	json_object_object_add(o, "totals", totals);
	return o;
}

int
ciis_heatmap_snapshot(struct ciis_db *db, const char *org,
    const struct ciis_heatmap_filter *f, struct json_object **out, struct ciis_err *err)
{
	struct ciis_rows b = { 0 }, c = { 0 };
	int64_t last = 0;
	int rc = -1;

	if (ciis_db_begin_snapshot(db, err) != 0)
		return -1;
	if (ciis_event_last_id(db, &last, err) == 0 && query_buildings(db, org, f, &b, err) == 0 &&
	    query_counts(db, org, f, &c, err) == 0) {
		*out = assemble(org, f, last, &b, &c);
		rc = 0;
	}
	ciis_db_rollback(db);
	ciis_rows_free(&b);
	ciis_rows_free(&c);
	return rc;
}
