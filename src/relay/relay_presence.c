/* Presence (SPEC §8, §11 "Presence", "Relayed ephemera"): user:online,
 * user:offline, presence:updated, presence:typing and document:cursor.
 * They travel as every other event does, through the events table, so that
 * every relay process sees them: the flush that writes a socket's presence
 * row appends them in the same transaction (relay_sessions.c), and the
 * tailer hands them back to every loop.  They are ephemeral: sent without
 * an offset, never replayed, and the ones a user sends are not echoed to
 * that user.
 *
 * user:online is appended when a user's first fresh presence row is
 * written, user:offline when the last one goes (closed, or dropped with a
 * relay that stopped refreshing it); the count is taken under a lock on
 * the user's row of presence_users, so two relays never both see
 * themselves first (or last). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/event.h"
#include "core/json.h"
#include "core/xalloc.h"
#include "relay/relay_int.h"

/* ---- building the events, on the worker ------------------------------------------ */

static struct ciis_event *
push(struct relay_presence_out *out, const char *type, const char *org, const char *user,
    const char *name)
{
	struct ciis_event *ev;
	char now[CIIS_TIME_LEN];

	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 16;
		out->evs = ciis_xrealloc(out->evs, out->cap * sizeof *out->evs);
	}
	ev = &out->evs[out->n++];
	memset(ev, 0, sizeof *ev);
	snprintf(ev->type, sizeof ev->type, "%s", type);
	snprintf(ev->org_id, sizeof ev->org_id, "%s", org);
	snprintf(ev->actor_id, sizeof ev->actor_id, "%s", user);
	ciis_time_format(ciis_now_ms(), now);
	ev->payload = json_object_new_object();
	json_object_object_add(ev->payload, "userId", json_object_new_string(user));
	json_object_object_add(ev->payload, "name", json_object_new_string(name));
	json_object_object_add(ev->payload, "lastSeen", json_object_new_string(now));
	return ev;
}

void
relay_presence_status(struct relay_presence_out *out, const char *type, const char *org,
    const char *user, const char *name, const char *status)
{
	struct ciis_event *ev = push(out, type, org, user, name);

	json_object_object_add(ev->payload, "status", json_object_new_string(status));
}

/* The room's id goes into its column, so that relay_entry_rooms() finds
 * the room again: "campus:7" → campus_id 7; "org:o1" needs none. */
void
relay_presence_typing(struct relay_presence_out *out, const char *org, const char *user,
    const char *name, const char *room, int typing)
{
	struct ciis_event *ev = push(out, "presence:typing", org, user, name);
	int64_t id = 0;
	const char *colon = strchr(room, ':');

	if (colon != NULL)
		id = strtoll(colon + 1, NULL, 10);
	if (strncmp(room, "campus:", 7) == 0)
		ev->campus_id = id;
	else if (strncmp(room, "building:", 9) == 0)
		ev->building_id = id;
	else if (strncmp(room, "issue:", 6) == 0)
		ev->issue_id = id;
	else if (strncmp(room, "document:", 9) == 0)
		ev->document_id = id;
	json_object_object_add(ev->payload, "room", json_object_new_string(room));
	json_object_object_add(ev->payload, "isTyping", json_object_new_boolean(typing));
}

void
relay_presence_cursor(struct relay_presence_out *out, const char *org, const char *user,
    const char *name, int64_t document_id, int64_t line, int64_t col)
{
	struct ciis_event *ev = push(out, "document:cursor", org, user, name);
	char id[24];

	snprintf(id, sizeof id, "%" PRId64, document_id);
	ev->document_id = document_id;
	json_object_object_add(ev->payload, "documentId", json_object_new_string(id));
	json_object_object_add(ev->payload, "line", json_object_new_int64(line));
	json_object_object_add(ev->payload, "col", json_object_new_int64(col));
}

void
relay_presence_out_free(struct relay_presence_out *out)
{
	for (size_t i = 0; i < out->n; i++)
		ciis_event_cleanup(&out->evs[i]);
	free(out->evs);
	memset(out, 0, sizeof *out);
}

/* ---- on the loop ------------------------------------------------------------------ */

int
relay_entry_ephemeral(const struct ciis_entry *e)
{
	return strncmp(e->type, "user:", 5) == 0 || strncmp(e->type, "presence:", 9) == 0 ||
	    strcmp(e->type, "document:cursor") == 0;
}

/* The room of a presence:typing entry, from its columns. */
void
relay_typing_room(const struct ciis_entry *e, char out[RELAY_ROOM_MAX])
{
	if (e->document_id > 0)
		snprintf(out, RELAY_ROOM_MAX, "document:%" PRId64, e->document_id);
	else if (e->issue_id > 0)
		snprintf(out, RELAY_ROOM_MAX, "issue:%" PRId64, e->issue_id);
	else if (e->building_id > 0)
		snprintf(out, RELAY_ROOM_MAX, "building:%" PRId64, e->building_id);
	else if (e->campus_id > 0)
		snprintf(out, RELAY_ROOM_MAX, "campus:%" PRId64, e->campus_id);
	else
		snprintf(out, RELAY_ROOM_MAX, "org:%s", e->org_id);
}

/* Who sent it, for the entries not echoed to their sender (presence:updated,
 * presence:typing, document:cursor): out gets the payload's userId, or ""
 * for the others. */
void
relay_entry_sender(const struct ciis_entry *e, char out[CIIS_ID_MAX + 1])
{
	struct json_object *o, *v;

	out[0] = '\0';
	if (strcmp(e->type, "presence:updated") != 0 && strcmp(e->type, "presence:typing") != 0 &&
	    strcmp(e->type, "document:cursor") != 0)
		return;
	if ((o = json_tokener_parse(e->payload)) == NULL)
		return;
	if (json_object_object_get_ex(o, "userId", &v) && json_object_is_type(v, json_type_string))
		snprintf(out, CIIS_ID_MAX + 1, "%s", json_object_get_string(v));
	json_object_put(o);
}

static void
bad(struct relay_conn *c, int64_t ack_id, const char *why)
{
	if (ack_id != SIO_NO_ACK)
		relay_ack_error(c, ack_id, why);
	else
		relay_send_error(c, why);
}

static const char *
string_field(struct json_object *data, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* presence:update {status: online|away|offline} → presence:updated to
 * org:{org}, for the other users of the organization. */
void
relay_presence_update(struct relay_conn *c, struct json_object *data, int64_t ack_id)
{
	static const char *const statuses[] = { "online", "away", "offline" };
	const char *status = string_field(data, "status");

	for (size_t i = 0; status != NULL && i < sizeof statuses / sizeof statuses[0]; i++)
		if (strcmp(status, statuses[i]) == 0) {
			relay_session_status(c, status);
			relay_ack_ok(c, ack_id);
			return;
		}
	bad(c, ack_id, "bad_request");
}

/* presence:typing {room, isTyping} → to the room's other members; the
 * sender must be in the room, which must be one of an organization's
 * (not a user's own room). */
void
relay_presence_typing_event(struct relay_conn *c, struct json_object *data, int64_t ack_id)
{
	static const char *const kinds[] = { "org:", "campus:", "building:", "issue:", "document:" };
	const char *room = string_field(data, "room");
	struct json_object *v;
	int kind_ok = 0;

	if (room == NULL || !json_object_object_get_ex(data, "isTyping", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		bad(c, ack_id, "bad_request");
		return;
	}
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		kind_ok |= strncmp(room, kinds[i], strlen(kinds[i])) == 0;
	if (!kind_ok || !relay_conn_in(c, room)) {
		bad(c, ack_id, "forbidden");
		return;
	}
	relay_session_typing(c, room, json_object_get_boolean(v));
	relay_ack_ok(c, ack_id);
}

/* A count ≥ 0 that fits a JSON number exactly; -1 otherwise. */
static int64_t
position_field(struct json_object *data, const char *key)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(data, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	n = json_object_get_int64(v);
	return n >= 0 && n <= 9007199254740991LL ? n : -1;
}

/* document:cursor {documentId, line, col} → to document:{id}'s other
 * members; the sender must have joined it (subscribe:document). */
void
relay_document_cursor_event(struct relay_conn *c, struct json_object *data, int64_t ack_id)
{
	struct json_object *v;
	char room[RELAY_ROOM_MAX];
	int64_t id, line, col;

	if (!json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, "documentId", &v) || (id = relay_json_id(v)) < 0 ||
	    (line = position_field(data, "line")) < 0 || (col = position_field(data, "col")) < 0) {
		bad(c, ack_id, "bad_request");
		return;
	}
	snprintf(room, sizeof room, "document:%" PRId64, id);
	if (!relay_conn_in(c, room)) {
		bad(c, ack_id, "forbidden");
		return;
	}
	relay_session_cursor(c, id, line, col);
	relay_ack_ok(c, ack_id);
}
