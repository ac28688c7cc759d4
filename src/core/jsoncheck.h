/* Strict JSON and UTF-8 checks (RFC 8259, RFC 3629), with no allocation. */
#ifndef CIIS_CORE_JSONCHECK_H
#define CIIS_CORE_JSONCHECK_H

#include <stddef.h>
#include <stdint.h>

/* Is text[0..len) exactly one JSON value, with at most max_depth nested
 * objects and arrays?  0, or -1 with *at the byte offset and *why a static
 * description of the first fault. */
int ciis_json_check(const char *text, size_t len, int max_depth, size_t *at, const char **why);

/* Decode one UTF-8 character of p[0..n) into *cp: its length in bytes, or -1
 * for an invalid, overlong, surrogate or truncated sequence. */
int ciis_utf8_next(const unsigned char *p, size_t n, uint32_t *cp);

#endif
