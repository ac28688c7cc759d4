/* Configuration: defaults of SPEC §2, the exact error lines, the file syntax,
 * environment precedence, cross-key checks, masking, and the man page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "suites.h"

#define DATA CIIS_TEST_DATA
#define MANPAGE CIIS_TEST_DATA "/../../../doc/ciis.conf.5"
#define SECRET32 "0123456789abcdef0123456789abcdef"

/* Every CIIS_* variable the loader reads, so no test sees another's. */
static void
env_name(const char *key, char *out, size_t n)
{
	size_t i = (size_t)snprintf(out, n, "CIIS_");

	for (; *key != '\0' && i + 1 < n; key++)
		out[i++] = *key == '.' ? '_' : (char)(*key >= 'a' && *key <= 'z' ? *key - 32 : *key);
	out[i] = '\0';
}

static void
env_clear(void)
{
	char var[96];

	for (size_t i = 0; i < ciis_conf_key_count(); i++) {
		env_name(ciis_conf_key_name(i), var, sizeof var);
		unsetenv(var);
	}
	unsetenv("CIIS_CONFIG");
}

static char *
dump_str(const struct ciis_conf *c)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	ck_assert_ptr_nonnull(f);
	ciis_conf_dump(c, f);
	fclose(f);
	return text;
}

/* The dump holds `line` as a whole line. */
static int
dump_has(const struct ciis_conf *c, const char *line)
{
	char *text = dump_str(c), *want = NULL;
	int found;

	ck_assert_int_gt(asprintf(&want, "\n%s\n", line), 0);
	found = strstr(text, want) != NULL;
	free(want);
	free(text);
	return found;
}

/* ---- defaults ---- */

static const char *const default_lines[] = {
	"db.host = localhost", "db.port = 3306", "db.socket =", "db.user =", "db.password =",
	"db.name = ciis", "jwt.algorithm = HS256", "jwt.secret =", "jwt.public_key_file =",
	"jwt.private_key_file =", "jwt.issuer =", "jwt.audience =",
	"sse.heartbeat_seconds = 30", "sse.max_streams_per_user = 3", "tail.poll_ms = 100",
	"events.retention_hours = 24", "relay.listen = 127.0.0.1:8081",
	"relay.max_connections_per_user = 5", "relay.events_per_minute = 100",
	"relay.max_payload_bytes = 65536", "relay.send_queue_bytes = 1048576",
	"relay.recovery_seconds = 120", "relay.ping_interval_ms = 25000",
	"relay.ping_timeout_ms = 20000", "relay.tail_poll_ms = 25", "http.max_body_bytes = 1048576",
	"log.level = info",
};

START_TEST(test_default_dump)
{
	struct ciis_conf c;

	ciis_conf_defaults(&c);
	ck_assert_msg(dump_has(&c, default_lines[_i]), "dump lacks \"%s\"", default_lines[_i]);
	ciis_conf_cleanup(&c);
}
END_TEST

START_TEST(test_default_fields)
{
	struct ciis_conf c;

	ciis_conf_defaults(&c);
	ck_assert_str_eq(c.db_host, "localhost");
	ck_assert_int_eq(c.db_port, 3306);
	ck_assert_ptr_null(c.db_socket);
	ck_assert_ptr_null(c.db_password);
	ck_assert_str_eq(c.db_name, "ciis");
	ck_assert_str_eq(c.jwt_algorithm, "HS256");
	ck_assert_ptr_null(c.jwt_secret);
	ck_assert_int_eq(c.sse_heartbeat_seconds, 30);
	ck_assert_int_eq(c.tail_poll_ms, 100);
	ck_assert_str_eq(c.relay_listen, "127.0.0.1:8081");
	ck_assert_int_eq(c.relay_max_payload_bytes, 65536);
	ck_assert_int_eq(c.http_max_body_bytes, 1048576);
	ck_assert_str_eq(c.log_level, "info");
	ck_assert_ptr_null(c.path);
	ck_assert_uint_eq(ciis_conf_key_count(), sizeof default_lines / sizeof default_lines[0]);
	ciis_conf_cleanup(&c);
	ck_assert_ptr_null(c.db_host);	/* cleanup leaves nothing dangling */
}
END_TEST

/* ---- errors: exact lines ---- */

static const struct {
	const char *text, *error;
} bad[] = {
	{ "db.port = abc", "ciis.conf:1: db.port: expected 1..65535, got \"abc\"" },
	{ "\n# c\n\n  db.port = 0", "ciis.conf:4: db.port: expected 1..65535, got \"0\"" },
	{ "db.port = 65536", "ciis.conf:1: db.port: expected 1..65535, got \"65536\"" },
	{ "db.port = -1", "ciis.conf:1: db.port: expected 1..65535, got \"-1\"" },
	{ "db.port = 12x", "ciis.conf:1: db.port: expected 1..65535, got \"12x\"" },
	{ "db.port = 0x10", "ciis.conf:1: db.port: expected 1..65535, got \"0x10\"" },
	{ "db.port = +80", "ciis.conf:1: db.port: expected 1..65535, got \"+80\"" },
	{ "db.port =", "ciis.conf:1: db.port: expected 1..65535, got \"\"" },
	{ "db.port = 99999999999999999999", "ciis.conf:1: db.port: expected 1..65535, got \"99999999999999999999\"" },
	{ "db.port = \"3306 \"", "ciis.conf:1: db.port: expected 1..65535, got \"3306 \"" },
	{ "tail.poll_ms = 9", "ciis.conf:1: tail.poll_ms: expected 10..60000, got \"9\"" },
	{ "tail.poll_ms = 60001", "ciis.conf:1: tail.poll_ms: expected 10..60000, got \"60001\"" },
	{ "sse.heartbeat_seconds = 0", "ciis.conf:1: sse.heartbeat_seconds: expected 1..3600, got \"0\"" },
	{ "sse.heartbeat_seconds = 3601", "ciis.conf:1: sse.heartbeat_seconds: expected 1..3600, got \"3601\"" },
	{ "sse.max_streams_per_user = 0", "ciis.conf:1: sse.max_streams_per_user: expected 1..1000, got \"0\"" },
	{ "relay.max_connections_per_user = 0", "ciis.conf:1: relay.max_connections_per_user: expected 1..1000, got \"0\"" },
	{ "relay.max_payload_bytes = 1023", "ciis.conf:1: relay.max_payload_bytes: expected 1024..100000000, got \"1023\"" },
	{ "http.max_body_bytes = 100000001", "ciis.conf:1: http.max_body_bytes: expected 1024..100000000, got \"100000001\"" },
	{ "log.level = loud", "ciis.conf:1: log.level: expected error|warn|info|debug, got \"loud\"" },
	{ "log.level = inf", "ciis.conf:1: log.level: expected error|warn|info|debug, got \"inf\"" },
	{ "log.level = INFO", "ciis.conf:1: log.level: expected error|warn|info|debug, got \"INFO\"" },
	{ "jwt.algorithm = none", "ciis.conf:1: jwt.algorithm: expected HS256|RS256|ES256, got \"none\"" },
	{ "jwt.algorithm = HS384", "ciis.conf:1: jwt.algorithm: expected HS256|RS256|ES256, got \"HS384\"" },
	{ "jwt.algorithm = hs256", "ciis.conf:1: jwt.algorithm: expected HS256|RS256|ES256, got \"hs256\"" },
	{ "relay.listen = 8081", "ciis.conf:1: relay.listen: expected HOST:PORT with PORT 1..65535, got \"8081\"" },
	{ "relay.listen = :8081", "ciis.conf:1: relay.listen: expected HOST:PORT with PORT 1..65535, got \":8081\"" },
	{ "relay.listen = h:0", "ciis.conf:1: relay.listen: expected HOST:PORT with PORT 1..65535, got \"h:0\"" },
	{ "db.host =", "ciis.conf:1: db.host: expected a value, got \"\"" },
	{ "db.name = \"\"", "ciis.conf:1: db.name: expected a value, got \"\"" },
	{ "db.hots = x", "ciis.conf:1: unknown key \"db.hots\"" },
	{ "DB.HOST = x", "ciis.conf:1: unknown key \"DB.HOST\"" },
	{ "= x", "ciis.conf:1: unknown key \"\"" },
	{ "db.host = a\ndb.port 3306", "ciis.conf:2: expected \"key = value\"" },
	{ "db.host = \"abc", "ciis.conf:1: db.host: unterminated quote" },
	{ "db.host = \"abc\" x", "ciis.conf:1: db.host: unexpected text after the closing quote" },
};

START_TEST(test_bad_value)
{
	struct ciis_conf c;
	char err[256] = "";

	ciis_conf_defaults(&c);
	ck_assert_int_eq(ciis_conf_parse_text(&c, "ciis.conf", bad[_i].text, err, sizeof err), -1);
	ck_assert_str_eq(err, bad[_i].error);
	ciis_conf_cleanup(&c);
}
END_TEST

START_TEST(test_bad_line_not_echoed)
{
	struct ciis_conf c;
	char err[256] = "";

	ciis_conf_defaults(&c);
	ck_assert_int_eq(ciis_conf_parse_text(&c, "x.conf", "jwt.secret: hunter2-hunter2", err,
	    sizeof err), -1);
	ck_assert_ptr_null(strstr(err, "hunter2"));	/* a mistyped secret stays out of logs */
	ciis_conf_cleanup(&c);
}
END_TEST

/* ---- syntax that must work ---- */

START_TEST(test_syntax)
{
	struct ciis_conf c;
	char err[256] = "";
	const char *text =
	    "# comment\n"
	    "   \n"
	    "\t db.host\t=\t db.example.org \r\n"
	    "db.port=3307\n"
	    "db.password = \"p#ss word \"\n"
	    "jwt.secret = abc#def  \n"
	    "db.name = \"quoted\"   # trailing comment\n"
	    "  # indented comment\n"
	    "db.socket = /run/mysqld/mysqld.sock\n"
	    "db.socket =\n"
	    "db.user = first\n"
	    "db.user = second\n"
	    "jwt.issuer = a = b\n"
	    "log.level = debug";		/* no final newline */

	ciis_conf_defaults(&c);
	ck_assert_int_eq(ciis_conf_parse_text(&c, "t.conf", text, err, sizeof err), 0);
	ck_assert_str_eq(c.db_host, "db.example.org");
	ck_assert_int_eq(c.db_port, 3307);
	ck_assert_str_eq(c.db_password, "p#ss word ");
	ck_assert_str_eq(c.jwt_secret, "abc#def");	/* '#' inside an unquoted value is data */
	ck_assert_str_eq(c.db_name, "quoted");
	ck_assert_ptr_null(c.db_socket);		/* empty unsets a key without a default */
	ck_assert_str_eq(c.db_user, "second");		/* the last one wins */
	ck_assert_str_eq(c.jwt_issuer, "a = b");	/* only the first '=' splits */
	ck_assert_str_eq(c.log_level, "debug");
	ck_assert_str_eq(err, "");
	ciis_conf_cleanup(&c);
}
END_TEST

START_TEST(test_load_file)
{
	struct ciis_conf c;
	char err[256] = "";

	ciis_conf_defaults(&c);
	ck_assert_msg(ciis_conf_load(&c, DATA "/good.conf", err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.path, DATA "/good.conf");
	ck_assert_str_eq(c.db_host, "db.internal");
	ck_assert_int_eq(c.db_port, 3307);
	ck_assert_str_eq(c.db_password, "s3cr#t with spaces ");
	ck_assert_str_eq(c.jwt_secret, "abcdefghijklmnopqrstuvwxyz012345#6789");
	ck_assert_str_eq(c.jwt_issuer, "https://issuer.example");
	ck_assert_ptr_null(c.db_user);
	ck_assert_int_eq(c.tail_poll_ms, 250);
	ck_assert_str_eq(c.db_name, "ciis");		/* untouched keys keep defaults */
	/* a second load into the same struct replaces everything (valgrind: no leak) */
	ck_assert_int_eq(ciis_conf_load(&c, DATA "/crlf.conf", err, sizeof err), -1);
	setenv("CIIS_JWT_SECRET", SECRET32, 1);
	ck_assert_msg(ciis_conf_load(&c, DATA "/crlf.conf", err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.db_host, "crlf.example");
	ck_assert_int_eq(c.db_port, 3308);
	ck_assert_int_eq(c.tail_poll_ms, 100);
	ck_assert_ptr_null(c.db_password);
	ciis_conf_cleanup(&c);
}
END_TEST

START_TEST(test_file_error_line)
{
	struct ciis_conf c;
	char err[512] = "";

	ciis_conf_defaults(&c);
	ck_assert_int_eq(ciis_conf_load(&c, DATA "/bad-port.conf", err, sizeof err), -1);
	ck_assert_str_eq(err, DATA "/bad-port.conf:5: db.port: expected 1..65535, got \"abc\"");
	/* a failed load leaves the defaults, not half a file */
	ck_assert_str_eq(c.db_host, "localhost");
	ck_assert_ptr_null(c.path);
	ciis_conf_cleanup(&c);
}
END_TEST

START_TEST(test_missing_named_file)
{
	struct ciis_conf c;
	char err[256] = "";

	ciis_conf_defaults(&c);
	ck_assert_int_eq(ciis_conf_load(&c, "/nonexistent/ciis.conf", err, sizeof err), -1);
	ck_assert_str_eq(err, "/nonexistent/ciis.conf: cannot open: No such file or directory");
	setenv("CIIS_CONFIG", "/nonexistent/env.conf", 1);
	ck_assert_int_eq(ciis_conf_load(&c, NULL, err, sizeof err), -1);
	ck_assert_str_eq(err, "/nonexistent/env.conf: cannot open: No such file or directory");
	ciis_conf_cleanup(&c);
}
END_TEST

START_TEST(test_missing_default_file)
{
	struct ciis_conf c;
	char err[256] = "";

	if (access(CIIS_CONF_DEFAULT, F_OK) == 0)
		return;		/* an installed ciis.conf: this case cannot be shown here */
	setenv("CIIS_JWT_SECRET", SECRET32, 1);
	ciis_conf_defaults(&c);
	ck_assert_msg(ciis_conf_load(&c, NULL, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_null(c.path);
	ck_assert_str_eq(c.jwt_secret, SECRET32);
	ciis_conf_cleanup(&c);
}
END_TEST

/* ---- environment ---- */

static const struct {
	const char *var, *value, *line;
} env_ok[] = {
	{ "CIIS_DB_HOST", "env.example", "db.host = env.example" },
	{ "CIIS_DB_PORT", "4000", "db.port = 4000" },
	{ "CIIS_SSE_MAX_STREAMS_PER_USER", "9", "sse.max_streams_per_user = 9" },
	{ "CIIS_RELAY_PING_TIMEOUT_MS", "5000", "relay.ping_timeout_ms = 5000" },
	{ "CIIS_RELAY_TAIL_POLL_MS", "40", "relay.tail_poll_ms = 40" },
	{ "CIIS_LOG_LEVEL", "warn", "log.level = warn" },
	{ "CIIS_JWT_ISSUER", "", "jwt.issuer =" },
	{ "CIIS_JWT_ISSUER", "env-issuer", "jwt.issuer = env-issuer" },
};

START_TEST(test_env_override)
{
	struct ciis_conf c;
	char err[256] = "";

	setenv("CIIS_JWT_SECRET", SECRET32, 1);
	setenv(env_ok[_i].var, env_ok[_i].value, 1);
	ciis_conf_defaults(&c);
	/* the env beats the file, which sets db.host, db.port, log.level and jwt.issuer */
	ck_assert_msg(ciis_conf_load(&c, DATA "/good.conf", err, sizeof err) == 0, "%s", err);
	ck_assert_msg(dump_has(&c, env_ok[_i].line), "no \"%s\"", env_ok[_i].line);
	ciis_conf_cleanup(&c);
}
END_TEST

static const struct {
	const char *var, *value, *error;
} env_bad[] = {
	{ "CIIS_DB_PORT", "abc", "CIIS_DB_PORT: db.port: expected 1..65535, got \"abc\"" },
	{ "CIIS_DB_PORT", "", "CIIS_DB_PORT: db.port: expected 1..65535, got \"\"" },
	{ "CIIS_LOG_LEVEL", "loud", "CIIS_LOG_LEVEL: log.level: expected error|warn|info|debug, got \"loud\"" },
	{ "CIIS_TAIL_POLL_MS", "1", "CIIS_TAIL_POLL_MS: tail.poll_ms: expected 10..60000, got \"1\"" },
	{ "CIIS_JWT_ALGORITHM", "none", "CIIS_JWT_ALGORITHM: jwt.algorithm: expected HS256|RS256|ES256, got \"none\"" },
};

START_TEST(test_env_error)
{
	struct ciis_conf c;
	char err[256] = "";

	setenv("CIIS_JWT_SECRET", SECRET32, 1);
	setenv(env_bad[_i].var, env_bad[_i].value, 1);
	ciis_conf_defaults(&c);
	ck_assert_int_eq(ciis_conf_load(&c, DATA "/good.conf", err, sizeof err), -1);
	ck_assert_str_eq(err, env_bad[_i].error);
	ck_assert_int_eq(c.db_port, 3306);		/* back to defaults */
	ciis_conf_cleanup(&c);
}
END_TEST

START_TEST(test_env_config_path)
{
	struct ciis_conf c;
	char err[256] = "";

	setenv("CIIS_CONFIG", DATA "/good.conf", 1);
	ciis_conf_defaults(&c);
	ck_assert_msg(ciis_conf_load(&c, NULL, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.db_host, "db.internal");
	/* an explicit path beats CIIS_CONFIG */
	setenv("CIIS_JWT_SECRET", SECRET32, 1);
	ck_assert_msg(ciis_conf_load(&c, DATA "/crlf.conf", err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.db_host, "crlf.example");
	ck_assert_str_eq(c.path, DATA "/crlf.conf");
	ciis_conf_cleanup(&c);
}
END_TEST

/* ---- cross-key checks ---- */

static const struct {
	const char *alg, *secret, *pubkey, *error;	/* error NULL: loads */
} cross[] = {
	{ NULL, NULL, NULL, "jwt.secret: HS256 needs a secret of at least 32 bytes (none set)" },
	{ "HS256", SECRET32 + 1, NULL, "jwt.secret: HS256 needs a secret of at least 32 bytes" },
	{ "HS256", SECRET32, NULL, NULL },
	{ "RS256", NULL, NULL, "jwt.public_key_file: RS256 needs a public key file" },
	{ "ES256", SECRET32, NULL, "jwt.public_key_file: ES256 needs a public key file" },
	{ "RS256", NULL, "/some/key.pem", NULL },
	{ "ES256", NULL, "/some/key.pem", NULL },
};

START_TEST(test_cross_check)
{
	struct ciis_conf c;
	char err[256] = "";
	int rc;

	setenv("CIIS_CONFIG", "", 1);		/* empty: as if unset */
	if (cross[_i].alg)
		setenv("CIIS_JWT_ALGORITHM", cross[_i].alg, 1);
	if (cross[_i].secret)
		setenv("CIIS_JWT_SECRET", cross[_i].secret, 1);
	if (cross[_i].pubkey)
		setenv("CIIS_JWT_PUBLIC_KEY_FILE", cross[_i].pubkey, 1);
	if (access(CIIS_CONF_DEFAULT, F_OK) == 0)
		return;
	ciis_conf_defaults(&c);
	rc = ciis_conf_load(&c, NULL, err, sizeof err);
	if (cross[_i].error == NULL) {
		ck_assert_msg(rc == 0, "%s", err);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, cross[_i].error);
		ck_assert_ptr_null(strstr(err, "0123456789"));	/* the secret is never shown */
	}
	ciis_conf_cleanup(&c);
}
END_TEST

START_TEST(test_cross_check_names_file)
{
	struct ciis_conf c;
	char err[512] = "";

	ciis_conf_defaults(&c);
	ck_assert_int_eq(ciis_conf_load(&c, DATA "/es256-nokey.conf", err, sizeof err), -1);
	ck_assert_str_eq(err, DATA "/es256-nokey.conf: jwt.public_key_file: ES256 needs a public key file");
	ciis_conf_cleanup(&c);
}
END_TEST

/* ---- dump ---- */

START_TEST(test_dump_masks_secrets)
{
	struct ciis_conf c;
	char err[256] = "";
	char *text;

	ciis_conf_defaults(&c);
	ck_assert_int_eq(ciis_conf_parse_text(&c, "t.conf",
	    "db.password = pw-visible-nowhere\njwt.secret = jwt-visible-nowhere\n"
	    "db.user = app\njwt.audience = \" padded\"\n", err, sizeof err), 0);
	text = dump_str(&c);
	ck_assert_ptr_null(strstr(text, "visible-nowhere"));
	ck_assert_ptr_nonnull(strstr(text, "\ndb.password = ***\n"));
	ck_assert_ptr_nonnull(strstr(text, "\njwt.secret = ***\n"));
	ck_assert_ptr_nonnull(strstr(text, "\ndb.user = app\n"));
	ck_assert_ptr_nonnull(strstr(text, "\njwt.audience = \" padded\"\n"));
	free(text);
	ciis_conf_cleanup(&c);
}
END_TEST

/* The dump reads back as the same configuration (secrets aside). */
START_TEST(test_dump_round_trip)
{
	struct ciis_conf a, b;
	char err[256] = "";
	char *one, *two;

	ciis_conf_defaults(&a);
	ciis_conf_defaults(&b);
	ck_assert_int_eq(ciis_conf_parse_text(&a, "t.conf",
	    "db.host = h\ndb.port = 1\njwt.issuer = \" x \"\nrelay.listen = [::1]:9\n"
	    "log.level = error\nhttp.max_body_bytes = 2048\n", err, sizeof err), 0);
	one = dump_str(&a);
	ck_assert_msg(ciis_conf_parse_text(&b, "dump", one, err, sizeof err) == 0, "%s", err);
	two = dump_str(&b);
	ck_assert_str_eq(one, two);
	ck_assert_str_eq(b.jwt_issuer, " x ");
	free(one);
	free(two);
	ciis_conf_cleanup(&a);
	ciis_conf_cleanup(&b);
}
END_TEST

/* ---- key table and ciis.conf(5) ---- */

START_TEST(test_key_names)
{
	size_t n = ciis_conf_key_count();

	ck_assert_uint_gt(n, 0);
	ck_assert_ptr_null(ciis_conf_key_name(n));
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			ck_assert_str_ne(ciis_conf_key_name(i), ciis_conf_key_name(j));
}
END_TEST

/* Key entries of the man page's KEYS section: ".TP" then ".B name". */
static size_t
man_keys(char names[][64], size_t max)
{
	FILE *f = fopen(MANPAGE, "r");
	char line[512];
	int in_keys = 0, after_tp = 0;
	size_t n = 0;

	ck_assert_msg(f != NULL, "cannot open %s", MANPAGE);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".SH", 3) == 0)
			in_keys = strcmp(line, ".SH KEYS") == 0;
		else if (in_keys && after_tp && strncmp(line, ".B ", 3) == 0 && n < max)
			snprintf(names[n++], 64, "%.63s", line + 3);
		after_tp = strcmp(line, ".TP") == 0;
	}
	fclose(f);
	return n;
}

START_TEST(test_manpage_matches_table)
{
	char names[64][64];
	size_t n = man_keys(names, 64), i, j;

	for (i = 0; i < ciis_conf_key_count(); i++) {
		for (j = 0; j < n && strcmp(names[j], ciis_conf_key_name(i)) != 0; j++)
			;
		ck_assert_msg(j < n, "ciis.conf(5) does not document %s", ciis_conf_key_name(i));
	}
	for (j = 0; j < n; j++) {
		for (i = 0; i < ciis_conf_key_count() && strcmp(names[j], ciis_conf_key_name(i)) != 0; i++)
			;
		ck_assert_msg(i < ciis_conf_key_count(), "ciis.conf(5) documents unknown key %s", names[j]);
	}
	ck_assert_uint_eq(n, ciis_conf_key_count());
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, env_clear, env_clear);
	tcase_add_loop_test(tc, test_default_dump, 0, sizeof default_lines / sizeof default_lines[0]);
	tcase_add_test(tc, test_default_fields);
	tcase_add_loop_test(tc, test_bad_value, 0, sizeof bad / sizeof bad[0]);
	tcase_add_test(tc, test_bad_line_not_echoed);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_file_error_line);
	tcase_add_test(tc, test_missing_named_file);
	tcase_add_test(tc, test_missing_default_file);
	tcase_add_loop_test(tc, test_env_override, 0, sizeof env_ok / sizeof env_ok[0]);
	tcase_add_loop_test(tc, test_env_error, 0, sizeof env_bad / sizeof env_bad[0]);
	tcase_add_test(tc, test_env_config_path);
	tcase_add_loop_test(tc, test_cross_check, 0, sizeof cross / sizeof cross[0]);
	tcase_add_test(tc, test_cross_check_names_file);
	tcase_add_test(tc, test_dump_masks_secrets);
	tcase_add_test(tc, test_dump_round_trip);
	tcase_add_test(tc, test_key_names);
	tcase_add_test(tc, test_manpage_matches_table);
	suite_add_tcase(s, tc);
	return s;
}
