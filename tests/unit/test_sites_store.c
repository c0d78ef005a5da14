/*
 * The register's store suite: one set of tests written only against the
 * public API (vg_register_*), run for every store:
 *   - SQLite: a fresh temporary file for each test, always;
 *   - PostgreSQL: $VIGIA_PG_URI when set. Unset, the PG group is skipped with a
 *     message, except under CI (CI=true), where it fails.
 * A PostgreSQL database may already hold data (it is shared between runs), so
 * every test works in its own area (a random 0.1 deg square far from the
 * others) with its own flight names, and compares counts as differences.
 *
 * SQLite only (the file itself is inspected): the schema version, refusal of
 * newer or foreign files, the upgrade of a version 1 register (before the
 * sites' pass state), and the kill -9 test (a child ingesting a synthetic
 * flight is SIGKILLed at random moments; a rerun must give the same register
 * as an undisturbed run, ids included, and PRAGMA integrity_check says ok).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testutil.h"
#include "vigia/sites.h"

#define DEG (3.14159265358979323846 / 180.0)
#define R_EARTH 6371008.8 /* the sphere of lib/sites (fuse.c) */
/* Schema version this code's migrations end at (lib/sites/store_sqlite.c). */
#define SQLITE_SCHEMA_VERSION 3
/* The kill test's synthetic flight: batches x observations, around this many true sites. */
#define KILL_BATCHES 200
#define KILL_BATCH 50
#define KILL_SITES 400
#define KILL_SEEDS 6

/* ---- per-test context -------------------------------------------------------------------- */

typedef struct ctx {
  const char *uri;     /* what vg_register_open gets */
  int sqlite;          /* 1 for the SQLite file (inspected with sqlite3) */
  char dir[64];        /* temporary folder (SQLite) */
  char path[128];      /* the register file (SQLite) */
  vg_register *r;
  double lat0, lon0;   /* this test's area: [lat0, lat0 + 0.1] x [lon0, lon0 + 0.1] */
  char flight[40];     /* this test's flight-name prefix */
  int64_t sites0, obs0; /* counts when the test began */
} ctx;

static const char *g_uri;  /* NULL: a fresh SQLite file per test */
static uint64_t g_rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static double urand(uint64_t *s)
{
  return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static int setup(void **state)
{
  ctx *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  if (!g_uri) {
    snprintf(c->dir, sizeof c->dir, "/tmp/vg_sites_XXXXXX");
    if (!mkdtemp(c->dir)) {
      free(c);
      return -1;
    }
    snprintf(c->path, sizeof c->path, "%s/register.db", c->dir);
    c->uri = c->path;
    c->sqlite = 1;
  } else {
    c->uri = g_uri;
  }
  /* an area of its own: 0.1 deg squares on a 0.5 deg grid between 50S and 50N */
  c->lat0 = -50.0 + 0.5 * (double)(rnd(&g_rng) % 200);
  c->lon0 = -170.0 + 0.5 * (double)(rnd(&g_rng) % 680);
  snprintf(c->flight, sizeof c->flight, "t%016llx", (unsigned long long)rnd(&g_rng));
  if (vg_register_open(&c->r, c->uri) != VG_OK) {
    print_message("cannot open register '%s': %s\n", c->uri, vg_error_last());
    free(c);
    return -1;
  }
  if (vg_register_counts(c->r, &c->sites0, &c->obs0) != VG_OK) {
    vg_register_close(c->r);
    free(c);
    return -1;
  }
  *state = c;
  return 0;
}

static void rm_dir(const char *dir)
{
  static const char *const k_suffix[] = {"", "-wal", "-shm", "-journal", ".ref", ".ref-wal", ".ref-shm",
                                         ".kill", ".kill-wal", ".kill-shm"};
  char p[256];
  for (size_t i = 0; i < sizeof k_suffix / sizeof k_suffix[0]; i++) {
    snprintf(p, sizeof p, "%s/register.db%s", dir, k_suffix[i]);
    unlink(p);
  }
  snprintf(p, sizeof p, "%s/other.db", dir);
  unlink(p);
  snprintf(p, sizeof p, "%s/junk.db", dir);
  unlink(p);
  rmdir(dir);
}

static int teardown(void **state)
{
  ctx *c = *state;
  vg_register_close(c->r);
  if (c->sqlite)
    rm_dir(c->dir);
  free(c);
  return 0;
}

/* An observation in the test's area at (dn, de) metres north/east of its corner + 0.05 deg. */
static vg_obs mk_obs(const ctx *c, const char *flight_sfx, int64_t frame, int seq, vg_evidence kind,
                     double de, double dn, double var_e, double var_n)
{
  vg_obs o;
  double la = c->lat0 + 0.05;
  memset(&o, 0, sizeof o);
  snprintf(o.flight, sizeof o.flight, "%s%s", c->flight, flight_sfx);
  o.frame = frame;
  snprintf(o.detector, sizeof o.detector, "%s", vg_evidence_name(kind));
  o.seq = seq;
  o.kind = kind;
  o.time_us = 1700000000000000LL + frame * 40000LL + seq;
  o.lat = la + dn / (R_EARTH * DEG);
  o.lon = c->lon0 + 0.05 + de / (R_EARTH * DEG * cos(la * DEG));
  o.hae = 100.0;
  o.cov_en[0] = var_e;
  o.cov_en[3] = var_n;
  o.sigma_up = 5.0;
  o.score = 10.0 + seq;
  o.r0 = 10;
  o.c0 = 20;
  o.r1 = 14;
  o.c1 = 26;
  return o;
}

/* Every site of the test's area, ordered by id. */
static vg_site *area_sites(const ctx *c, size_t *n)
{
  vg_site *s = NULL;
  int rc = vg_register_box(c->r, c->lat0, c->lat0 + 0.1, c->lon0, c->lon0 + 0.1, 0, &s, n);
  if (rc != VG_OK)
    fail_msg("box: %s", vg_error_last());
  return s;
}

static int same_double(double a, double b)
{
  return memcmp(&a, &b, sizeof a) == 0;
}

/* Field by field, doubles bit for bit. */
static void assert_site_same(const vg_site *a, const vg_site *b)
{
  assert_int_equal(a->id, b->id);
  assert_int_equal(a->state, b->state);
  assert_true(same_double(a->lat, b->lat));
  assert_true(same_double(a->lon, b->lon));
  assert_true(same_double(a->hae, b->hae));
  for (int i = 0; i < 4; i++)
    assert_true(same_double(a->cov_en[i], b->cov_en[i]));
  assert_true(same_double(a->sigma_up, b->sigma_up));
  assert_true(same_double(a->logodds, b->logodds));
  assert_int_equal(a->first_us, b->first_us);
  assert_int_equal(a->last_us, b->last_us);
  assert_int_equal(a->nobs, b->nobs);
  assert_int_equal(a->nmiss, b->nmiss);
  assert_int_equal(a->kinds, b->kinds);
  assert_string_equal(a->note, b->note);
  assert_string_equal(a->flight, b->flight);
  assert_int_equal(a->frame, b->frame);
  assert_int_equal(a->flight_kinds, b->flight_kinds);
  assert_int_equal(a->flight_missed, b->flight_missed);
}

static void ingest_ok(ctx *c, const vg_obs *o, size_t n, vg_ingest_stats *st)
{
  int rc = vg_register_ingest(c->r, o, n, NULL, st);
  if (rc != VG_OK)
    fail_msg("ingest: %s: %s", vg_err_name(rc), vg_error_last());
}

static void counts_delta(ctx *c, int64_t *ds, int64_t *dobs)
{
  int64_t s, o;
  assert_int_equal(vg_register_counts(c->r, &s, &o), VG_OK);
  *ds = s - c->sites0;
  *dobs = o - c->obs0;
}

/* The one site of the area (fails when there is not exactly one). */
static vg_site one_site(ctx *c)
{
  size_t n = 0;
  vg_site *s = area_sites(c, &n), out;
  if (n != 1) {
    free(s);
    fail_msg("expected one site in the area, got %zu", n);
  }
  out = *s;
  free(s);
  return out;
}

/* ---- tests ------------------------------------------------------------------------------- */

/* A new register: kind, schema version, data kept across close and reopen. */
static void test_open_reopen(void **state)
{
  ctx *c = *state;
  vg_obs o = mk_obs(c, "a", 1, 0, VG_EVID_THERMAL, 0, 0, 25, 25);
  vg_site before, after;
  int64_t ds, dobs;
  assert_string_equal(vg_register_kind(c->r), c->sqlite ? "sqlite" : "postgresql");
  ingest_ok(c, &o, 1, NULL);
  before = one_site(c);
  vg_register_close(c->r);
  c->r = NULL;
  assert_int_equal(vg_register_open(&c->r, c->uri), VG_OK);
  after = one_site(c);
  assert_site_same(&before, &after);
  counts_delta(c, &ds, &dobs);
  assert_int_equal(ds, 1);
  assert_int_equal(dobs, 1);
  if (c->sqlite) {
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(c->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), SQLITE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
  }
  assert_int_equal(vg_register_open(&(vg_register *){NULL}, ""), VG_E_INVALID);
}

/* SQLite only: a newer schema, another program's database and a non-database are refused. */
static void test_sqlite_refuses(void **state)
{
  ctx *c = *state;
  sqlite3 *db;
  vg_register *r = NULL;
  char other[160];
  FILE *f;
  if (!c->sqlite)
    skip();
  vg_register_close(c->r);
  c->r = NULL;
  assert_int_equal(sqlite3_open(c->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(vg_register_open(&r, c->path), VG_E_UNSUPPORTED);
  assert_non_null(strstr(vg_error_last(), "schema version 99"));
  assert_null(r);

  snprintf(other, sizeof other, "%s/other.db", c->dir);
  assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(vg_register_open(&r, other), VG_E_UNSUPPORTED);
  assert_non_null(strstr(vg_error_last(), "not a vigia register"));

  snprintf(other, sizeof other, "%s/junk.db", c->dir);
  assert_non_null(f = fopen(other, "wb"));
  for (int i = 0; i < 4096; i++)
    fputc('x', f);
  fclose(f);
  assert_int_equal(vg_register_open(&r, other), VG_E_DB);
  assert_non_null(strstr(vg_error_last(), "junk.db"));
  /* the test's teardown closes c->r: give it a valid one */
  assert_int_equal(sqlite3_open(c->path, &db), SQLITE_OK);
  {
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value = %d WHERE key = 'schema_version'", SQLITE_SCHEMA_VERSION);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  }
  sqlite3_close(db);
  assert_int_equal(vg_register_open(&c->r, c->path), VG_OK);
}

/*
 * Fusion against a hand computation. Site from obs 1: P = diag(16, 16) m^2.
 * Obs 2 at d = (6 E, 3 N) m with R = diag(16, 64): S = diag(32, 80),
 * d2 = 36/32 + 9/80 = 1.2375 (inside the gate), K = P S^-1 = diag(0.5, 0.2):
 * the site moves by (3 E, 0.6 N) m; P' = P - K P = diag(8, 12.8).
 * Height: 100 (sigma 5) and 110 (sigma 10): (100/25 + 110/100) / (1/25 + 1/100) = 102,
 * sigma_up = sqrt(1 / (1/25 + 1/100)) = sqrt(20).
 * Log-odds: prior -2 + thermal 1.5, then + spectral 2 + agree 1 = 2.5.
 */
static void test_fuse_second(void **state)
{
  ctx *c = *state;
  vg_obs o[2];
  vg_ingest_stats st = {0};
  vg_site s;
  vg_fuse_params p;
  double en[2], la = c->lat0 + 0.05, lo = c->lon0 + 0.05;
  vg_fuse_params_default(&p);
  o[0] = mk_obs(c, "a", 1, 0, VG_EVID_THERMAL, 0, 0, 16, 16);
  ingest_ok(c, o, 1, &st);
  assert_int_equal(st.obs_new, 1);
  assert_int_equal(st.sites_new, 1);
  assert_int_equal(st.sites_updated, 0);
  s = one_site(c);
  assert_true(same_double(s.lat, o[0].lat) && same_double(s.lon, o[0].lon));
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  assert_true(fabs(s.logodds - (p.prior + p.hit[VG_EVID_THERMAL])) < 1e-12);

  o[1] = mk_obs(c, "a", 2, 0, VG_EVID_SPECTRAL, 6, 3, 16, 64);
  o[1].hae = 110;
  o[1].sigma_up = 10;
  memset(&st, 0, sizeof st);
  ingest_ok(c, &o[1], 1, &st);
  assert_int_equal(st.obs_new, 1);
  assert_int_equal(st.sites_new, 0);
  assert_int_equal(st.sites_updated, 1);
  s = one_site(c);
  vg_fuse_en(la, lo, s.lat, s.lon, en);
  assert_true(fabs(en[0] - 3.0) < 1e-3);
  assert_true(fabs(en[1] - 0.6) < 1e-3);
  assert_true(fabs(s.cov_en[0] - 8.0) < 1e-9);
  assert_true(fabs(s.cov_en[3] - 12.8) < 1e-9);
  assert_true(fabs(s.cov_en[1]) < 1e-12 && fabs(s.cov_en[2]) < 1e-12);
  assert_true(fabs(s.hae - 102.0) < 1e-9);
  assert_true(fabs(s.sigma_up - sqrt(20.0)) < 1e-9);
  assert_true(fabs(s.logodds - 2.5) < 1e-12);
  assert_int_equal(s.nobs, 2);
  assert_int_equal(s.kinds, (1u << VG_EVID_THERMAL) | (1u << VG_EVID_SPECTRAL));
  assert_int_equal(s.first_us, o[0].time_us);
  assert_int_equal(s.last_us, o[1].time_us);
}

/* A correlated case: the shift is P S^-1 d with S's inverse written out. */
static void test_fuse_correlated(void **state)
{
  ctx *c = *state;
  vg_obs o[2];
  vg_site s;
  double en[2], la = c->lat0 + 0.05, lo = c->lon0 + 0.05;
  /* P = [[20, 8], [8, 10]], R = [[10, -2], [-2, 30]], d = (4, -5):
   * S = [[30, 6], [6, 40]], det = 1164, S^-1 = [[40, -6], [-6, 30]] / 1164,
   * S^-1 d = (160 + 30, -24 - 150) / 1164 = (190, -174) / 1164,
   * P S^-1 d = (20*190 - 8*174, 8*190 - 10*174) / 1164 = (2408, -220) / 1164 */
  o[0] = mk_obs(c, "a", 1, 0, VG_EVID_ANOMALY, 0, 0, 20, 10);
  o[0].cov_en[1] = o[0].cov_en[2] = 8;
  o[1] = mk_obs(c, "b", 2, 0, VG_EVID_ANOMALY, 4, -5, 10, 30); /* another pass */
  o[1].cov_en[1] = o[1].cov_en[2] = -2;
  ingest_ok(c, o, 2, NULL);
  s = one_site(c);
  vg_fuse_en(la, lo, s.lat, s.lon, en);
  assert_true(fabs(en[0] - 2408.0 / 1164.0) < 1e-3);
  assert_true(fabs(en[1] + 220.0 / 1164.0) < 1e-3);
  /* P' = P - P S^-1 P; P S^-1 = [[20*40 - 8*6, -20*6 + 8*30], [8*40 - 10*6, -8*6 + 10*30]] / 1164
   *                          = [[752, 120], [260, 252]] / 1164 */
  assert_true(fabs(s.cov_en[0] - (20 - (752.0 * 20 + 120.0 * 8) / 1164)) < 1e-9);
  assert_true(fabs(s.cov_en[1] - (8 - (752.0 * 8 + 120.0 * 10) / 1164)) < 1e-9);
  assert_true(fabs(s.cov_en[3] - (10 - (260.0 * 8 + 252.0 * 10) / 1164)) < 1e-9);
}

/* A detection beyond the gate starts a second site; same kind adds no agreement. */
static void test_far_second_site(void **state)
{
  ctx *c = *state;
  vg_obs o[3];
  vg_ingest_stats st = {0};
  vg_site *s;
  size_t n;
  o[0] = mk_obs(c, "a", 1, 0, VG_EVID_ANOMALY, 0, 0, 16, 16);
  /* d2 = 20^2 / 32 = 12.5 < 13.8: same site */
  o[1] = mk_obs(c, "a", 1, 1, VG_EVID_ANOMALY, 20, 0, 16, 16);
  /* 40 m from the first (the fused site is ~10 m east of it): d2 = 30^2 / (8 + 16) >> 13.8 */
  o[2] = mk_obs(c, "a", 1, 2, VG_EVID_ANOMALY, -30, 0, 16, 16);
  ingest_ok(c, o, 3, &st);
  assert_int_equal(st.obs_new, 3);
  assert_int_equal(st.sites_new, 2);
  assert_int_equal(st.sites_updated, 1);
  s = area_sites(c, &n);
  assert_int_equal(n, 2);
  assert_true(s[0].id < s[1].id);
  assert_int_equal(s[0].nobs, 2);
  assert_int_equal(s[1].nobs, 1);
  assert_true(same_double(s[1].lat, o[2].lat) && same_double(s[1].lon, o[2].lon));
  free(s);
}

/* The same batch twice: every observation a duplicate, the register bit for bit the same. */
static void test_reingest(void **state)
{
  ctx *c = *state;
  vg_obs o[20];
  vg_ingest_stats st = {0};
  vg_site *a, *b;
  size_t na, nb;
  int64_t ds, dobs;
  for (int i = 0; i < 20; i++)
    o[i] = mk_obs(c, "a", i / 4, i % 4, (vg_evidence)(i % 4), 300.0 * (i % 5) + i * 0.5, 200.0 * (i % 3), 25, 36);
  ingest_ok(c, o, 20, &st);
  assert_int_equal(st.obs_new, 20);
  a = area_sites(c, &na);
  counts_delta(c, &ds, &dobs);
  assert_int_equal(dobs, 20);
  assert_int_equal(ds, (int64_t)na);
  memset(&st, 0, sizeof st);
  ingest_ok(c, o, 20, &st);
  assert_int_equal(st.obs_new, 0);
  assert_int_equal(st.obs_dup, 20);
  assert_int_equal(st.sites_new, 0);
  assert_int_equal(st.sites_updated, 0);
  b = area_sites(c, &nb);
  assert_int_equal(na, nb);
  for (size_t i = 0; i < na; i++)
    assert_site_same(&a[i], &b[i]);
  counts_delta(c, &ds, &dobs);
  assert_int_equal(dobs, 20);
  /* a duplicate inside one batch is counted too */
  memset(&st, 0, sizeof st);
  o[0].seq = 99;
  o[1] = o[0];
  ingest_ok(c, o, 2, &st);
  assert_int_equal(st.obs_new, 1);
  assert_int_equal(st.obs_dup, 1);
  /* Keys in groups (flight, frame, detector) the register has never seen, where the store
   * may skip its lookups: a duplicate inside the batch, the same frame and seq under another
   * detector (a different key), and a group the register already holds another seq of. */
  memset(&st, 0, sizeof st);
  o[0] = mk_obs(c, "a", 50, 3, VG_EVID_THERMAL, 0, 0, 25, 36);
  o[1] = mk_obs(c, "a", 50, 4, VG_EVID_THERMAL, 0, 1, 25, 36);
  o[2] = o[0];
  o[3] = mk_obs(c, "a", 50, 3, VG_EVID_SPECTRAL, 0, 2, 25, 36);
  o[4] = mk_obs(c, "a", 0, 77, VG_EVID_THERMAL, 0, 3, 25, 36);
  o[5] = o[4];
  o[6] = o[1];
  ingest_ok(c, o, 7, &st);
  assert_int_equal(st.obs_new, 4);
  assert_int_equal(st.obs_dup, 3);
  counts_delta(c, &ds, &dobs);
  assert_int_equal(dobs, 20 + 1 + 4);
  /* and all of them again: nothing new */
  memset(&st, 0, sizeof st);
  ingest_ok(c, o, 7, &st);
  assert_int_equal(st.obs_new, 0);
  assert_int_equal(st.obs_dup, 7);
  counts_delta(c, &ds, &dobs);
  assert_int_equal(dobs, 20 + 1 + 4);
  free(a);
  free(b);
}

/* Each observation keeps its source's marking; a site's distinct markings come back sorted,
 * "" for an unmarked source; a marking longer than VG_SITES_MARKING_MAX is refused. */
static void test_markings(void **state)
{
  ctx *c = *state;
  vg_obs o[4];
  vg_site s;
  char **m = NULL, big[VG_SITES_MARKING_MAX + 2];
  size_t n = 0;
  o[0] = mk_obs(c, "m", 1, 0, VG_EVID_THERMAL, 0, 0, 25, 25);
  o[0].marking = "UNCLASSIFIED//REL TO USA, MEX";
  o[1] = mk_obs(c, "m2", 1, 0, VG_EVID_SPECTRAL, 1, 0, 25, 25);
  o[1].marking = "CONFIDENTIAL//REL TO USA, MEX";
  o[2] = mk_obs(c, "m3", 1, 0, VG_EVID_ANOMALY, 0, 1, 25, 25); /* unmarked */
  o[3] = mk_obs(c, "m4", 1, 0, VG_EVID_THERMAL, 1, 1, 25, 25);
  o[3].marking = "UNCLASSIFIED//REL TO USA, MEX"; /* the same again */
  ingest_ok(c, o, 4, NULL);
  s = one_site(c);
  assert_int_equal(vg_register_site_markings(c->r, s.id, &m, &n), VG_OK);
  assert_int_equal(n, 3);
  assert_string_equal(m[0], "");
  assert_string_equal(m[1], "CONFIDENTIAL//REL TO USA, MEX");
  assert_string_equal(m[2], "UNCLASSIFIED//REL TO USA, MEX");
  vg_register_markings_free(m, n);
  memset(big, 'A', sizeof big - 1);
  big[sizeof big - 1] = 0;
  o[0] = mk_obs(c, "m5", 1, 0, VG_EVID_THERMAL, 0, 0, 25, 25);
  o[0].marking = big;
  assert_int_equal(vg_register_ingest(c->r, o, 1, NULL, NULL), VG_E_LIMIT);
}

/* A site's chip: the one of its highest-score observation that has one (ties: lowest id);
 * VG_E_NOTFOUND for a site none of whose observations has a chip. */
static void test_site_chip(void **state)
{
  ctx *c = *state;
  static const uint8_t lo[] = {0x89, 'P', 'N', 'G', 1}, hi[] = {0x89, 'P', 'N', 'G', 2, 2},
                       tie[] = {0x89, 'P', 'N', 'G', 3};
  vg_obs o[4];
  vg_site s;
  vg_buf b;
  int64_t obs_id = -1;
  /* a site without chips */
  o[0] = mk_obs(c, "c0", 1, 0, VG_EVID_THERMAL, 0, 0, 25, 25);
  ingest_ok(c, o, 1, NULL);
  s = one_site(c);
  vg_buf_init(&b, 1u << 20);
  assert_int_equal(vg_register_site_chip(c->r, s.id, &b, &obs_id), VG_E_NOTFOUND);
  assert_int_equal(b.len, 0);
  assert_int_equal(vg_register_site_chip(c->r, -12345, &b, NULL), VG_E_NOTFOUND);
  /* chips of scores 11 (lo), 30 (hi, no chip above it: 40) and 30 again later (tie) */
  o[0] = mk_obs(c, "c1", 1, 1, VG_EVID_THERMAL, 0, 0, 25, 25);
  o[0].chip = lo;
  o[0].chip_len = sizeof lo;
  o[1] = mk_obs(c, "c2", 1, 0, VG_EVID_SPECTRAL, 0, 0, 25, 25);
  o[1].score = 30;
  o[1].chip = hi;
  o[1].chip_len = sizeof hi;
  o[2] = mk_obs(c, "c3", 1, 0, VG_EVID_ANOMALY, 0, 0, 25, 25);
  o[2].score = 40; /* the best score has no chip */
  o[3] = mk_obs(c, "c4", 1, 0, VG_EVID_THERMAL, 0, 0, 25, 25);
  o[3].score = 30;
  o[3].chip = tie;
  o[3].chip_len = sizeof tie;
  ingest_ok(c, o, 4, NULL);
  assert_int_equal(one_site(c).id, s.id);
  assert_int_equal(vg_register_site_chip(c->r, s.id, &b, &obs_id), VG_OK);
  assert_int_equal(b.len, sizeof hi);
  assert_memory_equal(b.data, hi, sizeof hi);
  assert_true(obs_id > 0);
  {
    int64_t again = -1;
    vg_buf_reset(&b);
    assert_int_equal(vg_register_site_chip(c->r, s.id, &b, &again), VG_OK);
    assert_int_equal(again, obs_id);
    assert_memory_equal(b.data, hi, sizeof hi);
  }
  vg_buf_free(&b);
}

/* Box: inclusive edges, order by id, max; near: nearest first, max, the radius edge. */
static void test_box_near(void **state)
{
  ctx *c = *state;
  /* north offsets (m) in ingest order, so ids follow this order; 99.9 and 100.1 m on either
   * side of the centre (closer together they would fuse) */
  static const double k_dn[] = {500, -300, 99.9, -100.1, 0, 2000};
  vg_obs o[6];
  vg_site *s;
  size_t n;
  double la = c->lat0 + 0.05, lo = c->lon0 + 0.05;
  int64_t id[6];
  for (int i = 0; i < 6; i++)
    o[i] = mk_obs(c, "a", 1, i, VG_EVID_THERMAL, 0, k_dn[i], 4, 4);
  ingest_ok(c, o, 6, NULL);
  s = area_sites(c, &n);
  assert_int_equal(n, 6);
  for (int i = 0; i < 6; i++) {
    id[i] = s[i].id;
    assert_true(same_double(s[i].lat, o[i].lat));
    if (i)
      assert_true(id[i] > id[i - 1]);
  }
  free(s);
  /* max keeps the lowest ids */
  assert_int_equal(vg_register_box(c->r, c->lat0, c->lat0 + 0.1, c->lon0, c->lon0 + 0.1, 2, &s, &n), VG_OK);
  assert_int_equal(n, 2);
  assert_int_equal(s[0].id, id[0]);
  assert_int_equal(s[1].id, id[1]);
  free(s);
  /* edges are inclusive: a box exactly on site 4's position holds it alone */
  assert_int_equal(vg_register_box(c->r, o[4].lat, o[4].lat, o[4].lon, o[4].lon, 0, &s, &n), VG_OK);
  assert_int_equal(n, 1);
  assert_int_equal(s[0].id, id[4]);
  free(s);
  /* a box between sites is empty (R*Tree boxes are rounded outwards; the exact test remains) */
  assert_int_equal(vg_register_box(c->r, nextafter(o[4].lat, 90), o[2].lat - 1e-9, lo - 1e-3, lo + 1e-3, 0, &s, &n),
                   VG_OK);
  assert_int_equal(n, 0);
  free(s);
  /* near 100 m: 0 m, 99.9 m north; not 100.1 m south */
  assert_int_equal(vg_register_near(c->r, la, lo, 100.0, 0, &s, &n), VG_OK);
  assert_int_equal(n, 2);
  assert_int_equal(s[0].id, id[4]);
  assert_int_equal(s[1].id, id[2]);
  free(s);
  /* near 600 m, nearest first: 0, 99.9, 100.1, 300, 500 */
  assert_int_equal(vg_register_near(c->r, la, lo, 600.0, 0, &s, &n), VG_OK);
  assert_int_equal(n, 5);
  assert_int_equal(s[0].id, id[4]);
  assert_int_equal(s[1].id, id[2]);
  assert_int_equal(s[2].id, id[3]);
  assert_int_equal(s[3].id, id[1]);
  assert_int_equal(s[4].id, id[0]);
  free(s);
  assert_int_equal(vg_register_near(c->r, la, lo, 600.0, 3, &s, &n), VG_OK);
  assert_int_equal(n, 3);
  assert_int_equal(s[2].id, id[3]);
  free(s);
  assert_int_equal(vg_register_near(c->r, la, lo, 0, 3, &s, &n), VG_E_INVALID);
  assert_int_equal(vg_register_near(c->r, NAN, lo, 10, 3, &s, &n), VG_E_INVALID);
}

/* History: oldest first (time, then id), chips not loaded. */
static void test_history(void **state)
{
  ctx *c = *state;
  vg_obs o[4], *h;
  size_t n;
  vg_site s;
  static const uint8_t chip[] = {0x89, 'P', 'N', 'G'};
  for (int i = 0; i < 4; i++)
    o[i] = mk_obs(c, "a", 10 + i, 0, VG_EVID_ANOMALY, i, 0, 25, 25);
  o[0].time_us = 300;
  o[1].time_us = 100;
  o[2].time_us = 200;
  o[3].time_us = 100; /* same time as o[1], ingested later: after it */
  o[2].chip = chip;
  o[2].chip_len = sizeof chip;
  ingest_ok(c, o, 4, NULL);
  s = one_site(c);
  assert_int_equal(s.first_us, 100);
  assert_int_equal(s.last_us, 300);
  assert_int_equal(vg_register_history(c->r, s.id, &h, &n), VG_OK);
  assert_int_equal(n, 4);
  assert_int_equal(h[0].frame, 11);
  assert_int_equal(h[1].frame, 13);
  assert_int_equal(h[2].frame, 12);
  assert_int_equal(h[3].frame, 10);
  assert_string_equal(h[0].flight, o[1].flight);
  assert_string_equal(h[0].detector, "anomaly");
  assert_int_equal(h[0].kind, VG_EVID_ANOMALY);
  assert_true(same_double(h[0].lat, o[1].lat) && same_double(h[0].lon, o[1].lon));
  assert_true(same_double(h[0].score, o[1].score));
  assert_int_equal(h[0].r1, 14);
  assert_int_equal(h[0].c1, 26);
  assert_null(h[2].chip);
  assert_int_equal(h[2].chip_len, 0);
  free(h);
  assert_int_equal(vg_register_history(c->r, s.id + 100000, &h, &n), VG_OK);
  assert_int_equal(n, 0);
  free(h);
}

/*
 * Negative evidence, once per site and flight. Sites 0, 2, 3, 4 come from flight "a",
 * site 1 from flight "b" (frame 5).
 *   b/5, square, anomaly:     sites 0 and 3 miss (1 was seen by b, 2 is thermal, 4 outside)
 *   b/5 again:                nothing (the pass is marked)
 *   b/6, triangle, all kinds: only site 2 (0 has b's miss already, b saw 1, 3 is outside)
 *   c/1, triangle, all kinds: sites 0, 1, 2 (a new flight)
 *   c/2 detects site 0:       c's miss taken back (log-odds + hit - miss, nmiss - 1)
 *   c/3, triangle:            nothing (c has seen 0, missed 1 and 2)
 */
static void test_coverage(void **state)
{
  ctx *c = *state;
  vg_obs o[5];
  vg_ingest_stats st = {0};
  vg_fuse_params p;
  vg_site *b, *a;
  size_t nb, na;
  double la = c->lat0 + 0.05, lo = c->lon0 + 0.05, dla = 1000 / (R_EARTH * DEG),
         dlo = 1000 / (R_EARTH * DEG * cos(la * DEG));
  /* a square of +-1 km, and a triangle (its lower-right half) */
  double sq_lat[4] = {la - dla, la - dla, la + dla, la + dla}, sq_lon[4] = {lo - dlo, lo + dlo, lo + dlo, lo - dlo};
  double tr_lat[3] = {la - dla, la - dla, la + dla}, tr_lon[3] = {lo - dlo, lo + dlo, lo + dlo};
  char fl[64], fc[64];
  vg_fuse_params_default(&p);
  /* 0: anomaly site near the centre; 1: seen in flight "b" frame 5; 2: thermal only;
   * 3: anomaly, upper-left (outside the triangle, inside its box); 4: anomaly, outside the square */
  /* (the triangle's edge is the diagonal east = north: every site sits well off it) */
  o[0] = mk_obs(c, "a", 1, 0, VG_EVID_ANOMALY, 50, -50, 4, 4);
  o[1] = mk_obs(c, "b", 5, 0, VG_EVID_ANOMALY, 300, -300, 4, 4);
  o[2] = mk_obs(c, "a", 1, 1, VG_EVID_THERMAL, -200, -400, 4, 4);
  o[3] = mk_obs(c, "a", 1, 2, VG_EVID_ANOMALY, -600, 600, 4, 4);
  o[4] = mk_obs(c, "a", 1, 3, VG_EVID_ANOMALY, 1500, 0, 4, 4);
  ingest_ok(c, o, 5, NULL);
  b = area_sites(c, &nb);
  assert_int_equal(nb, 5);
  snprintf(fl, sizeof fl, "%sb", c->flight);
  snprintf(fc, sizeof fc, "%sc", c->flight);
  assert_int_equal(vg_register_coverage(c->r, fl, 5, 5000, sq_lat, sq_lon, 4, 1u << VG_EVID_ANOMALY, NULL, &st),
                   VG_OK);
  assert_int_equal(st.misses, 2);
  a = area_sites(c, &na);
  assert_int_equal(na, 5);
  assert_true(a[0].logodds == b[0].logodds + p.miss);
  assert_int_equal(a[0].nmiss, 1);
  assert_string_equal(a[0].flight, fl);
  assert_int_equal(a[0].flight_missed, 1);
  assert_int_equal(a[0].flight_kinds, 0);
  assert_int_equal(a[0].frame, VG_FUSE_NO_FRAME);
  assert_true(a[3].logodds == b[3].logodds + p.miss);
  for (int i = 1; i < 5; i++)
    if (i != 3)
      assert_site_same(&a[i], &b[i]);
  free(a);
  /* the same (flight, frame) again: nothing */
  memset(&st, 0, sizeof st);
  assert_int_equal(vg_register_coverage(c->r, fl, 5, 5000, sq_lat, sq_lon, 4, 1u << VG_EVID_ANOMALY, NULL, &st),
                   VG_OK);
  assert_int_equal(st.misses, 0);
  a = area_sites(c, &na);
  assert_int_equal(a[0].nmiss, 1);
  assert_true(a[0].logodds == b[0].logodds + p.miss);
  free(b);
  b = a;
  /* another frame of b: site 3 lies in the triangle's box but outside it; b missed 0
   * already and saw 1: only site 2 gets b's miss */
  memset(&st, 0, sizeof st);
  assert_int_equal(vg_register_coverage(c->r, fl, 6, 6000, tr_lat, tr_lon, 3, 0xf, NULL, &st), VG_OK);
  a = area_sites(c, &na);
  assert_int_equal(st.misses, 1);
  assert_site_same(&a[0], &b[0]);
  assert_site_same(&a[1], &b[1]);
  assert_int_equal(a[2].nmiss, 1);
  assert_true(a[2].logodds == b[2].logodds + p.miss);
  assert_site_same(&a[3], &b[3]);
  assert_site_same(&a[4], &b[4]);
  free(b);
  b = a;
  /* flight c: a new pass, a new miss each for 0, 1, 2 */
  memset(&st, 0, sizeof st);
  assert_int_equal(vg_register_coverage(c->r, fc, 1, 7000, tr_lat, tr_lon, 3, 0xf, NULL, &st), VG_OK);
  a = area_sites(c, &na);
  assert_int_equal(st.misses, 3);
  assert_int_equal(a[0].nmiss, 2);
  assert_int_equal(a[1].nmiss, 1);
  assert_int_equal(a[2].nmiss, 2);
  for (int i = 0; i < 3; i++) {
    assert_true(a[i].logodds == b[i].logodds + p.miss);
    assert_string_equal(a[i].flight, fc);
  }
  assert_site_same(&a[3], &b[3]);
  assert_site_same(&a[4], &b[4]);
  free(b);
  b = a;
  /* c's frame 2 detects site 0 after all: c's miss is taken back */
  o[0] = mk_obs(c, "c", 2, 0, VG_EVID_ANOMALY, 50, -50, 4, 4);
  ingest_ok(c, o, 1, NULL);
  memset(&st, 0, sizeof st);
  assert_int_equal(vg_register_coverage(c->r, fc, 2, 7100, tr_lat, tr_lon, 3, 0xf, NULL, &st), VG_OK);
  assert_int_equal(st.misses, 0);
  a = area_sites(c, &na);
  assert_int_equal(a[0].nmiss, 1);
  assert_int_equal(a[0].flight_missed, 0);
  assert_int_equal(a[0].flight_kinds, 1u << VG_EVID_ANOMALY);
  assert_int_equal(a[0].frame, 2);
  /* anomaly is a kind site 0 showed in an earlier pass: a repeat */
  assert_true((b[0].kinds >> VG_EVID_ANOMALY) & 1u);
  assert_true(fabs(a[0].logodds - (b[0].logodds + p.repeat * p.hit[VG_EVID_ANOMALY] - p.miss)) < 1e-12);
  for (int i = 1; i < 5; i++)
    assert_site_same(&a[i], &b[i]);
  free(a);
  free(b);
  assert_int_equal(vg_register_coverage(c->r, fl, 7, 0, tr_lat, tr_lon, 2, 0xf, NULL, NULL), VG_E_INVALID);
  assert_int_equal(vg_register_coverage(c->r, NULL, 7, 0, tr_lat, tr_lon, 3, 0xf, NULL, NULL), VG_E_INVALID);
}

/* Misses of several flights drive a site inactive; one flight's many frames do not. */
static void test_inactive(void **state)
{
  ctx *c = *state;
  vg_obs o = mk_obs(c, "a", 1, 0, VG_EVID_ANOMALY, 0, 0, 4, 4);
  double la = c->lat0 + 0.05, lo = c->lon0 + 0.05, d = 0.001;
  double tl[3] = {la - d, la - d, la + d}, tn[3] = {lo - d, lo + d, lo};
  char fl[64];
  vg_site s;
  vg_ingest_stats st = {0};
  ingest_ok(c, &o, 1, NULL);
  snprintf(fl, sizeof fl, "%sz", c->flight);
  for (int f = 0; f < 10; f++)
    assert_int_equal(vg_register_coverage(c->r, fl, f, 0, tl, tn, 3, 0xf, NULL, &st), VG_OK);
  assert_int_equal(st.misses, 1);
  s = one_site(c); /* -2 + 1 - 0.7 = -1.7 */
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  assert_int_equal(s.nmiss, 1);
  for (int k = 1; k < 3; k++) {
    snprintf(fl, sizeof fl, "%sz%d", c->flight, k);
    for (int f = 0; f < 4; f++)
      assert_int_equal(vg_register_coverage(c->r, fl, f, 0, tl, tn, 3, 0xf, NULL, &st), VG_OK);
  }
  assert_int_equal(st.misses, 3);
  s = one_site(c); /* -2 + 1 - 3 * 0.7 = -3.1 */
  assert_int_equal(s.state, VG_SITE_INACTIVE);
  assert_int_equal(s.nmiss, 3);
}

/* Every way of reading a site gives @p want. */
static void assert_reads_as(ctx *c, const vg_site *want)
{
  vg_site got, *v = NULL;
  size_t n = 0;
  assert_int_equal(vg_register_site(c->r, want->id, &got), VG_OK);
  assert_site_same(&got, want);
  v = area_sites(c, &n); /* no max (SQLite: the query without ORDER BY) */
  assert_int_equal(n, 1);
  assert_site_same(&v[0], want);
  free(v);
  assert_int_equal(vg_register_box(c->r, c->lat0, c->lat0 + 0.1, c->lon0, c->lon0 + 0.1, 5, &v, &n), VG_OK);
  assert_int_equal(n, 1);
  assert_site_same(&v[0], want);
  free(v);
  assert_int_equal(vg_register_near(c->r, want->lat, want->lon, 10.0, 0, &v, &n), VG_OK);
  assert_int_equal(n, 1);
  assert_site_same(&v[0], want);
  free(v);
}

/*
 * The pass state (flight, frame, flight_kinds, flight_missed) through the store: written by
 * a site's insert (ingest), by updates from coverage, from ingest and from an analyst's
 * decision, read back by every query and after reopening, equal to the pure fusion
 * functions' result field by field. A flight name of VG_SITES_NAME_MAX bytes, the frame
 * "none" (INT64_MIN), a frame above 2^32 and all four kind bits.
 */
static void test_pass_state_roundtrip(void **state)
{
  ctx *c = *state;
  vg_fuse_params p;
  vg_obs o[4];
  vg_site want, got;
  char sfx[VG_SITES_NAME_MAX + 1], fb[VG_SITES_NAME_MAX + 1];
  double la = c->lat0 + 0.05, lo = c->lon0 + 0.05, d = 0.001;
  double tl[3] = {la - d, la - d, la + d}, tn[3] = {lo - d, lo + d, lo};
  size_t np = strlen(c->flight);
  vg_fuse_params_default(&p);
  /* insert: a flight name of the longest length kept */
  memset(sfx, 'L', VG_SITES_NAME_MAX - np);
  sfx[VG_SITES_NAME_MAX - np] = 0;
  o[0] = mk_obs(c, sfx, 3, 0, VG_EVID_THERMAL, 0, 0, 9, 9);
  assert_int_equal(strlen(o[0].flight), VG_SITES_NAME_MAX);
  ingest_ok(c, o, 1, NULL);
  vg_fuse_init(&want, &o[0], &p);
  want.id = one_site(c).id;
  assert_string_equal(want.flight, o[0].flight);
  assert_int_equal(want.frame, 3);
  assert_int_equal(want.flight_kinds, 1u << VG_EVID_THERMAL);
  assert_int_equal(want.flight_missed, 0);
  assert_reads_as(c, &want);
  /* update by coverage: another flight misses it (frame none, missed 1) */
  snprintf(fb, sizeof fb, "%sB", c->flight);
  assert_int_equal(vg_register_coverage(c->r, fb, 9, 0, tl, tn, 3, 0xf, NULL, NULL), VG_OK);
  vg_fuse_miss(&want, fb, &p);
  assert_int_equal(want.frame, VG_FUSE_NO_FRAME);
  assert_int_equal(want.flight_missed, 1);
  assert_reads_as(c, &want);
  /* update by ingest: four detectors on one image of that flight (frame > 2^32) */
  for (int k = 0; k < 4; k++) {
    o[k] = mk_obs(c, "B", (int64_t)1 << 40, k, (vg_evidence)k, 1, 1, 9, 9);
    vg_fuse_update(&want, &o[k], &p);
  }
  ingest_ok(c, o, 4, NULL);
  assert_int_equal(want.frame, (int64_t)1 << 40);
  assert_int_equal(want.flight_kinds, 0xfu);
  assert_int_equal(want.flight_missed, 0);
  assert_int_equal(want.nmiss, 0);
  got = one_site(c);
  /* the store's ingest fuses exactly as the pure functions do */
  assert_true(same_double(got.lat, want.lat) && same_double(got.logodds, want.logodds));
  assert_reads_as(c, &want);
  /* update by an analyst's decision: the pass state is kept */
  assert_int_equal(vg_register_set_state(c->r, want.id, VG_SITE_DISMISSED, "pass state kept"), VG_OK);
  want.state = VG_SITE_DISMISSED;
  snprintf(want.note, sizeof want.note, "pass state kept");
  assert_reads_as(c, &want);
  /* and after reopening */
  vg_register_close(c->r);
  c->r = NULL;
  assert_int_equal(vg_register_open(&c->r, c->uri), VG_OK);
  assert_reads_as(c, &want);
}

/* Analyst decisions: dismissed sticks through new detections; notes. */
static void test_state_note(void **state)
{
  ctx *c = *state;
  vg_obs o[8];
  vg_site s;
  char longnote[VG_SITES_NOTE_MAX + 100];
  o[0] = mk_obs(c, "a", 1, 0, VG_EVID_ANOMALY, 0, 0, 9, 9);
  ingest_ok(c, o, 1, NULL);
  s = one_site(c);
  assert_int_equal(vg_register_set_state(c->r, s.id, VG_SITE_DISMISSED, "tarp over a hay stack"), VG_OK);
  for (int i = 0; i < 8; i++)
    o[i] = mk_obs(c, "a", 2 + i, 0, (vg_evidence)(i % 4), 1, 1, 9, 9);
  ingest_ok(c, o, 8, NULL);
  s = one_site(c);
  assert_int_equal(s.state, VG_SITE_DISMISSED);
  assert_true(s.logodds > 3.0);
  assert_int_equal(s.nobs, 9);
  assert_string_equal(s.note, "tarp over a hay stack");
  /* NULL keeps the note; back to candidate; then the evidence confirms it at the next detection */
  assert_int_equal(vg_register_set_state(c->r, s.id, VG_SITE_CANDIDATE, NULL), VG_OK);
  s = one_site(c);
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  assert_string_equal(s.note, "tarp over a hay stack");
  o[0] = mk_obs(c, "a", 20, 0, VG_EVID_ANOMALY, 0, 0, 9, 9);
  ingest_ok(c, o, 1, NULL);
  assert_int_equal(one_site(c).state, VG_SITE_CONFIRMED);
  assert_int_equal(vg_register_set_state(c->r, s.id, VG_SITE_CONFIRMED, "seen on the ground"), VG_OK);
  assert_string_equal(one_site(c).note, "seen on the ground");
  assert_int_equal(vg_register_note(c->r, s.id, "l'été: «bâche»"), VG_OK);
  assert_string_equal(one_site(c).note, "l'été: «bâche»");
  assert_int_equal(one_site(c).state, VG_SITE_CONFIRMED);
  memset(longnote, 'n', sizeof longnote - 1);
  longnote[sizeof longnote - 1] = 0;
  assert_int_equal(vg_register_note(c->r, s.id, longnote), VG_OK);
  assert_int_equal(strlen(one_site(c).note), VG_SITES_NOTE_MAX);
  assert_int_equal(vg_register_note(c->r, s.id, NULL), VG_OK);
  assert_string_equal(one_site(c).note, "");
  assert_int_equal(vg_register_set_state(c->r, s.id, VG_SITE_INACTIVE, NULL), VG_E_INVALID);
  assert_int_equal(vg_register_set_state(c->r, INT64_MAX, VG_SITE_DISMISSED, NULL), VG_E_NOTFOUND);
  assert_int_equal(vg_register_note(c->r, INT64_MAX, "x"), VG_E_NOTFOUND);
  assert_int_equal(vg_register_site(c->r, INT64_MAX, &s), VG_E_NOTFOUND);
}

/* Counts, and vg_register_site agreeing with the box. */
static void test_counts(void **state)
{
  ctx *c = *state;
  vg_obs o[30];
  vg_site *v, s;
  size_t n;
  int64_t ds, dobs;
  for (int i = 0; i < 30; i++)
    o[i] = mk_obs(c, "a", i, 0, VG_EVID_CHANGE, 250.0 * (i % 10), 0, 16, 16);
  ingest_ok(c, o, 30, NULL);
  counts_delta(c, &ds, &dobs);
  assert_int_equal(ds, 10);
  assert_int_equal(dobs, 30);
  v = area_sites(c, &n);
  assert_int_equal(n, 10);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(v[i].nobs, 3);
    assert_int_equal(vg_register_site(c->r, v[i].id, &s), VG_OK);
    assert_site_same(&s, &v[i]);
  }
  free(v);
}

/* Bad input anywhere in a batch rolls the whole batch back. */
static void test_bad_input(void **state)
{
  ctx *c = *state;
  vg_obs o[4], base;
  vg_site before, after;
  int64_t ds, dobs;
  uint8_t *chip = calloc(1, VG_SITES_CHIP_MAX + 1);
  assert_non_null(chip);
  base = mk_obs(c, "a", 1, 0, VG_EVID_ANOMALY, 0, 0, 16, 16);
  ingest_ok(c, &base, 1, NULL);
  before = one_site(c);
  for (int bad = 0; bad < 5; bad++) {
    int want = VG_E_INVALID;
    o[0] = mk_obs(c, "b", 1, 0, VG_EVID_SPECTRAL, 2, 2, 16, 16);   /* fuses into the site */
    o[1] = mk_obs(c, "b", 1, 1, VG_EVID_THERMAL, 900, 0, 16, 16);  /* a new site */
    o[2] = mk_obs(c, "b", 1, 2, VG_EVID_THERMAL, 900, 2, 16, 16);  /* fuses into the new one */
    o[3] = mk_obs(c, "b", 1, 3, VG_EVID_THERMAL, 0, 900, 16, 16);  /* the bad one */
    switch (bad) {
    case 0: o[3].lat = NAN; break;
    case 1: o[3].lon = INFINITY; break;
    case 2: o[3].cov_en[1] = o[3].cov_en[2] = 20; break;   /* det = 256 - 400 < 0 */
    case 3: o[3].cov_en[0] = 0; break;
    case 4:
      o[3].chip = chip;
      o[3].chip_len = VG_SITES_CHIP_MAX + 1;
      want = VG_E_LIMIT;
      break;
    }
    assert_int_equal(vg_register_ingest(c->r, o, 4, NULL, NULL), want);
    assert_non_null(strstr(vg_error_last(), "/1/thermal/3"));
    after = one_site(c);
    assert_site_same(&before, &after);
    counts_delta(c, &ds, &dobs);
    assert_int_equal(ds, 1);
    assert_int_equal(dobs, 1);
  }
  /* the limit itself is accepted, and the batch then goes in whole */
  o[3].chip_len = VG_SITES_CHIP_MAX;
  assert_int_equal(vg_register_ingest(c->r, o, 4, NULL, NULL), VG_OK);
  counts_delta(c, &ds, &dobs);
  assert_int_equal(ds, 3);
  assert_int_equal(dobs, 5);
  free(chip);
}

/* A reader never sees part of a batch: a child ingests batches of ATOM_BATCH while the
 * parent, through its own handle, counts; every count is a whole number of batches. */
#define ATOM_BATCH 100
#define ATOM_BATCHES 30
static void test_atomicity(void **state)
{
  ctx *c = *state;
  pid_t pid;
  int status = 0, polls = 0, partial = 0;
  int64_t s, ob;
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    vg_register *r = NULL;
    vg_obs *o = calloc(ATOM_BATCH, sizeof *o);
    if (!o || vg_register_open(&r, c->uri) != VG_OK)
      _exit(2);
    for (int b = 0; b < ATOM_BATCHES; b++) {
      for (int i = 0; i < ATOM_BATCH; i++)
        o[i] = mk_obs(c, "k", b, i, VG_EVID_ANOMALY, 37.0 * i, 41.0 * b, 16, 16);
      if (vg_register_ingest(r, o, ATOM_BATCH, NULL, NULL) != VG_OK)
        _exit(3);
    }
    vg_register_close(r);
    free(o);
    _exit(0);
  }
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    assert_int_equal(vg_register_counts(c->r, &s, &ob), VG_OK);
    polls++;
    if ((ob - c->obs0) % ATOM_BATCH)
      partial++;
    if (w == pid)
      break;
  }
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(partial, 0);
  assert_int_equal(ob - c->obs0, ATOM_BATCH * ATOM_BATCHES);
  print_message("    atomicity: %d reads while ingesting, none saw part of a batch\n", polls);
}

/* ---- SQLite only: upgrade from version 1 ----------------------------------------------- */

static int64_t sq_int(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *q;
  int64_t v;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

/*
 * A register of schema version 1 (sites without the pass state: the columns of migration 1,
 * made here by dropping those of migration 2 and setting the version back) holding a site
 * and an observation opens, is migrated to the current version (3), and its site reads back unchanged with
 * the defaults ('' / 0 / 0 / 0). Its next evidence counts in full: a detection of a new
 * flight adds hit + agree, a coverage of another flight a miss.
 */
static void test_sqlite_upgrade_v1(void **state)
{
  ctx *c = *state;
  sqlite3 *db;
  vg_obs o, *h = NULL;
  vg_site s, s0;
  vg_ingest_stats st = {0};
  size_t nh = 0;
  char fl[64], sql[1024];
  double la = c->lat0 + 0.05, lo = c->lon0 + 0.05, d = 0.001;
  double tl[3] = {la - d, la - d, la + d}, tn[3] = {lo - d, lo + d, lo};
  if (!c->sqlite)
    skip();
  vg_register_close(c->r);
  c->r = NULL;
  assert_int_equal(sqlite3_open(c->path, &db), SQLITE_OK);
  assert_int_equal(sq_int(db, "SELECT count(*) FROM pragma_table_info('sites')"), 20);
  assert_int_equal(sqlite3_exec(db,
                                "BEGIN;"
                                "ALTER TABLE sites DROP COLUMN flight;"
                                "ALTER TABLE sites DROP COLUMN frame;"
                                "ALTER TABLE sites DROP COLUMN flight_kinds;"
                                "ALTER TABLE sites DROP COLUMN flight_missed;"
                                "ALTER TABLE obs DROP COLUMN marking;"
                                "UPDATE meta SET value = 1 WHERE key = 'schema_version';"
                                "COMMIT",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(sq_int(db, "SELECT count(*) FROM pragma_table_info('sites')"), 16);
  /* a version 1 site (anomaly seen twice: -2 + 1 + 1 = 0, one miss: -0.7) and its observation */
  snprintf(sql, sizeof sql,
           "INSERT INTO sites(id, state, lat, lon, hae, cov_ee, cov_en, cov_nn, sigma_up, logodds,"
           " first_us, last_us, nobs, nmiss, kinds, note)"
           " VALUES(1, 0, %.17g, %.17g, 100.0, 8.0, 0.0, 8.0, 3.5, -0.7, 1000, 2000, 2, 1, %u, 'from v1');"
           "INSERT INTO obs(id, site_id, flight, frame, detector, seq, kind, time_us, lat, lon, hae, cov_ee,"
           " cov_en, cov_nn, sigma_up, score, r0, c0, r1, c1)"
           " VALUES(1, 1, 'old', 1, 'anomaly', 0, 0, 1000, %.17g, %.17g, 100, 16, 0, 16, 5, 1, 0, 0, 1, 1);",
           la, lo, 1u << VG_EVID_ANOMALY, la, lo);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);

  assert_int_equal(vg_register_open(&c->r, c->path), VG_OK);
  s0 = one_site(c);
  assert_int_equal(s0.id, 1);
  assert_true(s0.lat == la && s0.lon == lo && s0.logodds == -0.7 && s0.cov_en[0] == 8.0);
  assert_int_equal(s0.nobs, 2);
  assert_int_equal(s0.nmiss, 1);
  assert_string_equal(s0.note, "from v1");
  assert_string_equal(s0.flight, "");
  assert_int_equal(s0.frame, 0);
  assert_int_equal(s0.flight_kinds, 0);
  assert_int_equal(s0.flight_missed, 0);
  assert_int_equal(vg_register_history(c->r, 1, &h, &nh), VG_OK);
  assert_int_equal(nh, 1);
  assert_string_equal(h[0].flight, "old");
  free(h);
  assert_int_equal(sqlite3_open(c->path, &db), SQLITE_OK);
  assert_int_equal(sq_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), SQLITE_SCHEMA_VERSION);
  assert_int_equal(sq_int(db, "SELECT count(*) FROM pragma_table_info('sites')"), 20);
  sqlite3_close(db);
  /* a thermal detection of a new flight: -0.7 + 1.5 + 1 = 1.8 */
  o = mk_obs(c, "u", 4, 0, VG_EVID_THERMAL, 1, 1, 9, 9);
  ingest_ok(c, &o, 1, &st);
  assert_int_equal(st.sites_updated, 1);
  s = one_site(c);
  assert_true(fabs(s.logodds - 1.8) < 1e-12);
  assert_string_equal(s.flight, o.flight);
  assert_int_equal(s.frame, 4);
  assert_int_equal(s.flight_kinds, 1u << VG_EVID_THERMAL);
  assert_int_equal(s.nobs, 3);
  /* another flight covers it: 1.8 - 0.7 = 1.1, nmiss 2 */
  snprintf(fl, sizeof fl, "%sv", c->flight);
  assert_int_equal(vg_register_coverage(c->r, fl, 0, 0, tl, tn, 3, 0xf, NULL, &st), VG_OK);
  assert_int_equal(st.misses, 1);
  s = one_site(c);
  assert_true(fabs(s.logodds - 1.1) < 1e-12);
  assert_int_equal(s.nmiss, 2);
  assert_int_equal(s.flight_missed, 1);
}

/* ---- SQLite only: kill -9 ---------------------------------------------------------------- */

/* Batch b of the deterministic synthetic flight (observations near KILL_SITES true sites). */
static void kill_batch(int b, vg_obs *o, uint8_t chips[][8])
{
  uint64_t s = 0x9e3779b97f4a7c15ull ^ (uint64_t)(b + 1) * 0xbf58476d1ce4e5b9ull;
  for (int i = 0; i < KILL_BATCH; i++) {
    vg_obs *x = &o[i];
    int site = (int)(rnd(&s) % KILL_SITES);
    memset(x, 0, sizeof *x);
    snprintf(x->flight, sizeof x->flight, "kill");
    x->frame = b;
    snprintf(x->detector, sizeof x->detector, "det%d", i % 3);
    x->seq = i;
    x->kind = (vg_evidence)(rnd(&s) % VG_EVID__COUNT);
    x->time_us = 1700000000000000LL + (int64_t)b * 1000000 + i;
    /* true sites on a 20 x 20 grid of 500 m near (35 N, 45 E), detections within ~10 m */
    x->lat = 35.0 + (site / 20) * 0.0045 + (urand(&s) - 0.5) * 1e-4;
    x->lon = 45.0 + (site % 20) * 0.0055 + (urand(&s) - 0.5) * 1e-4;
    x->hae = 800 + urand(&s) * 10;
    x->cov_en[0] = 20 + urand(&s) * 30;
    x->cov_en[3] = 20 + urand(&s) * 30;
    x->cov_en[1] = x->cov_en[2] = (urand(&s) - 0.5) * 10;
    x->sigma_up = 3 + urand(&s) * 5;
    x->score = urand(&s) * 100;
    x->r0 = (int)(rnd(&s) % 1000);
    x->c0 = (int)(rnd(&s) % 1000);
    x->r1 = x->r0 + 5;
    x->c1 = x->c0 + 5;
    if (i % 7 == 0) {
      for (int k = 0; k < 8; k++)
        chips[i][k] = (uint8_t)rnd(&s);
      x->chip = chips[i];
      x->chip_len = 8;
    }
  }
}

/* Ingests the whole synthetic flight; returns VG_OK or the error. */
static int kill_flight(const char *path)
{
  vg_register *r = NULL;
  vg_obs o[KILL_BATCH];
  uint8_t chips[KILL_BATCH][8];
  int rc = vg_register_open(&r, path);
  for (int b = 0; rc == VG_OK && b < KILL_BATCHES; b++) {
    kill_batch(b, o, chips);
    rc = vg_register_ingest(r, o, KILL_BATCH, NULL, NULL);
  }
  vg_register_close(r);
  return rc;
}

/* Every row of a table, ordered by id, serialised (type and exact bytes of each column). */
static void dump_table(sqlite3 *db, const char *table, vg_buf *out)
{
  char sql[96];
  sqlite3_stmt *q;
  snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY id", table);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
  while (sqlite3_step(q) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(q); i++) {
      int t = sqlite3_column_type(q, i);
      int64_t iv;
      double dv;
      vg_buf_putc(out, (uint8_t)t);
      if (t == SQLITE_INTEGER) {
        iv = sqlite3_column_int64(q, i);
        vg_buf_append(out, &iv, sizeof iv);
      } else if (t == SQLITE_FLOAT) {
        dv = sqlite3_column_double(q, i);
        vg_buf_append(out, &dv, sizeof dv);
      } else if (t != SQLITE_NULL) {
        const void *p = sqlite3_column_blob(q, i);
        iv = sqlite3_column_bytes(q, i);
        vg_buf_append(out, &iv, sizeof iv);
        vg_buf_append(out, p, (size_t)iv);
      }
    }
    vg_buf_putc(out, '\n');
  }
  sqlite3_finalize(q);
}

/* sites, sites_rtree and obs of a register, and its integrity check. */
static void dump_register(const char *path, vg_buf *out, int64_t *nobs)
{
  sqlite3 *db;
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
  sqlite3_finalize(q);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM obs", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  *nobs = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  vg_buf_reset(out);
  dump_table(db, "sites", out);
  dump_table(db, "sites_rtree", out);
  dump_table(db, "obs", out);
  sqlite3_close(db);
}

static void rm_db(const char *path)
{
  char p[256];
  unlink(path);
  snprintf(p, sizeof p, "%s-wal", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", path);
  unlink(p);
}

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_kill9(void **state)
{
  ctx *c = *state;
  char ref[160], kil[160];
  vg_buf a, b;
  int64_t n, nkilled;
  double t0, tref;
  int mid = 0;
  if (!c->sqlite)
    skip();
  snprintf(ref, sizeof ref, "%s.ref", c->path);
  snprintf(kil, sizeof kil, "%s.kill", c->path);
  vg_buf_init(&a, (size_t)1 << 28);
  vg_buf_init(&b, (size_t)1 << 28);
  t0 = now_s();
  assert_int_equal(kill_flight(ref), VG_OK);
  tref = now_s() - t0;
  dump_register(ref, &a, &n);
  assert_int_equal(n, KILL_BATCHES * KILL_BATCH);
  for (int seed = 1; seed <= KILL_SEEDS; seed++) {
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)seed ^ 0xd1b54a32d192ed03ull;
    /* a moment within the run (opening and migrating included), a little past it at most */
    double at = urand(&s) * tref * 1.1;
    struct timespec ts = {(time_t)at, (long)((at - floor(at)) * 1e9)};
    int status = 0;
    pid_t pid;
    rm_db(kil);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
      _exit(kill_flight(kil) == VG_OK ? 0 : 3);
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status))
      assert_int_equal(WEXITSTATUS(status), 0);
    /* what the kill left: a whole number of batches (or not even a register yet) */
    nkilled = -1;
    if (access(kil, F_OK) == 0) {
      sqlite3 *db;
      sqlite3_stmt *q;
      assert_int_equal(sqlite3_open_v2(kil, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
      if (sqlite3_prepare_v2(db, "SELECT count(*) FROM obs", -1, &q, NULL) == SQLITE_OK) {
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        nkilled = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        assert_int_equal(nkilled % KILL_BATCH, 0);
      }
      sqlite3_close(db);
    }
    if (nkilled > 0 && nkilled < KILL_BATCHES * KILL_BATCH)
      mid++;
    print_message("    kill -9 at %.1f ms (undisturbed run %.1f ms): %lld observations left, %s\n", at * 1e3,
                  tref * 1e3, (long long)nkilled, WIFSIGNALED(status) ? "killed" : "had finished");
    assert_int_equal(kill_flight(kil), VG_OK);
    dump_register(kil, &b, &n);
    assert_int_equal(n, KILL_BATCHES * KILL_BATCH);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
  }
  /* the test means something only when some kill fell inside the ingest */
  assert_true(mid >= 2);
  rm_db(ref);
  rm_db(kil);
  vg_buf_free(&a);
  vg_buf_free(&b);
}

/* ---- runner ------------------------------------------------------------------------------ */

static void test_pg_unset(void **state)
{
  const char *ci = getenv("CI");
  (void)state;
  if (ci && !strcmp(ci, "true"))
    fail_msg("VIGIA_PG_URI is not set: under CI the PostgreSQL store must be tested");
  print_message("PG ABSENT: set VIGIA_PG_URI=postgresql://... to run the store suite on PostgreSQL; skipped\n");
  skip();
}

#define STORE_TESTS                                                       \
  cmocka_unit_test_setup_teardown(test_open_reopen, setup, teardown),    \
  cmocka_unit_test_setup_teardown(test_fuse_second, setup, teardown),    \
  cmocka_unit_test_setup_teardown(test_fuse_correlated, setup, teardown), \
  cmocka_unit_test_setup_teardown(test_far_second_site, setup, teardown), \
  cmocka_unit_test_setup_teardown(test_reingest, setup, teardown),       \
  cmocka_unit_test_setup_teardown(test_markings, setup, teardown),       \
  cmocka_unit_test_setup_teardown(test_site_chip, setup, teardown),      \
  cmocka_unit_test_setup_teardown(test_box_near, setup, teardown),       \
  cmocka_unit_test_setup_teardown(test_history, setup, teardown),        \
  cmocka_unit_test_setup_teardown(test_coverage, setup, teardown),       \
  cmocka_unit_test_setup_teardown(test_inactive, setup, teardown),       \
  cmocka_unit_test_setup_teardown(test_pass_state_roundtrip, setup, teardown), \
  cmocka_unit_test_setup_teardown(test_state_note, setup, teardown),     \
  cmocka_unit_test_setup_teardown(test_counts, setup, teardown),         \
  cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),      \
  cmocka_unit_test_setup_teardown(test_atomicity, setup, teardown)

int test_sites_store_run(void)
{
  const struct CMUnitTest sqlite_tests[] = {
    STORE_TESTS,
    cmocka_unit_test_setup_teardown(test_sqlite_refuses, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sqlite_upgrade_v1, setup, teardown),
    cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
  };
  const struct CMUnitTest pg_tests[] = {STORE_TESTS};
  const struct CMUnitTest pg_unset[] = {cmocka_unit_test(test_pg_unset)};
  const char *pg = getenv("VIGIA_PG_URI");
  int failed;
  g_uri = NULL;
  failed = cmocka_run_group_tests_name("sites_store_sqlite", sqlite_tests, NULL, NULL);
  if (pg && *pg) {
    /* areas and flight names of their own on every run: the database is shared */
    g_rng ^= (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    if (!g_rng)
      g_rng = 1;
    g_uri = pg;
    failed += cmocka_run_group_tests_name("sites_store_postgresql", pg_tests, NULL, NULL);
  } else {
    failed += cmocka_run_group_tests_name("sites_store_postgresql", pg_unset, NULL, NULL);
  }
  return failed;
}
