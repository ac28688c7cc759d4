/* Who is online: the relay's presence rows (one per live socket, refreshed
 * by the relay process that holds it; a row not refreshed for 60 s is
 * dead), read by ciis-api. */
#ifndef CIIS_CORE_PRESENCE_H
#define CIIS_CORE_PRESENCE_H

#include <stdint.h>

#include <json-c/json.h>

#include "core/db.h"
#include "core/err.h"

/* The online and away users of org, by userId, as {userId, name, status,
 * lastSeen}: a user is online when any socket of theirs is, else away;
 * users whose sockets all say offline are left out.  Pages by position:
 * skip the first `after`, at most limit (1..200); *next is where the next page
 * starts, 0 when this is the last.  *items is owned by the caller. */
int ciis_presence_online(struct ciis_db *db, const char *org, int64_t after, int limit,
    struct json_object **items, int64_t *next, struct ciis_err *err);

#endif
