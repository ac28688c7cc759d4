/* Strict JSON input and compact output over json-c. */
#include "core/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

static int
only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

struct json_object *
ciis_json_parse(const char *text, size_t len, struct ciis_err *err)
{
	struct json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t end;

	if (tok == NULL) {
		CIIS_ERR(err, CIIS_E_INTERNAL, "", "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (o == NULL && jerr == json_tokener_continue)
		CIIS_ERR(err, CIIS_E_BAD_REQUEST, "", "malformed JSON: unexpected end of input");
	else if (o == NULL)
		CIIS_ERR(err, CIIS_E_BAD_REQUEST, "", "malformed JSON at byte %zu: %s",
		    end, json_tokener_error_desc(jerr));
	else if (!only_space(text + end, len - end)) {
		CIIS_ERR(err, CIIS_E_BAD_REQUEST, "", "malformed JSON: data after the value at byte %zu", end);
		json_object_put(o);
		o = NULL;
	}
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
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) { i++; count++; continue; }
		if ((c & 0xe0) == 0xc0) { k = 1; cp = c & 0x1f; }
		else if ((c & 0xf0) == 0xe0) { k = 2; cp = c & 0x0f; }
		else if ((c & 0xf8) == 0xf0) { k = 3; cp = c & 0x07; }
		else return -1;
		if (i + k >= n)
			return -1;	/* truncated sequence */
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		/* overlong forms, surrogates and values past U+10FFFF */
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return -1;
		i += k + 1;
		count++;
	}
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
