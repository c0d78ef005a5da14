/* Meridian convergence of a UTM zone, through PROJ's own factors. */
#include <math.h>
#include <proj.h>
#include <stdio.h>

#include "geo_int.h"

double vg_geo_utm_convergence(double lat, double lon, int zone, int *zone_out)
{
  PJ_CONTEXT *ctx;
  PJ *p;
  PJ_FACTORS f;
  char def[96];
  double g = NAN;

  if (zone <= 0 || zone > 60) {
    double l = fmod(lon + 180.0, 360.0);
    if (l < 0)
      l += 360.0;
    zone = (int)(l / 6.0) + 1;
    if (zone > 60)
      zone = 60;
  }
  if (zone_out)
    *zone_out = zone;
  ctx = proj_context_create();
  if (!ctx)
    return NAN;
  proj_log_level(ctx, PJ_LOG_NONE);
  snprintf(def, sizeof def, "+proj=utm +zone=%d %s+ellps=WGS84", zone, lat < 0 ? "+south " : "");
  p = proj_create(ctx, def);
  if (p) {
    PJ_COORD c = proj_coord(lon * VG__DEG, lat * VG__DEG, 0, 0);
    f = proj_factors(p, c);
    if (proj_errno(p) == 0)
      g = f.meridian_convergence / VG__DEG;
    proj_destroy(p);
  }
  proj_context_destroy(ctx);
  return g;
}
