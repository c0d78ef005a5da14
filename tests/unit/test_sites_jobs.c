/*
 * The job queue (vigia/jobs.h) on PostgreSQL: add / claim / done, claim
 * order, SKIP LOCKED between claimers, fail -> queued -> dead after
 * max_attempts, a lease that runs out is claimed again (and a dead worker at
 * its last attempt makes the job dead). Then end to end with real `vigia
 * worker` processes (the binary built beside the tests, VG_TEST_VIGIA):
 * four workers drain a queue of real inputs with every observation stored
 * exactly once, and a worker SIGKILLed in the middle of a job (its first
 * frame already committed) has its job retried by another and done.
 *
 * Needs a PostgreSQL + PostGIS server: VIGIA_PG_URI (scripts/pg.sh starts
 * one). Unset, the tests are skipped, except under CI (CI=true): a failure.
 * Each test works in a schema of its own (search_path in the URI's
 * options), dropped at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "testutil.h"
#include "vigia/jobs.h"
#include "vigia/sites.h"

#ifndef VG_TEST_VIGIA
#error "VG_TEST_VIGIA: the path of the vigia binary (tests/CMakeLists.txt)"
#endif

typedef struct jobs_env {
  char schema[64];
  char uri[1024];
  char tmp[256]; /* a scratch directory */
  PGconn *admin;
} jobs_env;

static int64_t q_int(PGconn *c, const char *sql)
{
  PGresult *r = PQexec(c, sql);
  int64_t v = -1;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  else
    print_error("query %s: %s\n", sql, PQerrorMessage(c));
  PQclear(r);
  return v;
}

static int q_ok(PGconn *c, const char *sql)
{
  PGresult *r = PQexec(c, sql);
  ExecStatusType st = PQresultStatus(r);
  int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok)
    print_error("%s: %s\n", sql, PQerrorMessage(c));
  PQclear(r);
  return ok;
}

static int setup(void **state)
{
  static int serial;
  const char *base = getenv("VIGIA_PG_URI"), *ci = getenv("CI");
  jobs_env *env;
  char sql[512];
  if (!base || !*base) {
    if (ci && !strcmp(ci, "true")) {
      print_error("VIGIA_PG_URI is not set under CI: the job queue is untested "
                  "(scripts/pg.sh start)\n");
      return -1;
    }
    *state = NULL;
    return 0;
  }
  if (!(env = calloc(1, sizeof *env)))
    return -1;
  snprintf(env->schema, sizeof env->schema, "vg_test_jobs_%ld_%d", (long)getpid(), ++serial);
  snprintf(env->uri, sizeof env->uri, "%s%coptions=-csearch_path%%3D%s%%2Cpublic", base,
           strchr(base, '?') ? '&' : '?', env->schema);
  snprintf(env->tmp, sizeof env->tmp, "%s/vg_test_jobs_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(env->tmp)) {
    free(env);
    return -1;
  }
  env->admin = PQconnectdb(base);
  if (PQstatus(env->admin) != CONNECTION_OK) {
    print_error("connecting to VIGIA_PG_URI: %s\n", PQerrorMessage(env->admin));
    PQfinish(env->admin);
    free(env);
    return -1;
  }
  snprintf(sql, sizeof sql,
           "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s;"
           " SET search_path = %s, public",
           env->schema, env->schema, env->schema);
  if (!q_ok(env->admin, sql)) {
    PQfinish(env->admin);
    free(env);
    return -1;
  }
  *state = env;
  return 0;
}

static int teardown(void **state)
{
  jobs_env *env = *state;
  char sql[320];
  if (!env)
    return 0;
  snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", env->schema);
  PQclear(PQexec(env->admin, sql));
  PQfinish(env->admin);
  snprintf(sql, sizeof sql, "rm -rf '%s'", env->tmp);
  if (system(sql) != 0)
    print_error("could not remove %s\n", env->tmp);
  free(env);
  return 0;
}

#define NEED_PG(env)                                                                           \
  do {                                                                                         \
    if (!(env)) {                                                                              \
      print_message("VIGIA_PG_URI not set: job queue test skipped\n");                         \
      skip();                                                                                  \
    }                                                                                          \
  } while (0)

static void add_claim_done(void **state)
{
  jobs_env *env = *state;
  vg_jobs *j = NULL;
  vg_job job, a, b;
  int64_t ida = 0, idb = 0, id2 = 0, counts[VG_JOB__COUNT];
  int added = -1;
  NEED_PG(env);
  assert_int_equal(vg_jobs_open(&j, "/tmp/not-a-pg-register.db"), VG_E_UNSUPPORTED);
  assert_null(j);
  assert_int_equal(vg_jobs_open(&j, env->uri), VG_OK);
  assert_int_equal(vg_jobs_claim(j, "w1", 60, &job), VG_E_NOTFOUND);
  assert_int_equal(vg_jobs_add(j, "/data/a.ts", "fa", &ida, &added), VG_OK);
  assert_int_equal(added, 1);
  assert_int_equal(vg_jobs_add(j, "/data/b.ts", NULL, &idb, &added), VG_OK);
  assert_int_equal(added, 1);
  assert_true(idb > ida);
  /* Idempotent on (input, flight); another flight is another job. */
  assert_int_equal(vg_jobs_add(j, "/data/a.ts", "fa", &id2, &added), VG_OK);
  assert_int_equal(added, 0);
  assert_int_equal(id2, ida);
  assert_int_equal(vg_jobs_add(j, "/data/a.ts", "fb", &id2, &added), VG_OK);
  assert_int_equal(added, 1);
  assert_true(id2 > idb);

  /* Oldest first. */
  assert_int_equal(vg_jobs_claim(j, "w1", 60, &a), VG_OK);
  assert_int_equal(a.id, ida);
  assert_string_equal(a.input, "/data/a.ts");
  assert_string_equal(a.flight, "fa");
  assert_int_equal(a.state, VG_JOB_RUNNING);
  assert_int_equal(a.attempts, 1);
  assert_int_equal(a.max_attempts, VG_JOBS_MAX_ATTEMPTS);
  assert_string_equal(a.worker, "w1");
  assert_true(a.lease_until_us > 0);
  assert_int_equal(vg_jobs_claim(j, "w1", 60, &b), VG_OK);
  assert_int_equal(b.id, idb);
  assert_string_equal(b.flight, "");
  assert_int_equal(vg_jobs_claim(j, "w1", 60, &job), VG_OK);
  assert_int_equal(job.id, id2);
  assert_int_equal(vg_jobs_claim(j, "w1", 60, &job), VG_E_NOTFOUND);
  assert_int_equal(vg_jobs_claim(j, "w1", 0, &job), VG_E_RANGE);

  assert_int_equal(vg_jobs_done(j, ida), VG_OK);
  assert_int_equal(vg_jobs_done(j, ida), VG_E_NOTFOUND); /* not running any more */
  assert_int_equal(vg_jobs_heartbeat(j, idb, 120), VG_OK);
  assert_int_equal(vg_jobs_heartbeat(j, ida, 120), VG_E_NOTFOUND);
  assert_int_equal(vg_jobs_get(j, ida, &job), VG_OK);
  assert_int_equal(job.state, VG_JOB_DONE);
  assert_int_equal(vg_jobs_get(j, 999999, &job), VG_E_NOTFOUND);
  assert_int_equal(vg_jobs_counts(j, counts), VG_OK);
  assert_int_equal(counts[VG_JOB_QUEUED], 0);
  assert_int_equal(counts[VG_JOB_RUNNING], 2);
  assert_int_equal(counts[VG_JOB_DONE], 1);
  assert_int_equal(counts[VG_JOB_DEAD], 0);
  /* Adding a done job again does not requeue it. */
  assert_int_equal(vg_jobs_add(j, "/data/a.ts", "fa", &id2, &added), VG_OK);
  assert_int_equal(added, 0);
  assert_int_equal(vg_jobs_claim(j, "w1", 60, &job), VG_E_NOTFOUND);
  {
    vg_job *all = NULL;
    size_t n = 0;
    assert_int_equal(vg_jobs_list(j, 0, &all, &n), VG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(all[0].id, ida);
    assert_int_equal(all[0].state, VG_JOB_DONE);
    assert_int_equal(all[1].state, VG_JOB_RUNNING);
    free(all);
  }
  vg_jobs_close(j);
  /* Opening again (the table exists) is fine. */
  assert_int_equal(vg_jobs_open(&j, env->uri), VG_OK);
  vg_jobs_close(j);
}

/* While one claimer holds job 1's row (its claim transaction is open), two
 * other connections claim at once without waiting: jobs 2 and 3. */
static void skip_locked(void **state)
{
  jobs_env *env = *state;
  vg_jobs *j1 = NULL, *j2 = NULL;
  vg_job x, y;
  int64_t id[3];
  PGconn *holder;
  PGresult *r;
  NEED_PG(env);
  assert_int_equal(vg_jobs_open(&j1, env->uri), VG_OK);
  assert_int_equal(vg_jobs_open(&j2, env->uri), VG_OK);
  for (int i = 0; i < 3; i++) {
    char in[32];
    snprintf(in, sizeof in, "in%d.ts", i);
    assert_int_equal(vg_jobs_add(j1, in, "f", &id[i], NULL), VG_OK);
  }
  holder = PQconnectdb(env->uri);
  assert_int_equal(PQstatus(holder), CONNECTION_OK);
  /* A claimer that never finishes its transaction. The lock_timeout makes a claim that
   * waited (no SKIP LOCKED) fail instead of hanging the test. */
  assert_true(q_ok(holder, "BEGIN"));
  r = PQexec(holder, "SELECT id FROM jobs WHERE state = 'queued' ORDER BY id"
                     " FOR UPDATE SKIP LOCKED LIMIT 1");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_int_equal(strtoll(PQgetvalue(r, 0, 0), NULL, 10), id[0]);
  PQclear(r);
  assert_int_equal(vg_jobs_claim(j1, "w1", 60, &x), VG_OK);
  assert_int_equal(vg_jobs_claim(j2, "w2", 60, &y), VG_OK);
  assert_int_equal(x.id, id[1]);
  assert_int_equal(y.id, id[2]);
  assert_int_equal(vg_jobs_claim(j2, "w2", 60, &y), VG_E_NOTFOUND);
  /* The holder lets go without claiming: job 1 is there for the next. */
  assert_true(q_ok(holder, "ROLLBACK"));
  assert_int_equal(vg_jobs_claim(j2, "w2", 60, &y), VG_OK);
  assert_int_equal(y.id, id[0]);
  PQfinish(holder);
  vg_jobs_close(j1);
  vg_jobs_close(j2);
}

static void fail_then_dead(void **state)
{
  jobs_env *env = *state;
  vg_jobs *j = NULL;
  vg_job job;
  int64_t id = 0, counts[VG_JOB__COUNT];
  int dead = -1;
  NEED_PG(env);
  assert_int_equal(vg_jobs_open(&j, env->uri), VG_OK);
  assert_int_equal(vg_jobs_add(j, "bad.ts", NULL, &id, NULL), VG_OK);
  for (int k = 1; k <= VG_JOBS_MAX_ATTEMPTS; k++) {
    char err[32];
    assert_int_equal(vg_jobs_claim(j, "w", 60, &job), VG_OK);
    assert_int_equal(job.id, id);
    assert_int_equal(job.attempts, k);
    if (k > 1) /* the error before is there while it runs again */
      assert_non_null(strstr(job.last_error, "error"));
    snprintf(err, sizeof err, "error %d", k);
    assert_int_equal(vg_jobs_fail(j, id, err, &dead), VG_OK);
    assert_int_equal(dead, k == VG_JOBS_MAX_ATTEMPTS);
    assert_int_equal(vg_jobs_get(j, id, &job), VG_OK);
    assert_int_equal(job.state, k == VG_JOBS_MAX_ATTEMPTS ? VG_JOB_DEAD : VG_JOB_QUEUED);
    assert_string_equal(job.last_error, err);
  }
  assert_int_equal(vg_jobs_claim(j, "w", 60, &job), VG_E_NOTFOUND);
  assert_int_equal(vg_jobs_fail(j, id, "again", NULL), VG_E_NOTFOUND);
  assert_int_equal(vg_jobs_get(j, id, &job), VG_OK);
  assert_int_equal(job.attempts, VG_JOBS_MAX_ATTEMPTS);
  assert_string_equal(job.last_error, "error 3");
  assert_int_equal(vg_jobs_counts(j, counts), VG_OK);
  assert_int_equal(counts[VG_JOB_DEAD], 1);
  assert_int_equal(counts[VG_JOB_QUEUED] + counts[VG_JOB_RUNNING] + counts[VG_JOB_DONE], 0);
  vg_jobs_close(j);
}

static void sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* A lease that runs out is claimed again; a heartbeat keeps it; a worker lost
 * in its last attempt makes the job dead. */
static void lease_expiry(void **state)
{
  jobs_env *env = *state;
  vg_jobs *j = NULL;
  vg_job a, b;
  int64_t id = 0, id2 = 0;
  char sql[160];
  NEED_PG(env);
  assert_int_equal(vg_jobs_open(&j, env->uri), VG_OK);
  assert_int_equal(vg_jobs_add(j, "slow.ts", "f", &id, NULL), VG_OK);
  assert_int_equal(vg_jobs_claim(j, "w1", 1, &a), VG_OK);
  assert_int_equal(vg_jobs_claim(j, "w2", 1, &b), VG_E_NOTFOUND); /* lease holds */
  /* A heartbeat moves the lease on: after 1.2 s it still holds. */
  assert_int_equal(vg_jobs_heartbeat(j, id, 30), VG_OK);
  sleep_ms(1200);
  assert_int_equal(vg_jobs_claim(j, "w2", 1, &b), VG_E_NOTFOUND);
  /* w1 stops beating; its lease runs out (1 s) and w2 takes the job. */
  assert_int_equal(vg_jobs_heartbeat(j, id, 1), VG_OK);
  sleep_ms(1200);
  assert_int_equal(vg_jobs_claim(j, "w2", 60, &b), VG_OK);
  assert_int_equal(b.id, id);
  assert_int_equal(b.attempts, 2);
  assert_string_equal(b.worker, "w2");
  assert_non_null(strstr(b.last_error, "lease of worker w1 ran out"));
  assert_int_equal(vg_jobs_done(j, id), VG_OK);

  /* A worker lost in the last attempt: the job is dead at the next claim, the
   * lease's error kept after the one before. */
  assert_int_equal(vg_jobs_add(j, "lost.ts", "f", &id2, NULL), VG_OK);
  assert_int_equal(vg_jobs_claim(j, "w3", 60, &a), VG_OK);
  assert_int_equal(vg_jobs_fail(j, id2, "disk full", NULL), VG_OK);
  assert_int_equal(vg_jobs_claim(j, "w3", 60, &a), VG_OK);
  assert_int_equal(vg_jobs_fail(j, id2, "disk full", NULL), VG_OK);
  assert_int_equal(vg_jobs_claim(j, "w4", 60, &a), VG_OK);
  assert_int_equal(a.attempts, VG_JOBS_MAX_ATTEMPTS);
  snprintf(sql, sizeof sql, "UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = %lld",
           (long long)id2);
  assert_true(q_ok(env->admin, sql));
  assert_int_equal(vg_jobs_claim(j, "w5", 60, &b), VG_E_NOTFOUND);
  assert_int_equal(vg_jobs_get(j, id2, &b), VG_OK);
  assert_int_equal(b.state, VG_JOB_DEAD);
  assert_int_equal(b.attempts, VG_JOBS_MAX_ATTEMPTS);
  assert_non_null(strstr(b.last_error, "lease of worker w4 ran out in attempt 3"));
  assert_non_null(strstr(b.last_error, "disk full"));
  vg_jobs_close(j);
}

/* ---- end to end: real worker processes ------------------------------------------------- */

/* Runs VG_TEST_VIGIA with argv (NULL-terminated) in a child; returns its pid. Output to
 * log (appended) so a failure can be read. */
static pid_t spawn(const char *log, char *const argv[])
{
  pid_t pid;
  fflush(NULL);
  pid = fork();
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(VG_TEST_VIGIA, argv);
    _exit(127);
  }
  return pid;
}

static int wait_exit(pid_t pid)
{
  int status = 0;
  if (waitpid(pid, &status, 0) != pid)
    return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void dump(const char *log)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cat '%s' >&2", log);
  if (system(cmd) != 0)
    print_error("(no log %s)\n", log);
}

/* Observations that `vigia exploit` makes of one input under one flight, into a fresh
 * SQLite register: the expected count. */
static int64_t expected_obs(jobs_env *env, const char *input, const char *flight, int k)
{
  char db[320], log[320];
  vg_register *reg = NULL;
  int64_t ns = -1, no = -1;
  int rc;
  snprintf(db, sizeof db, "%s/expect%d.db", env->tmp, k);
  snprintf(log, sizeof log, "%s/expect.log", env->tmp);
  {
    char *const argv[] = {"vigia", "exploit", "-q", "--db", db, "--flight", (char *)flight,
                          (char *)input, NULL};
    rc = wait_exit(spawn(log, argv));
  }
  if (rc != 0) {
    dump(log);
    return -1;
  }
  if (vg_register_open(&reg, db) != VG_OK)
    return -1;
  vg_register_counts(reg, &ns, &no);
  vg_register_close(reg);
  return no;
}

#define NFLIGHTS 12
#define NWORKERS 4

static void four_workers(void **state)
{
  jobs_env *env = *state;
  char *clip, *dem;
  vg_jobs *j = NULL;
  int64_t want = 0, counts[VG_JOB__COUNT], per_clip, per_dem;
  pid_t pid[NWORKERS];
  char log[320], sql[256];
  NEED_PG(env);
  clip = VG_REQUIRE_DATA("fmv/aphill_klv_10s.ts");
  dem = VG_REQUIRE_DATA("geo/dem/N57E011.hgt");
  /* The flight name does not change what is detected: one reference run each. */
  per_clip = expected_obs(env, clip, "ref-clip", 0);
  per_dem = expected_obs(env, dem, "ref-dem", 1);
  assert_true(per_clip > 0);
  assert_true(per_dem > 0);
  assert_int_equal(vg_jobs_open(&j, env->uri), VG_OK);
  for (int i = 0; i < NFLIGHTS; i++) {
    char flight[32];
    snprintf(flight, sizeof flight, "aphill-%02d", i);
    assert_int_equal(vg_jobs_add(j, clip, flight, NULL, NULL), VG_OK);
    want += per_clip;
  }
  assert_int_equal(vg_jobs_add(j, dem, "dem-n57e011", NULL, NULL), VG_OK);
  want += per_dem;

  snprintf(log, sizeof log, "%s/workers.log", env->tmp);
  for (int w = 0; w < NWORKERS; w++) {
    char name[16];
    snprintf(name, sizeof name, "w%d", w);
    char *const argv[] = {"vigia", "worker", "--db", env->uri, "--name", name,
                          "--idle-exit", "2", NULL};
    pid[w] = spawn(log, argv);
    assert_true(pid[w] > 0);
  }
  for (int w = 0; w < NWORKERS; w++) {
    int rc = wait_exit(pid[w]);
    if (rc != 0)
      dump(log);
    assert_int_equal(rc, 0);
  }
  assert_int_equal(vg_jobs_counts(j, counts), VG_OK);
  if (counts[VG_JOB_DONE] != NFLIGHTS + 1)
    dump(log);
  assert_int_equal(counts[VG_JOB_DONE], NFLIGHTS + 1);
  assert_int_equal(counts[VG_JOB_QUEUED] + counts[VG_JOB_RUNNING] + counts[VG_JOB_DEAD], 0);
  assert_int_equal(q_int(env->admin, "SELECT count(*) FROM jobs WHERE attempts <> 1"), 0);
  /* Everything, each exactly once, each fused into a site. */
  assert_int_equal(q_int(env->admin, "SELECT count(*) FROM obs"), want);
  assert_int_equal(q_int(env->admin, "SELECT count(DISTINCT (flight, frame, detector, seq)) FROM obs"),
                   want);
  assert_int_equal(q_int(env->admin, "SELECT count(*) FROM obs WHERE site_id IS NULL"), 0);
  for (int i = 0; i < NFLIGHTS; i++) {
    snprintf(sql, sizeof sql, "SELECT count(*) FROM obs WHERE flight = 'aphill-%02d'", i);
    assert_int_equal(q_int(env->admin, sql), per_clip);
  }
  assert_int_equal(q_int(env->admin, "SELECT count(*) FROM obs WHERE flight = 'dem-n57e011'"), per_dem);
  /* More than one worker did work (the queue was shared, not drained by the first). */
  assert_true(q_int(env->admin, "SELECT count(DISTINCT worker) FROM jobs") >= 2);
  vg_jobs_close(j);
  free(clip);
  free(dem);
}

/* Feeds a file into a FIFO: all of it, or all but the last @p hold bytes and then keeps
 * the FIFO open (the reader waits) until killed. */
static pid_t feeder(const char *fifo, const char *file, long hold)
{
  pid_t pid;
  fflush(NULL);
  pid = fork();
  if (pid == 0) {
    uint8_t *buf = NULL;
    size_t len = 0, off = 0;
    int fd;
    if (vg_test_read_file(file, &buf, &len) != 0)
      _exit(1);
    if ((fd = open(fifo, O_WRONLY)) < 0) /* waits for the reader */
      _exit(2);
    len = hold > 0 && (size_t)hold < len ? len - (size_t)hold : len;
    while (off < len) {
      ssize_t w = write(fd, buf + off, len - off);
      if (w <= 0)
        _exit(3);
      off += (size_t)w;
    }
    if (hold > 0)
      for (;;)
        pause();
    close(fd);
    _exit(0);
  }
  return pid;
}

/* Polls until the query gives at least @p want, for at most @p ms. */
static int poll_until(PGconn *c, const char *sql, int64_t want, int ms)
{
  for (int t = 0; t < ms; t += 50) {
    if (q_int(c, sql) >= want)
      return 1;
    sleep_ms(50);
  }
  return 0;
}

static void killed_worker(void **state)
{
  jobs_env *env = *state;
  char *clip, fifo[320], log[320];
  vg_jobs *j = NULL;
  vg_job job;
  int64_t id = 0, per_clip;
  pid_t w1, w2, f1, f2;
  NEED_PG(env);
  clip = VG_REQUIRE_DATA("fmv/aphill_klv_10s.ts");
  per_clip = expected_obs(env, clip, "ref-clip", 2);
  assert_true(per_clip > 0);
  /* The input is a FIFO: the test decides how much of the clip a worker gets and when. */
  snprintf(fifo, sizeof fifo, "%s/live.ts", env->tmp);
  snprintf(log, sizeof log, "%s/killed.log", env->tmp);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_int_equal(vg_jobs_open(&j, env->uri), VG_OK);
  assert_int_equal(vg_jobs_add(j, fifo, "killed", &id, NULL), VG_OK);

  /* Worker 1 claims with a 2 s lease, gets all of the clip but its end, commits its first
   * frame's observations and waits for the rest: killed there, mid-job. */
  f1 = feeder(fifo, clip, 2048);
  {
    char *const argv[] = {"vigia", "worker", "--db", env->uri, "--name", "doomed", "--lease", "2",
                          "--once", NULL};
    w1 = spawn(log, argv);
  }
  assert_true(poll_until(env->admin, "SELECT count(*) FROM jobs WHERE state = 'running'", 1, 15000));
  if (!poll_until(env->admin, "SELECT count(*) FROM obs", 1, 15000))
    dump(log);
  assert_true(q_int(env->admin, "SELECT count(*) FROM obs") >= 1);
  assert_int_equal(kill(w1, SIGKILL), 0);
  assert_int_equal(wait_exit(w1), 128 + SIGKILL);
  kill(f1, SIGKILL);
  wait_exit(f1);
  assert_int_equal(vg_jobs_get(j, id, &job), VG_OK);
  assert_int_equal(job.state, VG_JOB_RUNNING);
  assert_int_equal(job.attempts, 1);

  /* Worker 2 finds nothing until the lease runs out, then takes the job again. */
  f2 = feeder(fifo, clip, 0);
  {
    char *const argv[] = {"vigia", "worker", "--db", env->uri, "--name", "rescuer", "--once",
                          "--idle-exit", "20", NULL};
    w2 = spawn(log, argv);
  }
  {
    int rc = wait_exit(w2);
    if (rc != 0) {
      dump(log);
      kill(f2, SIGKILL); /* it may still wait for a reader */
    }
    assert_int_equal(rc, 0);
  }
  assert_int_equal(wait_exit(f2), 0);
  assert_int_equal(vg_jobs_get(j, id, &job), VG_OK);
  if (job.state != VG_JOB_DONE)
    dump(log);
  assert_int_equal(job.state, VG_JOB_DONE);
  assert_int_equal(job.attempts, 2);
  assert_string_equal(job.worker, "rescuer");
  assert_non_null(strstr(job.last_error, "lease of worker doomed ran out"));
  assert_int_equal(q_int(env->admin, "SELECT count(*) FROM obs"), per_clip);
  assert_int_equal(q_int(env->admin, "SELECT count(DISTINCT (flight, frame, detector, seq)) FROM obs"),
                   per_clip);
  assert_int_equal(q_int(env->admin, "SELECT count(*) FROM obs WHERE site_id IS NULL"), 0);
  vg_jobs_close(j);
  free(clip);
}

int test_sites_jobs_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(add_claim_done, setup, teardown),
    cmocka_unit_test_setup_teardown(skip_locked, setup, teardown),
    cmocka_unit_test_setup_teardown(fail_then_dead, setup, teardown),
    cmocka_unit_test_setup_teardown(lease_expiry, setup, teardown),
    cmocka_unit_test_setup_teardown(four_workers, setup, teardown),
    cmocka_unit_test_setup_teardown(killed_worker, setup, teardown),
  };
  return cmocka_run_group_tests_name("sites.jobs", tests, NULL, NULL);
}
