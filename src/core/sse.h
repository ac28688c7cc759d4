/* Server-Sent Events without a socket: rendering events into messages
 * (doc/sse.md), the issues-stream filter, and the message framing.  Pure:
 * the unit tests drive it with events built by hand. */
#ifndef CIIS_CORE_SSE_H
#define CIIS_CORE_SSE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"
#include "core/issue_store.h"

struct ciis_entry;

/* Fill e's priority, status, moved and sse (the issues-stream message,
 * "id: N\ndata: {...}\n\n") from the issue event ev; nothing for others. */
void ciis_sse_render_issue_event(const struct ciis_event *ev, struct ciis_entry *e);

/* The issues-stream filter (SPEC §7): every list empty = no filter on it. */
struct ciis_sse_filter {
	char org_id[65];
	int64_t campus[CIIS_FILTER_MAX];
	size_t ncampus;
	int64_t building[CIIS_FILTER_MAX];
	size_t nbuilding;
	unsigned priorities;	/* bit per enum ciis_priority; 0 = all */
	unsigned statuses;	/* bit per enum ciis_status; 0 = all */
};

/* Should the issues stream with filter f get e (doc/sse.md "Filtering")? */
int ciis_sse_issue_match(const struct ciis_sse_filter *f, const struct ciis_entry *e);
/* Does the heatmap:updated entry e touch a stream of org with this campus
 * (0 = any) and these buildings? */
int ciis_sse_heatmap_match(const char *org, int64_t campus, const int64_t *buildings,
    size_t nbuildings, const struct ciis_entry *e);

#define CIIS_SSE_NO_ID (-1)	/* a message without an id: line */

/* Append one message: "id: N\n" unless id is CIIS_SSE_NO_ID (0 is the id
 * of an empty log), then "data: <json>\n\n". */
void ciis_sse_message(struct ciis_buf *out, int64_t id, const char *json);
/* {"type":type,"data":data,"eventId":id,"timestamp":now} as a message with
 * id; data is borrowed (may be NULL). */
void ciis_sse_typed(struct ciis_buf *out, const char *type, struct json_object *data,
    int64_t id);
/* {"type":type,"timestamp":now} with no id (heartbeat, reset, expired). */
void ciis_sse_bare(struct ciis_buf *out, const char *type);
/* "retry: ms" and {"type":"error","code":code,"retryAfter":ms}. */
void ciis_sse_error(struct ciis_buf *out, const char *code, long retry_ms);

#endif
