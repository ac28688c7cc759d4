/* MySQL access: pooled connections, cached prepared statements, results as
 * text.  A connection that the server dropped (restart, timeout, kill) is
 * noticed by the error of the next statement, closed, and opened again; the
 * statement is retried once on the new connection unless a transaction was
 * open, since that transaction's work died with the old one. */
#include "core/db.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xalloc.h"

#define STMT_CACHE 48		/* distinct statements a connection keeps prepared */
#define CELL_START 256		/* first buffer per column; longer cells are refetched */
#define MAX_PARAMS 1024

struct cached_stmt {
	uint32_t hash;		/* of the text, to skip most comparisons */
	char *sql;		/* owned copy: callers may build and free theirs */
	MYSQL_STMT *st;
};

struct ciis_db {
	const struct ciis_conf *conf;	/* borrowed */
	MYSQL *m;			/* NULL while disconnected */
	int in_txn;
	int txn_lost;			/* the connection dropped inside a transaction */
	struct cached_stmt cache[STMT_CACHE];
	size_t ncache, next_evict;
	struct ciis_db *next;		/* free list of the pool */
};

#define POOL_MAX 64		/* connections a process opens at most */
#define POOL_WAIT_MS 5000	/* for a free one, before answering 503 */

struct ciis_db_pool {
	const struct ciis_conf *conf;	/* borrowed */
	pthread_mutex_t lock;
	pthread_cond_t returned;
	struct ciis_db *free;
	size_t made;			/* connections in and out of the pool */
};

void
ciis_db_library_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

void
ciis_db_thread_end(void)
{
	mysql_thread_end();
}

static int
is_connection_error(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	    e == CR_SERVER_LOST_EXTENDED || e == CR_COMMANDS_OUT_OF_SYNC ||
	    e == ER_CONNECTION_KILLED || e == ER_SERVER_SHUTDOWN ||
	    e == ER_QUERY_INTERRUPTED || e == CR_UNKNOWN_ERROR;
}

static void
drop_cache(struct ciis_db *db)
{
	for (size_t i = 0; i < db->ncache; i++) {
		mysql_stmt_close(db->cache[i].st);
		free(db->cache[i].sql);
	}
	db->ncache = db->next_evict = 0;
}

static void
disconnect(struct ciis_db *db)
{
	drop_cache(db);
	if (db->m != NULL)
		mysql_close(db->m);
	db->m = NULL;
	if (db->in_txn)
		db->txn_lost = 1;	/* refuse the rest of that transaction */
	db->in_txn = 0;
}

/* Session settings every connection gets: UTC, and READ COMMITTED so that a
 * long-lived connection never reads from a stale snapshot. */
static const char *const session_setup[] = {
	"SET time_zone = '+00:00'",
	"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
};

static int
connect_db(struct ciis_db *db, struct ciis_err *err)
{
	const struct ciis_conf *c = db->conf;
	unsigned timeout = 3, rw_timeout = 120;
	MYSQL *m = mysql_init(NULL);

	if (m == NULL)
		return CIIS_ERR(err, CIIS_E_INTERNAL, "", "mysql_init failed");
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
	if (mysql_real_connect(m, c->db_socket ? NULL : c->db_host, c->db_user,
	    c->db_password, c->db_name, (unsigned)c->db_port, c->db_socket, 0) == NULL) {
		ciis_log(CIIS_LOG_WARN, "db: connect failed: %s", mysql_error(m));
		mysql_close(m);
		return CIIS_ERR(err, CIIS_E_UNAVAILABLE, "", "database unavailable");
	}
	for (size_t i = 0; i < sizeof session_setup / sizeof session_setup[0]; i++) {
		if (mysql_query(m, session_setup[i]) != 0) {
			ciis_log(CIIS_LOG_WARN, "db: session setup failed: %s", mysql_error(m));
			mysql_close(m);
			return CIIS_ERR(err, CIIS_E_UNAVAILABLE, "", "database unavailable");
		}
	}
	db->m = m;
	return 0;
}

static int
ensure_connected(struct ciis_db *db, struct ciis_err *err)
{
	return db->m != NULL ? 0 : connect_db(db, err);
}

/* Turn the connection's last error into err; drops a broken connection. */
static int
fail(struct ciis_db *db, const char *what, unsigned e, const char *msg, struct ciis_err *err)
{
	if (is_connection_error(e)) {
		ciis_log(CIIS_LOG_WARN, "db: %s: connection lost (%u %s)", what, e, msg);
		disconnect(db);
		return CIIS_ERR(err, CIIS_E_UNAVAILABLE, "", "database unavailable");
	}
	if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT) {
		ciis_log(CIIS_LOG_WARN, "db: %s: %s", what, msg);
		return CIIS_ERR(err, CIIS_E_UNAVAILABLE, "", "database busy, try again");
	}
	ciis_log(CIIS_LOG_ERROR, "db: %s: error %u: %s", what, e, msg);
	return CIIS_ERR(err, CIIS_E_INTERNAL, "", "database error");
}

struct ciis_db *
ciis_db_open(const struct ciis_conf *conf, struct ciis_err *err)
{
	struct ciis_db *db = ciis_xcalloc(1, sizeof *db);

	db->conf = conf;
	if (connect_db(db, err) != 0) {
		free(db);
		return NULL;
	}
	return db;
}

void
ciis_db_close(struct ciis_db *db)
{
	if (db == NULL)
		return;
	disconnect(db);
	free(db);
}

struct ciis_db_pool *
ciis_db_pool_new(const struct ciis_conf *conf)
{
	struct ciis_db_pool *pool = ciis_xcalloc(1, sizeof *pool);

	pool->conf = conf;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->returned, NULL);
	return pool;
}

void
ciis_db_pool_free(struct ciis_db_pool *pool)
{
	struct ciis_db *db, *next;

	if (pool == NULL)
		return;
	for (db = pool->free; db != NULL; db = next) {
		next = db->next;
		ciis_db_close(db);
	}
	pthread_cond_destroy(&pool->returned);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

/* A pooled connection, a new one while under POOL_MAX, or one given back
 * within POOL_WAIT_MS; NULL when none is.  A burst of requests must not
 * open more connections than the server allows. */
static struct ciis_db *
take(struct ciis_db_pool *pool)
{
	struct timespec until;
	struct ciis_db *db = NULL;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += POOL_WAIT_MS / 1000;
	pthread_mutex_lock(&pool->lock);
	while (pool->free == NULL && pool->made >= POOL_MAX)
		if (pthread_cond_timedwait(&pool->returned, &pool->lock, &until) != 0)
			break;
	if ((db = pool->free) != NULL) {
		pool->free = db->next;
	} else if (pool->made < POOL_MAX) {
		db = ciis_xcalloc(1, sizeof *db);
		db->conf = pool->conf;
		pool->made++;
	}
	pthread_mutex_unlock(&pool->lock);
	return db;
}

struct ciis_db *
ciis_db_pool_get(struct ciis_db_pool *pool, struct ciis_err *err)
{
	struct ciis_db *db;

	if ((db = take(pool)) == NULL) {
		CIIS_ERR(err, CIIS_E_UNAVAILABLE, "", "database busy, try again");
		return NULL;
	}
	db->next = NULL;
	if (ensure_connected(db, err) != 0) {
		ciis_db_pool_put(pool, db);	/* keep the struct; reconnect next time */
		return NULL;
	}
	return db;
}

void
ciis_db_pool_put(struct ciis_db_pool *pool, struct ciis_db *db)
{
	if (db == NULL)
		return;
	ciis_db_rollback(db);
	pthread_mutex_lock(&pool->lock);
	db->next = pool->free;
	pool->free = db;
	pthread_cond_signal(&pool->returned);
	pthread_mutex_unlock(&pool->lock);
}

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The prepared statement for sql, preparing it on first use. */
static MYSQL_STMT *
prepare(struct ciis_db *db, const char *sql, unsigned *e, char **msg)
{
	struct cached_stmt *slot;
	uint32_t hash = fnv1a(sql);
	MYSQL_STMT *st;

	for (size_t i = 0; i < db->ncache; i++)
		if (db->cache[i].hash == hash && strcmp(db->cache[i].sql, sql) == 0)
			return db->cache[i].st;
	if ((st = mysql_stmt_init(db->m)) == NULL) {
		*e = mysql_errno(db->m);
		*msg = ciis_xstrdup(mysql_error(db->m));
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		*e = mysql_stmt_errno(st);
		*msg = ciis_xstrdup(mysql_stmt_error(st));	/* outlives st; the caller frees */
		mysql_stmt_close(st);
		return NULL;
	}
	if (db->ncache < STMT_CACHE) {
		slot = &db->cache[db->ncache++];
	} else {
		slot = &db->cache[db->next_evict];
		db->next_evict = (db->next_evict + 1) % STMT_CACHE;
		mysql_stmt_close(slot->st);
		free(slot->sql);
	}
	slot->hash = hash;
	slot->sql = ciis_xstrdup(sql);
	slot->st = st;
	return st;
}

static void
bind_params(MYSQL_BIND *b, unsigned long *lens, const struct ciis_param *p, size_t n)
{
	if (n == 0)
		return;		/* b is NULL: memset(NULL, 0, 0) is undefined */
	memset(b, 0, n * sizeof *b);
	for (size_t i = 0; i < n; i++) {
		switch (p[i].type) {
		case CIIS_P_STR:
			lens[i] = p[i].len ? p[i].len : strlen(p[i].s);
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)p[i].s;
			b[i].buffer_length = lens[i];
			b[i].length = &lens[i];
			break;
		case CIIS_P_I64:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&p[i].i;
			break;
		case CIIS_P_DBL:
			b[i].buffer_type = MYSQL_TYPE_DOUBLE;
			b[i].buffer = (void *)&p[i].d;
			break;
		case CIIS_P_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		}
	}
}

struct fetch_cols {
	size_t n;
	MYSQL_BIND *b;
	unsigned long *len;
	my_bool *null;
	char **buf;
};

static void
cols_free(struct fetch_cols *fc)
{
	for (size_t i = 0; i < fc->n; i++)
		free(fc->buf[i]);
	free(fc->b);
	free(fc->len);
	free(fc->null);
	free(fc->buf);
}

static void
cols_bind(struct fetch_cols *fc, size_t n)
{
	fc->n = n;
	fc->b = ciis_xcalloc(n, sizeof *fc->b);
	fc->len = ciis_xcalloc(n, sizeof *fc->len);
	fc->null = ciis_xcalloc(n, sizeof *fc->null);
	fc->buf = ciis_xcalloc(n, sizeof *fc->buf);
	for (size_t i = 0; i < n; i++) {
		fc->buf[i] = ciis_xmalloc(CELL_START);
		fc->b[i].buffer_type = MYSQL_TYPE_STRING;
		fc->b[i].buffer = fc->buf[i];
		fc->b[i].buffer_length = CELL_START;
		fc->b[i].length = &fc->len[i];
		fc->b[i].is_null = &fc->null[i];
	}
}

/* Copy the fetched row into out, refetching cells longer than their buffer. */
static int
take_row(MYSQL_STMT *st, struct fetch_cols *fc, struct ciis_rows *out)
{
	size_t base = out->nrows * fc->n;

	out->cells = ciis_xrealloc(out->cells, (base + fc->n) * sizeof *out->cells);
	out->lens = ciis_xrealloc(out->lens, (base + fc->n) * sizeof *out->lens);
	for (size_t i = 0; i < fc->n; i++) {
		char *cell = NULL;

		if (!fc->null[i]) {
			cell = ciis_xmalloc(fc->len[i] + 1);
			if (fc->len[i] <= CELL_START) {
				memcpy(cell, fc->buf[i], fc->len[i]);
			} else {
				MYSQL_BIND one = fc->b[i];
				unsigned long got = 0;

				one.buffer = cell;
				one.buffer_length = fc->len[i];
				one.length = &got;
				if (mysql_stmt_fetch_column(st, &one, (unsigned)i, 0) != 0) {
					free(cell);
					while (i-- > 0)
						free(out->cells[base + i]);	/* this row's copies so far */
					return -1;
				}
			}
			cell[fc->len[i]] = '\0';
		}
		out->cells[base + i] = cell;
		out->lens[base + i] = fc->null[i] ? 0 : fc->len[i];
	}
	out->nrows++;
	return 0;
}

static int
fetch_all(MYSQL_STMT *st, struct ciis_rows *out)
{
	MYSQL_RES *meta = mysql_stmt_result_metadata(st);
	struct fetch_cols fc;
	int rc = 0, r;

	if (meta == NULL)
		return 0;
	out->ncols = mysql_num_fields(meta);
	mysql_free_result(meta);
	cols_bind(&fc, out->ncols);
	if (mysql_stmt_bind_result(st, fc.b) != 0)
		rc = -1;
	while (rc == 0 && ((r = mysql_stmt_fetch(st)) == 0 || r == MYSQL_DATA_TRUNCATED))
		rc = take_row(st, &fc, out);
	if (rc == 0 && r == 1)
		rc = -1;
	cols_free(&fc);
	mysql_stmt_free_result(st);
	return rc;
}

/* One attempt: prepare, bind, execute, fetch.  e and msg describe a failure. */
static int
run_once(struct ciis_db *db, const char *sql, const struct ciis_param *p, size_t n,
    struct ciis_rows *out, uint64_t *affected, uint64_t *insert_id,
    unsigned *e, char **msg)
{
	/* on the heap: held streams keep every stack page they ever touched */
	MYSQL_BIND *b = n ? ciis_xcalloc(n, sizeof *b) : NULL;
	unsigned long *lens = n ? ciis_xcalloc(n, sizeof *lens) : NULL;
	MYSQL_STMT *st = prepare(db, sql, e, msg);
	int rc = -1;

	if (st == NULL)
		goto out;
	bind_params(b, lens, p, n);
	if ((n > 0 && mysql_stmt_bind_param(st, b) != 0) || mysql_stmt_execute(st) != 0 ||
	    (out != NULL && fetch_all(st, out) != 0)) {
		*e = mysql_stmt_errno(st);
		*msg = ciis_xstrdup(mysql_stmt_error(st));
		mysql_stmt_reset(st);
		goto out;
	}
	if (affected)
		*affected = mysql_stmt_affected_rows(st);
	if (insert_id)
		*insert_id = mysql_stmt_insert_id(st);
	rc = 0;
out:
	free(b);
	free(lens);
	return rc;
}

static int
run(struct ciis_db *db, const char *sql, const struct ciis_param *p, size_t n,
    struct ciis_rows *out, uint64_t *affected, uint64_t *insert_id, struct ciis_err *err)
{
	unsigned e = 0;
	char *msg = NULL;
	int rc, was_in_txn = db->in_txn;

	if (n > MAX_PARAMS)
		return CIIS_ERR(err, CIIS_E_INTERNAL, "", "too many parameters");
	if (db->txn_lost)
		return CIIS_ERR(err, CIIS_E_UNAVAILABLE, "", "database unavailable");
	if (out != NULL)
		memset(out, 0, sizeof *out);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (ensure_connected(db, err) != 0)
			return -1;
		if (run_once(db, sql, p, n, out, affected, insert_id, &e, &msg) == 0)
			return 0;
		if (out != NULL)
			ciis_rows_free(out);
		rc = fail(db, "statement", e, msg, err);
		free(msg);
		msg = NULL;
		/* retry on a fresh connection only outside a transaction */
		if (db->m != NULL || was_in_txn)
			return rc;
	}
	return -1;
}

int
ciis_db_query(struct ciis_db *db, const char *sql, const struct ciis_param *p,
    size_t n, struct ciis_rows *out, struct ciis_err *err)
{
	return run(db, sql, p, n, out, NULL, NULL, err);
}

int
ciis_db_exec(struct ciis_db *db, const char *sql, const struct ciis_param *p,
    size_t n, uint64_t *affected, uint64_t *insert_id, struct ciis_err *err)
{
	return run(db, sql, p, n, NULL, affected, insert_id, err);
}

/* Text protocol for our own constant statements (transactions, scripts). */
static int
plain(struct ciis_db *db, const char *sql, const char *what, struct ciis_err *err)
{
	if (db->txn_lost)
		return CIIS_ERR(err, CIIS_E_UNAVAILABLE, "", "database unavailable");
	if (ensure_connected(db, err) != 0)
		return -1;
	if (mysql_query(db->m, sql) != 0)
		return fail(db, what, mysql_errno(db->m), mysql_error(db->m), err);
	return 0;
}

int
ciis_db_script(struct ciis_db *db, const char *sql, struct ciis_err *err)
{
	int status, rc = 0;

	if (ensure_connected(db, err) != 0)
		return -1;
	mysql_set_server_option(db->m, MYSQL_OPTION_MULTI_STATEMENTS_ON);
	status = mysql_real_query(db->m, sql, strlen(sql));
	while (status == 0) {
		MYSQL_RES *res = mysql_store_result(db->m);

		if (res != NULL)
			mysql_free_result(res);
		if ((status = mysql_next_result(db->m)) > 0)
			break;
	}
	if (status > 0 || (status != -1 && mysql_errno(db->m) != 0))
		rc = fail(db, "script", mysql_errno(db->m), mysql_error(db->m), err);
	if (db->m != NULL)
		mysql_set_server_option(db->m, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
	return rc;
}

int
ciis_db_begin(struct ciis_db *db, struct ciis_err *err)
{
	db->txn_lost = 0;
	if (plain(db, "START TRANSACTION", "begin", err) != 0) {
		/* a connection dropped while idle: one fresh try, nothing was lost */
		if (db->m != NULL || plain(db, "START TRANSACTION", "begin", err) != 0)
			return -1;
	}
	db->in_txn = 1;
	return 0;
}

int
ciis_db_begin_snapshot(struct ciis_db *db, struct ciis_err *err)
{
	db->txn_lost = 0;
	/* applies to the next transaction only; the session stays READ COMMITTED */
	if (plain(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "snapshot", err) != 0 &&
	    (db->m != NULL || plain(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
	    "snapshot", err) != 0))
		return -1;
	if (plain(db, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", "snapshot", err) != 0)
		return -1;
	db->in_txn = 1;
	return 0;
}

int
ciis_db_commit(struct ciis_db *db, struct ciis_err *err)
{
	if (!db->in_txn || db->m == NULL) {
		db->txn_lost = 0;
		return CIIS_ERR(err, CIIS_E_UNAVAILABLE, "", "database unavailable");
	}
	db->in_txn = 0;
	if (mysql_commit(db->m) != 0)
		return fail(db, "commit", mysql_errno(db->m), mysql_error(db->m), err);
	return 0;
}

void
ciis_db_rollback(struct ciis_db *db)
{
	db->txn_lost = 0;
	if (!db->in_txn)
		return;
	db->in_txn = 0;
	if (db->m != NULL && mysql_rollback(db->m) != 0)
		disconnect(db);	/* unsure state: start clean next time */
}

int
ciis_db_in_txn(const struct ciis_db *db)
{
	return db->in_txn;
}

int
ciis_db_ping(struct ciis_db *db, struct ciis_err *err)
{
	if (ensure_connected(db, err) != 0)
		return -1;
	if (mysql_ping(db->m) == 0)
		return 0;
	disconnect(db);
	return ensure_connected(db, err);
}

const char *
ciis_rows_get(const struct ciis_rows *rows, size_t r, size_t c)
{
	if (r >= rows->nrows || c >= rows->ncols)
		return NULL;
	return rows->cells[r * rows->ncols + c];
}

int64_t
ciis_rows_i64(const struct ciis_rows *rows, size_t r, size_t c)
{
	const char *s = ciis_rows_get(rows, r, c);

	return s ? strtoll(s, NULL, 10) : 0;
}

double
ciis_rows_dbl(const struct ciis_rows *rows, size_t r, size_t c)
{
	const char *s = ciis_rows_get(rows, r, c);

	return s ? strtod(s, NULL) : 0.0;
}

void
ciis_rows_free(struct ciis_rows *rows)
{
	if (rows->cells != NULL)
		for (size_t i = 0; i < rows->nrows * rows->ncols; i++)
			free(rows->cells[i]);
	free(rows->cells);
	free(rows->lens);
	memset(rows, 0, sizeof *rows);
}
