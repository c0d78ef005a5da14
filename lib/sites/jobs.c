/*
 * The job queue of the register's workers (vigia/jobs.h), on PostgreSQL.
 * Its own connection (it does not share store_pg.c's), its own table and
 * version, in the URI's current schema:
 *
 *   jobs_meta (key text PRIMARY KEY, value bigint)   ('jobs_schema_version')
 *   jobs      (id bigserial, input, flight ('' : the input's name),
 *              state 'queued' | 'running' | 'done' | 'dead', attempts,
 *              max_attempts (default 3), worker, lease_until timestamptz,
 *              last_error, created, updated), UNIQUE (input, flight)
 *
 * jobs_meta rather than the register's meta: the jobs table can be made
 * before the register and the register's open reads meta as its own.
 *
 * Migrations through vg__pg_migrate (pg_int.h, shared with store_pg.c): each in its own transaction under the same
 * transaction-scoped advisory lock (pg_advisory_xact_lock), the version read
 * again after taking it, so workers starting at once create the table once.
 *
 * Claim: one transaction, SELECT ... ORDER BY id FOR UPDATE SKIP LOCKED
 * LIMIT 1 over queued jobs and running ones whose lease ran out, then an
 * UPDATE of that row. Under READ COMMITTED a row that another claimer
 * changed and committed meanwhile is checked against the WHERE again
 * (PostgreSQL's recheck of locked rows), and a row another claimer holds is
 * skipped, so two claimers never get the same job and never wait for each
 * other. Lease arithmetic uses the server's now() only.
 *
 * Statements are prepared once per connection; parameters and results are
 * text (ids and small integers only: nothing depends on the locale).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pg_int.h"

#include "vigia/jobs.h"

#define JOBS_SCHEMA_VERSION 1
#define JOBS_MAX_PARAMS 4
/* Most jobs one list returns (each vg_job is about 5 KiB). */
#define JOBS_LIST_MAX ((size_t)1 << 18)

struct vg_jobs {
  PGconn *conn;
};

static const char *const k_state[VG_JOB__COUNT] = {"queued", "running", "done", "dead"};

const char *vg_job_state_name(vg_job_state s)
{
  return (unsigned)s < VG_JOB__COUNT ? k_state[s] : "?";
}

static vg_job_state state_parse(const char *s)
{
  for (int i = 0; i < VG_JOB__COUNT; i++)
    if (!strcmp(s, k_state[i]))
      return (vg_job_state)i;
  return VG_JOB_DEAD;
}

/* VG_E_DB with what was being done and PostgreSQL's message on one line. */
static int jfail(vg_jobs *j, const PGresult *res, const char *what)
{
  return vg__pg_fail(j->conn, res, "postgresql jobs", what);
}

static int exec_sql(vg_jobs *j, const char *sql, const char *what)
{
  return vg__pg_exec(j->conn, sql, "postgresql jobs", what);
}

/* ---- statements ------------------------------------------------------------------------ */

#define JOB_COLS                                                                               \
  "id, input, flight, state, attempts, max_attempts, coalesce(worker, ''),"                   \
  " coalesce((extract(epoch FROM lease_until) * 1000000)::bigint, 0), coalesce(last_error, '')"

enum { Q_ADD, Q_FIND, Q_PICK, Q_TAKE, Q_BURY, Q_DONE, Q_FAIL, Q_BEAT, Q_COUNTS, Q_GET, Q_LIST, Q__COUNT };

static const struct {
  const char *name;
  int nparams;
  const char *sql;
} k_q[Q__COUNT] = {
    [Q_ADD] = {"vg_jobs_add", 2,
               "INSERT INTO jobs (input, flight) VALUES ($1, $2)"
               " ON CONFLICT (input, flight) DO NOTHING RETURNING id"},
    [Q_FIND] = {"vg_jobs_find", 2, "SELECT id FROM jobs WHERE input = $1 AND flight = $2"},
    [Q_PICK] = {"vg_jobs_pick", 0,
                "SELECT " JOB_COLS " FROM jobs"
                " WHERE state = 'queued' OR (state = 'running' AND lease_until < now())"
                " ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1"},
    /* $1 id, $2 worker, $3 lease (s), $4 last_error to keep. */
    [Q_TAKE] = {"vg_jobs_take", 4,
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $2,"
                " lease_until = now() + make_interval(secs => $3::int), last_error = $4,"
                " updated = now() WHERE id = $1"
                " RETURNING attempts,"
                " (extract(epoch FROM lease_until) * 1000000)::bigint"},
    [Q_BURY] = {"vg_jobs_bury", 2,
                "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = $2,"
                " updated = now() WHERE id = $1"},
    [Q_DONE] = {"vg_jobs_done", 1,
                "UPDATE jobs SET state = 'done', lease_until = NULL, updated = now()"
                " WHERE id = $1 AND state = 'running' RETURNING id"},
    [Q_FAIL] = {"vg_jobs_fail", 2,
                "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead'"
                " ELSE 'queued' END, lease_until = NULL, last_error = $2, updated = now()"
                " WHERE id = $1 AND state = 'running' RETURNING state"},
    [Q_BEAT] = {"vg_jobs_beat", 2,
                "UPDATE jobs SET lease_until = now() + make_interval(secs => $2::int),"
                " updated = now() WHERE id = $1 AND state = 'running' RETURNING id"},
    [Q_COUNTS] = {"vg_jobs_counts", 0, "SELECT state, count(*) FROM jobs GROUP BY state"},
    [Q_GET] = {"vg_jobs_get", 1, "SELECT " JOB_COLS " FROM jobs WHERE id = $1"},
    [Q_LIST] = {"vg_jobs_list", 1, "SELECT " JOB_COLS " FROM jobs ORDER BY id LIMIT $1"},
};

/* Runs prepared statement q with text parameters; *res on success (PQclear it). */
static int run(vg_jobs *j, int q, const char *const *params, const char *what, PGresult **res)
{
  PGresult *r = PQexecPrepared(j->conn, k_q[q].name, k_q[q].nparams, params, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    int rc = jfail(j, r, what);
    PQclear(r);
    return rc;
  }
  *res = r;
  return VG_OK;
}

static int prepare_all(vg_jobs *j)
{
  for (int i = 0; i < Q__COUNT; i++) {
    PGresult *r = PQprepare(j->conn, k_q[i].name, k_q[i].sql, k_q[i].nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      char what[96];
      int rc;
      snprintf(what, sizeof what, "preparing %s", k_q[i].name);
      rc = jfail(j, r, what);
      PQclear(r);
      return rc;
    }
    PQclear(r);
  }
  return VG_OK;
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void col_str(const PGresult *r, int row, int col, char *out, size_t cap)
{
  snprintf(out, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

static void row_job(const PGresult *r, int row, vg_job *o)
{
  char st[16];
  memset(o, 0, sizeof *o);
  o->id = col_i64(r, row, 0);
  col_str(r, row, 1, o->input, sizeof o->input);
  col_str(r, row, 2, o->flight, sizeof o->flight);
  col_str(r, row, 3, st, sizeof st);
  o->state = state_parse(st);
  o->attempts = (int)col_i64(r, row, 4);
  o->max_attempts = (int)col_i64(r, row, 5);
  col_str(r, row, 6, o->worker, sizeof o->worker);
  o->lease_until_us = col_i64(r, row, 7);
  col_str(r, row, 8, o->last_error, sizeof o->last_error);
}

/* ---- schema ---------------------------------------------------------------------------- */

static const char *const k_migrations[JOBS_SCHEMA_VERSION] = {
    "CREATE TABLE jobs_meta (key text PRIMARY KEY, value bigint NOT NULL);"
    "CREATE TABLE jobs ("
    " id bigserial PRIMARY KEY,"
    " input text NOT NULL,"
    " flight text NOT NULL DEFAULT '',"
    " state text NOT NULL DEFAULT 'queued'"
    "  CHECK (state IN ('queued', 'running', 'done', 'dead')),"
    " attempts integer NOT NULL DEFAULT 0,"
    " max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),"
    " worker text,"
    " lease_until timestamptz,"
    " last_error text,"
    " created timestamptz NOT NULL DEFAULT now(),"
    " updated timestamptz NOT NULL DEFAULT now(),"
    " UNIQUE (input, flight));"
    "CREATE INDEX jobs_claimable ON jobs (id) WHERE state IN ('queued', 'running');",
};

static const vg__pg_schema k_schema = {
  .ctx = "postgresql jobs",
  .meta_table = "jobs_meta",
  .version_key = "jobs_schema_version",
  .not_ours = "jobs_meta has no jobs_schema_version",
  .steps = k_migrations,
  .nsteps = JOBS_SCHEMA_VERSION,
  .before_first = NULL,
};

/* ---- the API --------------------------------------------------------------------------- */

int vg_jobs_open(vg_jobs **out, const char *uri)
{
  vg_jobs *j;
  int rc;
  if (!out || !uri)
    return vg_error_set(VG_E_INVALID, "vg_jobs_open: NULL argument");
  if (strncmp(uri, "postgresql://", 13) != 0 && strncmp(uri, "postgres://", 11) != 0)
    return vg_error_set(VG_E_UNSUPPORTED,
                        "the job queue needs a PostgreSQL register (postgresql://...), not '%s'",
                        uri);
  if (!(j = calloc(1, sizeof *j)))
    return vg_error_set(VG_E_NOMEM, "job queue");
  if ((rc = vg__pg_connect(uri, "postgresql jobs", "jobs", &j->conn)) != VG_OK) {
    free(j);
    return rc;
  }
  if ((rc = vg__pg_migrate(j->conn, &k_schema)) != VG_OK)
    goto done;
  rc = prepare_all(j);
done:
  if (rc != VG_OK) {
    vg_jobs_close(j);
    return rc;
  }
  *out = j;
  return VG_OK;
}

void vg_jobs_close(vg_jobs *j)
{
  if (!j)
    return;
  PQfinish(j->conn);
  free(j);
}

int vg_jobs_add(vg_jobs *j, const char *input, const char *flight, int64_t *id, int *added)
{
  const char *p[2];
  PGresult *r = NULL;
  int rc, fresh;
  if (!j || !input || !*input)
    return vg_error_set(VG_E_INVALID, "vg_jobs_add: no input");
  if (strlen(input) > VG_JOBS_INPUT_MAX)
    return vg_error_set(VG_E_LIMIT, "job input longer than %d bytes", VG_JOBS_INPUT_MAX);
  if (flight && strlen(flight) > VG_SITES_NAME_MAX)
    return vg_error_set(VG_E_LIMIT, "flight name longer than %d bytes", VG_SITES_NAME_MAX);
  p[0] = input;
  p[1] = flight ? flight : "";
  if ((rc = run(j, Q_ADD, p, "queueing a job", &r)) != VG_OK)
    return rc;
  fresh = PQntuples(r) == 1;
  if (!fresh) {
    PQclear(r);
    if ((rc = run(j, Q_FIND, p, "finding a queued job", &r)) != VG_OK)
      return rc;
    if (PQntuples(r) != 1) {
      PQclear(r);
      return vg_error_set(VG_E_DB, "postgresql jobs: job '%s' vanished while queued", input);
    }
  }
  if (id)
    *id = col_i64(r, 0, 0);
  if (added)
    *added = fresh;
  PQclear(r);
  return VG_OK;
}

int vg_jobs_claim(vg_jobs *j, const char *worker, int lease_s, vg_job *job)
{
  int rc;
  if (!j || !worker || !job)
    return vg_error_set(VG_E_INVALID, "vg_jobs_claim: NULL argument");
  if (lease_s < 1 || lease_s > VG_JOBS_LEASE_MAX)
    return vg_error_set(VG_E_RANGE, "lease of %d s: want 1..%d", lease_s, VG_JOBS_LEASE_MAX);
  if ((rc = exec_sql(j, "BEGIN", "beginning a claim")) != VG_OK)
    return rc;
  for (;;) {
    PGresult *r = NULL;
    vg_job c;
    char id[24], lease[16], err[VG_JOBS_ERROR_MAX + 1];
    const char *p[4];
    int expired;
    if ((rc = run(j, Q_PICK, NULL, "looking for a job", &r)) != VG_OK)
      goto fail;
    if (PQntuples(r) == 0) {
      PQclear(r);
      rc = exec_sql(j, "COMMIT", "ending a claim");
      return rc == VG_OK ? vg_error_set(VG_E_NOTFOUND, "no job to claim") : rc;
    }
    row_job(r, 0, &c);
    PQclear(r);
    expired = c.state == VG_JOB_RUNNING;
    if (expired) {
      /* Its worker stopped without a word (killed, machine lost): that is its error. */
      int len;
      if (c.last_error[0])
        len = snprintf(err, sizeof err, "lease of worker %.127s ran out in attempt %d (before: %.700s)",
                       c.worker, c.attempts, c.last_error);
      else
        len = snprintf(err, sizeof err, "lease of worker %s ran out in attempt %d", c.worker,
                       c.attempts);
      (void)len; /* the error before is cut to fit: its start says what happened */
    } else {
      snprintf(err, sizeof err, "%s", c.last_error);
    }
    snprintf(id, sizeof id, "%lld", (long long)c.id);
    p[0] = id;
    if (c.attempts >= c.max_attempts) {
      p[1] = err;
      if ((rc = run(j, Q_BURY, p, "moving a job to dead", &r)) != VG_OK)
        goto fail;
      PQclear(r);
      vg_log(VG_LOG_WARN, "jobs", "job %lld (%s) is dead after %d attempts: %s", (long long)c.id,
             c.input, c.attempts, err);
      continue;
    }
    snprintf(lease, sizeof lease, "%d", lease_s);
    p[1] = worker;
    p[2] = lease;
    p[3] = err[0] ? err : NULL;
    if ((rc = run(j, Q_TAKE, p, "claiming a job", &r)) != VG_OK)
      goto fail;
    if (PQntuples(r) != 1) {
      PQclear(r);
      rc = vg_error_set(VG_E_DB, "postgresql jobs: claimed job %lld vanished", (long long)c.id);
      goto fail;
    }
    c.state = VG_JOB_RUNNING;
    c.attempts = (int)col_i64(r, 0, 0);
    c.lease_until_us = col_i64(r, 0, 1);
    snprintf(c.worker, sizeof c.worker, "%s", worker);
    snprintf(c.last_error, sizeof c.last_error, "%s", err);
    PQclear(r);
    if ((rc = exec_sql(j, "COMMIT", "committing a claim")) != VG_OK)
      return rc;
    *job = c;
    return VG_OK;
  }
fail:
  PQclear(PQexec(j->conn, "ROLLBACK"));
  return rc;
}

/* An UPDATE ... WHERE state = 'running' RETURNING ...: VG_E_NOTFOUND when it matched nothing. */
static int update_running(vg_jobs *j, int q, const char *const *p, int64_t id, const char *what,
                          PGresult **out)
{
  PGresult *r = NULL;
  int rc = run(j, q, p, what, &r);
  if (rc != VG_OK)
    return rc;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return vg_error_set(VG_E_NOTFOUND, "job %lld is not running", (long long)id);
  }
  if (out)
    *out = r;
  else
    PQclear(r);
  return VG_OK;
}

int vg_jobs_done(vg_jobs *j, int64_t id)
{
  char s[24];
  const char *p[1] = {s};
  if (!j)
    return vg_error_set(VG_E_INVALID, "vg_jobs_done: NULL");
  snprintf(s, sizeof s, "%lld", (long long)id);
  return update_running(j, Q_DONE, p, id, "marking a job done", NULL);
}

int vg_jobs_fail(vg_jobs *j, int64_t id, const char *error, int *dead)
{
  char s[24], e[VG_JOBS_ERROR_MAX + 1];
  const char *p[2] = {s, e};
  PGresult *r = NULL;
  int rc;
  if (!j)
    return vg_error_set(VG_E_INVALID, "vg_jobs_fail: NULL");
  snprintf(s, sizeof s, "%lld", (long long)id);
  snprintf(e, sizeof e, "%s", error && *error ? error : "failed (no message)");
  if ((rc = update_running(j, Q_FAIL, p, id, "marking a job failed", &r)) != VG_OK)
    return rc;
  if (dead)
    *dead = !strcmp(PQgetvalue(r, 0, 0), "dead");
  PQclear(r);
  return VG_OK;
}

int vg_jobs_heartbeat(vg_jobs *j, int64_t id, int lease_s)
{
  char s[24], l[16];
  const char *p[2] = {s, l};
  if (!j)
    return vg_error_set(VG_E_INVALID, "vg_jobs_heartbeat: NULL");
  if (lease_s < 1 || lease_s > VG_JOBS_LEASE_MAX)
    return vg_error_set(VG_E_RANGE, "lease of %d s: want 1..%d", lease_s, VG_JOBS_LEASE_MAX);
  snprintf(s, sizeof s, "%lld", (long long)id);
  snprintf(l, sizeof l, "%d", lease_s);
  return update_running(j, Q_BEAT, p, id, "extending a job's lease", NULL);
}

int vg_jobs_counts(vg_jobs *j, int64_t counts[VG_JOB__COUNT])
{
  PGresult *r = NULL;
  int rc;
  if (!j || !counts)
    return vg_error_set(VG_E_INVALID, "vg_jobs_counts: NULL");
  if ((rc = run(j, Q_COUNTS, NULL, "counting jobs", &r)) != VG_OK)
    return rc;
  for (int i = 0; i < VG_JOB__COUNT; i++)
    counts[i] = 0;
  for (int i = 0; i < PQntuples(r); i++)
    counts[state_parse(PQgetvalue(r, i, 0))] += col_i64(r, i, 1);
  PQclear(r);
  return VG_OK;
}

int vg_jobs_get(vg_jobs *j, int64_t id, vg_job *out)
{
  char s[24];
  const char *p[1] = {s};
  PGresult *r = NULL;
  int rc;
  if (!j || !out)
    return vg_error_set(VG_E_INVALID, "vg_jobs_get: NULL");
  snprintf(s, sizeof s, "%lld", (long long)id);
  if ((rc = run(j, Q_GET, p, "reading a job", &r)) != VG_OK)
    return rc;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return vg_error_set(VG_E_NOTFOUND, "no job %lld", (long long)id);
  }
  row_job(r, 0, out);
  PQclear(r);
  return VG_OK;
}

int vg_jobs_list(vg_jobs *j, size_t max, vg_job **out, size_t *n)
{
  char lim[24];
  const char *p[1] = {lim};
  PGresult *r = NULL;
  vg_job *v = NULL;
  size_t rows;
  int rc;
  if (!j || !out || !n)
    return vg_error_set(VG_E_INVALID, "vg_jobs_list: NULL");
  if (max == 0 || max > JOBS_LIST_MAX)
    max = JOBS_LIST_MAX + 1;
  snprintf(lim, sizeof lim, "%zu", max);
  if ((rc = run(j, Q_LIST, p, "listing jobs", &r)) != VG_OK)
    return rc;
  rows = (size_t)PQntuples(r);
  if (rows > JOBS_LIST_MAX) {
    PQclear(r);
    return vg_error_set(VG_E_LIMIT, "more than %zu jobs: ask for fewer", JOBS_LIST_MAX);
  }
  if (rows && !(v = malloc(rows * sizeof *v))) {
    PQclear(r);
    return vg_error_set(VG_E_NOMEM, "job list");
  }
  for (size_t i = 0; i < rows; i++)
    row_job(r, (int)i, &v[i]);
  PQclear(r);
  *out = v;
  *n = rows;
  return VG_OK;
}
