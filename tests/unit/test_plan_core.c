/*
 * Coverage planning (lib/plan: ltp.c, dubins.c, geom.c, coverage.c, areas.c):
 *   - Dubins: the shortest path between lanes flown back equals the closed forms
 *     (pi R + d - 2R, the bulb below 2R; Fields2Cover's values), its end pose is the goal,
 *     and random pairs are never shorter than the straight line;
 *   - the tangent plane round-trips and keeps lengths;
 *   - crab: a nadir frame camera in a crosswind at zero front overlap has the usable swath
 *     w cos(b) - l sin(b);
 *   - a rectangle: the lane count, one turn fewer, full coverage;
 *   - the two real parcels and generated convex and concave polygons: coverage >= 99.5 %
 *     (rasterised footprints) and, on convex ones, length within 10 % of the lower bound;
 *   - a U: two cells; no-fly zones: no path sample inside one (checked here, in the plane);
 *   - the lane angle follows a long rotated rectangle;
 *   - areas from GeoJSON, KML and GML with their properties, and bad files refused with
 *     what and where.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "vigia/geo.h"
#include "vigia/plan.h"

#define PI 3.14159265358979323846
#define DEG (PI / 180.0)
#define LAT0 17.90
#define LON0 (-99.90)

/* An area from plane vertices (metres at LAT0, LON0). */
typedef struct mk_area {
  vg_plan_area a;
  vg_plan_ll v[256];
} mk_area;

static void make(mk_area *m, const double (*xy)[2], size_t n)
{
  vg_plan_ltp t;
  memset(m, 0, sizeof *m);
  vg_plan_ltp_init(&t, (vg_plan_ll){LAT0, LON0});
  for (size_t i = 0; i < n; i++)
    m->v[i] = vg_plan_ltp_inv(&t, (vg_plan_pt){xy[i][0], xy[i][1]});
  m->a.outer.v = m->v;
  m->a.outer.n = n;
  m->a.priority = 1;
  m->a.last_visit_us = VG_PLAN_NEVER;
  snprintf(m->a.name, sizeof m->a.name, "test");
}

static vg_plan_opts video_opts(void)
{
  vg_plan_opts o;
  memset(&o, 0, sizeof o);
  o.version = VG_PLAN_OPTS_VERSION;
  o.sensor.hfov_deg = 40;
  o.sensor.vfov_deg = 24;
  o.sensor.depression_deg = 90;
  o.sensor.video = 1;
  o.sensor.frame_rate_hz = 30;
  o.sensor.side_overlap = 0.1;
  o.aircraft.alt_agl_m = 400;
  o.aircraft.airspeed_mps = 25;
  o.aircraft.bank_deg = 30;
  o.angle_deg = NAN;
  o.angle_step_deg = 2;
  return o;
}

static void show(const char *what, const vg_plan_result *r)
{
  print_message("  %-22s angle %5.1f  swath %6.1f  lanes %3zu  cells %zu  turns %3zu  length %8.0f m  bound %8.0f m "
                "(%.3f)  coverage %.4f  overlap %.2f  no-fly hits %zu\n",
                what, r->angle_deg, r->swath_m, r->lanes, r->cells, r->turns, r->length_m, r->lower_bound_m,
                r->length_m / r->lower_bound_m, r->coverage, r->overlap, r->nofly_hits);
}

/* ---- Dubins ------------------------------------------------------------------------------- */

static void dubins_closed_forms(void **state)
{
  const double R = 50, ds[] = {0.5, 10, 50, 99, 100, 101, 150, 300, 1000};
  vg_plan_dubins d;
  (void)state;
  for (size_t i = 0; i < sizeof ds / sizeof *ds; i++) {
    /* north along x = 0, then south along x = d: a U-turn to the right */
    vg_plan_pose a = {0, 0, 0}, b = {ds[i], 0, PI}, e;
    double want = vg_plan_uturn_length(ds[i], R);
    assert_int_equal(vg_plan_dubins_shortest(&a, &b, R, &d), VG_OK);
    if (fabs(d.length - want) > 1e-6 * want)
      fail_msg("d = %g: Dubins %.9f, closed form %.9f", ds[i], d.length, want);
    e = vg_plan_dubins_at(&d, d.length);
    assert_true(hypot(e.x - b.x, e.y - b.y) < 1e-6);
    assert_true(fabs(remainder(e.hdg - b.hdg, 2 * PI)) < 1e-9);
  }
  /* the closed forms themselves (Fields2Cover's unit tests: d = 1, R = 0.5 -> pi/2; d = 100 -> 99 + pi/2) */
  assert_true(fabs(vg_plan_uturn_length(1, 0.5) - PI / 2) < 1e-12);
  assert_true(fabs(vg_plan_uturn_length(100, 0.5) - (99 + PI / 2)) < 1e-12);
  assert_true(fabs(vg_plan_uturn_length(1e-9, 1) - 7 * PI / 3) < 1e-6); /* the bulb as d -> 0 */
  /* random pairs: never shorter than the chord, the end pose reached */
  {
    uint64_t s = 7;
    for (int k = 0; k < 2000; k++) {
      vg_plan_pose a, b, e;
      double r[6];
      for (int j = 0; j < 6; j++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        r[j] = (double)(s % 1000000) / 1e6;
      }
      a = (vg_plan_pose){0, 0, r[0] * 2 * PI};
      b = (vg_plan_pose){(r[1] - 0.5) * 800, (r[2] - 0.5) * 800, r[3] * 2 * PI};
      assert_int_equal(vg_plan_dubins_shortest(&a, &b, 20 + 100 * r[4], &d), VG_OK);
      assert_true(d.length >= hypot(b.x, b.y) - 1e-9);
      e = vg_plan_dubins_at(&d, d.length);
      if (hypot(e.x - b.x, e.y - b.y) > 1e-6 || fabs(remainder(e.hdg - b.hdg, 2 * PI)) > 1e-9)
        fail_msg("pair %d: end (%g, %g, %g) for goal (%g, %g, %g)", k, e.x, e.y, e.hdg, b.x, b.y, b.hdg);
    }
  }
  {
    vg_plan_pose a = {0, 0, 0};
    assert_int_equal(vg_plan_dubins_shortest(&a, &a, 0, &d), VG_E_INVALID);
  }
}

/* ---- the tangent plane ------------------------------------------------------------------------ */

static void ltp_round_trip(void **state)
{
  vg_plan_ltp t;
  (void)state;
  vg_plan_ltp_init(&t, (vg_plan_ll){LAT0, LON0});
  for (int i = -5; i <= 5; i++)
    for (int j = -5; j <= 5; j++) {
      vg_plan_pt q = {i * 10000.0, j * 10000.0}, q2 = vg_plan_ltp_fwd(&t, vg_plan_ltp_inv(&t, q));
      assert_true(hypot(q2.x - q.x, q2.y - q.y) < 1e-3);
    }
  {
    vg_plan_ll a = vg_plan_ltp_inv(&t, (vg_plan_pt){0, 0}), b = vg_plan_ltp_inv(&t, (vg_plan_pt){3000, 4000});
    vg_geo_llh ga = {a.lat, a.lon, 0}, gb = {b.lat, b.lon, 0};
    assert_true(fabs(vg_geo_distance(&ga, &gb) - 5000) < 0.01);
  }
}

/* ---- footprints, crab and lanes ---------------------------------------------------------------- */

static void crab_swath(void **state)
{
  double rect[4][2] = {{0, 0}, {3000, 0}, {3000, 3000}, {0, 3000}};
  mk_area m;
  vg_plan_opts o = video_opts();
  vg_plan_result r;
  double H = 400, w = 2 * H * tan(20 * DEG), l = 2 * H * tan(12 * DEG), beta, want;
  (void)state;
  make(&m, rect, 4);
  o.sensor.video = 0; /* a frame camera at zero front overlap: frames l apart */
  o.sensor.front_overlap = 0;
  o.angle_deg = 0;                                    /* lanes north-south */
  o.aircraft.wind_mps = 5;
  o.aircraft.wind_from_deg = 90;                      /* from the east: a pure crosswind */
  assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
  beta = asin(5.0 / 25.0);
  want = w * cos(beta) - l * sin(beta);
  print_message("  crab %.3f deg (asin(W/Va) %.3f), swath %.2f m, w cos b - l sin b = %.2f m (no wind: %.2f)\n",
                fabs(r.crab_deg), beta / DEG, r.swath_m, want, w);
  assert_true(fabs(fabs(r.crab_deg) - beta / DEG) < 1e-9);
  assert_true(fabs(r.swath_m - want) < 0.01 * want);
  vg_plan_result_free(&r);
  o.aircraft.wind_mps = 0;
  assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
  assert_true(fabs(r.swath_m - w) < 0.01 * w);
  vg_plan_result_free(&r);
}

/* Oblique video: looking 45 deg down ahead, and to the right of the nose (side-looking): the
 * band is off the track and changes side with the direction of flight; coverage still full. */
static void oblique_sensors(void **state)
{
  double rect[4][2] = {{0, 0}, {4000, 0}, {4000, 3000}, {0, 3000}};
  const double az[3] = {0, 90, 30};
  mk_area m;
  (void)state;
  make(&m, rect, 4);
  for (int k = 0; k < 3; k++) {
    vg_plan_opts o = video_opts();
    vg_plan_result r;
    char what[48];
    o.sensor.depression_deg = 45;
    o.sensor.azimuth_deg = az[k];
    o.sensor.hfov_deg = 30;
    o.sensor.vfov_deg = 20;
    assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
    snprintf(what, sizeof what, "oblique 45 deg, az %.0f", az[k]);
    show(what, &r);
    assert_true(r.coverage >= 0.995);
    if (az[k] == 90) /* the band's centre lies H / tan(45 deg) = 400 m to the right of the track */
      assert_true(fabs(r.band_offset_m - 400) < 40);
    vg_plan_result_free(&r);
  }
}

static void rectangle_lanes(void **state)
{
  double rect[4][2] = {{0, 0}, {2500, 0}, {2500, 1200}, {0, 1200}};
  mk_area m;
  vg_plan_opts o = video_opts();
  vg_plan_result r;
  size_t want;
  (void)state;
  make(&m, rect, 4);
  o.angle_deg = 90; /* lanes east-west across the 1200 m */
  assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
  show("rectangle", &r);
  want = (size_t)ceil((1200 - r.swath_m) / r.spacing_m - 1e-9) + 1;
  assert_int_equal(r.lanes, want);
  assert_int_equal(r.turns, r.lanes - 1);
  assert_int_equal(r.cells, 1);
  assert_true(r.coverage >= 0.995);
  assert_true(fabs(r.area_m2 - 2500 * 1200) < 0.01 * 2500 * 1200);
  assert_int_equal(r.nwp, 2 * r.lanes);
  vg_plan_result_free(&r);
}

/* A convex polygon: the hull of @p n random points in a disc of radius @p rad. */
static size_t random_convex(uint64_t seed, double rad, double (*out)[2])
{
  double p[64][2];
  size_t n = 24, h = 0;
  for (size_t i = 0; i < n; i++) {
    double a, r;
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    a = (double)(seed % 100000) / 100000 * 2 * PI;
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    r = rad * sqrt((double)(seed % 100000) / 100000);
    p[i][0] = r * cos(a) * 1.6; /* elongated */
    p[i][1] = r * sin(a);
  }
  /* gift wrapping */
  {
    size_t start = 0, cur;
    for (size_t i = 1; i < n; i++)
      if (p[i][0] < p[start][0])
        start = i;
    cur = start;
    do {
      size_t nx = (cur + 1) % n;
      out[h][0] = p[cur][0];
      out[h][1] = p[cur][1];
      h++;
      for (size_t i = 0; i < n; i++) {
        double cr = (p[nx][0] - p[cur][0]) * (p[i][1] - p[cur][1]) - (p[nx][1] - p[cur][1]) * (p[i][0] - p[cur][0]);
        if (cr < 0)
          nx = i;
      }
      cur = nx;
    } while (cur != start && h < 64);
  }
  return h;
}

static void convex_polygons(void **state)
{
  (void)state;
  for (uint64_t seed = 1; seed <= 6; seed++) {
    double xy[64][2];
    size_t n = random_convex(seed * 7919, 1500 + 300 * (double)seed, xy);
    mk_area m;
    vg_plan_opts o = video_opts();
    vg_plan_result r;
    char what[32];
    make(&m, (const double(*)[2])xy, n);
    assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
    snprintf(what, sizeof what, "convex %d (%zu vertices)", (int)seed, n);
    show(what, &r);
    assert_true(r.coverage >= 0.995);
    assert_int_equal(r.cells, 1);
    assert_true(r.length_m <= 1.10 * r.lower_bound_m);
    vg_plan_result_free(&r);
  }
}

static void concave_polygons(void **state)
{
  /* a U open to the north, an L, and a comb with three teeth */
  static const double U[8][2] = {{0, 0}, {3000, 0}, {3000, 2500}, {2000, 2500}, {2000, 900}, {1000, 900},
                                 {1000, 2500}, {0, 2500}};
  static const double L[6][2] = {{0, 0}, {3500, 0}, {3500, 900}, {900, 900}, {900, 3000}, {0, 3000}};
  static const double C[12][2] = {{0, 0}, {4000, 0}, {4000, 2600}, {3300, 2600}, {3300, 800}, {2350, 800},
                                  {2350, 2600}, {1650, 2600}, {1650, 800}, {700, 800}, {700, 2600}, {0, 2600}};
  const double(*shapes[3])[2] = {U, L, C};
  const size_t ns[3] = {8, 6, 12};
  const char *names[3] = {"U", "L", "comb"};
  (void)state;
  for (int k = 0; k < 3; k++) {
    mk_area m;
    vg_plan_opts o = video_opts();
    vg_plan_result r;
    make(&m, shapes[k], ns[k]);
    if (k == 0)
      o.angle_deg = 90; /* across the U's arms: each strip above the base meets both arms */
    assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
    show(names[k], &r);
    assert_true(r.coverage >= 0.995);
    if (k == 0)
      assert_true(r.cells >= 2);
    vg_plan_result_free(&r);
  }
}

/* The parcels of the shared data (Fields2Cover): a small drone's video. */
static void shared_parcels(void **state)
{
  static const char *const files[] = {"geo/aoi/fields2cover_test_parcel.geojson",
                                      "geo/aoi/fields2cover_test1_parcel.xml"};
  (void)state;
  for (size_t i = 0; i < 2; i++) {
    char *path = VG_REQUIRE_DATA(files[i]);
    vg_plan_areas a;
    vg_plan_opts o = video_opts();
    vg_plan_result r;
    assert_int_equal(vg_plan_areas_load(&a, path), VG_OK);
    assert_int_equal(a.n, 1);
    o.aircraft.alt_agl_m = 60;
    o.aircraft.airspeed_mps = 15;
    o.aircraft.bank_deg = 35;
    o.angle_step_deg = 1;
    assert_int_equal(vg_plan_coverage(&a.a[0], &o, &r), VG_OK);
    show(files[i] + 8, &r);
    assert_true(r.coverage >= 0.995);
    vg_plan_result_free(&r);
    vg_plan_areas_free(&a);
    free(path);
  }
}

static void nofly_respected(void **state)
{
  double rect[4][2] = {{0, 0}, {6000, 0}, {6000, 4000}, {0, 4000}};
  double z1[4][2] = {{1500, 1200}, {2300, 1200}, {2300, 2000}, {1500, 2000}};
  double z2[5][2] = {{3800, 2500}, {4600, 2400}, {4800, 3100}, {4200, 3500}, {3700, 3100}};
  mk_area m, n1, n2;
  vg_plan_area nf[2];
  vg_plan_opts o = video_opts();
  vg_plan_result r;
  vg_plan_ltp t;
  size_t inside = 0;
  (void)state;
  make(&m, rect, 4);
  make(&n1, z1, 4);
  make(&n2, z2, 5);
  nf[0] = n1.a;
  nf[1] = n2.a;
  o.nofly = nf;
  o.nnofly = 2;
  o.nofly_margin_m = 20;
  o.has_base = 1;
  vg_plan_ltp_init(&t, (vg_plan_ll){LAT0, LON0});
  o.base = vg_plan_ltp_inv(&t, (vg_plan_pt){-1000, -500});
  assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
  show("rectangle, 2 no-fly", &r);
  /* every path sample, in this test's own plane, outside both zones */
  for (size_t i = 0; i < r.npath; i++) {
    vg_plan_pt p = vg_plan_ltp_fwd(&t, vg_plan_ltp_inv(&r.ltp, r.path[i]));
    const double(*zs[2])[2] = {z1, z2};
    const size_t zn[2] = {4, 5};
    for (int z = 0; z < 2; z++) {
      int in = 0;
      for (size_t a = 0, b = zn[z] - 1; a < zn[z]; b = a++)
        if ((zs[z][a][1] > p.y) != (zs[z][b][1] > p.y) &&
            p.x < (zs[z][b][0] - zs[z][a][0]) * (p.y - zs[z][a][1]) / (zs[z][b][1] - zs[z][a][1]) + zs[z][a][0])
          in = !in;
      inside += (size_t)in;
    }
  }
  assert_true(r.npath > 100);
  assert_int_equal(inside, 0);
  assert_int_equal(r.nofly_hits, 0);
  assert_true(r.cells >= 2);
  /* the area counted is the rectangle minus the zones */
  assert_true(r.area_m2 < 6000 * 4000 - 600000);
  assert_true(r.coverage > 0.8); /* what the standoff lets the camera see */
  assert_int_equal(r.wp[0].kind, VG_WP_TRANSIT);
  assert_int_equal(r.wp[r.nwp - 1].kind, VG_WP_TRANSIT);
  vg_plan_result_free(&r);
}

/* A field of 14 random no-fly zones, some overlapping, in a 7 x 5 km area with a base outside,
 * nadir video at 30 m/s (R = 216 m with the wind): no path sample inside any zone, checked here. */
static void nofly_dense(void **state)
{
  double rect[4][2] = {{0, 0}, {7000, 0}, {7000, 5000}, {0, 5000}}, zs[14][7][2];
  mk_area m, mz[14];
  vg_plan_area nf[14];
  vg_plan_opts o = video_opts();
  vg_plan_result r;
  vg_plan_ltp t;
  uint64_t seed = 99;
  size_t inside = 0;
  (void)state;
  make(&m, rect, 4);
  for (int z = 0; z < 14; z++) {
    double cx, cy;
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    cx = 800 + (double)(seed % 5400);
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    cy = 700 + (double)(seed % 3600);
    for (int k = 0; k < 7; k++) {
      double a = 2 * PI * k / 7, rr;
      seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
      rr = 150 + (double)(seed % 450);
      zs[z][k][0] = cx + rr * cos(a);
      zs[z][k][1] = cy + rr * sin(a);
    }
    make(&mz[z], zs[z], 7);
    nf[z] = mz[z].a;
  }
  o.aircraft.airspeed_mps = 30;
  o.aircraft.wind_mps = 5;
  o.aircraft.wind_from_deg = 250;
  o.aircraft.alt_agl_m = 500;
  o.sensor.hfov_deg = 30;
  o.sensor.vfov_deg = 20;
  o.nofly = nf;
  o.nnofly = 14;
  o.nofly_margin_m = 50;
  o.has_base = 1;
  vg_plan_ltp_init(&t, (vg_plan_ll){LAT0, LON0});
  o.base = vg_plan_ltp_inv(&t, (vg_plan_pt){-3000, -2000});
  assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
  show("14 random no-fly zones", &r);
  for (size_t i = 0; i < r.npath; i++) {
    vg_plan_pt p = vg_plan_ltp_fwd(&t, vg_plan_ltp_inv(&r.ltp, r.path[i]));
    for (int z = 0; z < 14; z++) {
      int in = 0;
      for (int a = 0, b = 6; a < 7; b = a++)
        if ((zs[z][a][1] > p.y) != (zs[z][b][1] > p.y) &&
            p.x < (zs[z][b][0] - zs[z][a][0]) * (p.y - zs[z][a][1]) / (zs[z][b][1] - zs[z][a][1]) + zs[z][a][0])
          in = !in;
      inside += (size_t)in;
    }
  }
  assert_int_equal(inside, 0);
  assert_int_equal(r.nofly_hits, 0);
  assert_true(r.coverage > 0.5); /* a dense field: the standoff (R + margin around each zone) takes the rest */
  vg_plan_result_free(&r);
}

/* A wall of no-fly between the base and the area: the way there and back goes around it. */
static void nofly_transit_routed(void **state)
{
  double rect[4][2] = {{0, 0}, {3000, 0}, {3000, 2000}, {0, 2000}};
  double wall[4][2] = {{-1500, -800}, {-900, -800}, {-900, 2800}, {-1500, 2800}};
  mk_area m, w;
  vg_plan_opts o = video_opts();
  vg_plan_result r;
  vg_plan_ltp t;
  (void)state;
  make(&m, rect, 4);
  make(&w, wall, 4);
  o.nofly = &w.a;
  o.nnofly = 1;
  o.has_base = 1;
  vg_plan_ltp_init(&t, (vg_plan_ll){LAT0, LON0});
  o.base = vg_plan_ltp_inv(&t, (vg_plan_pt){-3500, 1000});
  assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
  show("behind a wall", &r);
  assert_int_equal(r.nofly_hits, 0);
  assert_true(r.nwp > 2 * r.lanes + 2); /* turn points of the routes around the wall */
  assert_true(r.transit_m > 2 * 3500);  /* longer than straight there and back */
  assert_true(r.coverage >= 0.995);     /* the wall is outside the area */
  vg_plan_result_free(&r);
}

static void angle_follows_shape(void **state)
{
  /* a 6 km x 1 km strip whose long side runs 30 deg east of north */
  double xy[4][2], a = 30 * DEG;
  double c[4][2] = {{-500, -3000}, {500, -3000}, {500, 3000}, {-500, 3000}};
  mk_area m;
  vg_plan_opts o = video_opts();
  vg_plan_result r;
  (void)state;
  for (int i = 0; i < 4; i++) { /* rotate clockwise by 30 deg */
    xy[i][0] = c[i][0] * cos(a) + c[i][1] * sin(a);
    xy[i][1] = -c[i][0] * sin(a) + c[i][1] * cos(a);
  }
  make(&m, xy, 4);
  o.angle_step_deg = 1;
  assert_int_equal(vg_plan_coverage(&m.a, &o, &r), VG_OK);
  show("strip at 30 deg", &r);
  assert_true(fabs(r.angle_deg - 30) <= 2);
  vg_plan_result_free(&r);
}

/* ---- areas ------------------------------------------------------------------------------------ */

static int rd(vg_plan_areas *a, const char *s) { return vg_plan_areas_read(a, (const uint8_t *)s, strlen(s), "t"); }

static void areas_formats(void **state)
{
  vg_plan_areas a;
  (void)state;
  assert_int_equal(rd(&a, "{\"type\":\"FeatureCollection\",\"features\":["
                          "{\"type\":\"Feature\",\"properties\":{\"name\":\"ridge\",\"priority\":3,\"revisit_h\":24,"
                          "\"last_visit\":\"2026-06-01T08:00:00Z\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
                          "[[[-99.9,17.9],[-99.8,17.9],[-99.8,18.0],[-99.9,18.0],[-99.9,17.9]],"
                          "[[-99.86,17.94],[-99.84,17.94],[-99.84,17.96]]]}},"
                          "{\"type\":\"Feature\",\"properties\":{\"kind\":\"nofly\"},\"geometry\":{\"type\":"
                          "\"MultiPolygon\",\"coordinates\":[[[[1,1],[2,1],[2,2]]],[[[3,3],[4,3],[4,4]]]]}}]}"),
                   VG_OK);
  assert_int_equal(a.n, 3);
  assert_string_equal(a.a[0].name, "ridge");
  assert_int_equal(a.a[0].outer.n, 4);
  assert_int_equal(a.a[0].nholes, 1);
  assert_true(a.a[0].priority == 3 && a.a[0].revisit_s == 24 * 3600);
  assert_true(a.a[0].last_visit_us == 1780300800LL * 1000000);
  assert_true(a.a[0].outer.v[1].lat == 17.9 && a.a[0].outer.v[1].lon == -99.8);
  assert_int_equal(a.a[1].kind, VG_PLAN_NOFLY);
  assert_int_equal(a.a[2].kind, VG_PLAN_NOFLY);
  assert_true(a.a[1].last_visit_us == VG_PLAN_NEVER && a.a[1].priority == 1);
  vg_plan_areas_free(&a);
  assert_int_equal(rd(&a, "<?xml version=\"1.0\"?><kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document>"
                          "<Placemark><name>valley &amp; ford</name><ExtendedData><Data name=\"kind\"><value>nofly"
                          "</value></Data><SchemaData><SimpleData name=\"priority\">2</SimpleData></SchemaData>"
                          "</ExtendedData><MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>"
                          "-99.9,17.9,0 -99.8,17.9,0 -99.8,18,0 -99.9,17.9,0</coordinates></LinearRing>"
                          "</outerBoundaryIs></Polygon></MultiGeometry></Placemark></Document></kml>"),
                   VG_OK);
  assert_int_equal(a.n, 1);
  assert_string_equal(a.a[0].name, "valley & ford");
  assert_int_equal(a.a[0].kind, VG_PLAN_NOFLY);
  assert_true(a.a[0].priority == 2);
  assert_int_equal(a.a[0].outer.n, 3);
  assert_true(a.a[0].outer.v[2].lat == 18 && a.a[0].outer.v[2].lon == -99.8);
  vg_plan_areas_free(&a);
  /* GML 3 posList in the URN form of EPSG:4326: latitude first */
  assert_int_equal(rd(&a, "<f xmlns:gml=\"http://www.opengis.net/gml\" name=\"east\"><gml:Polygon "
                          "srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:exterior><gml:LinearRing><gml:posList>"
                          "17.9 -99.9 17.9 -99.8 18 -99.8 17.9 -99.9</gml:posList></gml:LinearRing></gml:exterior>"
                          "</gml:Polygon></f>"),
                   VG_OK);
  assert_int_equal(a.n, 1);
  assert_string_equal(a.a[0].name, "east");
  assert_true(a.a[0].outer.v[1].lat == 17.9 && a.a[0].outer.v[1].lon == -99.8);
  vg_plan_areas_free(&a);
}

static void areas_refused(void **state)
{
  static const struct {
    const char *in, *msg;
    int rc;
  } bad[] = {
    {"{\"type\":\"FeatureCollection\",\"features\":[", "line", VG_E_MALFORMED},
    {"{\"type\":\"Point\",\"coordinates\":[1,2]}", "Point is not an area", VG_E_UNSUPPORTED},
    {"{\"type\":\"Polygon\",\"coordinates\":[[[1,2],[3,4]]]}", "ring of 2 distinct", VG_E_MALFORMED},
    {"{\"type\":\"Polygon\",\"coordinates\":[[[1,95],[3,4],[5,6]]]}", "outside WGS84", VG_E_MALFORMED},
    {"{\"type\":\"Polygon\",\"coordinates\":[[[1,2],[\"3\",4],[5,6]]]}", "coordinates[0][1]", VG_E_MALFORMED},
    {"{\"type\":\"Feature\",\"properties\":{\"kind\":\"maybe\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
     "[[[1,2],[3,4],[5,7]]]}}", "kind 'maybe'", VG_E_MALFORMED},
    {"{\"type\":\"Feature\",\"properties\":{\"priority\":-1},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
     "[[[1,2],[3,4],[5,7]]]}}", "priority", VG_E_MALFORMED},
    {"{\"type\":\"Feature\",\"properties\":{\"last_visit\":\"yesterday\"},\"geometry\":{\"type\":\"Polygon\","
     "\"coordinates\":[[[1,2],[3,4],[5,7]]]}}", "RFC 3339", VG_E_MALFORMED},
    {"{\"type\":\"FeatureCollection\",\"features\":[]}", "no polygon", VG_E_MALFORMED},
    {"<kml><Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>1,2 3,x</coordinates>"
     "</LinearRing></outerBoundaryIs></Polygon></Placemark></kml>", "not a number", VG_E_MALFORMED},
    {"<kml><Placemark><Polygon><innerBoundaryIs/></Polygon></Placemark></kml>", "without coordinates",
     VG_E_MALFORMED},
    {"<kml><Placemark>", "not well-formed", VG_E_MALFORMED},
    {"hello", "neither GeoJSON nor KML", VG_E_UNSUPPORTED},
  };
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    vg_plan_areas a = {(vg_plan_area *)1, 77};
    int rc = rd(&a, bad[i].in);
    if (rc != bad[i].rc || !strstr(vg_error_last(), bad[i].msg))
      fail_msg("case %zu: rc %d, '%s' (want %d, '%s')", i, rc, vg_error_last(), bad[i].rc, bad[i].msg);
    assert_true(a.a == (vg_plan_area *)1 && a.n == 77); /* untouched */
  }
}

int test_plan_core_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(dubins_closed_forms), cmocka_unit_test(ltp_round_trip),     cmocka_unit_test(crab_swath),
    cmocka_unit_test(oblique_sensors),   cmocka_unit_test(rectangle_lanes),     cmocka_unit_test(convex_polygons),    cmocka_unit_test(concave_polygons),
    cmocka_unit_test(shared_parcels),      cmocka_unit_test(nofly_respected),    cmocka_unit_test(nofly_transit_routed), cmocka_unit_test(nofly_dense),
    cmocka_unit_test(angle_follows_shape),
    cmocka_unit_test(areas_formats),       cmocka_unit_test(areas_refused),
  };
  return cmocka_run_group_tests_name("plan_core", tests, NULL, NULL);
}
