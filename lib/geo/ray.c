/*
 * A ray from the sensor to the ground: the ellipsoid raised by a height, or a
 * DEM marched along the ray.
 *
 * Ellipsoid: the surface of geodetic height h is close to the ellipsoid of
 * semi-axes (a+h, a+h, b+h) (within h^2 e^2 / a: 1 mm at 1 km); the quadratic
 * gives the nearer root, and one Newton step along the ray puts it on h when
 * it is more than VG__ELL_TOL_M off.
 *
 * DEM (research/geo-plan.md A2.5): the search is bounded by the ray's
 * crossings of the highest and lowest DEM heights; between them the ray is
 * marched with a horizontal step of half the DEM posting, and the first step
 * that ends below the terrain is refined (Illinois false position, then one
 * exact Newton step). Marching from the sensor outwards and stopping at the
 * first crossing is what keeps occluded ground from being returned. Inside
 * a chunk of at most VG__CHUNK_M horizontal metres, the ray's latitude,
 * longitude and height are interpolated linearly between exact conversions
 * at the chunk ends (the chord sags L^2/8R: 5 mm at 500 m); the returned
 * point is converted exactly.
 */
#include <math.h>

#include "geo_int.h"

#define VG__CHUNK_M 500.0
/* Height error of an ellipsoid hit left uncorrected (m). */
#define VG__ELL_TOL_M 1e-3
#define VG__REFINE_MAX 60

/* Nearer and farther roots of the ray against the height-h ellipsoid.
 * @return number of roots (0 or 2); *inside set when p is below h. */
static int ell_roots(const double p[3], const double d[3], double h, double *t0, double *t1,
                     int *inside)
{
  double ia = 1.0 / ((VG_WGS84_A + h) * (VG_WGS84_A + h));
  double ib = 1.0 / ((VG__WGS84_B + h) * (VG__WGS84_B + h));
  double A = (d[0] * d[0] + d[1] * d[1]) * ia + d[2] * d[2] * ib;
  double B = 2.0 * ((p[0] * d[0] + p[1] * d[1]) * ia + p[2] * d[2] * ib);
  double C = (p[0] * p[0] + p[1] * p[1]) * ia + p[2] * p[2] * ib - 1.0;
  double disc = B * B - 4.0 * A * C, sq, q;
  *inside = C < 0;
  if (disc < 0 || A <= 0)
    return 0;
  sq = sqrt(disc);
  /* numerically stable pair */
  q = -0.5 * (B + (B >= 0 ? sq : -sq));
  *t0 = q / A;
  *t1 = q != 0 ? C / q : *t0;
  if (*t0 > *t1) {
    double s = *t0;
    *t0 = *t1;
    *t1 = s;
  }
  return 2;
}

static void at(const double p[3], const double d[3], double t, double e[3])
{
  e[0] = p[0] + t * d[0];
  e[1] = p[1] + t * d[1];
  e[2] = p[2] + t * d[2];
}

/* Rate of geodetic height along the unit ray at g. */
static double h_rate(const vg_geo_llh *g, const double d[3])
{
  double cl = cos(g->lat * VG__DEG);
  double up[3] = {cl * cos(g->lon * VG__DEG), cl * sin(g->lon * VG__DEG), sin(g->lat * VG__DEG)};
  return vg__dot3(up, d);
}

static int hit_ellipsoid(double hg, const double p[3], const double d[3], vg_geo_llh *hit,
                         double *range)
{
  double t0, t1, e[3], rate;
  int inside;
  vg_geo_llh g;

  if (!ell_roots(p, d, hg, &t0, &t1, &inside) || t1 < 0) {
    if (inside)
      return vg_error_set(VG_E_NOHIT, "the sensor is below the ground surface (HAE %.1f m)", hg);
    return vg_error_set(VG_E_NOHIT, "the ray points above the horizon of the surface at HAE %.1f m",
                        hg);
  }
  if (inside)
    return vg_error_set(VG_E_NOHIT, "the sensor is below the ground surface (HAE %.1f m)", hg);
  at(p, d, t0, e);
  vg_geo_ecef_to_llh(e, &g);
  /* The quadric is off the height-h surface by ~h^2 e^2 / a (0.1 mm at 300 m,
   * 1 mm at 1 km): a Newton step only when that matters. */
  if (fabs(g.h - hg) > VG__ELL_TOL_M && fabs(rate = h_rate(&g, d)) > 1e-9) {
    t0 += (hg - g.h) / rate;
    at(p, d, t0, e);
    vg_geo_ecef_to_llh(e, &g);
  }
  *hit = g;
  if (range)
    *range = t0;
  return VG_OK;
}

/* The ray's geodetic coordinates interpolated inside a chunk. */
typedef struct {
  double t0, t1;
  vg_geo_llh g0, g1;
} chunk;

static void chunk_at(const chunk *c, double t, vg_geo_llh *g)
{
  double w = c->t1 > c->t0 ? (t - c->t0) / (c->t1 - c->t0) : 0.0;
  g->lat = c->g0.lat + w * (c->g1.lat - c->g0.lat);
  g->lon = c->g0.lon + w * (c->g1.lon - c->g0.lon);
  g->h = c->g0.h + w * (c->g1.h - c->g0.h);
}

static double f_of(const vg_geo_dem *dem, const vg_geo_llh *g)
{
  return g->h - vg_geo_dem_h(dem, g->lat, g->lon);
}

static int outside(const vg_geo_dem *dem, const vg_geo_llh *g)
{
  double x = (g->lon - dem->lon0) * dem->ilon, y = (g->lat - dem->lat0) * dem->ilat;
  return !(x >= 0.0 && y >= 0.0 && x <= dem->w - 1 && y <= dem->h - 1);
}

static int hit_dem(const vg_geo_dem *dem, const double p[3], const double d[3], vg_geo_llh *hit,
                   double *range)
{
  double ta, tb, r0, r1, q0, q1, step, chunk_t, hfrac, fa;
  int inside_top, inside_bot, n_top, n_bot, started = 0, was_void = 0;
  vg_geo_llh g, gs;
  double e[3];
  chunk c;

  n_top = ell_roots(p, d, dem->zmax + 0.5, &r0, &r1, &inside_top);
  n_bot = ell_roots(p, d, dem->zmin - 0.5, &q0, &q1, &inside_bot);
  if (inside_bot)
    return vg_error_set(VG_E_NOHIT, "the sensor is below the lowest point of DEM %s", dem->name);
  if (!inside_top) {
    if (!n_top || r1 < 0)
      return vg_error_set(VG_E_NOHIT, "the ray passes above DEM %s (highest point HAE %.1f m)",
                          dem->name, dem->zmax);
    ta = r0 > 0 ? r0 : 0.0;
  } else {
    ta = 0.0;
  }
  tb = (n_bot && q0 > 0) ? q0 : (n_top ? r1 : VG_GEO_MAX_RANGE_M);
  if (tb > VG_GEO_MAX_RANGE_M)
    tb = VG_GEO_MAX_RANGE_M;
  if (tb <= ta)
    return vg_error_set(VG_E_NOHIT, "the ray does not reach DEM %s within %.0f m", dem->name,
                        VG_GEO_MAX_RANGE_M);

  at(p, d, ta, e);
  vg_geo_ecef_to_llh(e, &gs);
  hfrac = sqrt(fmax(0.0, 1.0 - h_rate(&gs, d) * h_rate(&gs, d)));
  step = hfrac > 1e-9 ? 0.5 * dem->posting_m / hfrac : tb - ta;
  chunk_t = hfrac > 1e-9 ? VG__CHUNK_M / hfrac : tb - ta;
  if (step > tb - ta)
    step = tb - ta;
  if (chunk_t < step)
    chunk_t = step;

  c.t1 = ta;
  c.g1 = gs;
  fa = f_of(dem, &gs);
  if (ta == 0.0 && fa <= 0)
    return vg_error_set(VG_E_NOHIT, "the sensor is below the surface of DEM %s", dem->name);
  started = !outside(dem, &gs);
  while (c.t1 < tb) {
    int nsteps;
    double tprev, fprev;
    c.t0 = c.t1;
    c.g0 = c.g1;
    c.t1 = c.t0 + chunk_t < tb ? c.t0 + chunk_t : tb;
    at(p, d, c.t1, e);
    vg_geo_ecef_to_llh(e, &c.g1);
    if (c.g1.lon - c.g0.lon > 180.0)
      c.g1.lon -= 360.0;
    else if (c.g1.lon - c.g0.lon < -180.0)
      c.g1.lon += 360.0;
    nsteps = (int)ceil((c.t1 - c.t0) / step - 1e-9);
    if (nsteps < 1)
      nsteps = 1;
    tprev = c.t0;
    fprev = fa;
    for (int k = 1; k <= nsteps; k++) {
      double t = k == nsteps ? c.t1 : c.t0 + (c.t1 - c.t0) * k / nsteps, f;
      chunk_at(&c, t, &g);
      f = f_of(dem, &g);
      if (isnan(f)) {
        if (outside(dem, &g)) {
          if (started)
            return vg_error_set(VG_E_NOHIT,
                                "the ray leaves DEM %s at (%.6f, %.6f) before reaching the ground",
                                dem->name, g.lat, g.lon);
          fprev = NAN; /* not over the DEM yet */
          was_void = 0;
          tprev = t;
          continue;
        }
        /* a void: no crossing can be seen here; start again after it */
        started = 1;
        was_void = 1;
        fprev = NAN;
        tprev = t;
        continue;
      }
      if (isnan(fprev) && f <= 0) {
        /* The first ground seen after entering the DEM, or after a void, is
         * already above the ray: the crossing happened where there is no
         * height to place it (outside the DEM or in the void). */
        return vg_error_set(VG_E_NOHIT,
                            "the ray is below the surface of DEM %s where it %s (%.6f, %.6f): "
                            "the crossing is %s",
                            dem->name, was_void ? "leaves a void" : "enters it", g.lat, g.lon,
                            was_void ? "in the void" : "outside the DEM");
      }
      if (!isnan(fprev) && fprev > 0 && f <= 0) {
        /* Illinois false position on [tprev, t] */
        double lo = tprev, hi = t, flo = fprev, fhi = f, tm = t, fm = f;
        int side = 0;
        for (int it = 0; it < VG__REFINE_MAX && hi - lo > VG_GEO_DEM_TOL_M; it++) {
          tm = (lo * fhi - hi * flo) / (fhi - flo);
          if (!(tm > lo && tm < hi))
            tm = 0.5 * (lo + hi);
          chunk_at(&c, tm, &g);
          fm = f_of(dem, &g);
          if (isnan(fm))
            break;
          if (fm > 0) {
            lo = tm;
            flo = fm;
            if (side == -1)
              fhi *= 0.5;
            side = -1;
          } else {
            hi = tm;
            fhi = fm;
            if (side == 1)
              flo *= 0.5;
            side = 1;
          }
          if (fabs(fm) < 1e-4)
            break;
        }
        /* exact conversion and one Newton step on the exact heights */
        at(p, d, tm, e);
        vg_geo_ecef_to_llh(e, &g);
        fm = f_of(dem, &g);
        if (!isnan(fm)) {
          double slope = (f - fprev) / (t - tprev);
          if (slope < -1e-9) {
            double tn = tm - fm / slope;
            if (tn >= tprev && tn <= t) {
              tm = tn;
              at(p, d, tm, e);
              vg_geo_ecef_to_llh(e, &g);
            }
          }
        }
        *hit = g;
        if (range)
          *range = tm;
        return VG_OK;
      }
      started = 1;
      tprev = t;
      fprev = f;
    }
    fa = fprev;
  }
  if (!started)
    return vg_error_set(VG_E_NOHIT, "the ray does not cross DEM %s", dem->name);
  return vg_error_set(VG_E_NOHIT, "the ray crosses no valid ground of DEM %s within %.0f m",
                      dem->name, tb);
}

/* d is a unit vector (camera.c hands out unit rays). */
int vg__geo_ray_ground_unit(const vg_geo_ground *g, const double p[3], const double d[3],
                            vg_geo_llh *hit, double *range)
{
  if (g->dem)
    return hit_dem(g->dem, p, d, hit, range);
  return hit_ellipsoid(g->h, p, d, hit, range);
}

int vg_geo_ray_ground(const vg_geo_ground *g, const double p[3], const double d[3], vg_geo_llh *hit,
                      double *range)
{
  double n = sqrt(vg__dot3(d, d)), u[3];
  if (!(n > 0) || !isfinite(n) || !isfinite(p[0] + p[1] + p[2]))
    return vg_error_set(VG_E_INVALID, "ray with a zero or non-finite direction or origin");
  u[0] = d[0] / n;
  u[1] = d[1] / n;
  u[2] = d[2] / n;
  if (g->dem)
    return hit_dem(g->dem, p, u, hit, range);
  return hit_ellipsoid(g->h, p, u, hit, range);
}
