/*
 * The sensor model: a pinhole camera placed and pointed by the metadata.
 *
 *   camera -> NED = Rz(heading) Ry(pitch) Rx(roll) * Rz(rel_az) Ry(rel_el) Rx(rel_roll)
 *   (ST 0601 tags 5, 6/90, 7/91, then 18, 19, 20; research/geo-plan.md A2.2,
 *   as KWIVER's uas_ypr_to_rotation), or for absolute pointing (EG 0104)
 *   camera -> NED = Rz(abs_az) Ry(abs_el) Rx(abs_roll).
 *   NED -> ECEF = (NED basis at the sensor)^T.
 *
 * Camera axes: x along the line of sight, y image right, z image down. A
 * pixel (u, v) has the ray (1, (u - W/2)/fx, (v - H/2)/fy) with
 * fx = (W/2)/tan(HFOV/2), fy = (H/2)/tan(VFOV/2): the four image corners are
 * the corners of the fields of view, whatever the pixel aspect ratio.
 */
#include <math.h>
#include <string.h>

#include "geo_int.h"

void vg_geo_view_rotation(const vg_geo_view *v, double r[9])
{
  if (v->absolute) {
    vg__rot_zyx(v->abs_az, v->abs_el, v->abs_roll, r);
  } else {
    double rp[9], rs[9];
    vg__rot_zyx(v->heading, v->pitch, v->roll, rp);
    vg__rot_zyx(v->rel_az, v->rel_el, v->rel_roll, rs);
    vg__mat_mul(rp, rs, r);
  }
}

int vg_geo_camera_init(vg_geo_camera *c, const vg_geo_view *v)
{
  double rn[9], m[9];
  if (!(v->hfov > 0 && v->hfov < 180) || !(v->vfov > 0 && v->vfov < 180))
    return vg_error_set(VG_E_INVALID, "fields of view %g x %g deg: each must be in (0, 180)",
                        v->hfov, v->vfov);
  if (v->width <= 0 || v->height <= 0)
    return vg_error_set(VG_E_INVALID, "image size %d x %d", v->width, v->height);
  if (!isfinite(v->pos.lat) || !isfinite(v->pos.lon) || !isfinite(v->pos.h) ||
      fabs(v->pos.lat) > 90.0)
    return vg_error_set(VG_E_INVALID, "sensor position (%g, %g, %g)", v->pos.lat, v->pos.lon,
                        v->pos.h);
  {
    const double ang[] = {v->heading, v->pitch, v->roll, v->rel_az, v->rel_el, v->rel_roll,
                          v->abs_az, v->abs_el, v->abs_roll};
    for (size_t i = 0; i < sizeof ang / sizeof ang[0]; i++)
      if (!isfinite(ang[i]))
        return vg_error_set(VG_E_INVALID, "a pointing or attitude angle is not a number");
  }
  vg_geo_view_rotation(v, rn);
  vg_geo_ned_basis(v->pos.lat, v->pos.lon, m);
  /* camera -> ECEF = m^T * rn */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      c->r[3 * i + j] = m[i] * rn[j] + m[3 + i] * rn[3 + j] + m[6 + i] * rn[6 + j];
  vg_geo_llh_to_ecef(&v->pos, c->pos);
  c->llh = v->pos;
  c->cx = 0.5 * v->width;
  c->cy = 0.5 * v->height;
  c->fx = c->cx / tan(0.5 * v->hfov * VG__DEG);
  c->fy = c->cy / tan(0.5 * v->vfov * VG__DEG);
  return VG_OK;
}

void vg_geo_camera_ray(const vg_geo_camera *c, double u, double v, double d[3])
{
  double s[3] = {1.0, (u - c->cx) / c->fx, (v - c->cy) / c->fy};
  double n = 1.0 / sqrt(vg__dot3(s, s));
  s[0] *= n;
  s[1] *= n;
  s[2] *= n;
  vg__mat_vec(c->r, s, d);
}

int vg_geo_camera_project(const vg_geo_camera *c, const double e[3], double *u, double *v)
{
  double w[3] = {e[0] - c->pos[0], e[1] - c->pos[1], e[2] - c->pos[2]}, s[3];
  vg__mat_tvec(c->r, w, s);
  if (!(s[0] > 0))
    return vg_error_set(VG_E_RANGE, "the point is behind the camera");
  *u = c->cx + c->fx * s[1] / s[0];
  *v = c->cy + c->fy * s[2] / s[0];
  return VG_OK;
}

int vg_geo_camera_ground(const vg_geo_camera *c, const vg_geo_ground *g, double u, double v,
                         vg_geo_llh *hit, double *range)
{
  double d[3];
  if (!isfinite(u) || !isfinite(v))
    return vg_error_set(VG_E_INVALID, "pixel (%g, %g)", u, v);
  vg_geo_camera_ray(c, u, v, d);
  return vg__geo_ray_ground_unit(g, c->pos, d, hit, range);
}

int vg_geo_view_from_pose(vg_geo_view *v, const vg_klv_pose *p, const vg_geo_geoid *geoid,
                          int width, int height, vg_geo_height_src *hsrc)
{
  static const struct {
    vg_klv_pose_field f;
    const char *name;
  } need[] = {{VG_POSE_SENSOR_LAT, "sensor latitude (tag 13)"},
              {VG_POSE_SENSOR_LON, "sensor longitude (tag 14)"},
              {VG_POSE_HFOV, "horizontal field of view (tag 16)"},
              {VG_POSE_VFOV, "vertical field of view (tag 17)"}};
  vg_geo_height_src hs;

  memset(v, 0, sizeof *v);
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
    if (!vg_klv_pose_has(p, need[i].f))
      return vg_error_set(VG_E_NOTFOUND, "the metadata has no %s", need[i].name);
  v->pos.lat = p->sensor_lat;
  v->pos.lon = p->sensor_lon;
  if (vg_klv_pose_has(p, VG_POSE_SENSOR_ALT_HAE)) {
    v->pos.h = p->sensor_alt_hae;
    hs = VG_GEO_H_HAE;
  } else if (vg_klv_pose_has(p, VG_POSE_SENSOR_ALT_MSL)) {
    double n = geoid ? vg_geo_geoid_n(geoid, p->sensor_lat, p->sensor_lon) : NAN;
    v->pos.h = p->sensor_alt_msl + (isnan(n) ? 0.0 : n);
    hs = isnan(n) ? VG_GEO_H_MSL_AS_HAE : VG_GEO_H_MSL_GEOID;
  } else {
    return vg_error_set(VG_E_NOTFOUND, "the metadata has no sensor altitude (tag 75 or 15)");
  }
  if (vg_klv_pose_has(p, VG_POSE_SENSOR_ABS_AZ) && vg_klv_pose_has(p, VG_POSE_SENSOR_ABS_EL)) {
    v->absolute = 1;
    v->abs_az = p->sensor_abs_az;
    v->abs_el = p->sensor_abs_el;
    v->abs_roll = vg_klv_pose_has(p, VG_POSE_SENSOR_ABS_ROLL) ? p->sensor_abs_roll : 0.0;
  } else {
    if (!vg_klv_pose_has(p, VG_POSE_PLATFORM_HEADING))
      return vg_error_set(VG_E_NOTFOUND, "the metadata has no platform heading (tag 5)");
    if (!vg_klv_pose_has(p, VG_POSE_SENSOR_REL_AZ) || !vg_klv_pose_has(p, VG_POSE_SENSOR_REL_EL))
      return vg_error_set(VG_E_NOTFOUND,
                          "the metadata has no sensor relative azimuth/elevation (tags 18, 19)");
    v->heading = p->platform_heading;
    /* pitch and roll absent: level flight (some encoders send heading only) */
    v->pitch = vg_klv_pose_has(p, VG_POSE_PLATFORM_PITCH) ? p->platform_pitch : 0.0;
    v->roll = vg_klv_pose_has(p, VG_POSE_PLATFORM_ROLL) ? p->platform_roll : 0.0;
    v->rel_az = p->sensor_rel_az;
    v->rel_el = p->sensor_rel_el;
    v->rel_roll = vg_klv_pose_has(p, VG_POSE_SENSOR_REL_ROLL) ? p->sensor_rel_roll : 0.0;
  }
  v->hfov = p->hfov;
  v->vfov = p->vfov;
  v->width = width > 0 ? width : 1;
  v->height = height > 0 ? height : 1;
  if (hsrc)
    *hsrc = hs;
  return VG_OK;
}

void vg_geo_ground_for_pose(vg_geo_ground *g, const vg_klv_pose *p, const vg_geo_dem *dem,
                            const vg_geo_geoid *geoid, const char **desc)
{
  int has_fc = vg_klv_pose_has(p, VG_POSE_FRAME_CENTER_LAT) &&
               vg_klv_pose_has(p, VG_POSE_FRAME_CENTER_LON);
  double lat = has_fc ? p->frame_center_lat : p->sensor_lat;
  double lon = has_fc ? p->frame_center_lon : p->sensor_lon;
  double n = geoid ? vg_geo_geoid_n(geoid, lat, lon) : NAN;
  const char *d;
  g->dem = dem;
  g->h = 0.0;
  if (dem) {
    d = "the DEM";
  } else if (vg_klv_pose_has(p, VG_POSE_FRAME_CENTER_HAE)) {
    g->h = p->frame_center_hae;
    d = "the KLV frame-centre HAE (tag 78)";
  } else if (vg_klv_pose_has(p, VG_POSE_FRAME_CENTER_ELEV_MSL)) {
    g->h = p->frame_center_elev_msl + (isnan(n) ? 0.0 : n);
    d = isnan(n) ? "the KLV frame-centre elevation (tag 25) taken as HAE (no geoid)"
                 : "the KLV frame-centre elevation (tag 25) + EGM96";
  } else {
    g->h = isnan(n) ? 0.0 : n;
    d = isnan(n) ? "the ellipsoid (no elevation in the KLV, no geoid)"
                 : "sea level, EGM96 (no elevation in the KLV)";
  }
  if (desc)
    *desc = d;
}

static double ang_rate(double a0, double a1, double dt)
{
  return vg__wrap180(a1 - a0) / dt;
}

void vg_geo_view_rates(vg_geo_view *v, const vg_geo_view *prev, double dt_prev,
                       const vg_geo_view *next, double dt_next)
{
  const vg_geo_view *a = prev && dt_prev > 0 ? prev : v;
  const vg_geo_view *b = next && dt_next > 0 ? next : v;
  double dt = (a == v ? 0.0 : dt_prev) + (b == v ? 0.0 : dt_next);
  double m[9], ea[3], eb[3], d[3], ned[3];
  memset(v->rate, 0, sizeof v->rate);
  if (!(dt > 0))
    return;
  vg_geo_llh_to_ecef(&a->pos, ea);
  vg_geo_llh_to_ecef(&b->pos, eb);
  for (int i = 0; i < 3; i++)
    d[i] = (eb[i] - ea[i]) / dt;
  vg_geo_ned_basis(v->pos.lat, v->pos.lon, m);
  vg__mat_vec(m, d, ned);
  v->rate[0] = ned[0];
  v->rate[1] = ned[1];
  v->rate[2] = ned[2];
  if (v->absolute) {
    v->rate[3] = ang_rate(a->abs_az, b->abs_az, dt);
    v->rate[4] = (b->abs_el - a->abs_el) / dt;
    v->rate[5] = ang_rate(a->abs_roll, b->abs_roll, dt);
  } else {
    v->rate[3] = ang_rate(a->heading, b->heading, dt);
    v->rate[4] = (b->pitch - a->pitch) / dt;
    v->rate[5] = ang_rate(a->roll, b->roll, dt);
    v->rate[6] = ang_rate(a->rel_az, b->rel_az, dt);
    v->rate[7] = (b->rel_el - a->rel_el) / dt;
    v->rate[8] = ang_rate(a->rel_roll, b->rel_roll, dt);
  }
}
