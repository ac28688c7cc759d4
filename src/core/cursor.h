/* Pagination cursors: opaque to clients, they carry the id where the next
 * page starts.  Encoded as base64url of "c1:<id>" so that a client cannot
 * mistake them for ids and we can change the form later. */
#ifndef CIIS_CORE_CURSOR_H
#define CIIS_CORE_CURSOR_H

#include <stdint.h>

#define CIIS_CURSOR_LEN 40	/* room for any encoded cursor and its NUL */

/* Encode id (> 0) into out. */
void ciis_cursor_encode(int64_t id, char out[CIIS_CURSOR_LEN]);
/* Decode s; 0 and *id (> 0) set, or -1 for anything we did not make. */
int ciis_cursor_decode(const char *s, int64_t *id);

#endif
