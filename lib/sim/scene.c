/*
 * The simulated world (sim_int.h): deterministic randomness, terrain, land
 * cover mixed from real library spectra, and the hidden sites and their
 * look-alikes.
 *
 * Land cover: two value-noise fields (fbm) decide the class of each place
 * (oak and manzanita canopy, chamise shrub, dry grass, bare soil, rock
 * outcrops) and a third the mixing fraction between the class's two
 * endmembers, so that a class varies within itself as real ground does;
 * a dirt road crosses the scene. Every spectrum is a USGS splib07 spectrum
 * (../shared/data/spectra) resampled to the sensor's bands.
 *
 * Objects: sites are tarpaulins (the library's plastic and nylon tarps)
 * partly under canopy -- linear mixing of the tarp with oak foliage, the
 * hidden share varying from place to place around the site's mean -- with
 * the lab's heat as a Gaussian warm spot; sites appearing in a later pass
 * come with a fresh clearing (bare soil). Look-alikes: vehicles (painted
 * metal, a warm engine, somewhere else each pass), roofs (galvanized sheet,
 * shingle, green fiberglass: hot under the sun), rock outcrops, and rock
 * faces that the noon sun heats.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

/* ---- randomness ------------------------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream)
{
  r->s = mix64(seed * 0x9E3779B97F4A7C15ull + stream * 0xD1B54A32D192ED03ull + 1);
}

uint64_t sim_rng_u64(sim_rng *r)
{
  r->s += 0x9E3779B97F4A7C15ull;
  return mix64(r->s);
}

double sim_rng_uniform(sim_rng *r)
{
  return (double)(sim_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double sim_rng_range(sim_rng *r, double a, double b)
{
  return a + (b - a) * sim_rng_uniform(r);
}

double sim_rng_normal(sim_rng *r)
{
  double u1 = sim_rng_uniform(r), u2 = sim_rng_uniform(r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Sensor noise: the sum of four 16-bit uniforms of one hash, scaled to unit variance
 * (Irwin-Hall: within 1e-3 of the normal's quantiles out to 2.5 sigma, bounded at 3.46). */
double sim_hash_normal(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
  uint64_t h = mix64(seed ^ mix64(a ^ mix64(b * 0x9E3779B97F4A7C15ull ^ c)));
  double sum = (double)(h & 0xffff) + (double)((h >> 16) & 0xffff) + (double)((h >> 32) & 0xffff) +
               (double)(h >> 48);
  return (sum / 65535.0 - 2.0) * 1.7320508075688772;
}

static double lattice(uint64_t seed, int64_t i, int64_t j)
{
  return (double)(mix64(seed ^ mix64((uint64_t)i * 0x9E3779B97F4A7C15ull ^ (uint64_t)j)) >> 11) *
         (1.0 / 9007199254740992.0);
}

static double smooth(double t)
{
  return t * t * t * (t * (t * 6 - 15) + 10);
}

static double value_noise(uint64_t seed, double x, double y)
{
  double fx = floor(x), fy = floor(y), tx = smooth(x - fx), ty = smooth(y - fy);
  int64_t i = (int64_t)fx, j = (int64_t)fy;
  double a = lattice(seed, i, j), b = lattice(seed, i + 1, j), c = lattice(seed, i, j + 1),
         d = lattice(seed, i + 1, j + 1);
  return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

double sim_fbm(uint64_t seed, double e, double n, double scale, int oct)
{
  double sum = 0, amp = 1, norm = 0, f = 1.0 / scale;
  for (int k = 0; k < oct; k++) {
    sum += amp * value_noise(seed + (uint64_t)k * 1013, e * f, n * f);
    norm += amp;
    amp *= 0.5;
    f *= 2.0;
  }
  return sum / norm;
}

/* ---- frames ----------------------------------------------------------------------------- */

void sim_en_to_ll(const vg_sim_scenario *sc, double e, double n, double *lat, double *lon)
{
  *lat = sc->lat0 + n / (SIM_R_EARTH * SIM_DEG);
  *lon = sc->lon0 + e / (SIM_R_EARTH * SIM_DEG * cos(sc->lat0 * SIM_DEG));
}

void sim_ll_to_en(const vg_sim_scenario *sc, double lat, double lon, double *e, double *n)
{
  *n = (lat - sc->lat0) * SIM_R_EARTH * SIM_DEG;
  *e = (lon - sc->lon0) * SIM_R_EARTH * SIM_DEG * cos(sc->lat0 * SIM_DEG);
}

/* ---- terrain ---------------------------------------------------------------------------- */

/* Bilinear lookup of field k; the analytic value outside the grid. */
static double field(const sim_world *w, int k, double e, double n)
{
  double x = (e + w->half_world) / FIELD_STEP, y = (n + w->half_world) / FIELD_STEP, fx, fy;
  int i, j;
  const float *f = w->fld[k];
  if (!f || !(x >= 0 && y >= 0 && x < w->nf - 1 && y < w->nf - 1))
    return NAN;
  i = (int)x;
  j = (int)y;
  fx = x - i;
  fy = y - j;
  f += (size_t)j * (size_t)w->nf + (size_t)i;
  return (1 - fy) * ((1 - fx) * f[0] + fx * f[1]) + fy * ((1 - fx) * f[w->nf] + fx * f[w->nf + 1]);
}

static double height_exact(const sim_world *w, double e, double n);

double sim_height(const sim_world *w, double e, double n)
{
  double h = field(w, F_HEIGHT, e, n);
  return isfinite(h) ? h : height_exact(w, e, n);
}

static double height_exact(const sim_world *w, double e, double n)
{
  if (w->dem_file) {
    double lat, lon, h;
    sim_en_to_ll(w->sc, e, n, &lat, &lon);
    h = vg_geo_dem_h(w->dem_file, lat, lon);
    if (isfinite(h))
      return h - (w->geoid ? vg_geo_geoid_n(w->geoid, lat, lon) : 0.0);
    return w->sc->base_msl_m;
  }
  {
    double h = w->sc->base_msl_m;
    for (int k = 0; k < w->nhills; k++) {
      double de = e - w->hill[k][0], dn = n - w->hill[k][1], s = w->hill[k][2];
      h += w->hill[k][3] * exp(-(de * de + dn * dn) / (2 * s * s));
    }
    /* rough ground: a few metres of small relief */
    h += 6.0 * (sim_fbm(w->sc->seed + 11, e, n, 90, 3) - 0.5);
    return h;
  }
}

void sim_normal(const sim_world *w, double e, double n, double nrm[3])
{
  const double d = 2.0;
  double ge = (sim_height(w, e + d, n) - sim_height(w, e - d, n)) / (2 * d);
  double gn = (sim_height(w, e, n + d) - sim_height(w, e, n - d)) / (2 * d);
  double l = sqrt(ge * ge + gn * gn + 1);
  nrm[0] = -ge / l;
  nrm[1] = -gn / l;
  nrm[2] = 1 / l;
}

void sim_sun(double hour, double sun[3], double *heat)
{
  /* a tropical June sun: rises in the east-north-east at 6, high at noon, sets at 18 */
  double t = (hour - 6.0) / 12.0, el, az;
  el = (t > 0 && t < 1) ? 80.0 * sin(M_PI * t) : -5.0;
  az = 70.0 + 220.0 * fmin(fmax(t, 0.0), 1.0); /* from north, clockwise */
  sun[0] = cos(el * SIM_DEG) * sin(az * SIM_DEG);
  sun[1] = cos(el * SIM_DEG) * cos(az * SIM_DEG);
  sun[2] = sin(el * SIM_DEG);
  /* solar loading lags the sun: the ground is hottest two hours after noon */
  {
    double tl = (hour - 7.0) / 12.0;
    *heat = (tl > 0 && tl < 1) ? sin(M_PI * tl) : 0.0;
  }
}

/* ---- materials ---------------------------------------------------------------------------- */

static const char *const k_material_file[M__COUNT] = {
  [M_OAK] = "vegetation/leather_oak_bush_CA01-QUDU-1.csv",
  [M_MANZANITA] = "vegetation/manzanita_bush_CA01-ARVI-1.csv",
  [M_CHAMISE] = "vegetation/chamise_bush_CA01-ADFA-1.csv",
  [M_GRASS_DRY] = "vegetation/grass_golden_dry_GDS480.csv",
  [M_RANGELAND] = "vegetation/rangeland_grass_mix_L02-013.csv",
  [M_SOIL] = "soil_rock/playa_dry_mud_stonewall.csv",
  [M_SOIL_RED] = "soil_rock/red_sand_hematite2pct_quartz_GDS76_beck.csv",
  [M_LIMESTONE] = "soil_rock/limestone_CU02-11A.csv",
  [M_RHYOLITE] = "soil_rock/rhyolite_desert_varnish_GDS78A_beck.csv",
  [M_TUFF] = "soil_rock/volcanic_tuff_hydrated_CU01-4A.csv",
  [M_SAND] = "soil_rock/sand_dry_DWO-3-DEL2ar1.csv",
  [M_BASALT] = "soil_rock/basalt_weathered_BR93-43_beck.csv",
  [M_TARP_BLUE] = "plastic/tarp_blue_woven_GDS340.csv",
  [M_TARP_GREEN] = "plastic/tarp_green_ripstop_GDS339.csv",
  [M_HDPE_BLACK] = "plastic/hdpe_black_sheet_GDS351.csv",
  [M_HDPE_WHITE] = "plastic/hdpe_white_opaque_GDS384.csv",
  [M_VISQUEEN] = "plastic/visqueen_clear_sheeting_GDS370.csv",
  [M_HDPE_BLUEGREEN] = "plastic/hdpe_blue_green_GDS391.csv",
  [M_GALVANIZED] = "construction/galvanized_corrugated_sheet_metal_GDS334.csv",
  [M_SHINGLE] = "construction/asphalt_shingle_dark_grey_GDS367.csv",
  [M_FIBERGLASS] = "construction/fiberglass_green_roofing_GDS336.csv",
  [M_PAINTED_AL] = "construction/painted_aluminum_roofing_light_grey_GDS333.csv",
  [M_TIN_RUST] = "construction/rusted_tin_can_GDS378.csv",
};

const char *sim_material_file(int m)
{
  return (unsigned)m < M__COUNT ? k_material_file[m] : "?";
}

/* Band centres spread evenly over the atmospheric windows: no oxygen A band
 * (0.76 um), no water bands (0.94, 1.13, 1.38, 1.87 um), where a real sensor
 * sees little of the ground and the library's field spectra are deleted. */
static int make_bands(int nb, double *wl)
{
  static const double win[][2] = {{0.45, 0.745}, {0.78, 0.91}, {0.965, 1.095}, {1.17, 1.32}, {1.50, 1.75}, {2.05, 2.35}};
  const int nw = (int)(sizeof win / sizeof win[0]);
  double total = 0;
  for (int k = 0; k < nw; k++)
    total += win[k][1] - win[k][0];
  for (int i = 0; i < nb; i++) {
    double x = total * i / (nb - 1), acc = 0;
    for (int k = 0; k < nw; k++) {
      double len = win[k][1] - win[k][0];
      if (x <= acc + len + 1e-12 || k == nw - 1) {
        wl[i] = win[k][0] + fmin(x - acc, len);
        break;
      }
      acc += len;
    }
  }
  return nb;
}

static int load_materials(sim_world *w, const char *data_dir)
{
  static const double bgr_wl[3] = {SIM_RGB_B, SIM_RGB_G, SIM_RGB_R};
  w->bands = make_bands(w->sc->bands, w->wl);
  for (int m = 0; m < M__COUNT; m++) {
    char path[1024];
    vg_speclib *lib = NULL;
    int rc;
    snprintf(path, sizeof path, "%s/spectra/usgs/%s", data_dir, k_material_file[m]);
    if ((rc = vg_speclib_read(&lib, path)) != VG_OK)
      return rc;
    rc = vg_speclib_resample(lib, 0, w->wl, w->bands, w->spec[m]);
    if (rc == VG_OK) {
      /* the video's bands are wider (a camera, not a spectrometer): 0.1 um */
      float tmp[3];
      rc = vg_speclib_resample(lib, 0, bgr_wl, 3, tmp);
      w->rgb[m][0] = tmp[2];
      w->rgb[m][1] = tmp[1];
      w->rgb[m][2] = tmp[0];
    }
    vg_speclib_free(lib);
    if (rc != VG_OK) {
      char why[512];
      snprintf(why, sizeof why, "%s", vg_error_last());
      return vg_error_set(rc, "simulator material %s: %s", path, why);
    }
  }
  return VG_OK;
}

/* ---- objects ------------------------------------------------------------------------------ */

/* Whether (e, n) lies in the object's rectangle (its footprint on the ground). */
static int in_rect(const sim_obj *o, double e, double n)
{
  double de = e - o->e, dn = n - o->n, c = cos(o->ang), s = sin(o->ang);
  double u = de * c + dn * s, v = -de * s + dn * c;
  return fabs(u) <= o->a && fabs(v) <= o->b;
}

static double obj_reach(const sim_obj *o)
{
  double r = hypot(o->a, o->b);
  if (o->clear_r > r)
    r = o->clear_r;
  if (o->t == O_SITE || o->t == O_VEHICLE)
    r = fmax(r, 3.0 * fmax(o->a, o->b)); /* the warm spot's tail */
  return r + 2.0;
}

static int bin_objects(sim_world *w)
{
  int nc = w->ncell = (int)ceil(2 * w->half_world / OBJ_CELL);
  size_t cap = 0;
  w->cell_head = malloc((size_t)nc * (size_t)nc * sizeof *w->cell_head);
  if (!w->cell_head)
    return vg_error_set(VG_E_NOMEM, "simulator object grid");
  for (size_t i = 0; i < (size_t)nc * (size_t)nc; i++)
    w->cell_head[i] = -1;
  for (size_t k = 0; k < w->nobj; k++) {
    const sim_obj *o = &w->obj[k];
    double r = obj_reach(o);
    int i0 = (int)floor((o->e - r + w->half_world) / OBJ_CELL), i1 = (int)floor((o->e + r + w->half_world) / OBJ_CELL);
    int j0 = (int)floor((o->n - r + w->half_world) / OBJ_CELL), j1 = (int)floor((o->n + r + w->half_world) / OBJ_CELL);
    for (int j = j0 < 0 ? 0 : j0; j <= j1 && j < nc; j++)
      for (int i = i0 < 0 ? 0 : i0; i <= i1 && i < nc; i++) {
        if (w->ncell_links == cap) {
          size_t ncap = cap ? 2 * cap : 256;
          int32_t *a = realloc(w->cell_next, ncap * sizeof *a), *b;
          if (!a)
            return vg_error_set(VG_E_NOMEM, "simulator object grid");
          w->cell_next = a;
          if (!(b = realloc(w->cell_obj, ncap * sizeof *b)))
            return vg_error_set(VG_E_NOMEM, "simulator object grid");
          w->cell_obj = b;
          cap = ncap;
        }
        w->cell_obj[w->ncell_links] = (int32_t)k;
        w->cell_next[w->ncell_links] = w->cell_head[(size_t)j * (size_t)nc + (size_t)i];
        w->cell_head[(size_t)j * (size_t)nc + (size_t)i] = (int32_t)w->ncell_links;
        w->ncell_links++;
      }
  }
  return VG_OK;
}

/* A place at least @p sep metres from every object placed so far, inside the scene's inner part. */
static int place(sim_world *w, sim_rng *r, double sep, double *e, double *n)
{
  double h = 0.42 * w->sc->size_m;
  for (int tries = 0; tries < 10000; tries++) {
    int ok = 1;
    *e = sim_rng_range(r, -h, h);
    *n = sim_rng_range(r, -h, h);
    for (size_t k = 0; k < w->nobj && ok; k++)
      ok = hypot(w->obj[k].e - *e, w->obj[k].n - *n) >= sep;
    /* not on the road */
    if (ok && fabs(*n - (w->road_n0 + w->road_a * sin(*e / w->road_w))) < 15)
      ok = 0;
    if (ok)
      return VG_OK;
  }
  return vg_error_set(VG_E_LIMIT, "simulator: no room for %zu objects %.0f m apart in a %.0f m scene",
                      w->nobj + 1, sep, w->sc->size_m);
}

static int add_obj(sim_world *w, const sim_obj *o, size_t *cap)
{
  if (w->nobj == *cap) {
    size_t nc = *cap ? 2 * *cap : 64;
    sim_obj *a = realloc(w->obj, nc * sizeof *a);
    if (!a)
      return vg_error_set(VG_E_NOMEM, "simulator objects");
    w->obj = a;
    *cap = nc;
  }
  w->obj[w->nobj++] = *o;
  return VG_OK;
}

/* Sites 80 m apart from everything (so that a 25 m tolerance scores one thing), look-alikes 50 m. */
#define SEP_SITE 80.0
#define SEP_OTHER 50.0

static int make_objects(sim_world *w)
{
  const vg_sim_scenario *sc = w->sc;
  sim_rng r;
  size_t cap = 0;
  int rc = VG_OK;
  sim_rng_seed(&r, sc->seed, 2);
  for (int i = 0; i < sc->sites && rc == VG_OK; i++) {
    sim_obj o;
    memset(&o, 0, sizeof o);
    o.t = O_SITE;
    snprintf(o.id, sizeof o.id, "site-%d", i + 1);
    if ((rc = place(w, &r, SEP_SITE, &o.e, &o.n)) != VG_OK)
      break;
    o.material = M_FIRST_TARP + (int)(sim_rng_u64(&r) % M_NTARPS);
    o.a = sim_rng_range(&r, 2.5, 4.5);
    o.b = sim_rng_range(&r, 2.0, 3.5);
    o.ang = sim_rng_range(&r, 0, M_PI);
    o.canopy = sim_rng_range(&r, sc->canopy_min, sc->canopy_max);
    o.warm_k = sim_rng_range(&r, sc->warm_min_k, sc->warm_max_k);
    o.from_pass = 1;
    if (i >= sc->sites - sc->sites_new) { /* the last ones appear later, in a fresh clearing */
      o.from_pass = sc->new_from_pass;
      o.clear_r = sim_rng_range(&r, 9, 13);
    }
    rc = add_obj(w, &o, &cap);
  }
  for (int i = 0; i < sc->roofs && rc == VG_OK; i++) {
    static const int mats[] = {M_GALVANIZED, M_SHINGLE, M_FIBERGLASS, M_PAINTED_AL};
    sim_obj o;
    memset(&o, 0, sizeof o);
    o.t = O_ROOF;
    snprintf(o.id, sizeof o.id, "roof-%d", i + 1);
    if ((rc = place(w, &r, SEP_OTHER, &o.e, &o.n)) != VG_OK)
      break;
    o.material = mats[i % 4];
    o.a = sim_rng_range(&r, 4, 6);
    o.b = sim_rng_range(&r, 3, 4.5);
    o.ang = sim_rng_range(&r, 0, M_PI);
    o.from_pass = 1;
    rc = add_obj(w, &o, &cap);
  }
  for (int i = 0; i < sc->rocks + sc->warm_rocks && rc == VG_OK; i++) {
    static const int mats[] = {M_LIMESTONE, M_BASALT, M_RHYOLITE};
    sim_obj o;
    memset(&o, 0, sizeof o);
    o.t = i < sc->rocks ? O_ROCK : O_WARM_ROCK;
    snprintf(o.id, sizeof o.id, "%s-%d", o.t == O_ROCK ? "rock" : "warm-rock",
             o.t == O_ROCK ? i + 1 : i - sc->rocks + 1);
    if ((rc = place(w, &r, SEP_OTHER, &o.e, &o.n)) != VG_OK)
      break;
    o.material = mats[i % 3];
    o.a = sim_rng_range(&r, 2.5, 5);
    o.b = sim_rng_range(&r, 2, 4);
    o.ang = sim_rng_range(&r, 0, M_PI);
    o.facing = o.t == O_WARM_ROCK ? sim_rng_range(&r, 0.7, 1.0) : 0.0;
    o.from_pass = 1;
    rc = add_obj(w, &o, &cap);
  }
  /* vehicles: a different place in every pass, on or beside the road */
  for (int i = 0; i < sc->vehicles && rc == VG_OK; i++)
    for (int p = 1; p <= sc->npasses && rc == VG_OK; p++) {
      static const int mats[] = {M_PAINTED_AL, M_TIN_RUST, M_GALVANIZED};
      sim_obj o;
      double h = 0.42 * sc->size_m;
      memset(&o, 0, sizeof o);
      o.t = O_VEHICLE;
      snprintf(o.id, sizeof o.id, "vehicle-%d", i + 1);
      o.e = sim_rng_range(&r, -h, h);
      o.n = w->road_n0 + w->road_a * sin(o.e / w->road_w) + sim_rng_range(&r, -4, 4);
      o.material = mats[i % 3];
      o.a = 2.3;
      o.b = 0.95;
      o.ang = atan(w->road_a / w->road_w * cos(o.e / w->road_w));
      o.warm_k = sim_rng_uniform(&r) < 0.5 ? sim_rng_range(&r, 4, 10) : 0.0;
      o.only_pass = p;
      o.from_pass = 1;
      rc = add_obj(w, &o, &cap);
    }
  return rc;
}

typedef struct {
  sim_world *w;
  int j0, j1;
} field_job;

static void *field_rows(void *arg)
{
  field_job *fj = arg;
  sim_world *w = fj->w;
  uint64_t seed = w->sc->seed;
  for (int j = fj->j0; j < fj->j1; j++)
    for (int i = 0; i < w->nf; i++) {
      double e = -w->half_world + i * FIELD_STEP, n = -w->half_world + j * FIELD_STEP;
      size_t k = (size_t)j * (size_t)w->nf + (size_t)i;
      w->fld[F_HEIGHT][k] = (float)height_exact(w, e, n);
      w->fld[F_VEG][k] = (float)sim_fbm(seed + 101, e, n, 160, 4);
      w->fld[F_ROCK][k] = (float)sim_fbm(seed + 202, e, n, 70, 3);
      w->fld[F_MIX][k] = (float)sim_fbm(seed + 303, e, n, 12, 3);
    }
  return NULL;
}

/* The fields on their grid, two threads (each sample is a pure function of its place). */
static int make_fields(sim_world *w)
{
  field_job jobs[2];
  pthread_t th;
  int threaded;
  w->nf = (int)ceil(2 * w->half_world / FIELD_STEP) + 1;
  for (int k = 0; k < 4; k++)
    if (!(w->fld[k] = malloc((size_t)w->nf * (size_t)w->nf * sizeof(float))))
      return vg_error_set(VG_E_NOMEM, "simulator fields of %d x %d", w->nf, w->nf);
  jobs[0] = (field_job){w, 0, w->nf / 2};
  jobs[1] = (field_job){w, w->nf / 2, w->nf};
  threaded = pthread_create(&th, NULL, field_rows, &jobs[1]) == 0;
  field_rows(&jobs[0]);
  if (threaded)
    pthread_join(th, NULL);
  else
    field_rows(&jobs[1]);
  return VG_OK;
}

int sim_world_new(sim_world **out, const vg_sim_scenario *sc, const char *data_dir, const vg_geo_dem *dem,
                  const vg_geo_geoid *geoid)
{
  sim_world *w = calloc(1, sizeof *w);
  sim_rng r;
  int rc;
  if (!w)
    return vg_error_set(VG_E_NOMEM, "simulator world");
  w->sc = sc;
  w->dem_file = dem;
  w->geoid = geoid;
  if (sc->bands > 256) {
    free(w);
    return vg_error_set(VG_E_LIMIT, "simulator: %d bands (at most 256)", sc->bands);
  }
  /* the world reaches past the scene far enough for the video's oblique views */
  w->half_world = 0.5 * sc->size_m + sc->leg_sep_m + 2.0 * sc->alt_agl_m + 500.0;
  sim_rng_seed(&r, sc->seed, 1);
  w->nhills = 10;
  for (int k = 0; k < w->nhills; k++) {
    w->hill[k][0] = sim_rng_range(&r, -0.8, 0.8) * w->half_world;
    w->hill[k][1] = sim_rng_range(&r, -0.8, 0.8) * w->half_world;
    w->hill[k][2] = sim_rng_range(&r, 200, 600);
    w->hill[k][3] = sc->relief_m * sim_rng_range(&r, -0.4, 1.0);
  }
  w->road_n0 = sim_rng_range(&r, -0.25, 0.25) * sc->size_m;
  w->road_a = sim_rng_range(&r, 30, 80);
  w->road_w = sim_rng_range(&r, 120, 250);
  if ((rc = load_materials(w, data_dir)) != VG_OK || (rc = make_objects(w)) != VG_OK ||
      (rc = bin_objects(w)) != VG_OK || (rc = make_fields(w)) != VG_OK) {
    sim_world_free(w);
    return rc;
  }
  *out = w;
  return VG_OK;
}

void sim_world_free(sim_world *w)
{
  if (!w)
    return;
  for (int k = 0; k < 4; k++)
    free(w->fld[k]);
  free(w->obj);
  free(w->cell_head);
  free(w->cell_next);
  free(w->cell_obj);
  free(w);
}

int sim_objects_near(const sim_world *w, double e, double n, double r)
{
  int i0 = (int)floor((e - r + w->half_world) / OBJ_CELL), i1 = (int)floor((e + r + w->half_world) / OBJ_CELL);
  int j0 = (int)floor((n - r + w->half_world) / OBJ_CELL), j1 = (int)floor((n + r + w->half_world) / OBJ_CELL);
  for (int j = j0 < 0 ? 0 : j0; j <= j1 && j < w->ncell; j++)
    for (int i = i0 < 0 ? 0 : i0; i <= i1 && i < w->ncell; i++)
      if (w->cell_head[(size_t)j * (size_t)w->ncell + (size_t)i] >= 0)
        return 1;
  return 0;
}

/* ---- what the ground is ------------------------------------------------------------------ */

static void mix_add(sim_sample *s, int m, double wgt)
{
  if (wgt <= 0)
    return;
  for (int k = 0; k < s->n; k++)
    if (s->m[k] == m) {
      s->w[k] += (float)wgt;
      return;
    }
  if (s->n < SIM_MIX) {
    s->m[s->n] = m;
    s->w[s->n++] = (float)wgt;
  }
}

/* Scales the mixture to weight @p f (the rest is left for what covers it). */
static void mix_scale(sim_sample *s, double f)
{
  for (int k = 0; k < s->n; k++)
    s->w[k] *= (float)f;
}

static void background(const sim_world *w, double e, double n, sim_sample *s)
{
  uint64_t seed = w->sc->seed;
  double v = field(w, F_VEG, e, n), rock = field(w, F_ROCK, e, n), f = field(w, F_MIX, e, n);
  if (!isfinite(v)) {
    v = sim_fbm(seed + 101, e, n, 160, 4);
    rock = sim_fbm(seed + 202, e, n, 70, 3);
    f = sim_fbm(seed + 303, e, n, 12, 3);
  }
  double road = fabs(n - (w->road_n0 + w->road_a * sin(e / w->road_w)));
  s->n = 0;
  s->dT = 0;
  s->sun_k = NAN;
  if (road < 3.0) {
    s->cover = 5;
    mix_add(s, M_SAND, 0.5 + 0.3 * f);
    mix_add(s, M_SOIL, 0.5 - 0.3 * f);
    return;
  }
  if (rock > 0.74) {
    s->cover = 4;
    mix_add(s, M_TUFF, 0.3 + 0.5 * f);
    mix_add(s, M_RHYOLITE, 0.7 - 0.5 * f);
    return;
  }
  if (v > 0.58) {
    s->cover = 0;
    mix_add(s, M_OAK, 0.35 + 0.6 * f);
    mix_add(s, M_MANZANITA, 0.65 - 0.6 * f);
  } else if (v > 0.47) {
    s->cover = 1;
    mix_add(s, M_CHAMISE, 0.55 + 0.4 * f);
    mix_add(s, M_GRASS_DRY, 0.45 - 0.4 * f);
  } else if (v > 0.34) {
    s->cover = 2;
    mix_add(s, M_RANGELAND, 0.5 + 0.45 * f);
    mix_add(s, M_GRASS_DRY, 0.5 - 0.45 * f);
  } else {
    s->cover = 3;
    mix_add(s, M_SOIL, 0.5 + 0.45 * f);
    mix_add(s, M_SOIL_RED, 0.5 - 0.45 * f);
  }
}

void sim_sample_at(const sim_world *w, double e, double n, int pass, double hour, sim_sample *s)
{
  int i = (int)floor((e + w->half_world) / OBJ_CELL), j = (int)floor((n + w->half_world) / OBJ_CELL);
  double sun[3], heat;
  background(w, e, n, s);
  if (i < 0 || j < 0 || i >= w->ncell || j >= w->ncell || w->cell_head[(size_t)j * (size_t)w->ncell + (size_t)i] < 0)
    return;
  sim_sun(hour, sun, &heat);
  for (int32_t l = w->cell_head[(size_t)j * (size_t)w->ncell + (size_t)i]; l >= 0; l = w->cell_next[l]) {
    const sim_obj *o = &w->obj[w->cell_obj[l]];
    double d2 = (e - o->e) * (e - o->e) + (n - o->n) * (n - o->n);
    if (pass < o->from_pass || (o->only_pass && o->only_pass != pass))
      continue;
    if (o->clear_r > 0 && d2 <= o->clear_r * o->clear_r) { /* the fresh clearing: bare soil */
      double edge = fmin(1.0, (o->clear_r - sqrt(d2)) / 2.0);
      mix_scale(s, 1.0 - edge);
      mix_add(s, M_SOIL, edge * 0.7);
      mix_add(s, M_SOIL_RED, edge * 0.3);
      s->cover = 3;
    }
    if (o->t == O_SITE || o->t == O_VEHICLE) { /* heat: a Gaussian around the centre */
      double sg = 0.6 * fmax(o->a, o->b);
      s->dT += o->warm_k * (o->t == O_SITE ? 1.0 - 0.4 * o->canopy : 1.0) * exp(-d2 / (2 * sg * sg));
    }
    if (!in_rect(o, e, n))
      continue;
    switch (o->t) {
    case O_SITE: {
      /* foliage over the tarp: the hidden share varies around the site's mean */
      double c = o->canopy + 0.5 * (sim_fbm(w->sc->seed + 404, e, n, 3, 2) - 0.5);
      c = c < 0 ? 0 : c > 0.95 ? 0.95 : c;
      s->n = 0;
      mix_add(s, o->material, 1.0 - c);
      mix_add(s, M_OAK, c);
      s->cover = 0;
      /* exposed plastic heats in the sun like a roof; the foliage over it does not */
      s->sun_k = (1.0 - c) * 12.0 + c * 1.5;
      break;
    }
    case O_ROOF:
      s->n = 0;
      mix_add(s, o->material, 1.0);
      /* metal and dark roofs heat most under the sun */
      s->dT += heat * (o->material == M_GALVANIZED || o->material == M_SHINGLE ? 22.0 : 14.0) * heat;
      break;
    case O_VEHICLE:
      s->n = 0;
      mix_add(s, o->material, 1.0);
      s->dT += 10.0 * heat * heat;
      break;
    case O_ROCK:
    case O_WARM_ROCK:
      s->n = 0;
      mix_add(s, o->material, 1.0);
      s->cover = 4;
      /* a face turned to the noon sun: heats only around noon */
      if (o->t == O_WARM_ROCK)
        s->dT += 14.0 * o->facing * pow(fmax(0.0, sun[2]), 4.0);
      break;
    }
  }
}

double sim_surface_temp(const sim_world *w, const sim_sample *s, double e, double n, double hour)
{
  static const double k_sun_k[6] = {1.5, 5.0, 7.0, 10.0, 11.0, 12.0}; /* canopy .. road */
  double sun[3], heat, nrm[3], t_air, facing;
  sim_sun(hour, sun, &heat);
  /* air: 17 C before dawn, 31 C mid-afternoon */
  t_air = 24.0 + 7.0 * sin(M_PI * (hour - 9.0) / 12.0);
  sim_normal(w, e, n, nrm);
  facing = sun[2] > 0 ? fmax(0.0, nrm[0] * sun[0] + nrm[1] * sun[1] + nrm[2] * sun[2]) / sun[2] : 0.0;
  facing = fmin(facing, 1.5);
  return t_air + (isfinite(s->sun_k) ? s->sun_k : k_sun_k[s->cover]) * heat * facing + 1.2 * (sim_fbm(w->sc->seed + 505, e, n, 40, 3) - 0.5) + s->dT;
}
