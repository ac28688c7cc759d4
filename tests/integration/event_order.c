/* event_order: proves against a real MariaDB that a tailing reader
 * (ciis_event_read(after = last) in a loop, on its own connection) sees every
 * committed event exactly once, in strictly increasing id order with no gap,
 * never a rolled-back one, and never moves past an id it will later see.
 *
 * Run by t-event-order.sh against a private server with the sql/ migrations
 * applied; it creates its scratch tables (order_rows, order_naive) itself.
 * Prints one PASS/FAIL line per check; exits 0 when all pass, 1 otherwise,
 * 99 when the database cannot be set up. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/db.h"
#include "core/event.h"
#include "core/log.h"

#define ROWS 16			/* scratch rows the writers update */
#define READ_BATCH 100

static int failures;
static struct ciis_conf conf;

static void
report(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s: ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
	if (!ok)
		failures++;
}

static void
fatal(const char *what, const struct ciis_err *err)
{
	printf("FAIL: %s: %s\n", what, err ? err->message : "");
	fflush(stdout);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct ciis_db *
open_db(void)
{
	struct ciis_err err = { 0 };
	struct ciis_db *db = ciis_db_open(&conf, &err);

	if (db == NULL)
		fatal("ciis_db_open", &err);
	return db;
}

static void
must(int rc, const char *what, const struct ciis_err *err)
{
	if (rc != 0)
		fatal(what, err);
}

/* UPDATE one scratch row: the transaction's "change" before its append. */
static void
change_row(struct ciis_db *db, int row)
{
	static const char sql[] = "UPDATE order_rows SET v = v + 1 WHERE id = ?";
	struct ciis_param p[] = { CIIS_PI64(row) };
	struct ciis_err err = { 0 };

	must(ciis_db_exec(db, sql, p, 1, NULL, NULL, &err), "update order_rows", &err);
}

/* Append n events marked {w, s, k = 0..n-1}; ids[k] gets each id. */
static int
append_marked(struct ciis_db *db, int w, int s, size_t n, int64_t *ids, struct ciis_err *err)
{
	struct ciis_event evs[4];
	int rc;

	memset(evs, 0, sizeof evs);
	for (size_t k = 0; k < n; k++) {
		snprintf(evs[k].type, sizeof evs[k].type, "%s", k ? "heatmap:updated" : "issue:updated");
		snprintf(evs[k].org_id, sizeof evs[k].org_id, "org-order");
		evs[k].issue_id = s + 1;
		evs[k].payload = json_object_new_object();
		json_object_object_add(evs[k].payload, "w", json_object_new_int(w));
		json_object_object_add(evs[k].payload, "s", json_object_new_int(s));
		json_object_object_add(evs[k].payload, "k", json_object_new_int((int)k));
	}
	rc = ciis_event_append(db, evs, n, err);
	for (size_t k = 0; k < n; k++) {
		ids[k] = evs[k].id;
		ciis_event_cleanup(&evs[k]);
	}
	return rc;
}

/* ---- the tailing reader ------------------------------------------------ */

struct seen {
	int64_t id;
	int w, s, k;
};

struct tail {
	struct ciis_db *db;
	int64_t last;		/* highest id seen */
	struct seen *log;	/* everything seen, in the order read */
	size_t n, cap;
	long gaps;		/* an id other than last + 1 arrived */
	long backwards;		/* an id <= last arrived */
	long errors;
	long live_polls;	/* non-empty polls while writers were still running */
};

static int
marker(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int(v) : -1;
}

/* One poll: read what follows t->last and check each id is last + 1.
 * Returns the number of events read, -1 on a database error. */
static int
tail_poll(struct tail *t)
{
	struct ciis_event *evs = NULL;
	struct ciis_err err = { 0 };
	size_t n = 0;

	if (ciis_event_read(t->db, t->last, READ_BATCH, &evs, &n, NULL, &err) != 0) {
		t->errors++;
		printf("# reader: %s\n", err.message);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (evs[i].id <= t->last) {
			t->backwards++;
			printf("# reader: id %lld after %lld\n", (long long)evs[i].id, (long long)t->last);
		} else if (evs[i].id != t->last + 1) {
			t->gaps++;
			printf("# reader: gap: %lld follows %lld\n", (long long)evs[i].id, (long long)t->last);
		}
		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 1024;
			t->log = realloc(t->log, t->cap * sizeof *t->log);
			if (t->log == NULL)
				abort();
		}
		t->log[t->n++] = (struct seen){ evs[i].id, marker(evs[i].payload, "w"),
			marker(evs[i].payload, "s"), marker(evs[i].payload, "k") };
		if (evs[i].id > t->last)
			t->last = evs[i].id;
	}
	ciis_event_free_array(evs, n);
	return (int)n;
}

/* Poll until a poll returns nothing; the position of the first new entry. */
static size_t
tail_drain(struct tail *t)
{
	size_t from = t->n;

	while (tail_poll(t) > 0)
		;
	return from;
}

static int
tail_clean(const struct tail *t)
{
	return t->gaps == 0 && t->backwards == 0 && t->errors == 0;
}

/* ---- scenarios ---------------------------------------------------------- */

/* The hazard itself, with a plain auto-increment table: shows that the
 * interleaving below does lose an event when ids are not commit-ordered, so
 * the same checks on the real log mean something. */
static void
control_autoincrement(void)
{
	static const char ins[] = "INSERT INTO order_naive (w) VALUES (?)";
	static const char sel[] = "SELECT id FROM order_naive WHERE id > ? ORDER BY id";
	struct ciis_db *a = open_db(), *b = open_db(), *r = open_db();
	struct ciis_param pa[] = { CIIS_PI64(1) }, pb[] = { CIIS_PI64(2) }, pr[1];
	struct ciis_rows rows;
	struct ciis_err err = { 0 };
	uint64_t ida = 0, idb = 0;
	int64_t last = 0;
	size_t after;

	must(ciis_db_begin(a, &err), "begin", &err);
	must(ciis_db_exec(a, ins, pa, 1, NULL, &ida, &err), "insert A", &err);
	must(ciis_db_begin(b, &err), "begin", &err);
	must(ciis_db_exec(b, ins, pb, 1, NULL, &idb, &err), "insert B", &err);
	must(ciis_db_commit(b, &err), "commit B", &err);
	pr[0] = CIIS_PI64(0);
	must(ciis_db_query(r, sel, pr, 1, &rows, &err), "select", &err);
	if (rows.nrows > 0)
		last = ciis_rows_i64(&rows, rows.nrows - 1, 0);
	ciis_rows_free(&rows);
	must(ciis_db_commit(a, &err), "commit A", &err);
	pr[0] = CIIS_PI64(last);
	must(ciis_db_query(r, sel, pr, 1, &rows, &err), "select", &err);
	after = rows.nrows;
	ciis_rows_free(&rows);
	report(ida < idb && last == (int64_t)idb && after == 0,
	    "control: with auto-increment ids, A takes %llu, B %llu, B commits first, "
	    "a reader at id %lld never sees A's row (%zu rows after it)",
	    (unsigned long long)ida, (unsigned long long)idb, (long long)last, after);
	ciis_db_close(a);
	ciis_db_close(b);
	ciis_db_close(r);
}

/* ARCHITECTURE.md: A changes first, B begins later, appends and commits while
 * A is open; then A appends and commits.  B's event first, then A's, no gap. */
static void
scenario_b_overtakes(struct tail *t)
{
	struct ciis_db *a = open_db(), *b = open_db();
	struct ciis_err err = { 0 };
	int64_t base, ida[2], idb[1];
	size_t from;

	tail_drain(t);
	base = t->last;
	must(ciis_db_begin(a, &err), "begin A", &err);
	change_row(a, 1);
	must(ciis_db_begin(b, &err), "begin B", &err);
	change_row(b, 2);
	must(append_marked(b, 1002, 0, 1, idb, &err), "append B", &err);
	must(ciis_db_commit(b, &err), "commit B", &err);

	from = tail_drain(t);
	report(t->n - from == 1 && t->log[from].w == 1002 && t->log[from].id == base + 1,
	    "A open, B appended and committed: reader sees B's event alone, id %lld = last + 1",
	    (long long)(t->n > from ? t->log[from].id : -1));

	must(append_marked(a, 1001, 0, 2, ida, &err), "append A", &err);
	from = tail_drain(t);
	report(t->n == from, "A appended, not committed: reader sees nothing new");
	must(ciis_db_commit(a, &err), "commit A", &err);

	from = tail_drain(t);
	report(t->n - from == 2 && t->log[from].w == 1001 && t->log[from + 1].w == 1001 &&
	    t->log[from].id == base + 2 && t->log[from + 1].id == base + 3,
	    "A committed: reader sees A's 2 events next, ids %lld, %lld (B had %lld)",
	    (long long)ida[0], (long long)ida[1], (long long)idb[0]);
	report(tail_clean(t), "reader: no gap, nothing out of order so far");
	ciis_db_close(a);
	ciis_db_close(b);
}

struct blocked_b {
	pthread_t th;
	atomic_int appended;
	double t_begin, t_appended;
	int64_t id;
	int rc;
	struct ciis_err err;
};

static void *
blocked_b_run(void *arg)
{
	struct blocked_b *bb = arg;
	struct ciis_db *b = open_db();

	bb->rc = ciis_db_begin(b, &bb->err);
	if (bb->rc == 0) {
		change_row(b, 4);
		bb->t_begin = now_s();
		bb->rc = append_marked(b, 2002, 0, 1, &bb->id, &bb->err);
		bb->t_appended = now_s();
		atomic_store(&bb->appended, 1);
	}
	if (bb->rc == 0)
		bb->rc = ciis_db_commit(b, &bb->err);
	ciis_db_close(b);
	ciis_db_thread_end();
	return NULL;
}

/* A appends first and stays open: B's append must wait for A's commit and
 * then get the next id. */
static void
scenario_b_waits(struct tail *t)
{
	struct ciis_db *a = open_db();
	struct ciis_err err = { 0 };
	struct blocked_b bb;
	int64_t base, ida[1];
	double t_commit, deadline;
	size_t from;
	int blocked;

	memset(&bb, 0, sizeof bb);
	tail_drain(t);
	base = t->last;
	must(ciis_db_begin(a, &err), "begin A", &err);
	change_row(a, 3);
	must(append_marked(a, 2001, 0, 1, ida, &err), "append A", &err);
	if (pthread_create(&bb.th, NULL, blocked_b_run, &bb) != 0)
		fatal("pthread_create", NULL);
	sleep_us(800000);
	blocked = !atomic_load(&bb.appended);
	report(blocked, "A appended (id %lld) and is open: B's append is still blocked after 0.8 s",
	    (long long)ida[0]);
	from = tail_drain(t);
	report(t->n == from, "reader sees neither A's nor B's uncommitted event");
	t_commit = now_s();
	must(ciis_db_commit(a, &err), "commit A", &err);
	deadline = now_s() + 10;
	while (!atomic_load(&bb.appended) && now_s() < deadline)
		sleep_us(1000);
	pthread_join(bb.th, NULL);
	report(bb.rc == 0, "B's transaction committed%s%s", bb.rc ? ": " : "", bb.rc ? bb.err.message : "");
	report(bb.rc == 0 && bb.t_appended >= t_commit,
	    "B's append returned %.3f s after it began, %.3f s after A's COMMIT was sent",
	    bb.t_appended - bb.t_begin, bb.t_appended - t_commit);
	report(ida[0] == base + 1 && bb.id == ida[0] + 1, "B got the next id: A %lld, B %lld",
	    (long long)ida[0], (long long)bb.id);
	from = tail_drain(t);
	report(t->n - from == 2 && t->log[from].w == 2001 && t->log[from + 1].w == 2002 &&
	    t->log[from].id == base + 1 && t->log[from + 1].id == base + 2,
	    "reader sees A's event, then B's, contiguous");
	ciis_db_close(a);
}

/* A rolled-back append gives its id back: the next committed event takes it. */
static void
scenario_rollback(struct tail *t)
{
	struct ciis_db *a = open_db(), *b = open_db();
	struct ciis_err err = { 0 };
	int64_t base, ida[2], idb[1];
	size_t from;

	tail_drain(t);
	base = t->last;
	must(ciis_db_begin(a, &err), "begin A", &err);
	change_row(a, 5);
	must(append_marked(a, 3001, 0, 2, ida, &err), "append A", &err);
	ciis_db_rollback(a);
	must(ciis_db_begin(b, &err), "begin B", &err);
	must(append_marked(b, 3002, 0, 1, idb, &err), "append B", &err);
	must(ciis_db_commit(b, &err), "commit B", &err);
	from = tail_drain(t);
	report(ida[0] == base + 1 && idb[0] == base + 1 && t->n - from == 1 &&
	    t->log[from].w == 3002 && t->log[from].id == base + 1,
	    "rolled-back A held id %lld; B then got %lld; reader sees only B's",
	    (long long)ida[0], (long long)idb[0]);
	ciis_db_close(a);
	ciis_db_close(b);
}

/* A process killed between append and COMMIT loses its event, and its id
 * goes to the next writer.  Call it while this process has no other threads. */
static void
scenario_killed(struct tail *t)
{
	struct ciis_db *b;
	struct ciis_err err = { 0 };
	int64_t base, idk = 0, idb[1];
	int fds[2], status;
	pid_t pid;
	size_t from;

	tail_drain(t);
	base = t->last;
	if (pipe(fds) != 0)
		fatal("pipe", NULL);
	fflush(stdout);
	if ((pid = fork()) < 0)
		fatal("fork", NULL);
	if (pid == 0) {
		/* a new connection of its own; the parent's are never touched here */
		struct ciis_db *k = ciis_db_open(&conf, &err);
		int64_t id = -1;

		close(fds[0]);
		if (k != NULL && ciis_db_begin(k, &err) == 0) {
			change_row(k, 6);
			if (append_marked(k, 4001, 0, 1, &id, &err) != 0)
				id = -1;
		}
		if (write(fds[1], &id, sizeof id) != (ssize_t)sizeof id)
			_exit(2);
		for (;;)
			pause();
	}
	close(fds[1]);
	if (read(fds[0], &idk, sizeof idk) != (ssize_t)sizeof idk)
		idk = -1;
	close(fds[0]);
	from = tail_drain(t);
	report(idk == base + 1 && t->n == from,
	    "child appended id %lld and is open: reader sees nothing", (long long)idk);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	b = open_db();
	must(ciis_db_begin(b, &err), "begin B", &err);
	must(append_marked(b, 4002, 0, 1, idb, &err), "append B", &err);
	must(ciis_db_commit(b, &err), "commit B", &err);
	from = tail_drain(t);
	report(idb[0] == idk && t->n - from == 1 && t->log[from].w == 4002,
	    "child killed with SIGKILL before COMMIT: its event is gone, "
	    "the next append took its id %lld, reader sees only that one", (long long)idb[0]);
	ciis_db_close(b);
}

/* ---- stress ------------------------------------------------------------- */

enum { T_PENDING, T_COMMITTED, T_ROLLED_BACK, T_FAILED };

struct txn {
	int state;
	int nev;
	int64_t ids[2];
	int seen[2];
};

struct writer {
	pthread_t th;
	int w;
	int ntxn;
	struct txn *txns;
	long failed;
};

static atomic_int writers_done;
static atomic_llong reader_stop_at;	/* the reader stops once it has seen this id */

static void *
writer_run(void *arg)
{
	struct writer *wr = arg;
	struct ciis_db *db = open_db();
	unsigned seed = 0x9e3779b9u * (unsigned)(wr->w + 1);

	for (int s = 0; s < wr->ntxn; s++) {
		struct txn *tx = &wr->txns[s];
		struct ciis_err err = { 0 };

		tx->nev = 1 + (int)(rand_r(&seed) % 2);
		if (ciis_db_begin(db, &err) != 0)
			goto failed;
		change_row(db, 1 + (int)(rand_r(&seed) % ROWS));
		sleep_us(rand_r(&seed) % 500);		/* others change and append meanwhile */
		if (append_marked(db, wr->w, s, (size_t)tx->nev, tx->ids, &err) != 0)
			goto failed;
		sleep_us(rand_r(&seed) % 2000);	/* open between append and commit */
		if (rand_r(&seed) % 10 == 0) {
			ciis_db_rollback(db);
			tx->state = T_ROLLED_BACK;
			continue;
		}
		if (ciis_db_commit(db, &err) != 0)
			goto failed;
		tx->state = T_COMMITTED;
		continue;
failed:
		printf("# writer %d txn %d: %s\n", wr->w, s, err.message);
		ciis_db_rollback(db);
		tx->state = T_FAILED;
		wr->failed++;
	}
	ciis_db_close(db);
	ciis_db_thread_end();
	return NULL;
}

static void *
reader_run(void *arg)
{
	struct tail *t = arg;

	for (;;) {
		int done = atomic_load(&writers_done);
		int n = tail_poll(t);

		if (n > 0 && !done)
			t->live_polls++;
		if (atomic_load(&writers_done) && t->last >= atomic_load(&reader_stop_at) && n == 0)
			break;
		if (n <= 0)
			sleep_us(1000);		/* like tail.poll_ms, but tighter */
	}
	ciis_db_thread_end();
	return NULL;
}

/* Match what the reader saw against what the writers committed. */
static void
stress_verify(struct writer *wr, int nwriters, int ntxn, const struct tail *t,
    int64_t base, int64_t final, double secs)
{
	long committed = 0, rolled = 0, failed = 0, events = 0, unknown = 0, dup = 0,
	    ghost = 0, wrong_id = 0, missing = 0;

	for (int i = 0; i < nwriters; i++) {
		for (int s = 0; s < ntxn; s++) {
			struct txn *tx = &wr[i].txns[s];

			committed += tx->state == T_COMMITTED;
			rolled += tx->state == T_ROLLED_BACK;
			failed += tx->state == T_FAILED;
			if (tx->state == T_COMMITTED)
				events += tx->nev;
		}
	}
	for (size_t j = 0; j < t->n; j++) {
		const struct seen *e = &t->log[j];
		struct txn *tx;

		if (e->w < 0 || e->w >= nwriters || e->s < 0 || e->s >= ntxn || e->k < 0 || e->k > 1) {
			unknown++;
			continue;
		}
		tx = &wr[e->w].txns[e->s];
		if (tx->state != T_COMMITTED || e->k >= tx->nev)
			ghost++;
		else if (tx->seen[e->k]++)
			dup++;
		else if (tx->ids[e->k] != e->id)
			wrong_id++;
	}
	for (int i = 0; i < nwriters; i++)
		for (int s = 0; s < ntxn; s++)
			for (int k = 0; k < wr[i].txns[s].nev; k++)
				missing += wr[i].txns[s].state == T_COMMITTED && !wr[i].txns[s].seen[k];

	printf("# stress: %d writers x %d txns in %.1f s: %ld committed (%ld events), "
	    "%ld rolled back, %ld failed; reader read %zu events, ids %lld..%lld\n",
	    nwriters, ntxn, secs, committed, events, rolled, failed, t->n,
	    (long long)base + 1, (long long)t->last);
	report(failed == 0, "stress: no transaction failed (%ld)", failed);
	report(t->live_polls > 10, "stress: the reader tailed while writers ran (%ld non-empty polls)",
	    t->live_polls);
	report(rolled > 0, "stress: some transactions rolled back after appending (%ld)", rolled);
	report(t->errors == 0, "stress: reader had no database errors (%ld)", t->errors);
	report(t->backwards == 0, "stress: ids strictly increasing as read (%ld out of order)", t->backwards);
	report(t->gaps == 0, "stress: reader never saw a gap while tailing (%ld)", t->gaps);
	report(ghost == 0 && unknown == 0,
	    "stress: no rolled-back or unknown event read (%ld rolled back, %ld unknown)", ghost, unknown);
	report(dup == 0, "stress: every event read once (%ld duplicates)", dup);
	report(missing == 0 && (long)t->n == events,
	    "stress: reader's set = committed set (%zu read, %ld committed, %ld missing)",
	    t->n, events, missing);
	report(wrong_id == 0, "stress: each event has the id its append returned (%ld differ)", wrong_id);
	report(final == base + events && t->last == final && (t->n == 0 || t->log[0].id == base + 1),
	    "stress: ids contiguous %lld..%lld, rolled-back ids given back (counter at %lld)",
	    (long long)base + 1, (long long)base + events, (long long)final);

}

static void
stress(int nwriters, int ntxn)
{
	struct writer *wr = calloc((size_t)nwriters, sizeof *wr);
	struct tail t = { 0 };
	struct ciis_err err = { 0 };
	pthread_t reader;
	int64_t base, final = 0;
	double t0;

	t.db = open_db();
	tail_drain(&t);
	base = t.last;
	t.n = 0;
	atomic_store(&writers_done, 0);
	atomic_store(&reader_stop_at, INT64_MAX);
	t0 = now_s();
	if (pthread_create(&reader, NULL, reader_run, &t) != 0)
		fatal("pthread_create", NULL);
	for (int i = 0; i < nwriters; i++) {
		wr[i].w = i;
		wr[i].ntxn = ntxn;
		wr[i].txns = calloc((size_t)ntxn, sizeof *wr[i].txns);
		if (pthread_create(&wr[i].th, NULL, writer_run, &wr[i]) != 0)
			fatal("pthread_create", NULL);
	}
	for (int i = 0; i < nwriters; i++)
		pthread_join(wr[i].th, NULL);
	{
		struct ciis_db *db = open_db();

		must(ciis_event_last_id(db, &final, &err), "last id", &err);
		ciis_db_close(db);
	}
	atomic_store(&reader_stop_at, final);
	atomic_store(&writers_done, 1);
	pthread_join(reader, NULL);

	stress_verify(wr, nwriters, ntxn, &t, base, final, now_s() - t0);
	for (int i = 0; i < nwriters; i++)
		free(wr[i].txns);
	free(wr);
	free(t.log);
	ciis_db_close(t.db);
}

/* ---- setup -------------------------------------------------------------- */

static const char setup_sql[] =
    "CREATE TABLE IF NOT EXISTS order_rows (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB;"
    "DELETE FROM order_rows;"
    "INSERT INTO order_rows VALUES (1,0),(2,0),(3,0),(4,0),(5,0),(6,0),(7,0),(8,0),"
    "(9,0),(10,0),(11,0),(12,0),(13,0),(14,0),(15,0),(16,0);"
    "CREATE TABLE IF NOT EXISTS order_naive (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,"
    " w INT NOT NULL) ENGINE=InnoDB;"
    "DELETE FROM order_naive;";

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? strdup(v) : NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: event_order -S socket -u user [-p password] -d database "
	    "[-w writers] [-n txns-per-writer]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *user = NULL, *pw = "", *name = NULL;
	int writers = 8, ntxn = 300, c;
	struct tail t = { 0 };
	struct ciis_err err = { 0 };
	struct ciis_db *setup;

	while ((c = getopt(argc, argv, "S:u:p:d:w:n:")) != -1) {
		switch (c) {
		case 'S': sock = optarg; break;
		case 'u': user = optarg; break;
		case 'p': pw = optarg; break;
		case 'd': name = optarg; break;
		case 'w': writers = atoi(optarg); break;
		case 'n': ntxn = atoi(optarg); break;
		default: usage();
		}
	}
	if (sock == NULL || user == NULL || name == NULL || writers < 1 || ntxn < 1)
		usage();
	ciis_conf_defaults(&conf);
	set_str(&conf.db_socket, sock);
	set_str(&conf.db_user, user);
	set_str(&conf.db_password, pw);
	set_str(&conf.db_name, name);
	ciis_db_library_init();

	if ((setup = ciis_db_open(&conf, &err)) == NULL ||
	    ciis_db_script(setup, setup_sql, &err) != 0) {
		printf("ERROR: cannot set up the scratch tables: %s\n", err.message);
		return 99;
	}
	ciis_db_close(setup);

	t.db = open_db();
	control_autoincrement();
	scenario_b_overtakes(&t);
	scenario_b_waits(&t);
	scenario_rollback(&t);
	scenario_killed(&t);
	report(tail_clean(&t), "reader across the scenarios: %zu events, no gap, none out of order", t.n);
	ciis_db_close(t.db);
	free(t.log);

	stress(writers, ntxn);

	printf("# %d check(s) failed\n", failures);
	ciis_conf_cleanup(&conf);
	ciis_db_thread_end();
	return failures ? 1 : 0;
}
