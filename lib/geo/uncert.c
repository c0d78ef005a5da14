/*
 * Uncertainty of a ground point: the input errors of vg_geo_sigmas pushed
 * through the whole model (camera, rotation chain, intersection) by central
 * differences at one sigma, so the curvature of the ground, the DEM and the
 * grazing geometry are all in it, then summed as independent contributions
 * into a 2x2 east/north covariance and a vertical sigma.
 *
 * Compare the first-order rules of research/geo-plan.md A2.7: cross-range
 * R*dtheta, down-range R*dtheta/sin(depression), height dh*cot(depression);
 * tests/unit/test_geo.c checks the Jacobian against them.
 */
#include <math.h>
#include <string.h>

#include "geo_int.h"

void vg_geo_sigmas_default(vg_geo_sigmas *s)
{
  s->pos_h_m = 3.0;
  s->pos_v_m = 6.0;
  s->attitude_deg = 0.3;
  s->pointing_deg = 0.3;
  s->timing_s = 0.05;
  s->ground_m = 8.0;
}

double vg_geo_le90(double sigma)
{
  return 1.6448536269514722 * sigma;
}

/* P(|x| <= r) for a zero-mean normal with variances l1 >= l2 > 0 on its axes:
 * (1/2 pi sqrt(l1 l2)) * integral over theta of (1 - exp(-r^2 q/2)) / q,
 * q = cos^2/l1 + sin^2/l2; a quarter period by the trapezoid rule, which
 * converges geometrically for this smooth periodic integrand. */
#define CE_STEPS 512

/* Inverse of the standard normal's two-sided tail: z with P(|x| <= z) = erf(z / sqrt 2) = p,
 * by Newton's method from a bracketing guess (bisection when a step leaves the bracket). */
static double z_two_sided(double p)
{
  double lo = 0, hi = 40, z = 1.0;
  for (int i = 0; i < 100; i++) {
    double f = erf(z * 0.70710678118654752440) - p, df = 0.79788456080286535588 * exp(-0.5 * z * z), zn;
    if (f < 0)
      lo = z;
    else
      hi = z;
    zn = df > 0 ? z - f / df : 0.5 * (lo + hi);
    if (!(zn > lo && zn < hi))
      zn = 0.5 * (lo + hi);
    if (fabs(zn - z) <= 1e-15 * zn)
      return zn;
    z = zn;
  }
  return z;
}

double vg_geo_ce(const double cov[4], double p)
{
  double a = cov[0], b = 0.5 * (cov[1] + cov[2]), d = cov[3];
  double tr = a + d, det = a * d - b * b, disc, l1, l2, lo, hi, z1, r, norm, h = (M_PI / 2) / CE_STEPS;
  double q[CE_STEPS];
  if (!(p > 0 && p < 1))
    return NAN;
  if (!isfinite(tr) || !isfinite(det))
    return INFINITY;
  disc = sqrt(fmax(0.0, 0.25 * tr * tr - det));
  l1 = 0.5 * tr + disc;
  l2 = 0.5 * tr - disc;
  if (!(l1 > 0))
    return 0.0;
  z1 = z_two_sided(p);
  /* Very elongated: the short axis no longer matters (relative effect ~k^2). */
  if (l2 < 1e-4 * l1)
    return z1 * sqrt(l1);
  /*
   * P(|x| <= r) = (1 / 2 pi sqrt(l1 l2)) * integral over theta of (1 - exp(-r^2 q / 2)) / q,
   * q = cos^2/l1 + sin^2/l2, a quarter period by the midpoint rule (geometric convergence for
   * this smooth periodic integrand); its derivative in r is the same sum of r exp(-r^2 q / 2).
   * The angles are evaluated once; Newton's method on r inside the bracket [1-D limit,
   * circular limit], bisecting when a step leaves it.
   */
  for (int i = 0; i < CE_STEPS; i++) {
    double th = (i + 0.5) * h, c = cos(th), s = sin(th);
    q[i] = c * c / l1 + s * s / l2;
  }
  norm = 4.0 * h / (2.0 * M_PI * sqrt(l1 * l2));
  lo = z1 * sqrt(l1) * 0.999;                     /* 1-D limit */
  hi = sqrt(-2.0 * log1p(-p)) * sqrt(l1) * 1.001; /* circular limit (Rayleigh) */
  r = 0.5 * (lo + hi);
  for (int it = 0; it < 100; it++) {
    double P = 0, dP = 0, rn;
    for (int i = 0; i < CE_STEPS; i++) {
      double e = exp(-0.5 * r * r * q[i]);
      P += (1.0 - e) / q[i];
      dP += r * e;
    }
    P *= norm;
    dP *= norm;
    if (P < p)
      lo = r;
    else
      hi = r;
    rn = dP > 0 ? r - (P - p) / dP : 0.5 * (lo + hi);
    if (!(rn > lo && rn < hi))
      rn = 0.5 * (lo + hi);
    if (fabs(rn - r) <= 1e-12 * rn || hi - lo <= 1e-12 * hi)
      return rn;
    r = rn;
  }
  return r;
}

double vg_geo_ce90(const double cov[4])
{
  return vg_geo_ce(cov, 0.9);
}

/* The view moved by one sigma of input k (sign +1 / -1). @return 0 when the
 * input does not apply to this view. */
enum { P_N, P_E, P_D, P_A0, P_A1, P_A2, P_S0, P_S1, P_S2, P_T, P_G, P__N };

static double sigma_of(int k, const vg_geo_view *v, const vg_geo_sigmas *s)
{
  switch (k) {
  case P_N:
  case P_E: return s->pos_h_m;
  case P_D: return s->pos_v_m;
  case P_A0:
  case P_A1:
  case P_A2:
    /* absolute pointing carries both the platform's and the gimbal's errors */
    return v->absolute ? hypot(s->attitude_deg, s->pointing_deg) : s->attitude_deg;
  case P_S0:
  case P_S1:
  case P_S2: return v->absolute ? 0.0 : s->pointing_deg;
  case P_T: {
    double any = 0;
    for (int i = 0; i < 9; i++)
      any += fabs(v->rate[i]);
    return any > 0 ? s->timing_s : 0.0;
  }
  case P_G: return s->ground_m;
  }
  return 0.0;
}

static void perturb(vg_geo_view *v, int k, double dx)
{
  double lat = v->pos.lat * VG__DEG, sl = sin(lat);
  double w = sqrt(1.0 - VG__WGS84_E2 * sl * sl);
  double rn = VG_WGS84_A / w;                                 /* prime vertical */
  double rm = VG_WGS84_A * (1.0 - VG__WGS84_E2) / (w * w * w); /* meridian */
  switch (k) {
  case P_N: v->pos.lat += dx / (rm + v->pos.h) / VG__DEG; break;
  case P_E: v->pos.lon += dx / ((rn + v->pos.h) * cos(lat)) / VG__DEG; break;
  case P_D: v->pos.h -= dx; break;
  case P_A0: *(v->absolute ? &v->abs_az : &v->heading) += dx; break;
  case P_A1: *(v->absolute ? &v->abs_el : &v->pitch) += dx; break;
  case P_A2: *(v->absolute ? &v->abs_roll : &v->roll) += dx; break;
  case P_S0: v->rel_az += dx; break;
  case P_S1: v->rel_el += dx; break;
  case P_S2: v->rel_roll += dx; break;
  case P_T: {
    double lat0 = lat;
    v->pos.lat += v->rate[0] * dx / (rm + v->pos.h) / VG__DEG;
    v->pos.lon += v->rate[1] * dx / ((rn + v->pos.h) * cos(lat0)) / VG__DEG;
    v->pos.h -= v->rate[2] * dx;
    if (v->absolute) {
      v->abs_az += v->rate[3] * dx;
      v->abs_el += v->rate[4] * dx;
      v->abs_roll += v->rate[5] * dx;
    } else {
      v->heading += v->rate[3] * dx;
      v->pitch += v->rate[4] * dx;
      v->roll += v->rate[5] * dx;
      v->rel_az += v->rate[6] * dx;
      v->rel_el += v->rate[7] * dx;
      v->rel_roll += v->rate[8] * dx;
    }
    break;
  }
  }
}

/* Ground point of the perturbed model as NED metres from the nominal hit. */
static int moved(const vg_geo_view *v0, const vg_geo_ground *g, const vg_geo_llh *hit0,
                 double hit_h, int k, double dx, double u, double vv, double ned[3])
{
  vg_geo_view v = *v0;
  vg_geo_camera c;
  vg_geo_ground gg = *g;
  vg_geo_llh hit;
  double e[3];
  if (k == P_G) {
    /* the ground surface raised: the local terrain height, slope ignored */
    gg.dem = NULL;
    gg.h = hit_h + dx;
  } else {
    perturb(&v, k, dx);
  }
  if (vg_geo_camera_init(&c, &v) != VG_OK || vg_geo_camera_ground(&c, &gg, u, vv, &hit, NULL) != VG_OK)
    return 0;
  vg_geo_llh_to_ecef(&hit, e);
  vg_geo_ecef_to_ned(hit0, e, ned);
  return 1;
}

int vg_geo_locate(const vg_geo_view *view, const vg_geo_ground *g, const vg_geo_sigmas *s_in,
                  const vg_geo_geoid *geoid, double u, double v, vg_geo_point *out)
{
  vg_geo_sigmas s;
  vg_geo_camera c;
  vg_geo_point pt;
  int rc;

  if (s_in)
    s = *s_in;
  else
    vg_geo_sigmas_default(&s);
  if ((rc = vg_geo_camera_init(&c, view)) != VG_OK)
    return rc;
  memset(&pt, 0, sizeof pt);
  if ((rc = vg_geo_camera_ground(&c, g, u, v, &pt.llh, &pt.range)) != VG_OK)
    return rc;
  pt.msl = NAN;
  if (geoid) {
    double n = vg_geo_geoid_n(geoid, pt.llh.lat, pt.llh.lon);
    if (!isnan(n))
      pt.msl = pt.llh.h - n;
  }
  {
    double cee = 0, cen = 0, cnn = 0, cuu = 0;
    int unbounded = 0;
    for (int k = 0; k < P__N; k++) {
      double sg = sigma_of(k, view, &s), a[3], b[3], col[3];
      int ha, hb;
      if (!(sg > 0))
        continue;
      ha = moved(view, g, &pt.llh, pt.llh.h, k, sg, u, v, a);
      hb = moved(view, g, &pt.llh, pt.llh.h, k, -sg, u, v, b);
      if (ha && hb) {
        for (int i = 0; i < 3; i++)
          col[i] = 0.5 * (a[i] - b[i]);
      } else if (ha) {
        memcpy(col, a, sizeof col);
      } else if (hb) {
        for (int i = 0; i < 3; i++)
          col[i] = -b[i];
      } else {
        unbounded = 1; /* one sigma either way leaves the ground: no finite bound */
        continue;
      }
      /* ned: col[0] north, col[1] east, col[2] down */
      cee += col[1] * col[1];
      cen += col[1] * col[0];
      cnn += col[0] * col[0];
      cuu += col[2] * col[2];
    }
    pt.cov_en[0] = unbounded ? INFINITY : cee;
    pt.cov_en[1] = pt.cov_en[2] = unbounded ? 0.0 : cen;
    pt.cov_en[3] = unbounded ? INFINITY : cnn;
    pt.sigma_up = unbounded ? INFINITY : sqrt(cuu);
    pt.ce90 = unbounded ? INFINITY : vg_geo_ce90(pt.cov_en);
    pt.le90 = unbounded ? INFINITY : vg_geo_le90(pt.sigma_up);
  }
  *out = pt;
  return VG_OK;
}
