/*
 * The PostgreSQL register under concurrent writers: four worker processes
 * ingest at once, into one fresh register, an overlapping deterministic set
 * of observations (each observation is ingested by exactly two workers, in
 * batches, half of the workers walking the set backwards). Afterwards every
 * observation is there exactly once, each is assigned to a site, every
 * worker's stats add up (each observation new once and a duplicate once),
 * no fusion was lost (sum of sites' nobs = observations; each site's nobs =
 * its history) and no site was made twice (as many sites as places).
 *
 * Also: a register of schema version 1 (before the sites' pass state) is
 * migrated to the current version (3) on opening, its sites keeping their values with the
 * pass state's defaults.
 *
 * Needs a PostgreSQL + PostGIS server: VIGIA_PG_URI (scripts/pg.sh starts
 * one). Unset, the test is skipped, except under CI (CI=true): a failure.
 * The register lives in a schema of its own (search_path in the URI's
 * options), dropped at the end, so runs do not see each other.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "testutil.h"
#include "vigia/sites.h"

#define NWORKERS 4
#define NPLACES 8          /* distinct sites, about 5.5 km apart */
#define NOBS (NPLACES * 24) /* observations in all */
#define BATCH 8            /* observations per vg_register_ingest */
#define DEG (3.14159265358979323846 / 180.0)

typedef struct pg_env {
  char schema[64];
  char uri[1024];
  PGconn *admin;
} pg_env;

/* Observation i of the set: place i % NPLACES, a few metres of deterministic jitter. */
static vg_obs obs_i(int i)
{
  static const char *const det[] = {"rxp", "thermal", "mf:tarp"};
  vg_obs o;
  int place = i % NPLACES;
  double e = 3.0 * sin(1.7 * i), n = 3.0 * cos(2.3 * i);
  memset(&o, 0, sizeof o);
  snprintf(o.flight, sizeof o.flight, "conc-%d", i / (NOBS / 4));
  o.frame = 1000 + i;
  snprintf(o.detector, sizeof o.detector, "%s", det[i % 3]);
  o.seq = i % 2;
  o.kind = (vg_evidence)(i % VG_EVID__COUNT);
  o.time_us = 1700000000000000LL + (int64_t)i * 40000;
  o.lat = 36.0 + 0.05 * place + n / (6371008.8 * DEG);
  o.lon = -5.0 + 0.05 * place + e / (6371008.8 * DEG * cos(36.0 * DEG));
  o.hae = 600 + place;
  o.cov_en[0] = 25;
  o.cov_en[1] = o.cov_en[2] = 2;
  o.cov_en[3] = 36;
  o.sigma_up = 5;
  o.score = 10 + i % 7;
  o.r0 = i % 100;
  o.c0 = i % 50;
  o.r1 = o.r0 + 4;
  o.c1 = o.c0 + 4;
  return o;
}

/* Observation i goes to workers i % 4 and (i + 1) % 4. */
static int worker_takes(int w, int i)
{
  return i % NWORKERS == w || (i + 1) % NWORKERS == w;
}

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

static int setup(void **state)
{
  const char *base = getenv("VIGIA_PG_URI"), *ci = getenv("CI");
  pg_env *env;
  PGresult *r;
  char sql[256];
  if (!base || !*base) {
    if (ci && !strcmp(ci, "true")) {
      print_error("VIGIA_PG_URI is not set under CI: the PostgreSQL register is untested "
                  "(scripts/pg.sh start)\n");
      return -1;
    }
    *state = NULL;
    return 0;
  }
  if (!(env = calloc(1, sizeof *env)))
    return -1;
  snprintf(env->schema, sizeof env->schema, "vg_test_conc_%ld", (long)getpid());
  /* The base URI may have parameters already. */
  snprintf(env->uri, sizeof env->uri, "%s%coptions=-csearch_path%%3D%s%%2Cpublic", base,
           strchr(base, '?') ? '&' : '?', env->schema);
  env->admin = PQconnectdb(base);
  if (PQstatus(env->admin) != CONNECTION_OK) {
    print_error("connecting to VIGIA_PG_URI: %s\n", PQerrorMessage(env->admin));
    PQfinish(env->admin);
    free(env);
    return -1;
  }
  snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", env->schema,
           env->schema);
  r = PQexec(env->admin, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    print_error("%s: %s\n", sql, PQerrorMessage(env->admin));
    PQclear(r);
    PQfinish(env->admin);
    free(env);
    return -1;
  }
  PQclear(r);
  snprintf(sql, sizeof sql, "SET search_path = %s, public", env->schema);
  PQclear(PQexec(env->admin, sql));
  *state = env;
  return 0;
}

static int teardown(void **state)
{
  pg_env *env = *state;
  char sql[128];
  if (!env)
    return 0;
  snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", env->schema);
  PQclear(PQexec(env->admin, sql));
  PQfinish(env->admin);
  free(env);
  return 0;
}

/* A worker: opens the register (several at once: the schema is made once),
 * waits for the start, ingests its share in batches, reports its stats. */
static void worker(const char *uri, int w, int ready_fd, int go_fd, int out_fd)
{
  vg_register *reg = NULL;
  vg_ingest_stats st;
  vg_obs batch[BATCH];
  char c;
  int nb = 0, rc;
  memset(&st, 0, sizeof st);
  if ((rc = vg_register_open(&reg, uri)) != VG_OK) {
    fprintf(stderr, "worker %d: open: %s: %s\n", w, vg_err_name(rc), vg_error_last());
    _exit(2);
  }
  c = 1;
  if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) < 0)
    _exit(3);
  for (int k = 0; k < NOBS; k++) {
    int i = w % 2 ? NOBS - 1 - k : k;
    if (!worker_takes(w, i))
      continue;
    batch[nb++] = obs_i(i);
    if (nb == BATCH || k == NOBS - 1) {
      if ((rc = vg_register_ingest(reg, batch, (size_t)nb, NULL, &st)) != VG_OK) {
        fprintf(stderr, "worker %d: ingest: %s: %s\n", w, vg_err_name(rc), vg_error_last());
        _exit(4);
      }
      nb = 0;
    }
  }
  if (nb && vg_register_ingest(reg, batch, (size_t)nb, NULL, &st) != VG_OK)
    _exit(4);
  vg_register_close(reg);
  if (write(out_fd, &st, sizeof st) != (ssize_t)sizeof st)
    _exit(5);
  _exit(0);
}

static void four_workers(void **state)
{
  pg_env *env = *state;
  int go[2], res[2], ready[2];
  pid_t pid[NWORKERS];
  vg_ingest_stats tot, st;
  vg_register *reg = NULL;
  vg_site *sites = NULL;
  size_t nsites = 0;
  int64_t ns = 0, no = 0, nobs_sum = 0;
  if (!env) {
    print_message("VIGIA_PG_URI not set: PostgreSQL concurrency test skipped\n");
    skip();
  }
  assert_int_equal(pipe(go), 0);
  assert_int_equal(pipe(res), 0);
  assert_int_equal(pipe(ready), 0);
  fflush(NULL);
  for (int w = 0; w < NWORKERS; w++) {
    pid[w] = fork();
    assert_true(pid[w] >= 0);
    if (pid[w] == 0) {
      close(go[1]);
      close(res[0]);
      close(ready[0]);
      worker(env->uri, w, ready[1], go[0], res[1]);
    }
  }
  close(go[0]);
  close(res[1]);
  close(ready[1]);
  /* Every worker has opened the register (or died: EOF) before any ingests; then
   * closing go makes read() return in all of them at once. */
  for (int w = 0; w < NWORKERS; w++) {
    char c;
    if (read(ready[0], &c, 1) != 1)
      break;
  }
  close(ready[0]);
  close(go[1]);
  memset(&tot, 0, sizeof tot);
  for (int w = 0; w < NWORKERS; w++) {
    int status = 0;
    assert_int_equal(waitpid(pid[w], &status, 0), pid[w]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  for (int w = 0; w < NWORKERS; w++) {
    assert_int_equal(read(res[0], &st, sizeof st), (ssize_t)sizeof st);
    tot.obs_new += st.obs_new;
    tot.obs_dup += st.obs_dup;
    tot.sites_new += st.sites_new;
  }
  close(res[0]);
  /* Each observation was ingested twice: new once, duplicate once. */
  assert_int_equal(tot.obs_new, NOBS);
  assert_int_equal(tot.obs_dup, NOBS);
  assert_int_equal(tot.sites_new, NPLACES);

  assert_int_equal(vg_register_open(&reg, env->uri), VG_OK);
  assert_string_equal(vg_register_kind(reg), "postgresql");
  assert_int_equal(vg_register_counts(reg, &ns, &no), VG_OK);
  assert_int_equal(no, NOBS);
  assert_int_equal(ns, NPLACES);
  /* Exactly once each, every one assigned, and each one of the set. */
  assert_int_equal(q_int(env->admin, "SELECT count(*) FROM obs WHERE site_id IS NULL"), 0);
  assert_int_equal(q_int(env->admin, "SELECT count(DISTINCT (flight, frame, detector, seq)) FROM obs"),
                   NOBS);
  assert_int_equal(q_int(env->admin, "SELECT count(*) FROM obs o JOIN sites s ON s.id = o.site_id"),
                   NOBS);
  for (int i = 0; i < NOBS; i++) {
    vg_obs o = obs_i(i);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM obs WHERE flight = '%s' AND frame = %lld AND detector = '%s'"
             " AND seq = %d",
             o.flight, (long long)o.frame, o.detector, o.seq);
    assert_int_equal(q_int(env->admin, sql), 1);
  }
  /* No fusion lost: every site's nobs is its history, and they add up. */
  assert_int_equal(vg_register_box(reg, -90, 90, -180, 180, 0, &sites, &nsites), VG_OK);
  assert_int_equal(nsites, NPLACES);
  for (size_t k = 0; k < nsites; k++) {
    vg_obs *h = NULL;
    size_t nh = 0;
    assert_int_equal(vg_register_history(reg, sites[k].id, &h, &nh), VG_OK);
    assert_int_equal((int64_t)nh, sites[k].nobs);
    assert_int_equal(nh, NOBS / NPLACES);
    for (size_t j = 0; j < nh; j++) /* all of one place, 5.5 km from the next */
      assert_true(fabs(h[j].lat - sites[k].lat) < 0.001 && fabs(h[j].lon - sites[k].lon) < 0.001);
    nobs_sum += sites[k].nobs;
    free(h);
  }
  assert_int_equal(nobs_sum, NOBS);
  free(sites);
  vg_register_close(reg);
}

static void pg_ok(PGconn *c, const char *sql)
{
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    print_error("%s: %s\n", sql, PQerrorMessage(c));
    PQclear(r);
    fail();
  }
  PQclear(r);
}

/*
 * Version 1 -> 2: a register made now, taken back to version 1 by hand (the pass state's
 * columns dropped, migration 1's obs_site_pass index made again, the version set to 1) with
 * a site of the old column set, opens at the current version (3): columns added with their defaults
 * ('' / 0 / 0 / 0), the index gone, the site unchanged, and its next evidence counted in full.
 */
static void upgrade_v1(void **state)
{
  pg_env *env = *state;
  vg_register *reg = NULL;
  vg_site s;
  vg_obs o;
  vg_ingest_stats st;
  char sql[1024];
  double la = 36.5, lo = -4.5, d = 0.001;
  double tl[3] = {la - d, la - d, la + d}, tn[3] = {lo - d, lo + d, lo};
  if (!env) {
    print_message("VIGIA_PG_URI not set: PostgreSQL upgrade test skipped\n");
    skip();
  }
  assert_int_equal(vg_register_open(&reg, env->uri), VG_OK);
  vg_register_close(reg);
  reg = NULL;
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM information_schema.columns WHERE table_schema = '%s' AND table_name = 'sites'",
           env->schema);
  assert_int_equal(q_int(env->admin, sql), 21); /* 16 + geom + 4 */
  pg_ok(env->admin, "BEGIN");
  pg_ok(env->admin, "ALTER TABLE sites DROP COLUMN flight, DROP COLUMN frame, DROP COLUMN flight_kinds,"
                    " DROP COLUMN flight_missed");
  pg_ok(env->admin, "ALTER TABLE obs DROP COLUMN marking");
  pg_ok(env->admin, "CREATE INDEX obs_site_pass ON obs (site_id, flight, frame)");
  pg_ok(env->admin, "UPDATE meta SET value = 1 WHERE key = 'schema_version'");
  snprintf(sql, sizeof sql,
           "INSERT INTO sites (id, state, lat, lon, hae, cov_ee, cov_en, cov_nn, sigma_up, logodds,"
           " first_us, last_us, nobs, nmiss, kinds, note)"
           " VALUES (1, 0, %.17g, %.17g, 100, 8, 0, 8, 3.5, -0.7, 1000, 2000, 2, 1, 1, 'from v1')",
           la, lo);
  pg_ok(env->admin, sql);
  pg_ok(env->admin, "COMMIT");
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM information_schema.columns WHERE table_schema = '%s' AND table_name = 'sites'",
           env->schema);
  assert_int_equal(q_int(env->admin, sql), 17);

  assert_int_equal(vg_register_open(&reg, env->uri), VG_OK);
  assert_int_equal(q_int(env->admin, "SELECT value FROM meta WHERE key = 'schema_version'"), 3);
  assert_int_equal(q_int(env->admin, sql), 21);
  snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_indexes WHERE schemaname = '%s' AND indexname = 'obs_site_pass'",
           env->schema);
  assert_int_equal(q_int(env->admin, sql), 0);
  assert_int_equal(vg_register_site(reg, 1, &s), VG_OK);
  assert_true(s.lat == la && s.lon == lo && s.logodds == -0.7 && s.cov_en[3] == 8.0);
  assert_int_equal(s.nobs, 2);
  assert_int_equal(s.nmiss, 1);
  assert_string_equal(s.note, "from v1");
  assert_string_equal(s.flight, "");
  assert_int_equal(s.frame, 0);
  assert_int_equal(s.flight_kinds, 0);
  assert_int_equal(s.flight_missed, 0);
  /* a thermal detection of a new flight counts in full: -0.7 + 1.5 + 1 = 1.8 */
  memset(&o, 0, sizeof o);
  snprintf(o.flight, sizeof o.flight, "upgrade-u");
  snprintf(o.detector, sizeof o.detector, "thermal");
  o.frame = 4;
  o.kind = VG_EVID_THERMAL;
  o.time_us = 3000;
  o.lat = la;
  o.lon = lo;
  o.hae = 100;
  o.cov_en[0] = o.cov_en[3] = 9;
  o.sigma_up = 5;
  memset(&st, 0, sizeof st);
  assert_int_equal(vg_register_ingest(reg, &o, 1, NULL, &st), VG_OK);
  assert_int_equal(st.sites_updated, 1);
  assert_int_equal(vg_register_site(reg, 1, &s), VG_OK);
  assert_true(fabs(s.logodds - 1.8) < 1e-12);
  assert_string_equal(s.flight, "upgrade-u");
  assert_int_equal(s.frame, 4);
  assert_int_equal(s.flight_kinds, 1u << VG_EVID_THERMAL);
  /* another flight covers it: 1.1, nmiss 2 */
  assert_int_equal(vg_register_coverage(reg, "upgrade-v", 0, 0, tl, tn, 3, 0xf, NULL, &st), VG_OK);
  assert_int_equal(st.misses, 1);
  assert_int_equal(vg_register_site(reg, 1, &s), VG_OK);
  assert_true(fabs(s.logodds - 1.1) < 1e-12);
  assert_int_equal(s.nmiss, 2);
  assert_int_equal(s.flight_missed, 1);
  assert_string_equal(s.flight, "upgrade-v");
  vg_register_close(reg);
}

int test_sites_pg_run(void);
int test_sites_pg_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(four_workers, setup, teardown),
    cmocka_unit_test_setup_teardown(upgrade_v1, setup, teardown),
  };
  return cmocka_run_group_tests_name("sites.pg", tests, NULL, NULL);
}
