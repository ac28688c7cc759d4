/* MySQL access: one connection per thread at a time (taken from a pool),
 * prepared statements only, results fetched as text.
 *
 * A lost connection is reopened on the next call; while the server cannot be
 * reached every call fails with CIIS_E_UNAVAILABLE (503 + Retry-After).  A
 * statement that fails because the connection dropped is retried once on a new
 * connection, except inside a transaction, whose work is gone with it. */
#ifndef CIIS_CORE_DB_H
#define CIIS_CORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"

enum ciis_param_type { CIIS_P_NULL, CIIS_P_STR, CIIS_P_I64, CIIS_P_DBL };

struct ciis_param {
	enum ciis_param_type type;
	const char *s;		/* CIIS_P_STR: lent; NUL-terminated unless len set */
	size_t len;		/* 0: strlen(s) */
	int64_t i;
	double d;
};

#define CIIS_PSTR(x) ((struct ciis_param){ .type = (x) ? CIIS_P_STR : CIIS_P_NULL, .s = (x) })
#define CIIS_PI64(x) ((struct ciis_param){ .type = CIIS_P_I64, .i = (x) })
#define CIIS_PDBL(x) ((struct ciis_param){ .type = CIIS_P_DBL, .d = (x) })
#define CIIS_PNULL ((struct ciis_param){ .type = CIIS_P_NULL })

/* A fetched result: nrows × ncols cells, each a NUL-terminated string or NULL
 * for SQL NULL.  Owned by the caller: ciis_rows_free(). */
struct ciis_rows {
	size_t nrows, ncols;
	char **cells;		/* [row * ncols + col] */
	size_t *lens;
};

struct ciis_db;
struct ciis_db_pool;

/* A pool of connections to the configured server; conf is borrowed and must
 * outlive the pool.  Connections open lazily. */
struct ciis_db_pool *ciis_db_pool_new(const struct ciis_conf *conf);
void ciis_db_pool_free(struct ciis_db_pool *pool);	/* every db put back first */
/* Take a connection for this thread, connecting if needed; NULL + 503. */
struct ciis_db *ciis_db_pool_get(struct ciis_db_pool *pool, struct ciis_err *err);
/* Give it back; a connection left inside a transaction is rolled back. */
void ciis_db_pool_put(struct ciis_db_pool *pool, struct ciis_db *db);

/* A single connection outside any pool (tools, tailers). */
struct ciis_db *ciis_db_open(const struct ciis_conf *conf, struct ciis_err *err);
void ciis_db_close(struct ciis_db *db);	/* db may be NULL */

/* Run a prepared statement with n parameters.  query fetches every row into
 * out; exec reports affected rows and the insert id (either may be NULL). */
int ciis_db_query(struct ciis_db *db, const char *sql, const struct ciis_param *p,
    size_t n, struct ciis_rows *out, struct ciis_err *err);
int ciis_db_exec(struct ciis_db *db, const char *sql, const struct ciis_param *p,
    size_t n, uint64_t *affected, uint64_t *insert_id, struct ciis_err *err);
/* Text of our own (never a client's) statements, several allowed: migrations. */
int ciis_db_script(struct ciis_db *db, const char *sql, struct ciis_err *err);

int ciis_db_begin(struct ciis_db *db, struct ciis_err *err);
/* A read-only REPEATABLE READ transaction on one consistent snapshot: every
 * statement until commit/rollback sees the same committed state, so a
 * snapshot and the last event id it includes agree. */
int ciis_db_begin_snapshot(struct ciis_db *db, struct ciis_err *err);
int ciis_db_commit(struct ciis_db *db, struct ciis_err *err);
void ciis_db_rollback(struct ciis_db *db);	/* no-op outside a transaction */
int ciis_db_in_txn(const struct ciis_db *db);

/* Is the server reachable now (a cheap ping, reconnecting if needed)? */
int ciis_db_ping(struct ciis_db *db, struct ciis_err *err);

/* Cell (r, c) of rows, NULL for SQL NULL; and as an integer (0 for NULL). */
const char *ciis_rows_get(const struct ciis_rows *rows, size_t r, size_t c);
int64_t ciis_rows_i64(const struct ciis_rows *rows, size_t r, size_t c);
double ciis_rows_dbl(const struct ciis_rows *rows, size_t r, size_t c);
void ciis_rows_free(struct ciis_rows *rows);	/* frees cells, keeps the struct */

/* Call once per process before threads (mysql_library_init), and in each
 * thread that uses the API before it ends. */
void ciis_db_library_init(void);
void ciis_db_thread_end(void);

#endif
