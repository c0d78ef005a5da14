/*
 * bench_geo: how fast vigia puts pixels on the ground, against PROJ in the
 * same run (DESIGN.md convention 11).
 *
 *   usage: bench_geo [VIEWS [PIXELS]]   random views (default BENCH_VIEWS) and
 *                                       pixels per view (default BENCH_PIXELS)
 *
 * Inputs (from VIGIA_DATA, else the VG_DATA_DIR the build was configured with):
 *   geo/dem/N57E011.hgt  SRTM3 tile, 1201 x 1201 samples, 57-58N 11-12E, MSL
 *       heights -6..163 m, read with vg_raster_dem_open (GDAL) and turned into
 *       HAE with the EGM96 geoid;
 *   the geoid of vg_geo_geoid_open(NULL): $VIGIA_GEOID, else Debian's
 *       /usr/share/proj/egm96_15.gtx (package proj-data).
 *
 * Views are drawn from a fixed-seed xorshift generator over the tile: sensor
 * at lat 57.1..57.9, lon 11.1..11.9, HAE 800..3000 m, absolute pointing
 * (EG 0104 style: azimuth 0..360, elevation -20..-85 deg, roll 0), HFOV
 * 5..30 deg, VFOV 0.75 HFOV, 1280 x 720 pixels; each view gets its camera
 * (vg_geo_camera_init, untimed) and PIXELS random pixels (u, v continuous).
 * Passes, each over every pixel of every view, one core, timed on the wall
 * clock (CLOCK_MONOTONIC), best of BENCH_RUNS:
 *   ellipsoid  vg_geo_camera_ground on {dem NULL, h = BENCH_GROUND_H}
 *   dem        vg_geo_camera_ground on {dem = the SRTM tile}
 *   proj_cart  peer: PROJ's geodetic -> ECEF, proj_create(ctx, "+proj=cart
 *              +ellps=WGS84") and proj_trans on one PJ_COORD (radians) per
 *              call, as many points as there are rays (random points over
 *              the tile, h 0..3000 m)
 *   llh_ecef   vg_geo_llh_to_ecef on the same points
 * Misses (VG_E_NOHIT) are counted apart from hits and from other errors; a
 * miss costs the formatting of its error detail, which is part of the time.
 * Ratios are speeds: (rays or points per second) / (PROJ's conversions per s).
 *
 * Checks (untimed): every BENCH_CHECK_EVERY-th hit is projected back with
 * vg_geo_camera_project and the largest pixel error is printed; the hit's
 * height is compared with the surface (h for the ellipsoid, vg_geo_dem_h for
 * the DEM); PROJ's and vigia's ECEF are compared on every point; misses are
 * grouped by their detail message.
 *
 * Targets: ellipsoid >= 5 M rays/s per core, DEM >= 0.5 M rays/s per core.
 * Exit status: 0 (whatever the speed), 77 when the tile or the geoid is absent.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <proj.h>

#include "vigia/geo.h"
#include "vigia/raster.h"

#ifndef VG_BENCH_DATA_DIR
#define VG_BENCH_DATA_DIR "../shared/data"
#endif

/* Runs per measurement; the best one is reported. */
#define BENCH_RUNS 3
/* Default random views and pixels per view (524288 rays: a DEM pass is about 1 s). */
#define BENCH_VIEWS 512
#define BENCH_PIXELS 1024
/* Largest VIEWS x PIXELS accepted (memory: about 80 bytes per ray). */
#define BENCH_MAX_RAYS ((size_t)1 << 25)
/* Seed of the xorshift generator: the same views on every run. */
#define BENCH_SEED 0x9e3779b97f4a7c15ull
/* Image size and ground height of the ellipsoid pass (m HAE). */
#define BENCH_W 1280
#define BENCH_H 720
#define BENCH_GROUND_H 50.0
/* Every this many hits is projected back for the pixel-error check. */
#define BENCH_CHECK_EVERY 16
/* Exit status that tells a test runner "skipped". */
#define EXIT_SKIP 77
/* Targets of the geolocation stage (rays per second per core). */
#define TARGET_ELL 5.0e6
#define TARGET_DEM 0.5e6

#define DEG (3.14159265358979323846 / 180.0)

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64* (Vigna 2016): fixed seed, so every run sees the same views. */
static uint64_t g_rng = BENCH_SEED;

static double uniform(double a, double b)
{
  uint64_t x = g_rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  g_rng = x;
  return a + (b - a) * ((double)((x * 0x2545f4914f6cdd1dull) >> 11) * 0x1.0p-53);
}

/* ---- the rays ---- */

typedef struct rays {
  size_t views, per_view, n;
  vg_geo_camera *cam;     /* views */
  double *u, *v;          /* n pixels, view k owns [k*per_view, (k+1)*per_view) */
  vg_geo_llh *hit;        /* n results of the last pass */
  signed char *rc;        /* n return codes of the last pass (VG_OK, VG_E_NOHIT, ...) */
} rays;

typedef struct counts {
  size_t hits, misses, errors;
} counts;

/* One pass of vg_geo_camera_ground over every pixel of every view. */
static counts pass_ground(rays *r, const vg_geo_ground *g)
{
  counts c = {0, 0, 0};
  for (size_t k = 0; k < r->views; k++) {
    const vg_geo_camera *cam = &r->cam[k];
    size_t i0 = k * r->per_view;
    for (size_t i = i0; i < i0 + r->per_view; i++) {
      int rc = vg_geo_camera_ground(cam, g, r->u[i], r->v[i], &r->hit[i], NULL);
      r->rc[i] = (signed char)rc;
      if (rc == VG_OK)
        c.hits++;
      else if (rc == VG_E_NOHIT)
        c.misses++;
      else
        c.errors++;
    }
  }
  return c;
}

/* ---- the points of the peer ---- */

typedef struct points {
  size_t n;
  vg_geo_llh *llh;   /* degrees, HAE */
  PJ_COORD *in;      /* the same in radians for PROJ */
  double *ours;      /* 3n: vigia's ECEF */
  double *theirs;    /* 3n: PROJ's ECEF */
} points;

static size_t pass_proj(PJ *p, points *pt)
{
  size_t ok = 0;
  for (size_t i = 0; i < pt->n; i++) {
    PJ_COORD o = proj_trans(p, PJ_FWD, pt->in[i]);
    pt->theirs[3 * i] = o.xyz.x;
    pt->theirs[3 * i + 1] = o.xyz.y;
    pt->theirs[3 * i + 2] = o.xyz.z;
    ok += o.xyz.x != HUGE_VAL;
  }
  return ok;
}

static size_t pass_llh_ecef(points *pt)
{
  for (size_t i = 0; i < pt->n; i++)
    vg_geo_llh_to_ecef(&pt->llh[i], &pt->ours[3 * i]);
  return pt->n;
}

/* ---- timing ---- */

typedef struct result {
  double best_s;
  size_t n;        /* rays or points per pass */
  counts c;        /* of the last run */
  int ok;          /* measured */
} result;

static result time_ground(rays *r, const vg_geo_ground *g)
{
  result res = {1e30, r->n, {0, 0, 0}, 1};
  for (int run = 0; run < BENCH_RUNS; run++) {
    double t0 = now_s(), dt;
    res.c = pass_ground(r, g);
    dt = now_s() - t0;
    if (dt < res.best_s)
      res.best_s = dt;
  }
  return res;
}

static result time_points(PJ *p, points *pt)
{
  result res = {1e30, pt->n, {0, 0, 0}, 1};
  for (int run = 0; run < BENCH_RUNS; run++) {
    double t0 = now_s(), dt;
    size_t ok = p ? pass_proj(p, pt) : pass_llh_ecef(pt);
    dt = now_s() - t0;
    if (dt < res.best_s)
      res.best_s = dt;
    res.c.hits = ok;
    res.c.errors = pt->n - ok;
  }
  return res;
}

static void row(const char *what, result r, double peer_per_s)
{
  double per_s = (double)r.n / r.best_s;
  char ratio[32];
  if (peer_per_s > 0)
    snprintf(ratio, sizeof ratio, "%.2f", per_s / peer_per_s);
  else
    snprintf(ratio, sizeof ratio, "n/a");
  printf("  %-10s %10zu %8zu %6zu %10.4f %10.3f %9.1f %8s\n", what, r.n, r.c.misses, r.c.errors,
         r.best_s, per_s / 1e6, r.best_s * 1e9 / (double)r.n, ratio);
}

/* ---- checks ---- */

typedef struct check {
  size_t checked, behind;
  double max_px;     /* largest back-projection error (pixels) */
  double max_dh;     /* largest |hit height - surface height| (m) */
} check;

static check check_hits(const rays *r, const vg_geo_ground *g)
{
  check ck = {0, 0, 0.0, 0.0};
  size_t seen = 0;
  for (size_t i = 0; i < r->n; i++) {
    double e[3], u, v, err, surf, dh;
    const vg_geo_camera *cam = &r->cam[i / r->per_view];
    if (r->rc[i] != VG_OK || seen++ % BENCH_CHECK_EVERY != 0)
      continue;
    vg_geo_llh_to_ecef(&r->hit[i], e);
    if (vg_geo_camera_project(cam, e, &u, &v) != VG_OK) {
      ck.behind++;
      continue;
    }
    err = hypot(u - r->u[i], v - r->v[i]);
    if (!(err <= ck.max_px))
      ck.max_px = err;
    surf = g->dem ? vg_geo_dem_h(g->dem, r->hit[i].lat, r->hit[i].lon) : g->h;
    dh = fabs(r->hit[i].h - surf);
    if (!(dh <= ck.max_dh))
      ck.max_dh = dh;
    ck.checked++;
  }
  return ck;
}

/* Misses of the last pass grouped by the start of their detail message (untimed re-run). */
#define MISS_KINDS 8
static void print_misses(const rays *r, const vg_geo_ground *g, const char *what)
{
  char kind[MISS_KINDS][48];
  size_t count[MISS_KINDS], nk = 0, other = 0;
  for (size_t i = 0; i < r->n; i++) {
    vg_geo_llh h;
    const char *msg;
    size_t k;
    char key[48];
    if (r->rc[i] == VG_OK)
      continue;
    (void)vg_geo_camera_ground(&r->cam[i / r->per_view], g, r->u[i], r->v[i], &h, NULL);
    msg = vg_error_last();
    snprintf(key, sizeof key, "%s", msg ? msg : "");
    for (k = 0; k < nk; k++)
      if (strcmp(kind[k], key) == 0)
        break;
    if (k == nk) {
      if (nk == MISS_KINDS) {
        other++;
        continue;
      }
      snprintf(kind[nk], sizeof kind[nk], "%s", key);
      count[nk++] = 0;
    }
    count[k]++;
  }
  for (size_t k = 0; k < nk; k++)
    printf("    %s miss x %zu: \"%s...\"\n", what, count[k], kind[k]);
  if (other)
    printf("    %s miss x %zu: other messages\n", what, other);
}

static void print_check(const char *what, check ck, const char *surface)
{
  printf("  %-9s %zu hits projected back: max pixel error %.2e px%s; max |h - %s| %.2e m\n", what,
         ck.checked, ck.max_px, ck.behind ? " (SOME BEHIND THE CAMERA)" : "", surface, ck.max_dh);
}

int main(int argc, char **argv)
{
  const char *dir = getenv("VIGIA_DATA");
  char tile[4096];
  FILE *f;
  vg_geo_geoid *geoid = NULL;
  vg_geo_dem *dem = NULL;
  PJ_CONTEXT *pctx = NULL;
  PJ *pcart = NULL;
  rays r;
  points pt;
  vg_geo_ground ell = {NULL, BENCH_GROUND_H}, gd = {NULL, 0.0};
  result re, rd, rp = {0, 0, {0, 0, 0}, 0}, rl;
  double t0, load_s, proj_per_s = 0, max_ecef = 0, lat_min, lat_max, lon_min, lon_max, hmin, hmax,
                     posting;
  size_t views = BENCH_VIEWS, per_view = BENCH_PIXELS;
  int rc = 1;

  memset(&r, 0, sizeof r);
  memset(&pt, 0, sizeof pt);
  if (!dir || !dir[0])
    dir = VG_BENCH_DATA_DIR;
  if (argc > 1 && atol(argv[1]) > 0)
    views = (size_t)atol(argv[1]);
  if (argc > 2 && atol(argv[2]) > 0)
    per_view = (size_t)atol(argv[2]);
  if (views > BENCH_MAX_RAYS || per_view > BENCH_MAX_RAYS / views) {
    fprintf(stderr, "bench_geo: %zu x %zu rays: more than %zu\n", views, per_view,
            (size_t)BENCH_MAX_RAYS);
    return 2;
  }
  snprintf(tile, sizeof tile, "%s/geo/dem/N57E011.hgt", dir);

  if (!(f = fopen(tile, "rb"))) {
    printf("bench_geo: DATA ABSENT: cannot read %s (%s)\n"
           "bench_geo: set VIGIA_DATA or configure with -DVG_DATA_DIR=...; nothing measured\n",
           tile, strerror(errno));
    return EXIT_SKIP;
  }
  fclose(f);
  if (vg_geo_geoid_open(&geoid, NULL) != VG_OK) {
    printf("bench_geo: DATA ABSENT: no geoid grid: %s\n"
           "bench_geo: install proj-data (%s) or set VIGIA_GEOID; nothing measured\n",
           vg_error_last(), VG_GEO_GEOID_DEFAULT);
    return EXIT_SKIP;
  }
  t0 = now_s();
  if (vg_raster_dem_open(&dem, tile, NULL, geoid) != VG_OK) {
    fprintf(stderr, "bench_geo: cannot load the DEM: %s\n", vg_error_last());
    goto done;
  }
  load_s = now_s() - t0;
  gd.dem = dem;
  vg_geo_dem_info(dem, &lat_min, &lat_max, &lon_min, &lon_max, &hmin, &hmax, &posting);

  /* Views, cameras, pixels. */
  r.views = views;
  r.per_view = per_view;
  r.n = views * per_view;
  r.cam = malloc(views * sizeof *r.cam);
  r.u = malloc(r.n * sizeof *r.u);
  r.v = malloc(r.n * sizeof *r.v);
  r.hit = malloc(r.n * sizeof *r.hit);
  r.rc = malloc(r.n);
  if (!r.cam || !r.u || !r.v || !r.hit || !r.rc) {
    fprintf(stderr, "bench_geo: out of memory for %zu rays\n", r.n);
    goto done;
  }
  for (size_t k = 0; k < views; k++) {
    vg_geo_view view;
    memset(&view, 0, sizeof view);
    view.pos.lat = uniform(57.1, 57.9);
    view.pos.lon = uniform(11.1, 11.9);
    view.pos.h = uniform(800.0, 3000.0);
    view.absolute = 1;
    view.abs_az = uniform(0.0, 360.0);
    view.abs_el = uniform(-85.0, -20.0);
    view.abs_roll = 0.0;
    view.hfov = uniform(5.0, 30.0);
    view.vfov = 0.75 * view.hfov;
    view.width = BENCH_W;
    view.height = BENCH_H;
    if (vg_geo_camera_init(&r.cam[k], &view) != VG_OK) {
      fprintf(stderr, "bench_geo: view %zu: %s\n", k, vg_error_last());
      goto done;
    }
    for (size_t i = k * per_view; i < (k + 1) * per_view; i++) {
      r.u[i] = uniform(0.0, BENCH_W);
      r.v[i] = uniform(0.0, BENCH_H);
    }
  }

  /* Points of the peer: as many as rays, over the tile. */
  pt.n = r.n;
  pt.llh = malloc(pt.n * sizeof *pt.llh);
  pt.in = malloc(pt.n * sizeof *pt.in);
  pt.ours = malloc(3 * pt.n * sizeof *pt.ours);
  pt.theirs = malloc(3 * pt.n * sizeof *pt.theirs);
  if (!pt.llh || !pt.in || !pt.ours || !pt.theirs) {
    fprintf(stderr, "bench_geo: out of memory for %zu points\n", pt.n);
    goto done;
  }
  for (size_t i = 0; i < pt.n; i++) {
    pt.llh[i].lat = uniform(57.0, 58.0);
    pt.llh[i].lon = uniform(11.0, 12.0);
    pt.llh[i].h = uniform(0.0, 3000.0);
    pt.in[i] = proj_coord(pt.llh[i].lon * DEG, pt.llh[i].lat * DEG, pt.llh[i].h, 0.0);
  }
  pctx = proj_context_create();
  if (pctx) {
    proj_log_level(pctx, PJ_LOG_NONE);
    pcart = proj_create(pctx, "+proj=cart +ellps=WGS84");
  }
  if (!pcart || !proj_angular_input(pcart, PJ_FWD))
    printf("bench_geo: WARNING: PROJ cannot create +proj=cart +ellps=WGS84 (%s): no peer\n",
           pctx ? proj_context_errno_string(pctx, proj_context_errno(pctx)) : "no context");

  printf("bench_geo: vigia %s, PROJ %s, one core, best of %d runs (CLOCK_MONOTONIC)\n",
         vg_version(), proj_info().release, BENCH_RUNS);
  printf("  DEM %s: lat %.4f..%.4f, lon %.4f..%.4f, HAE %.1f..%.1f m, posting %.1f m, "
         "loaded in %.2f s\n",
         tile, lat_min, lat_max, lon_min, lon_max, hmin, hmax, posting, load_s);
  printf("  geoid %s; %zu views x %zu pixels = %zu rays per pass (seed %#llx)\n",
         vg_geo_geoid_name(geoid), views, per_view, r.n, (unsigned long long)BENCH_SEED);
  printf("  ellipsoid = vg_geo_camera_ground on the ellipsoid + %.0f m; dem = the same on the "
         "SRTM tile;\n  proj_cart = PROJ +proj=cart, one proj_trans per point (peer); "
         "llh_ecef = vg_geo_llh_to_ecef, same points\n",
         BENCH_GROUND_H);

  if (pcart) {
    rp = time_points(pcart, &pt);
    proj_per_s = (double)rp.n / rp.best_s;
  }
  rl = time_points(NULL, &pt);
  re = time_ground(&r, &ell);
  {
    check ce = check_hits(&r, &ell);
    rd = time_ground(&r, &gd);
    printf("\n  %-10s %10s %8s %6s %10s %10s %9s %8s\n", "pass", "rays", "misses", "errors",
           "seconds", "M rays/s", "ns/ray", "x PROJ");
    row("ellipsoid", re, proj_per_s);
    row("dem", rd, proj_per_s);
    if (pcart)
      row("proj_cart", rp, proj_per_s);
    row("llh_ecef", rl, proj_per_s);
    printf("  (proj_cart and llh_ecef count points converted, not rays; errors = PROJ "
           "HUGE_VAL results)\n");

    printf("\nChecks (untimed):\n");
    print_check("ellipsoid", ce, "50 m");
    print_check("dem", check_hits(&r, &gd), "vg_geo_dem_h");
  }
  print_misses(&r, &gd, "dem");
  if (pcart) {
    for (size_t i = 0; i < 3 * pt.n; i++) {
      double d = fabs(pt.ours[i] - pt.theirs[i]);
      if (!(d <= max_ecef))
        max_ecef = d;
    }
    printf("  llh_ecef  vigia against PROJ on %zu points: max coordinate difference %.2e m\n",
           pt.n, max_ecef);
  }
  {
    /* Ellipsoid misses are re-run after the DEM pass overwrote the codes. */
    counts c = pass_ground(&r, &ell);
    if (c.misses || c.errors)
      print_misses(&r, &ell, "ellipsoid");
  }

  {
    double ell_ps = (double)re.n / re.best_s, dem_ps = (double)rd.n / rd.best_s;
    printf("\nTargets (rays per second per core):\n");
    printf("  ellipsoid >= %.1f M: %.2f M, %s\n", TARGET_ELL / 1e6, ell_ps / 1e6,
           ell_ps >= TARGET_ELL ? "MET" : "BELOW TARGET");
    printf("  DEM       >= %.1f M: %.2f M, %s\n", TARGET_DEM / 1e6, dem_ps / 1e6,
           dem_ps >= TARGET_DEM ? "MET" : "BELOW TARGET");
  }
  rc = 0;
done:
  if (pcart)
    proj_destroy(pcart);
  if (pctx)
    proj_context_destroy(pctx);
  free(pt.llh);
  free(pt.in);
  free(pt.ours);
  free(pt.theirs);
  free(r.cam);
  free(r.u);
  free(r.v);
  free(r.hit);
  free(r.rc);
  vg_geo_dem_free(dem);
  vg_geo_geoid_free(geoid);
  return rc;
}
