/*
 * A DEM in memory: geographic sample grid, heights converted once to HAE
 * (MSL + EGM96 N per sample) so that the ray march reads one number per
 * lookup. Bilinear between sample centres; a cell touching a void is a void.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo_int.h"

int vg_geo_dem_new(vg_geo_dem **out, int w, int h, double lon0, double lat0, double dlon,
                   double dlat, const float *z, double nodata, vg_geo_vdatum vd,
                   const vg_geo_geoid *geoid, const char *name)
{
  vg_geo_dem *d = NULL;
  size_t n;
  int rc = VG_OK;
  double lat_mid;

  if (!name)
    name = "(grid)";
  if (w < 2 || h < 2 || !z || !isfinite(lon0) || !isfinite(lat0) || !isfinite(dlon) ||
      !isfinite(dlat) || dlon <= 0 || dlat == 0 || fabs(lat0) > 90.0 ||
      fabs(lat0 + (h - 1) * dlat) > 90.0)
    return vg_error_set(VG_E_INVALID, "DEM %s: %d x %d samples from (%g, %g) by (%g, %g) is not a grid",
                        name, w, h, lon0, lat0, dlon, dlat);
  n = (size_t)w * (size_t)h;
  if (n > VG_GEO_DEM_MAX_SAMPLES)
    return vg_error_set(VG_E_LIMIT, "DEM %s: %d x %d samples exceed VG_GEO_DEM_MAX_SAMPLES", name, w, h);
  if (vd == VG_GEO_VDATUM_MSL && !geoid)
    return vg_error_set(VG_E_INVALID, "DEM %s: MSL heights need a geoid to become HAE", name);
  d = calloc(1, sizeof *d);
  if (!d || !(d->z = malloc(n * sizeof *d->z))) {
    rc = vg_error_set(VG_E_NOMEM, "DEM %s: %zu samples", name, n);
    goto done;
  }
  d->w = w;
  d->h = h;
  d->lon0 = lon0;
  d->lat0 = lat0;
  d->dlon = dlon;
  d->dlat = dlat;
  d->ilon = 1.0 / dlon;
  d->ilat = 1.0 / dlat;
  d->zmin = INFINITY;
  d->zmax = -INFINITY;
  for (int j = 0; j < h; j++) {
    double lat = lat0 + j * dlat;
    for (int i = 0; i < w; i++) {
      size_t k = (size_t)j * (size_t)w + (size_t)i;
      double v = z[k];
      if (!isfinite(v) || (!isnan(nodata) && v == (double)(float)nodata) || fabs(v) > 12000.0) {
        d->z[k] = NAN;
        continue;
      }
      if (vd == VG_GEO_VDATUM_MSL) {
        double gn = vg_geo_geoid_n(geoid, lat, lon0 + i * dlon);
        if (isnan(gn)) {
          rc = vg_error_set(VG_E_RANGE, "DEM %s: no geoid undulation at (%.6f, %.6f) in %s", name,
                            lat, lon0 + i * dlon, vg_geo_geoid_name(geoid));
          goto done;
        }
        v += gn;
      }
      d->z[k] = (float)v;
      if (d->z[k] < d->zmin)
        d->zmin = d->z[k];
      if (d->z[k] > d->zmax)
        d->zmax = d->z[k];
    }
  }
  if (!(d->zmin <= d->zmax)) {
    rc = vg_error_set(VG_E_INVALID, "DEM %s: every sample is a void", name);
    goto done;
  }
  lat_mid = lat0 + 0.5 * (h - 1) * dlat;
  {
    double ns = fabs(dlat) * VG__DEG * VG_WGS84_A;
    double ew = dlon * VG__DEG * VG_WGS84_A * cos(lat_mid * VG__DEG);
    d->posting_m = ns < ew ? ns : ew;
    if (d->posting_m < 0.01)
      d->posting_m = 0.01;
  }
  snprintf(d->name, sizeof d->name, "%s", name);
  *out = d;
  d = NULL;
done:
  vg_geo_dem_free(d);
  return rc;
}

void vg_geo_dem_free(vg_geo_dem *d)
{
  if (!d)
    return;
  free(d->z);
  free(d);
}

const char *vg_geo_dem_name(const vg_geo_dem *d)
{
  return d ? d->name : "";
}

double vg_geo_dem_h(const vg_geo_dem *d, double lat, double lon)
{
  double x = (lon - d->lon0) * d->ilon, y = (lat - d->lat0) * d->ilat;
  long i, j;
  double fx, fy;
  const float *p;

  /* the last row and column are inside: allow the rounding of lat0 + (h-1)*dlat */
  if (!(x >= -1e-9 && y >= -1e-9 && x <= d->w - 1 + 1e-9 && y <= d->h - 1 + 1e-9))
    return NAN;
  if (x < 0)
    x = 0;
  if (y < 0)
    y = 0;
  i = (long)x;
  j = (long)y;
  if (i >= d->w - 1)
    i = d->w - 2;
  if (j >= d->h - 1)
    j = d->h - 2;
  fx = x - (double)i;
  fy = y - (double)j;
  p = d->z + (size_t)j * (size_t)d->w + (size_t)i;
  /* NAN in any corner propagates: a cell touching a void is a void. */
  return (1 - fy) * ((1 - fx) * p[0] + fx * p[1]) + fy * ((1 - fx) * p[d->w] + fx * p[d->w + 1]);
}

void vg_geo_dem_info(const vg_geo_dem *d, double *lat_min, double *lat_max, double *lon_min,
                     double *lon_max, double *h_min, double *h_max, double *posting_m)
{
  double la = d->lat0, lb = d->lat0 + (d->h - 1) * d->dlat;
  if (lat_min)
    *lat_min = la < lb ? la : lb;
  if (lat_max)
    *lat_max = la < lb ? lb : la;
  if (lon_min)
    *lon_min = d->lon0;
  if (lon_max)
    *lon_max = d->lon0 + (d->w - 1) * d->dlon;
  if (h_min)
    *h_min = d->zmin;
  if (h_max)
    *h_max = d->zmax;
  if (posting_m)
    *posting_m = d->posting_m;
}
