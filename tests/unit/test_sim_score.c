/*
 * The score of a register against a truth (lib/sim/score.c):
 *   - a truth file written here read back field for field; malformed variants
 *     (not a FeatureCollection, a LineString, no role, an unknown role,
 *     latitude 95, an id too long, bad JSON, no file) refused with a message
 *     naming the file and the problem, *out untouched;
 *   - a scene in a temporary SQLite register filled through
 *     vg_register_ingest: two sites found at 3 m and 10 m, one missed, two
 *     false positives on distractors (one a pass-2 distractor), one false
 *     positive alone inside the margin, one site outside the margin, a
 *     candidate and a dismissed site by the missed one; every count, ratio
 *     and the error and CE statistics against hand values;
 *   - greedy matching: the nearer of two sites takes the truth site, and
 *     equal distances go to the lower truth index;
 *   - any_state scores candidates (never dismissed ones);
 *   - no truth: nothing scored, ratios NAN.
 */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "vigia/geo.h"
#include "vigia/sim.h"

#define DEG (3.14159265358979323846 / 180.0)
#define R_EARTH 6371008.8 /* the sphere of vg_fuse_en */
/* The scene's origin (somewhere in hills). */
#define LAT0 34.52
#define LON0 69.18

typedef struct ctx {
  char dir[64];
  char db[128];
  vg_register *r;
  vg_fuse_params fp;
  int nobs; /* observations ingested so far (frame numbers) */
} ctx;

static int setup(void **state)
{
  ctx *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  snprintf(c->dir, sizeof c->dir, "/tmp/vg_score_XXXXXX");
  if (!mkdtemp(c->dir)) {
    free(c);
    return -1;
  }
  snprintf(c->db, sizeof c->db, "%s/register.db", c->dir);
  if (vg_register_open(&c->r, c->db) != VG_OK) {
    print_message("cannot open register '%s': %s\n", c->db, vg_error_last());
    rmdir(c->dir);
    free(c);
    return -1;
  }
  /* one spectral detection confirms (prior -2 + 2 = 0 >= 0); one anomaly (-1) stays a candidate */
  vg_fuse_params_default(&c->fp);
  c->fp.confirm = 0.0;
  *state = c;
  return 0;
}

static void rm_file(const ctx *c, const char *name)
{
  char p[192];
  snprintf(p, sizeof p, "%s/%s", c->dir, name);
  unlink(p);
}

static int teardown(void **state)
{
  ctx *c = *state;
  static const char *const k_files[] = {"register.db", "register.db-wal", "register.db-shm", "register.db-journal",
                                        "truth.geojson", "bad.geojson"};
  vg_register_close(c->r);
  for (size_t i = 0; i < sizeof k_files / sizeof k_files[0]; i++)
    rm_file(c, k_files[i]);
  rmdir(c->dir);
  free(c);
  return 0;
}

/* (lat, lon) moved by (east, north) metres on the tangent plane of vg_fuse_en. */
static void moved(double lat, double lon, double e, double n, double *la, double *lo)
{
  *la = lat + n / (R_EARTH * DEG);
  *lo = lon + e / (R_EARTH * DEG * cos(lat * DEG));
}

static vg_truth_item item(const char *id, const char *role, const char *type, int pass, double e, double n)
{
  vg_truth_item t;
  memset(&t, 0, sizeof t);
  snprintf(t.id, sizeof t.id, "%s", id);
  snprintf(t.role, sizeof t.role, "%s", role);
  snprintf(t.type, sizeof t.type, "%s", type);
  t.pass = pass;
  moved(LAT0, LON0, e, n, &t.lat, &t.lon);
  return t;
}

/* Writes @p text as DIR/name; returns the path (static). */
static const char *write_file(const ctx *c, const char *name, const char *text)
{
  static char p[192];
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", c->dir, name);
  f = fopen(p, "w");
  assert_non_null(f);
  assert_true(fputs(text, f) >= 0);
  assert_int_equal(fclose(f), 0);
  return p;
}

/* Writes the truth items as GeoJSON (coordinates to 17 digits: they read back exactly). */
static const char *write_truth(const ctx *c, const vg_truth_item *t, size_t n)
{
  static char p[192];
  FILE *f;
  snprintf(p, sizeof p, "%s/truth.geojson", c->dir);
  f = fopen(p, "w");
  assert_non_null(f);
  fprintf(f, "{\"type\": \"FeatureCollection\", \"name\": \"test\", \"features\": [\n");
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "  {\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\": [%.17g, %.17g%s]},\n",
            t[i].lon, t[i].lat, i % 2 ? ", 1234.5" : "");
    fprintf(f, "   \"properties\": {\"id\": \"%s\", \"role\": \"%s\", \"type\": \"%s\", \"note\": \"extra\"", t[i].id,
            t[i].role, t[i].type);
    if (t[i].pass)
      fprintf(f, ", \"pass\": %d", t[i].pass);
    fprintf(f, ", \"size_m\": [4, 6]}}%s\n", i + 1 < n ? "," : "");
  }
  fprintf(f, "]}\n");
  assert_int_equal(fclose(f), 0);
  return p;
}

/* The scene: 3 sites, 2 distractors (one seen in pass 2 only). Index: S1 0, D1 1, S2 2, D2 3, S3 4. */
static void scene_truth(vg_truth_item t[5])
{
  t[0] = item("S1", "site", "tarp", 0, 0, 0);
  t[1] = item("D1", "distractor", "vehicle", 0, -1000, 0);
  t[2] = item("S2", "site", "tarp", 0, 1000, 0);
  t[3] = item("D2", "distractor", "vehicle", 2, 1000, 1000);
  t[4] = item("S3", "site", "generator", 0, 0, 1000);
}

/* ---- truth files ------------------------------------------------------------------------- */

static void test_truth_roundtrip(void **state)
{
  ctx *c = *state;
  vg_truth_item t[5], *got = NULL;
  size_t n = 0;
  const char *p;
  scene_truth(t);
  p = write_truth(c, t, 5);
  if (vg_truth_read(p, &got, &n) != VG_OK)
    fail_msg("vg_truth_read: %s", vg_error_last());
  assert_int_equal(n, 5);
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(got[i].id, t[i].id);
    assert_string_equal(got[i].role, t[i].role);
    assert_string_equal(got[i].type, t[i].type);
    assert_int_equal(got[i].pass, t[i].pass);
    assert_true(got[i].lat == t[i].lat);
    assert_true(got[i].lon == t[i].lon);
  }
  assert_int_equal(got[3].pass, 2);
  free(got);

  /* an empty collection is a truth with nothing in it */
  p = write_file(c, "bad.geojson", "{\"type\": \"FeatureCollection\", \"features\": []}");
  got = NULL;
  assert_int_equal(vg_truth_read(p, &got, &n), VG_OK);
  assert_int_equal(n, 0);
  free(got);
}

#define FEAT(geom, props) "{\"type\": \"Feature\", \"geometry\": " geom ", \"properties\": " props "}"
#define PT "{\"type\": \"Point\", \"coordinates\": [69.18, 34.52]}"
/* a collection whose feature 0 is good and feature 1 is @p feat */
#define FC(feat)                                                                                           \
  "{\"type\": \"FeatureCollection\", \"features\": ["                                                       \
  FEAT(PT, "{\"id\": \"ok\", \"role\": \"site\", \"type\": \"tarp\"}") ", " feat "]}"

static void test_truth_malformed(void **state)
{
  ctx *c = *state;
  static const struct {
    const char *text;
    int rc;
    const char *says; /* the message names the problem */
  } k_bad[] = {
    {"{\"type\": \"Feature\", \"geometry\": " PT ", \"properties\": {}}", VG_E_MALFORMED, "FeatureCollection"},
    {"{\"type\": \"FeatureCollection\"}", VG_E_MALFORMED, "features"},
    {FC(FEAT("{\"type\": \"LineString\", \"coordinates\": [[69.18, 34.52], [69.19, 34.53]]}",
             "{\"id\": \"L1\", \"role\": \"site\", \"type\": \"tarp\"}")), VG_E_MALFORMED, "LineString"},
    {FC(FEAT(PT, "{\"id\": \"R1\", \"type\": \"tarp\"}")), VG_E_MALFORMED, "\"role\" is missing"},
    {FC(FEAT(PT, "{\"id\": \"B1\", \"role\": \"bogus\", \"type\": \"tarp\"}")), VG_E_MALFORMED, "bogus"},
    {FC(FEAT("{\"type\": \"Point\", \"coordinates\": [69.18, 95]}",
             "{\"id\": \"N1\", \"role\": \"site\", \"type\": \"tarp\"}")), VG_E_MALFORMED, "latitude 95"},
    {FC(FEAT(PT, "{\"role\": \"site\", \"type\": \"tarp\"}")), VG_E_MALFORMED, "\"id\" is missing"},
    {FC(FEAT(PT, "{\"id\": \"T1\", \"role\": \"site\"}")), VG_E_MALFORMED, "\"type\" is missing"},
    {FC(FEAT(PT, "{\"id\": \"0123456789012345678901234567890123456789012345678901234567890123\", "
                 "\"role\": \"site\", \"type\": \"tarp\"}")), VG_E_MALFORMED, "too long"},
    {FC(FEAT(PT, "{\"id\": \"P1\", \"role\": \"site\", \"type\": \"tarp\", \"pass\": 0}")), VG_E_MALFORMED, "pass"},
    {FC(FEAT("{\"type\": \"Point\", \"coordinates\": [69.18]}",
             "{\"id\": \"C1\", \"role\": \"site\", \"type\": \"tarp\"}")), VG_E_MALFORMED, "coordinates"},
    {"{\"type\": \"FeatureCollection\", \"features\": [", VG_E_MALFORMED, "bad.geojson:"},
  };
  vg_truth_item sentinel, *got = &sentinel;
  size_t n = 77;
  for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
    const char *p = write_file(c, "bad.geojson", k_bad[i].text);
    int rc = vg_truth_read(p, &got, &n);
    if (rc != k_bad[i].rc || !strstr(vg_error_last(), k_bad[i].says) || !strstr(vg_error_last(), p))
      fail_msg("case %zu: %s (%s), wanted %s and \"%s\"", i, vg_err_name(rc), vg_error_last(),
               vg_err_name(k_bad[i].rc), k_bad[i].says);
    assert_ptr_equal(got, &sentinel);
    assert_int_equal(n, 77);
  }
  /* the feature is named by index and id */
  assert_int_equal(vg_truth_read(write_file(c, "bad.geojson", k_bad[4].text), &got, &n), VG_E_MALFORMED);
  assert_non_null(strstr(vg_error_last(), "feature 1 (B1)"));
  assert_int_equal(vg_truth_read(write_file(c, "bad.geojson", ""), &got, &n), VG_E_MALFORMED);
  rm_file(c, "bad.geojson");
  {
    char p[192];
    snprintf(p, sizeof p, "%s/absent.geojson", c->dir);
    assert_int_equal(vg_truth_read(p, &got, &n), VG_E_IO);
    assert_non_null(strstr(vg_error_last(), "absent.geojson"));
  }
  assert_ptr_equal(got, &sentinel);
}

/* ---- the register ------------------------------------------------------------------------ */

/* Ingests k observations of one kind at (east, north) metres from truth item @p t, each of
 * variance var per axis; returns the site they made. */
static vg_site put(ctx *c, const vg_truth_item *t, double e, double n, vg_evidence kind, int k, double var)
{
  vg_obs o[4];
  vg_site *near = NULL, s;
  size_t m = 0;
  int rc;
  assert_true(k >= 1 && k <= 4);
  for (int i = 0; i < k; i++) {
    memset(&o[i], 0, sizeof o[i]);
    snprintf(o[i].flight, sizeof o[i].flight, "score-test-%d", i); /* passes: each position fuses */
    o[i].frame = ++c->nobs;
    snprintf(o[i].detector, sizeof o[i].detector, "%s", vg_evidence_name(kind));
    o[i].kind = kind;
    o[i].time_us = 1700000000000000LL + o[i].frame * 1000000LL;
    moved(t->lat, t->lon, e, n, &o[i].lat, &o[i].lon);
    o[i].hae = 1500;
    o[i].cov_en[0] = o[i].cov_en[3] = var;
    o[i].sigma_up = 5;
    o[i].score = 20;
  }
  if ((rc = vg_register_ingest(c->r, o, (size_t)k, &c->fp, NULL)) != VG_OK)
    fail_msg("ingest: %s: %s", vg_err_name(rc), vg_error_last());
  assert_int_equal(vg_register_near(c->r, o[0].lat, o[0].lon, 0.5, 0, &near, &m), VG_OK);
  assert_int_equal(m, 1);
  s = near[0];
  free(near);
  assert_int_equal(s.nobs, k);
  return s;
}

/* The row of a site (fails when absent). */
static const vg_score_row *row_of(const vg_score *s, int64_t id)
{
  for (size_t i = 0; i < s->nrows; i++)
    if (s->rows[i].site_id == id)
      return &s->rows[i];
  fail_msg("no row for site %lld", (long long)id);
  return NULL;
}

static void score_ok(ctx *c, const vg_truth_item *t, size_t n, const vg_score_opts *o, vg_score *s)
{
  int rc = vg_score_register(c->r, t, n, o, s);
  if (rc != VG_OK)
    fail_msg("score: %s: %s", vg_err_name(rc), vg_error_last());
}

static void test_scene(void **state)
{
  ctx *c = *state;
  vg_truth_item t[5], *tr = NULL;
  vg_site a, b, cd, e, f, g, h, i2;
  vg_score s;
  vg_score_opts o = VG_SCORE_OPTS_INIT;
  size_t n = 0;
  double ce50a, ce50b, ce90a, ce90b;
  const vg_score_row *r;

  scene_truth(t);
  assert_int_equal(vg_truth_read(write_truth(c, t, 5), &tr, &n), VG_OK);
  assert_int_equal(n, 5);

  a = put(c, &tr[0], 3, 0, VG_EVID_SPECTRAL, 1, 1.0);      /* S1 found at 3 m, sigma 1 m */
  b = put(c, &tr[2], 6, 8, VG_EVID_SPECTRAL, 2, 100.0);    /* S2 found at 10 m, 2 x sigma 10 m */
  cd = put(c, &tr[1], 5, 0, VG_EVID_SPECTRAL, 1, 4.0);     /* on distractor D1 */
  i2 = put(c, &tr[3], 0, -7, VG_EVID_SPECTRAL, 1, 4.0);    /* on distractor D2 (pass 2) */
  e = put(c, &tr[4], 0, 200, VG_EVID_SPECTRAL, 1, 4.0);    /* alone, 200 m from S3: inside the margin */
  f = put(c, &tr[0], 0, 500, VG_EVID_SPECTRAL, 1, 4.0);    /* 500 m from S1 and S3: outside the margin */
  g = put(c, &tr[4], 4, 0, VG_EVID_ANOMALY, 1, 1.0);       /* candidate 4 m from S3 */
  h = put(c, &tr[4], -10, 0, VG_EVID_SPECTRAL, 1, 1.0);    /* confirmed 10 m from S3, then dismissed */
  assert_int_equal(vg_register_set_state(c->r, h.id, VG_SITE_DISMISSED, "a well"), VG_OK);
  assert_int_equal(vg_register_site(c->r, h.id, &h), VG_OK);
  /* the states the scene needs */
  assert_int_equal(a.state, VG_SITE_CONFIRMED);
  assert_int_equal(b.state, VG_SITE_CONFIRMED);
  assert_int_equal(cd.state, VG_SITE_CONFIRMED);
  assert_int_equal(i2.state, VG_SITE_CONFIRMED);
  assert_int_equal(e.state, VG_SITE_CONFIRMED);
  assert_int_equal(f.state, VG_SITE_CONFIRMED);
  assert_int_equal(g.state, VG_SITE_CANDIDATE);
  assert_int_equal(h.state, VG_SITE_DISMISSED);
  /* the covariances fused: A sigma 1 m (CE90 2.15 m < 3 m), B 2 x 100 m^2 -> 50 m^2 (CE90 15.2 m >= 10 m) */
  assert_int_equal(vg_register_site(c->r, a.id, &a), VG_OK);
  assert_int_equal(vg_register_site(c->r, b.id, &b), VG_OK);
  assert_true(fabs(b.cov_en[0] - 50.0) < 1e-9 && fabs(b.cov_en[3] - 50.0) < 1e-9);
  ce90a = vg_geo_ce90(a.cov_en);
  ce90b = vg_geo_ce90(b.cov_en);
  ce50a = vg_geo_ce(a.cov_en, 0.5);
  ce50b = vg_geo_ce(b.cov_en, 0.5);
  assert_true(ce90a < 3.0 && ce90b >= 10.0);

  o.margin_m = 300;
  score_ok(c, tr, n, &o, &s);
  assert_int_equal(s.truth_sites, 3);
  assert_int_equal(s.scored, 5); /* A, B, C, I, E; not F (margin), G (candidate), H (dismissed) */
  assert_int_equal(s.found, 2);
  assert_int_equal(s.false_pos, 3);
  assert_int_equal(s.on_distractor, 2);
  assert_true(s.recall == 2.0 / 3.0);
  assert_true(s.precision == 2.0 / 5.0);
  /* errors {3, 10}: median 6.5, p90 by interpolation 3 + 0.9 * 7 = 9.3 */
  assert_true(fabs(s.err_median_m - 6.5) < 1e-6);
  assert_true(fabs(s.err_p90_m - 9.3) < 1e-6);
  assert_true(fabs(s.err_max_m - 10.0) < 1e-6);
  assert_true(fabs(s.ce50_median_m - 0.5 * (ce50a + ce50b)) < 1e-9);
  assert_true(fabs(s.err_over_ce50 - 6.5 / (0.5 * (ce50a + ce50b))) < 1e-6);
  assert_true(s.within_ce90 == 0.5);
  /* rows: the scored sites by id, then S3 missed */
  assert_int_equal(s.nrows, 6);
  for (size_t k = 1; k < 5; k++)
    assert_true(s.rows[k - 1].site_id < s.rows[k].site_id);
  r = row_of(&s, a.id);
  assert_int_equal(r->truth, 0);
  assert_int_equal(r->distractor, -1);
  assert_true(fabs(r->error_m - 3.0) < 1e-6);
  assert_true(r->ce90_m == ce90a && r->ce50_m == ce50a);
  assert_int_equal(r->state, VG_SITE_CONFIRMED);
  assert_true(fabs(r->p - vg_fuse_prob(a.logodds)) < 1e-12);
  r = row_of(&s, b.id);
  assert_int_equal(r->truth, 2);
  assert_true(fabs(r->error_m - 10.0) < 1e-6);
  r = row_of(&s, cd.id);
  assert_int_equal(r->truth, -1);
  assert_int_equal(r->distractor, 1);
  assert_true(isnan(r->error_m));
  r = row_of(&s, i2.id);
  assert_int_equal(r->truth, -1);
  assert_int_equal(r->distractor, 3);
  r = row_of(&s, e.id);
  assert_int_equal(r->truth, -1);
  assert_int_equal(r->distractor, -1);
  r = &s.rows[5];
  assert_int_equal(r->site_id, 0);
  assert_int_equal(r->truth, 4);
  assert_true(isnan(r->error_m) && isnan(r->ce90_m));
  for (size_t k = 0; k < s.nrows; k++)
    assert_true(s.rows[k].site_id != f.id && s.rows[k].site_id != g.id && s.rows[k].site_id != h.id);
  vg_score_free(&s);
  assert_null(s.rows);

  /* a wider margin takes F in as a false positive too */
  o.margin_m = 600;
  score_ok(c, tr, n, &o, &s);
  assert_int_equal(s.scored, 6);
  assert_int_equal(s.false_pos, 4);
  assert_int_equal(s.on_distractor, 2);
  vg_score_free(&s);

  /* any_state: the candidate G finds S3 (4 m); the dismissed H never counts */
  o.margin_m = 300;
  o.any_state = 1;
  score_ok(c, tr, n, &o, &s);
  assert_int_equal(s.scored, 6);
  assert_int_equal(s.found, 3);
  assert_int_equal(s.false_pos, 3);
  assert_true(s.recall == 1.0);
  assert_true(s.precision == 0.5);
  assert_int_equal(s.nrows, 6); /* nothing missed */
  r = row_of(&s, g.id);
  assert_int_equal(r->truth, 4);
  assert_int_equal(r->state, VG_SITE_CANDIDATE);
  assert_true(fabs(r->error_m - 4.0) < 1e-6);
  assert_true(fabs(s.err_median_m - 4.0) < 1e-6); /* {3, 4, 10} */
  assert_true(fabs(s.err_p90_m - (4.0 + 0.8 * 6.0)) < 1e-6);
  vg_score_free(&s);

  /* a tolerance below 3 m finds nothing: statistics of matched sites are NAN */
  o.any_state = 0;
  o.tolerance_m = 2.5;
  score_ok(c, tr, n, &o, &s);
  assert_int_equal(s.found, 0);
  assert_int_equal(s.scored, 5);
  assert_true(s.recall == 0.0 && s.precision == 0.0);
  assert_true(isnan(s.err_median_m) && isnan(s.err_p90_m) && isnan(s.err_max_m));
  assert_true(isnan(s.ce50_median_m) && isnan(s.err_over_ce50) && isnan(s.within_ce90));
  assert_int_equal(s.nrows, 5 + 3);
  vg_score_free(&s);

  /* bad options */
  o.tolerance_m = NAN;
  assert_int_equal(vg_score_register(c->r, tr, n, &o, &s), VG_E_INVALID);
  o = (vg_score_opts)VG_SCORE_OPTS_INIT;
  o.version = 99;
  assert_int_equal(vg_score_register(c->r, tr, n, &o, &s), VG_E_INVALID);
  free(tr);
}

/* Two sites within tolerance of one truth site: the nearer takes it, whatever the ids. */
static void test_greedy(void **state)
{
  ctx *c = *state;
  vg_truth_item t[2];
  vg_site x, y;
  vg_score s;
  const vg_score_row *r;
  t[0] = item("T", "site", "tarp", 0, 0, 0);
  t[1] = item("T-again", "site", "tarp", 0, 0, 0); /* the same place */
  x = put(c, &t[0], -12, 0, VG_EVID_SPECTRAL, 1, 1.0); /* farther, lower id */
  y = put(c, &t[0], 5, 0, VG_EVID_SPECTRAL, 1, 1.0);
  assert_true(x.id < y.id);
  assert_int_equal(x.state, VG_SITE_CONFIRMED);
  assert_int_equal(y.state, VG_SITE_CONFIRMED);

  score_ok(c, t, 1, NULL, &s);
  assert_int_equal(s.truth_sites, 1);
  assert_int_equal(s.scored, 2);
  assert_int_equal(s.found, 1);
  assert_int_equal(s.false_pos, 1);
  assert_int_equal(s.on_distractor, 0);
  assert_true(s.precision == 0.5 && s.recall == 1.0);
  r = row_of(&s, y.id);
  assert_int_equal(r->truth, 0);
  assert_true(fabs(r->error_m - 5.0) < 1e-6);
  r = row_of(&s, x.id);
  assert_int_equal(r->truth, -1);
  assert_true(isnan(r->error_m));
  assert_int_equal(s.nrows, 2);
  vg_score_free(&s);

  /* two truth sites at one place: Y (5 m) ties between them and takes the lower index; X the other */
  score_ok(c, t, 2, NULL, &s);
  assert_int_equal(s.found, 2);
  assert_int_equal(s.false_pos, 0);
  assert_int_equal(row_of(&s, y.id)->truth, 0);
  assert_int_equal(row_of(&s, x.id)->truth, 1);
  assert_true(fabs(s.err_median_m - 8.5) < 1e-6);
  assert_true(fabs(s.err_max_m - 12.0) < 1e-6);
  vg_score_free(&s);

  /* the candidate-only view of the same register: nothing confirmed is lost by any_state */
  {
    vg_score_opts o = VG_SCORE_OPTS_INIT;
    o.any_state = 1;
    score_ok(c, t, 1, &o, &s);
    assert_int_equal(s.scored, 2);
    assert_int_equal(s.found, 1);
    vg_score_free(&s);
  }

  /* no truth: nothing scored, ratios NAN */
  score_ok(c, t, 0, NULL, &s);
  assert_int_equal(s.scored, 0);
  assert_int_equal(s.truth_sites, 0);
  assert_int_equal(s.nrows, 0);
  assert_true(isnan(s.recall) && isnan(s.precision) && isnan(s.err_median_m));
  vg_score_free(&s);
  vg_score_free(NULL);
}

/* any_state scores candidates: a lone candidate on a truth site is found only with it. */
static void test_any_state(void **state)
{
  ctx *c = *state;
  vg_truth_item t[1];
  vg_site g;
  vg_score s;
  vg_score_opts o = VG_SCORE_OPTS_INIT;
  t[0] = item("T", "site", "tarp", 0, 0, 0);
  g = put(c, &t[0], 0, 6, VG_EVID_ANOMALY, 1, 1.0);
  assert_int_equal(g.state, VG_SITE_CANDIDATE);
  score_ok(c, t, 1, &o, &s);
  assert_int_equal(s.scored, 0);
  assert_int_equal(s.found, 0);
  assert_true(s.recall == 0.0 && isnan(s.precision));
  assert_int_equal(s.nrows, 1);
  assert_int_equal(s.rows[0].site_id, 0);
  assert_int_equal(s.rows[0].truth, 0);
  vg_score_free(&s);
  o.any_state = 1;
  score_ok(c, t, 1, &o, &s);
  assert_int_equal(s.scored, 1);
  assert_int_equal(s.found, 1);
  assert_true(s.recall == 1.0 && s.precision == 1.0);
  assert_int_equal(s.nrows, 1);
  assert_int_equal(s.rows[0].site_id, g.id);
  assert_int_equal(s.rows[0].state, VG_SITE_CANDIDATE);
  assert_true(fabs(s.rows[0].error_m - 6.0) < 1e-6);
  vg_score_free(&s);
}

int test_sim_score_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_truth_roundtrip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_truth_malformed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_scene, setup, teardown),
    cmocka_unit_test_setup_teardown(test_greedy, setup, teardown),
    cmocka_unit_test_setup_teardown(test_any_state, setup, teardown),
  };
  return cmocka_run_group_tests_name("sim_score", tests, NULL, NULL);
}
