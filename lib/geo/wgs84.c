/*
 * WGS84: geodetic <-> ECEF <-> local NED, and the rotations of the sensor
 * model. ECEF -> geodetic is Vermeille's closed form (J. Geodesy 85, 2011,
 * "An analytical method to transform geocentric into geodetic coordinates"),
 * exact to rounding outside the evolute of the ellipsoid (points more than
 * about 43 km from the Earth's centre, i.e. everything a drone can see).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo_int.h"

void vg_geo_llh_to_ecef(const vg_geo_llh *g, double e[3])
{
  double sl = sin(g->lat * VG__DEG), cl = cos(g->lat * VG__DEG);
  double so = sin(g->lon * VG__DEG), co = cos(g->lon * VG__DEG);
  double n = VG_WGS84_A / sqrt(1.0 - VG__WGS84_E2 * sl * sl);
  e[0] = (n + g->h) * cl * co;
  e[1] = (n + g->h) * cl * so;
  e[2] = (n * (1.0 - VG__WGS84_E2) + g->h) * sl;
}

void vg_geo_ecef_to_llh(const double e[3], vg_geo_llh *g)
{
  const double a2 = VG_WGS84_A * VG_WGS84_A, e2 = VG__WGS84_E2, e4 = e2 * e2;
  double x2y2 = e[0] * e[0] + e[1] * e[1];
  double p = x2y2 / a2;
  double q = (1.0 - e2) / a2 * e[2] * e[2];
  double r = (p + q - e4) / 6.0;
  double s = e4 * p * q / (4.0 * r * r * r);
  double t = cbrt(1.0 + s + sqrt(s * (2.0 + s)));
  double u = r * (1.0 + t + 1.0 / t);
  double v = sqrt(u * u + e4 * q);
  double w = e2 * (u + v - q) / (2.0 * v);
  double k = sqrt(u + v + w * w) - w;
  double rxy = sqrt(x2y2);
  double d = k * rxy / (k + e2);
  double dz = sqrt(d * d + e[2] * e[2]);
  g->lat = 2.0 * atan2(e[2], d + dz) / VG__DEG;
  g->lon = atan2(e[1], e[0]) / VG__DEG;
  g->h = (k + e2 - 1.0) / k * dz;
}

void vg_geo_ned_basis(double lat, double lon, double m[9])
{
  double sl = sin(lat * VG__DEG), cl = cos(lat * VG__DEG);
  double so = sin(lon * VG__DEG), co = cos(lon * VG__DEG);
  m[0] = -sl * co; m[1] = -sl * so; m[2] = cl;   /* north */
  m[3] = -so;      m[4] = co;       m[5] = 0.0;  /* east */
  m[6] = -cl * co; m[7] = -cl * so; m[8] = -sl;  /* down */
}

void vg_geo_ecef_to_ned(const vg_geo_llh *o, const double e[3], double ned[3])
{
  double oe[3], d[3], m[9];
  vg_geo_llh_to_ecef(o, oe);
  d[0] = e[0] - oe[0];
  d[1] = e[1] - oe[1];
  d[2] = e[2] - oe[2];
  vg_geo_ned_basis(o->lat, o->lon, m);
  vg__mat_vec(m, d, ned);
}

double vg_geo_distance(const vg_geo_llh *a, const vg_geo_llh *b)
{
  double ea[3], eb[3];
  vg_geo_llh_to_ecef(a, ea);
  vg_geo_llh_to_ecef(b, eb);
  return sqrt((ea[0] - eb[0]) * (ea[0] - eb[0]) + (ea[1] - eb[1]) * (ea[1] - eb[1]) +
              (ea[2] - eb[2]) * (ea[2] - eb[2]));
}

void vg__mat_mul(const double a[9], const double b[9], double c[9])
{
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      c[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

/*
 * Rz(yaw) Ry(pitch) Rx(roll): body (x forward, y right, z down) to NED for a
 * platform, line of sight (x) / image right (y) / image down (z) to body for a
 * gimbal. Yaw clockwise from north seen from above, pitch nose up positive,
 * roll right wing down (image clockwise seen from behind) positive.
 */
void vg__rot_zyx(double yaw, double pitch, double roll, double r[9])
{
  double cy = cos(yaw * VG__DEG), sy = sin(yaw * VG__DEG);
  double cp = cos(pitch * VG__DEG), sp = sin(pitch * VG__DEG);
  double cr = cos(roll * VG__DEG), sr = sin(roll * VG__DEG);
  r[0] = cy * cp; r[1] = cy * sp * sr - sy * cr; r[2] = cy * sp * cr + sy * sr;
  r[3] = sy * cp; r[4] = sy * sp * sr + cy * cr; r[5] = sy * sp * cr - cy * sr;
  r[6] = -sp;     r[7] = cp * sr;                r[8] = cp * cr;
}

double vg__wrap180(double a)
{
  a = fmod(a + 180.0, 360.0);
  if (a < 0)
    a += 360.0;
  return a - 180.0;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double vg__median(double *v, size_t n)
{
  if (!n)
    return NAN;
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
