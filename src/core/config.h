/* The configuration of SPEC §2: one key table drives the file parser, the
 * CIIS_* environment overrides, check-config and the man page test.  Strings
 * are owned by the struct and freed by ciis_conf_cleanup(). */
#ifndef CIIS_CORE_CONFIG_H
#define CIIS_CORE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct ciis_conf {
	char *db_host;		/* [localhost] */
	long db_port;		/* [3306] */
	char *db_socket;	/* NULL when unset */
	char *db_user;
	char *db_password;
	char *db_name;		/* [ciis] */
	char *jwt_algorithm;	/* [HS256] | RS256 | ES256 */
	char *jwt_secret;
	char *jwt_public_key_file;
	char *jwt_private_key_file;
	char *jwt_issuer;
	char *jwt_audience;
	long sse_heartbeat_seconds;	/* [30] */
	long sse_max_streams_per_user;	/* [3] */
	long tail_poll_ms;		/* [100] */
	long events_retention_hours;	/* [24] */
	char *relay_listen;		/* [127.0.0.1:8081] */
	long relay_max_connections_per_user;	/* [5] */
	long relay_events_per_minute;	/* [100] */
	long relay_max_payload_bytes;	/* [65536] */
	long relay_send_queue_bytes;	/* [1048576] */
	long relay_recovery_seconds;	/* [120] */
	long relay_ping_interval_ms;	/* [25000] */
	long relay_ping_timeout_ms;	/* [20000] */
	long relay_tail_poll_ms;	/* [25] */
	long http_max_body_bytes;	/* [1048576] */
	char *log_level;		/* [info] */
	char *path;			/* the file read, NULL when none */
};

/* Set every key to its default. */
void ciis_conf_defaults(struct ciis_conf *c);
void ciis_conf_cleanup(struct ciis_conf *c);

/*
 * Load: defaults, then the file (`path`, else $CIIS_CONFIG, else the built-in
 * default path; a missing default file is not an error, a missing named one
 * is), then CIIS_* environment overrides, then cross-key checks (a key file
 * for RS256/ES256, a secret for HS256).  On error writes one line such as
 * "ciis.conf:12: db.port: expected 1..65535, got \"abc\"" into errbuf and
 * returns -1; c then holds defaults and must still be cleaned up.
 * c must already hold a configuration (ciis_conf_defaults(), an earlier
 * load, or zeroed memory): its strings are freed and replaced.
 */
int ciis_conf_load(struct ciis_conf *c, const char *path, char *errbuf, size_t errlen);

/* Parse `key = value` text as if read from a file called `name` (tests).
 * Applies on top of c: no reset, no environment, no cross-key checks. */
int ciis_conf_parse_text(struct ciis_conf *c, const char *name, const char *text,
    char *errbuf, size_t errlen);

/* Print every key with its current value, secrets masked (check-config). */
void ciis_conf_dump(const struct ciis_conf *c, FILE *out);

/* Number of keys and the i-th key's name (for the man page test). */
size_t ciis_conf_key_count(void);
const char *ciis_conf_key_name(size_t i);

#endif
