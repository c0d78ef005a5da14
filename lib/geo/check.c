/*
 * geocheck: the stream's own frame centre and corners against the ones the
 * sensor model computes from the same packet, and a diagnosis of what the
 * encoder did differently (research/geo-plan.md A4).
 *
 * For each packet: the line of sight through the image centre (and the four
 * image corners) is put on the ground; the KLV centre is seen from the
 * sensor as an azimuth, an elevation and a distance, so the residual splits
 * into d_az, d_el and dh (the ground height change that would put the KLV
 * centre on the computed line of sight). Over the packets:
 *   - a constant d_az is an azimuth bias; equal to the UTM meridian
 *     convergence, it is a grid bearing taken for a true one;
 *   - a constant dh equal to the geoid undulation is an MSL/HAE mix-up,
 *     another constant dh a wrong height, a constant d_el a pointing bias;
 *   - a residual proportional to the footprint's ground velocity (the
 *     platform's motion and the gimbal's) is a time offset between the KLV
 *     centre and the pose (fitted as a delay in s).
 * The findings are then removed from every packet and the residuals given
 * again.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo_int.h"

/* Most packets a check holds (a 10-hour flight at 30 Hz). */
#define CHECK_MAX_SAMPLES (10u * 3600u * 30u)

typedef struct {
  vg_geo_camera cam;
  double ground_h;
  int use_dem;
  double klv_c[2];        /* lat, lon */
  double klv_k[4][2];
  int has_corners;
  double los_az, los_el;  /* computed line of sight through the centre, NED */
} priv;

struct vg_geo_check {
  vg_geo_check_opts o;
  vg_geo_check_sample *s;
  priv *p;
  size_t n, cap, skipped;
  const char *ground_desc;
};

int vg_geo_check_new(vg_geo_check **out, const vg_geo_check_opts *o)
{
  vg_geo_check *c = calloc(1, sizeof *c);
  if (!c)
    return vg_error_set(VG_E_NOMEM, "geocheck");
  c->o = *o;
  *out = c;
  return VG_OK;
}

void vg_geo_check_free(vg_geo_check *c)
{
  if (!c)
    return;
  free(c->s);
  free(c->p);
  free(c);
}

const char *vg_geo_finding_name(vg_geo_finding f)
{
  switch (f) {
  case VG_GEO_FIND_NONE: return "none";
  case VG_GEO_FIND_AZ_BIAS: return "azimuth_bias";
  case VG_GEO_FIND_EL_BIAS: return "elevation_bias";
  case VG_GEO_FIND_HEIGHT: return "height_offset";
  case VG_GEO_FIND_TIMING: return "timing_offset";
  case VG_GEO_FIND_INCONSISTENT: return "inconsistent";
  }
  return "?";
}

const vg_geo_check_sample *vg_geo_check_samples(const vg_geo_check *c, size_t *n)
{
  *n = c->n;
  return c->s;
}

/* az, el (deg) and distance of ECEF point e seen from the camera position. */
static void seen_from(const vg_geo_camera *cam, const double e[3], double *az, double *el, double *d)
{
  double ned[3];
  vg_geo_ecef_to_ned(&cam->llh, e, ned);
  *az = atan2(ned[1], ned[0]) / VG__DEG;
  *el = atan2(-ned[2], hypot(ned[0], ned[1])) / VG__DEG;
  if (d)
    *d = sqrt(vg__dot3(ned, ned));
}

/* Horizontal distance between two (lat, lon) at height h. */
static double hdist(double la, double lo, double lb, double lob, double h)
{
  vg_geo_llh a = {la, lo, h}, b = {lb, lob, h};
  return vg_geo_distance(&a, &b);
}

/* The ground of one packet: the given height, or as vg_geo_ground_for_pose. */
static double ground_of(vg_geo_check *c, const vg_klv_pose *p, const char **desc)
{
  vg_geo_ground g;
  if (!c->o.ground_from_klv) {
    *desc = "the given ellipsoid height";
    return c->o.ground.h;
  }
  vg_geo_ground_for_pose(&g, p, NULL, c->o.geoid, desc);
  return g.h;
}

/* Rotates an NED ray by d_az about the vertical, then by d_el about the
 * horizontal axis to the right of azimuth az0 (positive raises the ray). */
static void turn(double r[3], double d_az, double d_el, double az0)
{
  double ca = cos(d_az * VG__DEG), sa = sin(d_az * VG__DEG);
  double n = r[0] * ca - r[1] * sa, e = r[0] * sa + r[1] * ca, d = r[2];
  double k[3] = {-sin((az0 + d_az) * VG__DEG), cos((az0 + d_az) * VG__DEG), 0.0};
  double v[3] = {n, e, d}, kx[3], kd, ct = cos(d_el * VG__DEG), st = sin(d_el * VG__DEG);
  kx[0] = k[1] * v[2] - k[2] * v[1];
  kx[1] = k[2] * v[0] - k[0] * v[2];
  kx[2] = k[0] * v[1] - k[1] * v[0];
  kd = vg__dot3(k, v);
  for (int i = 0; i < 3; i++)
    r[i] = v[i] * ct + kx[i] * st + k[i] * kd * (1.0 - ct);
}

/* The ground point of image point (u, v) of sample p, the ray turned by
 * (d_az, d_el) and the ground raised by dh. */
static int place(const vg_geo_check *c, const priv *p, double u, double v, double d_az, double d_el,
                 double dh, vg_geo_llh *hit, double *range)
{
  double d[3], m[9], ned[3];
  vg_geo_ground g;
  vg_geo_camera_ray(&p->cam, u, v, d);
  if (d_az != 0.0 || d_el != 0.0) {
    vg_geo_ned_basis(p->cam.llh.lat, p->cam.llh.lon, m);
    vg__mat_vec(m, d, ned);
    turn(ned, d_az, d_el, p->los_az);
    vg__mat_tvec(m, ned, d);
  }
  if (p->use_dem && dh == 0.0) {
    g = c->o.ground;
  } else {
    g.dem = NULL;
    g.h = p->ground_h + dh;
  }
  return vg_geo_ray_ground(&g, p->cam.pos, d, hit, range);
}

int vg_geo_check_add(vg_geo_check *c, const vg_klv_pose *pose)
{
  vg_geo_view view;
  vg_geo_check_sample s;
  priv p;
  vg_geo_llh hit;
  double e[3], kaz, kel, kd, d[3];
  const char *desc = NULL;
  static const double cu[4] = {0, 1, 1, 0}, cv[4] = {0, 0, 1, 1}; /* UL, UR, LR, LL */

  memset(&s, 0, sizeof s);
  memset(&p, 0, sizeof p);
  if (!vg_klv_pose_has(pose, VG_POSE_FRAME_CENTER_LAT) ||
      !vg_klv_pose_has(pose, VG_POSE_FRAME_CENTER_LON) ||
      vg_geo_view_from_pose(&view, pose, c->o.geoid, 1, 1, NULL) != VG_OK ||
      vg_geo_camera_init(&p.cam, &view) != VG_OK) {
    c->skipped++;
    return VG_OK;
  }
  if (c->n >= CHECK_MAX_SAMPLES) {
    c->skipped++;
    return VG_OK;
  }
  p.use_dem = c->o.ground.dem != NULL;
  p.ground_h = ground_of(c, pose, &desc);
  p.klv_c[0] = pose->frame_center_lat;
  p.klv_c[1] = pose->frame_center_lon;
  if (p.use_dem) {
    double hd = vg_geo_dem_h(c->o.ground.dem, p.klv_c[0], p.klv_c[1]);
    desc = "the DEM";
    if (!isnan(hd))
      p.ground_h = hd;
  }
  vg_geo_camera_ray(&p.cam, 0.5, 0.5, d);
  {
    double m[9], ned[3];
    vg_geo_ned_basis(p.cam.llh.lat, p.cam.llh.lon, m);
    vg__mat_vec(m, d, ned);
    p.los_az = atan2(ned[1], ned[0]) / VG__DEG;
    p.los_el = atan2(-ned[2], hypot(ned[0], ned[1])) / VG__DEG;
  }
  if (place(c, &p, 0.5, 0.5, 0, 0, 0, &hit, &s.range) != VG_OK) {
    c->skipped++;
    return VG_OK;
  }
  if (p.use_dem)
    p.ground_h = hit.h; /* the KLV centre is compared at the computed ground height */
  c->ground_desc = desc;
  s.time_us = vg_klv_pose_has(pose, VG_POSE_TIME) ? pose->time_us : 0;
  s.ground_h = p.ground_h;
  s.centre = hit;
  s.centre_err_m = hdist(hit.lat, hit.lon, p.klv_c[0], p.klv_c[1], p.ground_h);
  {
    vg_geo_llh k = {p.klv_c[0], p.klv_c[1], p.ground_h};
    double t, r_h2, dh_pt[3];
    vg_geo_llh_to_ecef(&k, e);
    seen_from(&p.cam, e, &kaz, &kel, &kd);
    s.d_az = vg__wrap180(kaz - p.los_az);
    s.d_el = kel - p.los_el;
    /* the point of the line of sight horizontally nearest the KLV centre */
    {
      double m[9], ned_r[3], ned_k[3];
      vg_geo_ned_basis(p.cam.llh.lat, p.cam.llh.lon, m);
      vg__mat_vec(m, d, ned_r);
      vg_geo_ecef_to_ned(&p.cam.llh, e, ned_k);
      r_h2 = ned_r[0] * ned_r[0] + ned_r[1] * ned_r[1];
      t = r_h2 > 1e-12 ? (ned_r[0] * ned_k[0] + ned_r[1] * ned_k[1]) / r_h2 : kd;
      for (int i = 0; i < 3; i++)
        dh_pt[i] = p.cam.pos[i] + t * d[i];
      vg_geo_llh q;
      vg_geo_ecef_to_llh(dh_pt, &q);
      s.dh_m = q.h - p.ground_h;
    }
  }
  s.range_err_m = vg_klv_pose_has(pose, VG_POSE_SLANT_RANGE) ? pose->slant_range - s.range : NAN;
  s.geoid_n = c->o.geoid ? vg_geo_geoid_n(c->o.geoid, p.klv_c[0], p.klv_c[1]) : NAN;
  p.has_corners = vg_klv_pose_has(pose, VG_POSE_CORNERS);
  for (int i = 0; i < 4; i++) {
    s.corner_err_m[i] = NAN;
    s.corr_corner_err_m[i] = NAN;
    if (!p.has_corners)
      continue;
    p.klv_k[i][0] = pose->corner_lat[i];
    p.klv_k[i][1] = pose->corner_lon[i];
    if (place(c, &p, cu[i], cv[i], 0, 0, 0, &hit, NULL) == VG_OK)
      s.corner_err_m[i] = hdist(hit.lat, hit.lon, p.klv_k[i][0], p.klv_k[i][1], hit.h);
  }
  s.corr_centre_err_m = NAN;
  if (c->n == c->cap) {
    size_t nc = c->cap ? 2 * c->cap : 256;
    vg_geo_check_sample *ns = realloc(c->s, nc * sizeof *ns);
    if (!ns)
      return vg_error_set(VG_E_NOMEM, "geocheck: %zu samples", nc);
    c->s = ns;
    priv *np = realloc(c->p, nc * sizeof *np);
    if (!np)
      return vg_error_set(VG_E_NOMEM, "geocheck: %zu samples", nc);
    c->p = np;
    c->cap = nc;
  }
  c->s[c->n] = s;
  c->p[c->n] = p;
  c->n++;
  return VG_OK;
}

/* median and 1.4826 * MAD of the finite values of f(sample) */
static void robust(const vg_geo_check *c, double (*f)(const vg_geo_check_sample *), double *med,
                   double *sd)
{
  double *v = malloc((c->n ? c->n : 1) * sizeof *v);
  size_t m = 0;
  *med = *sd = NAN;
  if (!v)
    return;
  for (size_t i = 0; i < c->n; i++) {
    double x = f(&c->s[i]);
    if (isfinite(x))
      v[m++] = x;
  }
  if (m) {
    *med = vg__median(v, m);
    for (size_t i = 0; i < m; i++)
      v[i] = fabs(v[i] - *med);
    *sd = 1.4826 * vg__median(v, m);
  }
  free(v);
}

static double f_daz(const vg_geo_check_sample *s) { return s->d_az; }
static double f_del(const vg_geo_check_sample *s) { return s->d_el; }
static double f_dh(const vg_geo_check_sample *s) { return s->dh_m; }
static double f_rng(const vg_geo_check_sample *s) { return s->range_err_m; }
static double f_gn(const vg_geo_check_sample *s) { return s->geoid_n; }
static double f_cen(const vg_geo_check_sample *s) { return s->centre_err_m; }
static double f_range(const vg_geo_check_sample *s) { return s->range; }
static double f_ccen(const vg_geo_check_sample *s) { return s->corr_centre_err_m; }

static double median_corners(const vg_geo_check *c, int corrected)
{
  double *v = malloc((4 * c->n + 1) * sizeof *v), r;
  size_t m = 0;
  if (!v)
    return NAN;
  for (size_t i = 0; i < c->n; i++)
    for (int k = 0; k < 4; k++) {
      double x = corrected ? c->s[i].corr_corner_err_m[k] : c->s[i].corner_err_m[k];
      if (isfinite(x))
        v[m++] = x;
    }
  r = vg__median(v, m);
  free(v);
  return r;
}

static void add_finding(vg_geo_check_result *r, vg_geo_finding f, double v, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static void add_finding(vg_geo_check_result *r, vg_geo_finding f, double v, const char *fmt, ...)
{
  va_list ap;
  if (r->nfind >= 4)
    return;
  r->find[r->nfind] = f;
  r->find_value[r->nfind] = v;
  va_start(ap, fmt);
  vsnprintf(r->find_cause[r->nfind], sizeof r->find_cause[0], fmt, ap);
  va_end(ap);
  r->nfind++;
}

int vg_geo_check_result_get(vg_geo_check *c, vg_geo_check_result *r)
{
  static const double cu[4] = {0, 1, 1, 0}, cv[4] = {0, 0, 1, 1};
  double corr_az = 0, corr_el = 0, corr_dh = 0, corr_tau = 0, tmp, range_med;
  vg_geo_llh *pts;
  int inconsistent = 0;
  size_t n = c->n;

  memset(r, 0, sizeof *r);
  r->n = n;
  r->skipped = c->skipped;
  r->ground_desc = c->ground_desc ? c->ground_desc : "none";
  r->timing_s = r->timing_r2 = NAN;
  r->convergence_deg = NAN;
  if (!n) {
    r->centre_med_m = r->centre_max_m = r->corner_med_m = NAN;
    r->corrected_centre_med_m = r->corrected_centre_max_m = r->corrected_corner_med_m = NAN;
    return vg_error_set(VG_E_NOTFOUND,
                        "no packet has a frame centre and the fields to build a line of sight "
                        "(%zu skipped)", c->skipped);
  }
  /* line-of-sight rates from the neighbours (central where possible) */
  for (size_t i = 0; i < n; i++) {
    size_t a = i > 0 ? i - 1 : i, b = i + 1 < n ? i + 1 : i;
    double dt = ((double)c->s[b].time_us - (double)c->s[a].time_us) * 1e-6;
    if (a != b && c->s[a].time_us && c->s[b].time_us && dt > 0 && dt < 5.0) {
      c->s[i].az_rate = vg__wrap180(c->p[b].los_az - c->p[a].los_az) / dt;
      c->s[i].el_rate = (c->p[b].los_el - c->p[a].los_el) / dt;
    } else {
      c->s[i].az_rate = c->s[i].el_rate = NAN;
    }
  }
  robust(c, f_cen, &r->centre_med_m, &tmp);
  r->centre_max_m = 0;
  for (size_t i = 0; i < n; i++)
    if (c->s[i].centre_err_m > r->centre_max_m)
      r->centre_max_m = c->s[i].centre_err_m;
  r->corner_med_m = median_corners(c, 0);
  robust(c, f_daz, &r->az_bias, &r->az_sd);
  robust(c, f_del, &r->el_bias, &r->el_sd);
  robust(c, f_dh, &r->dh_m, &r->dh_sd_m);
  robust(c, f_rng, &r->range_err_med_m, &tmp);
  robust(c, f_gn, &r->geoid_n, &tmp);
  {
    size_t mid = n / 2;
    r->convergence_deg = vg_geo_utm_convergence(c->s[mid].centre.lat, c->s[mid].centre.lon, 0,
                                                &r->utm_zone);
  }

  robust(c, f_range, &range_med, &tmp);
  if (r->centre_med_m > fmax(VG_GEO_CHECK_INCONSISTENT_M, 0.5 * range_med)) {
    add_finding(r, VG_GEO_FIND_INCONSISTENT, r->centre_med_m,
                "the KLV frame centre is %.0f km from where the pose looks (slant range %.0f km): "
                "synthetic or corrupt metadata, or another sensor's footprint; no bias sought",
                r->centre_med_m / 1e3, range_med / 1e3);
    inconsistent = 1;
  }
  /* azimuth bias */
  if (!inconsistent && fabs(r->az_bias) >= VG_GEO_CHECK_MIN_AZ_DEG && fabs(r->az_bias) > 3.0 * r->az_sd) {
    double g = r->convergence_deg;
    corr_az = r->az_bias;
    if (isfinite(g) && fabs(r->az_bias - g) <= VG_GEO_CHECK_CONVERGENCE_TOL_DEG)
      add_finding(r, VG_GEO_FIND_AZ_BIAS, r->az_bias,
                  "grid north: the bias equals the UTM zone %d meridian convergence (%.4f deg); "
                  "the encoder used the azimuth as a grid bearing", r->utm_zone, g);
    else if (isfinite(g) && fabs(r->az_bias + g) <= VG_GEO_CHECK_CONVERGENCE_TOL_DEG)
      add_finding(r, VG_GEO_FIND_AZ_BIAS, r->az_bias,
                  "grid north: the bias is minus the UTM zone %d meridian convergence (%.4f deg); "
                  "the encoder turned a true bearing into a grid one", r->utm_zone, g);
    else
      add_finding(r, VG_GEO_FIND_AZ_BIAS, r->az_bias,
                  "not the UTM convergence (%.4f deg): magnetic declination or a boresight/"
                  "heading offset (vigia has no magnetic model to tell them apart)", g);
  }
  /* height or elevation */
  {
    int h_sig = fabs(r->dh_m) >= VG_GEO_CHECK_MIN_H_M && fabs(r->dh_m) > 3.0 * r->dh_sd_m;
    int e_sig = fabs(r->el_bias) >= VG_GEO_CHECK_MIN_EL_DEG && fabs(r->el_bias) > 3.0 * r->el_sd;
    double gn = r->geoid_n, tol = isfinite(gn) ? fmax(2.0, 0.1 * fabs(gn)) : 0;
    if (inconsistent)
      ;
    else if (h_sig && isfinite(gn) && fabs(gn) > VG_GEO_CHECK_MIN_H_M &&
        (fabs(r->dh_m - gn) <= tol || fabs(r->dh_m + gn) <= tol)) {
      corr_dh = r->dh_m;
      add_finding(r, VG_GEO_FIND_HEIGHT, r->dh_m,
                  "MSL/HAE mix-up: the offset equals the EGM96 undulation (%.1f m); the encoder "
                  "used a sea-level height as an ellipsoid one, or the reverse", gn);
    } else if (h_sig && (!e_sig || r->dh_sd_m / fabs(r->dh_m) <= r->el_sd / fabs(r->el_bias))) {
      corr_dh = r->dh_m;
      add_finding(r, VG_GEO_FIND_HEIGHT, r->dh_m,
                  "constant height offset, not the geoid (%.1f m): a wrong ground or sensor "
                  "height", gn);
    } else if (e_sig) {
      corr_el = r->el_bias;
      add_finding(r, VG_GEO_FIND_EL_BIAS, r->el_bias,
                  "constant elevation offset: gimbal elevation bias or boresight misalignment");
    }
  }
  /* The footprint with the constant findings removed: centre and corners. */
  pts = malloc(n * 5 * sizeof *pts);
  if (!pts)
    return vg_error_set(VG_E_NOMEM, "geocheck: %zu samples", n);
  for (size_t i = 0; i < n; i++) {
    const priv *p = &c->p[i];
    for (int k = 0; k < 5; k++) {
      double u = k < 4 ? cu[k] : 0.5, v = k < 4 ? cv[k] : 0.5;
      pts[5 * i + k].h = NAN;
      if ((k == 4 || p->has_corners) && place(c, p, u, v, corr_az, corr_el, corr_dh, &pts[5 * i + k], NULL) != VG_OK)
        pts[5 * i + k].h = NAN;
    }
  }
  /* Timing: the KLV centre is that of the pose tau s earlier when the residual
   * (KLV - computed, metres east/north) is -tau times the footprint's ground
   * velocity; the velocity carries the platform's motion and the gimbal's. */
  if (!inconsistent) {
    double srv = 0, svv = 0, srr = 0;
    size_t m = 0;
    for (size_t i = 1; i + 1 < n; i++) {
      const vg_geo_llh *a = &pts[5 * (i - 1) + 4], *b = &pts[5 * (i + 1) + 4], *ci = &pts[5 * i + 4];
      double dt = ((double)c->s[i + 1].time_us - (double)c->s[i - 1].time_us) * 1e-6;
      double ea[3], eb[3], ek[3], va[3], vb[3], rk[3];
      vg_geo_llh k = {c->p[i].klv_c[0], c->p[i].klv_c[1], ci->h};
      if (isnan(a->h) || isnan(b->h) || isnan(ci->h) || !c->s[i - 1].time_us || !(dt > 0) || dt > 5.0)
        continue;
      vg_geo_llh_to_ecef(a, ea);
      vg_geo_llh_to_ecef(b, eb);
      vg_geo_llh_to_ecef(&k, ek);
      vg_geo_ecef_to_ned(ci, ea, va);
      vg_geo_ecef_to_ned(ci, eb, vb);
      vg_geo_ecef_to_ned(ci, ek, rk);
      for (int j = 0; j < 2; j++) {
        double v = (vb[j] - va[j]) / dt;
        srv += rk[j] * v;
        svv += v * v;
        srr += rk[j] * rk[j];
      }
      m++;
    }
    if (m >= 8 && svv / (double)m > 0.5 * 0.5 && srr > 0) {
      double tau = -srv / svv;
      r->timing_s = tau;
      r->timing_r2 = 1.0 - (srr + 2 * tau * srv + tau * tau * svv) / srr;
      if (fabs(tau) >= VG_GEO_CHECK_MIN_TIMING_S && r->timing_r2 >= VG_GEO_CHECK_MIN_TIMING_R2) {
        corr_tau = tau;
        add_finding(r, VG_GEO_FIND_TIMING, tau,
                    "the KLV footprint is that of the pose %.0f ms %s (the residual follows the "
                    "footprint's motion, R^2 %.2f): a time offset between them",
                    fabs(tau) * 1e3, tau > 0 ? "earlier" : "later", r->timing_r2);
      }
    }
  }
  /* residuals with the findings removed: the footprint at t - tau between neighbours */
  for (size_t i = 0; i < n; i++) {
    vg_geo_check_sample *s = &c->s[i];
    const priv *p = &c->p[i];
    const vg_geo_llh *q = &pts[5 * i];
    vg_geo_llh shifted[5];
    if (corr_tau != 0.0) {
      double t = (double)s->time_us - corr_tau * 1e6;
      size_t j = i;
      while (j > 0 && (double)c->s[j].time_us > t)
        j--;
      while (j + 1 < n && (double)c->s[j + 1].time_us <= t)
        j++;
      if (j + 1 < n && c->s[j + 1].time_us > c->s[j].time_us) {
        double w = (t - (double)c->s[j].time_us) / ((double)c->s[j + 1].time_us - (double)c->s[j].time_us);
        w = w < 0 ? 0 : w > 1 ? 1 : w;
        for (int k = 0; k < 5; k++) {
          const vg_geo_llh *a = &pts[5 * j + k], *b = &pts[5 * (j + 1) + k];
          shifted[k].lat = a->lat + w * (b->lat - a->lat);
          shifted[k].lon = a->lon + w * (b->lon - a->lon);
          shifted[k].h = a->h + w * (b->h - a->h);
        }
        q = shifted;
      }
    }
    s->corr_centre_err_m = isnan(q[4].h) ? NAN : hdist(q[4].lat, q[4].lon, p->klv_c[0], p->klv_c[1], q[4].h);
    for (int k = 0; k < 4; k++)
      s->corr_corner_err_m[k] = (!p->has_corners || isnan(q[k].h))
                                    ? NAN
                                    : hdist(q[k].lat, q[k].lon, p->klv_k[k][0], p->klv_k[k][1], q[k].h);
  }
  free(pts);
  robust(c, f_ccen, &r->corrected_centre_med_m, &tmp);
  r->corrected_centre_max_m = 0;
  for (size_t i = 0; i < n; i++)
    if (c->s[i].corr_centre_err_m > r->corrected_centre_max_m)
      r->corrected_centre_max_m = c->s[i].corr_centre_err_m;
  r->corrected_corner_med_m = median_corners(c, 1);
  return VG_OK;
}
