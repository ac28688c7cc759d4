/* append_bench: what commit-ordered event ids cost.  N writer threads, one
 * connection each, run mutation-shaped transactions for a fixed time:
 *
 *   counter: UPDATE one bench_issues row; ciis_event_append() of 2 events
 *            (issue:updated + heatmap:updated, ids from the event_seq row);
 *            COMMIT
 *   autoinc: the same UPDATE; 2 plain INSERTs into bench_events_ai, whose
 *            AUTO_INCREMENT id gives no commit order (the reference point)
 *
 * and prints transactions/s, events/s and p50/p99 latency of the COMMIT call
 * and of the whole transaction, as a Markdown table.  Run by run-append.sh
 * against a private MariaDB with the sql/ migrations applied; it creates and
 * empties its own bench_* tables and empties events. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/db.h"
#include "core/event.h"
#include "core/json.h"

#define ISSUES 256

enum mode { M_COUNTER, M_AUTOINC };
static const char *const mode_name[] = { "counter", "autoinc" };

static struct ciis_conf conf;

struct lat {
	float *us;
	size_t n, cap;
};

struct writer {
	pthread_t th;
	int id;
	enum mode mode;
	double secs;
	pthread_barrier_t *start;
	long txns, errors;
	struct lat commit, txn;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
lat_add(struct lat *l, double seconds)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		if ((l->us = realloc(l->us, l->cap * sizeof *l->us)) == NULL)
			abort();
	}
	l->us[l->n++] = (float)(seconds * 1e6);
}

static int
cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static double
pct(const struct lat *l, double p)
{
	size_t i;

	if (l->n == 0)
		return 0;
	i = (size_t)(p * (double)(l->n - 1) + 0.5);
	return l->us[i] / 1000.0;	/* ms */
}

/* The two events of an issue update, about 300 and 100 bytes of JSON. */
static void
make_events(struct ciis_event evs[2], int64_t issue, long version)
{
	struct json_object *is = json_object_new_object(), *ch = json_object_new_array();
	struct json_object *counts = json_object_new_object();

	memset(evs, 0, 2 * sizeof *evs);
	json_object_object_add(is, "id", ciis_json_id(issue));
	json_object_object_add(is, "title", json_object_new_string("Leaking radiator under the window in room 2.14"));
	json_object_object_add(is, "status", json_object_new_string("assigned"));
	json_object_object_add(is, "priority", json_object_new_string("high"));
	json_object_object_add(is, "buildingId", ciis_json_id(7));
	json_object_object_add(is, "campusId", ciis_json_id(3));
	json_object_object_add(is, "assignedTo", json_object_new_string("user-42"));
	json_object_object_add(is, "version", json_object_new_int64(version));
	json_object_array_add(ch, json_object_new_string("status"));
	json_object_array_add(ch, json_object_new_string("assignedTo"));
	evs[0].payload = json_object_new_object();
	json_object_object_add(evs[0].payload, "issue", is);
	json_object_object_add(evs[0].payload, "changes", ch);
	json_object_object_add(evs[0].payload, "actorId", json_object_new_string("user-7"));
	snprintf(evs[0].type, sizeof evs[0].type, "issue:updated");
	evs[0].issue_id = issue;
	evs[0].issue_version = version;

	json_object_object_add(counts, "open", json_object_new_int(12));
	json_object_object_add(counts, "assigned", json_object_new_int(4));
	json_object_object_add(counts, "critical", json_object_new_int(1));
	evs[1].payload = json_object_new_object();
	json_object_object_add(evs[1].payload, "buildingId", ciis_json_id(7));
	json_object_object_add(evs[1].payload, "counts", counts);
	snprintf(evs[1].type, sizeof evs[1].type, "heatmap:updated");
	for (int k = 0; k < 2; k++) {
		snprintf(evs[k].org_id, sizeof evs[k].org_id, "org-bench");
		snprintf(evs[k].actor_id, sizeof evs[k].actor_id, "user-7");
		evs[k].campus_id = 3;
		evs[k].building_id = 7;
	}
}

static const char SQL_UPDATE[] =
    "UPDATE bench_issues SET status = ?, version = version + 1, updated_at = NOW(3) WHERE id = ?";
static const char SQL_INSERT_AI[] =
    "INSERT INTO bench_events_ai (type, org_id, campus_id, building_id, issue_id,"
    " user_id, actor_id, issue_version, payload, created_at)"
    " VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, NOW(3))";

static int
insert_plain(struct ciis_db *db, struct ciis_event *ev, struct ciis_err *err)
{
	struct ciis_param p[] = {
		CIIS_PSTR(ev->type), CIIS_PSTR(ev->org_id), CIIS_PI64(ev->campus_id),
		CIIS_PI64(ev->building_id), ev->issue_id ? CIIS_PI64(ev->issue_id) : CIIS_PNULL,
		CIIS_PSTR(ev->actor_id), ev->issue_version ? CIIS_PI64(ev->issue_version) : CIIS_PNULL,
		CIIS_PSTR(ciis_json_text(ev->payload)),
	};

	json_object_object_add(ev->payload, "timestamp",
	    json_object_new_string("2026-12-01T21:00:00.000Z"));	/* same size as append's */
	return ciis_db_exec(db, SQL_INSERT_AI, p, sizeof p / sizeof p[0], NULL, NULL, err);
}

/* One mutation-shaped transaction; 0 when it committed. */
static int
one_txn(struct writer *w, struct ciis_db *db, unsigned *seed, long n)
{
	static const char *const states[] = { "open", "assigned", "in_progress" };
	struct ciis_event evs[2];
	struct ciis_err err = { 0 };
	int64_t issue = 1 + (int64_t)(rand_r(seed) % ISSUES);
	struct ciis_param p[] = { CIIS_PSTR(states[n % 3]), CIIS_PI64(issue) };
	double t0 = now_s(), t1;
	int rc = -1;

	make_events(evs, issue, n + 2);
	if (ciis_db_begin(db, &err) != 0 ||
	    ciis_db_exec(db, SQL_UPDATE, p, 2, NULL, NULL, &err) != 0)
		goto out;
	if (w->mode == M_COUNTER) {
		if (ciis_event_append(db, evs, 2, &err) != 0)
			goto out;
	} else if (insert_plain(db, &evs[0], &err) != 0 || insert_plain(db, &evs[1], &err) != 0) {
		goto out;
	}
	t1 = now_s();
	if (ciis_db_commit(db, &err) != 0)
		goto out;
	lat_add(&w->commit, now_s() - t1);
	lat_add(&w->txn, now_s() - t0);
	rc = 0;
out:
	if (rc != 0)
		ciis_db_rollback(db);
	ciis_event_cleanup(&evs[0]);
	ciis_event_cleanup(&evs[1]);
	return rc;
}

static void *
writer_run(void *arg)
{
	struct writer *w = arg;
	struct ciis_err err = { 0 };
	struct ciis_db *db = ciis_db_open(&conf, &err);
	unsigned seed = 2654435761u * (unsigned)(w->id + 1);

	double deadline;

	pthread_barrier_wait(w->start);	/* every writer connected: the clock runs */
	deadline = now_s() + w->secs;
	if (db == NULL) {
		w->errors++;
		return NULL;
	}
	while (now_s() < deadline) {
		if (one_txn(w, db, &seed, w->txns + w->errors) == 0)
			w->txns++;
		else
			w->errors++;
	}
	ciis_db_close(db);
	ciis_db_thread_end();
	return NULL;
}

static const char setup_sql[] =
    "CREATE TABLE IF NOT EXISTS bench_issues ("
    " id BIGINT UNSIGNED NOT NULL PRIMARY KEY,"
    " status ENUM('open','assigned','in_progress','resolved','closed') NOT NULL,"
    " title VARCHAR(200) NOT NULL, version INT UNSIGNED NOT NULL,"
    " updated_at DATETIME(3) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;"
    "CREATE TABLE IF NOT EXISTS bench_events_ai LIKE events;"
    "ALTER TABLE bench_events_ai MODIFY id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT;"
    "DELETE FROM bench_issues;"
    "INSERT INTO bench_issues (id, status, title, version, updated_at)"
    " WITH RECURSIVE s (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 256)"
    " SELECT n, 'open', CONCAT('issue ', n), 1, NOW(3) FROM s;";

static const char reset_sql[] =
    "TRUNCATE TABLE events; TRUNCATE TABLE bench_events_ai;"
    "UPDATE event_seq SET last = 0 WHERE id = 1;";

static int
run_sql(const char *sql)
{
	struct ciis_err err = { 0 };
	struct ciis_db *db = ciis_db_open(&conf, &err);
	int rc = db ? ciis_db_script(db, sql, &err) : -1;

	if (rc != 0)
		fprintf(stderr, "append_bench: setup failed: %s\n", err.message);
	ciis_db_close(db);
	return rc;
}

/* One figure: n writers in `mode` for `secs` seconds; prints a table row. */
static int
figure(enum mode mode, int n, double secs, int round)
{
	struct writer *w = calloc((size_t)n, sizeof *w);
	pthread_barrier_t start;
	struct lat commit = { 0 }, txn = { 0 };
	long txns = 0, errors = 0;
	double t0, elapsed;

	if (run_sql(reset_sql) != 0)
		return -1;
	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		w[i].id = i;
		w[i].mode = mode;
		w[i].start = &start;
		w[i].secs = secs;
		pthread_create(&w[i].th, NULL, writer_run, &w[i]);
	}
	pthread_barrier_wait(&start);
	t0 = now_s();
	for (int i = 0; i < n; i++)
		pthread_join(w[i].th, NULL);
	elapsed = now_s() - t0;
	for (int i = 0; i < n; i++) {
		txns += w[i].txns;
		errors += w[i].errors;
		for (size_t j = 0; j < w[i].commit.n; j++)
			lat_add(&commit, w[i].commit.us[j] / 1e6);
		for (size_t j = 0; j < w[i].txn.n; j++)
			lat_add(&txn, w[i].txn.us[j] / 1e6);
		free(w[i].commit.us);
		free(w[i].txn.us);
	}
	qsort(commit.us, commit.n, sizeof *commit.us, cmp_float);
	qsort(txn.us, txn.n, sizeof *txn.us, cmp_float);
	printf("| %d | %s | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %ld |\n",
	    round, mode_name[mode], n, txns / elapsed, 2 * txns / elapsed,
	    pct(&commit, 0.50), pct(&commit, 0.99), pct(&txn, 0.50), pct(&txn, 0.99), errors);
	fflush(stdout);
	free(commit.us);
	free(txn.us);
	free(w);
	pthread_barrier_destroy(&start);
	return 0;
}

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? strdup(v) : NULL;
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *user = NULL, *pw = "", *name = NULL;
	char wlist[64] = "1,4,16";
	double secs = 8;
	int rounds = 1, c;

	while ((c = getopt(argc, argv, "S:u:p:d:t:r:W:")) != -1) {
		switch (c) {
		case 'S': sock = optarg; break;
		case 'u': user = optarg; break;
		case 'p': pw = optarg; break;
		case 'd': name = optarg; break;
		case 't': secs = atof(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'W': snprintf(wlist, sizeof wlist, "%s", optarg); break;
		default: goto usage;
		}
	}
	if (sock == NULL || user == NULL || name == NULL || secs <= 0 || rounds < 1)
		goto usage;
	ciis_conf_defaults(&conf);
	set_str(&conf.db_socket, sock);
	set_str(&conf.db_user, user);
	set_str(&conf.db_password, pw);
	set_str(&conf.db_name, name);
	ciis_db_library_init();
	if (run_sql(setup_sql) != 0)
		return 1;

	printf("| round | ids | writers | txn/s | events/s | commit p50 ms | commit p99 ms "
	    "| txn p50 ms | txn p99 ms | errors |\n");
	printf("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (int r = 1; r <= rounds; r++) {
		char list[64], *save = NULL;

		snprintf(list, sizeof list, "%s", wlist);
		for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int n = atoi(tok);

			if (n < 1)
				goto usage;
			/* both designs back to back: figures drift between minutes */
			if (figure(M_COUNTER, n, secs, r) != 0 || figure(M_AUTOINC, n, secs, r) != 0)
				return 1;
		}
	}
	ciis_conf_cleanup(&conf);
	return 0;
usage:
	fprintf(stderr, "usage: append_bench -S socket -u user [-p password] -d database "
	    "[-t seconds] [-r rounds] [-W 1,4,16]\n");
	return 2;
}
