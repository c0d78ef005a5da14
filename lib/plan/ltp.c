/*
 * The local tangent plane of the planner: the East-North plane of the NED frame at an
 * origin on the ellipsoid (lib/geo's basis). Forward drops the down component of the ECEF
 * offset (an orthographic projection along the origin's vertical); the inverse intersects
 * the origin's vertical through the plane point with the ellipsoid, so fwd(inv(p)) == p to
 * rounding, and lengths in the plane are true to about d^2 / (2 R_e) of curvature.
 */
#include <math.h>

#include "vigia/geo.h"
#include "plan_int.h"

void vg_plan_ltp_init(vg_plan_ltp *t, vg_plan_ll origin)
{
  vg_geo_llh o = {origin.lat, origin.lon, 0};
  t->origin = origin;
  vg_geo_ned_basis(origin.lat, origin.lon, t->m);
  vg_geo_llh_to_ecef(&o, t->o_ecef);
}

vg_plan_pt vg_plan_ltp_fwd(const vg_plan_ltp *t, vg_plan_ll p)
{
  vg_geo_llh g = {p.lat, p.lon, 0};
  double e[3], d[3];
  vg_plan_pt q;
  vg_geo_llh_to_ecef(&g, e);
  for (int i = 0; i < 3; i++)
    d[i] = e[i] - t->o_ecef[i];
  q.y = t->m[0] * d[0] + t->m[1] * d[1] + t->m[2] * d[2]; /* north */
  q.x = t->m[3] * d[0] + t->m[4] * d[1] + t->m[5] * d[2]; /* east */
  return q;
}

vg_plan_ll vg_plan_ltp_inv(const vg_plan_ltp *t, vg_plan_pt p)
{
  const double a = VG_WGS84_A, b = VG_WGS84_A * (1.0 - VG_WGS84_F);
  double P[3], D[3], A, B, C, disc, s;
  vg_geo_llh g;
  vg_plan_ll out;
  for (int i = 0; i < 3; i++) {
    P[i] = t->o_ecef[i] + t->m[i] * p.y + t->m[3 + i] * p.x; /* m^T (N, E, 0) */
    D[i] = t->m[6 + i];                                      /* down */
  }
  /* (P + s D) on x^2/a^2 + y^2/a^2 + z^2/b^2 = 1: the root nearest the plane */
  A = (D[0] * D[0] + D[1] * D[1]) / (a * a) + D[2] * D[2] / (b * b);
  B = 2 * ((P[0] * D[0] + P[1] * D[1]) / (a * a) + P[2] * D[2] / (b * b));
  C = (P[0] * P[0] + P[1] * P[1]) / (a * a) + P[2] * P[2] / (b * b) - 1;
  disc = B * B - 4 * A * C;
  /* one root is near the plane, the other near the far side of the Earth: the one of least
   * |s|, written so that it does not cancel (C / (A s_far)) */
  if (disc < 0)
    disc = 0; /* a plane point beyond the Earth's limb: its nearest approach */
  {
    double q = -0.5 * (B + (B >= 0 ? 1 : -1) * sqrt(disc));
    double r1 = q / A, r2 = q != 0 ? C / q : 0;
    s = fabs(r1) < fabs(r2) ? r1 : r2;
  }
  for (int i = 0; i < 3; i++)
    P[i] += s * D[i];
  vg_geo_ecef_to_llh(P, &g);
  out.lat = g.lat;
  out.lon = g.lon;
  return out;
}
