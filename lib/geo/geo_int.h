/* Internals of lib/geo shared between its files. */
#ifndef VG_GEO_INT_H
#define VG_GEO_INT_H

#include <math.h>

#include "vigia/geo.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#define VG__DEG (M_PI / 180.0)
#define VG__WGS84_B (VG_WGS84_A * (1.0 - VG_WGS84_F))
#define VG__WGS84_E2 (VG_WGS84_F * (2.0 - VG_WGS84_F))

struct vg_geo_dem {
  int w, h;
  double lon0, lat0, dlon, dlat;  /* sample centres */
  double ilon, ilat;              /* 1/dlon, 1/dlat */
  float *z;                       /* HAE, NAN = void */
  double zmin, zmax;              /* HAE range of the valid samples */
  double posting_m;               /* smallest ground spacing of the samples */
  char name[256];
};

static inline double vg__dot3(const double a[3], const double b[3])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* out = m * v (m row-major 3x3) */
static inline void vg__mat_vec(const double m[9], const double v[3], double out[3])
{
  out[0] = m[0] * v[0] + m[1] * v[1] + m[2] * v[2];
  out[1] = m[3] * v[0] + m[4] * v[1] + m[5] * v[2];
  out[2] = m[6] * v[0] + m[7] * v[1] + m[8] * v[2];
}

/* out = m^T * v */
static inline void vg__mat_tvec(const double m[9], const double v[3], double out[3])
{
  out[0] = m[0] * v[0] + m[3] * v[1] + m[6] * v[2];
  out[1] = m[1] * v[0] + m[4] * v[1] + m[7] * v[2];
  out[2] = m[2] * v[0] + m[5] * v[1] + m[8] * v[2];
}

/* vg_geo_ray_ground for a unit direction (no normalisation or checks). */
int vg__geo_ray_ground_unit(const vg_geo_ground *g, const double p[3], const double d[3],
                            vg_geo_llh *hit, double *range);
/* c = a * b */
void vg__mat_mul(const double a[9], const double b[9], double c[9]);
/* Aerospace Z-Y-X: R = Rz(yaw) Ry(pitch) Rx(roll), angles in degrees. */
void vg__rot_zyx(double yaw, double pitch, double roll, double r[9]);
/* Wraps an angle to [-180, 180). */
double vg__wrap180(double a);
/* The median of n values (sorted in place); NAN for n = 0. */
double vg__median(double *v, size_t n);

#endif
