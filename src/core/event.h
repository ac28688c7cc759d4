/* The event log (SPEC §6, ARCHITECTURE.md): appending inside the caller's
 * transaction, and reading back in id order.
 *
 * Ids come from the one-row event_seq counter, updated by the last statement
 * of each appending transaction: its row lock is held to COMMIT, so ids are
 * handed out in commit order and a rollback gives its ids back (no holes).
 * Readers take only unbroken runs of ids (ciis_event_read). */
#ifndef CIIS_CORE_EVENT_H
#define CIIS_CORE_EVENT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/db.h"
#include "core/err.h"

struct ciis_event {
	int64_t id;
	char type[33];		/* "issue:created", … */
	char org_id[65];
	int64_t campus_id, building_id, issue_id;	/* 0 when not set */
	int64_t document_id;	/* document:* events' document; 0 when not set */
	char user_id[65];	/* target user, "" when none */
	char actor_id[65];	/* "" when none */
	int64_t issue_version;	/* 0 when not an issue event */
	int64_t created_at;	/* ms */
	struct json_object *payload;	/* owned reference; eventId and timestamp included */
	struct json_object *subject;	/* owned, may be NULL: the issue, when payload lacks it */
};

/* Append evs[0..n) in the open transaction of db: takes n ids, writes each
 * payload's "eventId" (a number) and, unless present, "timestamp", and inserts
 * the rows.  Call it as the last statement before ciis_db_commit(). */
int ciis_event_append(struct ciis_db *db, struct ciis_event *evs, size_t n,
    struct ciis_err *err);

/* Read up to `limit` events with id > after, in id order, into a new array
 * *out of *n events (free with ciis_event_free_array).  Only the unbroken
 * run after+1, after+2, ... is returned: ids are gapless (a rollback gives
 * its ids back), so a hole is a commit not yet visible — InnoDB releases the
 * counter's row lock a moment before the commit shows in new snapshots, and
 * a reader that went on past the hole would skip that event for good.
 * *hole (may be NULL) gets the first id seen beyond a hole, 0 when none: a
 * hole that stays is a row deleted by hand, and the caller may step over it. */
int ciis_event_read(struct ciis_db *db, int64_t after, size_t limit,
    struct ciis_event **out, size_t *n, int64_t *hole, struct ciis_err *err);

/* The id of the last committed event (0 when none). */
int ciis_event_last_id(struct ciis_db *db, int64_t *last, struct ciis_err *err);
/* The oldest id still in the table (0 when it is empty): resuming needs the
 * event after the resume point. */
int ciis_event_oldest_id(struct ciis_db *db, int64_t *oldest, struct ciis_err *err);

/* The process's hook for "this process just committed events" (the tailer
 * reads at once instead of at its next poll); fn(arg) must not block. */
void ciis_event_set_commit_hook(void (*fn)(void *), void *arg);
/* Call after a commit that appended events. */
void ciis_event_committed(void);

void ciis_event_cleanup(struct ciis_event *ev);
void ciis_event_free_array(struct ciis_event *evs, size_t n);

#endif
