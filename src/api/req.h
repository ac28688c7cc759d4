/* A request as handlers see it: method, path, query parameters, the caller,
 * the JSON body, and a database connection taken on first use. */
#ifndef CIIS_API_REQ_H
#define CIIS_API_REQ_H

#include <json-c/json.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "api/io.h"
#include "core/auth.h"
#include "core/config.h"
#include "core/db.h"
#include "core/err.h"

#define API_MAX_QUERY 64	/* query parameters kept; more are ignored */
#define API_MAX_SEGS 8		/* {params} a route may capture */

struct ciis_tail;
struct api_writer;

enum api_stream_kind { API_STREAM_ISSUES, API_STREAM_HEATMAP, API_STREAM_KINDS };

/* This process's counters for /metrics; updated with atomic builtins. */
struct api_metrics {
	long streams[API_STREAM_KINDS];	/* open now */
	long requests[600];		/* answered, by status */
};

/* What every request shares; lives as long as the process. */
struct api_ctx {
	struct ciis_conf *conf;
	struct ciis_keys *keys;
	struct ciis_db_pool *pool;
	struct ciis_tail *tail;		/* NULL under CGI: no streams there */
	struct api_writer *writer;	/* holds the open streams; NULL with tail */
	char process_id[64];		/* host:pid:start, names this process's streams */
	struct api_metrics metrics;
	/* streams that ended, unregistered in one go by the tailer's chore, so
	 * that a thousand clients leaving at once take no thousand connections */
	pthread_mutex_t ended_lock;
	char (*ended)[64];		/* owned */
	size_t nended, ended_cap;
};

struct api_req {
	struct api_io *io;		/* borrowed */
	struct api_ctx *ctx;		/* borrowed */
	const char *method;		/* borrowed from the CGI variables */
	char *path;			/* owned: the URI's path, no query */
	char *uri_redacted;		/* owned: for the log, tokens masked */
	size_t nquery;
	char *qkey[API_MAX_QUERY], *qval[API_MAX_QUERY];	/* owned, decoded */
	const char *seg[API_MAX_SEGS];	/* route captures, pointing into segbuf */
	size_t nseg;
	char *segbuf;			/* owned */
	struct ciis_principal who;	/* valid once authenticated */
	struct json_object *body;	/* owned, NULL until read */
	struct ciis_db *db;		/* taken from ctx->pool on first use */
	int status;			/* sent status, for the log */
	int64_t started_ms;
};

/* Set up req for the transport io; frees nothing of io. */
void api_req_init(struct api_req *req, struct api_io *io, struct api_ctx *ctx);
/* Release what req owns and give its connection back. */
void api_req_cleanup(struct api_req *req);

/* A CGI variable ("HTTP_AUTHORIZATION"), NULL when absent. */
const char *api_req_env(struct api_req *req, const char *name);
/* The decoded value of query parameter name, NULL when absent. */
const char *api_req_query(struct api_req *req, const char *name);

/* Authenticate the bearer token (or, when query_ok, a ?token= parameter:
 * EventSource cannot set headers) and require at least role; 401 / 403. */
int api_req_auth(struct api_req *req, enum ciis_role role, int query_ok, struct ciis_err *err);

/* Read and parse the JSON body into req->body: 415 for another content type,
 * 413 over http.max_body_bytes, 400 when malformed. */
int api_req_read_json(struct api_req *req, struct ciis_err *err);

/* The request's database connection (503 when unreachable). */
struct ciis_db *api_req_db(struct api_req *req, struct ciis_err *err);

/* Parse a query parameter: an integer of at least lo, clamped to hi
 * (absent: *out = dflt); 400 naming it otherwise. */
int api_req_query_int(struct api_req *req, const char *name, long lo, long hi,
    long dflt, long *out, struct ciis_err *err);

#endif
