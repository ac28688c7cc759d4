/* The issues-stream message rendered from an issue event (doc/sse.md "Wire
 * format", SPEC §6, §7, §11), the issues and heatmap filters, and the
 * message framing helpers.  Events are built by hand: no database. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/issue.h"
#include "core/ring.h"
#include "core/sse.h"
#include "suites.h"

#define TS "2026-12-01T10:00:00.000Z"

/* An issue as the REST API renders it; ids are strings on the wire. */
#define ISSUE(prio, st) \
	"{\"id\":\"42\",\"organizationId\":\"org1\",\"campusId\":\"3\",\"buildingId\":\"7\"," \
	"\"title\":\"Broken light\",\"description\":\"Flickers/buzzes\"," \
	"\"category\":\"electrical\",\"priority\":\"" prio "\",\"status\":\"" st "\"," \
	"\"assigneeId\":null,\"version\":2}"

static struct json_object *
parse(const char *text)
{
	struct json_object *o;

	if (text == NULL)
		return NULL;
	o = json_tokener_parse(text);
	ck_assert_msg(o != NULL, "test JSON does not parse: %s", text);
	return o;
}

/* An event of org1, campus 3, building 7, issue 42 unless told otherwise;
 * the payload and subject are JSON text (subject may be NULL). */
static void
make_event(struct ciis_event *ev, int64_t id, const char *type, const char *org,
    int64_t campus, int64_t building, const char *payload, const char *subject)
{
	memset(ev, 0, sizeof *ev);
	ev->id = id;
	snprintf(ev->type, sizeof ev->type, "%s", type);
	snprintf(ev->org_id, sizeof ev->org_id, "%s", org);
	ev->campus_id = campus;
	ev->building_id = building;
	ev->issue_id = strncmp(type, "issue:", 6) == 0 ? 42 : 0;
	snprintf(ev->actor_id, sizeof ev->actor_id, "u1");
	ev->issue_version = ev->issue_id ? 2 : 0;
	ev->created_at = INT64_C(1796119200000);
	ev->payload = parse(payload);
	ev->subject = parse(subject);
}

static void
drop_event(struct ciis_event *ev)
{
	json_object_put(ev->payload);
	json_object_put(ev->subject);
	ev->payload = ev->subject = NULL;
}

/* The entry of an event built by make_event; the event is not kept. */
static struct ciis_entry *
entry_of(int64_t id, const char *type, const char *org, int64_t campus, int64_t building,
    const char *payload, const char *subject)
{
	struct ciis_event ev;
	struct ciis_entry *e;

	make_event(&ev, id, type, org, campus, building, payload, subject);
	e = ciis_entry_new(&ev);
	drop_event(&ev);
	return e;
}

/* ---- rendering ---- */

static const struct {
	const char *what, *type;
	int64_t id;
	const char *payload, *subject;
	const char *sse;	/* the exact message */
	int priority, status;
	unsigned moved;
} renders[] = {
	{ "created", "issue:created", 101,
	  "{\"issue\":" ISSUE("high", "open") ",\"actorId\":\"u1\",\"eventId\":101,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 101\ndata: {\"type\":\"created\",\"data\":" ISSUE("high", "open")
	  ",\"eventId\":101,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_HIGH, CIIS_ST_OPEN, 0 },
	{ "PATCH of the title", "issue:updated", 102,
	  "{\"issue\":" ISSUE("high", "in_progress") ",\"changes\":{\"title\":{\"from\":\"a\",\"to\":\"b\"}},"
	  "\"actorId\":\"u1\",\"eventId\":102,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 102\ndata: {\"type\":\"updated\",\"change\":\"fields\","
	  "\"changes\":{\"title\":{\"from\":\"a\",\"to\":\"b\"}},\"data\":" ISSUE("high", "in_progress")
	  ",\"eventId\":102,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_HIGH, CIIS_ST_IN_PROGRESS, 0 },
	{ "PATCH of a multi-line description", "issue:updated", 103,
	  "{\"issue\":" ISSUE("low", "open") ",\"changes\":{\"description\":{\"from\":\"x\\ny\",\"to\":\"p\\r\\nq\"}},"
	  "\"actorId\":\"u1\",\"eventId\":103,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 103\ndata: {\"type\":\"updated\",\"change\":\"fields\","
	  "\"changes\":{\"description\":{\"from\":\"x\\ny\",\"to\":\"p\\r\\nq\"}},\"data\":" ISSUE("low", "open")
	  ",\"eventId\":103,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_LOW, CIIS_ST_OPEN, 0 },
	{ "PATCH of the status", "issue:updated", 104,
	  "{\"issue\":" ISSUE("high", "closed") ",\"changes\":{\"status\":{\"from\":\"open\",\"to\":\"closed\"}},"
	  "\"actorId\":\"u1\",\"eventId\":104,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 104\ndata: {\"type\":\"updated\",\"change\":\"fields\","
	  "\"changes\":{\"status\":{\"from\":\"open\",\"to\":\"closed\"}},\"data\":" ISSUE("high", "closed")
	  ",\"eventId\":104,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_HIGH, CIIS_ST_CLOSED, CIIS_F_STATUS },
	{ "PATCH of the priority", "issue:updated", 105,
	  "{\"issue\":" ISSUE("critical", "open") ",\"changes\":{\"priority\":{\"from\":\"low\",\"to\":\"critical\"}},"
	  "\"actorId\":\"u1\",\"eventId\":105,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 105\ndata: {\"type\":\"updated\",\"change\":\"fields\","
	  "\"changes\":{\"priority\":{\"from\":\"low\",\"to\":\"critical\"}},\"data\":" ISSUE("critical", "open")
	  ",\"eventId\":105,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_CRITICAL, CIIS_ST_OPEN, CIIS_F_PRIORITY },
	{ "PATCH of title, status and priority", "issue:updated", 106,
	  "{\"issue\":" ISSUE("medium", "in_progress") ",\"changes\":{\"title\":{\"from\":\"a\",\"to\":\"b\"},"
	  "\"status\":{\"from\":\"open\",\"to\":\"in_progress\"},\"priority\":{\"from\":\"low\",\"to\":\"medium\"}},"
	  "\"actorId\":\"u1\",\"eventId\":106,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 106\ndata: {\"type\":\"updated\",\"change\":\"fields\",\"changes\":{\"title\":{\"from\":\"a\",\"to\":\"b\"},"
	  "\"status\":{\"from\":\"open\",\"to\":\"in_progress\"},\"priority\":{\"from\":\"low\",\"to\":\"medium\"}},"
	  "\"data\":" ISSUE("medium", "in_progress") ",\"eventId\":106,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_MEDIUM, CIIS_ST_IN_PROGRESS, CIIS_F_STATUS | CIIS_F_PRIORITY },
	{ "resolved", "issue:resolved", 107,
	  "{\"issue\":" ISSUE("high", "resolved") ",\"resolution\":\"Replaced the ballast\","
	  "\"actorId\":\"u2\",\"eventId\":107,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 107\ndata: {\"type\":\"updated\",\"change\":\"resolved\",\"resolution\":\"Replaced the ballast\","
	  "\"data\":" ISSUE("high", "resolved") ",\"eventId\":107,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_HIGH, CIIS_ST_RESOLVED, CIIS_F_STATUS },
	{ "assigned", "issue:assigned", 108,
	  "{\"issue\":" ISSUE("medium", "assigned") ",\"previousAssignee\":null,\"assignee\":\"u9\","
	  "\"actorId\":\"u2\",\"eventId\":108,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 108\ndata: {\"type\":\"updated\",\"change\":\"assigned\",\"previousAssignee\":null,\"assignee\":\"u9\","
	  "\"data\":" ISSUE("medium", "assigned") ",\"eventId\":108,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_MEDIUM, CIIS_ST_ASSIGNED, CIIS_F_STATUS },
	{ "unassigned", "issue:assigned", 109,
	  "{\"issue\":" ISSUE("medium", "open") ",\"previousAssignee\":\"u9\",\"assignee\":null,"
	  "\"actorId\":\"u2\",\"eventId\":109,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 109\ndata: {\"type\":\"updated\",\"change\":\"assigned\",\"previousAssignee\":\"u9\",\"assignee\":null,"
	  "\"data\":" ISSUE("medium", "open") ",\"eventId\":109,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_MEDIUM, CIIS_ST_OPEN, CIIS_F_STATUS },
	{ "note (issue beside the payload)", "issue:note", 110,
	  "{\"issueId\":\"42\",\"notes\":\"Ladder needed\\nsecond line\",\"authorId\":\"u3\","
	  "\"eventId\":110,\"timestamp\":\"" TS "\"}",
	  ISSUE("low", "in_progress"),
	  "id: 110\ndata: {\"type\":\"updated\",\"change\":\"note\","
	  "\"note\":{\"notes\":\"Ladder needed\\nsecond line\",\"authorId\":\"u3\"},"
	  "\"data\":" ISSUE("low", "in_progress") ",\"eventId\":110,\"timestamp\":\"" TS "\"}\n\n",
	  CIIS_PRIO_LOW, CIIS_ST_IN_PROGRESS, 0 },
	{ "deleted", "issue:deleted", 111,
	  "{\"issueId\":\"42\",\"organizationId\":\"org1\",\"campusId\":\"3\",\"buildingId\":\"7\","
	  "\"actorId\":\"u1\",\"eventId\":111,\"timestamp\":\"" TS "\"}",
	  NULL,
	  "id: 111\ndata: {\"type\":\"deleted\",\"data\":{\"issueId\":\"42\"},\"eventId\":111,"
	  "\"timestamp\":\"" TS "\"}\n\n",
	  -1, -1, 0 },
	{ "large id", "issue:created", INT64_C(9007199254740993),
	  "{\"issue\":" ISSUE("low", "open") ",\"actorId\":\"u1\",\"eventId\":9007199254740993,"
	  "\"timestamp\":\"2027-01-31T23:59:59.999Z\"}",
	  NULL,
	  "id: 9007199254740993\ndata: {\"type\":\"created\",\"data\":" ISSUE("low", "open")
	  ",\"eventId\":9007199254740993,\"timestamp\":\"2027-01-31T23:59:59.999Z\"}\n\n",
	  CIIS_PRIO_LOW, CIIS_ST_OPEN, 0 },
};

static size_t
count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

START_TEST(test_render)
{
	struct ciis_event ev;
	struct ciis_entry *e;

	make_event(&ev, renders[_i].id, renders[_i].type, "org1", 3, 7, renders[_i].payload,
	    renders[_i].subject);
	e = ciis_entry_new(&ev);
	drop_event(&ev);
	ck_assert_msg(e->sse != NULL, "%s: no message", renders[_i].what);
	ck_assert_str_eq(e->sse, renders[_i].sse);
	ck_assert_uint_eq(e->sse_len, strlen(renders[_i].sse));
	/* one id line, one data line, the blank line */
	ck_assert_uint_eq(count_char(e->sse, '\n'), 3);
	ck_assert_ptr_null(strchr(e->sse, '\r'));
	ck_assert_int_eq(e->priority, renders[_i].priority);
	ck_assert_int_eq(e->status, renders[_i].status);
	ck_assert_uint_eq(e->moved, renders[_i].moved);
	/* the entry keeps what streams match on */
	ck_assert_int_eq(e->id, renders[_i].id);
	ck_assert_str_eq(e->type, renders[_i].type);
	ck_assert_str_eq(e->org_id, "org1");
	ck_assert_int_eq(e->campus_id, 3);
	ck_assert_int_eq(e->building_id, 7);
	ck_assert_int_eq(e->issue_id, 42);
	ck_assert_int_eq(e->created_at, INT64_C(1796119200000));
	ck_assert_int_eq(e->refs, 1);
	ciis_entry_unref(e);
}
END_TEST

/* The message's JSON parses back to the members doc/sse.md names. */
START_TEST(test_render_parses)
{
	struct ciis_event ev;
	struct ciis_entry *e;
	struct json_object *msg, *v, *issue;
	const char *json;

	make_event(&ev, renders[_i].id, renders[_i].type, "org1", 3, 7, renders[_i].payload,
	    renders[_i].subject);
	e = ciis_entry_new(&ev);
	ck_assert_ptr_nonnull(e->sse);
	json = strstr(e->sse, "\ndata: ");
	ck_assert_ptr_nonnull(json);
	msg = json_tokener_parse(json + 7);
	ck_assert_msg(msg != NULL, "%s: message JSON does not parse", renders[_i].what);
	ck_assert(json_object_object_get_ex(msg, "eventId", &v));
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int64(v), renders[_i].id);
	ck_assert(json_object_object_get_ex(msg, "timestamp", &v));
	ck_assert(json_object_object_get_ex(ev.payload, "timestamp", &issue));
	ck_assert_str_eq(json_object_get_string(v), json_object_get_string(issue));
	ck_assert(json_object_object_get_ex(msg, "data", &v));
	if (strcmp(renders[_i].type, "issue:deleted") == 0) {
		ck_assert_str_eq(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
		    "{\"issueId\":\"42\"}");
	} else {
		issue = ev.subject;
		if (issue == NULL)
			ck_assert(json_object_object_get_ex(ev.payload, "issue", &issue));
		ck_assert(json_object_equal(v, issue));
	}
	ck_assert_int_eq(json_object_object_get_ex(msg, "change", NULL),
	    strcmp(renders[_i].type, "issue:created") != 0 &&
	    strcmp(renders[_i].type, "issue:deleted") != 0);
	json_object_put(msg);
	drop_event(&ev);
	ciis_entry_unref(e);
}
END_TEST

/* Strings with line breaks, quotes and slashes stay on the one data line. */
START_TEST(test_render_one_line)
{
	struct ciis_event ev;
	struct ciis_entry *e;
	struct json_object *issue, *payload;

	memset(&ev, 0, sizeof ev);
	ev.id = 7;
	snprintf(ev.type, sizeof ev.type, "issue:created");
	snprintf(ev.org_id, sizeof ev.org_id, "org1");
	issue = json_object_new_object();
	json_object_object_add(issue, "id", json_object_new_string("42"));
	json_object_object_add(issue, "title", json_object_new_string("two\nlines\r\nthree\rfour"));
	json_object_object_add(issue, "description",
	    json_object_new_string("tab\there \"quoted\" a/b caf\xc3\xa9\n\n"));
	json_object_object_add(issue, "priority", json_object_new_string("medium"));
	json_object_object_add(issue, "status", json_object_new_string("assigned"));
	payload = json_object_new_object();
	json_object_object_add(payload, "issue", issue);
	json_object_object_add(payload, "eventId", json_object_new_int64(7));
	json_object_object_add(payload, "timestamp", json_object_new_string(TS));
	ev.payload = payload;
	e = ciis_entry_new(&ev);
	drop_event(&ev);
	ck_assert_ptr_nonnull(e->sse);
	ck_assert_str_eq(e->sse,
	    "id: 7\ndata: {\"type\":\"created\",\"data\":{\"id\":\"42\","
	    "\"title\":\"two\\nlines\\r\\nthree\\rfour\","
	    "\"description\":\"tab\\there \\\"quoted\\\" a/b caf\xc3\xa9\\n\\n\","
	    "\"priority\":\"medium\",\"status\":\"assigned\"},\"eventId\":7,\"timestamp\":\"" TS "\"}\n\n");
	ck_assert_uint_eq(count_char(e->sse, '\n'), 3);
	ck_assert_ptr_null(strchr(e->sse, '\r'));
	ck_assert_int_eq(e->priority, CIIS_PRIO_MEDIUM);
	ck_assert_int_eq(e->status, CIIS_ST_ASSIGNED);
	ciis_entry_unref(e);
}
END_TEST

/* Events that are not issue events get no issues-stream message. */
static const struct {
	const char *type, *payload;
} others[] = {
	{ "heatmap:updated",
	  "{\"organizationId\":\"org1\",\"campusId\":\"3\",\"buildingId\":\"7\",\"changeType\":\"created\",\"eventId\":5}" },
	{ "notification:new", "{\"notification\":{\"id\":\"9\",\"title\":\"t\"},\"eventId\":5}" },
	{ "user:online", "{\"userId\":\"u1\",\"name\":\"A\",\"status\":\"online\",\"lastSeen\":\"" TS "\"}" },
	{ "user:offline", "{\"userId\":\"u1\"}" },
	{ "presence:updated", "{\"userId\":\"u1\",\"status\":\"away\"}" },
	{ "document:updated", "{\"documentId\":\"d1\",\"eventId\":5}" },
	/* shaped like an issue event, but not one of §6's types */
	{ "issue:viewed", "{\"issue\":" ISSUE("high", "open") ",\"eventId\":5,\"timestamp\":\"" TS "\"}" },
	{ "issues:created", "{\"issue\":" ISSUE("high", "open") ",\"eventId\":5,\"timestamp\":\"" TS "\"}" },
};

START_TEST(test_render_others)
{
	struct ciis_entry *e = entry_of(5, others[_i].type, "org1", 3, 7, others[_i].payload, NULL);

	ck_assert_msg(e->sse == NULL, "%s got a message: %s", others[_i].type, e->sse);
	ck_assert_uint_eq(e->sse_len, 0);
	ck_assert_int_eq(e->priority, -1);
	ck_assert_int_eq(e->status, -1);
	ck_assert_uint_eq(e->moved, 0);
	ck_assert_str_eq(e->type, others[_i].type);
	ck_assert_int_eq(e->id, 5);
	ck_assert_int_eq(e->refs, 1);
	ciis_entry_unref(e);
}
END_TEST

/* ---- the issues filter ---- */

enum {
	EV_CREATED,		/* high, open */
	EV_CREATED_LOW,		/* low, open */
	EV_PATCH_TITLE,		/* high, in_progress; title changed */
	EV_PATCH_STATUS,	/* high, closed; status open → closed */
	EV_PATCH_PRIORITY,	/* low, open; priority high → low */
	EV_RESOLVED,		/* high, resolved */
	EV_ASSIGNED,		/* medium, assigned */
	EV_NOTE,		/* high, open */
	EV_DELETED,
	EV_HEATMAP,
	EV_NOTIFICATION,
	EV_UNKNOWN_STATUS,	/* created; priority and status not ours */
};

static const struct {
	const char *type, *payload, *subject;
} fevents[] = {
	[EV_CREATED] = { "issue:created",
	    "{\"issue\":" ISSUE("high", "open") ",\"eventId\":1,\"timestamp\":\"" TS "\"}", NULL },
	[EV_CREATED_LOW] = { "issue:created",
	    "{\"issue\":" ISSUE("low", "open") ",\"eventId\":1,\"timestamp\":\"" TS "\"}", NULL },
	[EV_PATCH_TITLE] = { "issue:updated",
	    "{\"issue\":" ISSUE("high", "in_progress") ",\"changes\":{\"title\":{\"from\":\"a\",\"to\":\"b\"}},"
	    "\"eventId\":1,\"timestamp\":\"" TS "\"}", NULL },
	[EV_PATCH_STATUS] = { "issue:updated",
	    "{\"issue\":" ISSUE("high", "closed") ",\"changes\":{\"status\":{\"from\":\"open\",\"to\":\"closed\"}},"
	    "\"eventId\":1,\"timestamp\":\"" TS "\"}", NULL },
	[EV_PATCH_PRIORITY] = { "issue:updated",
	    "{\"issue\":" ISSUE("low", "open") ",\"changes\":{\"priority\":{\"from\":\"high\",\"to\":\"low\"}},"
	    "\"eventId\":1,\"timestamp\":\"" TS "\"}", NULL },
	[EV_RESOLVED] = { "issue:resolved",
	    "{\"issue\":" ISSUE("high", "resolved") ",\"resolution\":\"done\",\"eventId\":1,\"timestamp\":\"" TS "\"}",
	    NULL },
	[EV_ASSIGNED] = { "issue:assigned",
	    "{\"issue\":" ISSUE("medium", "assigned") ",\"previousAssignee\":null,\"assignee\":\"u9\","
	    "\"eventId\":1,\"timestamp\":\"" TS "\"}", NULL },
	[EV_NOTE] = { "issue:note",
	    "{\"issueId\":\"42\",\"notes\":\"n\",\"authorId\":\"u3\",\"eventId\":1,\"timestamp\":\"" TS "\"}",
	    ISSUE("high", "open") },
	[EV_DELETED] = { "issue:deleted",
	    "{\"issueId\":\"42\",\"organizationId\":\"org1\",\"campusId\":\"3\",\"buildingId\":\"7\","
	    "\"eventId\":1,\"timestamp\":\"" TS "\"}", NULL },
	[EV_HEATMAP] = { "heatmap:updated",
	    "{\"organizationId\":\"org1\",\"campusId\":\"3\",\"buildingId\":\"7\",\"changeType\":\"created\","
	    "\"eventId\":1}", NULL },
	[EV_NOTIFICATION] = { "notification:new", "{\"notification\":{\"id\":\"1\"},\"eventId\":1}", NULL },
	[EV_UNKNOWN_STATUS] = { "issue:created",
	    "{\"issue\":" ISSUE("urgent", "pending") ",\"eventId\":1,\"timestamp\":\"" TS "\"}", NULL },
};

#define P(x) (1u << CIIS_PRIO_##x)
#define S(x) (1u << CIIS_ST_##x)

/* Every event sits in org1, campus 3, building 7. */
static const struct {
	const char *what;
	int ev;
	struct ciis_sse_filter f;
	int match;
} fcases[] = {
	{ "no filter", EV_CREATED, { .org_id = "org1" }, 1 },
	{ "no filter, note", EV_NOTE, { .org_id = "org1" }, 1 },
	{ "no filter, unknown status", EV_UNKNOWN_STATUS, { .org_id = "org1" }, 1 },
	{ "other org", EV_CREATED, { .org_id = "org2" }, 0 },
	{ "org prefix", EV_CREATED, { .org_id = "org" }, 0 },
	{ "org longer", EV_CREATED, { .org_id = "org10" }, 0 },
	{ "empty org", EV_CREATED, { .org_id = "" }, 0 },
	{ "other org, status update", EV_PATCH_STATUS, { .org_id = "org2", .statuses = S(OPEN) }, 0 },
	{ "campus in", EV_CREATED, { .org_id = "org1", .campus = { 3 }, .ncampus = 1 }, 1 },
	{ "campus out", EV_CREATED, { .org_id = "org1", .campus = { 4 }, .ncampus = 1 }, 0 },
	{ "campus in list", EV_CREATED, { .org_id = "org1", .campus = { 1, 2, 3 }, .ncampus = 3 }, 1 },
	{ "campus not in list", EV_CREATED, { .org_id = "org1", .campus = { 1, 2, 4 }, .ncampus = 3 }, 0 },
	/* only the first ncampus values count */
	{ "campus past the count", EV_CREATED, { .org_id = "org1", .campus = { 1, 3 }, .ncampus = 1 }, 0 },
	{ "building in", EV_CREATED, { .org_id = "org1", .building = { 7 }, .nbuilding = 1 }, 1 },
	{ "building out", EV_CREATED, { .org_id = "org1", .building = { 8 }, .nbuilding = 1 }, 0 },
	{ "building in list", EV_CREATED, { .org_id = "org1", .building = { 8, 9, 7 }, .nbuilding = 3 }, 1 },
	{ "campus in, building out", EV_CREATED,
	  { .org_id = "org1", .campus = { 3 }, .ncampus = 1, .building = { 8 }, .nbuilding = 1 }, 0 },
	{ "campus out, building in", EV_CREATED,
	  { .org_id = "org1", .campus = { 4 }, .ncampus = 1, .building = { 7 }, .nbuilding = 1 }, 0 },
	{ "campus and building in", EV_CREATED,
	  { .org_id = "org1", .campus = { 3 }, .ncampus = 1, .building = { 7 }, .nbuilding = 1 }, 1 },
	{ "priority in", EV_CREATED, { .org_id = "org1", .priorities = P(HIGH) }, 1 },
	{ "priority in mask", EV_CREATED, { .org_id = "org1", .priorities = P(LOW) | P(HIGH) }, 1 },
	{ "priority out", EV_CREATED, { .org_id = "org1", .priorities = P(LOW) | P(CRITICAL) }, 0 },
	{ "status in", EV_CREATED, { .org_id = "org1", .statuses = S(OPEN) }, 1 },
	{ "status out", EV_CREATED, { .org_id = "org1", .statuses = S(RESOLVED) | S(CLOSED) }, 0 },
	{ "priority in, status out", EV_CREATED,
	  { .org_id = "org1", .priorities = P(HIGH), .statuses = S(CLOSED) }, 0 },
	{ "priority out, status in", EV_CREATED_LOW,
	  { .org_id = "org1", .priorities = P(HIGH), .statuses = S(OPEN) }, 0 },
	{ "unknown status, status filter", EV_UNKNOWN_STATUS,
	  { .org_id = "org1", .statuses = 0x1fu }, 0 },
	{ "unknown priority, priority filter", EV_UNKNOWN_STATUS,
	  { .org_id = "org1", .priorities = 0xfu }, 0 },
	/* updates that may have moved the issue out of the filter still go out */
	{ "PATCH status out of the filter", EV_PATCH_STATUS,
	  { .org_id = "org1", .statuses = S(OPEN) | S(IN_PROGRESS) }, 1 },
	{ "PATCH status, still in", EV_PATCH_STATUS, { .org_id = "org1", .statuses = S(CLOSED) }, 1 },
	{ "PATCH priority out of the filter", EV_PATCH_PRIORITY,
	  { .org_id = "org1", .priorities = P(HIGH) }, 1 },
	{ "PATCH priority, still in", EV_PATCH_PRIORITY, { .org_id = "org1", .priorities = P(LOW) }, 1 },
	{ "resolve out of the filter", EV_RESOLVED, { .org_id = "org1", .statuses = S(OPEN) | S(ASSIGNED) }, 1 },
	{ "assign out of the filter", EV_ASSIGNED, { .org_id = "org1", .statuses = S(OPEN) }, 1 },
	{ "resolve in the filter", EV_RESOLVED, { .org_id = "org1", .statuses = S(RESOLVED) }, 1 },
	/* ... but only within the org, campus and building */
	{ "PATCH status, campus out", EV_PATCH_STATUS,
	  { .org_id = "org1", .campus = { 4 }, .ncampus = 1, .statuses = S(OPEN) }, 0 },
	{ "resolve, building out", EV_RESOLVED,
	  { .org_id = "org1", .building = { 8 }, .nbuilding = 1, .statuses = S(OPEN) }, 0 },
	/* a change that cannot have moved it out of this filter */
	{ "PATCH title, status out", EV_PATCH_TITLE, { .org_id = "org1", .statuses = S(OPEN) }, 0 },
	{ "PATCH title, priority out", EV_PATCH_TITLE, { .org_id = "org1", .priorities = P(LOW) }, 0 },
	{ "PATCH title, in", EV_PATCH_TITLE,
	  { .org_id = "org1", .priorities = P(HIGH), .statuses = S(IN_PROGRESS) }, 1 },
	{ "PATCH priority, status filter out", EV_PATCH_PRIORITY,
	  { .org_id = "org1", .statuses = S(CLOSED) }, 0 },
	{ "PATCH status, priority filter out", EV_PATCH_STATUS,
	  { .org_id = "org1", .priorities = P(LOW) }, 0 },
	{ "resolve, priority filter out", EV_RESOLVED, { .org_id = "org1", .priorities = P(LOW) }, 0 },
	{ "assign, priority filter out", EV_ASSIGNED, { .org_id = "org1", .priorities = P(HIGH) }, 0 },
	{ "note, status out", EV_NOTE, { .org_id = "org1", .statuses = S(RESOLVED) }, 0 },
	{ "note, priority out", EV_NOTE, { .org_id = "org1", .priorities = P(LOW) }, 0 },
	{ "note, in", EV_NOTE, { .org_id = "org1", .priorities = P(HIGH), .statuses = S(OPEN) }, 1 },
	/* deleted: organization, campus and building only */
	{ "deleted", EV_DELETED, { .org_id = "org1" }, 1 },
	{ "deleted, state filters", EV_DELETED,
	  { .org_id = "org1", .priorities = P(LOW), .statuses = S(CLOSED) }, 1 },
	{ "deleted, place in", EV_DELETED,
	  { .org_id = "org1", .campus = { 3 }, .ncampus = 1, .building = { 9, 7 }, .nbuilding = 2 }, 1 },
	{ "deleted, campus out", EV_DELETED, { .org_id = "org1", .campus = { 4 }, .ncampus = 1 }, 0 },
	{ "deleted, building out", EV_DELETED, { .org_id = "org1", .building = { 8 }, .nbuilding = 1 }, 0 },
	{ "deleted, other org", EV_DELETED, { .org_id = "org2" }, 0 },
	/* not issue events */
	{ "heatmap event", EV_HEATMAP, { .org_id = "org1" }, 0 },
	{ "notification event", EV_NOTIFICATION, { .org_id = "org1" }, 0 },
};

START_TEST(test_issue_match)
{
	const struct ciis_sse_filter *f = &fcases[_i].f;
	int ev = fcases[_i].ev;
	struct ciis_entry *e = entry_of(1, fevents[ev].type, "org1", 3, 7, fevents[ev].payload,
	    fevents[ev].subject);

	ck_assert_msg(ciis_sse_issue_match(f, e) == fcases[_i].match, "%s: expected %s",
	    fcases[_i].what, fcases[_i].match ? "delivered" : "not delivered");
	ciis_entry_unref(e);
}
END_TEST

/* ---- the heatmap filter ---- */

static const struct {
	const char *what, *org;
	int64_t campus;
	int64_t building[4];
	size_t nbuilding;
	int ev, match;
} hcases[] = {
	{ "no filter", "org1", 0, { 0 }, 0, EV_HEATMAP, 1 },
	{ "other org", "org2", 0, { 0 }, 0, EV_HEATMAP, 0 },
	{ "org prefix", "org", 0, { 0 }, 0, EV_HEATMAP, 0 },
	{ "campus in", "org1", 3, { 0 }, 0, EV_HEATMAP, 1 },
	{ "campus out", "org1", 4, { 0 }, 0, EV_HEATMAP, 0 },
	{ "building in", "org1", 0, { 7 }, 1, EV_HEATMAP, 1 },
	{ "building in list", "org1", 0, { 5, 6, 7 }, 3, EV_HEATMAP, 1 },
	{ "building out", "org1", 0, { 5, 6, 8 }, 3, EV_HEATMAP, 0 },
	{ "building past the count", "org1", 0, { 5, 7 }, 1, EV_HEATMAP, 0 },
	{ "campus and building in", "org1", 3, { 7 }, 1, EV_HEATMAP, 1 },
	{ "campus in, building out", "org1", 3, { 8 }, 1, EV_HEATMAP, 0 },
	{ "campus out, building in", "org1", 4, { 7 }, 1, EV_HEATMAP, 0 },
	{ "other org, place in", "org2", 3, { 7 }, 1, EV_HEATMAP, 0 },
	{ "issue event", "org1", 0, { 0 }, 0, EV_CREATED, 0 },
	{ "deleted event", "org1", 3, { 7 }, 1, EV_DELETED, 0 },
	{ "notification event", "org1", 0, { 0 }, 0, EV_NOTIFICATION, 0 },
};

START_TEST(test_heatmap_match)
{
	int ev = hcases[_i].ev;
	struct ciis_entry *e = entry_of(1, fevents[ev].type, "org1", 3, 7, fevents[ev].payload,
	    fevents[ev].subject);

	ck_assert_msg(ciis_sse_heatmap_match(hcases[_i].org, hcases[_i].campus, hcases[_i].building,
	    hcases[_i].nbuilding, e) == hcases[_i].match, "%s: expected %d", hcases[_i].what,
	    hcases[_i].match);
	ciis_entry_unref(e);
}
END_TEST

/* ---- framing ---- */

static const struct {
	int64_t id;
	const char *json, *out;
} messages[] = {
	{ 1, "{}", "id: 1\ndata: {}\n\n" },
	{ 981, "{\"type\":\"initial\"}", "id: 981\ndata: {\"type\":\"initial\"}\n\n" },
	{ INT64_MAX, "{}", "id: 9223372036854775807\ndata: {}\n\n" },
	{ 0, "{\"type\":\"initial\"}", "id: 0\ndata: {\"type\":\"initial\"}\n\n" },
	{ CIIS_SSE_NO_ID, "{\"type\":\"heartbeat\"}", "data: {\"type\":\"heartbeat\"}\n\n" },
};

START_TEST(test_message)
{
	struct ciis_buf b;

	ciis_buf_init(&b);
	ciis_sse_message(&b, messages[_i].id, messages[_i].json);
	ck_assert_str_eq(ciis_buf_str(&b), messages[_i].out);
	ck_assert_uint_eq(b.len, strlen(messages[_i].out));
	ciis_buf_cleanup(&b);
}
END_TEST

START_TEST(test_message_appends)
{
	struct ciis_buf b;

	ciis_buf_init(&b);
	ciis_buf_puts(&b, "retry: 3000\n\n");
	ciis_sse_message(&b, 5, "{\"a\":1}");
	ciis_sse_message(&b, CIIS_SSE_NO_ID, "{\"b\":2}");
	ciis_sse_message(&b, 6, "[]");
	ck_assert_str_eq(ciis_buf_str(&b),
	    "retry: 3000\n\nid: 5\ndata: {\"a\":1}\n\ndata: {\"b\":2}\n\nid: 6\ndata: []\n\n");
	ciis_buf_cleanup(&b);
}
END_TEST

/* got must be prefix, an RFC 3339 timestamp taken between lo and hi (ms),
 * then suffix. */
static void
assert_stamped(const char *got, const char *prefix, const char *suffix, int64_t lo, int64_t hi)
{
	size_t np = strlen(prefix), ns = strlen(suffix), n = strlen(got);
	char ts[CIIS_TIME_LEN];
	int64_t ms = 0;

	ck_assert_msg(n == np + CIIS_TIME_LEN - 1 + ns, "unexpected length %zu: %s", n, got);
	ck_assert_msg(strncmp(got, prefix, np) == 0, "\"%s\" does not start with \"%s\"", got, prefix);
	ck_assert_msg(strcmp(got + n - ns, suffix) == 0, "\"%s\" does not end with \"%s\"", got, suffix);
	memcpy(ts, got + np, CIIS_TIME_LEN - 1);
	ts[CIIS_TIME_LEN - 1] = '\0';
	ck_assert_msg(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' &&
	    ts[16] == ':' && ts[19] == '.' && ts[23] == 'Z', "not RFC 3339 with ms: %s", ts);
	ck_assert_int_eq(ciis_time_parse(ts, &ms), 0);
	ck_assert_msg(ms >= lo && ms <= hi, "timestamp %s is not now", ts);
}

START_TEST(test_typed)
{
	struct ciis_buf b;
	struct json_object *data = json_tokener_parse("[{\"id\":\"1\",\"title\":\"a\\nb\"},{\"id\":\"2\"}]");
	int64_t lo, hi;

	ciis_buf_init(&b);
	lo = ciis_now_ms();
	ciis_sse_typed(&b, "initial", data, 981);
	hi = ciis_now_ms();
	assert_stamped(ciis_buf_str(&b),
	    "id: 981\ndata: {\"type\":\"initial\",\"data\":[{\"id\":\"1\",\"title\":\"a\\nb\"},{\"id\":\"2\"}],"
	    "\"eventId\":981,\"timestamp\":\"", "\"}\n\n", lo, hi);
	/* data is borrowed: still ours, with our one reference */
	ck_assert_uint_eq(json_object_array_length(data), 2);
	ck_assert_int_eq(json_object_put(data), 1);
	ciis_buf_cleanup(&b);
}
END_TEST

START_TEST(test_typed_null)
{
	struct ciis_buf b;
	struct json_object *hm = json_tokener_parse("{\"buildings\":[],\"url\":\"a/b\"}");
	int64_t lo, hi;

	ciis_buf_init(&b);
	lo = ciis_now_ms();
	ciis_sse_typed(&b, "initial", NULL, 12);
	hi = ciis_now_ms();
	assert_stamped(ciis_buf_str(&b),
	    "id: 12\ndata: {\"type\":\"initial\",\"data\":null,\"eventId\":12,\"timestamp\":\"", "\"}\n\n",
	    lo, hi);
	ciis_buf_reset(&b);
	lo = ciis_now_ms();
	ciis_sse_typed(&b, "update", hm, 40);
	hi = ciis_now_ms();
	assert_stamped(ciis_buf_str(&b),
	    "id: 40\ndata: {\"type\":\"update\",\"data\":{\"buildings\":[],\"url\":\"a/b\"},\"eventId\":40,"
	    "\"timestamp\":\"", "\"}\n\n", lo, hi);
	ck_assert_int_eq(json_object_put(hm), 1);
	ciis_buf_cleanup(&b);
}
END_TEST

static const char *const bare_types[] = { "heartbeat", "reset", "expired" };

START_TEST(test_bare)
{
	struct ciis_buf b;
	char prefix[64];
	int64_t lo, hi;

	ciis_buf_init(&b);
	snprintf(prefix, sizeof prefix, "data: {\"type\":\"%s\",\"timestamp\":\"", bare_types[_i]);
	lo = ciis_now_ms();
	ciis_sse_bare(&b, bare_types[_i]);
	hi = ciis_now_ms();
	assert_stamped(ciis_buf_str(&b), prefix, "\"}\n\n", lo, hi);
	ck_assert_ptr_null(strstr(ciis_buf_str(&b), "id:"));
	ciis_buf_cleanup(&b);
}
END_TEST

static const struct {
	const char *code;
	long retry;
	const char *prefix;
} errors[] = {
	{ "rate_limited", 5000,
	  "retry: 5000\n\ndata: {\"type\":\"error\",\"code\":\"rate_limited\",\"retryAfter\":5000,\"timestamp\":\"" },
	{ "unavailable", 3000,
	  "retry: 3000\n\ndata: {\"type\":\"error\",\"code\":\"unavailable\",\"retryAfter\":3000,\"timestamp\":\"" },
	{ "unavailable", 120000,
	  "retry: 120000\n\ndata: {\"type\":\"error\",\"code\":\"unavailable\",\"retryAfter\":120000,\"timestamp\":\"" },
};

START_TEST(test_error)
{
	struct ciis_buf b;
	int64_t lo, hi;

	ciis_buf_init(&b);
	lo = ciis_now_ms();
	ciis_sse_error(&b, errors[_i].code, errors[_i].retry);
	hi = ciis_now_ms();
	assert_stamped(ciis_buf_str(&b), errors[_i].prefix, "\"}\n\n", lo, hi);
	ck_assert_ptr_null(strstr(ciis_buf_str(&b), "id:"));
	ciis_buf_cleanup(&b);
}
END_TEST

Suite *
sse_suite(void)
{
	Suite *s = suite_create("sse");
	TCase *tc = tcase_create("render");

	tcase_add_loop_test(tc, test_render, 0, sizeof renders / sizeof renders[0]);
	tcase_add_loop_test(tc, test_render_parses, 0, sizeof renders / sizeof renders[0]);
	tcase_add_test(tc, test_render_one_line);
	tcase_add_loop_test(tc, test_render_others, 0, sizeof others / sizeof others[0]);
	suite_add_tcase(s, tc);
	tc = tcase_create("filter");
	tcase_add_loop_test(tc, test_issue_match, 0, sizeof fcases / sizeof fcases[0]);
	tcase_add_loop_test(tc, test_heatmap_match, 0, sizeof hcases / sizeof hcases[0]);
	suite_add_tcase(s, tc);
	tc = tcase_create("framing");
	tcase_add_loop_test(tc, test_message, 0, sizeof messages / sizeof messages[0]);
	tcase_add_test(tc, test_message_appends);
	tcase_add_test(tc, test_typed);
	tcase_add_test(tc, test_typed_null);
	tcase_add_loop_test(tc, test_bare, 0, sizeof bare_types / sizeof bare_types[0]);
	tcase_add_loop_test(tc, test_error, 0, sizeof errors / sizeof errors[0]);
	suite_add_tcase(s, tc);
	return s;
}
