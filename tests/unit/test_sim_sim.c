/*
 * The simulator (lib/sim): scenario files, determinism, the truth, the
 * rasters' contents and the video's geometry.
 *   - the default scenario written as JSON reads back to the same JSON; bad
 *     members are refused naming the member;
 *   - a small two-pass scenario rendered twice gives byte-identical files,
 *     another seed a different cube;
 *   - its truth holds every site and look-alike, sites 80 m apart in the scene;
 *   - the thermal raster is warm at every site present in the pass;
 *   - the video: every frame decoded with its KLV aligned by PTS (synchronous
 *     carriage), and with no noise, bias or latency the reported frame centre
 *     and corners equal what the sensor model computes from the reported pose
 *     over the DEM to centimetres -- the KLV matches the rendered geometry.
 * Needs the USGS spectra of the shared data (skips, or fails under CI).
 */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "vigia/fmv.h"
#include "vigia/geo.h"
#include "vigia/raster.h"
#include "vigia/sim.h"

#define DEG (3.14159265358979323846 / 180.0)

static char *data_root(void)
{
  char *p = VG_REQUIRE_DATA("spectra/index.csv"), *slash;
  slash = strstr(p, "/spectra/index.csv");
  *slash = 0;
  return p;
}

static void small_scenario(vg_sim_scenario *s)
{
  vg_sim_scenario_default(s);
  snprintf(s->name, sizeof s->name, "unit");
  s->seed = 11;
  s->size_m = 360;
  s->bands = 16;
  s->sites = 3;
  s->sites_new = 1;
  s->new_from_pass = 2;
  s->vehicles = 1;
  s->roofs = 1;
  s->rocks = 1;
  s->warm_rocks = 0;
  s->alt_agl_m = 300;
  s->leg_sep_m = 200;
  s->width = 128;
  s->height = 72;
  s->fps = 1;
  s->npasses = 2;
}

static int write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  fputs(text, f);
  return fclose(f);
}

static void rm_rf(const char *dir)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    print_message("could not remove %s\n", dir);
}

/* ---- scenario files -------------------------------------------------------------------- */

static void scenario_roundtrip(void **st)
{
  char dir[] = "/tmp/vg_scen_XXXXXX", path[128];
  vg_sim_scenario a, b;
  vg_buf ja, jb;
  (void)st;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/s.json", dir);
  vg_sim_scenario_default(&a);
  a.pass[1].latency_s = 0.25;
  a.pass[2].att_bias_deg[0] = -0.7;
  vg_buf_init(&ja, 1 << 20);
  vg_buf_init(&jb, 1 << 20);
  assert_int_equal(vg_sim_scenario_json(&a, &ja), VG_OK);
  assert_int_equal(vg_buf_append(&ja, (const uint8_t *)"", 1), VG_OK);
  assert_int_equal(write_text(path, (const char *)ja.data), 0);
  assert_int_equal(vg_sim_scenario_read(path, &b), VG_OK);
  assert_int_equal(vg_sim_scenario_json(&b, &jb), VG_OK);
  assert_int_equal(vg_buf_append(&jb, (const uint8_t *)"", 1), VG_OK);
  assert_string_equal((const char *)ja.data, (const char *)jb.data);
  assert_true(b.pass[1].latency_s == 0.25 && b.pass[2].att_bias_deg[0] == -0.7);
  /* a partial file keeps the defaults of what it leaves out */
  assert_int_equal(write_text(path, "{\"seed\": 99, \"passes\": [{\"hour\": 6}, {\"day\": 3}]}"), 0);
  assert_int_equal(vg_sim_scenario_read(path, &b), VG_OK);
  assert_true(b.seed == 99 && b.npasses == 2 && b.pass[0].hour == 6 && b.pass[1].day == 3 && b.pass[1].day == 3);
  assert_true(b.sites == a.sites && b.size_m == a.size_m);
  vg_buf_free(&ja);
  vg_buf_free(&jb);
  unlink(path);
  rmdir(dir);
}

static void scenario_errors(void **st)
{
  static const struct {
    const char *text, *member;
  } k[] = {
    {"{\"sedd\": 1}", "sedd"},
    {"{\"size_m\": 10}", "size_m"},
    {"{\"bands\": 2.5}", "bands"},
    {"{\"name\": 3}", "name"},
    {"{\"passes\": []}", "passes"},
    {"{\"passes\": [{\"hour\": 30}]}", "passes[0].hour"},
    {"{\"passes\": [{\"att_bias_deg\": [1, 2]}]}", "passes[0].att_bias_deg"},
    {"{\"passes\": [{\"speed\": 3}]}", "passes[0].speed"},
    {"{\"sites\": 2, \"sites_new\": 3}", "sites_new"},
    {"{\"width\": 321}", "width"},
    {"{\"seed\": -1}", "seed"},
    {"{\"size_m\": 5000, \"gsd_m\": 0.5, \"bands\": 200}", "size_m"},
  };
  char dir[] = "/tmp/vg_scen_XXXXXX", path[128];
  vg_sim_scenario s;
  (void)st;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/bad.json", dir);
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    assert_int_equal(write_text(path, k[i].text), 0);
    if (vg_sim_scenario_read(path, &s) != VG_E_INVALID || !strstr(vg_error_last(), k[i].member) ||
        !strstr(vg_error_last(), "bad.json"))
      fail_msg("%s: expected E_INVALID naming '%s' and the file, got '%s'", k[i].text, k[i].member, vg_error_last());
  }
  assert_int_equal(write_text(path, "{\"seed\": 1,"), 0);
  assert_int_equal(vg_sim_scenario_read(path, &s), VG_E_MALFORMED);
  assert_non_null(strstr(vg_error_last(), "line 1"));
  unlink(path);
  rmdir(dir);
}

/* ---- a small simulation ---------------------------------------------------------------- */

typedef struct {
  char dir[64];
  char *data;
  vg_sim_scenario sc;
} sim_ctx;

static int sim_setup(void **state)
{
  sim_ctx *c = calloc(1, sizeof *c);
  char *p = vg_test_data_path("spectra/index.csv");
  if (!c)
    return -1;
  *state = c;
  if (!p) /* the tests say so (VG_REQUIRE_DATA) */
    return 0;
  free(p);
  c->data = data_root();
  snprintf(c->dir, sizeof c->dir, "/tmp/vg_sim_XXXXXX");
  if (!mkdtemp(c->dir)) {
    c->dir[0] = 0;
    return -1;
  }
  small_scenario(&c->sc);
  if (vg_sim_run(&c->sc, c->data, c->dir, NULL, NULL) != VG_OK) {
    print_message("vg_sim_run: %s\n", vg_error_last());
    return -1;
  }
  *state = c;
  return 0;
}

static int sim_teardown(void **state)
{
  sim_ctx *c = *state;
  if (c->dir[0])
    rm_rf(c->dir);
  free(c->data);
  free(c);
  return 0;
}

static sim_ctx *ctx_or_skip(void **state)
{
  sim_ctx *c = *state;
  if (!c->data)
    free(VG_REQUIRE_DATA("spectra/index.csv")); /* skips, or fails under CI */
  return c;
}

static int same_file(const char *a, const char *b)
{
  uint8_t *x = NULL, *y = NULL;
  size_t nx = 0, ny = 0;
  int same;
  if (vg_test_read_file(a, &x, &nx) || vg_test_read_file(b, &y, &ny))
    fail_msg("cannot read %s or %s", a, b);
  same = nx == ny && !memcmp(x, y, nx);
  free(x);
  free(y);
  return same;
}

static void sim_deterministic(void **state)
{
  sim_ctx *c = ctx_or_skip(state);
  static const char *const files[] = {"scenario.json", "dem.tif", "truth.geojson", "pass1/cube.tif",
                                      "pass1/thermal.tif", "pass1/video.ts", "pass2/cube.tif",
                                      "pass2/thermal.tif", "pass2/video.ts"};
  char dir2[64], a[256], b[256];
  vg_sim_scenario other = c->sc;
  snprintf(dir2, sizeof dir2, "/tmp/vg_sim2_XXXXXX");
  assert_non_null(mkdtemp(dir2));
  assert_int_equal(vg_sim_run(&c->sc, c->data, dir2, NULL, NULL), VG_OK);
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(a, sizeof a, "%s/%s", c->dir, files[i]);
    snprintf(b, sizeof b, "%s/%s", dir2, files[i]);
    if (!same_file(a, b))
      fail_msg("%s differs between two runs of the same scenario", files[i]);
  }
  rm_rf(dir2);
  /* another seed: another world */
  other.seed = 12;
  assert_non_null(mkdtemp(strcpy(dir2, "/tmp/vg_sim2_XXXXXX")));
  assert_int_equal(vg_sim_run(&other, c->data, dir2, NULL, NULL), VG_OK);
  snprintf(a, sizeof a, "%s/pass1/cube.tif", c->dir);
  snprintf(b, sizeof b, "%s/pass1/cube.tif", dir2);
  assert_false(same_file(a, b));
  rm_rf(dir2);
}

static void sim_truth(void **state)
{
  sim_ctx *c = ctx_or_skip(state);
  char path[256];
  vg_truth_item *t = NULL;
  size_t n = 0, sites = 0, veh = 0, other = 0;
  snprintf(path, sizeof path, "%s/truth.geojson", c->dir);
  assert_int_equal(vg_truth_read(path, &t, &n), VG_OK);
  for (size_t i = 0; i < n; i++) {
    double e, nn;
    {
      double en[2];
      vg_fuse_en(c->sc.lat0, c->sc.lon0, t[i].lat, t[i].lon, en);
      e = en[0];
      nn = en[1];
    }
    assert_true(fabs(e) <= 0.5 * c->sc.size_m && fabs(nn) <= 0.5 * c->sc.size_m);
    if (!strcmp(t[i].role, "site")) {
      sites++;
      for (size_t j = 0; j < n; j++) {
        double en[2];
        if (j == i || (t[j].pass && strcmp(t[j].type, "vehicle")))
          continue;
        vg_fuse_en(t[i].lat, t[i].lon, t[j].lat, t[j].lon, en);
        if (strcmp(t[j].type, "vehicle") && hypot(en[0], en[1]) < 79.9)
          fail_msg("%s and %s only %.1f m apart", t[i].id, t[j].id, hypot(en[0], en[1]));
      }
    } else if (!strcmp(t[i].type, "vehicle")) {
      veh++;
      assert_true(t[i].pass >= 1 && t[i].pass <= c->sc.npasses);
    } else
      other++;
  }
  assert_int_equal(sites, (size_t)c->sc.sites);
  assert_int_equal(veh, (size_t)(c->sc.vehicles * c->sc.npasses));
  assert_int_equal(other, (size_t)(c->sc.roofs + c->sc.rocks + c->sc.warm_rocks));
  free(t);
}

/* Pixel (row, col) of (lat, lon) in a raster. */
static void to_pixel(const vg_cube *c, double lat, double lon, int *r, int *k)
{
  *k = (int)floor((lon - c->gt[0]) / c->gt[1]);
  *r = (int)floor((lat - c->gt[3]) / c->gt[5]);
}

/* The thermal raster is warm at each site present in its pass, and not at the new one before it appears. */
static void sim_thermal_sites(void **state)
{
  sim_ctx *c = ctx_or_skip(state);
  char path[256];
  vg_truth_item *t = NULL;
  size_t n = 0;
  assert_int_equal(snprintf(path, sizeof path, "%s/truth.geojson", c->dir) > 0, 1);
  assert_int_equal(vg_truth_read(path, &t, &n), VG_OK);
  for (int p = 1; p <= c->sc.npasses; p++) {
    vg_cube *th = NULL;
    snprintf(path, sizeof path, "%s/pass%d/thermal.tif", c->dir, p);
    assert_int_equal(vg_raster_read(&th, path, NULL), VG_OK);
    assert_int_equal(th->bands, 1);
    for (size_t i = 0; i < n; i++) {
      int r, k, present;
      double peak = -INFINITY, ring = 0;
      int nring = 0;
      if (strcmp(t[i].role, "site"))
        continue;
      /* the new site is the last one (sites_new = 1, from pass 2) */
      present = !(p == 1 && !strcmp(t[i].type, "tarp-clearing"));
      to_pixel(th, t[i].lat, t[i].lon, &r, &k);
      /* the raster's stated georeferencing is off by up to ~4 sigma (16 m = 8 px): look around */
      for (int dr = -10; dr <= 10; dr++)
        for (int dk = -10; dk <= 10; dk++) {
          int rr = r + dr, kk = k + dk;
          if (rr < 0 || kk < 0 || rr >= th->rows || kk >= th->cols)
            continue;
          if (th->data[(size_t)rr * (size_t)th->cols + (size_t)kk] > peak)
            peak = th->data[(size_t)rr * (size_t)th->cols + (size_t)kk];
        }
      for (int a = 0; a < 72; a++) { /* a ring 25 m out */
        int rr = r + (int)lround(12.5 * sin(a * 5 * DEG)), kk = k + (int)lround(12.5 * cos(a * 5 * DEG));
        if (rr >= 0 && kk >= 0 && rr < th->rows && kk < th->cols) {
          ring += th->data[(size_t)rr * (size_t)th->cols + (size_t)kk];
          nring++;
        }
      }
      ring /= nring;
      print_message("pass %d %s (%s): peak %.2f C, ring mean %.2f C\n", p, t[i].id, t[i].type, peak, ring);
      if (present && !(peak - ring > 0.6 * c->sc.warm_min_k * (1 - 0.4 * c->sc.canopy_max)))
        fail_msg("pass %d %s: peak %.2f only %.2f K over its surroundings", p, t[i].id, peak, peak - ring);
    }
    vg_cube_free(th);
  }
  free(t);
}

/* The video: every frame aligned by PTS, and the KLV's frame centre and corners are what the
 * sensor model makes of the KLV's own pose over the DEM (no noise, bias or latency). */
static void sim_video_geometry(void **state)
{
  sim_ctx *c = ctx_or_skip(state);
  vg_sim_scenario s = c->sc;
  char dir[64], path[256];
  vg_fmv_source *src = NULL;
  vg_fmv_reader *rd = NULL;
  vg_fmv_reader_opts ro = VG_FMV_READER_OPTS_INIT;
  vg_geo_geoid *geoid = NULL;
  vg_geo_dem *dem = NULL;
  vg_raster_dem_opts dopt = VG_RASTER_DEM_OPTS_INIT;
  vg_geo_check *chk = NULL;
  vg_geo_check_opts co;
  vg_geo_check_result res;
  const vg_fmv_frame *f;
  size_t frames = 0;
  int rc;
  s.npasses = 1;
  s.sites_new = 0;
  s.pos_noise_m = 0;
  s.att_noise_deg = 0;
  s.pass[0].latency_s = 0;
  memset(s.pass[0].att_bias_deg, 0, sizeof s.pass[0].att_bias_deg);
  snprintf(dir, sizeof dir, "/tmp/vg_simv_XXXXXX");
  assert_non_null(mkdtemp(dir));
  assert_int_equal(vg_sim_run(&s, c->data, dir, NULL, NULL), VG_OK);
  assert_int_equal(vg_geo_geoid_open(&geoid, NULL), VG_OK);
  snprintf(path, sizeof path, "%s/dem.tif", dir);
  assert_int_equal(vg_raster_dem_open(&dem, path, &dopt, geoid), VG_OK);
  memset(&co, 0, sizeof co);
  co.ground.dem = dem;
  co.geoid = geoid;
  assert_int_equal(vg_geo_check_new(&chk, &co), VG_OK);
  snprintf(path, sizeof path, "%s/pass1/video.ts", dir);
  assert_int_equal(vg_fmv_source_open(&src, path), VG_OK);
  ro.fmt = VG_FMV_GRAY8;
  assert_int_equal(vg_fmv_reader_new(&rd, src, &ro), VG_OK);
  while ((rc = vg_fmv_reader_next(rd, &f)) == VG_OK) {
    if (f->meta.align != VG_FMV_ALIGN_PTS && f->meta.align != VG_FMV_ALIGN_PTS_HOLD)
      fail_msg("frame %lld aligned by %d, not by PTS", (long long)f->index, (int)f->meta.align);
    assert_int_equal(f->width, s.width);
    /* the ST 0102 set nested at tag 48 reaches the pose: the video's marking */
    assert_true(vg_klv_pose_has(&f->meta.pose, VG_POSE_SECURITY));
    assert_int_equal(f->meta.pose.security_class, 1);   /* UNCLASSIFIED */
    assert_int_equal(f->meta.pose.security_method, 14); /* GENC three-letter */
    assert_string_equal(f->meta.pose.security_rel, s.releasable);
    assert_int_equal(vg_geo_check_add(chk, &f->meta.pose), VG_OK);
    frames++;
  }
  assert_int_equal(rc, VG_E_TRUNCATED);
  assert_false(vg_fmv_demux_damaged(vg_fmv_reader_demux(rd)));
  assert_true(frames > 40);
  assert_int_equal(vg_geo_check_result_get(chk, &res), VG_OK);
  print_message("video: %zu frames; KLV centre vs sensor model: median %.3f m, max %.3f m\n", frames,
                res.centre_med_m, res.centre_max_m);
  /* KLV angles are quantised (2-byte heading: 0.0055 deg; 300 m x 1e-4 rad = 3 cm) */
  assert_true(res.centre_med_m < 0.15);
  assert_true(res.centre_max_m < 0.6);
  assert_int_equal(res.nfind, 0);
  vg_fmv_reader_free(rd);
  vg_fmv_source_free(src);
  vg_geo_check_free(chk);
  vg_geo_dem_free(dem);
  vg_geo_geoid_free(geoid);
  rm_rf(dir);
}

/* Terrain from a DEM file (SRTM, MSL): the simulation's dem.tif follows it. */
static void sim_dem_terrain(void **state)
{
  sim_ctx *c = ctx_or_skip(state);
  char *srtm = VG_REQUIRE_DATA("geo/dem/N57E011.hgt");
  vg_sim_scenario s = c->sc;
  char dir[64], path[256];
  vg_geo_geoid *geoid = NULL;
  vg_geo_dem *a = NULL, *b = NULL;
  vg_raster_dem_opts o = VG_RASTER_DEM_OPTS_INIT;
  double worst = 0, span_lo = INFINITY, span_hi = -INFINITY;
  s.npasses = 1;
  s.sites_new = 0;
  s.lat0 = 57.72; /* near Gothenburg: land, 0-90 m */
  s.lon0 = 11.95;
  snprintf(s.dem, sizeof s.dem, "%s", srtm);
  snprintf(dir, sizeof dir, "/tmp/vg_simd_XXXXXX");
  assert_non_null(mkdtemp(dir));
  assert_int_equal(vg_sim_run(&s, c->data, dir, NULL, NULL), VG_OK);
  assert_int_equal(vg_geo_geoid_open(&geoid, NULL), VG_OK);
  snprintf(path, sizeof path, "%s/dem.tif", dir);
  assert_int_equal(vg_raster_dem_open(&a, path, &o, geoid), VG_OK);
  assert_int_equal(vg_raster_dem_open(&b, srtm, &o, geoid), VG_OK);
  for (int i = -10; i <= 10; i++)
    for (int j = -10; j <= 10; j++) {
      double la = s.lat0 + i * 0.0007, lo = s.lon0 + j * 0.0013, ha = vg_geo_dem_h(a, la, lo), hb = vg_geo_dem_h(b, la, lo);
      assert_true(isfinite(ha) && isfinite(hb));
      worst = fmax(worst, fabs(ha - hb));
      span_lo = fmin(span_lo, hb);
      span_hi = fmax(span_hi, hb);
    }
  print_message("simulated terrain vs SRTM over %.0f m of relief: worst %.2f m\n", span_hi - span_lo, worst);
  assert_true(span_hi - span_lo > 20); /* the test sees relief, not a flat sea */
  /* the DEM sampled on the world's 2.5 m grid, then written at 10 m: bilinear twice on a
   * 30 m DEM's smooth slopes, centimetres (0.15 m measured) */
  assert_true(worst < 1.0);
  vg_geo_dem_free(a);
  vg_geo_dem_free(b);
  vg_geo_geoid_free(geoid);
  free(srtm);
  rm_rf(dir);
}

int test_sim_sim_run(void)
{
  const struct CMUnitTest plain[] = {
    cmocka_unit_test(scenario_roundtrip),
    cmocka_unit_test(scenario_errors),
  };
  const struct CMUnitTest sim[] = {
    cmocka_unit_test(sim_deterministic),
    cmocka_unit_test(sim_truth),
    cmocka_unit_test(sim_thermal_sites),
    cmocka_unit_test(sim_video_geometry),
    cmocka_unit_test(sim_dem_terrain),
  };
  int failed = cmocka_run_group_tests_name("sim.scenario", plain, NULL, NULL);
  failed += cmocka_run_group_tests_name("sim.render", sim, sim_setup, sim_teardown);
  return failed;
}
