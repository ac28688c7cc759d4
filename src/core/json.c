/* Strict JSON input and compact output over json-c. */
#include "core/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/jsoncheck.h"

#define MAX_DEPTH 32	/* nested objects and arrays */

struct json_object *
ciis_json_parse(const char *text, size_t len, struct ciis_err *err)
{
	struct json_tokener *tok;
	struct json_object *o;
	const char *why;
	size_t at;

	if (ciis_json_check(text, len, MAX_DEPTH, &at, &why) != 0) {
		CIIS_ERR(err, CIIS_E_BAD_REQUEST, "", "malformed JSON at byte %zu: %s", at, why);
		return NULL;
	}
	if ((tok = json_tokener_new_ex(MAX_DEPTH + 1)) == NULL) {
		CIIS_ERR(err, CIIS_E_INTERNAL, "", "out of memory");
		return NULL;
	}
	/* checked above, so json-c only builds it; it counts the innermost
	 * value as a level too, hence MAX_DEPTH + 1 */
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, " ", 1);	/* ends a bare number at the end */
	if (o == NULL)
		CIIS_ERR(err, CIIS_E_BAD_REQUEST, "", "a JSON null is not accepted here");
	json_tokener_free(tok);
	return o;
}

const char *
ciis_json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

long
ciis_utf8_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	long count = 0;
	uint32_t cp;
	int k;

	for (size_t i = 0; i < n; i += (size_t)k, count++)
		if ((k = ciis_utf8_next(p + i, n - i, &cp)) < 0)
			return -1;
	return count;
}

struct json_object *
ciis_json_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *
ciis_json_double(double d)
{
	char b[32];

	snprintf(b, sizeof b, "%.15g", d);
	return json_object_new_double_s(d, b);
}

struct json_object *
ciis_json_id(int64_t v)
{
	char b[24];

	snprintf(b, sizeof b, "%" PRId64, v);
	return json_object_new_string(b);
}
