/*
 * vg_sim_run: the scenario rendered into files (include/vigia/sim.h).
 *
 * Rasters are what an orthorectified product would be: a north-up grid over
 * the scene at gsd_m, whose stated georeferencing is off by a random shift
 * common to the raster plus a smooth warp (together georeg_m per axis, drawn
 * anew for every raster; see warp_of) -- the error that georegistration
 * leaves; each raster states it (GEOREF_SIGMA_M) and exploit uses it. The cube is
 * reflectance times illumination (a per-pass gain, the terrain's cosine to
 * the sun with a sky term) plus noise at the scenario's SNR; the thermal
 * raster is surface temperature in deg C plus NETD noise.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim_int.h"
#include "vigia/products.h"
#include "vigia/raster.h"

static const char k_wkt4326[] =
  "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,"
  "AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,"
  "AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],"
  "AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST],AUTHORITY[\"EPSG\",\"4326\"]]";

static int mkdir_p(const char *path)
{
  if (mkdir(path, 0777) != 0 && errno != EEXIST)
    return vg_error_set(VG_E_IO, "simulator: cannot create %s: %s", path, strerror(errno));
  return VG_OK;
}

static void progress(vg_sim_progress_fn fn, void *ud, const char *stage, int pass, double done)
{
  if (fn)
    fn(ud, stage, pass, done);
}

/* The geotransform of a north-up grid of @p gsd whose top-left corner is at (e0, n0). */
static void grid_gt(const vg_sim_scenario *sc, double e0, double n0, double gsd, double gt[6])
{
  double lat, lon;
  sim_en_to_ll(sc, e0, n0, &lat, &lon);
  gt[0] = lon;
  gt[1] = gsd / (SIM_R_EARTH * SIM_DEG * cos(sc->lat0 * SIM_DEG));
  gt[2] = 0;
  gt[3] = lat;
  gt[4] = 0;
  gt[5] = -gsd / (SIM_R_EARTH * SIM_DEG);
}

/* UNIX microseconds of a pass's local solar hour (the rasters' acquisition time, the video's start). */
int64_t sim_pass_time_us(const vg_sim_scenario *sc, int p)
{
  const vg_sim_pass *ps = &sc->pass[p - 1];
  return (int64_t)llround((double)sc->start_us + ps->day * 86400e6 + (ps->hour - sc->lon0 / 15.0) * 3600e6);
}

/* The scenario's marking as a canonical banner: classification, then REL TO its releasable
 * countries (USA first, the rest in order). VG_E_INVALID when it does not make one. */
static int sim_banner(const vg_sim_scenario *sc, char *out, size_t cap)
{
  char codes[VG_MARKING_MAX_REL][4], banner[VG_MARKING_BANNER_MAX];
  int nc = 0;
  size_t len;
  const char *r = sc->releasable;
  vg_marking m;
  while (*r) {
    size_t k = strcspn(r, " ");
    if (k != 3 || nc == VG_MARKING_MAX_REL)
      return vg_error_set(VG_E_INVALID, "scenario: releasable '%s' is not space-separated country codes",
                          sc->releasable);
    memcpy(codes[nc], r, 3);
    codes[nc++][3] = 0;
    r += k;
    while (*r == ' ')
      r++;
  }
  for (int i = 0; i < nc; i++) /* USA first, the rest in order: insertion sort */
    for (int j = i; j > 0; j--) {
      int swap = strcmp(codes[j], "USA") == 0 || (strcmp(codes[j - 1], "USA") && strcmp(codes[j], codes[j - 1]) < 0);
      if (!swap)
        break;
      char t[4];
      memcpy(t, codes[j], 4);
      memcpy(codes[j], codes[j - 1], 4);
      memcpy(codes[j - 1], t, 4);
    }
  len = (size_t)snprintf(banner, sizeof banner, "%s", sc->classification);
  for (int i = 0; i < nc && len < sizeof banner; i++)
    len += (size_t)snprintf(banner + len, sizeof banner - len, i ? ", %s" : "//REL TO %s", codes[i]);
  if (len >= sizeof banner || vg_marking_parse(banner, &m) != VG_OK) {
    char why[256];
    snprintf(why, sizeof why, "%s", len >= sizeof banner ? "too long" : vg_error_last());
    return vg_error_set(VG_E_INVALID, "scenario: classification '%s' and releasable '%s' make no marking (%s)",
                        sc->classification, sc->releasable, why);
  }
  return vg_marking_format(&m, out, cap);
}

static int georef(vg_cube *c, const vg_sim_scenario *sc, double e0, double n0, double gsd)
{
  c->has_gt = 1;
  if (sim_banner(sc, c->marking, sizeof c->marking) != VG_OK)
    return VG_E_INVALID;
  c->georef_sigma_m = sc->georeg_m; /* the product states its accuracy (GEOREF_SIGMA_M) */
  grid_gt(sc, e0, n0, gsd, c->gt);
  c->srs_wkt = strdup(k_wkt4326);
  return c->srs_wkt ? VG_OK : vg_error_set(VG_E_NOMEM, "simulator");
}

/* ---- the DEM ------------------------------------------------------------------------------- */

#define DEM_POSTING 10.0

static int make_dem(const sim_world *w, const char *path, const vg_geo_geoid *geoid, vg_geo_dem **dem)
{
  int n = (int)ceil(2 * w->half_world / DEM_POSTING) + 1;
  vg_cube *c = NULL;
  int rc;
  if ((rc = vg_cube_new(&c, n, n, 1)) != VG_OK)
    return rc;
  for (int r = 0; r < n; r++)
    for (int k = 0; k < n; k++)
      c->data[(size_t)r * (size_t)n + (size_t)k] =
        (float)sim_height(w, -w->half_world + k * DEM_POSTING, w->half_world - r * DEM_POSTING);
  /* samples are cell centres for vg_geo_dem_new; the file's geotransform gives corners */
  if ((rc = georef(c, w->sc, -w->half_world - 0.5 * DEM_POSTING, w->half_world + 0.5 * DEM_POSTING,
                   DEM_POSTING)) == VG_OK &&
      (rc = vg_raster_write_tiff(path, c, 0)) == VG_OK) {
    double lat, lon, lat1, lon1;
    sim_en_to_ll(w->sc, -w->half_world, w->half_world, &lat, &lon);
    sim_en_to_ll(w->sc, -w->half_world + DEM_POSTING, w->half_world - DEM_POSTING, &lat1, &lon1);
    rc = vg_geo_dem_new(dem, n, n, lon, lat, lon1 - lon, lat1 - lat, c->data, NAN, VG_GEO_VDATUM_MSL,
                        geoid, "simulated relief");
  }
  vg_cube_free(c);
  return rc;
}

/* ---- rasters ------------------------------------------------------------------------------- */

/*
 * Georegistration error of raster @p kind (0 cube, 1 thermal) of pass @p p: what the
 * raster's stated position q holds is the ground at q - d(q), d = g + l(q), with a
 * shift g common to the raster and a smooth warp l (value noise, correlation length
 * WARP_SCALE_M) left by orthorectification over imperfect terrain and poses; each
 * part has half the variance of georeg_m^2 per axis.
 */
#define WARP_SCALE_M 150.0
typedef struct {
  double ge, gn, sl, norm;
  uint64_t se, sn;
} warp;

/* The standard deviation of sim_fbm(., 3 octaves): measured once over a wide area. */
static double fbm_sd(uint64_t seed)
{
  double s = 0, s2 = 0;
  const int n = 128;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double v = sim_fbm(seed, i * 1.37 * WARP_SCALE_M, j * 1.37 * WARP_SCALE_M, WARP_SCALE_M, 3);
      s += v;
      s2 += v * v;
    }
  s /= (double)n * n;
  return sqrt(fmax(s2 / ((double)n * n) - s * s, 1e-12));
}

static void warp_of(const vg_sim_scenario *sc, int p, int kind, warp *w)
{
  sim_rng r;
  double sg = sc->georeg_m / sqrt(2.0);
  sim_rng_seed(&r, sc->seed, 100 + (uint64_t)p * 4 + (uint64_t)kind);
  w->ge = sg * sim_rng_normal(&r);
  w->gn = sg * sim_rng_normal(&r);
  w->se = sim_rng_u64(&r);
  w->sn = sim_rng_u64(&r);
  w->sl = sg;
  w->norm = 0.5 * (fbm_sd(w->se) + fbm_sd(w->sn));
}

/* The error d(q) at stated position (e, n). */
static void warp_at(const warp *w, double e, double n, double *de, double *dn)
{
  *de = w->ge + w->sl * (sim_fbm(w->se, e, n, WARP_SCALE_M, 3) - 0.5) / w->norm;
  *dn = w->gn + w->sl * (sim_fbm(w->sn, e, n, WARP_SCALE_M, 3) - 0.5) / w->norm;
}

static int render_cube(const sim_world *w, int p, const char *path, vg_sim_progress_fn fn, void *ud)
{
  const vg_sim_scenario *sc = w->sc;
  const vg_sim_pass *ps = &sc->pass[p - 1];
  int n = (int)llround(sc->size_m / sc->gsd_m), nb = w->bands;
  double half = 0.5 * n * sc->gsd_m, sun[3], heat, gain, sigma;
  vg_cube *c = NULL;
  sim_rng r;
  warp wp;
  int rc;
  if ((rc = vg_cube_new(&c, n, n, nb)) != VG_OK)
    return rc;
  warp_of(sc, p, 0, &wp);
  sim_sun(ps->hour, sun, &heat);
  sim_rng_seed(&r, sc->seed, 200 + (uint64_t)p);
  gain = sim_rng_range(&r, 0.85, 1.15); /* exposure and atmosphere of the day */
  sigma = 0.3 / sc->snr;
  for (int row = 0; row < n; row++) {
    for (int col = 0; col < n; col++) {
      double e = -half + (col + 0.5) * sc->gsd_m, nn = half - (row + 0.5) * sc->gsd_m, de, dn;
      int ss;
      double acc[256], nrm[3], illum;
      warp_at(&wp, e, nn, &de, &dn); /* the ground this pixel says it is, is not quite */
      e -= de;
      nn -= dn;
      ss = sim_objects_near(w, e, nn, sc->gsd_m) ? 3 : 1;
      float *px = vg_cube_px(c, row, col);
      memset(acc, 0, sizeof(double) * (size_t)nb);
      for (int a = 0; a < ss; a++)
        for (int b = 0; b < ss; b++) {
          sim_sample s;
          sim_sample_at(w, e + ((b + 0.5) / ss - 0.5) * sc->gsd_m, nn - ((a + 0.5) / ss - 0.5) * sc->gsd_m,
                        p, ps->hour, &s);
          for (int k = 0; k < s.n; k++)
            for (int band = 0; band < nb; band++)
              acc[band] += s.w[k] * w->spec[s.m[k]][band];
        }
      sim_normal(w, e, nn, nrm);
      illum = sun[2] > 0.05 ? fmax(0.0, nrm[0] * sun[0] + nrm[1] * sun[1] + nrm[2] * sun[2]) / sun[2] : 0.0;
      illum = gain * (0.2 + 0.8 * fmin(illum, 1.6));
      for (int band = 0; band < nb; band++)
        px[band] = (float)(acc[band] / (ss * ss) * illum +
                           sigma * sim_hash_normal(sc->seed, 1000 + (uint64_t)p, (uint64_t)row * (uint64_t)n + (uint64_t)col,
                                                   (uint64_t)band));
    }
    if (row % 32 == 0)
      progress(fn, ud, "cube", p, (double)row / n);
  }
  c->wavelength_um = malloc((size_t)nb * sizeof *c->wavelength_um);
  if (!c->wavelength_um)
    rc = vg_error_set(VG_E_NOMEM, "simulator");
  else
    memcpy(c->wavelength_um, w->wl, (size_t)nb * sizeof *c->wavelength_um);
  c->time_us = sim_pass_time_us(sc, p);
  if (rc == VG_OK && (rc = georef(c, sc, -half, half, sc->gsd_m)) == VG_OK)
    rc = vg_raster_write_cube(path, c);
  vg_cube_free(c);
  progress(fn, ud, "cube", p, 1.0);
  return rc;
}

static int render_thermal(const sim_world *w, int p, const char *path, vg_sim_progress_fn fn, void *ud)
{
  const vg_sim_scenario *sc = w->sc;
  const vg_sim_pass *ps = &sc->pass[p - 1];
  int n = (int)llround(sc->size_m / sc->gsd_m);
  double half = 0.5 * n * sc->gsd_m;
  vg_cube *c = NULL;
  warp wp;
  int rc;
  if ((rc = vg_cube_new(&c, n, n, 1)) != VG_OK)
    return rc;
  warp_of(sc, p, 1, &wp);
  for (int row = 0; row < n; row++) {
    for (int col = 0; col < n; col++) {
      double e = -half + (col + 0.5) * sc->gsd_m, nn = half - (row + 0.5) * sc->gsd_m, t = 0, de, dn;
      int ss;
      warp_at(&wp, e, nn, &de, &dn);
      e -= de;
      nn -= dn;
      ss = sim_objects_near(w, e, nn, sc->gsd_m) ? 3 : 1;
      for (int a = 0; a < ss; a++)
        for (int b = 0; b < ss; b++) {
          double se = e + ((b + 0.5) / ss - 0.5) * sc->gsd_m, sn = nn - ((a + 0.5) / ss - 0.5) * sc->gsd_m;
          sim_sample s;
          sim_sample_at(w, se, sn, p, ps->hour, &s);
          t += sim_surface_temp(w, &s, se, sn, ps->hour);
        }
      c->data[(size_t)row * (size_t)n + (size_t)col] =
        (float)(t / (ss * ss) +
                sc->netd_k * sim_hash_normal(sc->seed, 2000 + (uint64_t)p, (uint64_t)row * (uint64_t)n + (uint64_t)col, 0));
    }
    if (row % 32 == 0)
      progress(fn, ud, "thermal", p, (double)row / n);
  }
  c->time_us = sim_pass_time_us(sc, p) + 60000000; /* the thermal run a minute later */
  if ((rc = georef(c, sc, -half, half, sc->gsd_m)) == VG_OK)
    rc = vg_raster_write_tiff(path, c, 0);
  vg_cube_free(c);
  progress(fn, ud, "thermal", p, 1.0);
  return rc;
}

/* ---- truth --------------------------------------------------------------------------------- */

static const char *type_name(const sim_obj *o)
{
  switch (o->t) {
  case O_SITE: return o->clear_r > 0 ? "tarp-clearing" : "tarp";
  case O_VEHICLE: return "vehicle";
  case O_ROOF: return "roof";
  case O_ROCK: return "rock";
  case O_WARM_ROCK: return "warm-rock";
  }
  return "?";
}

static int write_truth(const sim_world *w, const char *path)
{
  vg_buf b;
  vg_jw j;
  FILE *f;
  int rc;
  vg_buf_init(&b, 256u << 20);
  vg_jw_init(&j, &b, 1);
  vg_jw_obj_begin(&j);
  vg_jw_key(&j, "type");
  vg_jw_str(&j, "FeatureCollection");
  vg_jw_key(&j, "name");
  vg_jw_str(&j, w->sc->name);
  vg_jw_key(&j, "features");
  vg_jw_arr_begin(&j);
  for (size_t k = 0; k < w->nobj; k++) {
    const sim_obj *o = &w->obj[k];
    double lat, lon;
    sim_en_to_ll(w->sc, o->e, o->n, &lat, &lon);
    vg_jw_obj_begin(&j);
    vg_jw_key(&j, "type");
    vg_jw_str(&j, "Feature");
    vg_jw_key(&j, "geometry");
    vg_jw_obj_begin(&j);
    vg_jw_key(&j, "type");
    vg_jw_str(&j, "Point");
    vg_jw_key(&j, "coordinates");
    vg_jw_arr_begin(&j);
    vg_jw_real(&j, round(lon * 1e8) / 1e8);
    vg_jw_real(&j, round(lat * 1e8) / 1e8);
    vg_jw_real(&j, round(sim_height(w, o->e, o->n) * 100) / 100);
    vg_jw_arr_end(&j);
    vg_jw_obj_end(&j);
    vg_jw_key(&j, "properties");
    vg_jw_obj_begin(&j);
    vg_jw_key(&j, "id");
    vg_jw_str(&j, o->id);
    vg_jw_key(&j, "role");
    vg_jw_str(&j, o->t == O_SITE ? "site" : "distractor");
    vg_jw_key(&j, "type");
    vg_jw_str(&j, type_name(o));
    if (o->only_pass) {
      vg_jw_key(&j, "pass");
      vg_jw_int(&j, o->only_pass);
    }
    vg_jw_key(&j, "from_pass");
    vg_jw_int(&j, o->from_pass);
    {
      const char *mf = strrchr(sim_material_file(o->material), '/') + 1;
      const char *dot = strrchr(mf, '.');
      vg_jw_key(&j, "material");
      vg_jw_strn(&j, mf, dot ? (size_t)(dot - mf) : strlen(mf));
    }
    vg_jw_key(&j, "size_m");
    vg_jw_arr_begin(&j);
    vg_jw_real(&j, round(20 * o->a) / 10);
    vg_jw_real(&j, round(20 * o->b) / 10);
    vg_jw_arr_end(&j);
    if (o->t == O_SITE) {
      vg_jw_key(&j, "canopy");
      vg_jw_real(&j, round(o->canopy * 100) / 100);
    }
    if (o->warm_k > 0) {
      vg_jw_key(&j, "warm_k");
      vg_jw_real(&j, round(o->warm_k * 10) / 10);
    }
    vg_jw_obj_end(&j);
    vg_jw_obj_end(&j);
  }
  vg_jw_arr_end(&j);
  vg_jw_obj_end(&j);
  if ((rc = vg_jw_finish(&j)) != VG_OK) {
    vg_buf_free(&b);
    return rc;
  }
  f = fopen(path, "wb");
  if (!f || fwrite(b.data, 1, b.len, f) != b.len || fputc('\n', f) == EOF) {
    rc = vg_error_set(VG_E_IO, "simulator: cannot write %s: %s", path, strerror(errno));
  }
  if (f && fclose(f) != 0 && rc == VG_OK)
    rc = vg_error_set(VG_E_IO, "simulator: cannot write %s: %s", path, strerror(errno));
  vg_buf_free(&b);
  return rc;
}

static int write_buf(const char *path, const vg_buf *b)
{
  FILE *f = fopen(path, "wb");
  int rc = VG_OK;
  if (!f || fwrite(b->data, 1, b->len, f) != b->len || fputc('\n', f) == EOF)
    rc = vg_error_set(VG_E_IO, "simulator: cannot write %s: %s", path, strerror(errno));
  if (f && fclose(f) != 0 && rc == VG_OK)
    rc = vg_error_set(VG_E_IO, "simulator: cannot write %s: %s", path, strerror(errno));
  return rc;
}

int vg_sim_run(const vg_sim_scenario *sc, const char *data_dir, const char *out_dir, vg_sim_progress_fn fn,
               void *ud)
{
  sim_world *w = NULL;
  vg_geo_geoid *geoid = NULL;
  vg_geo_dem *dem = NULL, *dem_in = NULL;
  char path[4096];
  vg_buf b;
  int rc;
  {
    char banner[VG_MARKING_BANNER_MAX];
    if ((rc = sim_banner(sc, banner, sizeof banner)) != VG_OK) /* before anything is written */
      return rc;
  }
  if ((rc = mkdir_p(out_dir)) != VG_OK)
    return rc;
  if (vg_geo_geoid_open(&geoid, NULL) != VG_OK)
    return vg_error_set(VG_E_IO, "simulator: the EGM96 geoid is needed (proj-data): %s", vg_error_last());
  vg_buf_init(&b, 256u << 20);
  if ((rc = vg_sim_scenario_json(sc, &b)) != VG_OK)
    goto out;
  snprintf(path, sizeof path, "%s/scenario.json", out_dir);
  if ((rc = write_buf(path, &b)) != VG_OK)
    goto out;
  progress(fn, ud, "scene", 0, 0.0);
  if (sc->dem[0]) {
    vg_raster_dem_opts o = VG_RASTER_DEM_OPTS_INIT;
    if ((rc = vg_raster_dem_open(&dem_in, sc->dem, &o, geoid)) != VG_OK)
      goto out;
  }
  if ((rc = sim_world_new(&w, sc, data_dir, dem_in, geoid)) != VG_OK)
    goto out;
  snprintf(path, sizeof path, "%s/dem.tif", out_dir);
  if ((rc = make_dem(w, path, geoid, &dem)) != VG_OK)
    goto out;
  snprintf(path, sizeof path, "%s/truth.geojson", out_dir);
  if ((rc = write_truth(w, path)) != VG_OK)
    goto out;
  progress(fn, ud, "scene", 0, 1.0);
  for (int p = 1; p <= sc->npasses && rc == VG_OK; p++) {
    snprintf(path, sizeof path, "%s/pass%d", out_dir, p);
    if ((rc = mkdir_p(path)) != VG_OK)
      break;
    snprintf(path, sizeof path, "%s/pass%d/cube.tif", out_dir, p);
    if ((rc = render_cube(w, p, path, fn, ud)) != VG_OK)
      break;
    snprintf(path, sizeof path, "%s/pass%d/thermal.tif", out_dir, p);
    if ((rc = render_thermal(w, p, path, fn, ud)) != VG_OK)
      break;
    snprintf(path, sizeof path, "%s/pass%d/video.ts", out_dir, p);
    rc = sim_video(w, p, dem, path, fn, ud);
  }
out:
  vg_buf_free(&b);
  sim_world_free(w);
  vg_geo_dem_free(dem);
  vg_geo_dem_free(dem_in);
  vg_geo_geoid_free(geoid);
  return rc;
}
