/* json-c helpers: strict parsing of client bodies and compact rendering. */
#ifndef CIIS_CORE_JSON_H
#define CIIS_CORE_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Parse a client body: valid UTF-8, nesting at most 32 deep, nothing but
 * whitespace after the value.  Returns a new reference, or NULL with a 400
 * in err whose message says what is wrong and where. */
struct json_object *ciis_json_parse(const char *text, size_t len, struct ciis_err *err);

/* Compact text of o, "/" not escaped; lent, valid until o changes or is freed. */
const char *ciis_json_text(struct json_object *o);

/* Number of code points in UTF-8 text s[0..n), or -1 when s is not valid UTF-8. */
long ciis_utf8_len(const char *s, size_t n);

/* New json-c string / null from a possibly-NULL C string. */
struct json_object *ciis_json_str_or_null(const char *s);
/* A number printed with up to 15 significant digits (json-c's own form,
 * %.17g, shows 52.2053 as 52.205300000000001). */
struct json_object *ciis_json_double(double d);
/* A string holding the decimal of v: ids are strings on the wire. */
struct json_object *ciis_json_id(int64_t v);

#endif
