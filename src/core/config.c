/* The configuration of SPEC §2.  One table of keys drives everything: the
 * defaults, the file parser, the CIIS_* overrides, the dump and the man page
 * test, so a key is added in exactly one place (and in ciis.conf(5), which a
 * unit test holds to this table).  Every string in struct ciis_conf is owned. */
#include "core/config.h"
#include "core/err.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

#ifndef CIIS_CONF_DEFAULT
#define CIIS_CONF_DEFAULT "/etc/ciis/ciis.conf"
#endif

#define CONF_MAX_BYTES (1024 * 1024)	/* a config file is small; refuse a mistake */
#define MIN_SECRET 32			/* HS256 key: at least the hash's 256 bits */

enum ktype { T_STR, T_LONG };

struct key {
	const char *name;
	enum ktype type;
	const char *def;	/* default as text (NULL: unset); parsed like a value */
	long min, max;		/* T_LONG: inclusive range */
	const char *oneof;	/* T_STR: "a|b|c" when only these are allowed */
	int secret;		/* masked by ciis_conf_dump */
	int hostport;		/* T_STR: must be HOST:PORT */
	size_t off;		/* of the char * or long in struct ciis_conf */
	const char *help;
};

#define S(n, d, f, h) { n, T_STR, d, 0, 0, NULL, 0, 0, offsetof(struct ciis_conf, f), h }
#define L(n, d, lo, hi, f, h) { n, T_LONG, #d, lo, hi, NULL, 0, 0, offsetof(struct ciis_conf, f), h }

static const struct key keys[] = {
	S("db.host", "localhost", db_host, "MySQL server host name or address"),
	L("db.port", 3306, 1, 65535, db_port, "MySQL server TCP port"),
	S("db.socket", NULL, db_socket, "MySQL Unix socket path; used instead of host and port when set"),
	S("db.user", NULL, db_user, "MySQL user name"),
	{ "db.password", T_STR, NULL, 0, 0, NULL, 1, 0, offsetof(struct ciis_conf, db_password),
	  "MySQL password" },
	S("db.name", "ciis", db_name, "MySQL database name"),
	{ "jwt.algorithm", T_STR, "HS256", 0, 0, "HS256|RS256|ES256", 0, 0,
	  offsetof(struct ciis_conf, jwt_algorithm), "the only JWT algorithm accepted" },
	{ "jwt.secret", T_STR, NULL, 0, 0, NULL, 1, 0, offsetof(struct ciis_conf, jwt_secret),
	  "HS256 shared secret, at least 32 bytes" },
	S("jwt.public_key_file", NULL, jwt_public_key_file, "PEM public key file for RS256 or ES256"),
	S("jwt.private_key_file", NULL, jwt_private_key_file, "PEM private key file (ciis-token only)"),
	S("jwt.issuer", NULL, jwt_issuer, "required iss claim, written by ciis-token"),
	S("jwt.audience", NULL, jwt_audience, "required aud claim, written by ciis-token"),
	L("sse.heartbeat_seconds", 30, 1, 3600, sse_heartbeat_seconds, "seconds between SSE heartbeats"),
	L("sse.max_streams_per_user", 3, 1, 1000, sse_max_streams_per_user,
	  "concurrent SSE streams of one user"),
	L("tail.poll_ms", 100, 10, 60000, tail_poll_ms, "milliseconds between polls of the events table"),
	L("events.retention_hours", 24, 1, 8760, events_retention_hours,
	  "hours events are kept for resuming"),
	{ "relay.listen", T_STR, "127.0.0.1:8081", 0, 0, NULL, 0, 1,
	  offsetof(struct ciis_conf, relay_listen), "HOST:PORT the WebSocket relay listens on" },
	L("relay.max_connections_per_user", 5, 1, 1000, relay_max_connections_per_user,
	  "concurrent relay connections of one user"),
	L("relay.events_per_minute", 100, 1, 1000000, relay_events_per_minute,
	  "client events per connection and minute"),
	L("relay.max_payload_bytes", 65536, 1024, 100000000, relay_max_payload_bytes,
	  "largest client frame in bytes"),
	L("relay.send_queue_bytes", 1048576, 1024, 1073741824, relay_send_queue_bytes,
	  "unsent bytes after which a slow client is disconnected"),
	L("relay.recovery_seconds", 120, 1, 86400, relay_recovery_seconds,
	  "seconds a disconnected session can be recovered"),
	L("relay.ping_interval_ms", 25000, 1000, 600000, relay_ping_interval_ms,
	  "Engine.IO ping interval in milliseconds"),
	L("relay.ping_timeout_ms", 20000, 1000, 600000, relay_ping_timeout_ms,
	  "Engine.IO ping timeout in milliseconds"),
	L("relay.tail_poll_ms", 25, 10, 60000, relay_tail_poll_ms,
	  "milliseconds between the relay's polls of the events table"),
	L("http.max_body_bytes", 1048576, 1024, 100000000, http_max_body_bytes,
	  "largest request body in bytes"),
	{ "log.level", T_STR, "info", 0, 0, "error|warn|info|debug", 0, 0,
	  offsetof(struct ciis_conf, log_level), "least severe level logged" },
};

#define NKEYS (sizeof keys / sizeof keys[0])

static char **
str_field(struct ciis_conf *c, const struct key *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static long *
long_field(struct ciis_conf *c, const struct key *k)
{
	return (long *)(void *)((char *)c + k->off);
}

static const char *
str_get(const struct ciis_conf *c, const struct key *k)
{
	return *(char *const *)(const void *)((const char *)c + k->off);
}

static long
long_get(const struct ciis_conf *c, const struct key *k)
{
	return *(const long *)(const void *)((const char *)c + k->off);
}


static const struct key *
key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Decimal only, the whole string, within [min, max]. */
static int
parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)v[0]) && !(v[0] == '-' && isdigit((unsigned char)v[1])))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* "a|b|c" contains v as a whole word. */
static int
one_of(const char *list, const char *v)
{
	size_t n = strlen(v), w;

	for (const char *p = list; *p != '\0'; p += w + (p[w] == '|')) {
		w = strcspn(p, "|");
		if (w == n && strncmp(p, v, n) == 0)
			return 1;
	}
	return 0;
}

/* HOST:PORT with a non-empty host and a port in 1..65535. */
static int
host_port(const char *v)
{
	const char *colon = strrchr(v, ':');
	long port;

	return colon != NULL && colon != v && parse_long(colon + 1, 1, 65535, &port) == 0;
}

/* Check v for k and store a copy.  `where` prefixes the message:
 * "ciis.conf:12" or "CIIS_DB_PORT". */
static int
set_value(struct ciis_conf *c, const struct key *k, const char *v, const char *where,
    char *errbuf, size_t errlen)
{
	char **sp;

	if (k->type == T_LONG) {
		if (parse_long(v, k->min, k->max, long_field(c, k)) == 0)
			return 0;
		ciis_errbuf_printf(errbuf, errlen, "%s: %s: expected %ld..%ld, got \"%s\"", where, k->name,
		    k->min, k->max, v);
		return -1;
	}
	if (*v == '\0' && k->def != NULL) {
		/* a key with a default has no meaningful "unset" */
		ciis_errbuf_printf(errbuf, errlen, "%s: %s: expected a value, got \"\"", where, k->name);
		return -1;
	}
	if (k->oneof != NULL && !one_of(k->oneof, v)) {
		ciis_errbuf_printf(errbuf, errlen, "%s: %s: expected %s, got \"%s\"", where, k->name, k->oneof, v);
		return -1;
	}
	if (k->hostport && !host_port(v)) {
		ciis_errbuf_printf(errbuf, errlen, "%s: %s: expected HOST:PORT with PORT 1..65535, got \"%s\"",
		    where, k->name, v);
		return -1;
	}
	sp = str_field(c, k);
	free(*sp);
	*sp = *v == '\0' ? NULL : ciis_xstrdup(v);	/* empty: unset */
	return 0;
}

void
ciis_conf_defaults(struct ciis_conf *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].def != NULL)
			set_value(c, &keys[i], keys[i].def, "default", NULL, 0);
	}
}

void
ciis_conf_cleanup(struct ciis_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type == T_STR) {
			free(*str_field(c, &keys[i]));
			*str_field(c, &keys[i]) = NULL;
		}
	}
	free(c->path);
	c->path = NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Strip optional double quotes from v in place.  After a closing quote only
 * a comment may follow; an unquoted value runs to the end of the line, so a
 * secret may contain '#'. */
static int
unquote(char **v, const char *where, const char *key, char *errbuf, size_t errlen)
{
	char *close, *rest;

	if (**v != '"')
		return 0;
	if ((close = strchr(*v + 1, '"')) == NULL) {
		ciis_errbuf_printf(errbuf, errlen, "%s: %s: unterminated quote", where, key);
		return -1;
	}
	*close = '\0';
	rest = trim(close + 1);
	if (*rest != '\0' && *rest != '#') {
		ciis_errbuf_printf(errbuf, errlen, "%s: %s: unexpected text after the closing quote", where, key);
		return -1;
	}
	(*v)++;
	return 0;
}

static int
parse_line(struct ciis_conf *c, char *line, const char *where, char *errbuf, size_t errlen)
{
	const struct key *k;
	char *eq, *name, *value;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if ((eq = strchr(line, '=')) == NULL) {
		/* the line is not echoed: it may be a mistyped secret */
		ciis_errbuf_printf(errbuf, errlen, "%s: expected \"key = value\"", where);
		return -1;
	}
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if ((k = key_find(name)) == NULL) {
		ciis_errbuf_printf(errbuf, errlen, "%s: unknown key \"%s\"", where, name);
		return -1;
	}
	if (unquote(&value, where, k->name, errbuf, errlen) != 0)
		return -1;
	return set_value(c, k, value, where, errbuf, errlen);
}

int
ciis_conf_parse_text(struct ciis_conf *c, const char *name, const char *text,
    char *errbuf, size_t errlen)
{
	char *copy = ciis_xstrdup(text), *line = copy, *nl;
	char where[512];
	int rc = 0;

	for (unsigned lineno = 1; rc == 0 && line != NULL; lineno++, line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		snprintf(where, sizeof where, "%s:%u", name, lineno);
		rc = parse_line(c, line, where, errbuf, errlen);
	}
	free(copy);
	return rc;
}

/* Whole file into a new string.  1 when a default file is missing (fine). */
static int
slurp(const char *path, int named, char **out, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	char *buf;

	if (f == NULL) {
		if (!named && errno == ENOENT)
			return 1;
		ciis_errbuf_printf(errbuf, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	buf = ciis_xmalloc(CONF_MAX_BYTES + 1);
	n = fread(buf, 1, CONF_MAX_BYTES + 1, f);
	if (ferror(f) || n > CONF_MAX_BYTES || memchr(buf, '\0', n) != NULL) {
		ciis_errbuf_printf(errbuf, errlen, "%s: %s", path, ferror(f) ? "read error"
		    : n > CONF_MAX_BYTES ? "larger than 1 MiB" : "contains a NUL byte");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* "db.host" → "CIIS_DB_HOST". */
static void
env_name(const char *key, char *out, size_t n)
{
	size_t i = (size_t)snprintf(out, n, "CIIS_");

	for (; *key && i + 1 < n; key++)
		out[i++] = *key == '.' ? '_' : (char)toupper((unsigned char)*key);
	out[i] = '\0';
}

static int
apply_env(struct ciis_conf *c, char *errbuf, size_t errlen)
{
	char var[96];
	const char *v;

	for (size_t i = 0; i < NKEYS; i++) {
		env_name(keys[i].name, var, sizeof var);
		if ((v = getenv(var)) != NULL &&
		    set_value(c, &keys[i], v, var, errbuf, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Keys that only make sense together.  Never prints the secret itself. */
static int
cross_check(const struct ciis_conf *c, char *errbuf, size_t errlen)
{
	const char *sep = c->path ? ": " : "";
	const char *where = c->path ? c->path : "";

	if (strcmp(c->jwt_algorithm, "HS256") == 0) {
		if (c->jwt_secret == NULL || strlen(c->jwt_secret) < MIN_SECRET) {
			ciis_errbuf_printf(errbuf, errlen, "%s%sjwt.secret: HS256 needs a secret of at least %d bytes%s",
			    where, sep, MIN_SECRET, c->jwt_secret ? "" : " (none set)");
			return -1;
		}
	} else if (c->jwt_public_key_file == NULL) {
		ciis_errbuf_printf(errbuf, errlen, "%s%sjwt.public_key_file: %s needs a public key file",
		    where, sep, c->jwt_algorithm);
		return -1;
	}
	return 0;
}

static int
load_file(struct ciis_conf *c, const char *path, int named, char *errbuf, size_t errlen)
{
	char *text = NULL;
	int rc = slurp(path, named, &text, errbuf, errlen);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	c->path = ciis_xstrdup(path);
	rc = ciis_conf_parse_text(c, path, text, errbuf, errlen);
	free(text);
	return rc;
}

int
ciis_conf_load(struct ciis_conf *c, const char *path, char *errbuf, size_t errlen)
{
	int named = 1;

	ciis_conf_cleanup(c);
	ciis_conf_defaults(c);
	if (path == NULL || *path == '\0')
		path = getenv("CIIS_CONFIG");
	if (path == NULL || *path == '\0') {
		path = CIIS_CONF_DEFAULT;
		named = 0;
	}
	if (load_file(c, path, named, errbuf, errlen) == 0 &&
	    apply_env(c, errbuf, errlen) == 0 && cross_check(c, errbuf, errlen) == 0)
		return 0;
	ciis_conf_cleanup(c);
	ciis_conf_defaults(c);
	return -1;
}

/* Quote a value only when an unquoted one would not read back the same. */
static int
needs_quotes(const char *v)
{
	size_t n = strlen(v);

	if (n == 0)
		return 1;	/* "" reads back as unset, as NULL does */
	return v[0] == '"' || v[0] == ' ' || v[0] == '\t' ||
	    v[n - 1] == ' ' || v[n - 1] == '\t' || strchr(v, '\n') != NULL;
}

void
ciis_conf_dump(const struct ciis_conf *c, FILE *out)
{
	const char *v;

	fprintf(out, "# file: %s\n", c->path ? c->path : "(none)");
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		fprintf(out, "# %s\n", k->help);
		if (k->type == T_LONG) {
			fprintf(out, "%s = %ld\n", k->name, long_get(c, k));
		} else if ((v = str_get(c, k)) == NULL) {
			fprintf(out, "%s =\n", k->name);
		} else {
			if (k->secret)
				v = "***";
			fprintf(out, needs_quotes(v) ? "%s = \"%s\"\n" : "%s = %s\n", k->name, v);
		}
	}
}

size_t
ciis_conf_key_count(void)
{
	return NKEYS;
}

const char *
ciis_conf_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}
