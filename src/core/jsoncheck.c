/* A strict RFC 8259 check of client JSON before json-c parses it: json-c
 * (0.16) lets through single quotes, NaN, "1.", raw control characters in
 * strings, overlong UTF-8 and surrogates, whatever its flags say. */
#include "core/jsoncheck.h"

#include <stdint.h>

struct scan {
	const unsigned char *s;
	size_t n, i;
	int depth, max_depth;
	const char *why;
};

static int value(struct scan *sc);

static int
bad(struct scan *sc, const char *why)
{
	sc->why = why;
	return -1;
}

static void
space(struct scan *sc)
{
	while (sc->i < sc->n && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' ||
	    sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r'))
		sc->i++;
}

static int
peek(const struct scan *sc)
{
	return sc->i < sc->n ? sc->s[sc->i] : -1;
}

int
ciis_utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t k;
	uint32_t c;

	if (n == 0)
		return -1;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) { k = 1; c = p[0] & 0x1f; }
	else if ((p[0] & 0xf0) == 0xe0) { k = 2; c = p[0] & 0x0f; }
	else if ((p[0] & 0xf8) == 0xf0) { k = 3; c = p[0] & 0x07; }
	else return -1;
	if (k >= n)
		return -1;	/* truncated */
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (p[j] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF */
	if ((k == 1 && c < 0x80) || (k == 2 && c < 0x800) || (k == 3 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return -1;
	*cp = c;
	return (int)k + 1;
}

static int
hex4(struct scan *sc, uint32_t *v)
{
	*v = 0;
	for (int j = 0; j < 4; j++, sc->i++) {
		int c = peek(sc);

		*v <<= 4;
		if (c >= '0' && c <= '9') *v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f') *v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') *v |= (uint32_t)(c - 'A' + 10);
		else return bad(sc, "bad \\u escape");
	}
	return 0;
}

/* After "\u": one escape, a surrogate pair as two. */
static int
unicode_escape(struct scan *sc)
{
	uint32_t hi, lo;

	if (hex4(sc, &hi) != 0)
		return -1;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return bad(sc, "lone low surrogate in a \\u escape");
	if (hi < 0xd800 || hi > 0xdbff)
		return 0;
	if (sc->i + 1 >= sc->n || sc->s[sc->i] != '\\' || sc->s[sc->i + 1] != 'u')
		return bad(sc, "lone high surrogate in a \\u escape");
	sc->i += 2;
	if (hex4(sc, &lo) != 0)
		return -1;
	return lo >= 0xdc00 && lo <= 0xdfff ? 0 : bad(sc, "bad surrogate pair in a \\u escape");
}

static int
escape(struct scan *sc)
{
	int c = peek(sc);

	sc->i++;
	switch (c) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return 0;
	case 'u':
		return unicode_escape(sc);
	default:
		return bad(sc, "bad escape in a string");
	}
}

static int
string(struct scan *sc)
{
	sc->i++;	/* the opening quote */
	for (;;) {
		int c = peek(sc), k;
		uint32_t cp;

		if (c < 0)
			return bad(sc, "unterminated string");
		if (c == '"') {
			sc->i++;
			return 0;
		}
		if (c < 0x20)
			return bad(sc, "control character in a string");
		if (c == '\\') {
			sc->i++;
			if (escape(sc) != 0)
				return -1;
			continue;
		}
		if ((k = ciis_utf8_next(sc->s + sc->i, sc->n - sc->i, &cp)) < 0)
			return bad(sc, "invalid UTF-8");
		sc->i += (size_t)k;
	}
}

static size_t
digits(struct scan *sc)
{
	size_t start = sc->i;

	while (peek(sc) >= '0' && peek(sc) <= '9')
		sc->i++;
	return sc->i - start;
}

static int
number(struct scan *sc)
{
	if (peek(sc) == '-')
		sc->i++;
	if (peek(sc) == '0')
		sc->i++;
	else if (digits(sc) == 0)
		return bad(sc, "bad number");
	if (peek(sc) == '.') {
		sc->i++;
		if (digits(sc) == 0)
			return bad(sc, "bad number");
	}
	if (peek(sc) == 'e' || peek(sc) == 'E') {
		sc->i++;
		if (peek(sc) == '+' || peek(sc) == '-')
			sc->i++;
		if (digits(sc) == 0)
			return bad(sc, "bad number");
	}
	return 0;
}

static int
literal(struct scan *sc, const char *word)
{
	for (; *word; word++, sc->i++)
		if (peek(sc) != *word)
			return bad(sc, "unexpected character");
	return 0;
}

/* The members of an object or the elements of an array, after its opener. */
static int
members(struct scan *sc, int close, int keyed)
{
	if (++sc->depth > sc->max_depth)
		return bad(sc, "nested too deep");
	sc->i++;
	space(sc);
	if (peek(sc) == close) {
		sc->i++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		if (keyed) {
			space(sc);
			if (peek(sc) != '"')
				return bad(sc, "expected a string key");
			if (string(sc) != 0)
				return -1;
			space(sc);
			if (peek(sc) != ':')
				return bad(sc, "expected ':'");
			sc->i++;
		}
		if (value(sc) != 0)
			return -1;
		if (peek(sc) == ',') {
			sc->i++;
			continue;
		}
		if (peek(sc) != close)
			return bad(sc, keyed ? "expected ',' or '}'" : "expected ',' or ']'");
		sc->i++;
		sc->depth--;
		return 0;
	}
}

static int
value(struct scan *sc)
{
	int rc, c;

	space(sc);
	c = peek(sc);
	if (c == '{') rc = members(sc, '}', 1);
	else if (c == '[') rc = members(sc, ']', 0);
	else if (c == '"') rc = string(sc);
	else if (c == '-' || (c >= '0' && c <= '9')) rc = number(sc);
	else if (c == 't') rc = literal(sc, "true");
	else if (c == 'f') rc = literal(sc, "false");
	else if (c == 'n') rc = literal(sc, "null");
	else rc = bad(sc, c < 0 ? "unexpected end of input" : "unexpected character");
	space(sc);
	return rc;
}

int
ciis_json_check(const char *text, size_t len, int max_depth, size_t *at, const char **why)
{
	struct scan sc = { (const unsigned char *)text, len, 0, 0, max_depth, NULL };

	if (value(&sc) == 0 && sc.i != len)
		bad(&sc, "data after the value");
	*at = sc.i;
	*why = sc.why;
	return sc.why ? -1 : 0;
}
